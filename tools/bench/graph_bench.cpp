// signals-bench-graph: the reach-1m and drift-1m figures of README.md#performance on the
// kernel's in-memory graph (CSR), as one JSON object on stdout.
//
//   signals-bench-graph [--nodes 1000000] [--edges 5000000] [--targets 1000] [--seed 1]
//
// Two random graphs of the given size are built (seeded, so every run sees the
// same graphs); then the reachability of --targets symbols is evaluated twice
// (the first query includes the BFS from the entrypoints, the second hits the
// cached BFS, and both answers must be equal), and the drift between the two
// graphs over --targets exact sinks plus one regex sink is computed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "analysis/drift.hpp"
#include "analysis/reachability.hpp"
#include "analysis/reachability_graph.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string NodeId(uint32_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "n%07u", i);
  return buf;
}

std::shared_ptr<signals::ReachabilityGraph> MakeGraph(uint32_t nodes, uint32_t edges, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> ids(nodes), symbols(nodes);
  for (uint32_t i = 0; i < nodes; ++i) {
    ids[i] = NodeId(i);
    symbols[i] = "sym:" + ids[i];
  }
  std::vector<std::pair<uint32_t, uint32_t>> pairs(edges);
  for (auto& e : pairs) e = {static_cast<uint32_t>(rng() % nodes), static_cast<uint32_t>(rng() % nodes)};
  std::vector<uint32_t> entries;
  for (uint32_t i = 0; i < 100; ++i) entries.push_back(rng() % nodes);
  return signals::ReachabilityGraph::Build(std::move(ids), std::move(symbols), std::move(pairs),
                                           std::move(entries));
}

uint32_t Arg(int argc, char** argv, const std::string& name, uint32_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t nodes = Arg(argc, argv, "--nodes", 1000000);
  const uint32_t edges = Arg(argc, argv, "--edges", 5000000);
  const uint32_t targets = Arg(argc, argv, "--targets", 1000);
  const uint32_t seed = Arg(argc, argv, "--seed", 1);
  if (nodes < 2 || targets == 0) {
    std::cerr << "signals-bench-graph: need --nodes >= 2 and --targets >= 1\n";
    return 2;
  }

  auto t0 = Clock::now();
  auto base = MakeGraph(nodes, edges, seed);
  auto head = MakeGraph(nodes, edges, seed + 1);
  base->graph_id = "base";
  head->graph_id = "head";
  auto t1 = Clock::now();

  // Targets spread over the id space (a prime stride; repeats are harmless).
  std::vector<std::string> symbols;
  for (uint32_t i = 0; i < targets; ++i)
    symbols.push_back("sym:" + NodeId(static_cast<uint32_t>((uint64_t{i} * 997) % nodes)));
  signals::RuntimeEvidence none;
  auto cold = signals::EvaluateReachability(*base, none, symbols, {});
  auto t2 = Clock::now();
  auto warm = signals::EvaluateReachability(*base, none, symbols, {});
  auto t3 = Clock::now();
  if (cold.dump() != warm.dump()) {
    std::cerr << "signals-bench-graph: the cached answer differs from the first one\n";
    return 1;
  }

  std::vector<signals::SinkSpec> sinks;
  for (uint32_t i = 0; i < targets; ++i)
    sinks.push_back({NodeId(static_cast<uint32_t>((uint64_t{i} * 991) % nodes)), "c"});
  sinks.push_back({"re:sym:n00012.*", "re"});
  auto drift = signals::ComputeDrift(*base, *head, sinks);
  auto t4 = Clock::now();
  if (!drift.ok()) {
    std::cerr << "signals-bench-graph: drift failed: " << drift.status().message() << "\n";
    return 1;
  }

  std::cout << "{\"nodes\":" << nodes << ",\"edges\":" << edges << ",\"targets\":" << targets
            << ",\"buildTwoGraphsMs\":" << Ms(t0, t1) << ",\"reachMs\":" << Ms(t1, t2)
            << ",\"reachCachedMs\":" << Ms(t2, t3) << ",\"driftMs\":" << Ms(t3, t4)
            << ",\"driftCounts\":" << (*drift)["counts"].dump() << "}\n";
  return 0;
}
