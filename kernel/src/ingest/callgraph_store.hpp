// CallgraphStore: read access to stored callgraphs — what signalsctl and the
// HTTP transport call to answer lookups (README.md#rest-api-transport-http):
//   GET /signals/callgraphs/{graphId}           → OpenBlob / ReadCanonical
//   GET /signals/callgraphs/{graphId}/manifest  → Manifest / ManifestEnvelope
//   GET /signals/callgraphs/by-purl/{purl}      → List
// It authorises nothing: callers check the principal against Record()'s
// tenantId (global graphs are readable by every tenant's readers).
//
// Index layout (written by CallgraphIngest, rebuildable from the CAS):
//   "callgraphs"         key graphId: the .meta.json members + the manifest
//                        members + metaKey, manifestKey, envelopeKey,
//                        principal, skipReason
//   "callgraph_digests"  key DigestKeyOf(tenant, purl, digest): {graphId, …};
//                        one graph per (tenant, purl, canonical digest)
// Thread-safety: as thread-safe as the kernel's cas and index.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "core/kernel.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

inline constexpr const char* kCallgraphCollection = "callgraphs";
inline constexpr const char* kCallgraphDigestCollection = "callgraph_digests";

// The members of a CallgraphManifest (kernel/README.md#callgraph-manifest), in contract order.
const std::vector<std::string>& CallgraphManifestFields();

// The manifest without "signature" and "rekorUuid": what the signature covers
// (as JCS bytes) and what the DSSE envelope's predicate holds.
nlohmann::json CallgraphManifestBody(const nlohmann::json& manifest);

struct CallgraphListQuery {
  std::optional<std::string> tenant;
  std::optional<std::string> component_purl;  // any valid purl; compared in canonical form
  uint64_t limit = 0;                         // 0 = no limit
};

class CallgraphStore {
 public:
  explicit CallgraphStore(Kernel& kernel) : kernel_(kernel) {}

  // The index record of a graph. Invalid (rule "ulid", field "graphId") for a
  // malformed id; kNotFound when no such graph exists.
  Result<nlohmann::json> Record(const std::string& graph_id);

  // The record of `graph_id` when it belongs to `tenant` or to `global`; else
  // Status::Invalid rule "callgraph-exists" naming `field` (a reference to a
  // graph the tenant cannot see is a validation error, not a 404).
  Result<nlohmann::json> RecordVisibleTo(const std::string& tenant, const std::string& graph_id,
                                         const std::string& field);

  // The stored manifest (manifests/{graphId}.json), parsed, with rekorUuid
  // as the index row has it now (an entry may land after ingest).
  Result<nlohmann::json> Manifest(const std::string& graph_id);

  // The DSSE envelope of the manifest (manifests/{graphId}.json.dsse), as the
  // stored JSON text.
  Result<std::string> ManifestEnvelope(const std::string& graph_id);

  // Records newest first (createdAt, then graphId, descending). kInvalid for a
  // malformed tenant or purl filter.
  Result<std::vector<nlohmann::json>> List(const CallgraphListQuery& query);

  // The graph id stored for (tenant, canonical purl, digest), or nullopt.
  Result<std::optional<std::string>> FindByDigest(const std::string& tenant,
                                                  const std::string& component_purl,
                                                  const std::string& digest);

  // The stored zstd frame of the canonical NDJSON (for Accept-Encoding: zstd).
  // kGone for an orphan graph expired by retention (retention.hpp).
  Result<std::unique_ptr<CasStore::Reader>> OpenBlob(const std::string& graph_id);

  // Streams the decompressed canonical NDJSON to `sink` in chunks.
  Status ReadCanonical(const std::string& graph_id, const std::function<Status(std::string_view)>& sink);

  // The "callgraph_digests" key of (tenant, purl, digest).
  static std::string DigestKeyOf(const std::string& tenant, const std::string& component_purl,
                                 const std::string& digest);

 private:
  Kernel& kernel_;
};

}  // namespace signals
