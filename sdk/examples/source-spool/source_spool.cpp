// source_spool.cpp — the SDK's example source plugin: ingests runtime facts
// dropped as NDJSON files into a spool directory.
//
// A producer writes `<name>.ndjson` into `dir` (ideally as `.<name>` first, then
// renamed: names starting with '.' are ignored, so a half-written file is never
// read). A thread of the plugin's own polls the directory and streams each file
// into the kernel through the host's ingest service API, the same pipeline the
// HTTP transport uses. Afterwards the file is renamed:
//   accepted: `<name>.done`,     provenance record in `<name>.provenance.json`
//   rejected: `<name>.rejected`, RFC 9457 problem in  `<name>.problem.json`
// The sidecar is written before the rename, so whoever sees `.done` or
// `.rejected` can read it. Delivery is at least once: a crash between commit and
// rename ingests that file again at the next start.
//
// Only a file the kernel refuses for its bytes (SIGNALS_INVALID_ARGUMENT: a bad
// line, bad JSON) is rejected. An unknown tenant or callgraph
// (SIGNALS_NOT_FOUND) is a problem of the configuration, not of the file: the
// file stays in the spool, an error says what to fix, and it is ingested once
// the tenant or callgraph exists. Transient failures (kernel busy, disk full)
// leave the file where it is for the next poll too.
//
// Threading: the kernel calls the constructor, Start(), Stop() and the
// destructor on its control thread; only the worker thread touches the spool.
// Host callbacks may be called from any thread.
#include <signals/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace sdk = signals::sdk;

constexpr size_t kChunkBytes = 64 * 1024;  // what one ingest_write carries

// The options the kernel validates before the constructor runs. The kernel
// fills in defaults, turns durations into milliseconds and paths into absolute
// ones, and rejects unknown keys, so the plugin parses nothing itself.
constexpr signals_option kOptions[] = {
    sdk::Option("dir", SIGNALS_OPT_PATH, nullptr, "Spool directory polled for *.ndjson files.",
                SIGNALS_OPTF_REQUIRED),
    sdk::Option("tenant", SIGNALS_OPT_STRING, "global", "Tenant the facts are ingested for."),
    sdk::Option("callgraph_id", SIGNALS_OPT_STRING, nullptr, "Callgraph (ULID) the facts refer to.",
                SIGNALS_OPTF_REQUIRED),
    sdk::Option("poll_interval", SIGNALS_OPT_DURATION, "1s", "Pause between directory scans.", 0, nullptr, 10,
                3600 * 1000),
    sdk::Option("source", SIGNALS_OPT_STRING, "spool", "Value of `source` in provenance records."),
};

// A JSON string literal; enough for the request, whose values come from config.
std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Writes `text` to `path` via a hidden temp file and a rename, so a reader sees
// nothing or all of it.
void WriteFileAtomically(const fs::path& path, const std::string& text) {
  fs::path temp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + temp.string());
  }
  fs::rename(temp, path);
}

class SpoolSource final : public sdk::SourceComponent {
 public:
  static constexpr const char* kName = "source-spool";
  static constexpr const char* kDescription =
      "Ingests runtime-fact NDJSON files dropped into a spool directory.";
  static sdk::OptionList Options() { return sdk::MakeOptionList(kOptions); }

