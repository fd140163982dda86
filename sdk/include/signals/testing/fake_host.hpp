// signals/testing/fake_host.hpp — test a plugin without a kernel.
//
// Three pieces, usable apart:
//
//  * PluginLibrary loads a built plugin as the kernel does (dlopen with
//    RTLD_NOW | RTLD_LOCAL, signals_plugin_entry, the component by name). The
//    library stays loaded until the process exits, as in the kernel.
//  * MakeConfig builds the signals_config the kernel would pass to create:
//    the option table's defaults filled in, values normalised by the kernel's
//    own rules (<signals/support/option_values.hpp>: durations in ms, sizes in
//    bytes, booleans true/false, paths absolute against the data directory),
//    unknown options, missing required ones and bad values refused, and for a
//    source its state directory (<data_dir>/state/<instance>) created.
//  * FakeHost is a scriptable signals_host: it records log lines and metrics,
//    runs a clock you can set, and answers the service API the way the kernel
//    does where a plugin can observe it:
//      - ingests of runtime facts: captured (request, bytes); a tenant or callgraph it was not
//        told about is refused with SIGNALS_NOT_FOUND (once you declared any);
//        a line that is not a JSON object with a string "symbolId" with
//        SIGNALS_INVALID_ARGUMENT and a problem naming the line; an
//        idempotencyKey already used with the same bytes gets the first
//        answer again with SIGNALS_EXISTS (nothing stored), with other bytes a
//        409 problem; FailNextIngests() scripts outages (RETRY, NO_SPACE, ...)
//        and LoseNextAnswers() a batch that is stored but whose answer never
//        arrives (the kernel committed, then the connection or process died);
//      - ingests of callgraphs ("kind": "callgraph", with tenant, componentPurl
//        and language): a JSON object with "nodes" is stored under a new
//        graphId, which facts may then name; the same graph again (tenant,
//        purl and bytes) is answered with its manifest and SIGNALS_EXISTS;
//      - call: "ingest.check" and "health" built in, any op scriptable with
//        OnCall; unknown ops get the kernel's 400 problem (rule "op");
//      - query and object_open: scriptable with OnCall / not provided
//        (SIGNALS_NOT_SUPPORTED with a problem) unless scripted.
//
// The checks are the rules a source can trip over, not the kernel's whole
// validation: a batch the fake host accepts may still be refused by the kernel
// (test against the real signalsd too; see the SDK guide).
//
//   signals::testing::PluginLibrary library(SIGNALS_PLUGIN_UNDER_TEST);
//   signals::testing::FakeHost host;
//   host.AddTenant("acme");
//   auto config = signals::testing::MakeConfig(library.Component("source-tail"),
//                                              {{"file", "facts.ndjson"}, {"tenant", "acme"}}, tmp);
//   signals::testing::Instance source(library.Component("source-tail"), host, config);
//   ASSERT_EQ(source.Start(), SIGNALS_OK);
//   ASSERT_TRUE(host.WaitFor([&] { return host.StoredFacts().size() == 3; }));
//
// Thread-safety: FakeHost's callbacks may be called from any thread, as the
// kernel's may; its accessors return copies. Linux (dlopen) only.
#ifndef SIGNALS_TESTING_FAKE_HOST_HPP
#define SIGNALS_TESTING_FAKE_HOST_HPP

#include <dlfcn.h>
#include <signals/plugin.h>
#include <signals/plugin.hpp>
#include <signals/support/json_text.hpp>
#include <signals/support/option_values.hpp>
#include <signals/support/posix_file.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace signals {
namespace testing {

// --- loading -------------------------------------------------------------------

class PluginLibrary {
 public:
  // Throws std::runtime_error naming the file and the reason.
  explicit PluginLibrary(const std::string& path) : path_(path) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) throw std::runtime_error("cannot load " + path + ": " + ::dlerror());
    auto entry = reinterpret_cast<signals_plugin_entry_fn>(::dlsym(handle, SIGNALS_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error(path + " does not export " SIGNALS_PLUGIN_ENTRY_SYMBOL);
    descriptor_ = entry();
    if (descriptor_ == nullptr || descriptor_->magic != SIGNALS_PLUGIN_MAGIC) {
      throw std::runtime_error(path + ": the entry point did not return a Signals plugin descriptor");
    }
  }

  const std::string& path() const { return path_; }
  const signals_plugin_descriptor& descriptor() const { return *descriptor_; }

  // Throws std::runtime_error when the library has no component `name`.
  const signals_component& Component(const std::string& name) const {
    for (size_t i = 0; i < descriptor_->component_count; ++i) {
      if (name == descriptor_->components[i].name) return descriptor_->components[i];
    }
    throw std::runtime_error(path_ + " has no component '" + name + "'");
  }

 private:
  std::string path_;
  const signals_plugin_descriptor* descriptor_ = nullptr;
};

// --- configuration ---------------------------------------------------------------

// A signals_config and the strings it points into. Movable; the pointers stay valid.
class TestConfig {
 public:
  const signals_config* get() const { return &state_->config; }
  // The normalised values, by option name.
  const std::map<std::string, std::string>& values() const { return state_->values; }
  const std::string& data_dir() const { return state_->data_dir; }
  const std::string& state_dir() const { return state_->state_dir; }
  const std::string& instance_name() const { return state_->instance_name; }
  // The C++ wrapper's view, for testing a component class directly.
  sdk::Config sdk() const { return sdk::Config(state_->config); }

