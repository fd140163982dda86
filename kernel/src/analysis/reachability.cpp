// Reachability queries. See reachability.hpp.
#include "analysis/reachability.hpp"

#include <algorithm>

#include "base/zstd_frame_reader.hpp"
#include "retention/retention.hpp"

namespace signals {
namespace {

const nlohmann::json* Member(const nlohmann::json& j, const char* a, const char* b) {
  auto it = j.find(a);
  if (it != j.end()) return &*it;
  it = j.find(b);
  if (it != j.end()) return &*it;
  return nullptr;
}

Status ReadBatchFacts(Kernel& kernel, const std::string& batch_id, const std::string& blob_key,
                      RuntimeEvidence* evidence) {
  auto reader = kernel.cas().Open(blob_key);
  if (!reader.ok()) return reader.status();
  NdjsonLineSplitter lines([&](std::string_view line) -> Status {
    auto fact = nlohmann::json::parse(line, nullptr, false);
    if (!fact.is_object()) return Status::Ok();  // stored batches were validated; skip defensively
    const nlohmann::json* sym = Member(fact, "symbolId", "symbol_id");
    if (sym == nullptr || !sym->is_string()) return Status::Ok();
    uint64_t hits = 1;
    const nlohmann::json* count = Member(fact, "hitCount", "hit_count");
    if (count != nullptr && count->is_number_integer() && count->get<int64_t>() > 0)
      hits = count->get<uint64_t>();
    auto& entry = evidence->by_symbol[sym->get<std::string>()];
    entry.hits += hits;
    entry.batch_ids.insert(batch_id);
    return Status::Ok();
  });
  ZstdFrameReader zstd([&](std::string_view plain) { return lines.Write(plain); });
  SIGNALS_RETURN_IF_ERROR(
      zstd.Drain([&](uint8_t* buffer, size_t capacity) { return (*reader)->Read(buffer, capacity); }));
  return lines.Finish();
}

}  // namespace

Result<RuntimeEvidence> LoadRuntimeEvidence(Kernel& kernel, const std::string& graph_id,
                                            const std::optional<std::vector<std::string>>& batch_tenants) {
  nlohmann::json query = {{"where", {{"callgraphId", graph_id}}}, {"orderBy", "ingestedAt"}};
  std::vector<std::pair<std::string, std::string>> batches;  // (batchId, blobKey)
  Status s = kernel.index().Query("batches", query.dump(), [&](const std::string& record) {
    auto row = nlohmann::json::parse(record, nullptr, false);
    if (!row.is_object()) return;
    if (row.value("callgraphId", "") != graph_id) return;
    // An expired batch's facts are deleted: it is no runtime evidence any more.
    if (IsExpired(row)) return;
    if (batch_tenants) {
      const std::string tenant = row.value("tenantId", "");
      if (std::find(batch_tenants->begin(), batch_tenants->end(), tenant) == batch_tenants->end()) return;
    }
    batches.emplace_back(row.value("batchId", ""), row.value("blobKey", ""));
  });
  SIGNALS_RETURN_IF_ERROR(s);
  std::sort(batches.begin(), batches.end());
  RuntimeEvidence evidence;
  evidence.window = !batches.empty();
  for (const auto& [batch_id, blob_key] : batches) {
    evidence.batch_ids.push_back(batch_id);
    SIGNALS_RETURN_IF_ERROR(ReadBatchFacts(kernel, batch_id, blob_key, &evidence));
  }
  return evidence;
}

std::string LatticeState(bool in_graph, bool reachable, bool window, uint64_t hits) {
  if (!in_graph) return hits > 0 ? "RO" : "U";
  if (!window) return reachable ? "SR" : "SU";
  if (reachable) return hits > 0 ? "CR" : "RU";
  return hits > 0 ? "X" : "CU";
}

nlohmann::json VexForState(const std::string& state, bool unconfirmed_as_not_affected) {
  if (state == "CR" || state == "RO" || state == "SR") return {{"status", "affected"}};
  if (state == "CU")
    return {{"status", "not_affected"}, {"justification", "vulnerable_code_not_in_execute_path"}};
  if ((state == "SU" || state == "RU") && unconfirmed_as_not_affected) {
    return {{"status", "not_affected"},
            {"justification", "vulnerable_code_not_in_execute_path"},
            {"warning", state == "SU" ? "static analysis only: no runtime observation window confirms it"
                                      : "statically reachable but never observed at runtime"}};
  }
  return {{"status", "under_investigation"}};
}

nlohmann::json EvaluateReachability(const ReachabilityGraph& graph, const RuntimeEvidence& evidence,
                                    const std::vector<std::string>& targets, const ReachOptions& options) {
  const BfsResult& bfs = graph.Bfs();
  nlohmann::json results = nlohmann::json::array();
  for (const auto& target : targets) {
    nlohmann::json r;
    r["target"] = target;
    auto node = graph.Resolve(target);
    uint64_t hits = 0;
    std::set<std::string> batch_ids;
    auto add = [&](const std::string& key) {
      if (key.empty()) return;
      auto it = evidence.by_symbol.find(key);
      if (it == evidence.by_symbol.end()) return;
      hits += it->second.hits;
      batch_ids.insert(it->second.batch_ids.begin(), it->second.batch_ids.end());
    };
    bool reachable = false;
    if (node) {
      const std::string& id = graph.node_ids[*node];
      const std::string& sym = graph.symbol_ids[*node];
      add(id);
      if (sym != id) add(sym);
      reachable = bfs.distance[*node] != kNoNode;
      r["node"] = id;
      r["symbol"] = sym.empty() ? nlohmann::json(nullptr) : nlohmann::json(sym);
      r["distance"] = reachable ? nlohmann::json(bfs.distance[*node]) : nlohmann::json(nullptr);
      r["path"] = graph.PathTo(*node);
    } else {
      add(target);
      r["node"] = nullptr;
      r["path"] = nlohmann::json::array();
      r["reason"] = "not in graph";
    }
    r["reachable"] = reachable;
    const std::string state = LatticeState(node.has_value(), reachable, evidence.window, hits);
    r["state"] = state;
    r["runtimeHits"] = hits;
    r["batchIds"] = batch_ids;
    r["vex"] = VexForState(state, options.unconfirmed_as_not_affected);
    results.push_back(std::move(r));
  }
  return {{"callgraphId", graph.graph_id},
          {"graphDigest", graph.digest},
          {"componentPurl", graph.component_purl},
          {"observationWindow", {{"present", evidence.window}, {"batchIds", evidence.batch_ids}}},
          {"results", std::move(results)}};
}

Result<nlohmann::json> QueryReachability(Kernel& kernel, const std::string& graph_id,
                                         const std::vector<std::string>& targets,
                                         const ReachOptions& options) {
  auto graph = LoadReachabilityGraph(kernel, graph_id);
  if (!graph.ok()) return graph.status();
  auto evidence = LoadRuntimeEvidence(kernel, graph_id, options.batch_tenants);
  if (!evidence.ok()) return evidence.status();
  return EvaluateReachability(**graph, *evidence, targets, options);
}

}  // namespace signals
