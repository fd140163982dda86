// RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON
// value that Signals hashes and signs (manifests, DSSE payloads, canonical
// callgraph lines; kernel/README.md#contracts).
//
// Called by anything that signs, hashes or compares JSON. Pure functions,
// thread-safe.
//
// Deliberate choices where nlohmann's data model is wider than JCS's:
//  * integers held as int64/uint64 are printed exactly, even beyond ±2^53
//    (JCS would print them through an IEEE double and lose digits; Signals never
//    signs such values, and exact output keeps counters honest);
//  * binary values and discarded values are rejected, like NaN and Infinity;
//  * strings must be valid UTF-8 (lone surrogates are rejected).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.hpp"

namespace signals {

// Returns the JCS serialisation of `value`: no whitespace, object members
// ordered by the UTF-16 code units of their names, strings escaped as JCS
// prescribes, doubles formatted like ECMAScript Number.prototype.toString.
// Throws std::invalid_argument for NaN, ±Infinity, binary or discarded values
// and invalid UTF-8. Module-internal callers use it; code at a module boundary
// must call TryCanonicalJson instead.
std::string CanonicalJson(const nlohmann::json& value);

// As CanonicalJson, but never throws. Failure: Status::Invalid rule
// "canonical-json" naming the offending value, or rule "max-depth" for a
// value nested deeper than `max_depth` (the outermost value is depth 1).
// CanonicalJson itself refuses (throws) beyond kMaxJsonDepthLimit.
Result<std::string> TryCanonicalJson(const nlohmann::json& value, size_t max_depth = 1000);

// Appends `utf8` as a JCS string literal (quotes and minimal escapes) to
// `out`. Throws std::invalid_argument when `utf8` is not valid UTF-8.
void AppendJcsString(std::string_view utf8, std::string& out);

// True when member name `a` sorts before `b` in JCS order (by UTF-16 code
// units), both given as valid UTF-8.
bool JcsNameLess(std::string_view a, std::string_view b);

// Formats a finite double as ECMAScript Number.prototype.toString does
// (shortest round-trip digits; -0 prints "0"). Throws std::invalid_argument
// for NaN and ±Infinity.
std::string EcmaScriptNumber(double value);

// Invalid (rule "integrity", field `key`) unless `text` is exactly the
// canonical JSON of `parsed`: every stored JSON record is written canonical,
// so a stored record that is not was altered (verifiers, fsck, tombstones).
Status CheckCanonicalText(const std::string& key, const std::string& text, const nlohmann::json& parsed);

}  // namespace signals
