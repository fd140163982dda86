// Offline verification of Rekor v1 transparency-log entries (README.md#transparency-log-rekor-v1):
// everything a verifier needs is the entry, the content it logs and the log's
// public key; nothing is fetched.
//
// For an entry it checks, in this order, and stops at the first failure:
//   1. the body logs the given content (tlog_body.hpp);
//   2. logID = SHA-256 of the log key's DER SubjectPublicKeyInfo;
//   3. the entry UUID (when there is one) ends with the leaf hash
//      SHA-256(0x00 || body);
//   4. the signed entry timestamp (SET): ECDSA by the log key over
//      JCS{body (base64), integratedTime, logID (hex), logIndex} with the
//      entry's global logIndex;
//   5. the inclusion proof (RFC 9162 §2.1.3.2) with the proof's own,
//      per-shard logIndex, computes the proof's rootHash;
//   6. the checkpoint is a note signed by the log key (checkpoint.hpp) whose
//      tree size and root equal the proof's.
// Every failure is Status::Invalid whose message starts with the part that
// failed ("inclusion proof: computed root … != rootHash …").
//
// Called by `signalsctl verify`, the bundle verifier and the tlog plugin's
// submission path. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "attest/dsse.hpp"
#include "base/status.hpp"
#include "tlog/tlog_entry.hpp"

namespace signals {

struct TlogVerifyOptions {
  std::string log_public_key_pem;  // the log's key (ECDSA P-256 for Rekor v1)
};

// Which proofs of inclusion an entry must carry. Bundles v0.1 promise
// inclusion by the SET alone; later bundles and stored entries carry both.
struct TlogRequirements {
  bool signed_entry_timestamp = true;
  bool inclusion_proof = true;
};

// What was verified, for reports.
struct TlogVerification {
  std::string uuid;  // the entry's UUID, or the leaf hash (hex) when it has none
  std::string leaf_hash_hex;
  uint64_t log_index = 0;  // global
  int64_t integrated_time = 0;
  bool signed_entry_timestamp_verified = false;
  bool inclusion_proof_verified = false;  // proof and checkpoint
  uint64_t proof_log_index = 0;           // per shard; when inclusion_proof_verified
  uint64_t tree_size = 0;
  std::string checkpoint_origin;
};

// Verifies steps 2–6 above: the log's own promises about `entry`, whatever it
// logs. A part the entry lacks fails only when `requirements` demand it; an
// entry with neither SET nor proof always fails.
Result<TlogVerification> VerifyTlogInclusion(const TlogEntry& entry, const TlogVerifyOptions& options,
                                             const TlogRequirements& requirements = {});

// Verifies a Rekor v1 entry in the REST shape (as stored in `….rekor.json`)
// against the DSSE envelope it logs: steps 1–6, SET and proof both required.
Status VerifyRekorEntry(const nlohmann::json& entry, std::string_view envelope_json,
                        const TlogVerifyOptions& options);

// As VerifyRekorEntry, returning what was verified.
Result<TlogVerification> VerifyRekorEntryDetailed(const nlohmann::json& entry, std::string_view envelope_json,
                                                  const TlogVerifyOptions& options);

// The bytes the SET signs: JCS{body, integratedTime, logID, logIndex}.
std::string SignedEntryTimestampPayload(const TlogEntry& entry);

}  // namespace signals