  // The request is the same for every file. No credentials: the kernel knows
  // this host table belongs to a source and ingests as its trusted service
  // principal. Throwing here fails `create`: the kernel reports the message.
  SpoolSource(const sdk::Host& host, const sdk::Config& config)
      : host_(host),
        dir_(config.Get("dir")),
        tenant_(config.Get("tenant")),
        callgraph_id_(config.Get("callgraph_id")),
        poll_interval_(config.GetInt("poll_interval")),
        request_json_("{\"kind\":\"runtime-facts\",\"tenant\":" + JsonString(config.Get("tenant")) +
                      ",\"callgraphId\":" + JsonString(config.Get("callgraph_id")) +
                      ",\"source\":" + JsonString(config.Get("source")) + "}") {
    if (!fs::is_directory(dir_)) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG, "dir: " + dir_.string() + " is not a directory");
    }
  }
  // The ABI requires a plugin to join its threads in destroy at the latest.
  ~SpoolSource() override { Stop(); }

  // Asks the kernel whether it would accept ingests for this tenant and
  // callgraph. An unknown one is a warning, not a failure: it may be added
  // while signalsd runs, and the files wait in the spool until then.
  void Start() override {
    if (worker_.joinable()) return;
    try {
      host_.Call("{\"op\":\"ingest.check\",\"kind\":\"runtime-facts\",\"tenant\":" + JsonString(tenant_) +
                 ",\"callgraphId\":" + JsonString(callgraph_id_) + "}");
    } catch (const sdk::Error& e) {
      if (e.status() == SIGNALS_NOT_FOUND) {
        host_.Warn("the kernel would refuse these files now: " + e.problem().detail +
                   "; they wait in the spool until tenant '" + tenant_ + "' and callgraph " + callgraph_id_ +
                   " exist");
      }  // anything else (an older kernel without ingest.check): the first file will tell
    }
    stopping_ = false;
    worker_ = std::thread([this] { Run(); });
    host_.Info("polling " + dir_.string() + " every " + std::to_string(poll_interval_.count()) + " ms");
  }

  // Wakes the worker at once and joins it. A file in hand is abandoned at the
  // next chunk (its ingest aborted, nothing stored) and picked up after a restart.
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

  void CheckHealth() override {
    if (!fs::is_directory(dir_)) throw sdk::Error(SIGNALS_ERROR, dir_.string() + " has gone");
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      for (const fs::path& file : PendingFiles()) {
        if (Stopping()) break;
        Process(file);
      }
      lock.lock();
      wake_.wait_for(lock, poll_interval_, [this] { return stopping_; });
    }
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  // Regular `*.ndjson` files not starting with '.', in name order.
  std::set<fs::path> PendingFiles() const {
    std::set<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      const std::string name = entry.path().filename().string();
      if (name[0] != '.' && entry.path().extension() == ".ndjson" && entry.is_regular_file(ec)) {
        files.insert(entry.path());
      }
    }
    if (ec) host_.Warn("cannot scan " + dir_.string() + ": " + ec.message());
    return files;
  }

  // Streams one file into the kernel and files it away by the outcome.
  void Process(const fs::path& file) {
    const std::string name = file.filename().string();
    try {
      std::ifstream in(file, std::ios::binary);
      if (!in) throw std::runtime_error("cannot open " + file.string());
      sdk::Ingest ingest = host_.BeginIngest(request_json_);  // aborts unless finished
      std::vector<char> chunk(kChunkBytes);
      while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
        if (Stopping()) return;  // Stop() must be prompt: abort, retry at the next start
        ingest.Write(chunk.data(), static_cast<size_t>(in.gcount()));
      }
      if (in.bad()) throw std::runtime_error("cannot read " + file.string());
      WriteFileAtomically(dir_ / (name + ".provenance.json"), ingest.Finish());
      fs::rename(file, dir_ / (name + ".done"));
      host_.Info(name + ": ingested");
      host_.CounterAdd("signals_source_spool_files_total", "result=done", 1);
      waiting_.erase(name);
    } catch (const sdk::Error& e) {
      if (e.status() == SIGNALS_NOT_FOUND) {  // the configuration's fault: the file waits
        // Once per file: the next polls would say the same.
        if (waiting_.insert(name).second) {
          host_.Error(name + ": not ingested: " + e.problem().detail +
                      ". The file stays in the spool until tenant '" + tenant_ + "' and callgraph " +
                      callgraph_id_ + " exist (or this source's tenant/callgraph_id are corrected)");
        }
        return;
      }
      if (e.status() != SIGNALS_INVALID_ARGUMENT) {  // transient: try again at the next poll
        host_.Warn(name + ": will retry: " + e.what());
        return;
      }
      waiting_.erase(name);
      try {  // what() is the problem JSON the kernel sent
        WriteFileAtomically(dir_ / (name + ".problem.json"), e.what());
        fs::rename(file, dir_ / (name + ".rejected"));
      } catch (const std::exception& io) {
        host_.Log(SIGNALS_LOG_ERROR, name + ": rejected, but cannot file it away: " + io.what());
      }
      host_.Warn(name + ": rejected: " + e.what());
      host_.CounterAdd("signals_source_spool_files_total", "result=rejected", 1);
    } catch (const std::exception& e) {  // I/O trouble: leave the file for the next poll
      host_.Log(SIGNALS_LOG_ERROR, name + ": " + e.what());
    }
  }

  const sdk::Host host_;
  const fs::path dir_;
  const std::string tenant_;
  const std::string callgraph_id_;
  const std::chrono::milliseconds poll_interval_;
  const std::string request_json_;

  std::mutex mutex_;  // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread worker_;
  // Files waiting for their tenant or callgraph, already reported (worker thread only).
  std::set<std::string> waiting_;
};

}  // namespace

SIGNALS_PLUGIN("source-spool", "1.0.0", "Example source: a spool directory of NDJSON files", SpoolSource)
