// The plugin through its C ABI, as the kernel loads it, on the SDK's fake
// host: it sees this test process, stores the module graph once per change,
// links its batches to it, and handles each refusal as the SDK guide says.
#include <gtest/gtest.h>
#include <unistd.h>
#include <signals/testing/fake_host.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "test_support.hpp"

namespace {

using signals::testing::FakeHost;
using signals::testing::MakeConfig;
using signals::testing::PluginLibrary;
using signals::testing::TestConfig;
namespace fs = std::filesystem;

std::string RegexEscape(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

const std::string& SelfRegex() {
  static const std::string regex = "^" + RegexEscape(fs::read_symlink("/proc/self/exe").string()) + "$";
  return regex;
}

// The fake host ingests runtime facts only. This host table adds what the
// kernel does with a callgraph ingest that a source can see: the document is
// checked as a stella.callgraph.v1 graph (ids unique, endpoints are nodes,
// kinds valid), stored under a new graphId (an identical document of the
// same tenant and purl answers the stored one) and made known to the fake
// host, so that facts naming it are accepted. It can also refuse one line of
// the next fact batch. Everything else goes to the fake host.
class GraphHost {
 public:
  struct Graph {
    std::string id, tenant, purl, language, body;
  };

  explicit GraphHost(FakeHost& fake) : fake_(fake) {
    table_ = *fake.table();
    table_.ctx = this;
    table_.log = [](void* c, int32_t l, const char* comp, const char* m) {
      F(c)->log(F(c)->ctx, l, comp, m);
    };
    table_.now_unix_ms = [](void* c) { return F(c)->now_unix_ms(F(c)->ctx); };
    table_.counter_add = [](void* c, const char* n, const char* l, double d) {
      F(c)->counter_add(F(c)->ctx, n, l, d);
    };
    table_.gauge_set = [](void* c, const char* n, const char* l, double v) {
      F(c)->gauge_set(F(c)->ctx, n, l, v);
    };
    table_.histogram_observe = [](void* c, const char* n, const char* l, double v) {
      F(c)->histogram_observe(F(c)->ctx, n, l, v);
    };
    table_.query = [](void* c, const char* r, signals_sink s, void* x) {
      return F(c)->query(F(c)->ctx, r, s, x);
    };
    table_.call = [](void* c, const char* r, signals_sink s, void* x) {
      return F(c)->call(F(c)->ctx, r, s, x);
    };
    table_.ingest_begin = &Begin;
    table_.ingest_write = &Write;
    table_.ingest_finish = &Finish;
    table_.ingest_abort = &Abort;
  }

  const signals_host* table() const { return &table_; }
  std::vector<Graph> Graphs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return graphs_;
  }
  // Callgraph ingests, including those answered with a stored graph.
  size_t GraphIngests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return graph_ingests_;
  }
  void RejectLineOfNextBatch(int64_t line) {
    std::lock_guard<std::mutex> lock(mutex_);
    reject_line_ = line;
  }

 private:
  struct CallgraphIngest {
    Graph graph;
  };

