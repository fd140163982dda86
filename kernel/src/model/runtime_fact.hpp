// Runtime fact validation (kernel/README.md#runtime-facts): one NDJSON line of a runtime-fact
// batch, checked field by field. camelCase names are canonical; the snake_case
// aliases agents often send (symbol_id, hit_count, ...) are accepted.
//
// FactLineValidator is the hot path of ingest: it parses with simdjson, and
// Check() copies nothing but the line into its padded buffer. One validator
// per ingest; not thread-safe.
#pragma once

#include <simdjson.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_limits.hpp"
#include "base/status.hpp"

namespace signals {

// The factType of a line that passed validation.
struct FactLine {
  std::string fact_type;
};

class FactLineValidator {
 public:
  // Lines nested deeper than `max_depth` (kernel.max_json_depth) fail with
  // rule "max-depth".
  explicit FactLineValidator(size_t max_line_bytes, size_t max_depth = kDefaultMaxJsonDepth);

  // Validates one line (without its '\n'; a trailing '\r' is allowed).
  // `line_number` is 1-based and appears in every error, with the field and
  // the rule: "line 3: field 'hitCount': must be an integer >= 1".
  Result<FactLine> Validate(std::string_view line, size_t line_number);

  // The same checks without a copy (the ingest hot path): on success
  // *fact_type views the line's factType (or the default), valid until the
  // next call on this validator.
  Status Check(std::string_view line, size_t line_number, std::string_view* fact_type);

 private:
  // Purls repeat from line to line (one process, one package): the last few
  // that passed validation are remembered, and an identical string is not
  // parsed again. The answer for a string never changes, so no rule is lost.
  static constexpr size_t kMaxRememberedPurlBytes = 512;
  bool KnownValidPurl(std::string_view purl) const;
  void RememberValidPurl(std::string_view purl);

  static constexpr size_t kInitialCapacity = 4096;
  simdjson::dom::parser parser_;
  size_t max_depth_;
  std::array<std::string, 4> valid_purls_;
  size_t next_purl_slot_ = 0;
  std::string padded_;                           // line copy with simdjson's padding
  std::vector<std::string_view> metadata_keys_;  // reused: metadata's keys, sorted
};

// True for the built-in fact types and names matching
// ^[a-z][a-z0-9]*(\.[a-z0-9_]+)+$.
bool IsValidFactType(std::string_view type);

// True for the five built-in fact types (runtime.symbol.hit, …) only.
bool IsBuiltInFactType(std::string_view type);

// The metrics label value for `type`: the type itself when it is built in,
// else "other". Clients choose factType freely, and every distinct label
// value is a series Prometheus keeps, so only a fixed set may become one.
std::string_view FactTypeMetricLabel(std::string_view type);

constexpr const char* kDefaultFactType = "runtime.symbol.hit";
constexpr size_t kMaxSymbolIdBytes = 1024;

}  // namespace signals
