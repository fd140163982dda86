// Fsck: checks a whole deployment offline — every CAS object against the
// index and the key registry (README.md#what-is-stored, `signalsctl fsck`):
//   * every object is re-read: blobs decompress (zstd content checksum) and
//     re-hash to what the provenance record / manifest says, every DSSE
//     envelope and manifest signature verifies with the registered key, every
//     stored JSON record is the canonical JSON written and agrees with its
//     index row (BatchVerifier, CallgraphVerifier do the per-item work);
//   * cross-checks: objects without an index row, rows whose objects are
//     missing, key records and retirements against the registry, digest and
//     tlog-queue rows against the rows they point to, transparency-log
//     entries against their envelope and rekorUuid, tombstones (what they
//     list as deleted must be gone; the row must be the tombstone's record);
//   * leftovers of interrupted writes (temp files of the CAS, when the CAS
//     plugin can list them — cas-fs with list_leftovers) and objects that fit
//     no layout.
// Repair removes leftovers and nothing else: never a committed object or row.
// The index has no leftovers of its own (SQLite rolls back an interrupted
// transaction from its journal when the database is next opened).
// Not thread-safe; run it while nothing writes (a concurrent ingest may show
// up as objects without rows).
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

struct FsckProblem {
  std::string object;  // a CAS key, or "index:<collection>/<key>" for a row
  std::string rule;    // e.g. "integrity", "object-without-row", "leftover"
  std::string detail;
  bool repaired = false;
};

struct FsckReport {
  uint64_t objects = 0;               // CAS objects checked (leftovers not counted)
  uint64_t bytes = 0;                 // their size
  uint64_t rows = 0;                  // index rows checked
  std::vector<FsckProblem> problems;  // sorted by object, then rule

  // Problems that are still there (repaired ones excluded).
  size_t Outstanding() const;
};

// The report, or an error when the store or the index cannot be read at all
// (a single unreadable object is a problem in the report).
Result<FsckReport> RunFsck(Kernel& kernel, const FsckOptions& options);

}  // namespace signals
