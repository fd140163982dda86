#include "core/metrics_catalog.hpp"

namespace signals {

void DescribeSignalsMetrics(MetricsRegistry& m) {
  const auto counter = MetricType::kCounter;
  const auto gauge = MetricType::kGauge;
  const auto histogram = MetricType::kHistogram;

  // README.md#metrics
  m.Describe("signals_callgraphs_stored_total", counter, "Callgraphs stored, by language and tenant.");
  m.Describe("signals_callgraph_nodes", histogram, "Nodes per stored callgraph, by language.");
  m.Describe("signals_runtime_facts_ingested_total", counter,
             "Runtime facts ingested, by fact type (built-in types by name, any other as \"other\") and "
             "tenant.");
  m.Describe("signals_runtime_fact_batches_ingested_total", counter,
             "Runtime-fact batches committed, by tenant.");
  m.Describe("signals_runtime_facts_batch_size", histogram, "Runtime facts per committed batch.");
  m.Ensure("signals_runtime_facts_batch_size", "");
  m.Describe("signals_provenance_records_total", counter,
             "Provenance records written (one per committed batch).");
  m.Ensure("signals_provenance_records_total", "");
  m.Describe("signals_attestations_created_total", counter,
             "DSSE attestations signed (batches and callgraph manifests), by result.");
  for (const char* result : {"ok", "error"})
    m.Ensure("signals_attestations_created_total", std::string("result=") + result);
  m.Describe("signals_cas_operations_total", counter,
             "Content-addressed store operations, by operation and result.");
  for (const char* result : {"ok", "error"}) {
    m.Ensure("signals_cas_operations_total", std::string("operation=put,result=") + result);
  }
  m.Describe("signals_ingest_failures_total", counter,
             "Ingests that failed after validation (nothing stored), by kind and error code.");

  // Requests (reported by transports), tlog queue, GC, plugins, build.
  m.Describe("signals_http_requests_total", counter,
             "HTTP requests answered, by route template, method and status code.");
  m.Describe("signals_http_request_duration_seconds", histogram,
             "Time from a request's first byte to the end of its answer, by route template and method.");
  m.Describe("signals_tlog_queue_depth", gauge, "Envelopes waiting in the transparency-log retry queue.");
  m.Ensure("signals_tlog_queue_depth", "");
  m.Describe("signals_tlog_submissions_total", counter, "Transparency-log submissions, by result.");
  m.Describe("signals_gc_runs_total", counter, "Retention GC runs, by result.");
  for (const char* result : {"ok", "error"})
    m.Ensure("signals_gc_runs_total", std::string("result=") + result);
  m.Describe("signals_gc_deleted_total", counter, "Objects deleted by retention GC, by kind.");
  m.Describe("signals_gc_last_success_timestamp_seconds", gauge,
             "Unix time of the last retention GC run that succeeded.");
  m.Describe("signals_plugin_up", gauge, "1 when a plugin instance reports healthy at scrape time, else 0.");
  m.Describe("signals_build_info", gauge,
             "Always 1; the labels name the Signals version and source revision.");
  m.GaugeSet("signals_build_info",
             std::string("version=") + SIGNALS_VERSION + ",revision=" + SIGNALS_PIPELINE_VERSION, 1);
  m.Describe("signals_metrics_dropped_total", counter,
             "Metric updates dropped because the exposition formats cannot carry them, by reason.");
}

}  // namespace signals
