// Bundles of stored attestations. See bundle_export.hpp.
#include "tlog/bundle_export.hpp"

#include "attest/dsse.hpp"
#include "tlog/sigstore_bundle.hpp"

namespace signals {

Result<nlohmann::json> ExportStoredBundle(Kernel& kernel, const std::string& envelope_key,
                                          const std::string& entry_key) {
  auto envelope_text = kernel.cas().ReadAll(envelope_key);
  if (!envelope_text.ok()) return envelope_text.status();
  auto envelope = ParseDsseEnvelope(*envelope_text);
  if (!envelope.ok()) return Status::Internal(envelope_key + ": " + envelope.status().message());
  const std::string& key_id = envelope->signatures.front().keyid;
  auto key = kernel.keys().PublicKey(key_id);
  if (!key.ok())
    return Status::Internal(envelope_key + " is signed by key '" + key_id + "': " + key.status().message());

  nlohmann::json entry;  // null: not logged
  auto entry_text = kernel.cas().ReadAll(entry_key);
  if (entry_text.ok()) {
    entry = nlohmann::json::parse(*entry_text, nullptr, false);
    if (entry.is_discarded()) return Status::Internal(entry_key + " is not JSON");
  } else if (entry_text.status().code() != Code::kNotFound) {
    return entry_text.status();
  }
  auto bundle = WriteSigstoreBundle(*envelope_text, *key, entry);
  if (!bundle.ok()) return Status::Internal("bundle of " + envelope_key + ": " + bundle.status().message());
  return bundle;
}

}  // namespace signals
