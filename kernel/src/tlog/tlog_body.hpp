// What a Rekor v1 entry's body says it logged, compared with the signed
// content a verifier holds. A log entry vouches only for the body; these
// checks tie the body to the envelope or message signature at hand:
//   * dsse 0.0.1: spec.payloadHash = SHA-256 of the decoded payload, and
//     spec.signatures[].signature = the envelope's signatures (base64);
//   * intoto 0.0.2: spec.content.payloadHash likewise, and
//     spec.content.envelope.signatures[].sig = base64 of the envelope's
//     base64 signature string (Rekor encodes it twice);
//   * hashedrekord 0.0.1: spec.data.hash = the message digest (hex), and
//     spec.signature.content = the signature (base64).
// Signatures are compared as decoded bytes, so base64 variants do not matter.
//
// Pure functions, thread-safe.
#pragma once

#include <string_view>

#include "attest/dsse.hpp"
#include "base/status.hpp"
#include "tlog/tlog_entry.hpp"

namespace signals {

// OK when `entry`'s body is a dsse 0.0.1 or intoto 0.0.2 entry for `envelope`
// (and agrees with the entry's kindVersion, when it has one).
// Failure: Status::Invalid rule "tlog-body", field "body", message starting
// "log entry body: " and naming the member that differs, with both values.
Status VerifyTlogBodyForEnvelope(const TlogEntry& entry, const DsseEnvelope& envelope);

// OK when `entry`'s body is a hashedrekord 0.0.1 entry for the message whose
// SHA-256 is `digest` (32 raw bytes) signed with `signature` (raw bytes).
// Failure: as VerifyTlogBodyForEnvelope.
Status VerifyTlogBodyForMessageSignature(const TlogEntry& entry, std::string_view digest,
                                         std::string_view signature);

}  // namespace signals