 private:
  friend TestConfig MakeConfig(const signals_option*, size_t, uint32_t, std::map<std::string, std::string>,
                               const std::string&, const std::string&);
  struct State {
    std::map<std::string, std::string> values;
    std::string data_dir, state_dir, instance_name;
    std::vector<signals_option_value> array;
    signals_config config{};
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// The config the kernel would pass for an options table `options` and the
// raw values `raw` (config notation: "2s", "64KiB", "yes", relative paths).
// `kind` is the component's SIGNALS_KIND_*; a source gets its state
// directory, created. `instance_name` defaults to "<kind>.test" for sources
// and transports (the section names the kernel uses), else the kind.
// Throws std::invalid_argument listing every problem, one per line.
inline TestConfig MakeConfig(const signals_option* options, size_t option_count, uint32_t kind,
                             std::map<std::string, std::string> raw, const std::string& data_dir,
                             const std::string& instance_name = "") {
  static const char* const kKinds[] = {"",     "cas",     "index",     "signing",
                                       "tlog", "metrics", "transport", "source"};
  TestConfig out;
  auto& state = *out.state_;
  state.data_dir = data_dir;
  state.instance_name = !instance_name.empty() ? instance_name
                        : kind == SIGNALS_KIND_SOURCE || kind == SIGNALS_KIND_TRANSPORT
                            ? std::string(kKinds[kind]) + ".test"
                        : kind < 8 ? kKinds[kind]
                                   : "instance";
  std::string problems;
  for (size_t i = 0; i < option_count; ++i) {
    const signals_option& option = options[i];
    auto given = raw.find(option.name);
    const char* text = given != raw.end() ? given->second.c_str() : option.default_value;
    if (text == nullptr) {
      if ((option.flags & SIGNALS_OPTF_REQUIRED) != 0) {
        problems += "required option '" + std::string(option.name) + "' is not set\n";
      }
      continue;
    }
    support::NormalisedOption value = support::NormaliseOptionValue(option, text, data_dir);
    if (!value.ok) {
      problems +=
          "option '" + std::string(option.name) + "': " +
          ((option.flags & SIGNALS_OPTF_SECRET) != 0 ? "the value (redacted) is invalid" : value.message) +
          "\n";
      continue;
    }
    state.values[option.name] = std::move(value.value);
    if (given != raw.end()) raw.erase(given);
  }
  for (const auto& [name, value] : raw) {
    bool declared = false;
    for (size_t i = 0; i < option_count; ++i) declared = declared || name == options[i].name;
    if (!declared) problems += "unknown option '" + name + "'\n";
  }
  if (!problems.empty()) throw std::invalid_argument(problems.substr(0, problems.size() - 1));
  if (kind == SIGNALS_KIND_SOURCE) {
    state.state_dir = data_dir + "/state/" + state.instance_name;
    support::FileStatus made = support::MakeDirectories(state.state_dir, 0750, false);
    if (!made.ok()) throw std::invalid_argument("cannot create the state directory: " + made.message());
  }
  for (const auto& [name, value] : state.values) state.array.push_back({name.c_str(), value.c_str()});
  state.config =
      signals_config{sizeof(signals_config), state.instance_name.c_str(),
                     state.data_dir.c_str(), state.array.data(),
                     state.array.size(),     state.state_dir.empty() ? nullptr : state.state_dir.c_str()};
  return out;
}

inline TestConfig MakeConfig(const signals_component& component, std::map<std::string, std::string> raw,
                             const std::string& data_dir, const std::string& instance_name = "") {
  return MakeConfig(component.options, component.option_count, component.kind, std::move(raw), data_dir,
                    instance_name);
}

// For a component class tested directly: MakeConfig(sdk::OptionList, kind, ...).
inline TestConfig MakeConfig(sdk::OptionList options, uint32_t kind, std::map<std::string, std::string> raw,
                             const std::string& data_dir, const std::string& instance_name = "") {
  return MakeConfig(options.data, options.size, kind, std::move(raw), data_dir, instance_name);
}

// --- the host ----------------------------------------------------------------------

// One ingest as the plugin performed it.
struct IngestRecord {
  std::string request_json;    // as given to ingest_begin
  std::string kind;            // "runtime-facts" or "callgraph"
  std::string component_purl;  // callgraphs
  std::string tenant, callgraph_id, idempotency_key, source;
  std::string body;                    // every byte written
  signals_status status = SIGNALS_OK;  // what ingest_finish returned (or the failing begin/write)
  std::string answer;                  // the provenance record or the problem JSON
  std::string batch_id;                // "" unless stored (a callgraph: its graphId)
  bool stored = false;                 // the batch was kept (also when its answer was lost)
  bool aborted = false;                // ended with ingest_abort
};

struct LogLine {
  int32_t level = 0;
  std::string component;
  std::string message;
};

class FakeHost {
 public:
  // (status, answer JSON) of a scripted operation.
  using Answer = std::pair<signals_status, std::string>;
  using Handler = std::function<Answer(const std::string& request_json)>;

