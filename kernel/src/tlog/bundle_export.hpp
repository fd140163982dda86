// The Sigstore bundle of a stored attestation: the DSSE envelope from the
// CAS, the public key its signature's keyid has in the key registry, and the
// transparency-log entry stored next to it when the envelope was logged.
// Serves GET …/attestation?format=sigstore-bundle, the callgraph manifest's
// format=sigstore-bundle and `signalsctl export bundle`.
// Thread-safety: as the Kernel's CAS and registry.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

// Returns the v0.3 bundle of the envelope stored at `envelope_key`, with the
// log entry stored at `entry_key` when that object exists.
// Failure: the CAS's status when the envelope cannot be read; Internal when
// the envelope, its key or the stored entry is malformed or the keyid is not
// registered (stored objects are Signals' own, so that is corruption).
Result<nlohmann::json> ExportStoredBundle(Kernel& kernel, const std::string& envelope_key,
                                          const std::string& entry_key);

}  // namespace signals
