// Offline verification of detached signatures against a PEM public key, with
// OpenSSL 3 EVP. The key decides the algorithm, so callers need not know it:
//   * Ed25519: signature is the raw 64 bytes, over the message itself;
//   * ECDSA P-256: signature is DER, over SHA-256 of the message.
// These are the two signature forms of DESIGN.md §4.3 / §4.5.
//
// Called when checking DSSE envelopes, manifests and log entries. Holds no
// state; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "status.hpp"

namespace signals {

// Returns Ok when `signature` is a valid signature of `message` under the
// SubjectPublicKeyInfo PEM key `public_key_pem` ("-----BEGIN PUBLIC KEY-----").
// Failure: Status::Invalid rule "signature" (field "signature" or
// "publicKey") with message "not a PEM public key", "unsupported key type X"
// (X as OpenSSL names it, e.g. RSA, or the curve name for other EC curves) or
// "signature does not verify". Status::Internal if OpenSSL cannot allocate.
Status VerifySignature(std::string_view public_key_pem, std::string_view message, std::string_view signature);

// Returns the signature algorithm implied by the key: "Ed25519" or
// "ECDSA-P256-SHA256". Failure: as VerifySignature for unreadable or
// unsupported keys.
Result<std::string> PublicKeyAlgorithm(std::string_view public_key_pem);

}  // namespace signals
