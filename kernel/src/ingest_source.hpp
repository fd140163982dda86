// The `source` of an ingest: who produced the data (a scanner, an agent,
// "signalsctl"). Recorded in provenance records and manifests, so it is text
// for people: 1 to 256 bytes, no control characters. Pure; thread-safe.
#pragma once

#include <string_view>

#include "status.hpp"

namespace signals {

// Status::Invalid rule "source", field "source", when `source` is empty,
// longer than 256 bytes or contains a control character.
inline Status ValidateIngestSource(std::string_view source) {
  if (source.empty() || source.size() > 256) {
    return Status::Invalid("source", "source", "source must be 1 to 256 characters");
  }
  for (unsigned char c : source) {
    if (c < 0x20 || c == 0x7f) return Status::Invalid("source", "source", "source contains a control character");
  }
  return Status::Ok();
}

}  // namespace signals
