// Tombstone. See tombstone.hpp.
#include "retention/tombstone.hpp"

#include "base/canonical_json.hpp"
#include "base/json_member.hpp"
#include "model/cas_object.hpp"

namespace signals {

Result<Tombstone> ReadTombstone(CasStore& cas, const std::string& key) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("tombstone", key, "tombstone " + key + ": " + why);
  };
  auto text = cas.ReadAll(key);
  if (!text.ok()) return text.status();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object()) return bad("not a JSON object");
  SIGNALS_RETURN_IF_ERROR(CheckCanonicalText(key, *text, doc));
  const CasObject ref = ClassifyCasKey(key);
  if (JsonText(doc, "kind") != ref.tombstone_kind || JsonText(doc, "tenantId") != ref.tenant ||
      JsonText(doc, "id") != ref.id) {
    return bad("kind, tenantId and id are not those of its key");
  }
  const nlohmann::json index = doc.value("index", nlohmann::json());
  if (!index.is_object() || !index.value("collection", nlohmann::json()).is_string() ||
      !index.value("key", nlohmann::json()).is_string() ||
      !index.value("record", nlohmann::json()).is_object()) {
    return bad("index must be {collection, key, record} with a record object");
  }
  const nlohmann::json deleted = doc.value("deletedKeys", nlohmann::json());
  if (!deleted.is_array()) return bad("deletedKeys must be an array");
  if (!doc.value("attestation", nlohmann::json()).is_string()) return bad("attestation must be a CAS key");
  Tombstone t;
  t.key = key;
  t.collection = index["collection"].get<std::string>();
  t.row_key = index["key"].get<std::string>();
  t.record = index["record"];
  for (const auto& k : deleted) {
    if (!k.is_string()) return bad("deletedKeys must hold CAS keys");
    t.deleted_keys.push_back(k.get<std::string>());
  }
  t.attestation = doc["attestation"].get<std::string>();
  return t;
}

Result<Tombstone> ReadTombstoneOfExpired(CasStore& cas, const std::string& key) {
  auto tombstone = ReadTombstone(cas, key);
  if (tombstone.ok()) return tombstone;
  if (tombstone.status().code() == Code::kNotFound)
    return Status::Invalid("integrity", key, "expired, but its tombstone " + key + " is missing");
  return Status::Invalid("integrity", key, tombstone.status().message());
}

}  // namespace signals
