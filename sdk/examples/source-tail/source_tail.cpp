// source_tail.cpp — the SDK's second example source plugin: follows one NDJSON
// file of runtime facts like `tail -F` and ingests the lines appended to it,
// exactly once, also across restarts and crashes (kill -9) of signalsd.
//
// How exactly-once works (README.md tells the long story):
//
//  * A checkpoint in the instance's state directory (checkpoint.json, replaced
//    atomically and durably) holds the file's identity (st_dev, st_ino), the
//    byte offset of the first line not yet stored, and an epoch that grows at
//    every rotation and truncation.
//  * Before a batch goes to the kernel, its end offset is written into the
//    checkpoint as "pending". The batch is sent with an idempotencyKey made
//    from the checkpoint's id, the file identity, the epoch and the byte range
//    (and the lines left out of it, if any), so the same bytes always travel
//    under the same key.
//  * Only after the kernel's answer (SIGNALS_OK, or SIGNALS_EXISTS: "this key
//    and these bytes were stored before, here is that batch") does the
//    checkpoint move past the batch. A crash in between makes the next start
//    send the pending range again, with the same key: the kernel answers with
//    the batch it stored, and nothing is stored twice.
//
// Batches are cut at newline boundaries only: at most max_batch_facts lines,
// sent when full or when the first of them has waited max_batch_delay. A last
// line without '\n' waits until it is complete (in a rotated-away file: until
// the file has stopped growing, then it is sent as it is).
//
// Threading: the kernel calls the constructor, Start(), Stop() and the
// destructor on its control thread. Everything else runs on the one worker
// thread, which alone touches the file, the checkpoint and the members below
// the "worker state" line. Host callbacks may be called from any thread.
#include <signals/plugin.hpp>
#include <signals/support/json_text.hpp>
#include <signals/support/posix_file.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace sdk = signals::sdk;
namespace support = signals::support;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// The options the kernel validates before the constructor runs: it fills in
// defaults, turns durations into milliseconds and the path into an absolute
// one, and refuses unknown keys and values out of range. Defaults and ranges
// are checked at compile time.
constexpr signals_option kOptions[] = {
    sdk::Option::Path("file").Required().Describe(
        "The NDJSON file to follow; it may be rotated (renamed and created anew) or truncated."),
    sdk::Option::String("tenant").Default("global").Describe("Tenant the facts are ingested for."),
    sdk::Option::String("callgraph_id").Required().Describe("Callgraph (ULID) the facts refer to."),
    sdk::Option::String("source").Default("tail").Describe("Value of `source` in provenance records."),
    sdk::Option::Int("max_batch_facts").Default("1000").Range(1, 100000).Describe("Most lines in one batch."),
    sdk::Option::Duration("max_batch_delay")
        .Default("500ms")
        .Range("10ms", "1h")
        .Describe("Longest time a complete line waits before its batch is sent."),
    sdk::Option::Duration("poll_interval")
        .Default("200ms")
        .Range("10ms", "1h")
        .Describe("Pause between looks at the file while nothing is due."),
    sdk::Option::Duration("retry_delay")
        .Default("1s")
        .Range("10ms", "1h")
        .Describe("Pause after a failed batch; it doubles with each further failure, up to 30s."),
    sdk::Option::Enum("start_at", "beginning|end")
        .Default("beginning")
        .Describe("Where to start when there is no checkpoint: at the first line, or after the last "
                  "complete line."),
};

constexpr size_t kChunkBytes = 64 * 1024;  // one pread, one ingest_write
// The most bytes one batch holds in memory. A single line longer than this is
// dropped (the kernel refuses lines over kernel.max_line_bytes, 1 MiB by
// default, anyway).
constexpr uint64_t kMaxBatchBytes = 16 * 1024 * 1024;
// How many bytes before the offset the checkpoint fingerprints: a file
// truncated and refilled past the offset between two looks has other bytes there.
constexpr uint64_t kFingerprintBytes = 64;
constexpr Ms kMaxRetryDelay{30000};

