// Package URL grammar: parsing, generic normalisation and canonical form.
// Type-specific rules live in purl_types.cpp.
#include "model/purl.hpp"

#include <algorithm>
#include <exception>
#include <set>

namespace signals {
namespace {

using purl_detail::Invalid;

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; '+' is a literal plus (purl is not form-encoded).
Result<std::string> PercentDecode(std::string_view s, const char* component) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Invalid(component,
                     std::string("invalid percent-encoding in ") + component + " '" + std::string(s) + "'");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string Join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

Status ValidateType(std::string_view type) {
  if (type.empty()) return Invalid("type", "type is required");
  if (!IsAsciiLetter(type[0])) {
    return Invalid("type", "type '" + std::string(type) + "' must start with an ASCII letter");
  }
  for (char c : type) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '.' && c != '+' && c != '-') {
      return Invalid("type", "type '" + std::string(type) +
                                 "' may only contain ASCII letters, digits, '.', '+' and '-'");
    }
  }
  return Status::Ok();
}

// Qualifier keys: ASCII letters, digits, '.', '-' and '_', starting with a
// lowercase letter; the canonical form is lowercase. (The conformance suite
// accepts "repositorY_url" but rejects "Platform" and "Arch": a key that starts
// with an uppercase letter is treated as invalid, later uppercase is folded.)
Result<std::string> NormalizeQualifierKey(std::string_view key) {
  if (key.empty()) return Invalid("qualifiers", "qualifier key must not be empty");
  if (!(key[0] >= 'a' && key[0] <= 'z')) {
    return Invalid("qualifiers",
                   "qualifier key '" + std::string(key) + "' must start with a lowercase ASCII letter");
  }
  for (char c : key) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '.' && c != '-' && c != '_') {
      return Invalid("qualifiers", "qualifier key '" + std::string(key) +
                                       "' may only contain ASCII letters, digits, '.', '-' and '_'");
    }
  }
  return LowerAscii(key);
}

// Drops empty, '.' and '..' segments of decoded subpath segments.
Result<std::string> NormalizeSubpathSegments(const std::vector<std::string>& segments) {
  std::vector<std::string> kept;
  for (const std::string& seg : segments) {
    if (seg.empty() || seg == "." || seg == "..") continue;
    if (seg.find('/') != std::string::npos) {
      return Invalid("subpath", "subpath segment '" + seg + "' must not contain '/'");
    }
    kept.push_back(seg);
  }
  return Join(kept, '/');
}

std::string NormalizeNamespace(std::string_view ns) {
  std::vector<std::string> kept;
  for (std::string_view seg : Split(ns, '/')) {
    if (!seg.empty()) kept.emplace_back(seg);
  }
  return Join(kept, '/');
}

// Generic normalisation and validation shared by ParsePurl and BuildPurl, then
// the type rules. Components are decoded.
Status Normalize(Purl& p) {
  SIGNALS_RETURN_IF_ERROR(ValidateType(p.type));
  p.type = LowerAscii(p.type);
  p.namespace_ = NormalizeNamespace(p.namespace_);
  if (p.name.empty()) return Invalid("name", "name is required");

  std::vector<std::pair<std::string, std::string>> qualifiers;
  std::set<std::string> seen;
  for (const auto& [raw_key, value] : p.qualifiers) {
    Result<std::string> key = NormalizeQualifierKey(raw_key);
    if (!key.ok()) return key.status();
    if (!seen.insert(*key).second) {
      return Invalid("qualifiers", "qualifier key '" + *key + "' appears more than once");
    }
    if (value.empty()) continue;
    qualifiers.emplace_back(*key, value);
  }
  std::sort(qualifiers.begin(), qualifiers.end());
  p.qualifiers = std::move(qualifiers);

  std::vector<std::string> segments;
  for (std::string_view seg : Split(p.subpath, '/')) segments.emplace_back(seg);
  Result<std::string> subpath = NormalizeSubpathSegments(segments);
  if (!subpath.ok()) return subpath.status();
  p.subpath = std::move(*subpath);

  return purl_detail::ApplyTypeRules(p);
}

