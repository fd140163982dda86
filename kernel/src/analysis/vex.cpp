// VEX documents. See vex.hpp.
#include "analysis/vex.hpp"

#include <sstream>

#include "base/canonical_json.hpp"
#include "base/sha256.hpp"
#include "base/timestamp.hpp"

namespace signals {

Result<nlohmann::json> VexDocument(const nlohmann::json& reach, const std::string& vulnerability,
                                   int64_t now_ms) {
  if (vulnerability.empty()) return Status::Invalid("required", "vulnerability", "vulnerability is required");
  const auto& results = reach.at("results");
  if (results.empty()) return Status::Invalid("required", "symbols", "at least one symbol is required");
  bool any_affected = false, any_open = false;
  std::ostringstream notes;
  notes << "Signals reachability evidence: callgraph " << reach.value("callgraphId", "") << " (graph digest "
        << reach.value("graphDigest", "") << ")";
  const auto& window = reach.value("observationWindow", nlohmann::json::object());
  notes << "; runtime observation window: "
        << (window.value("present", false)
                ? "batches " + window.value("batchIds", nlohmann::json::array()).dump()
                : std::string("none"));
  for (const auto& r : results) {
    const std::string status = r["vex"].value("status", "");
    any_affected = any_affected || status == "affected";
    any_open = any_open || status == "under_investigation";
    std::string path;
    for (const auto& p : r["path"]) path += (path.empty() ? "" : " -> ") + p.get<std::string>();
    notes << ". symbol " << r.value("target", "") << ": node "
          << (r["node"].is_string() ? r["node"].get<std::string>() : std::string("(not in graph)"))
          << ", state " << r.value("state", "") << ", vex " << status << ", path [" << path
          << "], runtimeHits " << r.value("runtimeHits", 0) << ", batchIds " << r["batchIds"].dump();
    if (r["vex"].contains("warning")) notes << ", warning: " << r["vex"].value("warning", "");
  }
  nlohmann::json statement = {
      {"vulnerability", {{"name", vulnerability}}},
      {"products", nlohmann::json::array({{{"@id", reach.value("componentPurl", "")}}})},
      {"status_notes", notes.str()},
  };
  const std::string timestamp = FormatRfc3339Millis(now_ms);
  if (any_affected) {
    statement["status"] = "affected";
    statement["action_statement"] =
        "Vulnerable code is reachable from an entrypoint (see status_notes): upgrade the component to a "
        "fixed "
        "version or remove the call paths to the vulnerable symbols.";
    statement["action_statement_timestamp"] = timestamp;
  } else if (any_open) {
    statement["status"] = "under_investigation";
  } else {
    statement["status"] = "not_affected";
    statement["justification"] = "vulnerable_code_not_in_execute_path";
    statement["impact_statement"] =
        "No path from any entrypoint reaches the vulnerable symbols (see status_notes).";
  }
  nlohmann::json inputs = {{"graphDigest", reach.value("graphDigest", "")},
                           {"callgraphId", reach.value("callgraphId", "")},
                           {"componentPurl", reach.value("componentPurl", "")},
                           {"vulnerability", vulnerability},
                           {"results", results},
                           {"observationWindow", window}};
  auto canonical = TryCanonicalJson(inputs);
  if (!canonical.ok()) return canonical.status();
  return nlohmann::json{{"@context", "https://openvex.dev/ns/v0.2.0"},
                        {"@id", "https://signals.local/vex/" + Sha256Hex(*canonical)},
                        {"author", "Signals"},
                        {"role", "Reachability analysis"},
                        {"timestamp", timestamp},
                        {"version", 1},
                        {"tooling", "signals reachability"},
                        {"statements", nlohmann::json::array({statement})}};
}

Result<nlohmann::json> BuildVex(Kernel& kernel, const std::string& graph_id, const std::string& vulnerability,
                                const std::vector<std::string>& symbols, const ReachOptions& options) {
  if (vulnerability.empty()) return Status::Invalid("required", "vulnerability", "vulnerability is required");
  if (symbols.empty()) return Status::Invalid("required", "symbols", "at least one symbol is required");
  auto reach = QueryReachability(kernel, graph_id, symbols, options);
  if (!reach.ok()) return reach.status();
  auto doc = VexDocument(*reach, vulnerability, kernel.NowMs());
  if (!doc.ok()) return doc.status();
  return nlohmann::json{{"document", std::move(*doc)}, {"evidence", std::move(*reach)}};
}

}  // namespace signals
