// Sigstore bundles (protobuf-specs `dev.sigstore.bundle.v1.Bundle`, JSON
// form): the portable package of a signature, the key hint or certificate
// that verifies it, and its transparency-log entries.
//
// Reading: bundles v0.1, v0.2 and v0.3 (both v0.3 media types), with a DSSE
// envelope or a message signature, verified offline against a public key the
// caller trusts (or, when none is given, the key of the bundle's certificate,
// which is then NOT chained to a Fulcio root) and a Rekor log key.
// Writing: a v0.3 bundle around a stored Signals DSSE envelope, as
// `@sigstore/verify` expects for key-based verification (publicKey.hint =
// base64 SHA-256 of the key's DER, one DSSE signature, tlog entries converted
// from the stored Rekor REST shape).
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.hpp"
#include "tlog/tlog_verify.hpp"

namespace signals {

inline constexpr std::string_view kBundleMediaTypeV01 =
    "application/vnd.dev.sigstore.bundle+json;version=0.1";
inline constexpr std::string_view kBundleMediaTypeV02 =
    "application/vnd.dev.sigstore.bundle+json;version=0.2";
inline constexpr std::string_view kBundleMediaTypeV03 = "application/vnd.dev.sigstore.bundle.v0.3+json";
// The first media type v0.3 bundles had; still accepted on input.
inline constexpr std::string_view kBundleMediaTypeV03Legacy =
    "application/vnd.dev.sigstore.bundle+json;version=0.3";

struct BundleVerifyOptions {
  std::string public_key_pem;      // the signer's key; empty = use the bundle's certificate
  std::string log_public_key_pem;  // the Rekor key; needed when the bundle has tlog entries
};

struct BundleVerification {
  std::string version;       // "0.1", "0.2" or "0.3"
  std::string content;       // "dsseEnvelope" or "messageSignature"
  std::string payload_type;  // of the DSSE envelope
  std::string key_source;    // "given key" or "certificate (not checked against a Fulcio root)"
  std::string key_hint;      // verificationMaterial.publicKey.hint, when present
  std::vector<TlogVerification> tlog_entries;
  bool has_rfc3161_timestamps = false;  // present but not verified here
};

// Verifies `bundle_json` offline: the DSSE signature over the PAE (or the
// message signature over messageDigest), and for each tlog entry its body
// against that content, log ID, SET, inclusion proof and checkpoint
// (tlog_verify.hpp; v0.1 needs the SET, later versions the proof).
// Failure: Status::Invalid whose message starts with what failed: "bundle:"
// (shape, media type), "key:", "DSSE signature:", "message signature:" or
// "tlog entry N: …"; Status::Config when the bundle has tlog entries and no
// log key is given, or no signer key is given and the bundle has no
// certificate.
Result<BundleVerification> VerifySigstoreBundle(std::string_view bundle_json,
                                                const BundleVerifyOptions& options);

// The publicKey.hint Signals writes: base64 of SHA-256 of the key's DER
// SubjectPublicKeyInfo (the convention of Sigstore's managed-key bundles).
Result<std::string> SigstorePublicKeyHint(std::string_view public_key_pem);

// Returns a v0.3 bundle for the DSSE envelope `envelope_json` signed by
// `signer_public_key_pem`, with the log entry `rekor_entry` (REST shape, as
// stored in `….rekor.json`) when it is not null.
// Failure: Status::Invalid when the envelope does not parse or has other than
// one signature, the key is not a PEM key, or the entry does not parse.
Result<nlohmann::json> WriteSigstoreBundle(std::string_view envelope_json,
                                           std::string_view signer_public_key_pem,
                                           const nlohmann::json& rekor_entry = nullptr);

}  // namespace signals
