// RFC 8785 canonical JSON. See canonical_json.hpp.
#include "base/canonical_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "base/json_limits.hpp"

namespace signals {
namespace {

// Decodes one UTF-8 scalar value starting at s[i] and advances i. Throws on
// malformed input: overlong forms, surrogates, values above U+10FFFF, and
// truncated sequences would all let two different byte strings mean the same
// text, which a canonical form cannot allow.
[[noreturn]] void ThrowInvalidUtf8(size_t at) {
  throw std::invalid_argument("invalid UTF-8 at byte " + std::to_string(at));
}

char32_t DecodeUtf8(std::string_view s, size_t& i) {
  auto fail = [&] { ThrowInvalidUtf8(i); };
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int extra;
  char32_t cp;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3, cp = b0 & 0x07, min = 0x10000;
  } else {
    ThrowInvalidUtf8(i);
  }
  if (i + extra >= s.size()) fail();
  for (int k = 1; k <= extra; ++k) {
    uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) fail();
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail();
  i += extra + 1;
  return cp;
}

// Thrown when a value is nested deeper than AppendValue's limit.
struct TooDeep {
  size_t limit;
};

// Recursion bounded by `max_depth`: values from outside are depth-checked
// before they are parsed (json_limits.hpp); this guard keeps any other caller
// from walking arbitrarily deep data on a thread's stack.
void AppendValue(const nlohmann::json& v, std::string& out, size_t depth, size_t max_depth) {
  using Type = nlohmann::json::value_t;
  if ((v.is_array() || v.is_object()) && depth + 1 > max_depth) throw TooDeep{max_depth};
  switch (v.type()) {
    case Type::null:
      out += "null";
      return;
    case Type::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Type::number_integer:
      out += std::to_string(v.get<int64_t>());
      return;
    case Type::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return;
    case Type::number_float:
      out += EcmaScriptNumber(v.get<double>());
      return;
    case Type::string:
      AppendJcsString(v.get_ref<const std::string&>(), out);
      return;
    case Type::array: {
      out += '[';
      bool first = true;
      for (const auto& element : v) {
        if (!first) out += ',';
        first = false;
        AppendValue(element, out, depth + 1, max_depth);
      }
      out += ']';
      return;
    }
    case Type::object: {
      std::vector<nlohmann::json::const_iterator> members;
      members.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) members.push_back(it);
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return JcsNameLess(a.key(), b.key()); });
      out += '{';
      bool first = true;
      for (const auto& it : members) {
        if (!first) out += ',';
        first = false;
        AppendJcsString(it.key(), out);
        out += ':';
        AppendValue(it.value(), out, depth + 1, max_depth);
      }
      out += '}';
      return;
    }
    case Type::binary:
      throw std::invalid_argument("binary values have no JSON form");
    case Type::discarded:
      throw std::invalid_argument("discarded value cannot be serialised");
  }
  throw std::invalid_argument("unknown JSON value type");
}

}  // namespace

namespace {

// True when one of the 8 bytes of `w` is below 0x20, '"', '\\' or non-ASCII:
// a byte AppendJcsString cannot copy without looking at it. (Bit tricks from
// "Bit Twiddling Hacks": a byte is zero after xor with its value.)
bool NeedsAttention(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return ((w & kHigh) | below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

}  // namespace

void AppendJcsString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size();) {
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!NeedsAttention(w)) {
        i += 8;
        continue;
      }
    }
    const auto b = static_cast<uint8_t>(s[i]);
    if (b >= 0x80) {
      DecodeUtf8(s, i);  // validates; multi-byte text is copied verbatim
      continue;
    }
    if (b >= 0x20 && b != '"' && b != '\\') {
      ++i;
      continue;
    }
    out.append(s, run, i - run);
    switch (b) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[b >> 4];
        out += kHex[b & 0xF];
    }
    run = ++i;
  }
  out.append(s, run, s.size() - run);
  out += '"';
}

bool JcsNameLess(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<uint8_t>(a[i]);
    const auto y = static_cast<uint8_t>(b[i]);
    if (x == y) continue;
    // UTF-8 byte order is code point order. UTF-16 differs in one place: a
    // character above U+FFFF (lead byte F0..F4) is a surrogate pair, which
    // sorts before U+E000..U+FFFF (lead byte EE or EF).
    const bool x_high = x == 0xEE || x == 0xEF;
    const bool y_high = y == 0xEE || y == 0xEF;
    if (x_high && y >= 0xF0) return false;
    if (y_high && x >= 0xF0) return true;
    return x < y;
  }
  return a.size() < b.size();
}

std::string EcmaScriptNumber(double value) {
  if (std::isnan(value)) throw std::invalid_argument("NaN is not allowed in canonical JSON");
  if (std::isinf(value)) throw std::invalid_argument("Infinity is not allowed in canonical JSON");
  if (value == 0) return "0";  // covers -0, which ECMAScript prints as "0"
  std::string out;
  if (value < 0) {
    out += '-';
    value = -value;
  }
  // Shortest round-trip digits in scientific form "d[.ddd]e±XX"; std::to_chars
  // picks the candidate closest to the value, as ECMAScript requires.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) throw std::invalid_argument("cannot format double");
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);

  // ECMAScript terms: value = digits × 10^(n − k), k = number of digits.
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out += '.';
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += (n - 1 < 0) ? '-' : '+';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string CanonicalJson(const nlohmann::json& value) {
  std::string out;
  try {
    AppendValue(value, out, 0, kMaxJsonDepthLimit);
  } catch (const TooDeep& e) {
    throw std::invalid_argument(JsonDepthMessage(e.limit));
  }
  return out;
}

Result<std::string> TryCanonicalJson(const nlohmann::json& value, size_t max_depth) {
  try {
    std::string out;
    AppendValue(value, out, 0, max_depth);
    return out;
  } catch (const TooDeep& e) {
    return Status::Invalid("max-depth", "", JsonDepthMessage(e.limit));
  } catch (const std::invalid_argument& e) {
    return Status::Invalid("canonical-json", "", std::string("cannot canonicalise JSON: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("canonical JSON failed: ") + e.what());
  }
}

Status CheckCanonicalText(const std::string& key, const std::string& text, const nlohmann::json& parsed) {
  auto canonical = TryCanonicalJson(parsed);
  if (!canonical.ok() || *canonical != text)
    return Status::Invalid("integrity", key, key + " is not the canonical JSON that was stored");
  return Status::Ok();
}

}  // namespace signals
