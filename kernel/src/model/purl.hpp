// Package URL (purl): parsing, normalisation, validation and canonical form.
//
// Implements the grammar of the purl specification
// (pkg:type/namespace/name@version?qualifiers#subpath) and the type-specific
// rules exercised by the purl-spec conformance suite (namespace required or
// prohibited, case folding, pypi '_' -> '-', required qualifiers, ...).
// Every error is a Status::Invalid with rule "purl"; no exception escapes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.hpp"

namespace signals {

struct Purl {
  std::string type;        // lowercase
  std::string namespace_;  // decoded segments joined by '/', may be empty
  std::string name;        // decoded; required
  std::string version;     // decoded, may be empty
  // Sorted by key, keys lowercase, empty values dropped, values decoded.
  std::vector<std::pair<std::string, std::string>> qualifiers;
  std::string subpath;  // decoded segments joined by '/', no '.', '..' or empty segments

  // Value of a qualifier, or nullptr when absent.
  const std::string* Qualifier(std::string_view key) const;

  // Canonical string form per the purl spec. Assumes normalised components
  // (as returned by ParsePurl); use BuildPurl to validate arbitrary components.
  std::string ToString() const;

  friend bool operator==(const Purl&, const Purl&) = default;
};

// Parses `text`, applies the generic and type-specific normalisation and
// validates the result.
Result<Purl> ParsePurl(std::string_view text);

// ParsePurl(text)->ToString().
Result<std::string> CanonicalPurl(std::string_view text);

// Validates and normalises decoded components and returns the canonical string.
Result<std::string> BuildPurl(const Purl& components);

// Status::Invalid(rule "purl", `field`, message saying what is wrong) when
// `text` is not a valid purl; OK otherwise.
Status ValidatePurl(std::string_view text, std::string_view field);

// Percent-encodes `text` for a purl component: ASCII letters, digits, '.', '-',
// '_', '~' and ':' stay as they are, every other byte becomes %XX (uppercase).
std::string PurlPercentEncode(std::string_view text);

namespace purl_detail {
// Applies the rules of purl->type (case folding, required/prohibited
// components, required qualifiers, ...) to generically normalised components.
// Defined in purl_types.cpp.
Status ApplyTypeRules(Purl& purl);
// Builds the Status used for every purl error.
Status Invalid(std::string component, std::string message);
}  // namespace purl_detail

}  // namespace signals
