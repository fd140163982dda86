// object_key.hpp — the rules that make a string a cas-fs object key.
//
// A key becomes a path below the store directory, so these rules are what keeps
// a caller from escaping the store ("../x", "/etc/passwd"), from reading or
// clobbering in-flight temp files (".name.tmp.*"), and from creating names that
// some filesystems or tools treat specially. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace signals::cas_fs {

// A whole key, in bytes.
inline constexpr size_t kMaxKeyBytes = 1024;
// One segment, in bytes. The temp file ".<segment>.tmp.<16 hex>" adds 22 bytes
// and must still fit NAME_MAX (255).
inline constexpr size_t kMaxSegmentBytes = 200;
// Segments per key; the deepest layout in README.md#what-is-stored uses three.
inline constexpr size_t kMaxSegments = 32;

// Returns the rule that `key` breaks, worded for an error message, or nullopt
// when `key` is valid: segments of [A-Za-z0-9._-]+ joined by '/', none empty,
// none starting with '.', no leading or trailing '/', within the limits above.
std::optional<std::string> KeyViolation(std::string_view key);

// Returns the rule that a List() prefix breaks, or nullopt when valid. A
// prefix is "" or the beginning of a valid key: every complete segment (those
// followed by '/') obeys the key rules; the trailing partial segment may be
// empty but otherwise uses the same characters and does not start with '.'.
std::optional<std::string> PrefixViolation(std::string_view prefix);

// True when `name` is a valid key segment. Temp files fail this test.
bool IsValidSegment(std::string_view name);

// True when `name` is the name of a temp file of a write: "." + a valid
// segment + ".tmp." + 16 lowercase hex digits.
bool IsTempName(std::string_view name);

// `text` with control and non-ASCII bytes shown as \xNN, for messages.
std::string Printable(std::string_view text);

}  // namespace signals::cas_fs
