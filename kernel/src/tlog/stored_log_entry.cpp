// Stored transparency-log entries. See stored_log_entry.hpp.
#include "tlog/stored_log_entry.hpp"

namespace signals {

Result<StoredLogEntry> VerifyStoredLogEntry(Kernel& kernel, const std::string& envelope_key,
                                            const std::string& entry_key, const std::string& row_rekor_uuid,
                                            const std::string& log_public_key_pem) {
  StoredLogEntry out;
  auto entry_text = kernel.cas().ReadAll(entry_key);
  if (!entry_text.ok()) {
    if (entry_text.status().code() == Code::kNotFound) return out;
    return entry_text.status();
  }
  out.logged = true;
  if (log_public_key_pem.empty()) {
    return Status::Config("log entry " + entry_key +
                          " exists; give the log's public key (--rekor-key) to verify it");
  }
  auto entry = nlohmann::json::parse(*entry_text, nullptr, false);
  if (entry.is_discarded())
    return Status::Invalid("tlog-entry", entry_key, "log entry: " + entry_key + " is not JSON");
  auto envelope = kernel.cas().ReadAll(envelope_key);
  if (!envelope.ok()) return envelope.status();
  auto verified = VerifyRekorEntryDetailed(entry, *envelope, {log_public_key_pem});
  if (!verified.ok()) return verified.status().WithContext("log entry");
  if (!row_rekor_uuid.empty() && row_rekor_uuid != verified->uuid) {
    return Status::Invalid("tlog-entry", "rekorUuid",
                           "log entry: the index row's rekorUuid " + row_rekor_uuid +
                               " is not the stored entry's " + verified->uuid);
  }
  out.verification = std::move(*verified);
  return out;
}

}  // namespace signals
