// OpenVEX v0.2.0 documents from reachability (README.md#reachability-drift-and-vex).
//
// One document per (vulnerability, component) with ONE statement: OpenVEX
// statements are about (vulnerability, product), so one statement per symbol
// would state conflicting statuses for the same product. The statement's
// status aggregates the per-symbol VEX statuses of reachability.hpp:
//   any symbol affected → affected (with action_statement, required by the
//   spec); else any under_investigation → under_investigation; else
//   not_affected with justification vulnerable_code_not_in_execute_path.
// The product is {"@id": componentPurl}. The evidence (graph id and digest,
// and per symbol: node, state, path, runtime hits, batch ids, warnings) is in
// status_notes as text, since the schema forbids extra statement members;
// the same evidence is returned as structured JSON next to the document by
// BuildVex (member "evidence"), never inside it.
// @id = https://signals.local/vex/<sha256 of the canonical inputs> (graph
// digest, component, vulnerability, per-symbol results), so the same inputs
// give the same @id; timestamp is the time of generation (RFC 3339 UTC).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/reachability.hpp"
#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

// The document from a reach result (EvaluateReachability's shape).
Result<nlohmann::json> VexDocument(const nlohmann::json& reach, const std::string& vulnerability,
                                   int64_t now_ms);

// QueryReachability over `symbols`, then VexDocument. Returns
// {"document": <OpenVEX>, "evidence": <reach result>}.
Result<nlohmann::json> BuildVex(Kernel& kernel, const std::string& graph_id, const std::string& vulnerability,
                                const std::vector<std::string>& symbols, const ReachOptions& options = {});

}  // namespace signals
