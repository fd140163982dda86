// DSSE (Dead Simple Signing Envelope) v1: the envelope Signals wraps its
// in-toto attestations in (kernel/README.md#attestations), and the PAE byte string that is
// actually signed.
//
// Called by the attestation builder (serialise + sign PAE) and by anything that
// reads envelopes back (parse + verify PAE). Pure functions, thread-safe.
// Signing and verification themselves live elsewhere (signature_verify.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"

namespace signals {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

struct DsseSignature {
  std::string keyid;  // may be empty: DSSE makes it optional
  std::string sig;    // raw signature bytes (not base64)
};

struct DsseEnvelope {
  std::string payload_type;
  std::string payload;  // decoded payload bytes (not base64)
  std::vector<DsseSignature> signatures;
};

// Returns the Pre-Authentication Encoding that DSSE signatures cover:
// "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths being byte
// counts in ASCII decimal.
std::string DssePae(std::string_view payload_type, std::string_view payload);

// Parses a JSON envelope {payloadType, payload, signatures[{keyid, sig}]}.
// payload and sig may use standard or URL-safe base64, padded or not; the
// result holds decoded bytes. Unknown members are ignored.
// Failure: Status::Invalid rule "dsse" with the field at fault ("payloadType",
// "payload", "signatures", "signatures[0].sig", ...) when the text is not a
// JSON object, payloadType is missing/empty/not a string, payload is missing or
// not base64, signatures is missing/empty/not an array, an entry is not an
// object, keyid is present but not a string, or sig is missing/empty/not
// base64. Signatures are not verified here.
Result<DsseEnvelope> ParseDsseEnvelope(std::string_view json);

// Returns the envelope as RFC 8785 canonical JSON, with payload and sig in
// standard padded base64: {"payload":…,"payloadType":…,"signatures":[{"keyid":…,"sig":…}]}.
// REQUIRES: payload_type and every keyid are valid UTF-8. (If not, invalid
// sequences are written as U+FFFD rather than throwing; the signature over
// the PAE will then not verify, which exposes the caller's bug.)
std::string SerializeDsseEnvelope(const DsseEnvelope& envelope);

}  // namespace signals
