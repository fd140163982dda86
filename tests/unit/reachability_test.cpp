// Reachability, drift and VEX (README.md#reachability-drift-and-vex) over graphs ingested in process
// through CallgraphIngest and facts through FactBatchIngest, on the real plugins.
#include "analysis/reachability.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "analysis/drift.hpp"
#include "analysis/reachability_graph.hpp"
#include "analysis/vex.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "ingest/fact_ingest.hpp"
#include "service/service_api.hpp"
#include "test_kernel.hpp"

namespace signals {
namespace {

using nlohmann::json;

constexpr const char* kPurl = "pkg:maven/org.acme/shop@1.2.0";

struct Edge {
  std::string from, to;
};

// A callgraph JSON document; nodes carry symbolKey "sym:<id>" unless `plain`.
std::string GraphDoc(const std::vector<std::string>& nodes, const std::vector<Edge>& edges,
                     const std::vector<std::string>& entries, bool plain = false) {
  json n = json::array(), e = json::array(), ep = json::array();
  for (const auto& id : nodes) {
    json node = {{"id", id}, {"name", id}, {"kind", "method"}};
    if (!plain) node["symbolKey"] = "sym:" + id;
    n.push_back(node);
  }
  for (const auto& edge : edges)
    e.push_back({{"sourceId", edge.from}, {"targetId", edge.to}, {"kind", "static"}});
  for (const auto& id : entries) ep.push_back({{"nodeId", id}, {"kind", "main"}});
  return json{{"schema", "stella.callgraph.v1"}, {"nodes", n}, {"edges", e}, {"entrypoints", ep}}.dump();
}

class ReachabilityTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(kernel_.Open()); }

  std::string Ingest(const std::string& doc, const std::string& purl = kPurl,
                     const std::string& tenant = "global") {
    CallgraphIngestRequest r;
    r.tenant = tenant;
    r.component_purl = purl;
    r.language = "java";
    r.source = "unit-test";
    r.principal = "scanner-worker";
    auto ingest = kernel_->BeginCallgraphIngest(r);
    EXPECT_TRUE(ingest.ok()) << ingest.status().ToString();
    if (!ingest.ok()) return "";
    EXPECT_TRUE((*ingest)->Write(doc).ok());
    auto result = (*ingest)->Finish();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->graph_id : "";
  }

  std::string Facts(const std::string& graph_id, const std::string& ndjson,
                    const std::string& tenant = "global") {
    FactIngestRequest r;
    r.tenant = tenant;
    r.callgraph_id = graph_id;
    r.source = "unit-test";
    r.principal = "tester";
    auto ingest = kernel_->BeginFactIngest(r);
    EXPECT_TRUE(ingest.ok()) << ingest.status().ToString();
    if (!ingest.ok()) return "";
    std::string id = (*ingest)->batch_id();
    EXPECT_TRUE((*ingest)->Write(ndjson).ok());
    auto result = (*ingest)->Finish();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return id;
  }