  FakeHost() {
    table_.struct_size = sizeof(table_);
    table_.abi_major = SIGNALS_ABI_MAJOR;
    table_.abi_minor = SIGNALS_ABI_MINOR;
    table_.ctx = this;
    table_.log = &LogThunk;
    table_.now_unix_ms = &NowThunk;
    table_.counter_add = &CounterThunk;
    table_.gauge_set = &GaugeThunk;
    table_.histogram_observe = &HistogramThunk;
    table_.ingest_begin = &IngestBeginThunk;
    table_.ingest_write = &IngestWriteThunk;
    table_.ingest_finish = &IngestFinishThunk;
    table_.ingest_abort = &IngestAbortThunk;
    table_.query = &QueryThunk;
    table_.call = &CallThunk;
    table_.object_open = &ObjectOpenThunk;
    table_.object_read = &ObjectReadThunk;
    table_.object_close = &ObjectCloseThunk;
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  // The table to pass to create. It must outlive every instance made with it.
  const signals_host* table() const { return &table_; }
  // The C++ wrapper around it, for testing a component class directly.
  sdk::Host host(const std::string& component = "test") const { return sdk::Host(&table_, component); }

  // --- what the kernel knows --------------------------------------------------
  // Until one of these is called, every tenant and callgraph is accepted.
  // "global" is always a tenant. A callgraph of "global" serves every tenant.
  void AddTenant(const std::string& tenant) {
    std::lock_guard<std::mutex> lock(mutex_);
    strict_ = true;
    tenants_.insert(tenant);
  }
  void AddCallgraph(const std::string& tenant, const std::string& graph_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    strict_ = true;
    tenants_.insert(tenant);
    callgraphs_.insert({tenant, graph_id});
  }

  // --- scripting ------------------------------------------------------------------
  // The next `count` ingests fail at finish with `status` and a problem with
  // `http_status`; nothing of them is stored.
  void FailNextIngests(size_t count, signals_status status = SIGNALS_RETRY, int http_status = 503,
                       const std::string& detail = "the kernel is unavailable (scripted by the test)") {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < count; ++i)
      failures_.push_back({status, ProblemJson(http_status, "", "", detail, 0)});
  }
  // The next `count` ingests are stored, but finish answers SIGNALS_RETRY as
  // if the answer had been lost: what a client sees when the kernel commits
  // and then the connection (or the process) dies.
  void LoseNextAnswers(size_t count) {
    std::lock_guard<std::mutex> lock(mutex_);
    lost_answers_ += count;
  }
  // Answers `call` requests with {"op": op} (and `query` requests with
  // {"query": op}) with `handler`.
  void OnCall(const std::string& op, Handler handler) {
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_[op] = std::move(handler);
  }
  // now_unix_ms returns this from now on (default: the system clock).
  void SetNowMs(int64_t now) {
    std::lock_guard<std::mutex> lock(mutex_);
    now_ms_ = now;
  }

