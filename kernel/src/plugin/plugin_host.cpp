#include "plugin/plugin_host.hpp"

#include <nlohmann/json.hpp>

#include "base/json_limits.hpp"
#include "base/logging.hpp"
#include "core/kernel.hpp"
#include "service/problem.hpp"
#include "service/service_api.hpp"

namespace signals {
namespace {

HostBinding* BindingOf(void* ctx) { return static_cast<HostBinding*>(ctx); }
Kernel* KernelOf(void* ctx) { return BindingOf(ctx)->kernel; }

void EmitText(signals_sink sink, void* sink_ctx, const std::string& text) {
  if (sink != nullptr) sink(sink_ctx, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

signals_status StatusOfCode(Code code) {
  switch (code) {
    case Code::kOk:
      return SIGNALS_OK;
    case Code::kInvalid:
    case Code::kHashMismatch:
    case Code::kTooLarge:
    case Code::kUnsupportedMedia:
    case Code::kUnauthenticated:
    case Code::kForbidden:
    case Code::kGone:
      return SIGNALS_INVALID_ARGUMENT;
    case Code::kNotFound:
      return SIGNALS_NOT_FOUND;
    case Code::kConflict:
      return SIGNALS_EXISTS;
    case Code::kUnavailable:
      return SIGNALS_RETRY;
    case Code::kNoSpace:
      return SIGNALS_NO_SPACE;
    default:
      return SIGNALS_ERROR;
  }
}

// A request that names a tenant or callgraph the kernel does not know is a
// problem of the caller's configuration, not of its bytes: a source retries
// it (after someone adds the tenant) instead of dropping the data. HTTP keeps
// answering 400 with the same rule.
bool NamesUnknownReference(const Status& status) {
  return status.rule() == "tenant-exists" || status.rule() == "callgraph-exists";
}

signals_status Report(const Status& status, signals_sink sink, void* sink_ctx) {
  EmitText(sink, sink_ctx, ProblemJson(status).dump());
  if (NamesUnknownReference(status)) return SIGNALS_NOT_FOUND;
  // The first request with this Idempotency-Key has not finished: the same
  // request later gets its answer, so this is a retry, not a refusal.
  if (status.rule() == "idempotency-in-progress") return SIGNALS_RETRY;
  return StatusOfCode(status.code());
}

// Parses the request and authenticates its caller. The request carries what
// a client sent (a query's body), and later steps walk it recursively (dump,
// canonical JSON): its depth is checked before it is parsed.
Result<std::pair<nlohmann::json, Principal>> Prepare(void* ctx, const char* request_json) {
  const std::string_view text = request_json ? request_json : "";
  const auto max_depth = static_cast<size_t>(KernelOf(ctx)->config().GetInt("kernel", "max_json_depth"));
  SIGNALS_RETURN_IF_ERROR(CheckJsonDepth(text, max_depth, "request"));
  auto request = nlohmann::json::parse(text, nullptr, false);
  if (!request.is_object()) return Status::Invalid("json", "request", "the request must be a JSON object");
  auto principal = KernelOf(ctx)->service().Authenticate(request, BindingOf(ctx)->trusted);
  if (!principal.ok()) return principal.status();
  return std::make_pair(std::move(request), std::move(*principal));
}

// The ingest handle handed to plugins.
struct IngestHandle {
  std::unique_ptr<IngestSession> session;
};

struct ObjectHandle {
  std::unique_ptr<ObjectSource> source;
};

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
    auto prepared = Prepare(ctx, request_json);
    if (!prepared.ok()) return Report(prepared.status(), problem_sink, sink_ctx);
    auto session = KernelOf(ctx)->service().BeginIngest(prepared->first, prepared->second);
    if (!session.ok()) return Report(session.status(), problem_sink, sink_ctx);
    *out = reinterpret_cast<signals_ingest*>(new IngestHandle{std::move(*session)});
    return SIGNALS_OK;
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), problem_sink, sink_ctx);
  }
}

signals_status HostIngestWrite(void*, signals_ingest* ingest, signals_bytes chunk, signals_sink problem_sink,
                               void* sink_ctx) {
  try {
    auto* handle = reinterpret_cast<IngestHandle*>(ingest);
    Status s = handle->session->Write(std::string_view(reinterpret_cast<const char*>(chunk.data), chunk.len));
    if (!s.ok()) return Report(s, problem_sink, sink_ctx);
    return SIGNALS_OK;
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), problem_sink, sink_ctx);
  }
}