  static GraphHost& Self(void* c) { return *static_cast<GraphHost*>(c); }
  static const signals_host* F(void* c) { return Self(c).fake_.table(); }
  static void Emit(signals_sink sink, void* ctx, const std::string& text) {
    sink(ctx, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }

  static signals_status Begin(void* c, const char* request, signals_ingest** out, signals_sink sink,
                              void* ctx) {
    GraphHost& self = Self(c);
    auto r = signals::support::JsonObject::Parse(request);
    if (!r || r->String("kind") != "callgraph") return F(c)->ingest_begin(F(c)->ctx, request, out, sink, ctx);
    auto* ingest = new CallgraphIngest;
    ingest->graph.tenant = r->String("tenant", "global");
    ingest->graph.purl = r->String("componentPurl");
    ingest->graph.language = r->String("language");
    std::lock_guard<std::mutex> lock(self.mutex_);
    self.open_.insert(ingest);
    *out = reinterpret_cast<signals_ingest*>(ingest);
    return SIGNALS_OK;
  }
  static signals_status Write(void* c, signals_ingest* i, signals_bytes chunk, signals_sink sink, void* ctx) {
    GraphHost& self = Self(c);
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      auto it = self.open_.find(reinterpret_cast<CallgraphIngest*>(i));
      if (it != self.open_.end()) {
        (*it)->graph.body.append(reinterpret_cast<const char*>(chunk.data), chunk.len);
        return SIGNALS_OK;
      }
    }
    return F(c)->ingest_write(F(c)->ctx, i, chunk, sink, ctx);
  }
  static signals_status Finish(void* c, signals_ingest* i, signals_sink sink, void* ctx) {
    GraphHost& self = Self(c);
    std::unique_lock<std::mutex> lock(self.mutex_);
    auto it = self.open_.find(reinterpret_cast<CallgraphIngest*>(i));
    if (it == self.open_.end()) {
      if (self.reject_line_ > 0) {
        const int64_t line = self.reject_line_;
        self.reject_line_ = 0;
        lock.unlock();
        F(c)->ingest_abort(F(c)->ctx, i);
        Emit(sink, ctx,
             "{\"type\":\"urn:signals:problem:required\",\"title\":\"invalid\",\"status\":400,\"code\":"
             "\"invalid\","
             "\"detail\":\"line " +
                 std::to_string(line) +
                 ": scripted by the test\",\"rule\":\"required\",\"line\":" + std::to_string(line) + "}");
        return SIGNALS_INVALID_ARGUMENT;
      }
      lock.unlock();
      return F(c)->ingest_finish(F(c)->ctx, i, sink, ctx);
    }
    std::unique_ptr<CallgraphIngest> ingest(*it);
    self.open_.erase(it);
    ++self.graph_ingests_;
    const std::string problem = Check(ingest->graph.body);
    if (!problem.empty()) {
      Emit(sink, ctx, "{\"status\":400,\"code\":\"invalid\",\"detail\":\"" + problem + "\"}");
      return SIGNALS_INVALID_ARGUMENT;
    }
    for (const Graph& g : self.graphs_) {
      if (g.tenant == ingest->graph.tenant && g.purl == ingest->graph.purl && g.body == ingest->graph.body) {
        Emit(sink, ctx, "{\"graphId\":\"" + g.id + "\"}");
        return SIGNALS_OK;
      }
    }
    ingest->graph.id = "01GRAPH" + std::string(18, '0') + std::to_string(self.graphs_.size() % 10);
    self.graphs_.push_back(ingest->graph);
    lock.unlock();
    self.fake_.AddCallgraph(ingest->graph.tenant, ingest->graph.id);
    Emit(sink, ctx,
         "{\"graphId\":\"" + ingest->graph.id + "\",\"language\":\"" + ingest->graph.language + "\"}");
    return SIGNALS_OK;
  }
  static void Abort(void* c, signals_ingest* i) {
    GraphHost& self = Self(c);
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      auto it = self.open_.find(reinterpret_cast<CallgraphIngest*>(i));
      if (it != self.open_.end()) {
        delete *it;
        self.open_.erase(it);
        return;
      }
    }
    F(c)->ingest_abort(F(c)->ctx, i);
  }

  // The graph rules of kernel/README.md#callgraphs a source can break.
  static std::string Check(const std::string& body) {
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    if (!doc.is_object() || !doc.contains("nodes")) return "not a stella.callgraph.v1 document";
    std::set<std::string> ids;
    for (const auto& n : doc["nodes"]) {
      if (!n.contains("id") || !ids.insert(n["id"].get<std::string>()).second)
        return "node id missing or repeated";
    }
    for (const auto& e : doc["edges"]) {
      if (!ids.count(e.value("sourceId", "")) || !ids.count(e.value("targetId", "")))
        return "edge endpoint not a node";
      if (e.value("kind", "") != "static") return "edge kind";
    }
    for (const auto& e : doc["entrypoints"]) {
      if (!ids.count(e.value("nodeId", ""))) return "entrypoint not a node";
      if (e.value("kind", "") != "main") return "entrypoint kind";
    }
    return "";
  }

  FakeHost& fake_;
  signals_host table_{};
  std::mutex mutex_;
  std::set<CallgraphIngest*> open_;
  std::vector<Graph> graphs_;
  size_t graph_ingests_ = 0;
  int64_t reject_line_ = 0;
};

// An instance made with any host table (the SDK's Instance takes a FakeHost).
class Source {
 public:
  Source(const signals_component& component, const signals_host* host, const TestConfig& config)
      : component_(component), config_(config) {
    char error[1024] = {0};
    const signals_status s = component.create(host, config.get(), &instance_, error, sizeof error);
    if (s != SIGNALS_OK) throw std::runtime_error(error);
  }
  ~Source() {
    Stop();
    component_.destroy(instance_);
  }
  signals_status Start() { return Api().start(instance_); }
  signals_status Stop() { return Api().stop(instance_); }

 private:
  const signals_source_api& Api() const { return *static_cast<const signals_source_api*>(component_.api); }
  const signals_component& component_;
  TestConfig config_;
  void* instance_ = nullptr;
};