  json Reach(const std::string& graph_id, const std::vector<std::string>& targets,
             ReachOptions options = {}) {
    auto r = QueryReachability(*kernel_, graph_id, targets, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : json();
  }

  static const json& ResultFor(const json& reach, const std::string& target) {
    for (const auto& r : reach["results"]) {
      if (r["target"] == target) return r;
    }
    static const json kNone;
    ADD_FAILURE() << "no result for " << target;
    return kNone;
  }

  testing::TestKernel kernel_;
};

// --- static reachability ------------------------------------------------------------

TEST_F(ReachabilityTest, ShortestPathsThroughCyclesAndSelfLoops) {
  // main -> a -> b -> c -> a (cycle), b -> b (self-loop), c -> d; iso isolated.
  auto id =
      Ingest(GraphDoc({"main", "a", "b", "c", "d", "iso"},
                      {{"main", "a"}, {"a", "b"}, {"b", "c"}, {"c", "a"}, {"b", "b"}, {"c", "d"}}, {"main"}));
  ASSERT_FALSE(id.empty());
  json r = Reach(id, {"d", "b", "main", "iso"});
  EXPECT_EQ(r["callgraphId"], id);
  EXPECT_TRUE(r["graphDigest"].get<std::string>().rfind("sha256:", 0) == 0);
  EXPECT_EQ(ResultFor(r, "d")["path"], json({"main", "a", "b", "c", "d"}));
  EXPECT_EQ(ResultFor(r, "d")["state"], "SR");
  EXPECT_EQ(ResultFor(r, "d")["vex"]["status"], "affected");
  EXPECT_EQ(ResultFor(r, "b")["path"], json({"main", "a", "b"}));
  EXPECT_EQ(ResultFor(r, "main")["path"], json({"main"}));
  EXPECT_EQ(ResultFor(r, "iso")["reachable"], false);
  EXPECT_EQ(ResultFor(r, "iso")["state"], "SU");
  EXPECT_EQ(ResultFor(r, "iso")["path"], json::array());
  EXPECT_EQ(ResultFor(r, "iso")["vex"]["status"], "under_investigation");
}

TEST_F(ReachabilityTest, TiesBrokenBySmallestNodeId) {
  // Two shortest paths to t: via m1 and via m2; m1 < m2, entry e1 < e2.
  auto id = Ingest(GraphDoc({"e2", "e1", "m2", "m1", "t"},
                            {{"e2", "m1"}, {"e1", "m2"}, {"m2", "t"}, {"m1", "t"}}, {"e2", "e1"}));
  json r = Reach(id, {"t"});
  EXPECT_EQ(ResultFor(r, "t")["path"], json({"e2", "m1", "t"}));
}

TEST_F(ReachabilityTest, TargetsBySymbolIdAndUnknownTargets) {
  auto id = Ingest(GraphDoc({"main", "x"}, {{"main", "x"}}, {"main"}));
  json r = Reach(id, {"sym:x", "nope"});
  EXPECT_EQ(ResultFor(r, "sym:x")["node"], "x");
  EXPECT_EQ(ResultFor(r, "sym:x")["reachable"], true);
  EXPECT_EQ(ResultFor(r, "nope")["node"], nullptr);
  EXPECT_EQ(ResultFor(r, "nope")["state"], "U");
  EXPECT_EQ(ResultFor(r, "nope")["reason"], "not in graph");
  EXPECT_EQ(ResultFor(r, "nope")["vex"]["status"], "under_investigation");
}

TEST_F(ReachabilityTest, NoEntrypointsMeansNothingReachable) {
  auto id = Ingest(GraphDoc({"a", "b"}, {{"a", "b"}}, {}));
  json r = Reach(id, {"a", "b"});
  for (const auto& x : r["results"]) {
    EXPECT_EQ(x["reachable"], false);
    EXPECT_EQ(x["state"], "SU");
  }
}

TEST_F(ReachabilityTest, HugeFanOut) {
  std::vector<std::string> nodes = {"root"};
  std::vector<Edge> edges;
  for (int i = 0; i < 20000; ++i) {
    nodes.push_back("n" + std::to_string(i));
    edges.push_back({"root", nodes.back()});
    edges.push_back({nodes.back(), "sink"});
  }
  nodes.push_back("sink");
  auto id = Ingest(GraphDoc(nodes, edges, {"root"}, true));
  json r = Reach(id, {"sink", "n19999"});
  // Parent of sink: smallest id among n0..n19999 → "n0".
  EXPECT_EQ(ResultFor(r, "sink")["path"], json({"root", "n0", "sink"}));
  EXPECT_EQ(ResultFor(r, "n19999")["path"], json({"root", "n19999"}));
}

// --- lattice with runtime facts -------------------------------------------------------

TEST_F(ReachabilityTest, LatticeStatesWithObservationWindow) {
  auto id = Ingest(
      GraphDoc({"main", "hit", "quiet", "dead", "deadhit"}, {{"main", "hit"}, {"main", "quiet"}}, {"main"}));
  auto batch1 = Facts(id, R"({"symbolId":"sym:hit","hitCount":3})"
                          "\n"
                          R"({"symbolId":"deadhit"})"
                          "\n"
                          R"({"symbolId":"ghost","hitCount":2})"
                          "\n");
  auto batch2 = Facts(id, R"({"symbolId":"sym:hit"})"
                          "\n");
  json r = Reach(id, {"hit", "quiet", "dead", "deadhit", "ghost", "unknown"});
  EXPECT_EQ(ResultFor(r, "hit")["state"], "CR");
  EXPECT_EQ(ResultFor(r, "hit")["runtimeHits"], 4);
  std::vector<std::string> both = {batch1, batch2};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(ResultFor(r, "hit")["batchIds"], json(both));
  EXPECT_EQ(ResultFor(r, "hit")["vex"]["status"], "affected");
  EXPECT_EQ(ResultFor(r, "quiet")["state"], "RU");
  EXPECT_EQ(ResultFor(r, "quiet")["vex"]["status"], "under_investigation");
  EXPECT_EQ(ResultFor(r, "dead")["state"], "CU");
  EXPECT_EQ(ResultFor(r, "dead")["vex"],
            json({{"status", "not_affected"}, {"justification", "vulnerable_code_not_in_execute_path"}}));
  EXPECT_EQ(ResultFor(r, "deadhit")["state"], "X");
  EXPECT_EQ(ResultFor(r, "deadhit")["vex"]["status"], "under_investigation");
  EXPECT_EQ(ResultFor(r, "ghost")["state"], "RO");
  EXPECT_EQ(ResultFor(r, "ghost")["runtimeHits"], 2);
  EXPECT_EQ(ResultFor(r, "ghost")["vex"]["status"], "affected");
  EXPECT_EQ(ResultFor(r, "unknown")["state"], "U");

  ReachOptions warn;
  warn.unconfirmed_as_not_affected = true;
  json w = Reach(id, {"quiet"}, warn);
  EXPECT_EQ(ResultFor(w, "quiet")["vex"]["status"], "not_affected");
  EXPECT_TRUE(ResultFor(w, "quiet")["vex"].contains("warning"));

  ReachOptions other;
  other.batch_tenants = std::vector<std::string>{"acme"};  // the batches are global: not counted
  json o = Reach(id, {"hit"}, other);
  EXPECT_EQ(ResultFor(o, "hit")["state"], "SR");
}

TEST(ReachabilityLattice, TableIsTotal) {
  EXPECT_EQ(LatticeState(false, false, false, 0), "U");
  EXPECT_EQ(LatticeState(false, false, true, 0), "U");
  EXPECT_EQ(LatticeState(false, false, true, 1), "RO");
  EXPECT_EQ(LatticeState(true, true, false, 0), "SR");
  EXPECT_EQ(LatticeState(true, false, false, 0), "SU");
  EXPECT_EQ(LatticeState(true, true, true, 1), "CR");
  EXPECT_EQ(LatticeState(true, true, true, 0), "RU");
  EXPECT_EQ(LatticeState(true, false, true, 1), "X");
  EXPECT_EQ(LatticeState(true, false, true, 0), "CU");
  for (const char* s : {"CR", "RO", "SR"}) EXPECT_EQ(VexForState(s, false)["status"], "affected");
  for (const char* s : {"SU", "RU", "U", "X"})
    EXPECT_EQ(VexForState(s, false)["status"], "under_investigation");
  EXPECT_EQ(VexForState("SU", true)["status"], "not_affected");
  EXPECT_EQ(VexForState("X", true)["status"], "under_investigation");
}

// --- determinism ---------------------------------------------------------------------

TEST_F(ReachabilityTest, SameBytesAcrossInputOrderings) {
  std::mt19937 rng(7);
  std::vector<std::string> nodes;
  for (int i = 0; i < 300; ++i) nodes.push_back("n" + std::to_string(i));
  std::vector<Edge> edges;
  for (int i = 0; i < 1200; ++i) edges.push_back({nodes[rng() % nodes.size()], nodes[rng() % nodes.size()]});
  std::vector<std::string> entries = {"n1", "n2", "n3"};
  auto a = Ingest(GraphDoc(nodes, edges, entries));
  std::shuffle(nodes.begin(), nodes.end(), rng);
  std::shuffle(edges.begin(), edges.end(), rng);
  std::reverse(entries.begin(), entries.end());
  // The same canonical graph is deduplicated to the same id; use another purl.
  auto b = Ingest(GraphDoc(nodes, edges, entries), "pkg:maven/org.acme/shop@1.3.0");
  std::vector<std::string> targets(nodes.begin(), nodes.end());
  std::sort(targets.begin(), targets.end());
  json ra = Reach(a, targets), rb = Reach(b, targets);
  ASSERT_EQ(ra["graphDigest"], rb["graphDigest"]);
  EXPECT_EQ(ra["results"].dump(), rb["results"].dump());
}

// --- drift -----------------------------------------------------------------------------

TEST_F(ReachabilityTest, DriftBothDirections) {
  auto base =
      Ingest(GraphDoc({"main", "a", "old_sink", "new_sink"}, {{"main", "a"}, {"a", "old_sink"}}, {"main"}),
             "pkg:maven/org.acme/shop@1.0.0");
  auto head = Ingest(
      GraphDoc({"main", "a", "old_sink", "new_sink", "b"}, {{"main", "b"}, {"b", "new_sink"}}, {"main"}),
      "pkg:maven/org.acme/shop@2.0.0");
  auto sinks = ParseSinkList("old_sink\tdeser\nre:sym:new_.*\trce\n# comment\n\n");
  ASSERT_TRUE(sinks.ok());
  ASSERT_EQ(sinks->size(), 2u);
  auto d = QueryDrift(*kernel_, base, head, *sinks);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["counts"], json({{"newlyReachable", 1}, {"newlyUnreachable", 1}}));
  EXPECT_EQ((*d)["newlyReachable"][0]["sink"], "new_sink");
  EXPECT_EQ((*d)["newlyReachable"][0]["category"], "rce");
  EXPECT_EQ((*d)["newlyReachable"][0]["path"], json({"main", "b", "new_sink"}));
  EXPECT_EQ((*d)["newlyUnreachable"][0]["sink"], "old_sink");
  EXPECT_EQ((*d)["newlyUnreachable"][0]["category"], "deser");
  EXPECT_EQ((*d)["newlyUnreachable"][0]["path"], json({"main", "a", "old_sink"}));
  // resultDigest covers the rest; reversed direction swaps the lists.
  auto again = QueryDrift(*kernel_, base, head, *sinks);
  EXPECT_EQ(d->dump(), again->dump());
  auto reverse = QueryDrift(*kernel_, head, base, *sinks);
  ASSERT_TRUE(reverse.ok());
  EXPECT_EQ((*reverse)["newlyReachable"][0]["sink"], "old_sink");
  EXPECT_EQ((*reverse)["newlyUnreachable"][0]["sink"], "new_sink");
  EXPECT_NE((*reverse)["resultDigest"], (*d)["resultDigest"]);
}

