// purl.cpp — see purl.hpp.
#include "purl.hpp"

#include <cctype>

namespace signals::procfs {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string EncodeSegments(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view segment = text.substr(start, end - start);
    if (!segment.empty()) {
      if (!out.empty()) out += '/';
      out += PurlEncode(segment);
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string PurlEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == ':') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string BuildPurl(std::string_view type, std::string_view namespace_, std::string_view name,
                      std::string_view version, const std::map<std::string, std::string>& qualifiers) {
  const std::string t = Lower(type);
  const bool fold = t == "deb";
  std::string out = "pkg:" + t + "/";
  const std::string ns = fold ? Lower(namespace_) : std::string(namespace_);
  if (!ns.empty()) out += EncodeSegments(ns) + "/";
  out += PurlEncode(fold ? Lower(name) : std::string(name));
  if (!version.empty()) out += "@" + PurlEncode(version);
  std::map<std::string, std::string> sorted;
  for (const auto& [key, value] : qualifiers) {
    if (!value.empty()) sorted[Lower(key)] = value;
  }
  char separator = '?';
  for (const auto& [key, value] : sorted) {
    out += separator;
    out += key + "=" + PurlEncode(value);
    separator = '&';
  }
  return out;
}

std::string DebPurl(std::string_view vendor, std::string_view name, std::string_view version,
                    std::string_view arch) {
  return BuildPurl("deb", vendor, name, version, {{"arch", std::string(arch)}});
}

}  // namespace signals::procfs
