// KeyObjects. See key_objects.hpp.
#include "model/key_objects.hpp"

#include "base/canonical_json.hpp"
#include "model/cas_paths.hpp"

namespace signals {
namespace {

// Puts `doc` at `key`; when the key exists, returns the stored document.
Result<nlohmann::json> PutOrRead(CasStore& cas, const std::string& key, const nlohmann::json& doc) {
  Status put = cas.Put(key, CanonicalJson(doc));
  if (put.ok()) return doc;
  if (put.code() != Code::kConflict) return put;
  auto text = cas.ReadAll(key);
  if (!text.ok()) return text.status();
  auto stored = nlohmann::json::parse(*text, nullptr, false);
  if (!stored.is_object()) return Status::Internal(key + " is not a JSON object");
  return stored;
}

}  // namespace

nlohmann::json KeyObjectOf(const nlohmann::json& record) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* member : {"keyId", "algorithm", "publicKeyPem", "registeredAt"}) {
    out[member] = record.value(member, nlohmann::json());
  }
  return out;
}

Result<nlohmann::json> StoreKeyObject(CasStore& cas, const nlohmann::json& record) {
  const std::string key_id = record.value("keyId", "");
  auto stored = PutOrRead(cas, cas_paths::KeyRecord(key_id), KeyObjectOf(record));
  if (!stored.ok()) return stored.status();
  if (stored->value("publicKeyPem", "") != record.value("publicKeyPem", "")) {
    return Status(Code::kConflict, "key id '" + key_id + "' is already stored in " +
                                       cas_paths::KeyRecord(key_id) +
                                       " with a different public key; key ids are never reused");
  }
  return stored;
}

Result<std::string> StoreKeyRetirement(CasStore& cas, const std::string& key_id,
                                       const std::string& retired_at) {
  auto stored =
      PutOrRead(cas, cas_paths::KeyRetirement(key_id), {{"keyId", key_id}, {"retiredAt", retired_at}});
  if (!stored.ok()) return stored.status();
  return stored->value("retiredAt", retired_at);
}

}  // namespace signals
