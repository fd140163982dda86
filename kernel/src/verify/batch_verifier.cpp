#include "verify/batch_verifier.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "attest/attestation.hpp"
#include "attest/dsse.hpp"
#include "base/canonical_json.hpp"
#include "base/json_member.hpp"
#include "base/sha256.hpp"
#include "base/ulid.hpp"
#include "base/zstd_frame_reader.hpp"
#include "ingest/callgraph_store.hpp"
#include "model/cas_paths.hpp"
#include "model/digest.hpp"
#include "retention/retention.hpp"
#include "retention/tombstone.hpp"

namespace signals {
namespace {

// The failure names the object at fault in its field, so that fsck can report
// it per object.
Status Corrupt(const std::string& object, const std::string& what) {
  return Status::Invalid("integrity", object, what);
}

// The attestation of the batch (its DSSE envelope) verifies with the
// registered key, and its statement names this batch, this hash and the
// referenced callgraph with its digest.
Status VerifyBatchAttestation(Kernel& kernel, const nlohmann::json& row, const std::string& batch_id,
                              BatchVerification* v) {
  const std::string a = JsonText(row, "attestationKey");
  // The envelope verifies with the registered key.
  auto envelope_text = kernel.cas().ReadAll(a);
  if (!envelope_text.ok()) return Corrupt(a, "attestation " + a + " is missing");
  auto envelope = ParseDsseEnvelope(*envelope_text);
  if (!envelope.ok()) return Corrupt(a, "attestation " + a + ": " + envelope.status().message());
  v->key_id = envelope->signatures.front().keyid;
  auto public_key = kernel.keys().PublicKey(v->key_id);
  if (!public_key.ok()) {
    return Corrupt(
        a, "attestation " + a + " signed by key '" + v->key_id + "': " + public_key.status().message());
  }
  Status signature = VerifyEnvelopeSignature(*envelope, *public_key, v->key_id);
  if (!signature.ok()) return Corrupt(a, "attestation " + a + " signature: " + signature.message());
  if (envelope->payload_type != kInTotoPayloadType) {
    return Corrupt(a, "attestation " + a + " payloadType is " + envelope->payload_type);
  }

  // The statement names this batch and this hash.
  auto statement = nlohmann::json::parse(envelope->payload, nullptr, false);
  if (!statement.is_object()) return Corrupt(a, "attestation " + a + " payload is not JSON");
  if (JsonText(statement, "_type") != kStatementType) return Corrupt(a, "statement _type is wrong in " + a);
  if (JsonText(statement, "predicateType") != kRuntimeFactsPredicate) {
    return Corrupt(a, "statement predicateType is wrong in " + a);
  }
  bool subject_ok = false;
  const std::string hex = v->provenance_hash.substr(7);
  for (const auto& subject : statement.value("subject", nlohmann::json::array())) {
    if (JsonText(subject, "name").find("/" + batch_id + ".ndjson") != std::string::npos &&
        subject.contains("digest") && subject["digest"].value("sha256", "") == hex) {
      subject_ok = true;
    }
  }
  if (!subject_ok) return Corrupt(a, "statement subject in " + a + " does not name this batch's blob digest");
  // The referenced callgraph is a subject too, with the digest it has in the CAS.
  const std::string callgraph_id = JsonText(row, "callgraphId");
  auto graph = CallgraphStore(kernel).Record(callgraph_id);
  if (!graph.ok()) {
    return Corrupt("batches/" + batch_id,
                   "callgraph " + callgraph_id + " of the batch: " + graph.status().message());
  }
  const std::string graph_name = cas_paths::CallgraphSubjectName(JsonText(*graph, "tenantId"), callgraph_id);
  const std::string graph_hex = JsonText(*graph, "digest").substr(kSha256DigestPrefix.size());
  bool graph_subject_ok = false;
  for (const auto& subject : statement.value("subject", nlohmann::json::array())) {
    graph_subject_ok =
        graph_subject_ok || (JsonText(subject, "name") == graph_name && subject.contains("digest") &&
                             subject["digest"].value("sha256", "") == graph_hex);
  }
  if (!graph_subject_ok) {
    return Corrupt(
        a, "statement subject in " + a + " does not name callgraph " + graph_name + " with its digest");
  }
  const auto& predicate = statement.value("predicate", nlohmann::json::object());
  if (JsonText(predicate, "batchId") != batch_id ||
      JsonText(predicate, "provenanceHash") != v->provenance_hash) {
    return Corrupt(a, "statement predicate in " + a + " does not match the batch");
  }
  if (SerializeDsseEnvelope(*envelope) != *envelope_text) {
    return Corrupt(a, "attestation " + a + " is not the canonical JSON that was stored");
  }
  return Status::Ok();
}

// An expired batch: its tombstone exists and names it; the blob and the
// provenance record are gone (or about to go), so only the attestation is left
// to verify.
Status VerifyExpiredBatch(Kernel& kernel, const nlohmann::json& row, BatchVerification* v) {
  v->expired = true;
  v->expired_at = JsonText(row, "expiredAt");
  v->tombstone_key = cas_paths::Tombstone(kRuntimeFactsKind, JsonText(row, "tenantId"), v->batch_id);
  v->fact_count = row.value("factCount", uint64_t{0});
  if (JsonText(row, "tombstoneKey") != v->tombstone_key) {
    return Corrupt("batches/" + v->batch_id, "expired, but the index names tombstone '" +
                                                 JsonText(row, "tombstoneKey") + "' instead of " +
                                                 v->tombstone_key);
  }
  auto tombstone = ReadTombstoneOfExpired(kernel.cas(), v->tombstone_key);
  if (!tombstone.ok()) return tombstone.status();
  if (JsonText(tombstone->record, "provenanceHash") != v->provenance_hash) {
    return Corrupt(v->tombstone_key,
                   "tombstone " + v->tombstone_key + " and index disagree on provenanceHash");
  }
  return VerifyBatchAttestation(kernel, row, v->batch_id, v);
}

}  // namespace

const std::vector<std::string>& BatchRowOnlyMembers() {
  static const std::vector<std::string> kMembers = {"blobKey", "provenanceKey", "attestationKey"};
  return kMembers;
}

const std::vector<std::string>& TlogStateMembers() {
  static const std::vector<std::string> kMembers = {"rekorUuid", "skipReason"};
  return kMembers;
}

std::string StoredRecordDifference(const nlohmann::json& stored, const nlohmann::json& row,
                                   const std::vector<std::string>& row_only) {
  auto listed = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  for (auto it = stored.begin(); it != stored.end(); ++it) {
    if (listed(TlogStateMembers(), it.key())) continue;
    if (!row.contains(it.key()) || row[it.key()] != it.value()) return it.key();
  }
  for (auto it = row.begin(); it != row.end(); ++it) {
    if (listed(TlogStateMembers(), it.key()) || listed(row_only, it.key())) continue;
    if (!stored.contains(it.key())) return it.key();
  }
  return "";
}

Result<BatchVerification> VerifyBatch(Kernel& kernel, const std::string& batch_id) {
  SIGNALS_RETURN_IF_ERROR(ValidateUlid(batch_id, "batchId"));
  auto row_text = kernel.index().Get("batches", batch_id);
  if (!row_text.ok()) {
    if (row_text.status().code() == Code::kNotFound)
      return Status::NotFound("batch " + batch_id + " not found");
    return row_text.status();
  }
  auto row = nlohmann::json::parse(*row_text, nullptr, false);
  if (!row.is_object())
    return Corrupt("batches/" + batch_id, "index row of batch " + batch_id + " is not JSON");
  BatchVerification v;
  v.batch_id = batch_id;
  v.provenance_hash = JsonText(row, "provenanceHash");
  const std::string blob_key = JsonText(row, "blobKey");
  const std::string provenance_key = JsonText(row, "provenanceKey");
  if (IsExpired(row)) {
    SIGNALS_RETURN_IF_ERROR(VerifyExpiredBatch(kernel, row, &v));
    return v;
  }

  // 1. The blob re-hashes to provenanceHash.
  auto reader = kernel.cas().Open(blob_key);
  if (!reader.ok())
    return Corrupt(blob_key, "blob " + blob_key + " is missing: " + reader.status().message());
  Sha256Hasher hasher;
  ZstdFrameReader zstd([&](std::string_view plain) {
    hasher.Update(plain);
    return Status::Ok();
  });
  Status drained =
      zstd.Drain([&](uint8_t* buffer, size_t capacity) { return (*reader)->Read(buffer, capacity); });
  if (drained.rule() == "zstd") return Corrupt(blob_key, "blob " + blob_key + ": " + drained.message());
  SIGNALS_RETURN_IF_ERROR(drained);
  const std::string actual = DigestFromRaw(hasher.Finish());
  if (actual != v.provenance_hash) {
    return Corrupt(blob_key, "blob " + blob_key + " hashes to " + actual + " but provenanceHash is " +
                                 v.provenance_hash);
  }

  // 2. The provenance record is intact and agrees with the index row in
  // every member (the row adds the object keys; the tlog state may move on).
  auto provenance_text = kernel.cas().ReadAll(provenance_key);
  if (!provenance_text.ok())
    return Corrupt(provenance_key, "provenance record " + provenance_key + " is missing");
  auto provenance = nlohmann::json::parse(*provenance_text, nullptr, false);
  if (!provenance.is_object())
    return Corrupt(provenance_key, "provenance record " + provenance_key + " is not JSON");
  if (std::string differs = StoredRecordDifference(provenance, row, BatchRowOnlyMembers());
      !differs.empty()) {
    return Corrupt(provenance_key, "provenance record " + provenance_key +
                                       " and the index row disagree on '" + differs + "'");
  }
  v.fact_count = provenance.value("factCount", uint64_t{0});
  SIGNALS_RETURN_IF_ERROR(CheckCanonicalText(provenance_key, *provenance_text, provenance));

  SIGNALS_RETURN_IF_ERROR(VerifyBatchAttestation(kernel, row, batch_id, &v));

  return v;
}

}  // namespace signals
