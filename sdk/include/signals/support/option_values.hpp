// signals/support/option_values.hpp — how the text of an option becomes the
// value a plugin receives.
//
// One set of rules for everyone: the kernel normalises every option with
// NormaliseOptionValue before it calls create; the option builder of
// <signals/plugin.hpp> parses defaults and ranges with the same functions at
// compile time; and the fake host (<signals/testing/fake_host.hpp>) builds a
// test config with them, so a test sees exactly what the kernel would pass.
//
// The rules:
//  * durations: digits and a unit, ms, s, m, h or d ("500ms", "30s", "5m");
//    a bare number is seconds ("2" = 2 s). Normalised to milliseconds.
//  * sizes: digits and a unit, B, KiB, MiB, GiB (K, M, G mean the same) or
//    kB, MB, GB (powers of ten); a bare number is bytes. Normalised to bytes.
//    Units are case-insensitive.
//  * integers: decimal int64, optional leading '-'.
//  * booleans: true/false, yes/no, on/off, 1/0 (any case) → "true"/"false".
//  * paths: a relative path resolves against the data directory; the result
//    is absolute and lexically normal.
//  * enums: one of the declared "a|b|c" values (any case) → its declared
//    spelling.
//  * bounds (int, duration, size): inclusive, in the normalised unit, and
//    only when min_value < max_value.
//
// Thread-safety: pure functions. Header-only; needs the C++17 library only.
#ifndef SIGNALS_SUPPORT_OPTION_VALUES_HPP
#define SIGNALS_SUPPORT_OPTION_VALUES_HPP

#include <signals/plugin.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

namespace signals {
namespace support {

// The result of parsing a number with a unit. `error` is static text, or
// nullptr on success.
struct ParsedNumber {
  bool ok = false;
  int64_t value = 0;
  const char* error = nullptr;
};

namespace option_detail {

constexpr char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (Lower(text[i]) != lower[i]) return false;
  }
  return true;
}

// Digits at the start of `text` as a non-negative int64; *digits is how many.
constexpr ParsedNumber LeadingDigits(std::string_view text, size_t* digits) {
  *digits = 0;
  int64_t n = 0;
  while (*digits < text.size() && text[*digits] >= '0' && text[*digits] <= '9') {
    const int d = text[*digits] - '0';
    if (n > (std::numeric_limits<int64_t>::max() - d) / 10) return {false, 0, "is too large"};
    n = n * 10 + d;
    ++*digits;
  }
  if (*digits == 0) return {false, 0, "does not start with a number"};
  return {true, n, nullptr};
}

constexpr ParsedNumber Scale(int64_t n, int64_t factor) {
  if (n > std::numeric_limits<int64_t>::max() / factor) return {false, 0, "is too large"};
  return {true, n * factor, nullptr};
}

}  // namespace option_detail

// "500ms", "30s", "5m", "2h", "7d"; a bare number is seconds. In milliseconds.
constexpr ParsedNumber ParseDurationMs(std::string_view text) {
  size_t digits = 0;
  ParsedNumber n = option_detail::LeadingDigits(text, &digits);
  if (!n.ok) return {false, 0, "is not a duration (e.g. 500ms, 30s, 5m, 2h, 7d)"};
  const std::string_view unit = text.substr(digits);
  int64_t factor = 0;
  if (option_detail::EqualsLower(unit, "ms")) {
    factor = 1;
  } else if (unit.empty() || option_detail::EqualsLower(unit, "s")) {
    factor = 1000;
  } else if (option_detail::EqualsLower(unit, "m")) {
    factor = 60'000;
  } else if (option_detail::EqualsLower(unit, "h")) {
    factor = 3'600'000;
  } else if (option_detail::EqualsLower(unit, "d")) {
    factor = 86'400'000;
  } else {
    return {false, 0, "has an unknown duration unit (use ms, s, m, h or d)"};
  }
  ParsedNumber scaled = option_detail::Scale(n.value, factor);
  if (!scaled.ok) return {false, 0, "is too large a duration"};
  return scaled;
}

// "512", "64KiB", "16MiB", "1GiB", "10MB". In bytes.
constexpr ParsedNumber ParseSizeBytes(std::string_view text) {
  size_t digits = 0;
  ParsedNumber n = option_detail::LeadingDigits(text, &digits);
  if (!n.ok) return {false, 0, "is not a size (e.g. 512, 64KiB, 16MiB, 1GiB)"};
  const std::string_view unit = text.substr(digits);
  int64_t factor = 0;
  if (unit.empty() || option_detail::EqualsLower(unit, "b")) {
    factor = 1;
  } else if (option_detail::EqualsLower(unit, "kib") || option_detail::EqualsLower(unit, "k")) {
    factor = 1024;
  } else if (option_detail::EqualsLower(unit, "mib") || option_detail::EqualsLower(unit, "m")) {
    factor = 1024 * 1024;
  } else if (option_detail::EqualsLower(unit, "gib") || option_detail::EqualsLower(unit, "g")) {
    factor = 1024LL * 1024 * 1024;
  } else if (option_detail::EqualsLower(unit, "kb")) {
    factor = 1000;
  } else if (option_detail::EqualsLower(unit, "mb")) {
    factor = 1000 * 1000;
  } else if (option_detail::EqualsLower(unit, "gb")) {
    factor = 1000LL * 1000 * 1000;
  } else {
    return {false, 0, "has an unknown size unit (use B, KiB, MiB, GiB, kB, MB or GB)"};
  }
  ParsedNumber scaled = option_detail::Scale(n.value, factor);
  if (!scaled.ok) return {false, 0, "is too large a size"};
  return scaled;
}

