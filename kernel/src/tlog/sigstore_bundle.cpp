// Sigstore bundle reading, offline verification and writing. See sigstore_bundle.hpp.
#include "tlog/sigstore_bundle.hpp"

#include "attest/attestation.hpp"
#include "attest/dsse.hpp"
#include "attest/signature_verify.hpp"
#include "base/base64.hpp"
#include "base/json_member.hpp"
#include "base/sha256.hpp"
#include "tlog/tlog_body.hpp"
#include "tlog/tlog_entry.hpp"

namespace signals {
namespace {

Status BundleInvalid(const std::string& field, std::string message) {
  return Status::Invalid("sigstore-bundle", field, std::move(message));
}

Result<std::string> VersionOf(const std::string& media_type) {
  if (media_type == kBundleMediaTypeV01) return std::string("0.1");
  if (media_type == kBundleMediaTypeV02) return std::string("0.2");
  if (media_type == kBundleMediaTypeV03 || media_type == kBundleMediaTypeV03Legacy) return std::string("0.3");
  return BundleInvalid("mediaType",
                       "bundle: mediaType '" + media_type + "' is not a Sigstore bundle v0.1, v0.2 or v0.3");
}

Result<std::string> Base64Member(const nlohmann::json& parent, const char* name, const std::string& path) {
  const std::string text = JsonText(parent, name);
  if (text.empty()) return BundleInvalid(path, "bundle: " + path + " is missing");
  auto bytes = Base64Decode(text);
  if (!bytes.ok()) return BundleInvalid(path, "bundle: " + path + " is not base64");
  return bytes;
}

// The DER of the signing certificate: `certificate` (v0.3) or the first of
// `x509CertificateChain` (v0.1/v0.2); empty when the bundle names a key.
Result<std::string> CertificateDer(const nlohmann::json& material) {
  const auto& single = JsonChild(material, "certificate");
  if (single.is_object())
    return Base64Member(single, "rawBytes", "verificationMaterial.certificate.rawBytes");
  const auto& chain = JsonChild(JsonChild(material, "x509CertificateChain"), "certificates");
  if (chain.is_array() && !chain.empty()) {
    return Base64Member(chain[0], "rawBytes",
                        "verificationMaterial.x509CertificateChain.certificates[0].rawBytes");
  }
  return std::string();
}

// Where the signer's key comes from: the caller's, else the certificate's.
Status ChooseKey(const nlohmann::json& material, const BundleVerifyOptions& options, BundleVerification& out,
                 std::string& key_pem) {
  out.key_hint = JsonText(JsonChild(material, "publicKey"), "hint");
  if (!options.public_key_pem.empty()) {
    key_pem = options.public_key_pem;
    out.key_source = "given key";
    return Status::Ok();
  }
  auto der = CertificateDer(material);
  if (!der.ok()) return der.status();
  if (der->empty()) {
    return Status::Config("key: the bundle has no certificate (publicKey.hint '" + out.key_hint +
                          "'): give the signer's public key");
  }
  auto pem = CertificatePublicKeyPem(*der);
  if (!pem.ok()) return BundleInvalid("verificationMaterial.certificate", "key: " + pem.status().message());
  key_pem = *pem;
  out.key_source = "certificate (not checked against a Fulcio root)";
  return Status::Ok();
}

// The signed content, and how each tlog entry's body must match it.
struct SignedContent {
  DsseEnvelope envelope;
  std::string digest;     // messageSignature
  std::string signature;  // messageSignature
  bool is_envelope = false;
};

Result<SignedContent> VerifyContent(const nlohmann::json& bundle, const std::string& key_pem,
                                    BundleVerification& out) {
  SignedContent content;
  const auto& dsse = JsonChild(bundle, "dsseEnvelope");
  const auto& message = JsonChild(bundle, "messageSignature");
  if (dsse.is_object() == message.is_object()) {
    return BundleInvalid("content", "bundle: needs exactly one of dsseEnvelope and messageSignature");
  }
  if (dsse.is_object()) {
    auto envelope = ParseDsseEnvelope(dsse.dump());
    if (!envelope.ok())
      return BundleInvalid("dsseEnvelope", "bundle: dsseEnvelope: " + envelope.status().message());
    out.content = "dsseEnvelope";
    out.payload_type = envelope->payload_type;
    Status s = VerifyEnvelopeSignature(*envelope, key_pem);
    if (!s.ok()) return BundleInvalid("dsseEnvelope.signatures", "DSSE signature: " + s.message());
    content.envelope = std::move(*envelope);
    content.is_envelope = true;
    return content;
  }
  out.content = "messageSignature";
  const auto& digest = JsonChild(message, "messageDigest");
  const std::string algorithm = JsonText(digest, "algorithm");
  if (algorithm != "SHA2_256") {
    return BundleInvalid(
        "messageSignature.messageDigest.algorithm",
        "message signature: digest algorithm '" + algorithm + "' is not supported (SHA2_256 is)");
  }
  auto bytes = Base64Member(digest, "digest", "messageSignature.messageDigest.digest");
  if (!bytes.ok()) return bytes.status();
  auto signature = Base64Member(message, "signature", "messageSignature.signature");
  if (!signature.ok()) return signature.status();
  Status s = VerifyDigestSignature(key_pem, *bytes, *signature);
  if (!s.ok()) return BundleInvalid("messageSignature.signature", "message signature: " + s.message());
  content.digest = std::move(*bytes);
  content.signature = std::move(*signature);
  return content;
}

Status VerifyTlogEntries(const nlohmann::json& entries, const SignedContent& content,
                         const BundleVerifyOptions& options, BundleVerification& out) {
  if (entries.is_null()) return Status::Ok();
  if (!entries.is_array())
    return BundleInvalid("tlogEntries", "bundle: verificationMaterial.tlogEntries is not an array");
  if (!entries.empty() && options.log_public_key_pem.empty()) {
    return Status::Config("tlog entry 0: the bundle has " + std::to_string(entries.size()) +
                          " transparency-log entries; give the log's public key to verify them");
  }
  TlogRequirements requirements;  // v0.1 promised inclusion by the SET; later versions prove it
  requirements.signed_entry_timestamp = out.version == "0.1";
  requirements.inclusion_proof = out.version != "0.1";
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string where = "tlog entry " + std::to_string(i);
    auto entry = ParseBundleTlogEntry(entries[i]);
    if (!entry.ok()) return entry.status().WithContext(where);
    Status body = content.is_envelope
                      ? VerifyTlogBodyForEnvelope(*entry, content.envelope)
                      : VerifyTlogBodyForMessageSignature(*entry, content.digest, content.signature);
    if (!body.ok()) return body.WithContext(where);
    auto verified = VerifyTlogInclusion(*entry, {options.log_public_key_pem}, requirements);
    if (!verified.ok()) return verified.status().WithContext(where);
    out.tlog_entries.push_back(std::move(*verified));
  }
  return Status::Ok();
}

}  // namespace

