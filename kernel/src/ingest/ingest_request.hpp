// Checks shared by the ingest requests of runtime facts and callgraphs (the
// host service API's request JSON and the fields every ingest records).
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace signals {

// The `source` of an ingest says who produced the data (a scanner, an agent,
// "signalsctl"). It is recorded in provenance records and manifests, so it is
// text for people: 1 to 256 bytes, no control characters.
// Status::Invalid rule "source", field "source", when `source` is empty,
// longer than 256 bytes or contains a control character.
inline Status ValidateIngestSource(std::string_view source) {
  if (source.empty() || source.size() > 256) {
    return Status::Invalid("source", "source", "source must be 1 to 256 characters");
  }
  for (unsigned char c : source) {
    if (c < 0x20 || c == 0x7f)
      return Status::Invalid("source", "source", "source contains a control character");
  }
  return Status::Ok();
}

// Copies the string member `name` of a request object into *out; leaves *out
// as it is when the member is absent or null. Status::Invalid rule "type"
// (field `name`) when it is not a string.
inline Status ReadRequestString(const nlohmann::json& request, const char* name, std::string* out) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Status::Invalid("type", name, std::string(name) + " must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

}  // namespace signals
