// Fsck: checks a whole deployment offline — every CAS object against the
// index and the key registry (README.md#what-is-stored, `signalsctl fsck`):
//   * every object is re-read: blobs decompress (zstd content checksum) and
//     re-hash to what the provenance record / manifest says, every DSSE
//     envelope and manifest signature verifies with the registered key, every
//     stored JSON record is the canonical JSON written and agrees with its
//     index row (BatchVerifier, CallgraphVerifier do the per-item work);
//   * cross-checks: rows whose objects are missing, key records and
//     retirements against the registry, digest, tlog-queue and gc-pending
//     rows against what they point to, transparency-log entries against their
//     envelope and rekorUuid, tombstones (what they list as deleted must be
//     gone; the row must be the tombstone's record), objects that fit no
//     layout.
// Damage and leftovers are told apart. A crash (kill -9, power loss) can only
// interrupt a write sequence whose commit point is an index transaction, so
// what it leaves is a prefix of that sequence: temp files of the CAS (when
// the CAS plugin can list them — cas-fs with list_leftovers), objects of an
// ingest or a key registration without their index row, a retirement record
// of a key the registry still calls active, a retention-GC tombstone whose
// row is still live, objects a committed GC deletion has not removed yet
// (its gc_pending row says so). Nothing reads any of them, the next run of
// the same step finishes or replaces them, so they are reported as leftovers
// (FsckProblem::leftover) and do not make the store inconsistent; everything
// else is damage. The price: an index row lost to damage (not to a crash —
// SQLite keeps committed rows) looks like an ingest that never committed; its
// objects are still listed, and `reindex` adopts them.
// Repair removes temp files and nothing else: never a committed object or
// row, nor an object without a row, which reindex may still adopt. The index
// has no leftovers of its own (SQLite rolls back an interrupted transaction
// from its journal when the database is next opened).
// Not thread-safe. Run it while nothing writes: a write in progress is not
// damage (its objects without a row are leftovers; its temp files are locked
// and invisible), but a row committed after the objects were listed would
// look like one whose objects are missing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/progress.hpp"
#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

struct FsckOptions {
  bool repair = false;
  ProgressCallback progress;  // may be empty
};

// One line of the report: damage, or (leftover) what a crash may leave.
struct FsckProblem {
  std::string object;  // a CAS key, or "index:<collection>/<key>" for a row
  std::string rule;    // e.g. "integrity", "missing-object"; "leftover" for every leftover
  std::string detail;
  bool repaired = false;  // a temp file that --repair removed
  bool leftover = false;  // remains of an interrupted write, not damage
};

struct FsckReport {
  uint64_t objects = 0;               // CAS objects checked (leftovers not counted)
  uint64_t bytes = 0;                 // their size
  uint64_t rows = 0;                  // index rows checked
  std::vector<FsckProblem> problems;  // damage and leftovers, sorted by object, then rule

  // Damage: the problems that are not leftovers. Fsck fails when there is any.
  size_t Outstanding() const;
  // Leftovers still there (repaired ones excluded).
  size_t Leftovers() const;
  // Leftovers that --repair removed.
  size_t Repaired() const;
};

// The report, or an error when the store or the index cannot be read at all
// (a single unreadable object is a problem in the report).
Result<FsckReport> RunFsck(Kernel& kernel, const FsckOptions& options);

}  // namespace signals