class SourceProcfs : public ::testing::Test {
 protected:
  const signals_component& component() { return library_.Component("source-procfs"); }
  TestConfig Config(std::map<std::string, std::string> options) {
    return MakeConfig(component(), std::move(options), dir_.path());
  }
  static constexpr const char* kGraphId = "01FIXED0000000000000000000";

  // The options of most cases: this test process, scanned every 100ms, its
  // facts linked to kGraphId; `more` adds options or overrides these.
  TestConfig SelfConfig(std::map<std::string, std::string> more = {}) {
    more.insert({{"interval", "100ms"}, {"exe_regex", SelfRegex()}, {"callgraph_id", kGraphId}});
    return Config(std::move(more));
  }

  // Runs a source made with SelfConfig(more) on `host` until the fake host
  // has seen `count` ingests, then stops it.
  ::testing::AssertionResult RunUntilIngests(const signals_host* host, size_t count,
                                             std::map<std::string, std::string> more = {}) {
    Source source(component(), host, SelfConfig(std::move(more)));
    const signals_status started = source.Start();
    if (started != SIGNALS_OK) return ::testing::AssertionFailure() << "start: status " << started;
    if (!fake_.WaitFor([&] { return fake_.Ingests().size() >= count; }))
      return ::testing::AssertionFailure() << fake_.Ingests().size() << " ingests, not " << count;
    source.Stop();
    return ::testing::AssertionSuccess();
  }

