// purl.hpp — Package URLs for what source-procfs reports, built the way the
// purl specification's canonical form and its conformance suite
// (tests/data/purl) build them: pkg:type/namespace/name@version?qualifiers.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace signals::procfs {

// Percent-encodes one purl component: ASCII letters, digits, '.', '-', '_',
// '~' and ':' stay, every other byte becomes %XX (uppercase hex). The suite's
// "build" cases keep a Debian epoch's ':' ("1:2.4.47-2%2Bb1") and encode '+'.
std::string PurlEncode(std::string_view text);

// The canonical string of decoded components. `namespace_` segments are
// separated by '/' (each encoded); qualifiers are sorted by key, keys
// lowercased, empty values left out. The type is lowercased; for "deb" the
// name and namespace are lowercased too, as that type's rules say ("generic"
// keeps them as given).
std::string BuildPurl(std::string_view type, std::string_view namespace_, std::string_view name,
                      std::string_view version, const std::map<std::string, std::string>& qualifiers);

// pkg:deb/<vendor>/<name>@<version>?arch=<arch> for an installed Debian
// package (`vendor` is "debian" on Debian, "ubuntu" on Ubuntu).
std::string DebPurl(std::string_view vendor, std::string_view name, std::string_view version,
                    std::string_view arch);

}  // namespace signals::procfs
