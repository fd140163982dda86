// CasPath: where each kind of object lives in the content-addressed store
// (README.md#what-is-stored). Only validated tenants and ULIDs ever become path components;
// callers validate before they build a path.
#pragma once

#include <string>

namespace signals::cas_paths {

inline std::string FactBlob(const std::string& tenant, const std::string& batch_id) {
  return "runtime-facts/" + tenant + "/" + batch_id + ".ndjson.zst";
}
inline std::string FactProvenance(const std::string& tenant, const std::string& batch_id) {
  return "runtime-facts/" + tenant + "/" + batch_id + ".provenance.json";
}
inline std::string BatchAttestation(const std::string& batch_id) {
  return "attestations/" + batch_id + ".dsse";
}
// The transparency-log entry of a batch attestation (Rekor REST shape, README.md#transparency-log-rekor-v1).
inline std::string BatchRekorEntry(const std::string& batch_id) {
  return "attestations/" + batch_id + ".rekor.json";
}
inline std::string CallgraphBlob(const std::string& tenant, const std::string& graph_id) {
  return "callgraphs/" + tenant + "/" + graph_id + ".ndjson.zst";
}
inline std::string CallgraphMeta(const std::string& tenant, const std::string& graph_id) {
  return "callgraphs/" + tenant + "/" + graph_id + ".meta.json";
}
// What retention GC leaves of a deleted batch or graph (kind "runtime-facts"
// or "callgraphs").
inline std::string Tombstone(const std::string& kind, const std::string& tenant, const std::string& id) {
  return "tombstones/" + kind + "/" + tenant + "/" + id + ".json";
}
// The immutable part of a key registry record (keyId, algorithm, public key,
// registeredAt), and the record of its retirement, so that the registry can be
// rebuilt from the CAS.
inline std::string KeyRecord(const std::string& key_id) { return "keys/" + key_id + ".json"; }
inline std::string KeyRetirement(const std::string& key_id) { return "keys/retired/" + key_id + ".json"; }
inline std::string Manifest(const std::string& graph_id) { return "manifests/" + graph_id + ".json"; }
inline std::string ManifestEnvelope(const std::string& graph_id) {
  return "manifests/" + graph_id + ".json.dsse";
}
// The transparency-log entry of a manifest envelope (Rekor REST shape).
inline std::string ManifestRekorEntry(const std::string& graph_id) {
  return "manifests/" + graph_id + ".rekor.json";
}

// The subject name attestations use for a callgraph blob (the uncompressed form).
inline std::string CallgraphSubjectName(const std::string& tenant, const std::string& graph_id) {
  return "callgraphs/" + tenant + "/" + graph_id + ".ndjson";
}

// The subject name an attestation uses for a fact blob (the uncompressed form).
inline std::string FactSubjectName(const std::string& tenant, const std::string& batch_id) {
  return "runtime-facts/" + tenant + "/" + batch_id + ".ndjson";
}

}  // namespace signals::cas_paths
