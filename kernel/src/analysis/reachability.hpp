// Reachability queries (README.md#reachability-drift-and-vex): static reachability from the entrypoints
// of a stored callgraph combined with the runtime facts of the batches linked
// to it, as a lattice state and a VEX status per target.
//
// Lattice (the rule, precisely):
//   * target matches no node (by node id, then symbol id):
//       - some linked runtime fact has symbolId == target → "RO" (runtime
//         observed, no static information), reason "not in graph";
//       - else "U" (unknown), reason "not in graph".
//   * target is a node; "observation window" = at least one batch is linked to
//     the graph (and visible to the caller):
//       - no window:   reachable → "SR",  unreachable → "SU";
//       - window:      reachable + hit → "CR", reachable + no hit → "RU",
//                      unreachable + hit → "X" (contested),
//                      unreachable + no hit → "CU".
//   A node is "hit" when a linked fact's symbolId equals the node's symbol id
//   or its node id; runtimeHits sums hitCount (1 when absent) over those facts.
//   A graph with no entrypoints makes every node unreachable (SU/CU/X).
//
// VEX mapping: CR/RO/SR → affected; CU → not_affected with justification
// vulnerable_code_not_in_execute_path; SU/RU → not_affected (same
// justification, plus a "warning") only when unconfirmed_as_not_affected is
// set, else under_investigation; U/X → under_investigation.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/reachability_graph.hpp"
#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

// Runtime facts of the batches linked to one graph, by symbolId.
struct RuntimeEvidence {
  bool window = false;                 // at least one batch linked
  std::vector<std::string> batch_ids;  // sorted
  struct Hits {
    uint64_t hits = 0;
    std::set<std::string> batch_ids;
  };
  std::map<std::string, Hits, std::less<>> by_symbol;
};

struct ReachOptions {
  // Tenants whose batches count as runtime evidence; nullopt = every tenant.
  std::optional<std::vector<std::string>> batch_tenants;
  // Map SU/RU to not_affected (with a warning) instead of under_investigation.
  bool unconfirmed_as_not_affected = false;
};

// Reads the facts of every batch whose callgraphId is `graph_id`, except
// batches expired by retention (their facts are deleted).
Result<RuntimeEvidence> LoadRuntimeEvidence(Kernel& kernel, const std::string& graph_id,
                                            const std::optional<std::vector<std::string>>& batch_tenants);

// The lattice state (see above).
std::string LatticeState(bool in_graph, bool reachable, bool window, uint64_t hits);

// {"status", "justification"?, "warning"?} for a lattice state.
nlohmann::json VexForState(const std::string& state, bool unconfirmed_as_not_affected);

// The reach result of README.md#reachability-drift-and-vex for `targets` (order kept; duplicates kept).
nlohmann::json EvaluateReachability(const ReachabilityGraph& graph, const RuntimeEvidence& evidence,
                                    const std::vector<std::string>& targets, const ReachOptions& options);

// Loads graph and evidence, then EvaluateReachability. The caller authorised access.
Result<nlohmann::json> QueryReachability(Kernel& kernel, const std::string& graph_id,
                                         const std::vector<std::string>& targets,
                                         const ReachOptions& options = {});

}  // namespace signals
