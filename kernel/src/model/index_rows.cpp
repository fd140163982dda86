// IndexRows. See index_rows.hpp.
#include "model/index_rows.hpp"

#include "model/cas_paths.hpp"

namespace signals {

nlohmann::json BatchRow(const nlohmann::json& provenance) {
  const std::string tenant = provenance.value("tenantId", "");
  const std::string batch_id = provenance.value("batchId", "");
  nlohmann::json row = provenance;
  row["blobKey"] = cas_paths::FactBlob(tenant, batch_id);
  row["provenanceKey"] = cas_paths::FactProvenance(tenant, batch_id);
  row["attestationKey"] = cas_paths::BatchAttestation(batch_id);
  return row;
}

nlohmann::json CallgraphRow(const nlohmann::json& meta, const nlohmann::json& manifest,
                            const std::string& default_skip_reason) {
  const std::string tenant = meta.value("tenantId", "");
  const std::string graph_id = meta.value("graphId", "");
  nlohmann::json row = meta;
  if (!row.contains("principal")) row["principal"] = nullptr;
  if (!row.contains("skipReason")) row["skipReason"] = default_skip_reason;
  row.update(manifest);
  row["metaKey"] = cas_paths::CallgraphMeta(tenant, graph_id);
  row["manifestKey"] = cas_paths::Manifest(graph_id);
  row["envelopeKey"] = cas_paths::ManifestEnvelope(graph_id);
  return row;
}

nlohmann::json CallgraphDigestRow(const nlohmann::json& meta) {
  return {{"graphId", meta.value("graphId", "")},
          {"tenantId", meta.value("tenantId", "")},
          {"componentPurl", meta.value("componentPurl", "")},
          {"digest", meta.value("digest", "")}};
}

nlohmann::json TlogQueueRow(const std::string& kind, const std::string& id, const std::string& tenant,
                            const std::string& now) {
  const bool batch = kind == "batch";
  return {{"envelopeKey", batch ? cas_paths::BatchAttestation(id) : cas_paths::ManifestEnvelope(id)},
          {"kind", kind},
          {"id", id},
          {"tenantId", tenant},
          {"entryKey", batch ? cas_paths::BatchRekorEntry(id) : cas_paths::ManifestRekorEntry(id)},
          {"enqueuedAt", now},
          {"attempts", 0},
          {"nextAttemptAt", now},
          {"lastError", nullptr}};
}

}  // namespace signals
