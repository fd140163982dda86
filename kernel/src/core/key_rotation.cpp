// Key rotation. See key_rotation.hpp.
#include "core/key_rotation.hpp"

#include "base/canonical_json.hpp"
#include "base/timestamp.hpp"
#include "model/key_objects.hpp"

namespace signals {

Result<std::vector<std::string>> RetireOtherKeys(Kernel& kernel, const std::string& active_key_id) {
  auto active = kernel.keys().PublicKey(active_key_id);
  if (!active.ok()) return active.status();
  auto keys = kernel.keys().List();
  if (!keys.ok()) return keys.status();
  const std::string now = FormatRfc3339Millis(kernel.NowMs());
  std::vector<std::string> retired;
  auto txn = kernel.index().Begin();
  if (!txn.ok()) return txn.status();
  for (auto& key : *keys) {
    const std::string id = key.value("keyId", "");
    if (id == active_key_id || key.value("status", "") != "active") continue;
    // The CAS first: the retirement survives a rebuilt index.
    auto retired_at = StoreKeyRetirement(kernel.cas(), id, now);
    if (!retired_at.ok()) return retired_at.status();
    key["status"] = "retired";
    key["retiredAt"] = *retired_at;
    SIGNALS_RETURN_IF_ERROR((*txn)->Upsert("keys", id, CanonicalJson(key)));
    retired.push_back(id);
  }
  SIGNALS_RETURN_IF_ERROR((*txn)->Commit());
  return retired;
}

}  // namespace signals