TEST_F(ReachabilityTest, DriftRejectsDifferentComponentsAndTenantsAndBadInput) {
  auto a = Ingest(GraphDoc({"m"}, {}, {"m"}), "pkg:maven/org.acme/shop@1.0.0");
  auto other = Ingest(GraphDoc({"m"}, {}, {"m"}), "pkg:maven/org.acme/cart@1.0.0");
  auto s = ParseSinkList("m\n");
  auto d = QueryDrift(*kernel_, a, other, *s);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kHashMismatch);
  EXPECT_EQ(d.status().rule(), "same-component");
  EXPECT_NE(d.status().message().find(a), std::string::npos);
  EXPECT_NE(d.status().message().find(other), std::string::npos);

  ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
  auto t = Ingest(GraphDoc({"m"}, {}, {"m"}), "pkg:maven/org.acme/shop@1.0.0", "acme");
  auto dt = QueryDrift(*kernel_, a, t, *s);
  ASSERT_FALSE(dt.ok());
  EXPECT_EQ(dt.status().rule(), "same-component");

  auto missing = QueryDrift(*kernel_, a, "01ARZ3NDEKTSV4RRFFQ69G5FAV", *s);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);

  auto bad = ParseSinkList("re:([\n");
  auto db = QueryDrift(*kernel_, a, a, *bad);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().rule(), "sink-regex");
}

