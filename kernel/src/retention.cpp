// Retention vocabulary. See retention.hpp.
#include "retention.hpp"

#include "plugin_instance.hpp"

namespace signals {

std::string TombstoneKey(const std::string& kind, const std::string& tenant, const std::string& id) {
  return "tombstones/" + kind + "/" + tenant + "/" + id + ".json";
}

bool IsExpired(const nlohmann::json& row) {
  return row.is_object() && row.value("state", "") == kExpiredState;
}

Status GoneIfExpired(const std::string& kind, const nlohmann::json& row) {
  if (!IsExpired(row)) return Status::Ok();
  const std::string deleted_at = row.value("expiredAt", "");
  const std::string tombstone = row.value("tombstoneKey", "");
  if (kind == kRuntimeFactsKind) {
    const std::string id = row.value("batchId", "");
    return Status(Code::kGone, "runtime-fact batch " + id + " was deleted by retention at " + deleted_at +
                                   "; its attestation remains")
        .WithDetail("attestation", "/signals/runtime-facts/" + id + "/attestation")
        .WithDetail("deletedAt", deleted_at)
        .WithDetail("tombstone", tombstone);
  }
  const std::string id = row.value("graphId", "");
  return Status(Code::kGone, "callgraph " + id + " was deleted by retention at " + deleted_at +
                                 " (no batch referenced it); its manifest and signed envelope remain")
      .WithDetail("attestation", "/signals/callgraphs/" + id + "/manifest?format=dsse")
      .WithDetail("deletedAt", deleted_at)
      .WithDetail("tombstone", tombstone);
}

Status GoneIfExpiredSince(IndexStore& index, const std::string& kind, const std::string& key,
                          Status missing) {
  if (missing.code() != Code::kNotFound) return missing;
  auto text = index.Get(kind == kRuntimeFactsKind ? "batches" : "callgraphs", key);
  if (!text.ok()) return missing;
  Status gone = GoneIfExpired(kind, nlohmann::json::parse(*text, nullptr, false));
  return gone.ok() ? missing : gone;
}

}  // namespace signals
