// The Rekor v1 REST shapes a dsse 0.0.1 submission involves: the proposed
// entry the client sends, the {"<uuid>": {entry}} object the log answers
// with (turned into one flat entry with a "uuid" member, the form the kernel
// stores), and the entry uuid a 409 Conflict points at.
#pragma once

#include <optional>
#include <string>

namespace signals::rekor {

// {"apiVersion":"0.0.1","kind":"dsse","spec":{"proposedContent":{"envelope":
// "<the envelope JSON as a string>","verifiers":["<base64 of the PEM>"]}}}
std::string ProposedDsseEntry(const std::string& envelope_json, const std::string& public_key_pem);

// The log's answer {"<uuid>": {body, integratedTime, logID, logIndex,
// verification}} as {"uuid": "<uuid>", ...the entry's members}. Throws
// std::runtime_error naming what is missing or malformed.
std::string FlattenLogEntry(const std::string& response_body);

// The uuid of the existing entry a 409 names: the last path segment of the
// Location header (/api/v1/log/entries/<uuid>), else the hex id in the
// error message. nullopt when neither names one.
std::optional<std::string> ConflictingUuid(const std::string& location, const std::string& body);

// A short reason for a refusal, from Rekor's error body {"code","message"}
// (or the first 300 bytes of whatever it sent).
std::string RefusalReason(long status, const std::string& body);

}  // namespace signals::rekor