// A decimal int64 with an optional leading '-'.
constexpr ParsedNumber ParseInteger(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits_text = negative ? text.substr(1) : text;
  size_t digits = 0;
  ParsedNumber n = option_detail::LeadingDigits(digits_text, &digits);
  if (n.ok && digits != digits_text.size()) return {false, 0, "is not an integer"};
  if (!n.ok) return {false, 0, digits == 0 ? "is not an integer" : "is too large an integer"};
  return {true, negative ? -n.value : n.value, nullptr};
}

// 1 for true/yes/on/1, 0 for false/no/off/0 (any case), -1 otherwise.
constexpr int ParseBoolean(std::string_view text) {
  for (std::string_view word : {"true", "yes", "on", "1"}) {
    if (option_detail::EqualsLower(text, word)) return 1;
  }
  for (std::string_view word : {"false", "no", "off", "0"}) {
    if (option_detail::EqualsLower(text, word)) return 0;
  }
  return -1;
}

// The outcome of normalising one option value. On failure `rule` names the
// rule that was broken ("int", "bool", "path", "enum", "duration", "size",
// "bounds", "type") and `message` says why, quoting the text.
struct NormalisedOption {
  bool ok = false;
  std::string value;
  std::string rule;
  std::string message;
};

// The value `option` receives for `raw` (see the file comment), with paths
// resolved against `data_dir`.
inline NormalisedOption NormaliseOptionValue(const signals_option& option, std::string_view raw,
                                             const std::string& data_dir) {
  const std::string quoted = "'" + std::string(raw) + "'";
  auto fail = [&](const char* rule, const std::string& message) {
    return NormalisedOption{false, {}, rule, message};
  };
  auto bounded = [&](const ParsedNumber& n, const char* rule) {
    if (!n.ok) return fail(rule, quoted + " " + n.error);
    if (option.min_value < option.max_value && (n.value < option.min_value || n.value > option.max_value)) {
      return fail("bounds", "value " + quoted + " is outside [" + std::to_string(option.min_value) + ", " +
                                std::to_string(option.max_value) + "]");
    }
    return NormalisedOption{true, std::to_string(n.value), {}, {}};
  };
  switch (option.type) {
    case SIGNALS_OPT_STRING:
      return NormalisedOption{true, std::string(raw), {}, {}};
    case SIGNALS_OPT_INT:
      return bounded(ParseInteger(raw), "int");
    case SIGNALS_OPT_BOOL: {
      const int b = ParseBoolean(raw);
      if (b < 0) return fail("bool", quoted + " is not a boolean (true/false, yes/no, on/off, 1/0)");
      return NormalisedOption{true, b == 1 ? "true" : "false", {}, {}};
    }
    case SIGNALS_OPT_PATH: {
      if (raw.empty()) return fail("path", "path is empty");
      if (raw.find('\0') != std::string_view::npos) return fail("path", "path contains a NUL byte");
      std::filesystem::path p{std::string(raw)};
      if (p.is_relative()) p = std::filesystem::path(data_dir) / p;
      return NormalisedOption{true, p.lexically_normal().string(), {}, {}};
    }
    case SIGNALS_OPT_ENUM: {
      const std::string_view allowed = option.enum_values != nullptr ? option.enum_values : "";
      size_t start = 0;
      while (start <= allowed.size()) {
        size_t bar = allowed.find('|', start);
        if (bar == std::string_view::npos) bar = allowed.size();
        const std::string_view item = allowed.substr(start, bar - start);
        if (item.size() == raw.size()) {
          bool same = true;
          for (size_t i = 0; i < item.size(); ++i) {
            same = same && option_detail::Lower(item[i]) == option_detail::Lower(raw[i]);
          }
          if (same) return NormalisedOption{true, std::string(item), {}, {}};
        }
        start = bar + 1;
      }
      return fail("enum", quoted + " is not one of " + std::string(allowed));
    }
    case SIGNALS_OPT_DURATION:
      return bounded(ParseDurationMs(raw), "duration");
    case SIGNALS_OPT_SIZE:
      return bounded(ParseSizeBytes(raw), "size");
  }
  return fail("type", "option has an unknown type");
}

}  // namespace support
}  // namespace signals

#endif  // SIGNALS_SUPPORT_OPTION_VALUES_HPP
