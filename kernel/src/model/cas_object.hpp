// CasObject: what a CAS key names, read back from the key alone — the inverse
// of cas_paths.hpp. fsck and reindex walk the store with it; a key that fits
// no layout of README.md#what-is-stored (or whose tenant or id is malformed) is kUnknown.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace signals {

enum class CasObjectKind {
  kFactBlob,            // runtime-facts/{tenant}/{batchId}.ndjson.zst
  kFactProvenance,      // runtime-facts/{tenant}/{batchId}.provenance.json
  kBatchAttestation,    // attestations/{batchId}.dsse
  kBatchRekorEntry,     // attestations/{batchId}.rekor.json
  kCallgraphBlob,       // callgraphs/{tenant}/{graphId}.ndjson.zst
  kCallgraphMeta,       // callgraphs/{tenant}/{graphId}.meta.json
  kManifest,            // manifests/{graphId}.json
  kManifestEnvelope,    // manifests/{graphId}.json.dsse
  kManifestRekorEntry,  // manifests/{graphId}.rekor.json
  kTombstone,           // tombstones/{kind}/{tenant}/{id}.json
  kKeyRecord,           // keys/{keyId}.json
  kKeyRetirement,       // keys/retired/{keyId}.json
  kLeftover,            // a temp file of an interrupted write (last segment starts with '.')
  kUnknown,
};

struct CasObject {
  CasObjectKind kind = CasObjectKind::kUnknown;
  std::string tenant;          // for tenant-scoped kinds
  std::string id;              // batchId, graphId, keyId, or the tombstoned id
  std::string tombstone_kind;  // "runtime-facts" or "callgraphs" for kTombstone
};

CasObject ClassifyCasKey(std::string_view key);

}  // namespace signals
