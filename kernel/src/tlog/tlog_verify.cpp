// Offline Rekor v1 entry verification. See tlog_verify.hpp.
#include "tlog/tlog_verify.hpp"

#include "attest/signature_verify.hpp"
#include "base/base64.hpp"
#include "base/canonical_json.hpp"
#include "base/sha256.hpp"
#include "tlog/checkpoint.hpp"
#include "tlog/merkle_proof.hpp"
#include "tlog/tlog_body.hpp"

namespace signals {
namespace {

Status Failed(const char* field, std::string message) {
  return Status::Invalid("tlog", field, std::move(message));
}

Status VerifyInclusionProof(const TlogEntry& entry, const std::string& leaf_hash, const std::string& log_key,
                            TlogVerification& out) {
  const auto& proof = *entry.inclusion_proof;
  auto root = MerkleRootFromInclusionProof(proof.log_index, proof.tree_size, leaf_hash, proof.hashes);
  if (!root.ok()) return Failed("inclusionProof", "inclusion proof: " + root.status().message());
  if (*root != proof.root_hash) {
    return Failed("inclusionProof", "inclusion proof: computed root " + HexLower(*root) + " != rootHash " +
                                        HexLower(proof.root_hash) + " (logIndex " +
                                        std::to_string(proof.log_index) + ", treeSize " +
                                        std::to_string(proof.tree_size) + ")");
  }
  auto checkpoint = VerifyCheckpoint(proof.checkpoint, log_key);
  if (!checkpoint.ok()) return checkpoint.status();
  if (checkpoint->tree_size != proof.tree_size || checkpoint->root_hash != proof.root_hash) {
    return Failed("checkpoint",
                  "checkpoint: tree size " + std::to_string(checkpoint->tree_size) + " and root " +
                      HexLower(checkpoint->root_hash) + " do not match the inclusion proof's treeSize " +
                      std::to_string(proof.tree_size) + " and rootHash " + HexLower(proof.root_hash));
  }
  out.inclusion_proof_verified = true;
  out.proof_log_index = proof.log_index;
  out.tree_size = proof.tree_size;
  out.checkpoint_origin = checkpoint->origin;
  return Status::Ok();
}

}  // namespace

std::string SignedEntryTimestampPayload(const TlogEntry& entry) {
  nlohmann::json payload = {{"body", Base64Encode(entry.body)},
                            {"integratedTime", entry.integrated_time},
                            {"logID", HexLower(entry.log_id)},
                            {"logIndex", entry.log_index}};
  return CanonicalJson(payload);
}

Result<TlogVerification> VerifyTlogInclusion(const TlogEntry& entry, const TlogVerifyOptions& options,
                                             const TlogRequirements& requirements) {
  TlogVerification out;
  out.log_index = entry.log_index;
  out.integrated_time = entry.integrated_time;
  const std::string& key = options.log_public_key_pem;
  auto der = PublicKeyDer(key);
  if (!der.ok()) return Failed("logPublicKey", "log key: " + der.status().message());
  const std::string key_id = Sha256Raw(*der);
  if (entry.log_id != key_id) {
    return Failed("logID", "log ID: the entry's logID " + HexLower(entry.log_id) +
                               " is not the SHA-256 of the given log key (" + HexLower(key_id) + ")");
  }

  const std::string leaf_hash = MerkleLeafHash(entry.body);
  out.leaf_hash_hex = HexLower(leaf_hash);
  out.uuid = entry.uuid.empty() ? out.leaf_hash_hex : entry.uuid;
  // An entry UUID is the 16-hex-digit tree ID followed by the leaf hash (or,
  // on old entries, the leaf hash alone).
  if (!entry.uuid.empty() &&
      (entry.uuid.size() < 64 || entry.uuid.compare(entry.uuid.size() - 64, 64, out.leaf_hash_hex) != 0)) {
    return Failed("uuid", "entry UUID " + entry.uuid + " does not end with the leaf hash of the body " +
                              out.leaf_hash_hex);
  }

  if (entry.signed_entry_timestamp.empty()) {
    if (requirements.signed_entry_timestamp) {
      return Failed("signedEntryTimestamp", "signed entry timestamp (SET): missing");
    }
  } else {
    Status set = VerifySignature(key, SignedEntryTimestampPayload(entry), entry.signed_entry_timestamp);
    if (!set.ok()) {
      return Failed("signedEntryTimestamp",
                    "signed entry timestamp (SET): does not verify with the log key over "
                    "JCS{body,integratedTime,logID,logIndex} (integratedTime " +
                        std::to_string(entry.integrated_time) + ", logIndex " +
                        std::to_string(entry.log_index) + "): " + set.message());
    }
    out.signed_entry_timestamp_verified = true;
  }

  if (!entry.inclusion_proof) {
    if (requirements.inclusion_proof) return Failed("inclusionProof", "inclusion proof: missing");
  } else {
    SIGNALS_RETURN_IF_ERROR(VerifyInclusionProof(entry, leaf_hash, key, out));
  }
  if (!out.signed_entry_timestamp_verified && !out.inclusion_proof_verified) {
    return Failed("inclusionProof",
                  "log entry: neither a signed entry timestamp nor an inclusion proof to verify");
  }
  return out;
}

Result<TlogVerification> VerifyRekorEntryDetailed(const nlohmann::json& entry_json,
                                                  std::string_view envelope_json,
                                                  const TlogVerifyOptions& options) {
  auto entry = ParseRekorEntry(entry_json);
  if (!entry.ok()) return entry.status();
  auto envelope = ParseDsseEnvelope(envelope_json);
  if (!envelope.ok()) return envelope.status().WithContext("envelope");
  SIGNALS_RETURN_IF_ERROR(VerifyTlogBodyForEnvelope(*entry, *envelope));
  return VerifyTlogInclusion(*entry, options);
}

Status VerifyRekorEntry(const nlohmann::json& entry, std::string_view envelope_json,
                        const TlogVerifyOptions& options) {
  return VerifyRekorEntryDetailed(entry, envelope_json, options).status();
}

}  // namespace signals