  // --- what happened ------------------------------------------------------------
  std::vector<IngestRecord> Ingests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<IngestRecord> out;
    for (const auto& record : ingests_) out.push_back(*record);
    return out;
  }
  // The non-blank lines of every stored batch, in the order they were stored.
  std::vector<std::string> StoredFacts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> lines;
    for (const auto& record : ingests_) {
      if (!record->stored || record->kind != "runtime-facts") continue;
      for (const auto& line : Lines(record->body)) {
        if (!Blank(line)) lines.push_back(line);
      }
    }
    return lines;
  }
  std::vector<LogLine> Logs() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return logs_;
  }
  // True when some log line at `level` or above contains `text`.
  bool Logged(const std::string& text, int32_t level = SIGNALS_LOG_TRACE) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& line : logs_) {
      if (line.level >= level && line.message.find(text) != std::string::npos) return true;
    }
    return false;
  }
  // Sum of a counter's increments; a gauge's last value; a histogram's
  // observations. `labels` as the plugin passed it ("" for none).
  double Counter(const std::string& name, const std::string& labels = "") const {
    return Metric(counters_, name, labels);
  }
  double Gauge(const std::string& name, const std::string& labels = "") const {
    return Metric(gauges_, name, labels);
  }
  std::vector<double> Observations(const std::string& name, const std::string& labels = "") const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = histograms_.find({name, labels});
    return it == histograms_.end() ? std::vector<double>{} : it->second;
  }

  // Waits until `done()` holds (checked whenever the host is called, and at
  // least every 10 ms); false when `timeout` passes first.
  bool WaitFor(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(10));
    }
    return true;
  }

  // Every string the fake passes to a sink, for use as a signals_sink.
  static void Append(void* ctx, const uint8_t* data, size_t len) {
    static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(data), len);
  }

 private:
  struct IngestState {
    std::shared_ptr<IngestRecord> record;
    std::string begin_problem;
  };

  static FakeHost& Self(void* ctx) { return *static_cast<FakeHost*>(ctx); }
  static void Emit(signals_sink sink, void* sink_ctx, const std::string& text) {
    if (sink != nullptr) sink(sink_ctx, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }
  static std::string ProblemJson(int http_status, const std::string& rule, const std::string& field,
                                 const std::string& detail, int64_t line) {
    const char* code = http_status == 400   ? "invalid"
                       : http_status == 404 ? "not-found"
                       : http_status == 409 ? "conflict"
                       : http_status == 503 ? "unavailable"
                       : http_status == 507 ? "no-space"
                                            : "internal";
    support::JsonWriter w;
    w.BeginObject()
        .Key("type")
        .String(std::string("urn:signals:problem:") + (rule.empty() ? code : rule))
        .Key("title")
        .String(code)
        .Key("status")
        .Int(http_status)
        .Key("code")
        .String(code)
        .Key("detail")
        .String(detail);
    if (!field.empty()) w.Key("field").String(field);
    if (!rule.empty()) w.Key("rule").String(rule);
    if (line > 0) w.Key("line").Int(line);
    w.EndObject();
    return w.text();
  }
  static std::vector<std::string> Lines(const std::string& body) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < body.size()) {
      size_t end = body.find('\n', start);
      if (end == std::string::npos) end = body.size();
      lines.push_back(body.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }
  static bool Blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

  double Metric(const std::map<std::pair<std::string, std::string>, double>& metrics, const std::string& name,
                const std::string& labels) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = metrics.find({name, labels});
    return it == metrics.end() ? 0 : it->second;
  }

  void Touched() { changed_.notify_all(); }

  // The problem for a request naming an unknown tenant or callgraph, or "".
  // REQUIRES: mutex_ held.
  std::string UnknownReference(const std::string& tenant, const std::string& graph_id) const {
    if (!strict_) return "";
    if (tenant != "global" && tenants_.count(tenant) == 0) {
      return ProblemJson(
          400, "tenant-exists", "tenant",
          "unknown tenant '" + tenant + "'; add it with `signalsctl tenant add " + tenant + "`", 0);
    }
    if (!graph_id.empty() && callgraphs_.count({tenant, graph_id}) == 0 &&
        callgraphs_.count({"global", graph_id}) == 0) {
      return ProblemJson(400, "callgraph-exists", "callgraphId", "callgraph " + graph_id + " does not exist",
                         0);
    }
    return "";
  }

  static std::string BatchId(uint64_t n) {
    static const char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    std::string id(26, '0');
    for (size_t i = 26; i-- > 0 && n != 0; n /= 32) id[i] = kCrockford[n % 32];
    return id;
  }

  // The first line of `body` that is not a JSON object with a string
  // "symbolId": its problem, or "".
  static std::string BadLine(const std::string& body) {
    int64_t number = 0;
    for (const auto& line : Lines(body)) {
      ++number;
      if (Blank(line)) continue;
      auto object = support::JsonObject::Parse(line);
      if (!object)
        return ProblemJson(400, "json", "", "line " + std::to_string(number) + ": not a JSON object", number);
      if (object->String("symbolId").empty()) {
        return ProblemJson(400, "required", "symbolId",
                           "line " + std::to_string(number) + ": field 'symbolId': symbolId is required",
                           number);
      }
    }
    return "";
  }

  signals_status IngestBegin(const char* request_json, signals_ingest** out, signals_sink sink,
                             void* sink_ctx) {
    auto record = std::make_shared<IngestRecord>();
    record->request_json = request_json != nullptr ? request_json : "";
    auto request = support::JsonObject::Parse(record->request_json);
    std::lock_guard<std::mutex> lock(mutex_);
    ingests_.push_back(record);
    Touched();
    if (!request) {
      record->status = SIGNALS_INVALID_ARGUMENT;
      record->answer = ProblemJson(400, "json", "request", "the request must be a JSON object", 0);
      Emit(sink, sink_ctx, record->answer);
      return record->status;
    }
    record->tenant = request->String("tenant", "global");
    record->callgraph_id = request->String("callgraphId");
    record->idempotency_key = request->String("idempotencyKey");
    record->source = request->String("source");
    record->kind = request->String("kind", "runtime-facts");
    record->component_purl = request->String("componentPurl");
    std::string problem;
    signals_status status = SIGNALS_INVALID_ARGUMENT;
    if (record->kind == "callgraph") {
      for (const char* member : {"componentPurl", "language"}) {
        if (problem.empty() && request->String(member).empty()) {
          problem = ProblemJson(400, "required", member, std::string(member) + " is required", 0);
        }
      }
      if (problem.empty()) {
        problem = UnknownReference(record->tenant, "");
        status = SIGNALS_NOT_FOUND;
      }
    } else if (record->kind != "runtime-facts") {
      problem = ProblemJson(400, "kind", "kind", "unsupported ingest kind '" + record->kind + "'", 0);
    } else if (request->Has("idempotencyKey") &&
               (record->idempotency_key.empty() || record->idempotency_key.size() > 256)) {
      problem = ProblemJson(400, "idempotency-key", "Idempotency-Key",
                            "Idempotency-Key must be 1 to 256 characters", 0);
    } else if (record->callgraph_id.empty()) {
      problem = ProblemJson(400, "required", "callgraphId", "callgraphId is required", 0);
    } else {
      problem = UnknownReference(record->tenant, record->callgraph_id);
      status = SIGNALS_NOT_FOUND;
    }
    if (!problem.empty()) {
      record->status = status;
      record->answer = problem;
      Emit(sink, sink_ctx, problem);
      return record->status;
    }
    *out = reinterpret_cast<signals_ingest*>(new IngestState{record, {}});
    return SIGNALS_OK;
  }

  signals_status IngestWrite(signals_ingest* ingest, signals_bytes chunk) {
    auto* state = reinterpret_cast<IngestState*>(ingest);
    std::lock_guard<std::mutex> lock(mutex_);
    state->record->body.append(reinterpret_cast<const char*>(chunk.data), chunk.len);
    return SIGNALS_OK;
  }

  signals_status IngestFinish(signals_ingest* ingest, signals_sink sink, void* sink_ctx) {
    std::unique_ptr<IngestState> state(reinterpret_cast<IngestState*>(ingest));
    IngestRecord& record = *state->record;
    std::lock_guard<std::mutex> lock(mutex_);
    Touched();
    auto answer = [&](signals_status status, const std::string& text) {
      record.status = status;
      record.answer = text;
      Emit(sink, sink_ctx, text);
      return status;
    };
    if (!failures_.empty()) {
      Answer failure = failures_.front();
      failures_.erase(failures_.begin());
      return answer(failure.first, failure.second);
    }
    if (record.kind == "callgraph") return FinishCallgraph(record, answer);
    if (!record.idempotency_key.empty()) {
      for (const auto& earlier : ingests_) {
        if (earlier.get() == &record || !earlier->stored || earlier->kind != record.kind ||
            earlier->tenant != record.tenant || earlier->idempotency_key != record.idempotency_key) {
          continue;
        }
        if (earlier->body != record.body) {
          return answer(SIGNALS_INVALID_ARGUMENT,
                        ProblemJson(409, "idempotency-key", "Idempotency-Key",
                                    "this Idempotency-Key was used with a different body", 0));
        }
        record.batch_id = earlier->batch_id;
        return answer(SIGNALS_EXISTS, earlier->answer);
      }
    }
    std::string problem = BadLine(record.body);
    if (!problem.empty()) return answer(SIGNALS_INVALID_ARGUMENT, problem);
    size_t facts = 0;
    for (const auto& line : Lines(record.body)) facts += Blank(line) ? 0 : 1;
    if (facts == 0) {
      return answer(SIGNALS_INVALID_ARGUMENT,
                    ProblemJson(400, "non-empty", "body", "the batch holds no facts", 0));
    }
    record.stored = true;
    record.batch_id = BatchId(++batches_);
    support::JsonWriter w;
    w.BeginObject()
        .Key("batchId")
        .String(record.batch_id)
        .Key("tenantId")
        .String(record.tenant)
        .Key("callgraphId")
        .String(record.callgraph_id)
        .Key("source")
        .String(record.source.empty() ? "unspecified" : record.source)
        .Key("principal")
        .String("signals-service")
        .Key("factCount")
        .Uint(facts)
        .EndObject();
    record.answer = w.text();
    if (lost_answers_ > 0) {
      --lost_answers_;
      record.status = SIGNALS_RETRY;
      Emit(sink, sink_ctx, ProblemJson(503, "", "", "the answer was lost (scripted by the test)", 0));
      return SIGNALS_RETRY;
    }
    return answer(SIGNALS_OK, record.answer);
  }

  // REQUIRES: mutex_ held.
  template <typename AnswerFn>
  signals_status FinishCallgraph(IngestRecord& record, AnswerFn& answer) {
    auto graph = support::JsonObject::Parse(record.body, 1000);
    if (!graph || !graph->Has("nodes")) {
      return answer(SIGNALS_INVALID_ARGUMENT,
                    ProblemJson(400, "json", "body", "a callgraph is a JSON object with \"nodes\"", 0));
    }
    for (const auto& earlier : ingests_) {
      if (earlier.get() != &record && earlier->stored && earlier->kind == "callgraph" &&
          earlier->tenant == record.tenant && earlier->component_purl == record.component_purl &&
          earlier->body == record.body) {
        record.batch_id = earlier->batch_id;
        return answer(SIGNALS_EXISTS, earlier->answer);
      }
    }
    record.stored = true;
    record.batch_id = BatchId(++batches_);
    callgraphs_.insert({record.tenant, record.batch_id});
    support::JsonWriter w;
    w.BeginObject()
        .Key("graphId")
        .String(record.batch_id)
        .Key("tenantId")
        .String(record.tenant)
        .Key("componentPurl")
        .String(record.component_purl)
        .EndObject();
    return answer(SIGNALS_OK, w.text());
  }

  void IngestAbort(signals_ingest* ingest) {
    std::unique_ptr<IngestState> state(reinterpret_cast<IngestState*>(ingest));
    std::lock_guard<std::mutex> lock(mutex_);
    state->record->aborted = true;
    Touched();
  }

  signals_status Call(const char* member, const char* request_json, signals_sink sink, void* sink_ctx) {
    const std::string text = request_json != nullptr ? request_json : "";
    auto request = support::JsonObject::Parse(text);
    if (!request) {
      Emit(sink, sink_ctx, ProblemJson(400, "json", "request", "the request must be a JSON object", 0));
      return SIGNALS_INVALID_ARGUMENT;
    }
    const std::string op = request->String(member);
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      Touched();
      auto it = handlers_.find(op);
      if (it != handlers_.end()) handler = it->second;
    }
    if (handler) {
      Answer result = handler(text);
      Emit(sink, sink_ctx, result.second);
      return result.first;
    }
    if (op == "health") {
      Emit(sink, sink_ctx, "{\"status\":\"ok\"}");
      return SIGNALS_OK;
    }
    if (op == "ingest.check") {
      const std::string tenant = request->String("tenant", "global");
      const std::string graph = request->String("callgraphId");
      std::string problem;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        problem = UnknownReference(tenant, graph);
      }
      if (!problem.empty()) {
        Emit(sink, sink_ctx, problem);
        return SIGNALS_NOT_FOUND;
      }
      support::JsonWriter w;
      w.BeginObject().Key("kind").String("runtime-facts").Key("tenant").String(tenant);
      w.Key("callgraphId").String(graph).Key("accepted").Bool(true).EndObject();
      Emit(sink, sink_ctx, w.text());
      return SIGNALS_OK;
    }
    Emit(sink, sink_ctx, ProblemJson(400, "op", "op", "unknown operation '" + op + "'", 0));
    return SIGNALS_INVALID_ARGUMENT;
  }

  static void LogThunk(void* ctx, int32_t level, const char* component, const char* message) {
    FakeHost& self = Self(ctx);
    std::lock_guard<std::mutex> lock(self.mutex_);
    self.logs_.push_back({level, component != nullptr ? component : "", message != nullptr ? message : ""});
    self.Touched();
  }
  static int64_t NowThunk(void* ctx) {
    FakeHost& self = Self(ctx);
    std::lock_guard<std::mutex> lock(self.mutex_);
    if (self.now_ms_ >= 0) return self.now_ms_;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static void CounterThunk(void* ctx, const char* name, const char* labels, double delta) {
    FakeHost& self = Self(ctx);
    std::lock_guard<std::mutex> lock(self.mutex_);
    self.counters_[{name, labels != nullptr ? labels : ""}] += delta;
    self.Touched();
  }
  static void GaugeThunk(void* ctx, const char* name, const char* labels, double value) {
    FakeHost& self = Self(ctx);
    std::lock_guard<std::mutex> lock(self.mutex_);
    self.gauges_[{name, labels != nullptr ? labels : ""}] = value;
    self.Touched();
  }
  static void HistogramThunk(void* ctx, const char* name, const char* labels, double value) {
    FakeHost& self = Self(ctx);
    std::lock_guard<std::mutex> lock(self.mutex_);
    self.histograms_[{name, labels != nullptr ? labels : ""}].push_back(value);
    self.Touched();
  }
  static signals_status IngestBeginThunk(void* ctx, const char* request, signals_ingest** out,
                                         signals_sink sink, void* sink_ctx) {
    return Self(ctx).IngestBegin(request, out, sink, sink_ctx);
  }
  static signals_status IngestWriteThunk(void* ctx, signals_ingest* ingest, signals_bytes chunk, signals_sink,
                                         void*) {
    return Self(ctx).IngestWrite(ingest, chunk);
  }
  static signals_status IngestFinishThunk(void* ctx, signals_ingest* ingest, signals_sink sink,
                                          void* sink_ctx) {
    return Self(ctx).IngestFinish(ingest, sink, sink_ctx);
  }
  static void IngestAbortThunk(void* ctx, signals_ingest* ingest) { Self(ctx).IngestAbort(ingest); }
  static signals_status QueryThunk(void* ctx, const char* request, signals_sink sink, void* sink_ctx) {
    return Self(ctx).Call("query", request, sink, sink_ctx);
  }
  static signals_status CallThunk(void* ctx, const char* request, signals_sink sink, void* sink_ctx) {
    return Self(ctx).Call("op", request, sink, sink_ctx);
  }
  static signals_status ObjectOpenThunk(void*, const char*, signals_object**, signals_sink sink,
                                        void* sink_ctx) {
    Emit(sink, sink_ctx, ProblemJson(501, "", "", "the fake host stores no objects", 0));
    return SIGNALS_NOT_SUPPORTED;
  }
  static signals_status ObjectReadThunk(void*, signals_object*, uint8_t*, size_t, size_t* out_len) {
    if (out_len != nullptr) *out_len = 0;
    return SIGNALS_NOT_SUPPORTED;
  }
  static void ObjectCloseThunk(void*, signals_object*) {}

  signals_host table_{};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool strict_ = false;
  std::set<std::string> tenants_{"global"};
  std::set<std::pair<std::string, std::string>> callgraphs_;
  std::vector<Answer> failures_;
  size_t lost_answers_ = 0;
  uint64_t batches_ = 0;
  int64_t now_ms_ = -1;
  std::map<std::string, Handler> handlers_;
  std::vector<std::shared_ptr<IngestRecord>> ingests_;
  std::vector<LogLine> logs_;
  std::map<std::pair<std::string, std::string>, double> counters_, gauges_;
  std::map<std::pair<std::string, std::string>, std::vector<double>> histograms_;
};