// --- VEX --------------------------------------------------------------------------------

TEST_F(ReachabilityTest, VexDocumentShape) {
  auto id = Ingest(GraphDoc({"main", "vuln", "dead"}, {{"main", "vuln"}}, {"main"}));
  auto v = BuildVex(*kernel_, id, "CVE-2024-0001", {"sym:vuln"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const json& doc = (*v)["document"];
  EXPECT_EQ(doc["@context"], "https://openvex.dev/ns/v0.2.0");
  EXPECT_EQ(doc["version"], 1);
  ASSERT_EQ(doc["statements"].size(), 1u);
  const json& st = doc["statements"][0];
  EXPECT_EQ(st["status"], "affected");
  EXPECT_TRUE(st.contains("action_statement"));
  EXPECT_EQ(st["products"][0]["@id"], kPurl);
  EXPECT_NE(st["status_notes"].get<std::string>().find("main -> vuln"), std::string::npos);

  // Unreachable with an observation window → not_affected with justification.
  Facts(id, R"({"symbolId":"sym:main"})"
            "\n");
  auto n = BuildVex(*kernel_, id, "CVE-2024-0001", {"dead"});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ((*n)["document"]["statements"][0]["status"], "not_affected");
  EXPECT_EQ((*n)["document"]["statements"][0]["justification"], "vulnerable_code_not_in_execute_path");
  auto again = BuildVex(*kernel_, id, "CVE-2024-0001", {"dead"});
  EXPECT_EQ((*n)["document"]["@id"], (*again)["document"]["@id"]);
}

// --- service operations ----------------------------------------------------------------

TEST_F(ReachabilityTest, ServiceOperationsAuthoriseLikeCallgraphReads) {
  auto id = Ingest(GraphDoc({"main", "x"}, {{"main", "x"}}, {"main"}));
  Principal service{"signals-service", {}, true};
  auto q = kernel_->service().Call({{"op", "reachability.query"}, {"callgraphId", id}, {"targets", {"x"}}},
                                   service);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ((*q)["results"][0]["state"], "SR");
  auto d = kernel_->service().Call(
      {{"op", "reachability.drift"}, {"baseGraphId", id}, {"headGraphId", id}, {"sinks", {"x\tcat"}}},
      service);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["counts"]["newlyReachable"], 0);
  auto v = kernel_->service().Call(
      {{"op", "reachability.vex"}, {"callgraphId", id}, {"vulnerability", "CVE-1"}, {"symbols", {"x"}}},
      service);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ((*v)["statements"][0]["status"], "affected");

  Principal anonymous{"anonymous", {}, false};
  auto a = kernel_->service().Call({{"op", "reachability.query"}, {"callgraphId", id}, {"targets", {"x"}}},
                                   anonymous);
  EXPECT_EQ(a.status().code(), Code::kUnauthenticated);
  Principal agent{"runtime-agent", {"global"}, false};
  auto f =
      kernel_->service().Call({{"op", "reachability.query"}, {"callgraphId", id}, {"targets", {"x"}}}, agent);
  EXPECT_EQ(f.status().code(), Code::kForbidden);
  Principal engine{"policy-engine", {"global"}, false};
  auto ok = kernel_->service().Call({{"op", "reachability.query"}, {"callgraphId", id}, {"targets", {"x"}}},
                                    engine);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto nf = kernel_->service().Call(
      {{"op", "reachability.query"}, {"callgraphId", "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, {"targets", {"x"}}},
      engine);
  EXPECT_EQ(nf.status().code(), Code::kNotFound);
}

// --- CSR and cache -------------------------------------------------------------------------

TEST(ReachabilityGraphBuild, DeduplicatesEdgesAndKeepsSelfLoops) {
  auto g = ReachabilityGraph::Build({"a", "b", "c"}, {"", "", ""}, {{0, 1}, {0, 1}, {1, 1}, {1, 2}}, {0, 0});
  EXPECT_EQ(g->edge_count(), 3u);
  EXPECT_EQ(g->entrypoints, std::vector<uint32_t>({0}));
  EXPECT_EQ(g->PathTo(2), std::vector<std::string>({"a", "b", "c"}));
}

TEST_F(ReachabilityTest, CacheIsBoundedByConfig) {
  ASSERT_NO_FATAL_FAILURE(kernel_.Open({{"reachability.cache_graphs", "1"}}));
  auto a = Ingest(GraphDoc({"m"}, {}, {"m"}), "pkg:maven/org.acme/shop@1.0.0");
  auto b = Ingest(GraphDoc({"m", "n"}, {}, {"m"}), "pkg:maven/org.acme/shop@2.0.0");
  auto before = GetReachabilityCacheStats();
  ASSERT_TRUE(LoadReachabilityGraph(*kernel_, a).ok());
  ASSERT_TRUE(LoadReachabilityGraph(*kernel_, a).ok());
  ASSERT_TRUE(LoadReachabilityGraph(*kernel_, b).ok());
  ASSERT_TRUE(LoadReachabilityGraph(*kernel_, a).ok());
  auto after = GetReachabilityCacheStats();
  EXPECT_EQ(after.loads - before.loads, 3u);
  EXPECT_EQ(after.hits - before.hits, 1u);
  EXPECT_EQ(after.size, 1u);
}

}  // namespace
}  // namespace signals
