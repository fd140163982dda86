// The metrics registry and its snapshot (the JSON that plugin.h's
// signals_metrics_api describes), the families the kernel pre-registers, and
// the kernel's "metrics" operations rendered by the real metrics-prometheus
// plugin of the build tree.
#include "core/metrics_registry.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "core/metrics_catalog.hpp"
#include "service/service_api.hpp"
#include "test_kernel.hpp"

namespace signals {
namespace {

using nlohmann::json;

const json* FamilyOf(const json& snapshot, const std::string& name) {
  for (const auto& f : snapshot["families"]) {
    if (f["name"] == name) return &f;
  }
  return nullptr;
}

TEST(MetricsRegistryTest, SnapshotSortsFamiliesByNameAndSeriesByLabels) {
  MetricsRegistry m;
  m.CounterAdd("zeta_total", "tenant=b,language=java", 1);
  m.CounterAdd("zeta_total", "language=java,tenant=a", 2);
  m.CounterAdd("zeta_total", "language=go,tenant=z", 3);
  m.GaugeSet("alpha", "", 7);
  json s = m.Snapshot();
  ASSERT_EQ(s["families"].size(), 2u);
  EXPECT_EQ(s["families"][0]["name"], "alpha");
  EXPECT_EQ(s["families"][0]["type"], "gauge");
  const json& series = s["families"][1]["series"];
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0], json({{"labels", {{"language", "go"}, {"tenant", "z"}}}, {"value", 3}}));
  EXPECT_EQ(series[1], json({{"labels", {{"language", "java"}, {"tenant", "a"}}}, {"value", 2}}));
  EXPECT_EQ(series[2], json({{"labels", {{"language", "java"}, {"tenant", "b"}}}, {"value", 1}}));
  // Label order in the update does not make another series.
  EXPECT_EQ(m.Value("zeta_total", "tenant=b,language=java"), 1);
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeUpToTenMillionThenInf) {
  MetricsRegistry m;
  m.Describe("sizes", MetricType::kHistogram, "Sizes.", MetricsRegistry::SizeBuckets());
  for (double v : {1.0, 3.0, 1e7, 1e7 + 1}) m.HistogramObserve("sizes", "", v);
  json s = m.Snapshot()["families"][0]["series"][0];
  const json& buckets = s["buckets"];
  ASSERT_EQ(buckets.size(), 23u);  // 1, 2.5, 5 per decade up to 10^7, and +Inf
  EXPECT_EQ(buckets[0], json::array({1.0, 1}));
  EXPECT_EQ(buckets[1], json::array({2.5, 1}));
  EXPECT_EQ(buckets[2], json::array({5.0, 2}));
  EXPECT_EQ(buckets[21], json::array({1e7, 3}));
  EXPECT_EQ(buckets[22], json::array({"+Inf", 4}));
  EXPECT_EQ(s["count"], 4);
  EXPECT_EQ(s["sum"], 1 + 3 + 2e7 + 1);
  EXPECT_EQ(m.HistogramCount("sizes", ""), 4u);
}

TEST(MetricsRegistryTest, UnknownHistogramsGetBucketsByName) {
  MetricsRegistry m;
  m.HistogramObserve("plugin_wait_seconds", "", 0.002);
  m.HistogramObserve("plugin_items", "", 3);
  json s = m.Snapshot();
  EXPECT_EQ(s["families"][0]["name"], "plugin_items");
  EXPECT_EQ(s["families"][0]["series"][0]["buckets"].size(), MetricsRegistry::SizeBuckets().size() + 1);
  EXPECT_EQ(s["families"][1]["series"][0]["buckets"].size(), MetricsRegistry::SecondsBuckets().size() + 1);
}

TEST(MetricsRegistryTest, DropsWhatTheExpositionCannotCarryAndCountsIt) {
  MetricsRegistry m;
  m.CounterAdd("bad-name_total", "", 1);
  m.CounterAdd("no_suffix", "", 1);
  m.CounterAdd("ok_total", "le=1", 1);
  m.CounterAdd("ok_total", "__reserved=1", 1);
  m.CounterAdd("ok_total", "a=1,a=2", 1);
  m.CounterAdd("ok_total", "", -1);
  m.GaugeSet("ok_total", "", 1);  // creates ok_total as a gauge
  m.CounterAdd("ok_total", "", 2);
  m.GaugeSet("ok_total", "", 5);
  EXPECT_EQ(m.Value("signals_metrics_dropped_total", "reason=name"), 1);
  EXPECT_EQ(m.Value("signals_metrics_dropped_total", "reason=counter-suffix"), 1);
  EXPECT_EQ(m.Value("signals_metrics_dropped_total", "reason=label"), 3);
  EXPECT_EQ(m.Value("signals_metrics_dropped_total", "reason=value"), 1);
  // The first gauge update created ok_total as a gauge; the counter update
  // then clashes with it.
  EXPECT_EQ(m.Value("signals_metrics_dropped_total", "reason=type"), 1);
  EXPECT_EQ(m.Value("ok_total", ""), 5);
}

