// KeyRegistry. See key_registry.hpp.
#include "core/key_registry.hpp"

#include <chrono>

#include "base/canonical_json.hpp"
#include "base/timestamp.hpp"
#include "model/key_objects.hpp"

namespace signals {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status KeyRegistry::RegisterKey(const std::string& key_id, const std::string& algorithm,
                                const std::string& public_key_pem) {
  auto existing = index_.Get("keys", key_id);
  if (existing.ok()) {
    auto record = nlohmann::json::parse(*existing, nullptr, false);
    if (record.is_object() && record.value("publicKeyPem", "") != public_key_pem) {
      return Status::Config("key id '" + key_id +
                            "' is already registered with a different public key; key ids are "
                            "never reused");
    }
    return Status::Ok();
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();
  nlohmann::json record = {{"keyId", key_id},
                           {"algorithm", algorithm},
                           {"publicKeyPem", public_key_pem},
                           {"status", "active"},
                           {"registeredAt", FormatRfc3339Millis(NowMs())}};
  // The CAS first: it is what the registry is rebuilt from.
  auto stored = StoreKeyObject(cas_, record);
  if (!stored.ok()) {
    if (stored.status().code() == Code::kConflict) return Status::Config(stored.status().message());
    return stored.status();
  }
  record["registeredAt"] = (*stored)["registeredAt"];
  auto txn = index_.Begin();
  if (!txn.ok()) return txn.status();
  Status s = (*txn)->Insert("keys", key_id, CanonicalJson(record));
  if (s.code() == Code::kConflict) return Status::Ok();  // registered concurrently
  SIGNALS_RETURN_IF_ERROR(s);
  return (*txn)->Commit();
}

Status KeyRegistry::RecordKeyUse(IndexStore::Txn& txn, const std::string& key_id, int64_t now_ms) {
  auto existing = index_.Get("keys", key_id);
  if (!existing.ok()) {
    // Every signer is registered when it is created; a missing record means
    // the index was rebuilt without it, which is not this commit's problem.
    if (existing.status().code() == Code::kNotFound) return Status::Ok();
    return existing.status();
  }
  auto record = nlohmann::json::parse(*existing, nullptr, false);
  if (!record.is_object()) return Status::Internal("key registry record of '" + key_id + "' is malformed");
  // Timestamps of concurrent commits may arrive out of order: keep the bounds.
  const std::string now = FormatRfc3339Millis(now_ms);
  if (!record.contains("firstUsedAt") || record.value("firstUsedAt", "") > now) record["firstUsedAt"] = now;
  if (!record.contains("lastUsedAt") || record.value("lastUsedAt", "") < now) record["lastUsedAt"] = now;
  return txn.Upsert("keys", key_id, CanonicalJson(record));
}

Status KeyRegistry::StoreRegistryInCas() {
  auto keys = List();
  if (!keys.ok()) return keys.status();
  for (const auto& key : *keys) {
    auto stored = StoreKeyObject(cas_, key);
    if (!stored.ok()) return stored.status();
    if (key.value("status", "") == "retired") {
      auto retired = StoreKeyRetirement(cas_, key.value("keyId", ""), key.value("retiredAt", ""));
      if (!retired.ok()) return retired.status();
    }
  }
  return Status::Ok();
}

Result<std::vector<nlohmann::json>> KeyRegistry::List() {
  std::vector<nlohmann::json> keys;
  Status s = index_.Query("keys", "{}", [&](const std::string& record) {
    auto j = nlohmann::json::parse(record, nullptr, false);
    if (j.is_object()) keys.push_back(std::move(j));
  });
  if (!s.ok()) return s;
  return keys;
}

Result<std::string> KeyRegistry::PublicKey(const std::string& key_id) {
  auto record = index_.Get("keys", key_id);
  if (!record.ok()) {
    if (record.status().code() == Code::kNotFound) {
      return Status::NotFound("key '" + key_id + "' is not in the key registry");
    }
    return record.status();
  }
  auto j = nlohmann::json::parse(*record, nullptr, false);
  if (!j.is_object() || !j.contains("publicKeyPem")) {
    return Status::Internal("key registry record of '" + key_id + "' is malformed");
  }
  return j["publicKeyPem"].get<std::string>();
}

}  // namespace signals
