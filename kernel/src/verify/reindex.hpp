// Reindex: rebuilds every index collection that derives from the CAS, from
// the CAS alone (README.md#what-is-stored, `signalsctl reindex`):
//   batches            from runtime-facts/*/{id}.provenance.json
//   callgraphs,        from callgraphs/*/{id}.meta.json + manifests/{id}.json
//   callgraph_digests
//   keys               from keys/{keyId}.json + keys/retired/{keyId}.json, with
//                      first/last use from what each key signed
//   tlog_queue         one row (attempts 0) per envelope whose row says
//                      "rekor-unavailable" and that has no .rekor.json yet
// A .rekor.json sets rekorUuid (skipReason null); a tombstone's index.record
// is restored verbatim (it wins over anything derived for that row).
//
// The collections that do not derive from the CAS are kept as they are:
// tokens (credentials, kept only hashed in the index), idempotency (a cache
// with a TTL). Tenants are kept, and every tenant that owns objects in the CAS
// but is missing from the registry is registered again (createdAt = its
// earliest object).
//
// Crash-safe: everything happens in ONE index transaction — derived rows are
// upserted, derived rows the CAS no longer supports are removed, and nothing
// is visible until the commit; a crash or error leaves the index as it was.
// The index may be empty (a deleted index file) or damaged beyond what the
// CAS can correct only in derived rows. Run it while signalsd is stopped: the
// transaction holds the index's writer lock for the whole rebuild.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/progress.hpp"
#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

struct ReindexOptions {
  ProgressCallback progress;  // may be empty
};

struct ReindexReport {
  uint64_t objects = 0;                  // CAS objects read
  uint64_t bytes = 0;                    // their size
  std::map<std::string, uint64_t> rows;  // rows written, by collection
  uint64_t removed = 0;                  // derived rows the CAS does not support
  std::vector<std::string> tenants_added;
  std::vector<std::string> warnings;  // objects that could not be used (fsck names them)
};

Result<ReindexReport> Reindex(Kernel& kernel, const ReindexOptions& options);

}  // namespace signals
