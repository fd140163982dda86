#include "plugin_host.hpp"

#include <nlohmann/json.hpp>

#include "fact_ingest.hpp"
#include "kernel.hpp"
#include "logging.hpp"
#include "problem.hpp"

namespace signals {
namespace {

Kernel* KernelOf(void* ctx) { return static_cast<Kernel*>(ctx); }

void EmitJson(signals_sink sink, void* sink_ctx, const nlohmann::json& json) {
  if (sink == nullptr) return;
  std::string text = json.dump();
  sink(sink_ctx, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

signals_status StatusOfCode(Code code) {
  switch (code) {
    case Code::kOk: return SIGNALS_OK;
    case Code::kInvalid:
    case Code::kHashMismatch:
    case Code::kTooLarge:
    case Code::kUnsupportedMedia: return SIGNALS_INVALID_ARGUMENT;
    case Code::kNotFound: return SIGNALS_NOT_FOUND;
    case Code::kConflict: return SIGNALS_EXISTS;
    case Code::kUnavailable: return SIGNALS_RETRY;
    case Code::kNoSpace: return SIGNALS_NO_SPACE;
    default: return SIGNALS_ERROR;
  }
}

signals_status Report(const Status& status, signals_sink sink, void* sink_ctx) {
  EmitJson(sink, sink_ctx, ProblemJson(status));
  return StatusOfCode(status.code());
}

void HostLog(void*, int32_t level, const char* component, const char* message) {
  try {
    LogFromComponent(level, component, message);
  } catch (...) {
  }
}

int64_t HostNow(void* ctx) { return KernelOf(ctx)->NowMs(); }

void HostCounterAdd(void* ctx, const char* name, const char* labels, double delta) {
  try {
    KernelOf(ctx)->metrics().CounterAdd(name ? name : "", labels ? labels : "", delta);
  } catch (...) {
  }
}

void HostGaugeSet(void* ctx, const char* name, const char* labels, double value) {
  try {
    KernelOf(ctx)->metrics().GaugeSet(name ? name : "", labels ? labels : "", value);
  } catch (...) {
  }
}

void HostHistogramObserve(void* ctx, const char* name, const char* labels, double value) {
  try {
    KernelOf(ctx)->metrics().HistogramObserve(name ? name : "", labels ? labels : "", value);
  } catch (...) {
  }
}

signals_status HostIngestBegin(void* ctx, const char* request_json, signals_ingest** out,
                               signals_sink problem_sink, void* sink_ctx) {
  try {
    auto request_doc = nlohmann::json::parse(request_json ? request_json : "", nullptr, false);
    if (request_doc.is_discarded()) {
      return Report(Status::Invalid("json", "request", "ingest request is not valid JSON"), problem_sink, sink_ctx);
    }
    auto request = FactIngestRequest::FromJson(request_doc);
    if (!request.ok()) return Report(request.status(), problem_sink, sink_ctx);
    auto ingest = KernelOf(ctx)->BeginFactIngest(*request);
    if (!ingest.ok()) return Report(ingest.status(), problem_sink, sink_ctx);
    *out = reinterpret_cast<signals_ingest*>(ingest->release());
    return SIGNALS_OK;
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), problem_sink, sink_ctx);
  }
}

signals_status HostIngestWrite(void*, signals_ingest* ingest, signals_bytes chunk,
                               signals_sink problem_sink, void* sink_ctx) {
  try {
    auto* batch = reinterpret_cast<FactBatchIngest*>(ingest);
    Status s = batch->Write(std::string_view(reinterpret_cast<const char*>(chunk.data), chunk.len));
    if (!s.ok()) return Report(s, problem_sink, sink_ctx);
    return SIGNALS_OK;
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), problem_sink, sink_ctx);
  }
}

signals_status HostIngestFinish(void*, signals_ingest* ingest, signals_sink result_sink, void* sink_ctx) {
  std::unique_ptr<FactBatchIngest> batch(reinterpret_cast<FactBatchIngest*>(ingest));
  try {
    auto result = batch->Finish();
    if (!result.ok()) return Report(result.status(), result_sink, sink_ctx);
    EmitJson(result_sink, sink_ctx, *result);
    return SIGNALS_OK;
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), result_sink, sink_ctx);
  }
}

void HostIngestAbort(void*, signals_ingest* ingest) {
  try {
    delete reinterpret_cast<FactBatchIngest*>(ingest);
  } catch (...) {
  }
}

signals_status HostQuery(void* ctx, const char* request_json, signals_sink sink, void* sink_ctx) {
  try {
    auto request = nlohmann::json::parse(request_json ? request_json : "", nullptr, false);
    if (!request.is_object() || !request.contains("query") || !request["query"].is_string()) {
      return Report(Status::Invalid("query", "query", "request must be {\"query\": \"...\", ...}"), sink, sink_ctx);
    }
    const std::string query = request["query"];
    Kernel* kernel = KernelOf(ctx);
    if (query == "batch.provenance") {
      std::string batch_id = request.value("batchId", "");
      auto record = kernel->index().Get("batches", batch_id);
      if (!record.ok()) return Report(record.status(), sink, sink_ctx);
      auto doc = nlohmann::json::parse(*record);
      for (const char* internal : {"blobKey", "provenanceKey", "attestationKey"}) doc.erase(internal);
      EmitJson(sink, sink_ctx, doc);
      return SIGNALS_OK;
    }
    if (query == "tenants") {
      auto tenants = kernel->tenants().List();
      if (!tenants.ok()) return Report(tenants.status(), sink, sink_ctx);
      EmitJson(sink, sink_ctx, nlohmann::json(*tenants));
      return SIGNALS_OK;
    }
    return Report(Status::Invalid("query", "query", "unknown query '" + query + "'"), sink, sink_ctx);
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), sink, sink_ctx);
  }
}

}  // namespace

void InitHostTable(Kernel* kernel, signals_host* host) {
  host->struct_size = sizeof(signals_host);
  host->abi_major = SIGNALS_ABI_MAJOR;
  host->abi_minor = SIGNALS_ABI_MINOR;
  host->ctx = kernel;
  host->log = &HostLog;
  host->now_unix_ms = &HostNow;
  host->counter_add = &HostCounterAdd;
  host->gauge_set = &HostGaugeSet;
  host->histogram_observe = &HostHistogramObserve;
  host->ingest_begin = &HostIngestBegin;
  host->ingest_write = &HostIngestWrite;
  host->ingest_finish = &HostIngestFinish;
  host->ingest_abort = &HostIngestAbort;
  host->query = &HostQuery;
}

}  // namespace signals
