// Drift between a base and a head callgraph of the same component (README.md#reachability-drift-and-vex).
//
// Sinks: a list of specs, each an exact id (matched against node ids and
// symbol ids) or "re:<ECMAScript regex>" (must match a whole node id or symbol
// id), with a category ("" when none). In text form one spec a line:
// `id` or `re:<regex>`, optionally followed by TAB and the category; blank
// lines and lines starting with '#' are ignored.
//
// A sink instance is (spec, node id). It is reachable in a graph when that
// node exists there and is reachable from an entrypoint. newlyReachable:
// reachable in head and not in base; newlyUnreachable: the reverse. Each item
// is {sink (node id), symbol, category, match (the spec), path (in the graph
// where it is reachable)}, sorted by (sink, match, category). resultDigest =
// "sha256:" + hex SHA-256 of the canonical JSON (JCS) of the result without
// resultDigest. Same inputs → byte-identical output.
//
// Errors: graphs of different tenants or components (canonical purl without
// version and qualifiers: "same purl, any versions") →
// Code::kHashMismatch (422) with rule "same-component", naming both graphs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/reachability_graph.hpp"
#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

struct SinkSpec {
  std::string text;      // "id" or "re:<regex>"
  std::string category;  // "" when none
};

// Parses the text form (see above). kInvalid (rule "sink-regex") for a bad regex.
Result<std::vector<SinkSpec>> ParseSinkList(const std::string& text);
// Parses the JSON form: an array of strings (line syntax) or objects
// {"sink"|"id"|"pattern", "category"?}.
Result<std::vector<SinkSpec>> ParseSinkJson(const nlohmann::json& sinks);

Result<nlohmann::json> ComputeDrift(const ReachabilityGraph& base, const ReachabilityGraph& head,
                                    const std::vector<SinkSpec>& sinks);

// Loads both graphs (the caller authorised access) and computes the drift.
Result<nlohmann::json> QueryDrift(Kernel& kernel, const std::string& base_graph_id,
                                  const std::string& head_graph_id, const std::vector<SinkSpec>& sinks);

// A human-readable table of a drift result.
std::string DriftTable(const nlohmann::json& drift);

}  // namespace signals
