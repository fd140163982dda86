// Drift. See drift.hpp.
#include "analysis/drift.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>
#include <tuple>

#include "base/canonical_json.hpp"
#include "base/sha256.hpp"

namespace signals {
namespace {

struct CompiledSink {
  SinkSpec spec;
  bool is_regex = false;
  std::string id;
  std::regex re;
};

Result<CompiledSink> Compile(const SinkSpec& spec, size_t index) {
  CompiledSink c;
  c.spec = spec;
  if (spec.text.rfind("re:", 0) == 0) {
    c.is_regex = true;
    try {
      c.re = std::regex(spec.text.substr(3), std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return Status::Invalid("sink-regex", "sinks[" + std::to_string(index) + "]",
                             "invalid regex '" + spec.text.substr(3) + "': " + e.what());
    }
  } else {
    c.id = spec.text;
  }
  if (spec.text.empty() || (c.is_regex && spec.text.size() == 3)) {
    return Status::Invalid("required", "sinks[" + std::to_string(index) + "]", "empty sink");
  }
  return c;
}

// Node indices of `graph` matched by `sink`, ascending.
std::vector<uint32_t> Match(const ReachabilityGraph& graph, const CompiledSink& sink) {
  std::vector<uint32_t> out;
  if (!sink.is_regex) {
    if (auto n = graph.FindNode(sink.id)) out.push_back(*n);
    for (uint32_t v : graph.FindSymbol(sink.id)) out.push_back(v);
  } else {
    for (uint32_t v = 0; v < graph.node_count(); ++v) {
      if (std::regex_match(graph.node_ids[v], sink.re) ||
          (!graph.symbol_ids[v].empty() && std::regex_match(graph.symbol_ids[v], sink.re))) {
        out.push_back(v);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

Result<std::vector<SinkSpec>> ParseSinkList(const std::string& text) {
  std::vector<SinkSpec> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    SinkSpec s;
    auto tab = line.find('\t');
    s.text = line.substr(0, tab);
    if (tab != std::string::npos) s.category = line.substr(tab + 1);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<SinkSpec>> ParseSinkJson(const nlohmann::json& sinks) {
  if (!sinks.is_array()) return Status::Invalid("type", "sinks", "sinks must be an array");
  std::vector<SinkSpec> out;
  for (size_t i = 0; i < sinks.size(); ++i) {
    const auto& s = sinks[i];
    const std::string field = "sinks[" + std::to_string(i) + "]";
    if (s.is_string()) {
      auto parsed = ParseSinkList(s.get<std::string>());
      if (!parsed.ok()) return parsed.status();
      if (parsed->size() != 1) return Status::Invalid("sink", field, "expected one sink");
      out.push_back((*parsed)[0]);
    } else if (s.is_object()) {
      SinkSpec spec;
      for (const char* key : {"sink", "id", "pattern"}) {
        if (s.contains(key) && s[key].is_string()) {
          spec.text = s[key].get<std::string>();
          break;
        }
      }
      if (s.contains("category") && s["category"].is_string())
        spec.category = s["category"].get<std::string>();
      if (spec.text.empty()) return Status::Invalid("required", field, "a sink needs \"sink\"");
      out.push_back(std::move(spec));
    } else {
      return Status::Invalid("type", field, "a sink is a string or an object");
    }
  }
  return out;
}

Result<nlohmann::json> ComputeDrift(const ReachabilityGraph& base, const ReachabilityGraph& head,
                                    const std::vector<SinkSpec>& sinks) {
  if (base.tenant != head.tenant || base.component != head.component) {
    return Status(Code::kHashMismatch,
                  "base graph " + base.graph_id + " (tenant '" + base.tenant + "', " + base.component_purl +
                      ") and head graph " + head.graph_id + " (tenant '" + head.tenant + "', " +
                      head.component_purl + ") are not graphs of the same component",
                  "headGraphId", "same-component");
  }
  const BfsResult& bb = base.Bfs();
  const BfsResult& hb = head.Bfs();
  // (sink node id, match, category) → item; std::map keeps the output order.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, nlohmann::json> up, down;
  for (size_t i = 0; i < sinks.size(); ++i) {
    auto compiled = Compile(sinks[i], i);
    if (!compiled.ok()) return compiled.status();
    auto in_base = Match(base, *compiled);
    auto in_head = Match(head, *compiled);
    // node id → (reachable in base, reachable in head, index in base, index in head)
    std::map<std::string, std::pair<uint32_t, uint32_t>> nodes;
    for (uint32_t v : in_base) nodes[base.node_ids[v]].first = v + 1;
    for (uint32_t v : in_head) nodes[head.node_ids[v]].second = v + 1;
    for (const auto& [id, idx] : nodes) {
      const bool rb = idx.first && bb.distance[idx.first - 1] != kNoNode;
      const bool rh = idx.second && hb.distance[idx.second - 1] != kNoNode;
      if (rb == rh) continue;
      const ReachabilityGraph& g = rh ? head : base;
      const uint32_t v = (rh ? idx.second : idx.first) - 1;
      nlohmann::json item = {
          {"sink", id},
          {"symbol", g.symbol_ids[v].empty() ? nlohmann::json(nullptr) : nlohmann::json(g.symbol_ids[v])},
          {"category", sinks[i].category},
          {"match", sinks[i].text},
          {"path", g.PathTo(v)}};
      (rh ? up : down)[Key{id, sinks[i].text, sinks[i].category}] = std::move(item);
    }
  }
  nlohmann::json newly_reachable = nlohmann::json::array(), newly_unreachable = nlohmann::json::array();
  for (auto& [k, item] : up) newly_reachable.push_back(std::move(item));
  for (auto& [k, item] : down) newly_unreachable.push_back(std::move(item));
  nlohmann::json result = {
      {"baseGraphId", base.graph_id},
      {"headGraphId", head.graph_id},
      {"baseGraphDigest", base.digest},
      {"headGraphDigest", head.digest},
      {"baseComponentPurl", base.component_purl},
      {"headComponentPurl", head.component_purl},
      {"counts",
       {{"newlyReachable", newly_reachable.size()}, {"newlyUnreachable", newly_unreachable.size()}}},
      {"newlyReachable", std::move(newly_reachable)},
      {"newlyUnreachable", std::move(newly_unreachable)},
  };
  auto canonical = TryCanonicalJson(result);
  if (!canonical.ok()) return canonical.status();
  result["resultDigest"] = "sha256:" + Sha256Hex(*canonical);
  return result;
}

Result<nlohmann::json> QueryDrift(Kernel& kernel, const std::string& base_graph_id,
                                  const std::string& head_graph_id, const std::vector<SinkSpec>& sinks) {
  auto base = LoadReachabilityGraph(kernel, base_graph_id);
  if (!base.ok()) return base.status();
  auto head = LoadReachabilityGraph(kernel, head_graph_id);
  if (!head.ok()) return head.status();
  return ComputeDrift(**base, **head, sinks);
}

std::string DriftTable(const nlohmann::json& drift) {
  std::ostringstream out;
  out << "base " << drift.value("baseGraphId", "") << "  head " << drift.value("headGraphId", "") << "\n";
  out << "DIRECTION\tSINK\tCATEGORY\tPATH\n";
  for (const char* dir : {"newlyReachable", "newlyUnreachable"}) {
    for (const auto& item : drift.value(dir, nlohmann::json::array())) {
      std::string path;
      for (const auto& p : item["path"]) path += (path.empty() ? "" : " -> ") + p.get<std::string>();
      out << (std::string(dir) == "newlyReachable" ? "+reachable" : "-reachable") << "\t"
          << item.value("sink", "") << "\t" << item.value("category", "") << "\t" << path << "\n";
    }
  }
  out << "newly reachable: " << drift["counts"].value("newlyReachable", 0)
      << ", newly unreachable: " << drift["counts"].value("newlyUnreachable", 0) << "\n";
  out << "resultDigest: " << drift.value("resultDigest", "") << "\n";
  return out.str();
}

}  // namespace signals