// --- an instance -----------------------------------------------------------------

// An instance of a component made with a FakeHost; destroyed with the object
// (after Stop() for the kinds that have one, when it was started).
class Instance {
 public:
  // Throws std::runtime_error with create's status and message.
  Instance(const signals_component& component, const FakeHost& host, const TestConfig& config)
      : Instance(component, host.table(), config) {}
  // With a host table of your own (e.g. one that forwards to a FakeHost and
  // adds something); `host` must outlive the instance.
  Instance(const signals_component& component, const signals_host* host, const TestConfig& config)
      : component_(component), config_(config) {
    char error[1024] = {0};
    status_ = component.create(host, config.get(), &instance_, error, sizeof(error));
    if (status_ != SIGNALS_OK) {
      throw std::runtime_error("create of " + std::string(component.name) + " failed with status " +
                               std::to_string(status_) + ": " + error);
    }
  }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance() {
    if (started_) (void)Stop();
    if (instance_ != nullptr) component_.destroy(instance_);
  }

  void* get() const { return instance_; }
  std::string LastError() const { return component_.last_error(instance_); }
  signals_status Health() const { return component_.health(instance_); }
  // The kind's function table, e.g. api<signals_cas_api>().
  template <typename Api>
  const Api& api() const {
    return *static_cast<const Api*>(component_.api);
  }

