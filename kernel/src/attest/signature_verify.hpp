// Offline verification of detached signatures against a PEM public key, with
// OpenSSL 3 EVP. The key decides the algorithm, so callers need not know it:
//   * Ed25519: signature is the raw 64 bytes, over the message itself;
//   * ECDSA P-256: signature is DER, over SHA-256 of the message.
// These are the two signature forms of kernel/README.md#callgraph-manifest, #attestations.
//
// Also turns keys into the forms that name them (DER, a certificate's key).
// Called when checking DSSE envelopes, manifests and log entries. Holds no
// state; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.hpp"

namespace signals {

// Returns Ok when `signature` is a valid signature of `message` under the
// SubjectPublicKeyInfo PEM key `public_key_pem` ("-----BEGIN PUBLIC KEY-----").
// Failure: Status::Invalid rule "signature" (field "signature" or
// "publicKey") with message "not a PEM public key", "unsupported key type X"
// (X as OpenSSL names it, e.g. RSA, or the curve name for other EC curves) or
// "signature does not verify". Status::Internal if OpenSSL cannot allocate.
Status VerifySignature(std::string_view public_key_pem, std::string_view message, std::string_view signature);

// As VerifySignature, for a message known only by its SHA-256 digest (a
// Sigstore messageSignature, whose artifact is not at hand): `digest` is the
// 32-byte SHA-256 of the message. Only ECDSA P-256 keys sign such digests;
// PureEdDSA cannot. Failure: as VerifySignature, plus "an Ed25519 key cannot
// verify a pre-hashed message" and "digest is N bytes, expected 32".
Status VerifyDigestSignature(std::string_view public_key_pem, std::string_view digest,
                             std::string_view signature);

// Returns the DER SubjectPublicKeyInfo of a PEM public key (what key IDs and
// Rekor log IDs hash). Failure: Status::Invalid rule "signature", field
// "publicKey", "not a PEM public key".
Result<std::string> PublicKeyDer(std::string_view public_key_pem);

// Returns the public key of a DER X.509 certificate as a PEM
// SubjectPublicKeyInfo. The certificate's validity and chain are NOT checked.
// Failure: Status::Invalid rule "signature", field "certificate".
Result<std::string> CertificatePublicKeyPem(std::string_view certificate_der);

// Returns the signature algorithm implied by the key: "Ed25519" or
// "ECDSA-P256-SHA256". Failure: as VerifySignature for unreadable or
// unsupported keys.
Result<std::string> PublicKeyAlgorithm(std::string_view public_key_pem);

}  // namespace signals