Result<Purl> ParseUnchecked(std::string_view text) {
  Purl p;
  std::string_view rest = text;

  // Subpath: right of the first '#'.
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
    std::vector<std::string> segments;
    for (std::string_view seg : Split(rest.substr(hash + 1), '/')) {
      Result<std::string> decoded = PercentDecode(seg, "subpath");
      if (!decoded.ok()) return decoded.status();
      segments.push_back(std::move(*decoded));
    }
    Result<std::string> subpath = NormalizeSubpathSegments(segments);
    if (!subpath.ok()) return subpath.status();
    p.subpath = std::move(*subpath);
    rest = rest.substr(0, hash);
  }

  // Qualifiers: right of the first '?'.
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    for (std::string_view pair : Split(rest.substr(q + 1), '&')) {
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        return Invalid("qualifiers", "qualifier '" + std::string(pair) + "' is not of the form key=value");
      }
      Result<std::string> value = PercentDecode(pair.substr(eq + 1), "qualifiers");
      if (!value.ok()) return value.status();
      p.qualifiers.emplace_back(std::string(pair.substr(0, eq)), std::move(*value));
    }
    rest = rest.substr(0, q);
  }

  // Scheme.
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || LowerAscii(rest.substr(0, colon)) != "pkg") {
    return Invalid("scheme", "a purl must start with the scheme 'pkg:'");
  }
  rest = rest.substr(colon + 1);
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);

  // Type.
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return Invalid("type", "a purl needs a type and a name separated by '/' (pkg:type/name)");
  }
  p.type = std::string(rest.substr(0, slash));
  SIGNALS_RETURN_IF_ERROR(ValidateType(p.type));
  rest = rest.substr(slash + 1);

  // Version: right of the last '@' that follows the last '/', so that an
  // unencoded npm scope ("@babel/core") is not mistaken for a version.
  size_t last_slash = rest.rfind('/');
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos && (last_slash == std::string_view::npos || at > last_slash)) {
    Result<std::string> version = PercentDecode(rest.substr(at + 1), "version");
    if (!version.ok()) return version.status();
    p.version = std::move(*version);
    rest = rest.substr(0, at);
  }

  // Name and namespace.
  last_slash = rest.rfind('/');
  std::string_view raw_name = last_slash == std::string_view::npos ? rest : rest.substr(last_slash + 1);
  Result<std::string> name = PercentDecode(raw_name, "name");
  if (!name.ok()) return name.status();
  p.name = std::move(*name);
  if (last_slash != std::string_view::npos) {
    std::vector<std::string> segments;
    for (std::string_view seg : Split(rest.substr(0, last_slash), '/')) {
      if (seg.empty()) continue;
      Result<std::string> decoded = PercentDecode(seg, "namespace");
      if (!decoded.ok()) return decoded.status();
      if (decoded->find('/') != std::string::npos) {
        return Invalid("namespace", "namespace segment '" + *decoded + "' must not contain '/'");
      }
      segments.push_back(std::move(*decoded));
    }
    p.namespace_ = Join(segments, '/');
  }
  if (p.name.empty()) return Invalid("name", "name is required");

  SIGNALS_RETURN_IF_ERROR(Normalize(p));
  return p;
}

std::string EncodeSegments(std::string_view s) {
  std::string out;
  bool first = true;
  for (std::string_view seg : Split(s, '/')) {
    if (!first) out += '/';
    first = false;
    out += PurlPercentEncode(seg);
  }
  return out;
}

}  // namespace

namespace purl_detail {
Status Invalid(std::string component, std::string message) {
  return Status::Invalid("purl", "purl." + component, std::move(message));
}
}  // namespace purl_detail

std::string PurlPercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (IsAsciiLetter(c) || IsAsciiDigit(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == ':') {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0x0F];
    }
  }
  return out;
}

const std::string* Purl::Qualifier(std::string_view key) const {
  for (const auto& [k, v] : qualifiers) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Purl::ToString() const {
  std::string out = "pkg:" + type + "/";
  if (!namespace_.empty()) out += EncodeSegments(namespace_) + "/";
  // A git name may span several path segments (host/owner/repo).
  out += type == "git" ? EncodeSegments(name) : PurlPercentEncode(name);
  if (!version.empty()) {
    out += '@';
    out += PurlPercentEncode(version);
  }
  auto sorted = qualifiers;
  std::sort(sorted.begin(), sorted.end());
  bool first = true;
  for (const auto& [key, value] : sorted) {
    if (value.empty()) continue;
    out += first ? '?' : '&';
    first = false;
    out += key;
    out += '=';
    out += PurlPercentEncode(value);
  }
  if (!subpath.empty()) {
    out += '#';
    out += EncodeSegments(subpath);
  }
  return out;
}

Result<Purl> ParsePurl(std::string_view text) {
  try {
    return ParseUnchecked(text);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("purl parsing failed: ") + e.what());
  }
}

Result<std::string> CanonicalPurl(std::string_view text) {
  Result<Purl> purl = ParsePurl(text);
  if (!purl.ok()) return purl.status();
  try {
    return purl->ToString();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("purl formatting failed: ") + e.what());
  }
}

Result<std::string> BuildPurl(const Purl& components) {
  try {
    Purl p = components;
    SIGNALS_RETURN_IF_ERROR(Normalize(p));
    return p.ToString();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("purl building failed: ") + e.what());
  }
}

Status ValidatePurl(std::string_view text, std::string_view field) {
  Result<Purl> purl = ParsePurl(text);
  if (purl.ok()) return Status::Ok();
  const Status& s = purl.status();
  if (s.code() != Code::kInvalid) return s.WithField(std::string(field));
  std::string shown(text.substr(0, 200));
  if (text.size() > 200) shown += "...";
  return Status::Invalid("purl", std::string(field),
                         "'" + shown + "' is not a valid package URL: " + s.message());
}

}  // namespace signals
