// KeyObjects: the CAS side of the key registry. The index collection "keys"
// is rebuildable from the CAS like every other derived collection, so each
// key that is registered is also stored, immutably, as
//   keys/{keyId}.json          {keyId, algorithm, publicKeyPem, registeredAt}
//   keys/retired/{keyId}.json  {keyId, retiredAt}   once it is retired
// and its first and last use are those of the objects it signed.
// Thread-safety: as the CasStore used.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

// The immutable members of a registry record: what keys/{keyId}.json holds.
nlohmann::json KeyObjectOf(const nlohmann::json& registry_record);

// Stores keys/{keyId}.json for `registry_record` and returns what is stored:
// an existing object wins when it holds the same public key (its registeredAt
// then counts); a different public key under the same id is kConflict.
Result<nlohmann::json> StoreKeyObject(CasStore& cas, const nlohmann::json& registry_record);

// Stores keys/retired/{keyId}.json and returns the retiredAt in effect (that
// of an existing retirement, if any).
Result<std::string> StoreKeyRetirement(CasStore& cas, const std::string& key_id,
                                       const std::string& retired_at);

}  // namespace signals
