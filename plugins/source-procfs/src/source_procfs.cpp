// source_procfs.cpp — the source-procfs component: every `interval` it
// collects which executables and shared libraries the matching processes of
// this host have mapped (collector.hpp), keeps the host's module graph stored
// as a callgraph (re-ingested only when it changed), and sends the
// runtime.module.loaded facts of the interval linked to that graph, in
// batches of at most max_batch_facts.
//
// Delivery: each batch carries an idempotency key made of the instance, the
// interval's time and the batch's number, so a batch whose answer was lost is
// stored once when it is sent again. What the kernel refuses is handled as the
// SDK guide says: NOT_FOUND (unknown tenant or callgraph: configuration) keeps
// the batch and retries the next interval (an unknown callgraph also makes the
// module graph be ingested again); INVALID_ARGUMENT with a line drops that
// line and sends the rest at once; RETRY, NO_SPACE and other failures keep the
// batch for the next interval. Batches waiting to be sent count towards
// max_facts_in_memory; beyond it the oldest are dropped (and counted): a
// newer interval reports the same modules again.
//
// Threading: the kernel calls the constructor, Start(), Stop() and the
// destructor on its control thread; one worker thread of the plugin's own
// collects and sends. Host callbacks are thread-safe.
#include <signals/plugin.hpp>
#include <signals/support/json_text.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "collector.hpp"
#include "fnv.hpp"
#include "purl.hpp"

namespace {

namespace sdk = signals::sdk;
namespace support = signals::support;
using namespace signals::procfs;

constexpr size_t kChunkBytes = 64 * 1024;  // what one ingest_write carries
constexpr const char* kSkipped = "signals_source_procfs_skipped_total";

constexpr signals_option kOptions[] = {
    sdk::Option::String("tenant").Default("global").Describe(
        "Tenant the module graph and the facts belong to."),
    sdk::Option::Duration("interval")
        .Default("10s")
        .Range("100ms", "1h")
        .Describe("Time between two scans of /proc; each scan's facts are sent as one batch or more."),
    sdk::Option::String("exe_regex")
        .Describe(
            "Only processes whose executable path matches this ECMAScript regular expression (searched, not "
            "anchored); unset: every process."),
    sdk::Option::String("cgroup_prefix")
        .Describe("Only processes with a cgroup path (any line of /proc/<pid>/cgroup) starting with this."),
    sdk::Option::Int("uid").Range(0, 4294967294).Describe("Only processes whose real user id is this."),
    sdk::Option::Int("max_batch_facts")
        .Default("1000")
        .Range(1, 100000)
        .Describe("Facts per batch; a scan with more is sent as several batches."),
    sdk::Option::Int("max_facts_in_memory")
        .Default("100000")
        .Range(1, 10000000)
        .Describe(
            "Facts one scan may aggregate and unsent batches may hold together; beyond it facts are dropped "
            "and counted."),
    sdk::Option::Size("max_maps_bytes")
        .Default("16MiB")
        .Range("64KiB", "1GiB")
        .Describe("Bytes of one process's /proc/<pid>/maps read at most; the rest is ignored and counted."),
    sdk::Option::String("callgraph_id")
        .Describe(
            "Link the facts to this stored callgraph instead of ingesting the host's module graph (its node "
            "ids must be module:<path>)."),
    sdk::Option::String("component_purl")
        .Describe("Component purl of the module graph; unset: pkg:generic/<hostname>-modules."),
    sdk::Option::Int("max_graph_nodes")
        .Default("50000")
        .Range(10, 10000000)
        .Describe("Nodes the accumulated module graph may hold; at the limit it starts over from one scan."),
    sdk::Option::Path("dpkg_dir")
        .Default("/var/lib/dpkg")
        .Describe("dpkg's database (status and info/*.list), read to find each file's package."),
    sdk::Option::String("deb_vendor")
        .Default("debian")
        .Describe("Namespace of the Debian purls: pkg:deb/<deb_vendor>/<package>@<version>?arch=<arch>."),
    sdk::Option::String("source").Default("procfs").Describe(
        "Value of `source` in the provenance records and the callgraph manifests."),
};

std::string DefaultComponentPurl() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "localhost");
  std::string name(host);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return BuildPurl("generic", "", name + "-modules", "", {});
}

