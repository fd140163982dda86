// object_key.cpp — cas-fs key and prefix validation. Pure functions; thread-safe.
#include "object_key.hpp"

#include <cstdio>

namespace signals::cas_fs {
namespace {

bool IsSegmentChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

std::string ShowChar(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buffer;
}

// The rule a complete segment breaks, or nullopt.
std::optional<std::string> SegmentViolation(std::string_view segment) {
  if (segment.empty()) return std::string("empty segment (\"//\") is not allowed");
  if (segment == "." || segment == "..") {
    return "segment '" + std::string(segment) + "' is not allowed (no '.' or '..' path segments)";
  }
  if (segment.size() > kMaxSegmentBytes) {
    return "segment is longer than " + std::to_string(kMaxSegmentBytes) + " bytes";
  }
  for (char c : segment) {
    if (!IsSegmentChar(c)) {
      return "segment '" + Printable(segment) + "' contains " + ShowChar(c) +
             "; segments use only [A-Za-z0-9._-]";
    }
  }
  if (segment.front() == '.') {
    return "segment '" + std::string(segment) + "' starts with '.' (reserved for temp and hidden files)";
  }
  return std::nullopt;
}

}  // namespace

bool IsValidSegment(std::string_view name) { return !SegmentViolation(name).has_value(); }

bool IsTempName(std::string_view name) {
  constexpr std::string_view kInfix = ".tmp.";
  constexpr size_t kHexDigits = 16;
  if (name.size() < 1 + 1 + kInfix.size() + kHexDigits || name.front() != '.') return false;
  const std::string_view hex = name.substr(name.size() - kHexDigits);
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  const std::string_view rest = name.substr(1, name.size() - 1 - kHexDigits);
  if (rest.size() <= kInfix.size() || rest.substr(rest.size() - kInfix.size()) != kInfix) return false;
  return IsValidSegment(rest.substr(0, rest.size() - kInfix.size()));
}

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      out += ShowChar(c);
    }
  }
  return out;
}

std::optional<std::string> KeyViolation(std::string_view key) {
  if (key.empty()) return std::string("key is empty");
  if (key.size() > kMaxKeyBytes) {
    return "key is longer than " + std::to_string(kMaxKeyBytes) + " bytes";
  }
  if (key.front() == '/') return std::string("key must be relative (no leading '/')");
  if (key.back() == '/') return std::string("key must not end with '/'");
  size_t segments = 0;
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    std::string_view segment =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (auto why = SegmentViolation(segment)) return why;
    if (++segments > kMaxSegments) {
      return "key has more than " + std::to_string(kMaxSegments) + " segments";
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::nullopt;
}

std::optional<std::string> PrefixViolation(std::string_view prefix) {
  if (prefix.empty()) return std::nullopt;
  if (prefix.size() > kMaxKeyBytes) {
    return "prefix is longer than " + std::to_string(kMaxKeyBytes) + " bytes";
  }
  if (prefix.front() == '/') return std::string("prefix must be relative (no leading '/')");
  size_t last_slash = prefix.rfind('/');
  if (last_slash != std::string_view::npos) {
    // Everything up to the last '/' is a directory path and obeys the key rules.
    if (auto why = KeyViolation(prefix.substr(0, last_slash))) return why;
  }
  std::string_view partial = last_slash == std::string_view::npos ? prefix : prefix.substr(last_slash + 1);
  for (char c : partial) {
    if (!IsSegmentChar(c)) {
      return "prefix contains " + ShowChar(c) + "; segments use only [A-Za-z0-9._-]";
    }
  }
  if (!partial.empty() && partial.front() == '.') {
    return std::string("prefix segment starts with '.' (reserved for temp and hidden files)");
  }
  return std::nullopt;
}

}  // namespace signals::cas_fs
