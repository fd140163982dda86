#include "http_text.hpp"

#include <nlohmann/json.hpp>

namespace signals::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;
    size_t v = kAlphabet.find(c);
    if (v == std::string::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// True when a decoded value has a "." or ".." component once split at '/'
// or '\\' ("..", "../x", "a/..", "..\\x"): a traversal attempt, wherever it is.
bool HasDotComponent(std::string_view text) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    if (part == "." || part == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t length;
    uint32_t code_point;
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
      code_point = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      code_point = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      code_point = c & 0x07;
    } else {
      return false;  // a continuation byte first, 0xc0/0xc1 (overlong) or 0xf5..0xff
    }
    if (static_cast<size_t>(end - p) < length) return false;
    for (size_t i = 1; i < length; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (p[i] & 0x3f);
    }
    if ((length == 3 && code_point < 0x800) || (length == 4 && code_point < 0x10000))
      return false;  // overlong
    if (code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) return false;
    p += length;
  }
  return true;
}

std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return Lower(type);
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::optional<std::multimap<std::string, std::string>> ParseQuery(std::string_view query) {
  std::multimap<std::string, std::string> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string raw_key(pair.substr(0, eq));
      std::string raw_value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      for (char& c : raw_key) c = c == '+' ? ' ' : c;
      for (char& c : raw_value) c = c == '+' ? ' ' : c;
      auto key = PercentDecode(raw_key);
      auto value = PercentDecode(raw_value);
      if (!key || !value) return std::nullopt;
      if (HasDotComponent(*key) || HasDotComponent(*value)) return std::nullopt;
      out.emplace(*key, *value);
    }
    start = end + 1;
  }
  return out;
}

std::optional<std::vector<std::string>> SplitPath(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty() || path.front() != '/') return std::nullopt;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view raw = path.substr(start, end - start);
    auto segment = PercentDecode(raw);
    if (!segment) return std::nullopt;
    // "..", and an encoded "..%2F" inside one segment, are both refused.
    if (HasDotComponent(*segment)) return std::nullopt;
    if (!(end == path.size() && segment->empty())) segments.push_back(*segment);
    start = end + 1;
  }
  return segments;
}

std::string ProblemJson(int status, const std::string& code, const std::string& detail,
                        const std::string& field) {
  nlohmann::json problem = {{"type", "urn:signals:problem:" + code},
                            {"title", code},
                            {"status", status},
                            {"code", code},
                            {"detail", detail}};
  if (!field.empty()) problem["field"] = field;
  return problem.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> ParseContentDigest(std::string_view header) {
  // Dictionary members are separated by ','; each is key=:base64:.
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view member = header.substr(start, end - start);
    while (!member.empty() && member.front() == ' ') member.remove_prefix(1);
    while (!member.empty() && member.back() == ' ') member.remove_suffix(1);
    size_t eq = member.find('=');
    if (eq != std::string_view::npos && Lower(member.substr(0, eq)) == "sha-256") {
      std::string_view value = member.substr(eq + 1);
      if (value.size() < 2 || value.front() != ':' || value.back() != ':') return std::nullopt;
      auto raw = DecodeBase64(value.substr(1, value.size() - 2));
      if (!raw || raw->size() != 32) return std::nullopt;
      static const char* kHex = "0123456789abcdef";
      std::string hex = "sha256:";
      for (unsigned char c : *raw) {
        hex.push_back(kHex[c >> 4]);
        hex.push_back(kHex[c & 15]);
      }
      return hex;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace signals::http
