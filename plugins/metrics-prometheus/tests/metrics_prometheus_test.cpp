// metrics_prometheus_test.cpp — the metrics-prometheus plugin through its C
// ABI (PluginUnderTest, no kernel): exact text of a rendered snapshot, escaping,
// histograms, sorting, refusals, and its own listener answering over real HTTP
// on loopback. The rendered text is checked against promtool by
// tests/integration/metrics_test.sh.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <signals/testing/fake_host.hpp>

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

signals::testing::PluginUnderTest& Harness() {
  static signals::testing::PluginUnderTest harness(SIGNALS_PLUGIN_UNDER_TEST);
  return harness;
}

class Exposer {
 public:
  explicit Exposer(std::map<std::string, std::string> options = {})
      : component_(Harness().Component("metrics-prometheus")),
        api_(static_cast<const signals_metrics_api*>(component_.api)) {
    dir_ = fs::temp_directory_path() / ("metrics-prometheus-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::string error;
    signals_status s =
        Harness().Create("metrics-prometheus", std::move(options), dir_.string(), &instance_, &error);
    if (s != SIGNALS_OK) throw std::runtime_error("create: " + error);
  }
  ~Exposer() {
    api_->stop(instance_);
    component_.destroy(instance_);
    fs::remove_all(dir_);
  }

  // The rendered text, or "ERROR: <last_error>".
  std::string Render(const json& snapshot) {
    std::string text;
    const std::string bytes = snapshot.dump();
    signals_bytes b{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
    signals_status s = api_->render(instance_, b, &signals::testing::FakeHost::Append, &text);
    if (s != SIGNALS_OK) return std::string("ERROR: ") + component_.last_error(instance_);
    return text;
  }
  std::string ContentType() { return api_->content_type(instance_); }
  signals_status Start() { return api_->start(instance_); }
  signals_status Health() { return component_.health(instance_); }

 private:
  const signals_component& component_;
  const signals_metrics_api* api_;
  void* instance_ = nullptr;
  fs::path dir_;
};

json Family(const std::string& name, const std::string& type, const std::string& help, json series) {
  return {{"name", name}, {"type", type}, {"help", help}, {"series", std::move(series)}};
}

json Snapshot(json families) { return {{"families", std::move(families)}}; }

TEST(MetricsPrometheusTest, RendersCountersGaugesAndHistogramsExactly) {
  Exposer e;
  json snapshot = Snapshot({
      Family("signals_provenance_records_total", "counter", "Provenance records written.",
             {{{"labels", json::object()}, {"value", 3}}}),
      Family("signals_runtime_facts_batch_size", "histogram", "Runtime facts per committed batch.",
             {{{"labels", json::object()},
               {"buckets", {{1, 0}, {2.5, 1}, {10000000, 2}, {"+Inf", 3}}},
               {"sum", 20000002.5},
               {"count", 3}}}),
      Family("signals_tlog_queue_depth", "gauge", "Envelopes waiting.",
             {{{"labels", json::object()}, {"value", 0}}}),
  });
  EXPECT_EQ(e.Render(snapshot),
            "# HELP signals_provenance_records_total Provenance records written.\n"
            "# TYPE signals_provenance_records_total counter\n"
            "signals_provenance_records_total 3\n"
            "# HELP signals_runtime_facts_batch_size Runtime facts per committed batch.\n"
            "# TYPE signals_runtime_facts_batch_size histogram\n"
            "signals_runtime_facts_batch_size_bucket{le=\"1\"} 0\n"
            "signals_runtime_facts_batch_size_bucket{le=\"2.5\"} 1\n"
            "signals_runtime_facts_batch_size_bucket{le=\"10000000\"} 2\n"
            "signals_runtime_facts_batch_size_bucket{le=\"+Inf\"} 3\n"
            "signals_runtime_facts_batch_size_sum 20000002.5\n"
            "signals_runtime_facts_batch_size_count 3\n"
            "# HELP signals_tlog_queue_depth Envelopes waiting.\n"
            "# TYPE signals_tlog_queue_depth gauge\n"
            "signals_tlog_queue_depth 0\n");
  EXPECT_EQ(e.ContentType(), "text/plain; version=0.0.4; charset=utf-8");
}

TEST(MetricsPrometheusTest, DropLabelsMergesSeriesThatDifferOnlyInThem) {
  Exposer e(std::map<std::string, std::string>{{"drop_labels", "tenant, other"}});
  json snapshot = Snapshot({
      Family("signals_runtime_facts_ingested_total", "counter", "Facts.",
             {{{"labels", {{"tenant", "acme"}, {"fact_type", "a.b"}}}, {"value", 3}},
              {{"labels", {{"tenant", "globex"}, {"fact_type", "a.b"}}}, {"value", 4}},
              {{"labels", {{"tenant", "globex"}, {"fact_type", "other"}}}, {"value", 1}}}),
      Family(
          "signals_batch_bytes", "histogram", "Bytes.",
          {{{"labels", {{"tenant", "acme"}}}, {"buckets", {{1, 1}, {"+Inf", 2}}}, {"sum", 5}, {"count", 2}},
           {{"labels", {{"tenant", "globex"}}},
            {"buckets", {{1, 0}, {"+Inf", 1}}},
            {"sum", 7},
            {"count", 1}}}),
      Family("signals_queue_depth", "gauge", "Depth.",
             {{{"labels", {{"tenant", "acme"}}}, {"value", 3}},
              {{"labels", {{"tenant", "globex"}}}, {"value", 5}}}),
  });
  const std::string text = e.Render(snapshot);
  EXPECT_EQ(text,
            "# HELP signals_batch_bytes Bytes.\n"
            "# TYPE signals_batch_bytes histogram\n"
            "signals_batch_bytes_bucket{le=\"1\"} 1\n"
            "signals_batch_bytes_bucket{le=\"+Inf\"} 3\n"
            "signals_batch_bytes_sum 12\n"
            "signals_batch_bytes_count 3\n"
            "# HELP signals_queue_depth Depth.\n"
            "# TYPE signals_queue_depth gauge\n"
            "signals_queue_depth 5\n"
            "# HELP signals_runtime_facts_ingested_total Facts.\n"
            "# TYPE signals_runtime_facts_ingested_total counter\n"
            "signals_runtime_facts_ingested_total{fact_type=\"a.b\"} 7\n"
            "signals_runtime_facts_ingested_total{fact_type=\"other\"} 1\n");
  EXPECT_EQ(text.find("acme"), std::string::npos);
  // Without the option every tenant has its own series.
  Exposer plain;
  EXPECT_NE(plain.Render(snapshot).find("tenant=\"acme\""), std::string::npos);
}

TEST(MetricsPrometheusTest, EscapesLabelValuesAndHelpText) {
  Exposer e;
  json snapshot = Snapshot({Family("signals_x_total", "counter", "Line one\nback\\slash \"quoted\"",
                                   {{{"labels", {{"tenant", "a\"b\\c\nd"}, {"empty", ""}}}, {"value", 1}}})});
  EXPECT_EQ(e.Render(snapshot),
            "# HELP signals_x_total Line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE signals_x_total counter\n"
            "signals_x_total{empty=\"\",tenant=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsPrometheusTest, HistogramGetsInfBucketSumAndCountPerSeries) {
  Exposer e;
  json snapshot = Snapshot({Family("signals_http_request_duration_seconds", "histogram", "Latency.",
                                   {{{"labels", {{"route", "/metrics"}, {"method", "GET"}}},
                                     {"buckets", {{0.001, 1}, {0.0025, 2}}},
                                     {"sum", 0.003},
                                     {"count", 4}},
                                    {{"labels", {{"route", "/healthz"}, {"method", "GET"}}},
                                     {"buckets", {{0.001, 0}, {0.0025, 0}, {"+Inf", 0}}},
                                     {"sum", 0},
                                     {"count", 0}}})});
  // Series sorted by label (method, then route); the missing +Inf bucket is
  // count; labels in name order with le last.
  EXPECT_EQ(
      e.Render(snapshot),
      "# HELP signals_http_request_duration_seconds Latency.\n"
      "# TYPE signals_http_request_duration_seconds histogram\n"
      "signals_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.001\"} 0\n"
      "signals_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.0025\"} 0\n"
      "signals_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 0\n"
      "signals_http_request_duration_seconds_sum{method=\"GET\",route=\"/healthz\"} 0\n"
      "signals_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 0\n"
      "signals_http_request_duration_seconds_bucket{method=\"GET\",route=\"/metrics\",le=\"0.001\"} 1\n"
      "signals_http_request_duration_seconds_bucket{method=\"GET\",route=\"/metrics\",le=\"0.0025\"} 2\n"
      "signals_http_request_duration_seconds_bucket{method=\"GET\",route=\"/metrics\",le=\"+Inf\"} 4\n"
      "signals_http_request_duration_seconds_sum{method=\"GET\",route=\"/metrics\"} 0.003\n"
      "signals_http_request_duration_seconds_count{method=\"GET\",route=\"/metrics\"} 4\n");
}

TEST(MetricsPrometheusTest, SortsFamiliesAndSeriesWhateverTheSnapshotOrder) {
  Exposer e;
  json snapshot = Snapshot({
      Family("signals_b_total", "counter", "B.",
             {{{"labels", {{"tenant", "zeta"}}}, {"value", 1}},
              {{"labels", {{"tenant", "alpha"}}}, {"value", 2}}}),
      Family("signals_a", "gauge", "A.", json::array()),
  });
  EXPECT_EQ(e.Render(snapshot),
            "# HELP signals_a A.\n"
            "# TYPE signals_a gauge\n"
            "# HELP signals_b_total B.\n"
            "# TYPE signals_b_total counter\n"
            "signals_b_total{tenant=\"alpha\"} 2\n"
            "signals_b_total{tenant=\"zeta\"} 1\n");
}

TEST(MetricsPrometheusTest, FormatsSpecialAndFractionalValues) {
  Exposer e;
  json snapshot = Snapshot({Family("signals_g", "gauge", "G.",
                                   {{{"labels", {{"k", "1"}}}, {"value", "+Inf"}},
                                    {{"labels", {{"k", "2"}}}, {"value", "NaN"}},
                                    {{"labels", {{"k", "3"}}}, {"value", -0.25}},
                                    {{"labels", {{"k", "4"}}}, {"value", 1e-9}},
                                    {{"labels", {{"k", "5"}}}, {"value", 1764000000.5}}})});
  EXPECT_EQ(e.Render(snapshot),
            "# HELP signals_g G.\n# TYPE signals_g gauge\n"
            "signals_g{k=\"1\"} +Inf\n"
            "signals_g{k=\"2\"} NaN\n"
            "signals_g{k=\"3\"} -0.25\n"
            "signals_g{k=\"4\"} 1e-09\n"
            "signals_g{k=\"5\"} 1764000000.5\n");
}

TEST(MetricsPrometheusTest, RefusesWhatTheFormatCannotCarry) {
  Exposer e;
  struct Case {
    json snapshot;
    std::string expect;
  };
  const json one = {{"labels", json::object()}, {"value", 1}};
  std::vector<Case> cases = {
      {json::array(), "\"families\" array"},
      {Snapshot({Family("signals-bad", "counter", "", {one})}), "'signals-bad': not a valid metric name"},
      {Snapshot({Family("signals_x_total", "summary", "", {one})}),
       "type must be counter, gauge or histogram"},
      {Snapshot(
           {Family("signals_x_total", "counter", "", {{{"labels", {{"bad-name", "v"}}}, {"value", 1}}})}),
       "'bad-name' is not a valid label name"},
      {Snapshot(
           {Family("signals_x_total", "counter", "", {{{"labels", {{"__reserved", "v"}}}, {"value", 1}}})}),
       "'__reserved' is not a valid label name"},
      {Snapshot({Family("signals_x_total", "counter", "", {{{"labels", json::object()}, {"value", -1}}})}),
       "a counter cannot be negative"},
      {Snapshot({Family("signals_x_total", "counter", "", {one, one})}), "two series have the same labels"},
      {Snapshot({Family("signals_x_total", "counter", "", {one}),
                 Family("signals_x_total", "counter", "", {one})}),
       "appears twice"},
      {Snapshot(
           {Family("signals_h", "histogram", "",
                   {{{"labels", json::object()}, {"buckets", {{1, 2}, {2, 1}}}, {"sum", 1}, {"count", 2}}})}),
       "bucket counts must be cumulative"},
      {Snapshot(
           {Family("signals_h", "histogram", "",
                   {{{"labels", json::object()}, {"buckets", {{2, 0}, {1, 0}}}, {"sum", 0}, {"count", 0}}})}),
       "bucket bounds must ascend"},
      {Snapshot({Family(
           "signals_h", "histogram", "",
           {{{"labels", json::object()}, {"buckets", {{1, 1}, {"+Inf", 1}}}, {"sum", 1}, {"count", 2}}})}),
       "the +Inf bucket must equal count"},
  };
  for (const auto& c : cases) {
    const std::string out = e.Render(c.snapshot);
    EXPECT_EQ(out.rfind("ERROR: ", 0), 0u) << c.snapshot.dump() << " rendered:\n" << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << out;
  }
}

// --- the listener ------------------------------------------------------------------

struct Answer {
  unsigned status = 0;
  std::string allow;
  std::string body;
};

Answer Request(uint16_t port, boost::beast::http::verb method, const std::string& target) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> request(method, target, 11);
  request.set(http::field::host, "127.0.0.1");
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return {response.result_int(), std::string(response[http::field::allow]), response.body()};
}

TEST(MetricsPrometheusTest, OwnListenerServesOnlyMetricsAndSaysWhenTheSnapshotFails) {
  Exposer e(std::map<std::string, std::string>{{"listen", "127.0.0.1:0"}});
  ASSERT_EQ(e.Start(), SIGNALS_OK);
  EXPECT_EQ(e.Health(), SIGNALS_OK);
  // The harness offers no service API, so the snapshot cannot be had: 503,
  // not an empty 200 that would look like a healthy target without metrics.
  std::vector<std::string> logs = Harness().logs();
  std::string serving;
  for (const auto& l : logs) {
    if (l.find("serving /metrics on 127.0.0.1:") != std::string::npos) serving = l;
  }
  ASSERT_FALSE(serving.empty());
  const uint16_t port = static_cast<uint16_t>(std::stoi(serving.substr(serving.rfind(':') + 1)));
  EXPECT_EQ(Request(port, boost::beast::http::verb::get, "/metrics").status, 503u);
  EXPECT_EQ(Request(port, boost::beast::http::verb::get, "/other").status, 404u);
  Answer post = Request(port, boost::beast::http::verb::post, "/metrics");
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(post.allow, "GET, HEAD");
}

TEST(MetricsPrometheusTest, WithoutListenStartServesNothing) {
  Exposer e;
  EXPECT_EQ(e.Start(), SIGNALS_OK);
  EXPECT_EQ(e.Health(), SIGNALS_OK);
}

TEST(MetricsPrometheusTest, AnUnusableListenAddressFailsStart) {
  Exposer e(std::map<std::string, std::string>{{"listen", "not-an-ip:80"}});
  EXPECT_NE(e.Start(), SIGNALS_OK);
}

}  // namespace
