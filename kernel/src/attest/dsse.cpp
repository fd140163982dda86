// DSSE envelopes and PAE. See dsse.hpp.
#include "attest/dsse.hpp"

#include <nlohmann/json.hpp>

#include "base/base64.hpp"
#include "base/canonical_json.hpp"

namespace signals {
namespace {

Status DsseInvalid(std::string field, std::string message) {
  return Status::Invalid("dsse", std::move(field), std::move(message));
}

}  // namespace

std::string DssePae(std::string_view payload_type, std::string_view payload) {
  std::string pae = "DSSEv1 ";
  pae += std::to_string(payload_type.size());
  pae += ' ';
  pae += payload_type;
  pae += ' ';
  pae += std::to_string(payload.size());
  pae += ' ';
  pae += payload;
  return pae;
}

Result<DsseEnvelope> ParseDsseEnvelope(std::string_view json) {
  // Parse without exceptions: a malformed document comes back as "discarded".
  nlohmann::json doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return DsseInvalid("", "DSSE envelope is not valid JSON");
  if (!doc.is_object()) return DsseInvalid("", "DSSE envelope must be a JSON object");

  DsseEnvelope envelope;
  auto type_it = doc.find("payloadType");
  if (type_it == doc.end() || !type_it->is_string()) {
    return DsseInvalid("payloadType", "payloadType must be a string");
  }
  envelope.payload_type = type_it->get<std::string>();
  if (envelope.payload_type.empty()) return DsseInvalid("payloadType", "payloadType must not be empty");

  auto payload_it = doc.find("payload");
  if (payload_it == doc.end() || !payload_it->is_string()) {
    return DsseInvalid("payload", "payload must be a base64 string");
  }
  auto payload = Base64Decode(payload_it->get_ref<const std::string&>());
  if (!payload.ok())
    return DsseInvalid("payload", "payload is not valid base64: " + payload.status().message());
  envelope.payload = std::move(payload).value();

  auto sigs_it = doc.find("signatures");
  if (sigs_it == doc.end() || !sigs_it->is_array()) {
    return DsseInvalid("signatures", "signatures must be an array");
  }
  if (sigs_it->empty()) return DsseInvalid("signatures", "signatures must hold at least one signature");
  for (size_t i = 0; i < sigs_it->size(); ++i) {
    const nlohmann::json& entry = (*sigs_it)[i];
    std::string where = "signatures[" + std::to_string(i) + "]";
    if (!entry.is_object()) return DsseInvalid(where, "each signature must be a JSON object");
    DsseSignature signature;
    auto keyid_it = entry.find("keyid");
    if (keyid_it != entry.end()) {
      if (!keyid_it->is_string()) return DsseInvalid(where + ".keyid", "keyid must be a string");
      signature.keyid = keyid_it->get<std::string>();
    }
    auto sig_it = entry.find("sig");
    if (sig_it == entry.end() || !sig_it->is_string()) {
      return DsseInvalid(where + ".sig", "sig must be a base64 string");
    }
    auto sig = Base64Decode(sig_it->get_ref<const std::string&>());
    if (!sig.ok()) return DsseInvalid(where + ".sig", "sig is not valid base64: " + sig.status().message());
    if (sig->empty()) return DsseInvalid(where + ".sig", "sig must not be empty");
    signature.sig = std::move(sig).value();
    envelope.signatures.push_back(std::move(signature));
  }
  return envelope;
}

std::string SerializeDsseEnvelope(const DsseEnvelope& envelope) {
  nlohmann::json signatures = nlohmann::json::array();
  for (const DsseSignature& s : envelope.signatures) {
    signatures.push_back({{"keyid", s.keyid}, {"sig", Base64Encode(s.sig)}});
  }
  nlohmann::json doc = {
      {"payload", Base64Encode(envelope.payload)},
      {"payloadType", envelope.payload_type},
      {"signatures", std::move(signatures)},
  };
  auto canonical = TryCanonicalJson(doc);
  if (canonical.ok()) return std::move(canonical).value();
  // Only invalid UTF-8 in payloadType/keyid gets here. The member names are
  // ASCII and every value a string, so nlohmann's compact dump is JCS-identical
  // apart from replacing the bad bytes — better than throwing across modules.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace signals
