#include "attest/attestation.hpp"

#include "attest/signature_verify.hpp"
#include "base/canonical_json.hpp"

namespace signals {

nlohmann::json MakeStatement(const std::vector<AttestationSubject>& subjects,
                             const std::string& predicate_type, const nlohmann::json& predicate) {
  nlohmann::json subject = nlohmann::json::array();
  for (const auto& s : subjects) {
    subject.push_back({{"name", s.name}, {"digest", {{"sha256", s.sha256_hex}}}});
  }
  return {{"_type", kStatementType},
          {"subject", subject},
          {"predicateType", predicate_type},
          {"predicate", predicate}};
}

Result<DsseEnvelope> SignStatement(Signer& signer, const nlohmann::json& statement) {
  DsseEnvelope envelope;
  envelope.payload_type = std::string(kInTotoPayloadType);
  envelope.payload = CanonicalJson(statement);
  auto signature = signer.Sign(DssePae(envelope.payload_type, envelope.payload));
  if (!signature.ok()) return signature.status();
  envelope.signatures.push_back(DsseSignature{signer.key_id(), std::move(*signature)});
  return envelope;
}

Result<std::string> StoreSignedStatement(Signer& signer, const nlohmann::json& statement, CasStore& cas,
                                         MetricsRegistry& metrics, const std::string& key) {
  auto envelope = SignStatement(signer, statement);
  metrics.CounterAdd("signals_attestations_created_total",
                     std::string("result=") + (envelope.ok() ? "ok" : "error"), 1);
  if (!envelope.ok()) return envelope.status();
  std::string bytes = SerializeDsseEnvelope(*envelope);
  SIGNALS_RETURN_IF_ERROR(cas.Put(key, bytes));
  return bytes;
}

Status VerifyEnvelopeSignature(const DsseEnvelope& envelope, const std::string& public_key_pem,
                               const std::string& key_id) {
  std::string pae = DssePae(envelope.payload_type, envelope.payload);
  Status last = Status::Invalid("dsse", "signatures", "the envelope has no signature");
  for (const auto& sig : envelope.signatures) {
    if (!key_id.empty() && !sig.keyid.empty() && sig.keyid != key_id) continue;
    Status s = VerifySignature(public_key_pem, pae, sig.sig);
    if (s.ok()) return s;
    last = s;
  }
  return last;
}

}  // namespace signals