  static std::vector<nlohmann::json> Facts(const std::vector<std::string>& lines) {
    std::vector<nlohmann::json> out;
    for (const std::string& line : lines) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  static bool HasOwnExecutable(const std::vector<std::string>& lines) {
    const std::string id = "module:" + fs::read_symlink("/proc/self/exe").string();
    for (const auto& f : Facts(lines)) {
      if (f["symbolId"] == id) return true;
    }
    return false;
  }

  PluginLibrary library_{SIGNALS_PLUGIN_UNDER_TEST};
  procfs_test::TempDir dir_;
  FakeHost fake_;
};

TEST_F(SourceProcfs, StoresTheModuleGraphAndLinksItsFacts) {
  fake_.AddTenant("acme");
  GraphHost host(fake_);
  Source source(component(), host.table(),
                Config({{"tenant", "acme"},
                        {"interval", "150ms"},
                        {"exe_regex", SelfRegex()},
                        {"component_purl", "pkg:generic/test-host-modules"}}));
  ASSERT_EQ(source.Start(), SIGNALS_OK);
  ASSERT_TRUE(fake_.WaitFor([&] { return fake_.Counter("signals_source_procfs_scans_total") >= 3; }));
  ASSERT_TRUE(fake_.WaitFor([&] { return HasOwnExecutable(fake_.StoredFacts()); }));
  source.Stop();

  const auto graphs = host.Graphs();
  ASSERT_GE(graphs.size(), 1u);
  EXPECT_EQ(graphs[0].tenant, "acme");
  EXPECT_EQ(graphs[0].purl, "pkg:generic/test-host-modules");
  EXPECT_EQ(graphs[0].language, "binary");
  // Stored again only when the document changed (other cases of this test
  // binary may start and end meanwhile; each change is a new graph).
  EXPECT_EQ(host.GraphIngests(), graphs.size());
  for (size_t i = 1; i < graphs.size(); ++i) EXPECT_NE(graphs[i].body, graphs[i - 1].body);
  const auto doc = nlohmann::json::parse(graphs.back().body);
  const std::string exe_id = "module:" + fs::read_symlink("/proc/self/exe").string();
  bool entry = false;
  for (const auto& e : doc["entrypoints"]) entry = entry || e["nodeId"] == exe_id;
  EXPECT_TRUE(entry);

  std::set<std::string> graph_ids;
  for (const auto& g : graphs) graph_ids.insert(g.id);
  const auto ingests = fake_.Ingests();
  ASSERT_FALSE(ingests.empty());
  for (const auto& ingest : ingests) {
    EXPECT_TRUE(graph_ids.count(ingest.callgraph_id)) << ingest.callgraph_id;
    EXPECT_EQ(ingest.tenant, "acme");
    EXPECT_EQ(ingest.source, "procfs");
    EXPECT_EQ(ingest.idempotency_key.rfind("procfs:source.test:", 0), 0u) << ingest.idempotency_key;
    EXPECT_EQ(ingest.status, SIGNALS_OK);
  }
  bool self_seen = false;
  for (const auto& f : Facts(fake_.StoredFacts())) {
    EXPECT_EQ(f["factType"], "runtime.module.loaded");
    EXPECT_EQ(f["symbolId"].get<std::string>().rfind("module:/", 0), 0u);
    EXPECT_GE(f["hitCount"].get<int>(), 1);
    EXPECT_TRUE(f.contains("observedAt") && f.contains("processId") && f.contains("processName"));
    EXPECT_TRUE(f.contains("purl") || f["metadata"].contains("unowned") ||
                f["metadata"].contains("purlUnknown") || f["metadata"].contains("deleted"))
        << f.dump();
    self_seen = self_seen || (f["symbolId"] == exe_id && f["processId"].get<int>() <= ::getpid());
  }
  EXPECT_TRUE(self_seen);
  EXPECT_GE(fake_.Gauge("signals_source_procfs_processes"), 1);
  EXPECT_GE(fake_.Gauge("signals_source_procfs_modules"), 3);
  EXPECT_FALSE(fake_.Observations("signals_source_procfs_scan_duration_seconds").empty());
  EXPECT_TRUE(fake_.Logged("scan: ", SIGNALS_LOG_INFO));
  EXPECT_TRUE(fake_.Logged("module graph 01GRAPH", SIGNALS_LOG_INFO));
}

TEST_F(SourceProcfs, UnknownCallgraphKeepsTheBatchesUntilItExists) {
  fake_.AddTenant("acme");  // known; the configured callgraph is not (yet)
  Source source(component(), fake_.table(), SelfConfig({{"tenant", "acme"}}));
  ASSERT_EQ(source.Start(), SIGNALS_OK);  // not fatal: logged
  EXPECT_TRUE(fake_.Logged("would refuse", SIGNALS_LOG_ERROR));
  ASSERT_TRUE(fake_.WaitFor([&] {
    for (const auto& i : fake_.Ingests()) {
      if (i.status == SIGNALS_NOT_FOUND) return true;
    }
    return false;
  }));
  EXPECT_TRUE(fake_.StoredFacts().empty());
  const std::string first_key = fake_.Ingests().front().idempotency_key;
  fake_.AddCallgraph("acme", kGraphId);
  ASSERT_TRUE(fake_.WaitFor([&] { return HasOwnExecutable(fake_.StoredFacts()); }));
  source.Stop();
  // The batch refused first is the one stored first: kept, not dropped.
  for (const auto& i : fake_.Ingests()) {
    if (!i.stored) continue;
    EXPECT_EQ(i.idempotency_key, first_key);
    break;
  }
  EXPECT_TRUE(fake_.Logged("does not know", SIGNALS_LOG_ERROR));
  // Said once, however many intervals it lasted.
  size_t said = 0;
  for (const auto& l : fake_.Logs()) {
    said += l.level == SIGNALS_LOG_ERROR && l.message.find("does not know") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(said, 1u);
}

TEST_F(SourceProcfs, RetriedAndLostAnswersAreStoredOnce) {
  fake_.AddCallgraph("global", kGraphId);
  fake_.FailNextIngests(1, SIGNALS_RETRY);
  fake_.LoseNextAnswers(1);
  ASSERT_TRUE(RunUntilIngests(fake_.table(), 5));
  const auto ingests = fake_.Ingests();
  // 1st: refused with RETRY; sent again under the same key, stored, answer lost;
  // sent again: the first answer, SIGNALS_EXISTS, nothing stored twice.
  EXPECT_EQ(ingests[0].status, SIGNALS_RETRY);
  EXPECT_EQ(ingests[1].idempotency_key, ingests[0].idempotency_key);
  EXPECT_TRUE(ingests[1].stored);
  EXPECT_EQ(ingests[2].idempotency_key, ingests[0].idempotency_key);
  EXPECT_EQ(ingests[2].status, SIGNALS_EXISTS);
  std::map<std::string, int> stored;
  for (const auto& i : ingests) stored[i.idempotency_key] += i.stored ? 1 : 0;
  for (const auto& [key, count] : stored) EXPECT_LE(count, 1) << key;
}

TEST_F(SourceProcfs, ABusyKeyIsRetriedNotDropped) {
  fake_.AddCallgraph("global", kGraphId);
  fake_.FailNextIngests(1, SIGNALS_INVALID_ARGUMENT, 409,
                        "a request with this Idempotency-Key is still in progress");
  ASSERT_TRUE(RunUntilIngests(fake_.table(), 2));
  const auto ingests = fake_.Ingests();
  EXPECT_EQ(ingests[0].status, SIGNALS_INVALID_ARGUMENT);
  EXPECT_EQ(ingests[1].idempotency_key, ingests[0].idempotency_key);
  EXPECT_EQ(ingests[1].body, ingests[0].body);
  EXPECT_TRUE(ingests[1].stored);
  EXPECT_EQ(fake_.Counter("signals_source_procfs_facts_total", "result=dropped_invalid"), 0);
}

TEST_F(SourceProcfs, ARefusedLineIsDroppedAndTheRestSent) {
  fake_.AddCallgraph("global", kGraphId);
  GraphHost host(fake_);
  host.RejectLineOfNextBatch(2);
  ASSERT_TRUE(RunUntilIngests(host.table(), 2));
  const auto ingests = fake_.Ingests();
  ASSERT_TRUE(ingests[0].aborted);
  EXPECT_TRUE(ingests[1].stored);
  EXPECT_EQ(ingests[1].idempotency_key, ingests[0].idempotency_key + ":r1");  // other bytes, another key
  auto lines = [](const std::string& body) {
    std::vector<std::string> out;
    std::istringstream in(body);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  };
  std::vector<std::string> want = lines(ingests[0].body);
  ASSERT_GE(want.size(), 2u);
  want.erase(want.begin() + 1);
  EXPECT_EQ(lines(ingests[1].body), want);
  EXPECT_EQ(fake_.Counter("signals_source_procfs_facts_total", "result=dropped_invalid"), 1);
  EXPECT_TRUE(fake_.Logged("fact dropped", SIGNALS_LOG_WARN));
}

TEST_F(SourceProcfs, ARefusedBatchWithoutALineIsDropped) {
  fake_.AddCallgraph("global", kGraphId);
  fake_.FailNextIngests(1, SIGNALS_INVALID_ARGUMENT, 400, "the batch broke a rule");
  ASSERT_TRUE(RunUntilIngests(fake_.table(), 2));
  const auto ingests = fake_.Ingests();
  EXPECT_EQ(ingests[0].status, SIGNALS_INVALID_ARGUMENT);
  for (size_t i = 1; i < ingests.size(); ++i)
    EXPECT_NE(ingests[i].idempotency_key, ingests[0].idempotency_key);
  EXPECT_GT(fake_.Counter("signals_source_procfs_facts_total", "result=dropped_invalid"), 0);
}

TEST_F(SourceProcfs, BatchesAreCutAtMaxBatchFactsAndMemoryIsBounded) {
  fake_.AddCallgraph("global", kGraphId);
  ASSERT_TRUE(RunUntilIngests(fake_.table(), 3, {{"max_batch_facts", "2"}}));
  for (const auto& i : fake_.Ingests()) {
    size_t lines = 0;
    for (char c : i.body) lines += c == '\n' ? 1 : 0;
    EXPECT_LE(lines, 2u);
  }
  EXPECT_NE(fake_.Ingests()[1].idempotency_key, fake_.Ingests()[0].idempotency_key);

  // A tenant the kernel never knows: batches wait, at most max_facts_in_memory of them.
  FakeHost strict;
  strict.AddTenant("other");
  Source waiting(component(), strict.table(),
                 SelfConfig({{"tenant", "nobody"}, {"max_facts_in_memory", "5"}}));
  ASSERT_EQ(waiting.Start(), SIGNALS_OK);
  ASSERT_TRUE(strict.WaitFor(
      [&] { return strict.Counter("signals_source_procfs_facts_total", "result=dropped_memory") > 0; }));
}

TEST_F(SourceProcfs, StopIsPromptAndRepeatable) {
  Source source(component(), fake_.table(), Config({{"interval", "1h"}, {"callgraph_id", kGraphId}}));
  EXPECT_EQ(source.Stop(), SIGNALS_OK);  // before start
  ASSERT_EQ(source.Start(), SIGNALS_OK);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(source.Stop(), SIGNALS_OK);
  EXPECT_EQ(source.Stop(), SIGNALS_OK);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(SourceProcfs, BadConfiguration) {
  try {
    Source source(component(), fake_.table(), Config({{"exe_regex", "(unclosed"}}));
    FAIL() << "an invalid exe_regex was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exe_regex"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Config({{"interval", "10ms"}}), std::invalid_argument);
  EXPECT_THROW(Config({{"max_batch_facts", "0"}}), std::invalid_argument);
  EXPECT_THROW(Config({{"uid", "-1"}}), std::invalid_argument);
  EXPECT_THROW(Config({{"max_maps_bytes", "1KiB"}}), std::invalid_argument);
  EXPECT_THROW(Config({{"pid", "1"}}), std::invalid_argument);
  const TestConfig defaults = Config({});
  EXPECT_EQ(defaults.values().at("interval"), "10000");
  EXPECT_EQ(defaults.values().at("dpkg_dir"), "/var/lib/dpkg");
  EXPECT_EQ(defaults.values().count("exe_regex"), 0u);
}

}  // namespace