// JSON has no NaN or infinities: a gauge or a histogram sum holding one
// travels as the exposition format's string, so the snapshot stays JSON and
// the scrape renders; updates no metric type can carry are dropped and counted.
TEST(MetricsRegistryTest, NonFiniteValuesTravelAsExpositionStrings) {
  MetricsRegistry m;
  m.GaugeSet("g_nan", "", std::numeric_limits<double>::quiet_NaN());
  m.GaugeSet("g_pos", "", std::numeric_limits<double>::infinity());
  m.GaugeSet("g_neg", "", -std::numeric_limits<double>::infinity());
  m.HistogramObserve("h_bytes", "", std::numeric_limits<double>::infinity());
  m.HistogramObserve("h_bytes", "", std::numeric_limits<double>::quiet_NaN());
  m.CounterAdd("c_total", "", std::numeric_limits<double>::infinity());
  const json snapshot = m.Snapshot();
  ASSERT_NE(FamilyOf(snapshot, "g_nan"), nullptr);
  EXPECT_EQ((*FamilyOf(snapshot, "g_nan"))["series"][0]["value"], "NaN");
  EXPECT_EQ((*FamilyOf(snapshot, "g_pos"))["series"][0]["value"], "+Inf");
  EXPECT_EQ((*FamilyOf(snapshot, "g_neg"))["series"][0]["value"], "-Inf");
  const json& h = (*FamilyOf(snapshot, "h_bytes"))["series"][0];
  EXPECT_EQ(h["sum"], "+Inf");
  EXPECT_EQ(h["count"], 1) << "the NaN observation is dropped";
  EXPECT_EQ(m.Value("signals_metrics_dropped_total", "reason=value"), 2);
  EXPECT_EQ(json::parse(snapshot.dump()), snapshot) << "the snapshot is plain JSON";
}

TEST(MetricsRegistryTest, LabelValuesKeepEverythingButCommas) {
  MetricsRegistry m;
  m.CounterAdd("x_total", "route=/signals/runtime-facts/{batchId},q=a\"b\\c=d", 1);
  json series = m.Snapshot()["families"][0]["series"][0];
  EXPECT_EQ(series["labels"], json({{"q", "a\"b\\c=d"}, {"route", "/signals/runtime-facts/{batchId}"}}));
}

TEST(MetricsCatalogTest, EveryDesignFamilyExistsBeforeAnything) {
  MetricsRegistry m;
  DescribeSignalsMetrics(m);
  json s = m.Snapshot();
  struct Expect {
    const char* name;
    const char* type;
  };
  for (const Expect& e :
       {Expect{"signals_callgraphs_stored_total", "counter"}, Expect{"signals_callgraph_nodes", "histogram"},
        Expect{"signals_runtime_facts_ingested_total", "counter"},
        Expect{"signals_runtime_fact_batches_ingested_total", "counter"},
        Expect{"signals_runtime_facts_batch_size", "histogram"},
        Expect{"signals_provenance_records_total", "counter"},
        Expect{"signals_attestations_created_total", "counter"},
        Expect{"signals_cas_operations_total", "counter"}, Expect{"signals_http_requests_total", "counter"},
        Expect{"signals_http_request_duration_seconds", "histogram"},
        Expect{"signals_tlog_queue_depth", "gauge"}, Expect{"signals_plugin_up", "gauge"},
        Expect{"signals_build_info", "gauge"}}) {
    const json* f = FamilyOf(s, e.name);
    ASSERT_NE(f, nullptr) << e.name;
    EXPECT_EQ((*f)["type"], e.type) << e.name;
    EXPECT_FALSE((*f)["help"].get<std::string>().empty()) << e.name;
  }
  EXPECT_EQ(m.Value("signals_provenance_records_total", ""), 0);
  EXPECT_EQ((*FamilyOf(s, "signals_tlog_queue_depth"))["series"].size(), 1u);
  EXPECT_EQ((*FamilyOf(s, "signals_runtime_facts_batch_size"))["series"][0]["count"], 0);
  EXPECT_TRUE((*FamilyOf(s, "signals_runtime_fact_batches_ingested_total"))["series"].empty());
  const json& build = (*FamilyOf(s, "signals_build_info"))["series"][0];
  EXPECT_EQ(build["value"], 1);
  EXPECT_FALSE(build["labels"]["version"].get<std::string>().empty());
  EXPECT_FALSE(build["labels"]["revision"].get<std::string>().empty());
}

class KernelMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(kernel_.Open()); }
  testing::TestKernel kernel_;
};

TEST_F(KernelMetricsTest, RendersThroughTheMetricsPluginWithPluginHealth) {
  auto rendered = kernel_->RenderMetrics();
  ASSERT_TRUE(rendered.ok()) << rendered.status().ToString();
  EXPECT_EQ((*rendered)["contentType"], "text/plain; version=0.0.4; charset=utf-8");
  const std::string text = (*rendered)["text"];
  EXPECT_NE(text.find("# TYPE signals_runtime_fact_batches_ingested_total counter\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("signals_plugin_up{plugin=\"cas-fs\",section=\"cas\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("signals_plugin_up{plugin=\"metrics-prometheus\",section=\"metrics\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("signals_tlog_queue_depth 0\n"), std::string::npos) << text;
}

TEST_F(KernelMetricsTest, ServiceOperationsAnswerTextAndSnapshot) {
  auto text = kernel_->service().Call(json{{"op", "metrics"}}, Principal{"anonymous", {}, false});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_TRUE((*text)["text"].is_string());
  auto snapshot =
      kernel_->service().Call(json{{"op", "metrics.snapshot"}}, Principal{"anonymous", {}, false});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_NE(FamilyOf(*snapshot, "signals_plugin_up"), nullptr);
}

}  // namespace
}  // namespace signals
