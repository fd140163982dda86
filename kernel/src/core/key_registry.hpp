// KeyRegistry: every key that has signed for a deployment. The index
// collection "keys" holds one record per key id,
//   {keyId, algorithm, publicKeyPem, status, registeredAt, firstUsedAt?,
//    lastUsedAt?, retiredAt?},
// and the CAS holds the immutable part of each (model/key_objects.hpp), from
// which `signalsctl reindex` rebuilds the collection. Verifiers look up a
// signature's keyid here; a key id is never reused for another public key.
// Retirement is key_rotation.hpp's.
//
// Thread-safety: every method may be called from any thread. REQUIRES: the
// CasStore and IndexStore outlive the registry.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

class KeyRegistry {
 public:
  KeyRegistry(CasStore& cas, IndexStore& index) : cas_(cas), index_(index) {}
  KeyRegistry(const KeyRegistry&) = delete;
  KeyRegistry& operator=(const KeyRegistry&) = delete;

  // Registers `key_id` as active: its CAS record first, then its index row.
  // A key id already registered with the same public key is Ok; with a
  // different one, a Config error.
  Status RegisterKey(const std::string& key_id, const std::string& algorithm,
                     const std::string& public_key_pem);

  // Records in `txn` that `key_id` signed something stamped `now_ms` (the
  // ingestedAt / createdAt of what it signed, so that reindex can recompute
  // it): firstUsedAt and lastUsedAt are the earliest and latest such times.
  // Committed with the row it signed for. An unregistered key is Ok (the
  // index was rebuilt without it).
  Status RecordKeyUse(IndexStore::Txn& txn, const std::string& key_id, int64_t now_ms);

  // Stores the CAS record (key_objects.hpp) of every registered key that
  // lacks one — keys registered before the registry was kept in the CAS.
  Status StoreRegistryInCas();

  // Records from the registry, sorted by keyId.
  Result<std::vector<nlohmann::json>> List();

  // The public PEM of a registered key, or kNotFound.
  Result<std::string> PublicKey(const std::string& key_id);

 private:
  CasStore& cas_;
  IndexStore& index_;
};

}  // namespace signals