  // start/stop of a source or transport.
  signals_status Start() {
    signals_status s = StartStop(true);
    started_ = started_ || s == SIGNALS_OK;
    return s;
  }
  signals_status Stop() {
    started_ = false;
    return StartStop(false);
  }

 private:
  signals_status StartStop(bool start) {
    if (component_.kind == SIGNALS_KIND_SOURCE) {
      const auto& api = *static_cast<const signals_source_api*>(component_.api);
      return start ? api.start(instance_) : api.stop(instance_);
    }
    if (component_.kind == SIGNALS_KIND_TRANSPORT) {
      const auto& api = *static_cast<const signals_transport_api*>(component_.api);
      return start ? api.start(instance_) : api.stop(instance_);
    }
    if (component_.kind == SIGNALS_KIND_METRICS) {
      const auto& api = *static_cast<const signals_metrics_api*>(component_.api);
      return start ? api.start(instance_) : api.stop(instance_);
    }
    return SIGNALS_NOT_SUPPORTED;
  }

  const signals_component& component_;
  TestConfig config_;
  void* instance_ = nullptr;
  signals_status status_ = SIGNALS_ERROR;
  bool started_ = false;
};

// --- library and host together ---------------------------------------------------

// What most plugin tests need: the library under test, a fake host, and
// create with options in config notation.
class PluginUnderTest {
 public:
  explicit PluginUnderTest(const std::string& library_path) : library_(library_path) {}

