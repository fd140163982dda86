// Retention vocabulary. See retention.hpp.
#include "retention/retention.hpp"

#include "plugin/plugin_instance.hpp"

namespace signals {

std::string TombstonePrefix(const std::string& kind) { return "tombstones/" + kind + "/"; }

bool IsExpired(const nlohmann::json& row) {
  return row.is_object() && row.value("state", "") == kExpiredState;
}

Status GoneIfExpired(const std::string& kind, const nlohmann::json& row) {
  if (!IsExpired(row)) return Status::Ok();
  const bool batch = kind == kRuntimeFactsKind;
  const std::string id = row.value(batch ? "batchId" : "graphId", "");
  const std::string deleted_at = row.value("expiredAt", "");
  const std::string what =
      batch ? "runtime-fact batch " + id : "callgraph " + id + " (no batch referenced it)";
  const std::string remains = batch ? "its attestation remains" : "its manifest and signed envelope remain";
  const std::string link = batch ? "/signals/runtime-facts/" + id + "/attestation"
                                 : "/signals/callgraphs/" + id + "/manifest?format=dsse";
  return Status(Code::kGone, what + " was deleted by retention at " + deleted_at + "; " + remains)
      .WithDetail("attestation", link)
      .WithDetail("deletedAt", deleted_at)
      .WithDetail("tombstone", row.value("tombstoneKey", ""));
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
