// The transparency-log entry Signals stores next to a logged envelope
// (`attestations/{batchId}.rekor.json`, `manifests/{graphId}.rekor.json`,
// README.md#transparency-log-rekor-v1), checked offline against that envelope and the log's key.
// Called by `signalsctl verify batch|callgraph`.
// Thread-safety: as the Kernel's CAS.
#pragma once

#include <string>

#include "base/status.hpp"
#include "core/kernel.hpp"
#include "tlog/tlog_verify.hpp"

namespace signals {

struct StoredLogEntry {
  bool logged = false;            // false: no entry object exists
  TlogVerification verification;  // when logged
};

// Returns logged=false when `entry_key` does not exist. Otherwise verifies the
// entry against the envelope at `envelope_key` (VerifyRekorEntry) with
// `log_public_key_pem`, and that `row_rekor_uuid`, when not empty, is the
// entry's UUID.
// Failure: Status::Config when an entry exists and no log key is given;
// Status::Invalid naming what failed ("log entry: inclusion proof: …").
Result<StoredLogEntry> VerifyStoredLogEntry(Kernel& kernel, const std::string& envelope_key,
                                            const std::string& entry_key, const std::string& row_rekor_uuid,
                                            const std::string& log_public_key_pem);

}  // namespace signals
