// ReachabilityGraph. See reachability_graph.hpp.
#include "analysis/reachability_graph.hpp"

#include <simdjson.h>

#include <algorithm>
#include <list>
#include <map>

#include "ingest/callgraph_store.hpp"
#include "model/purl.hpp"

namespace signals {
namespace {

std::string_view StringField(simdjson::dom::element e, const char* name) {
  std::string_view out;
  if (e[name].get_string().get(out) != simdjson::SUCCESS) return {};
  return out;
}

Result<std::shared_ptr<ReachabilityGraph>> ParseGraph(Kernel& kernel, const std::string& graph_id) {
  std::vector<std::string> ids;
  std::vector<std::string> symbols;
  std::vector<std::pair<std::string, std::string>> edge_names;
  std::vector<std::string> entry_names;
  std::vector<std::pair<uint32_t, uint32_t>> fast_edges;
  int fast = -1;  // -1 undecided, 1 edges resolved while reading, 0 resolved after sorting
  auto sorted_index_of = [&](std::string_view id) -> uint32_t {
    auto it = std::lower_bound(ids.begin(), ids.end(), id, [](const std::string& a, std::string_view b) {
      return std::string_view(a) < b;
    });
    if (it == ids.end() || *it != id) return kNoNode;
    return static_cast<uint32_t>(it - ids.begin());
  };
  simdjson::dom::parser parser;
  uint64_t line_number = 0;
  NdjsonLineSplitter splitter([&](std::string_view line) -> Status {
    ++line_number;
    simdjson::dom::element doc;
    if (parser.parse(line.data(), line.size(), true).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      return Status::Internal("canonical form of callgraph " + graph_id + ": line " +
                              std::to_string(line_number) + " is not a JSON object");
    }
    std::string_view t = StringField(doc, "t");
    if (t == "node") {
      if (fast == 1) {
        return Status::Internal("canonical form of callgraph " + graph_id + ": node line " +
                                std::to_string(line_number) + " after an edge or entrypoint");
      }
      ids.emplace_back(StringField(doc, "id"));
      std::string_view sym;
      for (const char* key : {"symbolKey", "symbol_id", "symbolId"}) {
        sym = StringField(doc, key);
        if (!sym.empty()) break;
      }
      symbols.emplace_back(sym);
    } else if (t == "edge" || t == "entrypoint") {
      // Canonical order puts every node, sorted, before the first edge: then
      // endpoints resolve at once (no strings kept per edge).
      if (fast == -1) fast = std::is_sorted(ids.begin(), ids.end()) ? 1 : 0;
      if (t == "edge") {
        std::string_view from = StringField(doc, "from"), to = StringField(doc, "to");
        if (fast == 1) {
          uint32_t f = sorted_index_of(from), d = sorted_index_of(to);
          if (f == kNoNode || d == kNoNode) {
            return Status::Internal("canonical form of callgraph " + graph_id + ": edge " +
                                    std::string(from) + " -> " + std::string(to) +
                                    " references an unknown node");
          }
          fast_edges.emplace_back(f, d);
        } else {
          edge_names.emplace_back(std::string(from), std::string(to));
        }
      } else {
        entry_names.emplace_back(StringField(doc, "id"));
      }
    }
    return Status::Ok();
  });
  SIGNALS_RETURN_IF_ERROR(
      CallgraphStore(kernel).ReadCanonical(graph_id, [&](std::string_view c) { return splitter.Write(c); }));
  SIGNALS_RETURN_IF_ERROR(splitter.Finish());

  // Intern in sorted id order (the canonical form is sorted already; sort anyway).
  std::vector<uint32_t> order(ids.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  if (!std::is_sorted(ids.begin(), ids.end())) {
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
    std::vector<std::string> ids2, sym2;
    ids2.reserve(ids.size());
    sym2.reserve(ids.size());
    for (uint32_t i : order) {
      ids2.push_back(std::move(ids[i]));
      sym2.push_back(std::move(symbols[i]));
    }
    ids = std::move(ids2);
    symbols = std::move(sym2);
  }
  auto index_of = [&](const std::string& id) -> uint32_t {
    auto it = std::lower_bound(ids.begin(), ids.end(), id);
    if (it == ids.end() || *it != id) return kNoNode;
    return static_cast<uint32_t>(it - ids.begin());
  };
  std::vector<std::pair<uint32_t, uint32_t>> edges = std::move(fast_edges);
  edges.reserve(edges.size() + edge_names.size());
  for (const auto& [from, to] : edge_names) {
    uint32_t f = index_of(from), t = index_of(to);
    if (f == kNoNode || t == kNoNode) {
      return Status::Internal("canonical form of callgraph " + graph_id + ": edge " + from + " -> " + to +
                              " references an unknown node");
    }
    edges.emplace_back(f, t);
  }
  edge_names.clear();
  edge_names.shrink_to_fit();
  std::vector<uint32_t> entries;
  for (const auto& e : entry_names) {
    uint32_t i = index_of(e);
    if (i != kNoNode) entries.push_back(i);
  }
  return ReachabilityGraph::Build(std::move(ids), std::move(symbols), std::move(edges), std::move(entries));
}

struct Cache {
  std::mutex mu;
  std::list<std::pair<std::string, std::shared_ptr<const ReachabilityGraph>>> lru;  // front = newest
  ReachabilityCacheStats stats;
};

Cache& TheCache() {
  static Cache* cache = new Cache();
  return *cache;
}

}  // namespace

std::shared_ptr<ReachabilityGraph> ReachabilityGraph::Build(std::vector<std::string> node_ids,
                                                            std::vector<std::string> symbol_ids,
                                                            std::vector<std::pair<uint32_t, uint32_t>> edges,
                                                            std::vector<uint32_t> entrypoints) {
  auto g = std::make_shared<ReachabilityGraph>();
  const size_t n = node_ids.size();
  g->node_ids = std::move(node_ids);
  g->symbol_ids = std::move(symbol_ids);
  g->symbol_ids.resize(n);
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  g->offsets.assign(n + 1, 0);
  for (const auto& e : edges) g->offsets[e.first + 1]++;
  for (size_t i = 0; i < n; ++i) g->offsets[i + 1] += g->offsets[i];
  g->successors.resize(edges.size());
  for (size_t i = 0; i < edges.size(); ++i) g->successors[i] = edges[i].second;  // sorted by (from, to)
  std::sort(entrypoints.begin(), entrypoints.end());
  entrypoints.erase(std::unique(entrypoints.begin(), entrypoints.end()), entrypoints.end());
  g->entrypoints = std::move(entrypoints);
  for (uint32_t i = 0; i < n; ++i) {
    if (!g->symbol_ids[i].empty()) g->by_symbol.emplace_back(g->symbol_ids[i], i);
  }
  std::sort(g->by_symbol.begin(), g->by_symbol.end());
  return g;
}

std::optional<uint32_t> ReachabilityGraph::FindNode(std::string_view id) const {
  auto it =
      std::lower_bound(node_ids.begin(), node_ids.end(), id,
                       [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  if (it == node_ids.end() || *it != id) return std::nullopt;
  return static_cast<uint32_t>(it - node_ids.begin());
}

std::vector<uint32_t> ReachabilityGraph::FindSymbol(std::string_view symbol) const {
  std::vector<uint32_t> out;
  auto it = std::lower_bound(by_symbol.begin(), by_symbol.end(), symbol,
                             [](const std::pair<std::string, uint32_t>& a, std::string_view b) {
                               return std::string_view(a.first) < b;
                             });
  for (; it != by_symbol.end() && it->first == symbol; ++it) out.push_back(it->second);
  return out;
}

std::optional<uint32_t> ReachabilityGraph::Resolve(std::string_view target) const {
  if (auto n = FindNode(target)) return n;
  auto nodes = FindSymbol(target);
  if (nodes.empty()) return std::nullopt;
  // Several nodes share the symbol: prefer a reachable one (the nearest, then
  // the smallest index), else the smallest index.
  const auto& bfs = Bfs();
  uint32_t best = nodes.front();
  for (uint32_t v : nodes) {
    if (bfs.distance[v] < bfs.distance[best]) best = v;
  }
  return best;
}

const BfsResult& ReachabilityGraph::Bfs() const {
  std::call_once(bfs_once_, [this] {
    const size_t n = node_ids.size();
    bfs_.distance.assign(n, kNoNode);
    bfs_.parent.assign(n, kNoNode);
    std::vector<uint32_t> frontier = entrypoints;  // sorted
    for (uint32_t e : frontier) bfs_.distance[e] = 0;
    std::vector<uint32_t> next;
    uint32_t level = 0;
    while (!frontier.empty()) {
      next.clear();
      // The frontier is ascending, so the first node to discover v is the
      // smallest-index predecessor at distance level.
      for (uint32_t u : frontier) {
        for (uint32_t k = offsets[u]; k < offsets[u + 1]; ++k) {
          uint32_t v = successors[k];
          if (bfs_.distance[v] != kNoNode) continue;
          bfs_.distance[v] = level + 1;
          bfs_.parent[v] = u;
          next.push_back(v);
        }
      }
      std::sort(next.begin(), next.end());
      frontier.swap(next);
      ++level;
    }
  });
  return bfs_;
}

std::vector<std::string> ReachabilityGraph::PathTo(uint32_t node) const {
  const auto& bfs = Bfs();
  std::vector<std::string> path;
  if (node >= node_ids.size() || bfs.distance[node] == kNoNode) return path;
  for (uint32_t v = node; v != kNoNode; v = bfs.parent[v]) path.push_back(node_ids[v]);
  std::reverse(path.begin(), path.end());
  return path;
}

Result<std::shared_ptr<const ReachabilityGraph>> LoadReachabilityGraph(Kernel& kernel,
                                                                       const std::string& graph_id) {
  auto record = CallgraphStore(kernel).Record(graph_id);
  if (!record.ok()) return record.status();
  const std::string& configured = kernel.config().Get("reachability", "cache_graphs");
  const size_t capacity =
      configured.empty() ? 4 : static_cast<size_t>(std::max<int64_t>(0, std::stoll(configured)));
  Cache& cache = TheCache();
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    for (auto it = cache.lru.begin(); it != cache.lru.end(); ++it) {
      // Graph ids are ULIDs, unique across stores; the digest guards against reuse.
      if (it->first == graph_id && it->second->digest == record->value("digest", "")) {
        cache.lru.splice(cache.lru.begin(), cache.lru, it);
        cache.stats.hits++;
        return cache.lru.front().second;
      }
    }
  }
  auto parsed = ParseGraph(kernel, graph_id);
  if (!parsed.ok()) return parsed.status();
  auto graph = *parsed;
  graph->graph_id = graph_id;
  graph->digest = record->value("digest", "");
  graph->tenant = record->value("tenantId", "");
  const std::string purl = record->value("componentPurl", "");
  auto parsed_purl = ParsePurl(purl);
  if (parsed_purl.ok()) {
    graph->component_purl = parsed_purl->ToString();
    parsed_purl->version.clear();
    parsed_purl->qualifiers.clear();
    graph->component = parsed_purl->ToString();
  } else {
    graph->component_purl = graph->component = purl;
  }
  std::shared_ptr<const ReachabilityGraph> shared = graph;
  std::lock_guard<std::mutex> lock(cache.mu);
  cache.stats.loads++;
  if (capacity == 0) return shared;
  cache.lru.remove_if([&](const auto& e) { return e.first == graph_id; });
  cache.lru.emplace_front(graph_id, shared);
  while (cache.lru.size() > capacity) cache.lru.pop_back();
  return shared;
}

ReachabilityCacheStats GetReachabilityCacheStats() {
  Cache& cache = TheCache();
  std::lock_guard<std::mutex> lock(cache.mu);
  ReachabilityCacheStats s = cache.stats;
  s.size = cache.lru.size();
  return s;
}

}  // namespace signals