  const PluginLibrary& library() const { return library_; }
  FakeHost& host() { return host_; }
  const signals_plugin_descriptor& descriptor() const { return library_.descriptor(); }
  const signals_component& Component(const std::string& name) const { return library_.Component(name); }

  // create() through the C ABI with the config MakeConfig builds from `options`
  // (defaults, normalisation). Returns create's status and sets *out, or
  // SIGNALS_INVALID_CONFIG when MakeConfig refuses the options; *error gets
  // the message either way ("" on success).
  signals_status Create(const std::string& component, std::map<std::string, std::string> options,
                        const std::string& data_dir, void** out, std::string* error = nullptr,
                        const std::string& instance_name = "") {
    const signals_component& c = library_.Component(component);
    std::string message;
    signals_status status = SIGNALS_INVALID_CONFIG;
    try {
      TestConfig config = MakeConfig(c, std::move(options), data_dir, instance_name);
      char buffer[1024] = {0};
      status = c.create(host_.table(), config.get(), out, buffer, sizeof(buffer));
      message = buffer;
    } catch (const std::invalid_argument& e) {
      message = e.what();
    }
    if (error != nullptr) *error = message;
    return status;
  }

  // The log lines as "<level> <component>: <message>".
  std::vector<std::string> logs() const {
    std::vector<std::string> out;
    for (const auto& line : host_.Logs()) {
      out.push_back(std::to_string(line.level) + " " + line.component + ": " + line.message);
    }
    return out;
  }

 private:
  PluginLibrary library_;
  FakeHost host_;
};

}  // namespace testing
}  // namespace signals

#endif  // SIGNALS_TESTING_FAKE_HOST_HPP
