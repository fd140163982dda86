// Small text utilities of the HTTP transport: percent-decoding of paths and
// query strings, problem+json bodies, Content-Digest parsing. Pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signals::http {

// Percent-decodes `text` ('+' stays '+'; query values use DecodeQueryValue).
// nullopt when an escape is malformed or decodes to NUL.
std::optional<std::string> PercentDecode(std::string_view text);

// Splits "a=1&b=2" into decoded pairs; nullopt on malformed escapes, NUL, or a
// key or value with a "." / ".." component (split at '/' or '\\').
std::optional<std::multimap<std::string, std::string>> ParseQuery(std::string_view query);

// Splits a path into decoded segments ("/a/b%2Fc" → {"a", "b/c"}); nullopt on
// malformed escapes, NUL, or a segment with a "." / ".." component (also
// inside a decoded segment: "..%2Fkeys").
std::optional<std::vector<std::string>> SplitPath(std::string_view path);

// {"type","title","status","code","detail",...} for errors the transport
// itself detects (malformed HTTP, 413, 415, routing). Never throws: bytes of
// `detail` that are not UTF-8 (a header echoed back) become U+FFFD.
std::string ProblemJson(int status, const std::string& code, const std::string& detail,
                        const std::string& field = "");

// "sha-256=:<base64>:" (RFC 9530, possibly among other algorithms) →
// "sha256:<hex>"; nullopt when there is no well-formed sha-256 member.
std::optional<std::string> ParseContentDigest(std::string_view header);

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). Everything a route forwards to the
// kernel travels as a JSON string, and JSON strings are UTF-8.
bool IsValidUtf8(std::string_view text);

// Lower-case copy.
std::string Lower(std::string_view text);

// The media type of a Content-Type value, lower-cased, without parameters.
std::string MediaType(std::string_view content_type);

}  // namespace signals::http
