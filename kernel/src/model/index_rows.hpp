// IndexRows: how each index row derives from the records stored in the CAS.
// The ingest pipelines commit these rows and `signalsctl reindex` rebuilds
// them from the same records, so both go through these functions.
//   "batches"            key batchId: the .provenance.json record + the keys
//                        of the batch's blob, provenance and attestation
//   "callgraphs"         key graphId: the .meta.json record, the manifest's
//                        members over it, + metaKey, manifestKey, envelopeKey
//   "callgraph_digests"  key CallgraphStore::DigestKeyOf(...): {graphId,
//                        tenantId, componentPurl, digest}
//   "tlog_queue"         key = the envelope's CAS key (see TlogQueueRow)
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace signals {

inline constexpr const char* kBatchCollection = "batches";
inline constexpr const char* kTlogQueueCollection = "tlog_queue";

// The "batches" row of a provenance record.
nlohmann::json BatchRow(const nlohmann::json& provenance);

// The "callgraphs" row of a graph from its meta record and manifest. Meta
// records written before they carried principal and skipReason give null and
// `default_skip_reason`.
nlohmann::json CallgraphRow(const nlohmann::json& meta, const nlohmann::json& manifest,
                            const std::string& default_skip_reason);

// The "callgraph_digests" row of a graph (from its meta record or row).
nlohmann::json CallgraphDigestRow(const nlohmann::json& meta);

// A "tlog_queue" row for an envelope not yet in the transparency log:
// kind "batch" or "manifest", attempts 0, due at `now`.
nlohmann::json TlogQueueRow(const std::string& kind, const std::string& id, const std::string& tenant,
                            const std::string& now);

}  // namespace signals