// The resident set size of this process (signalsd with its plugins), KiB.
long ResidentKiB() {
  FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

class ProcfsSource final : public sdk::SourceComponent {
 public:
  static constexpr const char* kName = "source-procfs";
  static constexpr const char* kDescription =
      "Reports which executables and shared libraries the processes of this host have loaded "
      "(runtime.module.loaded facts with build-ids and Debian purls) and keeps the host's module graph "
      "(DT_NEEDED, resolved as ld.so does) stored as a callgraph.";
  static sdk::OptionList Options() { return sdk::MakeOptionList(kOptions); }

  ProcfsSource(const sdk::Host& host, const sdk::Config& config)
      : host_(host),
        instance_(config.instance_name()),
        tenant_(config.Get("tenant")),
        source_(config.Get("source")),
        interval_(config.GetDuration("interval")),
        max_batch_facts_(static_cast<size_t>(config.GetInt("max_batch_facts"))),
        max_facts_in_memory_(static_cast<size_t>(config.GetInt("max_facts_in_memory"))),
        fixed_graph_(config.GetOr("callgraph_id", "")),
        component_purl_(config.Has("component_purl") ? config.Get("component_purl") : DefaultComponentPurl()),
        collector_(MakeOptions(config),
                   [this](int level, const std::string& message) { host_.Log(level, message); }) {}

  // The ABI requires a plugin to join its threads in destroy at the latest.
  ~ProcfsSource() override { Stop(); }

  void Start() override {
    if (worker_.joinable()) return;
    // Whether the kernel would take our batches: logged, never fatal, since
    // the tenant or callgraph may be added while signalsd runs. ingest.check
    // needs a callgraph; the module graph's does not exist before the first
    // scan, and its first ingest is that check (a refusal is logged then).
    if (!fixed_graph_.empty()) {
      support::JsonWriter check;
      check.BeginObject().Key("op").String("ingest.check").Key("tenant").String(tenant_);
      check.Key("callgraphId").String(fixed_graph_).EndObject();
      try {
        host_.Call(check.text());
      } catch (const sdk::Error& e) {
        const sdk::Problem p = e.problem();
        host_.Error("the kernel would refuse this source's facts (" +
                    (p.detail.empty() ? std::string(e.what()) : p.detail) +
                    "); scans go on and batches are kept and sent again when it accepts them");
      }
    }
    stopping_ = false;
    worker_ = std::thread([this] { Run(); });
    host_.Info("scanning /proc every " + std::to_string(interval_.count()) + " ms for tenant " + tenant_ +
               (fixed_graph_.empty() ? ", module graph " + component_purl_ : ", callgraph " + fixed_graph_));
  }

  // Wakes the worker and joins it. A scan in progress ends at the next
  // process; a batch being sent is finished (the kernel serves until every
  // stop has returned).
  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) {
      worker_.join();
      host_.Info("stopped");
    }
  }

 private:
  struct Batch {
    std::string key;                 // idempotency key, a function of the interval and the batch number
    std::string graph_id;            // "" until a graph is stored
    std::vector<std::string> lines;  // facts, without '\n'
    int resend = 0;                  // lines dropped so far: the key changes with the bytes
  };

  static CollectorOptions MakeOptions(const sdk::Config& config) {
    CollectorOptions o;
    if (config.Has("exe_regex")) {
      try {
        o.filter.exe_regex.emplace(config.Get("exe_regex"), std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        throw sdk::Error(SIGNALS_INVALID_CONFIG,
                         "exe_regex: not a valid regular expression: " + std::string(e.what()));
      }
    }
    o.filter.cgroup_prefix = config.GetOr("cgroup_prefix", "");
    o.filter.uid = config.Has("uid") ? config.GetInt("uid") : -1;
    o.max_maps_bytes = config.GetSize("max_maps_bytes");
    o.dpkg_dir = config.Get("dpkg_dir");
    o.deb_vendor = config.Get("deb_vendor");
    o.module_graph = !config.Has("callgraph_id");
    o.max_graph_nodes = static_cast<size_t>(config.GetInt("max_graph_nodes"));
    o.max_facts = static_cast<size_t>(config.GetInt("max_facts_in_memory"));
    return o;
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      const auto started = std::chrono::steady_clock::now();
      try {
        Tick();
      } catch (const std::exception& e) {  // never let one interval end the source
        host_.Error(std::string("scan failed: ") + e.what());
      }
      lock.lock();
      wake_.wait_until(lock, started + interval_, [this] { return stopping_.load(); });
    }
  }

  void Tick() {
    const int64_t now_ms = host_.NowUnixMs();
    const Observation obs = collector_.Collect([this] { return stopping_.load(); });
    if (obs.scan.stopped) return;
    Count(obs);
    // Stopping: the batch in flight is finished, no new ingest is started.
    if (stopping_) return;
    const std::string graph = fixed_graph_.empty() ? UpdateGraph() : fixed_graph_;
    Enqueue(obs, now_ms, graph);
    Send(graph);
  }

  void Count(const Observation& obs) {
    host_.CounterAdd("signals_source_procfs_scans_total", "", 1);
    host_.HistogramObserve("signals_source_procfs_scan_duration_seconds", "",
                           obs.scan_seconds + obs.enrich_seconds + obs.graph_seconds);
    host_.GaugeSet("signals_source_procfs_processes", "", static_cast<double>(obs.scan.processes.size()));
    host_.GaugeSet("signals_source_procfs_modules", "", static_cast<double>(obs.scan.modules.size()));
    host_.GaugeSet("signals_source_procfs_graph_nodes", "",
                   static_cast<double>(collector_.graph().node_count()));
    for (const auto& [reason, count] : obs.scan.skipped) {
      host_.CounterAdd(kSkipped, ("reason=" + reason).c_str(), static_cast<double>(count));
    }
    if (obs.facts_dropped > 0) Dropped("memory", obs.facts_dropped);
    char line[512];
    std::snprintf(line, sizeof line,
                  "scan: %llu processes listed, %zu matched, %llu filtered, %zu modules, %zu facts; "
                  "scan %.1f ms, ELF+dpkg %.1f ms, graph %.1f ms (%zu nodes); process RSS %ld KiB",
                  static_cast<unsigned long long>(obs.scan.listed), obs.scan.processes.size(),
                  static_cast<unsigned long long>(obs.scan.filtered), obs.scan.modules.size(),
                  obs.facts.size(), obs.scan_seconds * 1000, obs.enrich_seconds * 1000,
                  obs.graph_seconds * 1000, collector_.graph().node_count(), ResidentKiB());
    std::string text = line;
    for (const auto& [reason, count] : obs.scan.skipped) text += ", " + reason + " " + std::to_string(count);
    // The first scan's cost goes to the operator; later ones to debug.
    if (first_scan_) {
      host_.Info(text);
      first_scan_ = false;
    } else {
      host_.Debug(text);
    }
  }

  void Dropped(const char* reason, uint64_t count) {
    host_.CounterAdd("signals_source_procfs_facts_total", (std::string("result=dropped_") + reason).c_str(),
                     static_cast<double>(count));
  }

  // Ingests the module graph when it differs from the one stored last;
  // returns the graphId to link facts to ("" while none is stored).
  std::string UpdateGraph() {
    if (collector_.graph().node_count() == 0) return graph_id_;  // nothing matched yet
    const std::string doc = collector_.graph().ToJson();
    const uint64_t digest = Fnv1a64(doc);
    if ((digest == graph_digest_ && !graph_id_.empty()) || digest == refused_digest_) return graph_id_;
    support::JsonWriter request;
    request.BeginObject()
        .Key("kind")
        .String("callgraph")
        .Key("tenant")
        .String(tenant_)
        .Key("componentPurl")
        .String(component_purl_)
        // "native" is not among the kernel's callgraph languages; ELF modules are "binary".
        .Key("language")
        .String("binary")
        .Key("source")
        .String(source_)
        .Key("format")
        .String("json")
        .EndObject();
    try {
      sdk::Ingest ingest = host_.BeginIngest(request.text());
      for (size_t at = 0; at < doc.size(); at += kChunkBytes) {
        ingest.Write(doc.data() + at, std::min(kChunkBytes, doc.size() - at));
      }
      bool created = false;
      const std::string answer = ingest.Finish(&created);
      auto manifest = support::JsonObject::Parse(answer);
      const std::string id = manifest ? manifest->String("graphId") : "";
      if (id.empty()) throw sdk::Error(SIGNALS_ERROR, "the callgraph answer has no graphId: " + answer);
      if (id != graph_id_) {
        host_.Info("module graph " + id + (created ? " stored: " : " (already stored): ") +
                   std::to_string(collector_.graph().node_count()) + " modules, " +
                   std::to_string(collector_.graph().edge_count()) + " edges, " +
                   std::to_string(collector_.graph().entrypoint_count()) + " executables");
      }
      host_.CounterAdd("signals_source_procfs_callgraphs_total",
                       created ? "result=stored" : "result=unchanged", 1);
      graph_id_ = id;
      graph_digest_ = digest;
      problem_.clear();
    } catch (const sdk::Error& e) {
      host_.CounterAdd("signals_source_procfs_callgraphs_total", "result=failed", 1);
      const sdk::Problem p = e.problem();
      if (e.status() == SIGNALS_INVALID_ARGUMENT) {
        // The same document fails the same way: wait for the graph to change.
        refused_digest_ = digest;
        Report("the module graph was refused: " + p.detail + " (kept out until the graph changes)");
      } else {
        Report("the module graph was not stored (" + p.detail + "); trying again next interval");
      }
    }
    return graph_id_;
  }

  // Logs a problem as an error once until it changes or things work again
  // (repeats at debug level): a kernel that refuses every interval must not
  // fill the log.
  void Report(const std::string& text) {
    if (text == problem_) {
      host_.Debug(text);
      return;
    }
    problem_ = text;
    host_.Error(text);
  }

  void Enqueue(const Observation& obs, int64_t now_ms, const std::string& graph) {
    const std::string observed_at = Rfc3339Millis(now_ms);
    Batch batch;
    size_t number = 0;
    auto close = [&] {
      if (batch.lines.empty()) return;
      batch.key = "procfs:" + instance_ + ":" + std::to_string(now_ms) + ":" + std::to_string(number++);
      batch.graph_id = graph;
      pending_facts_ += batch.lines.size();
      pending_.push_back(std::move(batch));
      batch = Batch{};
    };
    for (const ModuleFact& fact : obs.facts) {
      batch.lines.push_back(
          FactLine(obs.scan.modules[fact.module], obs.modules[fact.module], fact, observed_at));
      if (batch.lines.size() >= max_batch_facts_) close();
    }
    close();
    while (pending_facts_ > max_facts_in_memory_ && !pending_.empty()) {
      Dropped("memory", pending_.front().lines.size());
      pending_facts_ -= pending_.front().lines.size();
      pending_.pop_front();
    }
  }

  void Send(const std::string& graph) {
    while (!pending_.empty() && !stopping_) {
      Batch& batch = pending_.front();
      if (batch.graph_id.empty()) batch.graph_id = graph;
      if (batch.graph_id.empty()) return;  // no graph stored yet: keep the batches
      support::JsonWriter request;
      request.BeginObject()
          .Key("kind")
          .String("runtime-facts")
          .Key("tenant")
          .String(tenant_)
          .Key("callgraphId")
          .String(batch.graph_id)
          .Key("source")
          .String(source_)
          .Key("idempotencyKey")
          .String(batch.resend == 0 ? batch.key : batch.key + ":r" + std::to_string(batch.resend))
          .EndObject();
      try {
        sdk::Ingest ingest = host_.BeginIngest(request.text());
        std::string chunk;
        for (const std::string& line : batch.lines) {
          chunk += line;
          chunk += '\n';
          if (chunk.size() >= kChunkBytes) {
            ingest.Write(chunk.data(), chunk.size());
            chunk.clear();
          }
        }
        if (!chunk.empty()) ingest.Write(chunk.data(), chunk.size());
        ingest.Finish();
        host_.CounterAdd("signals_source_procfs_facts_total", "result=stored",
                         static_cast<double>(batch.lines.size()));
        host_.CounterAdd("signals_source_procfs_batches_total", "result=stored", 1);
        problem_.clear();
        pending_facts_ -= batch.lines.size();
        pending_.pop_front();
      } catch (const sdk::Error& e) {
        const sdk::Problem p = e.problem();
        // 409: an earlier attempt under this key has not finished; it is the
        // key that is busy, not the bytes that are wrong.
        if (e.status() == SIGNALS_INVALID_ARGUMENT && p.http_status != 409) {
          host_.CounterAdd("signals_source_procfs_batches_total", "result=rejected", 1);
          if (p.line >= 1 && static_cast<size_t>(p.line) <= batch.lines.size()) {
            // That line is wrong and stays wrong: drop it, send the rest now.
            host_.Warn("fact dropped (" + p.detail + "): " + batch.lines[static_cast<size_t>(p.line - 1)]);
            batch.lines.erase(batch.lines.begin() + (p.line - 1));
            ++batch.resend;
            --pending_facts_;
            Dropped("invalid", 1);
            if (batch.lines.empty()) pending_.pop_front();
            continue;
          }
          host_.Error("batch dropped: " + p.detail);
          Dropped("invalid", batch.lines.size());
          pending_facts_ -= batch.lines.size();
          pending_.pop_front();
          continue;
        }
        host_.CounterAdd("signals_source_procfs_batches_total", "result=retry", 1);
        if (e.status() == SIGNALS_NOT_FOUND) {
          if (p.rule == "callgraph-exists" && fixed_graph_.empty()) {
            // Our graph is gone (or was never the tenant's): store it again and
            // link every waiting batch to the new one.
            graph_id_.clear();
            graph_digest_ = 0;
            for (Batch& b : pending_) b.graph_id.clear();
          }
          Report("the kernel does not know this source's " +
                 (p.field.empty() ? "tenant or callgraph" : p.field) + " (" + p.detail +
                 "); batches are kept and sent again next interval");
        } else {
          Report("batch not stored (" + (p.detail.empty() ? std::string(e.what()) : p.detail) +
                 "); sent again next interval");
        }
        return;
      }
    }
  }

  const sdk::Host host_;
  const std::string instance_;
  const std::string tenant_;
  const std::string source_;
  const std::chrono::milliseconds interval_;
  const size_t max_batch_facts_;
  const size_t max_facts_in_memory_;
  const std::string fixed_graph_;
  const std::string component_purl_;

  // Worker state.
  Collector collector_;
  std::deque<Batch> pending_;
  size_t pending_facts_ = 0;
  std::string graph_id_;
  uint64_t graph_digest_ = 0;
  uint64_t refused_digest_ = 0;
  std::string problem_;
  bool first_scan_ = true;

  std::mutex mutex_;  // with wake_: the worker's sleep
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::thread worker_;
};

}  // namespace

SIGNALS_PLUGIN("source-procfs", "1.0.0",
               "Runtime source: loaded modules from /proc, with Debian purls and a module graph",
               ProcfsSource)
