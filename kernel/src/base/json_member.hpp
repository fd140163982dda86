// Reading members of JSON documents that come from outside (bundles, log
// entries) without exceptions: a missing member, or one of the wrong type,
// reads as null / "" (nlohmann's value() would throw), and the check that
// needs it then fails with the member's name.
// Pure functions, thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace signals {

// parent[name] when parent is an object that has it, else a null value.
inline const nlohmann::json& JsonChild(const nlohmann::json& parent, const char* name) {
  static const nlohmann::json kNull;
  if (!parent.is_object()) return kNull;
  auto it = parent.find(name);
  return it == parent.end() ? kNull : *it;
}

// parent[name] when it is a string, else "".
inline std::string JsonText(const nlohmann::json& parent, const char* name) {
  const auto& v = JsonChild(parent, name);
  return v.is_string() ? v.get<std::string>() : "";
}

}  // namespace signals