// FNV-1a, 64 bits: a change detector for the checkpoint (not a security
// measure: whoever can write the file can write the checkpoint too).
uint64_t Fnv1a(const char* data, size_t len, uint64_t hash = 14695981039346656037ull) {
  for (size_t i = 0; i < len; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string Hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// A non-negative integer member of a checkpoint, read as raw JSON text so
// that all 64 bits of an inode number survive (JsonObject::Int is signed).
bool ReadU64(const support::JsonObject& object, const char* name, uint64_t* out) {
  const std::string text = object.Json(name);
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  *out = std::strtoull(text.c_str(), nullptr, 10);
  return errno == 0;
}

// Reads up to `len` bytes at `offset` (fewer only at the end of the file).
size_t ReadAt(int fd, uint64_t offset, char* buffer, size_t len) {
  size_t total = 0;
  while (total < len) {
    ssize_t n = ::pread(fd, buffer + total, len - total, static_cast<off_t>(offset + total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("cannot read the file: " + support::ErrnoText(errno));
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  return total;
}

struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
  bool operator!=(const FileId& o) const { return !(*this == o); }
};

FileId IdOf(const struct stat& st) { return FileId{static_cast<uint64_t>(st.st_dev), st.st_ino}; }

// What survives a restart. Written before a batch is sent (with pending_end)
// and after its answer (offset moved to pending_end, pending cleared).
struct Checkpoint {
  std::string id;                 // random, made with the first checkpoint of this state directory
  std::string path;               // the file followed when it was written (for messages and rotation)
  bool has_file = false;          // false until a file was first opened: start_at applies once
  FileId file;                    // the file being read
  uint64_t epoch = 0;             // +1 at every rotation and truncation: offsets start over
  uint64_t offset = 0;            // first byte not yet stored
  uint64_t sequence = 0;          // batches completed
  uint64_t fingerprint = 0;       // Fnv1a of the fingerprint_len bytes before offset
  uint64_t fingerprint_len = 0;   // 0..kFingerprintBytes
  uint64_t pending_end = 0;       // > offset: the batch [offset, pending_end) is being sent
  uint64_t pending_hash = 0;      // Fnv1a of the file's bytes [offset, pending_end)
  uint64_t pending_since_ms = 0;  // the host's clock when the pending batch was written down
  std::vector<uint64_t> dropped;  // offsets of lines left out of the pending batch

  bool pending() const { return pending_end > offset; }

  std::string ToJson() const {
    std::string dropped_text;
    for (uint64_t o : dropped) dropped_text += (dropped_text.empty() ? "" : ",") + std::to_string(o);
    support::JsonWriter w;
    w.BeginObject().Key("version").Int(1).Key("id").String(id).Key("path").String(path);
    w.Key("hasFile").Bool(has_file).Key("dev").Uint(file.dev).Key("ino").Uint(file.ino);
    w.Key("epoch").Uint(epoch).Key("offset").Uint(offset).Key("sequence").Uint(sequence);
    w.Key("fingerprint").String(Hex(fingerprint)).Key("fingerprintLength").Uint(fingerprint_len);
    w.Key("pendingEnd").Uint(pending_end).Key("pendingHash").String(Hex(pending_hash));
    w.Key("pendingSince").Uint(pending_since_ms);
    // JsonObject reads top-level members only, so the list is one string.
    w.Key("dropped").String(dropped_text).EndObject();
    return w.text() + "\n";
  }

  // False when `text` is not a checkpoint this code wrote.
  bool FromJson(const std::string& text) {
    auto o = support::JsonObject::Parse(text);
    if (!o || o->Int("version") != 1) return false;
    id = o->String("id");
    path = o->String("path");
    has_file = o->Json("hasFile") == "true";
    bool ok = !id.empty() && ReadU64(*o, "dev", &file.dev) && ReadU64(*o, "ino", &file.ino) &&
              ReadU64(*o, "epoch", &epoch) && ReadU64(*o, "offset", &offset) &&
              ReadU64(*o, "sequence", &sequence) && ReadU64(*o, "fingerprintLength", &fingerprint_len) &&
              ReadU64(*o, "pendingEnd", &pending_end) && ReadU64(*o, "pendingSince", &pending_since_ms) &&
              fingerprint_len <= kFingerprintBytes;
    fingerprint = std::strtoull(o->String("fingerprint").c_str(), nullptr, 16);
    pending_hash = std::strtoull(o->String("pendingHash").c_str(), nullptr, 16);
    dropped.clear();
    const std::string list = o->String("dropped");
    for (size_t pos = 0; ok && pos < list.size();) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      dropped.push_back(std::strtoull(list.substr(pos, comma - pos).c_str(), nullptr, 10));
      pos = comma + 1;
    }
    return ok;
  }
};

// A batch as it goes to the kernel: the bytes of [offset, pending_end)
// without the dropped lines, and where each of its lines starts in the file
// (the kernel names a bad line by its 1-based number in the body).
struct Body {
  std::string text;
  std::vector<uint64_t> line_offsets;
  uint64_t facts = 0;  // lines that are not blank
};

// Complete lines found from an offset on.
struct Span {
  uint64_t end = 0;       // after the last complete line that fits the batch
  uint64_t lines = 0;     // complete lines in [start, end)
  bool full = false;      // max_batch_facts lines, or the next line would pass kMaxBatchBytes
  bool oversize = false;  // the first line alone is longer than kMaxBatchBytes; ends at `end` if > start
};

class TailSource final : public sdk::SourceComponent {
 public:
  static constexpr const char* kName = "source-tail";
  static constexpr const char* kDescription =
      "Follows one NDJSON file like tail -F and ingests the appended lines exactly once.";
  static sdk::OptionList Options() { return sdk::MakeOptionList(kOptions); }

  // Reads the options and the checkpoint. Throwing here fails `create`, so a
  // checkpoint that cannot be read stops signalsd with the reason instead of
  // silently starting over (and sending everything again).
  TailSource(const sdk::Host& host, const sdk::Config& config)
      : host_(host),
        instance_(config.instance_name()),
        file_(config.Get("file")),
        tenant_(config.Get("tenant")),
        callgraph_id_(config.Get("callgraph_id")),
        source_(config.Get("source")),
        max_batch_facts_(static_cast<uint64_t>(config.GetInt("max_batch_facts"))),
        max_batch_delay_(config.GetDuration("max_batch_delay")),
        poll_interval_(config.GetDuration("poll_interval")),
        retry_delay_(config.GetDuration("retry_delay")),
        start_at_end_(config.Get("start_at") == "end"),
        metric_labels_("instance=" + instance_) {
    if (config.state_dir().empty()) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG,
                       "this kernel gives sources no state directory (plugin ABI < 1.3), and source-tail "
                       "keeps its checkpoint there; upgrade Signals");
    }
    checkpoint_path_ = config.state_dir() + "/checkpoint.json";
    LoadCheckpoint();
    // A batch pending at start was in flight when the last process stopped.
    check_pending_ = cp_.pending();
  }

  // The ABI requires a plugin to join its threads in destroy at the latest.
  ~TailSource() override { Stop(); }

  // Checks the configuration with the kernel, then starts the worker. An
  // unknown tenant or callgraph is a warning, not a failure: it may be added
  // while signalsd runs, and the lines wait in the file until then.
  void Start() override {
    if (worker_.joinable()) return;
    CheckIngest();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = false;
    }
    worker_ = std::thread([this] { Run(); });
  }

  // Wakes the worker and joins it. A batch already handed to the kernel is
  // finished (its answer is what moves the checkpoint); no new one is started.
  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) {
      worker_.join();
      host_.Info("stopped at offset " + std::to_string(cp_.offset) + " of " + file_);
    }
  }

 private:
  // --- control thread --------------------------------------------------------

  void LoadCheckpoint() {
    support::FileContents contents;
    support::FileStatus read = support::ReadRegularFile(checkpoint_path_, 64 * 1024, &contents);
    if (!read.ok() && read.err() == ENOENT) {
      cp_.id = support::RandomHex(8);  // a new state directory: keys nobody used before
      cp_.path = file_;
      apply_start_at_ = start_at_end_;
      return;
    }
    if (!read.ok()) throw sdk::Error(SIGNALS_ERROR, "cannot read the checkpoint: " + read.message());
    if (!cp_.FromJson(contents.bytes)) {
      throw sdk::Error(SIGNALS_ERROR, "the checkpoint " + checkpoint_path_ +
                                          " is not valid; move it away to start over (start_at then applies, "
                                          "and lines ingested before may be ingested again)");
    }
  }

  void CheckIngest() {
    support::JsonWriter w;
    w.BeginObject().Key("op").String("ingest.check").Key("kind").String("runtime-facts");
    w.Key("tenant").String(tenant_).Key("callgraphId").String(callgraph_id_).EndObject();
    try {
      host_.Call(w.text());
    } catch (const sdk::Error& e) {
      if (e.status() == SIGNALS_NOT_FOUND) {
        host_.Warn("the kernel would refuse these facts now: " + e.problem().detail + ". Lines of " + file_ +
                   " wait in the file until tenant '" + tenant_ + "' and callgraph " + callgraph_id_ +
                   " exist; fix tenant/callgraph_id in [" + instance_ + "] if they are wrong");
      } else {  // e.g. a kernel older than ingest.check: the first batch will tell
        host_.Debug(std::string("ingest.check not available: ") + e.what());
      }
    }
  }

  // --- the worker ---------------------------------------------------------------

  void Run() {
    while (!Stopping()) {
      Ms wait{0};
      try {
        wait = Step();
        io_problem_.clear();
      } catch (const std::exception& e) {
        // I/O trouble (the file, the checkpoint): say it once, try again later.
        if (io_problem_ != e.what()) host_.Error(file_ + ": " + e.what() + " (retrying)");
        io_problem_ = e.what();
        wait = retry_delay_;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      if (wait.count() > 0) wake_.wait_for(lock, wait, [this] { return stopping_; });
    }
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  // One step: at most one batch sent. Returns how long to wait before the
  // next step (zero: at once).
  Ms Step() {
    if (!fd_.valid() && !OpenFile()) return poll_interval_;
    if (!rotated_) CheckRotation();
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) throw std::runtime_error("fstat: " + support::ErrnoText(errno));
    const auto size = static_cast<uint64_t>(st.st_size);
    if (const std::string why = TruncatedBecause(size); !why.empty()) StartOver(why);
    if (cp_.pending()) return SendPending();

    // A rotated-away file is quiet once it has not grown for a poll interval:
    // then its last line is sent even without '\n', and the new file is next.
    bool quiet = false;
    if (rotated_) {
      const auto now = Clock::now();
      if (size != drain_size_) {
        drain_size_ = size;
        drain_since_ = now;
      }
      quiet = now - drain_since_ >= poll_interval_;
    }

    const Span span = ScanLines(cp_.offset, size);
    if (span.oversize) {
      const uint64_t end = span.end > cp_.offset ? span.end : (rotated_ && quiet ? size : cp_.offset);
      if (end == cp_.offset) return poll_interval_;  // its end has not been written yet
      DropOversize(end);
      return Ms(0);
    }
    const bool last_line = rotated_ && quiet && !span.full && size > span.end;
    const uint64_t end = last_line ? size : span.end;
    if (end == cp_.offset) {
      waiting_ = false;
      if (rotated_ && quiet) return SwitchToNewFile() ? Ms(0) : poll_interval_;
      return poll_interval_;
    }
    if (!span.full && !(rotated_ && quiet)) {
      const auto now = Clock::now();
      if (!waiting_) {
        waiting_ = true;
        waiting_since_ = now;
      }
      const auto due = waiting_since_ + max_batch_delay_;
      if (now < due) return std::min(poll_interval_, std::chrono::ceil<Ms>(due - now));
    }
    waiting_ = false;
    BeginBatch(end);
    return SendPending();
  }

  // Opens the configured file. False when it does not exist (yet).
  bool OpenFile() {
    support::UniqueFd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno != ENOENT) throw std::runtime_error("cannot open: " + support::ErrnoText(errno));
      if (!missing_logged_) host_.Info("waiting for " + file_ + " to appear");
      missing_logged_ = true;
      apply_start_at_ = false;  // a file that appears later is new: all of it is read
      return false;
    }
    missing_logged_ = false;
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) throw std::runtime_error("fstat: " + support::ErrnoText(errno));
    if (!S_ISREG(st.st_mode)) throw std::runtime_error("not a regular file");
    const FileId id = IdOf(st);
    if (!cp_.has_file) {
      cp_.has_file = true;
      cp_.file = id;
      cp_.path = file_;
      cp_.offset = apply_start_at_ ? LastLineEnd(fd.get(), static_cast<uint64_t>(st.st_size)) : 0;
      SetFingerprint(fd.get());
      fd_ = std::move(fd);
      SaveCheckpoint();  // from now on a restart resumes here, whatever start_at says
      host_.Info("following " + file_ + " from offset " + std::to_string(cp_.offset));
      return true;
    }
    if (id == cp_.file) {
      fd_ = std::move(fd);
      host_.Info("resuming " + file_ + " at offset " + std::to_string(cp_.offset) + " (" +
                 std::to_string(cp_.sequence) + " batches so far)");
      return true;
    }
    // The path names another file than the checkpoint: it was rotated while
    // signalsd was not running. The old file usually sits beside it under a
    // new name (x.1, x-20250101): finish it first.
    support::UniqueFd old = FindRotated();
    if (old.valid()) {
      fd_ = std::move(old);
      rotated_ = true;
      drain_size_ = UINT64_MAX;
      host_.Info(file_ + " was rotated while signalsd was stopped: finishing the old file from offset " +
                 std::to_string(cp_.offset) + " before following the new one");
      return true;
    }
    host_.Warn(file_ + " was replaced while signalsd was stopped, and the file read before (inode " +
               std::to_string(cp_.file.ino) + ") is gone: whatever it held after offset " +
               std::to_string(cp_.offset) + " was not ingested; following the new file from its start");
    Follow(std::move(fd), id);
    return true;
  }

  // The file with the checkpoint's identity in the directory of its path, if any.
  support::UniqueFd FindRotated() const {
    const std::string dir = support::ParentDirectory(cp_.path.empty() ? file_ : cp_.path);
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return support::UniqueFd();
    support::UniqueFd found;
    while (const dirent* entry = ::readdir(d)) {
      if (entry->d_ino != cp_.file.ino) continue;
      const std::string path = dir + "/" + entry->d_name;
      support::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      struct stat st;
      if (fd.valid() && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && IdOf(st) == cp_.file) {
        found = std::move(fd);
        break;
      }
    }
    ::closedir(d);
    return found;
  }

  // Notices that the path now names another file, or none: the open one was
  // rotated (renamed, or removed). It is read to its end before the switch.
  void CheckRotation() {
    struct stat st;
    if (::stat(file_.c_str(), &st) == 0) {
      if (IdOf(st) == cp_.file) return;
    } else if (errno != ENOENT) {
      return;  // cannot tell now (e.g. EACCES on a parent): look again next time
    }
    rotated_ = true;
    drain_size_ = UINT64_MAX;  // "grew just now": quiet only after a full poll interval
    host_.Info(file_ + " was rotated: finishing the old file (at offset " + std::to_string(cp_.offset) +
               "), then following the new one");
  }

  // After the rotated file is read to its end: follows the file at the path
  // from its start. False while there is no file at the path.
  bool SwitchToNewFile() {
    support::UniqueFd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno != ENOENT) throw std::runtime_error("cannot open: " + support::ErrnoText(errno));
      return false;
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) throw std::runtime_error("fstat: " + support::ErrnoText(errno));
    if (IdOf(st) == cp_.file) {  // renamed back: it was never rotated
      rotated_ = false;
      return true;
    }
    host_.Info("finished the rotated file at offset " + std::to_string(cp_.offset) + "; following the new " +
               file_ + " from its start");
    Follow(std::move(fd), IdOf(st));
    return true;
  }

  // Makes `fd` the file read, from offset 0, under a new epoch.
  void Follow(support::UniqueFd fd, FileId id) {
    fd_ = std::move(fd);
    rotated_ = false;
    waiting_ = false;
    cp_.file = id;
    cp_.path = file_;
    ++cp_.epoch;
    cp_.offset = 0;
    cp_.pending_end = 0;
    cp_.dropped.clear();
    pending_bytes_.clear();
    check_pending_ = false;
    SetFingerprint(fd_.get());
    SaveCheckpoint();
  }

  // Why the file no longer holds what the checkpoint describes ("" when it
  // does): shorter than the offset (truncated: `: > file`, copytruncate), or
  // other bytes just before the offset (truncated and refilled since).
  std::string TruncatedBecause(uint64_t size) const {
    if (size < cp_.offset || size < cp_.pending_end) {
      return "is shorter (" + std::to_string(size) + " bytes) than the offset " +
             std::to_string(std::max(cp_.offset, cp_.pending_end)) + " read up to";
    }
    if (cp_.fingerprint_len == 0) return "";
    char before[kFingerprintBytes];
    const size_t n = ReadAt(fd_.get(), cp_.offset - cp_.fingerprint_len, before, cp_.fingerprint_len);
    if (n == cp_.fingerprint_len && Fnv1a(before, n) == cp_.fingerprint) return "";
    return "holds other bytes before offset " + std::to_string(cp_.offset) + " than were read there";
  }

  // Reads the file again from its start under a new epoch, so the new lines
  // get keys of their own although their offsets were used before. The epoch
  // is written before any of them is sent: if signalsd dies before that
  // write, the next start sees the same truncation and makes the same epoch.
  void StartOver(const std::string& why) {
    host_.Warn(file_ + " was truncated (it " + why + "): reading it again from the start" +
               (cp_.pending() ? "; the batch in flight at offsets " + std::to_string(cp_.offset) + "-" +
                                    std::to_string(cp_.pending_end) + " may or may not have been stored"
                              : ""));
    ++cp_.epoch;
    cp_.offset = 0;
    cp_.pending_end = 0;
    cp_.dropped.clear();
    cp_.fingerprint_len = 0;
    pending_bytes_.clear();
    check_pending_ = false;
    waiting_ = false;
    SaveCheckpoint();
  }

  // Where the last complete line of the first `size` bytes ends (start_at = end).
  static uint64_t LastLineEnd(int fd, uint64_t size) {
    char buffer[kChunkBytes];
    uint64_t pos = size;
    while (pos > 0) {
      const uint64_t from = pos > kChunkBytes ? pos - kChunkBytes : 0;
      const size_t n = ReadAt(fd, from, buffer, static_cast<size_t>(pos - from));
      for (size_t i = n; i-- > 0;) {
        if (buffer[i] == '\n') return from + i + 1;
      }
      pos = from;
    }
    return 0;
  }

  // The complete lines from `start` that fit one batch. Reads the file
  // again at every step rather than caching: a batch is at most
  // max_batch_facts lines, and what was read before may have been truncated.
  Span ScanLines(uint64_t start, uint64_t size) const {
    Span span;
    span.end = start;
    char buffer[kChunkBytes];
    uint64_t pos = start;
    while (pos < size) {
      const size_t n =
          ReadAt(fd_.get(), pos, buffer, static_cast<size_t>(std::min<uint64_t>(kChunkBytes, size - pos)));
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) {
        if (buffer[i] != '\n') continue;
        const uint64_t line_end = pos + i + 1;
        if (line_end - start > kMaxBatchBytes) {
          span.oversize = span.lines == 0;
          if (span.oversize) span.end = line_end;
          span.full = !span.oversize;
          return span;
        }
        span.end = line_end;
        if (++span.lines == max_batch_facts_) {
          span.full = true;
          return span;
        }
      }
      pos += n;
      if (pos - start > kMaxBatchBytes) {
        if (span.lines > 0) {  // the next line does not fit: this batch is full
          span.full = true;
          return span;
        }
        span.oversize = true;  // keep looking for the end of the long line
      }
    }
    return span;
  }

  // Records the batch [offset, end) as pending before anything is sent.
  void BeginBatch(uint64_t end) {
    pending_bytes_.resize(static_cast<size_t>(end - cp_.offset));
    const size_t n = ReadAt(fd_.get(), cp_.offset, &pending_bytes_[0], pending_bytes_.size());
    if (n != pending_bytes_.size()) throw std::runtime_error("the file shrank while it was read");
    cp_.pending_end = end;
    cp_.pending_hash = Fnv1a(pending_bytes_.data(), pending_bytes_.size());
    cp_.pending_since_ms = static_cast<uint64_t>(host_.NowUnixMs());
    cp_.dropped.clear();
    SaveCheckpoint();
  }

  Ms SendPending() {
    if (pending_bytes_.size() != cp_.pending_end - cp_.offset) {  // after a restart: read it again
      pending_bytes_.resize(static_cast<size_t>(cp_.pending_end - cp_.offset));
      const size_t n = ReadAt(fd_.get(), cp_.offset, &pending_bytes_[0], pending_bytes_.size());
      if (n != pending_bytes_.size() || Fnv1a(pending_bytes_.data(), n) != cp_.pending_hash) {
        Rewritten("the batch in flight at offsets " + std::to_string(cp_.offset) + "-" +
                  std::to_string(cp_.pending_end) + " was overwritten in the file before its answer came");
        return Ms(0);
      }
    }
    const Body body = MakeBody();
    if (body.facts == 0) {  // only blank or dropped lines: nothing for the kernel
      Completed(body, true, "");
      return Ms(0);
    }
    // The batch was in flight when the last process stopped. A resend under
    // its key gets the stored answer when the kernel recorded one; but a crash
    // right after the kernel committed the batch, before it recorded the
    // answer, leaves a key that a resend takes over and stores again. So ask
    // first whether the batch is there (README.md, "How exactly once works").
    if (check_pending_) {
      check_pending_ = false;
      if (AlreadyStored(body)) {
        Completed(body, false, "");
        return Ms(0);
      }
    }
    support::JsonWriter w;
    w.BeginObject().Key("kind").String("runtime-facts").Key("tenant").String(tenant_);
    w.Key("callgraphId").String(callgraph_id_).Key("source").String(source_);
    w.Key("idempotencyKey").String(Key()).EndObject();
    try {
      sdk::Ingest ingest = host_.BeginIngest(w.text());  // aborted unless finished
      for (size_t pos = 0; pos < body.text.size(); pos += kChunkBytes) {
        ingest.Write(body.text.data() + pos, std::min(kChunkBytes, body.text.size() - pos));
      }
      bool created = false;
      const std::string answer = ingest.Finish(&created);
      auto record = support::JsonObject::Parse(answer);
      Completed(body, created, record ? record->String("batchId") : "");
      return Ms(0);
    } catch (const sdk::Error& e) {
      return Refused(e, body);
    }
  }

  // The key of the pending batch: the same bytes always get the same key,
  // other bytes never do. The checkpoint id keeps keys of two state
  // directories (two instances, or one started over) apart; the epoch keeps
  // offsets reused after a truncation or rotation apart; the dropped lines
  // make a batch with a line left out a new request.
  std::string Key() const {
    std::string key = "tail:" + cp_.id + ":" + std::to_string(cp_.file.dev) + ":" +
                      std::to_string(cp_.file.ino) + ":" + std::to_string(cp_.epoch) + ":" +
                      std::to_string(cp_.offset) + "-" + std::to_string(cp_.pending_end);
    if (!cp_.dropped.empty()) {
      std::string list;
      for (uint64_t o : cp_.dropped) list += std::to_string(o) + ",";
      key += ":d" + Hex(Fnv1a(list.data(), list.size()));
    }
    return key;
  }

  // Whether the kernel holds `body` in a batch of this tenant and callgraph
  // ingested since the pending batch was written down: the facts stored since
  // then (normally this batch or nothing) are read as one NDJSON stream and
  // searched for the batch's bytes. Another batch with the very same bytes in
  // that window would have to come from another source. False when the kernel
  // cannot tell (e.g. a host without the object API): the batch is resent.
  bool AlreadyStored(const Body& body) {
    support::JsonWriter w;
    w.BeginObject().Key("op").String("runtime-facts.stream").Key("tenant").String(tenant_);
    w.Key("callgraphId").String(callgraph_id_).Key("since").String(Rfc3339(cp_.pending_since_ms));
    w.Key("includeProvenance").Bool(false).EndObject();
    try {
      sdk::ObjectStream stream = host_.OpenObject(w.text());
      std::string window;  // the stream's last bytes, enough to hold the batch
      std::vector<uint8_t> chunk(kChunkBytes);
      while (const size_t n = stream.Read(chunk.data(), chunk.size())) {
        window.append(reinterpret_cast<const char*>(chunk.data()), n);
        if (window.find(body.text) != std::string::npos) return true;
        if (window.size() >= body.text.size()) window.erase(0, window.size() - body.text.size() + 1);
      }
    } catch (const sdk::Error& e) {
      host_.Debug(std::string("cannot tell whether the batch in flight was stored, sending it again: ") +
                  e.what());
    }
    return false;
  }

  // "2025-01-02T03:04:05.678Z" for milliseconds since the epoch.
  static std::string Rfc3339(uint64_t ms) {
    const auto seconds = static_cast<time_t>(ms / 1000);
    struct tm utc {};
    ::gmtime_r(&seconds, &utc);
    char text[64];  // room for any int, so that the compiler sees no truncation
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(ms % 1000));
    return text;
  }

  Body MakeBody() const {
    Body body;
    size_t pos = 0;
    while (pos < pending_bytes_.size()) {
      size_t end = pending_bytes_.find('\n', pos);
      end = end == std::string::npos ? pending_bytes_.size() : end + 1;
      const uint64_t offset = cp_.offset + pos;
      if (std::find(cp_.dropped.begin(), cp_.dropped.end(), offset) == cp_.dropped.end()) {
        body.text.append(pending_bytes_, pos, end - pos);
        body.line_offsets.push_back(offset);
        // The kernel skips blank lines (but counts them when it names one).
        if (pending_bytes_.find_first_not_of(" \t\r\n", pos) < end) ++body.facts;
      }
      pos = end;
    }
    return body;
  }

  // The kernel has the batch (created: stored now; else a replay of an
  // earlier identical request): the checkpoint moves past it.
  void Completed(const Body& body, bool created, const std::string& batch_id) {
    if (failures_ > 0) host_.Info("delivered after " + std::to_string(failures_) + " failed attempts");
    failures_ = 0;
    last_problem_.clear();
    if (body.facts > 0) {
      host_.CounterAdd("signals_source_tail_lines_total", metric_labels_.c_str(),
                       static_cast<double>(body.facts));
      host_.CounterAdd("signals_source_tail_batches_total",
                       (metric_labels_ + (created ? ",result=stored" : ",result=replayed")).c_str(), 1);
      const std::string what = "batch " + std::to_string(cp_.sequence + 1) + " (offsets " +
                               std::to_string(cp_.offset) + "-" + std::to_string(cp_.pending_end) + ", " +
                               std::to_string(body.facts) + " facts) ";
      // A replay is worth a line: it is the exactly-once machinery at work.
      if (created) {
        host_.Debug(what + "stored as " + batch_id);
      } else {
        host_.Info(
            what + "was stored before" +
            (batch_id.empty() ? " (found among the facts stored since it was sent)" : " as " + batch_id) +
            ", by an attempt whose answer was lost (a restart, a lost answer): not stored twice");
      }
    }
    // The fingerprint: the batch's last bytes, as they were sent.
    const size_t len = std::min<size_t>(kFingerprintBytes, pending_bytes_.size());
    cp_.fingerprint = Fnv1a(pending_bytes_.data() + pending_bytes_.size() - len, len);
    cp_.fingerprint_len = len;
    cp_.offset = cp_.pending_end;
    cp_.pending_end = 0;
    cp_.dropped.clear();
    ++cp_.sequence;
    pending_bytes_.clear();
    check_pending_ = false;
    SaveCheckpoint();
  }

  // What to do when the kernel refuses the batch.
  Ms Refused(const sdk::Error& e, const Body& body) {
    const sdk::Problem p = e.problem();
    // Another attempt under this key has not finished (SIGNALS_RETRY, rule
    // idempotency-in-progress; kernels before it said so with a 409 of rule
    // idempotency-key): when it has, the same request gets its answer.
    if (p.rule == "idempotency-in-progress" ||
        (p.rule == "idempotency-key" && p.detail.find("in progress") != std::string::npos)) {
      return Retry("in-progress", SIGNALS_LOG_WARN,
                   "an earlier attempt under this batch's key has not finished: " + p.detail);
    }
    switch (e.status()) {
      case SIGNALS_INVALID_ARGUMENT:
        if (p.line > 0 && static_cast<uint64_t>(p.line) <= body.line_offsets.size()) {
          DropLine(body.line_offsets[static_cast<size_t>(p.line - 1)], p);
          return Ms(0);  // the rest of the batch goes again at once, under a new key
        }
        // The two 409s share a rule; only the detail tells "another body".
        if (p.rule == "idempotency-key" && p.detail.find("different body") != std::string::npos) {
          Rewritten("the kernel holds other bytes under this batch's key");
          return Ms(0);
        }
        return Retry("refused", SIGNALS_LOG_ERROR, "the kernel refuses the batch: " + p.detail);
      case SIGNALS_NOT_FOUND:
        return Retry("unknown-reference", SIGNALS_LOG_ERROR,
                     "ingest refused: " + p.detail + ". The lines wait in the file until tenant '" + tenant_ +
                         "' and callgraph " + callgraph_id_ + " exist (or tenant/callgraph_id in [" +
                         instance_ + "] are corrected)");
      case SIGNALS_NO_SPACE:
        return Retry("no-space", SIGNALS_LOG_WARN, "the kernel's storage is full: " + p.detail);
      case SIGNALS_RETRY:
        return Retry("unavailable", SIGNALS_LOG_WARN, "the kernel is unavailable: " + p.detail);
      default:
        return Retry("error", SIGNALS_LOG_WARN, std::string("ingest failed: ") + e.what());
    }
  }

  // Keeps the batch and says when it goes again: retry_delay, doubling with
  // each further failure up to 30s. A problem is logged when it first
  // appears; repeats go to the debug log, so an outage is one line, not one
  // per attempt.
  Ms Retry(const char* reason, int32_t level, const std::string& problem) {
    ++failures_;
    Ms delay = retry_delay_;
    for (uint64_t i = 1; i < failures_ && delay < kMaxRetryDelay; ++i) delay *= 2;
    delay = std::max(retry_delay_, std::min(delay, kMaxRetryDelay));
    host_.CounterAdd("signals_source_tail_retries_total", (metric_labels_ + ",reason=" + reason).c_str(), 1);
    const std::string text = file_ + " offsets " + std::to_string(cp_.offset) + "-" +
                             std::to_string(cp_.pending_end) + ": " + problem;
    if (text != last_problem_) {
      host_.Log(level, text + " (retrying every " + std::to_string(retry_delay_.count()) + " ms or more)");
      last_problem_ = text;
    } else {
      host_.Debug(text + " (attempt " + std::to_string(failures_) + ")");
    }
    return delay;
  }

  // Leaves the line at `offset` out of the pending batch for good.
  void DropLine(uint64_t offset, const sdk::Problem& p) {
    host_.Warn(file_ + " offset " + std::to_string(offset) + ": line dropped: " + p.detail);
    host_.CounterAdd("signals_source_tail_dropped_lines_total", metric_labels_.c_str(), 1);
    cp_.dropped.push_back(offset);
    SaveCheckpoint();  // a restart resends the batch without it, under the same new key
  }

  // Skips a line longer than one batch may be ([offset, end)).
  void DropOversize(uint64_t end) {
    host_.Warn(file_ + " offset " + std::to_string(cp_.offset) + ": line dropped: it is " +
               std::to_string(end - cp_.offset) + " bytes long, more than a batch holds (" +
               std::to_string(kMaxBatchBytes) + ")");
    host_.CounterAdd("signals_source_tail_dropped_lines_total", metric_labels_.c_str(), 1);
    cp_.offset = end;
    cp_.fingerprint_len = 0;
    SaveCheckpoint();
  }

  // The bytes the pending batch was cut from are not what the file holds now
  // (or what the kernel holds under its key): read on from the batch's start
  // under a new epoch, so that the new bytes get new keys.
  void Rewritten(const std::string& why) {
    host_.Warn(file_ + ": " + why + "; reading on from offset " + std::to_string(cp_.offset) +
               " under new idempotency keys");
    ++cp_.epoch;
    cp_.pending_end = 0;
    cp_.dropped.clear();
    pending_bytes_.clear();
    check_pending_ = false;
    SaveCheckpoint();
  }

  // The fingerprint of the bytes before the offset, read from `fd`.
  void SetFingerprint(int fd) {
    char before[kFingerprintBytes];
    const uint64_t len = std::min<uint64_t>(kFingerprintBytes, cp_.offset);
    const size_t n = ReadAt(fd, cp_.offset - len, before, static_cast<size_t>(len));
    cp_.fingerprint = Fnv1a(before, n);
    cp_.fingerprint_len = n;
  }

  // Replaces checkpoint.json atomically (temp file, fsync, rename, directory
  // fsync): after a crash it holds the old or the new state, never a mix.
  void SaveCheckpoint() {
    const std::string text = cp_.ToJson();
    support::AtomicWriteOptions options;
    options.mode = 0640;
    options.replace = true;
    support::FileStatus written =
        support::WriteFileAtomically(checkpoint_path_, text.data(), text.size(), options);
    if (!written.ok()) throw std::runtime_error("cannot write the checkpoint: " + written.message());
    host_.GaugeSet("signals_source_tail_offset_bytes", metric_labels_.c_str(),
                   static_cast<double>(cp_.offset));
  }

  // --- configuration (set in the constructor, then read-only) -------------------
  const sdk::Host host_;
  const std::string instance_;
  const std::string file_;
  const std::string tenant_;
  const std::string callgraph_id_;
  const std::string source_;
  const uint64_t max_batch_facts_;
  const Ms max_batch_delay_;
  const Ms poll_interval_;
  const Ms retry_delay_;
  const bool start_at_end_;
  const std::string metric_labels_;
  std::string checkpoint_path_;

  // --- stopping ------------------------------------------------------------------
  std::mutex mutex_;  // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread worker_;

  // --- worker state (the constructor sets cp_ before the worker starts) -----------
  Checkpoint cp_;
  bool apply_start_at_ = false;  // no checkpoint, start_at = end, and the file not yet seen missing
  support::UniqueFd fd_;         // the file read, whose identity is cp_.file
  bool rotated_ = false;         // the path names another file (or none): finishing fd_
  uint64_t drain_size_ = 0;      // the rotated file's size at drain_since_
  Clock::time_point drain_since_;
  bool waiting_ = false;  // complete lines are waiting for max_batch_delay
  Clock::time_point waiting_since_;
  std::string pending_bytes_;   // the file's bytes [cp_.offset, cp_.pending_end)
  bool check_pending_ = false;  // the pending batch was in flight when the last process stopped
  uint64_t failures_ = 0;       // failed attempts of the pending batch
  std::string last_problem_;    // what was logged last about them
  std::string io_problem_;
  bool missing_logged_ = false;
};

}  // namespace

SIGNALS_PLUGIN("source-tail", "1.0.0", "Example source: follows an NDJSON file like tail -F", TailSource)