Result<BundleVerification> VerifySigstoreBundle(std::string_view bundle_json,
                                                const BundleVerifyOptions& options) {
  auto bundle = nlohmann::json::parse(bundle_json, nullptr, false);
  if (!bundle.is_object()) return BundleInvalid("", "bundle: not a JSON object");
  BundleVerification out;
  auto version = VersionOf(JsonText(bundle, "mediaType"));
  if (!version.ok()) return version.status();
  out.version = *version;
  const auto& material = JsonChild(bundle, "verificationMaterial");
  if (!material.is_object())
    return BundleInvalid("verificationMaterial", "bundle: verificationMaterial is missing");

  std::string key_pem;
  SIGNALS_RETURN_IF_ERROR(ChooseKey(material, options, out, key_pem));
  auto content = VerifyContent(bundle, key_pem, out);
  if (!content.ok()) return content.status();
  SIGNALS_RETURN_IF_ERROR(VerifyTlogEntries(JsonChild(material, "tlogEntries"), *content, options, out));
  const auto& timestamps = JsonChild(JsonChild(material, "timestampVerificationData"), "rfc3161Timestamps");
  out.has_rfc3161_timestamps = timestamps.is_array() && !timestamps.empty();
  return out;
}

Result<std::string> SigstorePublicKeyHint(std::string_view public_key_pem) {
  auto der = PublicKeyDer(public_key_pem);
  if (!der.ok()) return der.status();
  return Base64Encode(Sha256Raw(*der));
}

Result<nlohmann::json> WriteSigstoreBundle(std::string_view envelope_json,
                                           std::string_view signer_public_key_pem,
                                           const nlohmann::json& rekor_entry) {
  auto envelope = ParseDsseEnvelope(envelope_json);
  if (!envelope.ok()) return envelope.status();
  if (envelope->signatures.size() != 1) {
    return BundleInvalid("signatures", "a Sigstore bundle holds one DSSE signature, the envelope has " +
                                           std::to_string(envelope->signatures.size()));
  }
  auto hint = SigstorePublicKeyHint(signer_public_key_pem);
  if (!hint.ok()) return hint.status();
  nlohmann::json entries = nlohmann::json::array();
  if (!rekor_entry.is_null()) {
    auto entry = ParseRekorEntry(rekor_entry);
    if (!entry.ok()) return entry.status();
    auto json = BundleTlogEntryJson(*entry);
    if (!json.ok()) return json.status();
    entries.push_back(std::move(*json));
  }
  const auto& signature = envelope->signatures.front();
  return nlohmann::json{
      {"mediaType", kBundleMediaTypeV03},
      {"verificationMaterial", {{"publicKey", {{"hint", *hint}}}, {"tlogEntries", entries}}},
      {"dsseEnvelope",
       {{"payload", Base64Encode(envelope->payload)},
        {"payloadType", envelope->payload_type},
        {"signatures", {{{"keyid", signature.keyid}, {"sig", Base64Encode(signature.sig)}}}}}}};
}

}  // namespace signals