signals_status HostIngestFinish(void*, signals_ingest* ingest, signals_sink result_sink, void* sink_ctx) {
  std::unique_ptr<IngestHandle> handle(reinterpret_cast<IngestHandle*>(ingest));
  try {
    bool created = true;
    auto result = handle->session->Finish(&created);
    if (!result.ok()) {
      // SIGNALS_EXISTS from ingest_finish means "an identical object existed,
      // here it is"; a refusal (e.g. an Idempotency-Key conflict, 409) must
      // not look like that. Its problem JSON carries the HTTP status.
      signals_status status = Report(result.status(), result_sink, sink_ctx);
      return status == SIGNALS_EXISTS ? SIGNALS_INVALID_ARGUMENT : status;
    }
    EmitText(result_sink, sink_ctx, result->dump());
    // SIGNALS_EXISTS with a result: the identical object already existed.
    return created ? SIGNALS_OK : SIGNALS_EXISTS;
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), result_sink, sink_ctx);
  }
}

void HostIngestAbort(void*, signals_ingest* ingest) {
  try {
    delete reinterpret_cast<IngestHandle*>(ingest);
  } catch (...) {
  }
}

signals_status HostQuery(void* ctx, const char* request_json, signals_sink sink, void* sink_ctx) {
  try {
    auto prepared = Prepare(ctx, request_json);
    if (!prepared.ok()) return Report(prepared.status(), sink, sink_ctx);
    nlohmann::json& request = prepared->first;
    if (!request.contains("op") && request.contains("query")) request["op"] = request["query"];
    auto result = KernelOf(ctx)->service().Call(request, prepared->second);
    if (!result.ok()) return Report(result.status(), sink, sink_ctx);
    EmitText(sink, sink_ctx, result->dump());
    return SIGNALS_OK;
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), sink, sink_ctx);
  }
}

signals_status HostObjectOpen(void* ctx, const char* request_json, signals_object** out,
                              signals_sink meta_sink, void* sink_ctx) {
  try {
    auto prepared = Prepare(ctx, request_json);
    if (!prepared.ok()) return Report(prepared.status(), meta_sink, sink_ctx);
    nlohmann::json metadata = nlohmann::json::object();
    auto source = KernelOf(ctx)->service().Open(prepared->first, prepared->second, &metadata);
    if (!source.ok()) return Report(source.status(), meta_sink, sink_ctx);
    EmitText(meta_sink, sink_ctx, metadata.dump());
    *out = reinterpret_cast<signals_object*>(new ObjectHandle{std::move(*source)});
    return SIGNALS_OK;
  } catch (const std::exception& e) {
    return Report(Status::Internal(e.what()), meta_sink, sink_ctx);
  }
}

signals_status HostObjectRead(void*, signals_object* object, uint8_t* buffer, size_t capacity,
                              size_t* out_len) {
  *out_len = 0;
  try {
    auto n = reinterpret_cast<ObjectHandle*>(object)->source->Read(buffer, capacity);
    if (!n.ok()) {
      spdlog::warn("object stream failed: {}", n.status().message());
      return StatusOfCode(n.status().code());
    }
    *out_len = *n;
    return *n == 0 ? SIGNALS_EOF : SIGNALS_OK;
  } catch (const std::exception& e) {
    spdlog::warn("object stream failed: {}", e.what());
    return SIGNALS_ERROR;
  }
}

void HostObjectClose(void*, signals_object* object) {
  try {
    delete reinterpret_cast<ObjectHandle*>(object);
  } catch (...) {
  }
}

}  // namespace

void InitHostTable(HostBinding* binding, signals_host* host) {
  *host = signals_host{};
  host->struct_size = sizeof(signals_host);
  host->abi_major = SIGNALS_ABI_MAJOR;
  host->abi_minor = SIGNALS_ABI_MINOR;
  host->ctx = binding;
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
  host->call = &HostQuery;
  host->object_open = &HostObjectOpen;
  host->object_read = &HostObjectRead;
  host->object_close = &HostObjectClose;
}

}  // namespace signals
