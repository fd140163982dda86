// Micro-benchmarks of the kernel's hot functions (Google Benchmark):
// DSSE PAE, canonical JSON, ULIDs, purl parsing, runtime-fact line
// validation, SHA-256, CSR building and the BFS over it.
//
//   build/bin/signals-microbench [--benchmark_filter=Purl] [--benchmark_format=json]
//
// Inputs are fixed or seeded, so runs compare across builds.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "analysis/reachability_graph.hpp"
#include "attest/dsse.hpp"
#include "base/canonical_json.hpp"
#include "base/sha256.hpp"
#include "base/ulid.hpp"
#include "model/purl.hpp"
#include "model/runtime_fact.hpp"

namespace {

const char* kFactLine =
    R"({"symbolId":"com.example.orders.OrderService::placeOrder(Lcom/example/model/Order;Ljava/lang/String;)V",)"
    R"("factType":"runtime.symbol.hit","purl":"pkg:maven/com.example.orders/orders-api@4.12.3","hitCount":812,)"
    R"("processId":1031,"processName":"java","observedAt":"2026-01-01T00:00:12.345Z","containerId":"4f2a9c1be07d"})";

void BM_DssePae(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(signals::DssePae("application/vnd.in-toto+json", payload));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_DssePae)->Arg(1 << 10)->Arg(64 << 10);

void BM_CanonicalJsonProvenance(benchmark::State& state) {
  // A provenance record's shape: the document Signals canonicalises per batch.
  nlohmann::json record = {
      {"batchId", "01JD3Z5Q8M7X2W4T6V9B1C3E5G"},
      {"tenantId", "acme"},
      {"callgraphId", "01JD3Z5Q8M7X2W4T6V9B1C3E5H"},
      {"source", "agent-7"},
      {"provenanceHash", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
      {"factCount", 100},
      {"factTypes", {"runtime.symbol.hit", "runtime.module.loaded"}},
      {"receivedAt", "2026-01-01T00:00:00.000Z"},
      {"ingestedAt", "2026-01-01T00:00:00.012Z"},
      {"pipelineVersion", "0123456789abcdef0123456789abcdef01234567"},
      {"blobUri", "cas://signals/runtime-facts/acme/01JD3Z5Q8M7X2W4T6V9B1C3E5G.ndjson.zst"},
      {"sizeBytes", 21873},
      {"compressedSizeBytes", 6012},
      {"rekorUuid", nullptr},
      {"skipReason", "rekor-disabled"},
      {"weight", 0.25}};
  for (auto _ : state) benchmark::DoNotOptimize(signals::CanonicalJson(record));
}
BENCHMARK(BM_CanonicalJsonProvenance);

void BM_UlidNext(benchmark::State& state) {
  signals::UlidGenerator generator;
  uint64_t now = 1767225600000;
  for (auto _ : state) {
    auto id = generator.Next(++now);  // a fresh millisecond: the RAND_bytes path
    benchmark::DoNotOptimize(id->ToString());
  }
}
BENCHMARK(BM_UlidNext);

void BM_UlidValidate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(signals::ValidateUlid("01JD3Z5Q8M7X2W4T6V9B1C3E5G", "id"));
}
BENCHMARK(BM_UlidValidate);

void BM_PurlParse(benchmark::State& state) {
  const std::vector<std::string> purls = {
      "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1", "pkg:npm/%40angular/core@17.0.1",
      "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
      "pkg:golang/github.com/gorilla/mux@v1.8.1#mux.go", "pkg:pypi/django@5.0.1"};
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(signals::ParsePurl(purls[i++ % purls.size()]));
}
BENCHMARK(BM_PurlParse);

void BM_FactLineValidate(benchmark::State& state) {
  signals::FactLineValidator validator(1 << 20);
  const std::string line = kFactLine;
  size_t n = 0;
  for (auto _ : state) benchmark::DoNotOptimize(validator.Validate(line, ++n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_FactLineValidate);

void BM_Sha256(benchmark::State& state) {
  const std::string data(1 << 20, 'a');
  signals::Sha256Hasher hasher;
  for (auto _ : state) {
    hasher.Update(data);
    benchmark::DoNotOptimize(hasher.Finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Sha256);

struct GraphParts {
  std::vector<std::string> ids, symbols;
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  std::vector<uint32_t> entries;
};

GraphParts MakeParts(uint32_t nodes, uint32_t edges) {
  std::mt19937 rng(1);
  GraphParts p;
  char buf[32];
  for (uint32_t i = 0; i < nodes; ++i) {
    std::snprintf(buf, sizeof buf, "n%07u", i);
    p.ids.emplace_back(buf);
    p.symbols.push_back(std::string("sym:") + buf);
  }
  for (uint32_t i = 0; i < edges; ++i) p.edges.emplace_back(rng() % nodes, rng() % nodes);
  for (uint32_t i = 0; i < 16; ++i) p.entries.push_back(rng() % nodes);
  return p;
}

void BM_CsrBuild(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  const GraphParts parts = MakeParts(n, 5 * n);
  for (auto _ : state) {
    state.PauseTiming();
    GraphParts copy = parts;
    state.ResumeTiming();
    benchmark::DoNotOptimize(signals::ReachabilityGraph::Build(
        std::move(copy.ids), std::move(copy.symbols), std::move(copy.edges), std::move(copy.entries)));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 5 * n);
}
BENCHMARK(BM_CsrBuild)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_Bfs(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  GraphParts parts = MakeParts(n, 5 * n);
  // The graph caches its BFS: rebuild (and free) the graph outside the timing.
  std::shared_ptr<signals::ReachabilityGraph> graph;
  for (auto _ : state) {
    state.PauseTiming();
    graph.reset();
    GraphParts copy = parts;
    graph = signals::ReachabilityGraph::Build(std::move(copy.ids), std::move(copy.symbols),
                                              std::move(copy.edges), std::move(copy.entries));
    state.ResumeTiming();
    benchmark::DoNotOptimize(graph->Bfs().distance.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 5 * n);
}
BENCHMARK(BM_Bfs)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
