// CallgraphStore. See callgraph_store.hpp.
#include "ingest/callgraph_store.hpp"

#include "base/canonical_json.hpp"
#include "base/ulid.hpp"
#include "base/zstd_frame_reader.hpp"
#include "core/tenant_registry.hpp"
#include "model/cas_paths.hpp"
#include "model/digest.hpp"
#include "model/purl.hpp"
#include "retention/retention.hpp"

namespace signals {
namespace {

Result<nlohmann::json> ParseObject(const std::string& text, const std::string& what) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Internal(what + " is not a JSON object");
  return j;
}

Status GraphNotFound(const std::string& graph_id) {
  return Status::NotFound("callgraph " + graph_id + " not found");
}

}  // namespace

const std::vector<std::string>& CallgraphManifestFields() {
  static const std::vector<std::string> kFields = {
      "graphId",     "digest",    "language",  "source",      "createdAt", "tenantId", "componentPurl",
      "entryPoints", "nodeCount", "edgeCount", "signerKeyId", "signature", "rekorUuid"};
  return kFields;
}

nlohmann::json CallgraphManifestBody(const nlohmann::json& manifest) {
  nlohmann::json body = manifest;
  body.erase("signature");
  body.erase("rekorUuid");
  return body;
}

std::string CallgraphStore::DigestKeyOf(const std::string& tenant, const std::string& component_purl,
                                        const std::string& digest) {
  // Hashed so that the key stays short and free of separators whatever the purl.
  return DigestOf(tenant + "\n" + component_purl + "\n" + digest);
}

Result<nlohmann::json> CallgraphStore::Record(const std::string& graph_id) {
  SIGNALS_RETURN_IF_ERROR(ValidateUlid(graph_id, "graphId"));
  auto text = kernel_.index().Get(kCallgraphCollection, graph_id);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return GraphNotFound(graph_id);
    return text.status();
  }
  return ParseObject(*text, "index record of callgraph " + graph_id);
}

Result<nlohmann::json> CallgraphStore::RecordVisibleTo(const std::string& tenant, const std::string& graph_id,
                                                       const std::string& field) {
  SIGNALS_RETURN_IF_ERROR(ValidateUlid(graph_id, field));
  auto record = Record(graph_id);
  if (!record.ok()) {
    if (record.status().code() != Code::kNotFound) return record.status();
    return Status::Invalid("callgraph-exists", field, "callgraph " + graph_id + " does not exist");
  }
  const std::string owner = record->value("tenantId", "");
  if (owner != tenant && owner != kGlobalTenant) {
    // The same answer as for an id nobody stored: a different message would
    // tell a caller that the id exists in another tenant.
    return Status::Invalid("callgraph-exists", field, "callgraph " + graph_id + " does not exist");
  }
  return record;
}

Result<nlohmann::json> CallgraphStore::Manifest(const std::string& graph_id) {
  SIGNALS_RETURN_IF_ERROR(ValidateUlid(graph_id, "graphId"));
  auto text = kernel_.cas().ReadAll(cas_paths::Manifest(graph_id));
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return GraphNotFound(graph_id);
    return text.status();
  }
  auto manifest = ParseObject(*text, cas_paths::Manifest(graph_id));
  if (!manifest.ok()) return manifest;
  // The stored object is immutable and says what was known at ingest; a
  // transparency-log entry that landed later is recorded in the index row.
  auto record = kernel_.index().Get(kCallgraphCollection, graph_id);
  if (record.ok()) {
    auto row = nlohmann::json::parse(*record, nullptr, false);
    if (row.is_object() && row.contains("rekorUuid")) (*manifest)["rekorUuid"] = row["rekorUuid"];
  }
  return manifest;
}

Result<std::string> CallgraphStore::ManifestEnvelope(const std::string& graph_id) {
  SIGNALS_RETURN_IF_ERROR(ValidateUlid(graph_id, "graphId"));
  auto text = kernel_.cas().ReadAll(cas_paths::ManifestEnvelope(graph_id));
  if (!text.ok() && text.status().code() == Code::kNotFound) return GraphNotFound(graph_id);
  return text;
}

Result<std::vector<nlohmann::json>> CallgraphStore::List(const CallgraphListQuery& query) {
  nlohmann::json where = nlohmann::json::object();
  if (query.tenant) {
    SIGNALS_RETURN_IF_ERROR(ValidateTenantName(*query.tenant, "tenant"));
    where["tenantId"] = *query.tenant;
  }
  if (query.component_purl) {
    auto purl = CanonicalPurl(*query.component_purl);
    if (!purl.ok()) return purl.status().WithField("componentPurl");
    where["componentPurl"] = *purl;
  }
  nlohmann::json q = {{"where", where}, {"orderBy", "createdAt"}, {"descending", true}};
  if (query.limit > 0) q["limit"] = query.limit;
  std::vector<nlohmann::json> out;
  Status s = kernel_.index().Query(kCallgraphCollection, q.dump(), [&](const std::string& record) {
    auto j = nlohmann::json::parse(record, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::optional<std::string>> CallgraphStore::FindByDigest(const std::string& tenant,
                                                                const std::string& component_purl,
                                                                const std::string& digest) {
  auto text = kernel_.index().Get(kCallgraphDigestCollection, DigestKeyOf(tenant, component_purl, digest));
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return std::optional<std::string>();
    return text.status();
  }
  auto record = ParseObject(*text, "callgraph digest record");
  if (!record.ok()) return record.status();
  return std::optional<std::string>(record->value("graphId", ""));
}

Result<std::unique_ptr<CasStore::Reader>> CallgraphStore::OpenBlob(const std::string& graph_id) {
  auto record = Record(graph_id);
  if (!record.ok()) return record.status();
  SIGNALS_RETURN_IF_ERROR(GoneIfExpired(kCallgraphsKind, *record));
  auto reader = kernel_.cas().Open(record->value("blobKey", ""));
  if (!reader.ok()) return GoneIfExpiredSince(kernel_.index(), kCallgraphsKind, graph_id, reader.status());
  return reader;
}

Status CallgraphStore::ReadCanonical(const std::string& graph_id,
                                     const std::function<Status(std::string_view)>& sink) {
  auto reader = OpenBlob(graph_id);
  if (!reader.ok()) return reader.status();
  ZstdFrameReader zstd(sink);
  return zstd.Drain([&](uint8_t* buffer, size_t capacity) { return (*reader)->Read(buffer, capacity); });
}

}  // namespace signals
