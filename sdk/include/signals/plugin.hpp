// signals/plugin.hpp — header-only C++17 wrapper over the C ABI in plugin.h.
//
// A plugin author writes one class per component, deriving from the kind's
// interface (CasComponent, IndexComponent, SignerComponent, SourceComponent),
// and exports the library with one macro:
//
//   class Hello : public signals::sdk::SourceComponent {
//    public:
//     static constexpr const char* kName = "source-hello";
//     static constexpr const char* kDescription = "Says hello.";
//     static signals::sdk::OptionList Options() { ... }
//     Hello(const signals::sdk::Host& host, const signals::sdk::Config& config);
//     void Start() override;
//     void Stop() override;
//   };
//   SIGNALS_PLUGIN("source-hello", "1.0.0", "Example plugin", Hello)
//
// Every exception is caught at the boundary: throw signals::sdk::Error to
// choose the status, any other std::exception becomes SIGNALS_ERROR with its
// what() as the instance's last_error. Nothing C++ crosses into the kernel.
#ifndef SIGNALS_PLUGIN_HPP
#define SIGNALS_PLUGIN_HPP

#include <signals/plugin.h>
#include <signals/support/json_text.hpp>
#include <signals/support/option_values.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace signals {
namespace sdk {

// What the kernel says when it refuses a service call: the stable members of
// its RFC 9457 problem document (see signals_host.ingest_finish in plugin.h).
struct Problem {
  int http_status = 0;  // "status"
  std::string type;     // "urn:signals:problem:<rule or code>"
  std::string code;     // e.g. "invalid", "not-found"
  std::string rule;     // the rule broken, e.g. "required", "tenant-exists"; "" when none
  std::string field;    // the member concerned; "" when none
  std::string detail;   // the text for people
  int64_t line = 0;     // 1-based line of the input; 0 when not about one line
};

// Thrown by plugin code to fail a call with a specific status. The service
// API wrappers below throw it with the kernel's problem JSON as the message.
class Error : public std::runtime_error {
 public:
  Error(signals_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  signals_status status() const { return status_; }

  // The message read as a problem document; detail = the whole message when
  // it is not one (an error the plugin threw itself).
  Problem problem() const {
    Problem p;
    auto doc = support::JsonObject::Parse(what());
    if (!doc) {
      p.detail = what();
      return p;
    }
    p.http_status = static_cast<int>(doc->Int("status"));
    p.type = doc->String("type");
    p.code = doc->String("code");
    p.rule = doc->String("rule");
    p.field = doc->String("field");
    p.detail = doc->String("detail");
    p.line = doc->Int("line");
    return p;
  }

 private:
  signals_status status_;
};

// --- options -----------------------------------------------------------------

struct OptionList {
  const signals_option* data = nullptr;
  size_t size = 0;
};

template <size_t N>
OptionList MakeOptionList(const signals_option (&options)[N]) {
  return OptionList{options, N};
}

// One option declaration, built by name:
//
//   static constexpr signals_option kOptions[] = {
//       sdk::Option::Path("file").Required().Describe("The NDJSON file to follow."),
//       sdk::Option::Duration("max_batch_delay").Default("500ms").Range("10ms", "1h")
//           .Describe("Longest time a fact waits before its batch is sent."),
//       sdk::Option::Int("max_batch_facts").Default("1000").Range(1, 1000000).Describe("..."),
//       sdk::Option::Enum("start_at", "beginning|end").Default("end").Describe("..."),
//       sdk::Option::String("token").Secret().Describe("..."),
//   };
//
// Units (see <signals/support/option_values.hpp>): a duration is written
// "500ms", "30s", "5m", "2h" or "7d" (a bare number is seconds) and reaches the
// plugin in milliseconds; a size "512", "64KiB", "16MiB" (a bare number is
// bytes) and reaches it in bytes. Range() takes bounds in the same notation
// ("10ms", "64KiB") and is inclusive. Default() and Range() are checked at
// compile time when the table is constexpr: a default of "5 minutes" does
// not compile.
//
// The positional constructor, Option(name, type, default, description,
// flags, enum_values, min, max), is the raw form of the same thing.
class Option {
 public:
  constexpr Option(const char* name, uint32_t type, const char* default_value, const char* description,
                   uint32_t flags = 0, const char* enum_values = nullptr, int64_t min_value = 0,
                   int64_t max_value = 0)
      : o_{sizeof(signals_option),
           name,
           type,
           flags,
           default_value,
           description,
           enum_values,
           min_value,
           max_value} {}

  static constexpr Option String(const char* name) { return Option(name, SIGNALS_OPT_STRING, nullptr, ""); }
  static constexpr Option Int(const char* name) { return Option(name, SIGNALS_OPT_INT, nullptr, ""); }
  static constexpr Option Bool(const char* name) { return Option(name, SIGNALS_OPT_BOOL, nullptr, ""); }
  static constexpr Option Path(const char* name) { return Option(name, SIGNALS_OPT_PATH, nullptr, ""); }
  static constexpr Option Duration(const char* name) {
    return Option(name, SIGNALS_OPT_DURATION, nullptr, "");
  }
  static constexpr Option Size(const char* name) { return Option(name, SIGNALS_OPT_SIZE, nullptr, ""); }
  // `values` is "a|b|c"; the config may use any case, the plugin gets the declared spelling.
  static constexpr Option Enum(const char* name, const char* values) {
    return Option(name, SIGNALS_OPT_ENUM, nullptr, "", 0, values);
  }

  constexpr Option Describe(const char* text) const {
    Option out = *this;
    out.o_.description = text;
    return out;
  }
  // The value when the config does not set one (in config notation: "500ms").
  constexpr Option Default(const char* text) const {
    CheckValue(text);
    Option out = *this;
    out.o_.default_value = text;
    return out;
  }
  // No default: the config must set it.
  constexpr Option Required() const { return WithFlag(SIGNALS_OPTF_REQUIRED); }
  // Never logged or printed, even when invalid.
  constexpr Option Secret() const { return WithFlag(SIGNALS_OPTF_SECRET); }
  // Inclusive bounds of an Int (or of a Duration/Size in ms/bytes).
  constexpr Option Range(int64_t min_value, int64_t max_value) const {
    if (min_value >= max_value) throw std::logic_error("Option::Range: min must be less than max");
    Option out = *this;
    out.o_.min_value = min_value;
    out.o_.max_value = max_value;
    return out;
  }
  // Inclusive bounds of a Duration or Size in config notation: Range("10ms", "1h").
  constexpr Option Range(const char* min_text, const char* max_text) const {
    return Range(Parse(min_text), Parse(max_text));
  }
  constexpr Option Min(int64_t min_value) const { return Range(min_value, INT64_MAX); }
  constexpr Option Max(int64_t max_value) const { return Range(INT64_MIN, max_value); }

  constexpr operator signals_option() const { return o_; }  // NOLINT(google-explicit-constructor)

 private:
  constexpr Option WithFlag(uint32_t flag) const {
    Option out = *this;
    out.o_.flags |= flag;
    return out;
  }
  constexpr int64_t Parse(const char* text) const {
    support::ParsedNumber n{};
    if (o_.type == SIGNALS_OPT_DURATION) {
      n = support::ParseDurationMs(text);
    } else if (o_.type == SIGNALS_OPT_SIZE) {
      n = support::ParseSizeBytes(text);
    } else {
      n = support::ParseInteger(text);
    }
    if (!n.ok) throw std::logic_error("Option: a bound is not valid for the option's type");
    return n.value;
  }
  constexpr void CheckValue(const char* text) const {
    if (o_.type == SIGNALS_OPT_DURATION || o_.type == SIGNALS_OPT_SIZE || o_.type == SIGNALS_OPT_INT) {
      (void)Parse(text);
    } else if (o_.type == SIGNALS_OPT_BOOL && support::ParseBoolean(text) < 0) {
      throw std::logic_error("Option::Default: not a boolean");
    }
  }

  signals_option o_;
};

// The validated options of one instance, as the kernel normalised them.
class Config {
 public:
  explicit Config(const signals_config& config)
      : instance_name_(config.instance_name ? config.instance_name : ""),
        data_dir_(config.data_dir ? config.data_dir : "") {
    if (config.struct_size >= offsetof(signals_config, state_dir) + sizeof(config.state_dir) &&
        config.state_dir != nullptr) {
      state_dir_ = config.state_dir;
    }
    for (size_t i = 0; i < config.value_count; ++i) {
      values_[config.values[i].name] = config.values[i].value ? config.values[i].value : "";
    }
  }

  const std::string& instance_name() const { return instance_name_; }
  const std::string& data_dir() const { return data_dir_; }
  // A source's own directory for what must survive a restart (offsets,
  // checkpoints): <data_dir>/state/<instance_name>, made by the kernel before
  // create. "" for other kinds, and from kernels older than ABI 1.3.
  const std::string& state_dir() const { return state_dir_; }

  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  // The value of a declared option. Throws Error(SIGNALS_INVALID_CONFIG) when unset.
  const std::string& Get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
      throw Error(SIGNALS_INVALID_CONFIG, "option '" + name + "' is not set");
    }
    return it->second;
  }
  std::string GetOr(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  int64_t GetInt(const std::string& name) const { return Number(name); }
  bool GetBool(const std::string& name) const { return Get(name) == "true"; }
  // A DURATION option (the kernel passes milliseconds).
  std::chrono::milliseconds GetDuration(const std::string& name) const {
    return std::chrono::milliseconds(Number(name));
  }
  // A SIZE option, in bytes.
  uint64_t GetSize(const std::string& name) const {
    const int64_t n = Number(name);
    if (n < 0) throw Error(SIGNALS_INVALID_CONFIG, "option '" + name + "' is not a size");
    return static_cast<uint64_t>(n);
  }

 private:
  int64_t Number(const std::string& name) const {
    const support::ParsedNumber n = support::ParseInteger(Get(name));
    if (!n.ok) throw Error(SIGNALS_INVALID_CONFIG, "option '" + name + "' " + n.error);
    return n.value;
  }

  std::string instance_name_;
  std::string data_dir_;
  std::string state_dir_;
  std::map<std::string, std::string> values_;
};

// --- the host ----------------------------------------------------------------

namespace detail {
inline void AppendToString(void* ctx, const uint8_t* data, size_t len) {
  static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(data), len);
}
}  // namespace detail

// A streaming ingest through the kernel's service API. Aborts on destruction
// unless Finish() succeeded.
class Ingest {
 public:
  Ingest(const signals_host* host, signals_ingest* handle) : host_(host), handle_(handle) {}
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;
  Ingest(Ingest&& other) noexcept : host_(other.host_), handle_(other.handle_) { other.handle_ = nullptr; }
  ~Ingest() {
    if (handle_ != nullptr) host_->ingest_abort(host_->ctx, handle_);
  }

  // Streams bytes in. Throws Error with the problem JSON as message on rejection.
  void Write(const void* data, size_t len) {
    std::string problem;
    signals_status s =
        host_->ingest_write(host_->ctx, handle_, signals_bytes{static_cast<const uint8_t*>(data), len},
                            &detail::AppendToString, &problem);
    if (s != SIGNALS_OK) throw Error(s, problem);
  }
  // Completes the ingest and returns the result JSON. `created` (optional)
  // is set false when an earlier identical request's result is returned.
  // Throws Error (message = problem JSON) when the kernel rejects it; nothing
  // is stored then.
  std::string Finish(bool* created = nullptr) {
    std::string out;
    signals_ingest* handle = handle_;
    handle_ = nullptr;
    signals_status s = host_->ingest_finish(host_->ctx, handle, &detail::AppendToString, &out);
    if (s != SIGNALS_OK && s != SIGNALS_EXISTS) throw Error(s, out);
    if (created != nullptr) *created = s == SIGNALS_OK;
    return out;
  }

 private:
  const signals_host* host_;
  signals_ingest* handle_;
};

// A byte stream opened through the service API (ABI 1.1); closed on destruction.
class ObjectStream {
 public:
  ObjectStream(const signals_host* host, signals_object* object, std::string metadata)
      : host_(host), object_(object), metadata_(std::move(metadata)) {}
  ObjectStream(const ObjectStream&) = delete;
  ObjectStream& operator=(const ObjectStream&) = delete;
  ObjectStream(ObjectStream&& other) noexcept
      : host_(other.host_), object_(other.object_), metadata_(std::move(other.metadata_)) {
    other.object_ = nullptr;
  }
  ~ObjectStream() {
    if (object_ != nullptr) host_->object_close(host_->ctx, object_);
  }
  // The metadata JSON: {"contentType", "contentEncoding", "size"?}.
  const std::string& metadata() const { return metadata_; }
  // Reads up to `capacity` bytes; 0 at the end. Throws Error on failure.
  size_t Read(uint8_t* buffer, size_t capacity) {
    size_t n = 0;
    signals_status s = host_->object_read(host_->ctx, object_, buffer, capacity, &n);
    if (s == SIGNALS_EOF) return 0;
    if (s != SIGNALS_OK) throw Error(s, "reading the object failed");
    return n;
  }

 private:
  const signals_host* host_;
  signals_object* object_;
  std::string metadata_;
};

class Host {
 public:
  Host(const signals_host* host, std::string component) : host_(host), component_(std::move(component)) {}

  void Log(int32_t level, const std::string& message) const {
    host_->log(host_->ctx, level, component_.c_str(), message.c_str());
  }
  void Debug(const std::string& message) const { Log(SIGNALS_LOG_DEBUG, message); }
  void Info(const std::string& message) const { Log(SIGNALS_LOG_INFO, message); }
  void Warn(const std::string& message) const { Log(SIGNALS_LOG_WARN, message); }
  void Error(const std::string& message) const { Log(SIGNALS_LOG_ERROR, message); }
  int64_t NowUnixMs() const { return host_->now_unix_ms(host_->ctx); }
  // Metrics: `labels` is "key=value,key=value" or "" (see signals_host).
  void CounterAdd(const char* name, const char* labels, double delta) const {
    host_->counter_add(host_->ctx, name, labels, delta);
  }
  void GaugeSet(const char* name, const char* labels, double value) const {
    host_->gauge_set(host_->ctx, name, labels, value);
  }
  void HistogramObserve(const char* name, const char* labels, double value) const {
    host_->histogram_observe(host_->ctx, name, labels, value);
  }

  // Starts an ingest (see signals_host.ingest_begin for request_json).
  Ingest BeginIngest(const std::string& request_json) const {
    std::string problem;
    signals_ingest* handle = nullptr;
    signals_status s =
        host_->ingest_begin(host_->ctx, request_json.c_str(), &handle, &detail::AppendToString, &problem);
    if (s != SIGNALS_OK) throw sdk::Error(s, problem);
    return Ingest(host_, handle);
  }

  // Runs a service operation (ABI 1.1; see signals_host.call). Returns the
  // result JSON; throws Error whose message is the problem JSON.
  std::string Call(const std::string& request_json) const {
    if (host_->struct_size < offsetof(signals_host, call) + sizeof(host_->call) || host_->call == nullptr) {
      throw sdk::Error(SIGNALS_NOT_SUPPORTED, "the kernel does not provide the service call API (ABI < 1.1)");
    }
    std::string out;
    signals_status s = host_->call(host_->ctx, request_json.c_str(), &detail::AppendToString, &out);
    if (s != SIGNALS_OK) throw sdk::Error(s, out);
    return out;
  }

  // Opens a byte stream (ABI 1.1; see signals_host.object_open). Throws Error
  // whose message is the problem JSON.
  ObjectStream OpenObject(const std::string& request_json) const {
    if (host_->struct_size < offsetof(signals_host, object_close) + sizeof(host_->object_close)) {
      throw sdk::Error(SIGNALS_NOT_SUPPORTED, "the kernel does not provide the object API (ABI < 1.1)");
    }
    std::string meta;
    signals_object* object = nullptr;
    signals_status s =
        host_->object_open(host_->ctx, request_json.c_str(), &object, &detail::AppendToString, &meta);
    if (s != SIGNALS_OK) throw sdk::Error(s, meta);
    return ObjectStream(host_, object, std::move(meta));
  }

  std::string Query(const std::string& request_json) const {
    std::string out;
    signals_status s = host_->query(host_->ctx, request_json.c_str(), &detail::AppendToString, &out);
    if (s != SIGNALS_OK) throw sdk::Error(s, out);
    return out;
  }

  const signals_host* raw() const { return host_; }

 private:
  const signals_host* host_;
  std::string component_;
};

// --- kind interfaces ---------------------------------------------------------

class Component {
 public:
  virtual ~Component() = default;
  // Throws Error when the instance cannot serve.
  virtual void CheckHealth() {}
};

class CasWriter {
 public:
  virtual ~CasWriter() = default;  // destruction without Commit() discards the write
  virtual void Write(const uint8_t* data, size_t len) = 0;
  virtual void Commit() = 0;  // atomic and durable
};

class CasReader {
 public:
  virtual ~CasReader() = default;
  virtual size_t Read(uint8_t* buffer, size_t capacity) = 0;  // 0 at the end
};

class CasComponent : public Component {
 public:
  static constexpr uint32_t kKind = SIGNALS_KIND_CAS;
  virtual std::unique_ptr<CasWriter> PutBegin(const std::string& key) = 0;
  virtual std::unique_ptr<CasReader> GetOpen(const std::string& key, uint64_t* size) = 0;
  virtual uint64_t Stat(const std::string& key) = 0;
  virtual void Remove(const std::string& key) = 0;
  virtual void List(const std::string& prefix, const std::function<void(const std::string&)>& emit) = 0;
};

class IndexTxn {
 public:
  virtual ~IndexTxn() = default;  // destruction without Commit() rolls back
  virtual void Insert(const std::string& collection, const std::string& key,
                      const std::string& record_json) = 0;
  virtual void Upsert(const std::string& collection, const std::string& key,
                      const std::string& record_json) = 0;
  virtual void Remove(const std::string& collection, const std::string& key) = 0;
  virtual void Commit() = 0;
};

class IndexComponent : public Component {
 public:
  static constexpr uint32_t kKind = SIGNALS_KIND_INDEX;
  virtual std::unique_ptr<IndexTxn> Begin() = 0;
  virtual std::optional<std::string> Get(const std::string& collection, const std::string& key) = 0;
  virtual void Query(const std::string& collection, const std::string& query_json,
                     const std::function<void(const std::string&)>& emit) = 0;
};

class SignerComponent : public Component {
 public:
  static constexpr uint32_t kKind = SIGNALS_KIND_SIGNER;
  virtual const std::string& Algorithm() const = 0;
  virtual const std::string& KeyId() const = 0;
  virtual std::string PublicKeyPem() const = 0;
  virtual std::string Sign(const uint8_t* message, size_t len) = 0;
};

// A transparency-log client (ABI 1.2). Submit returns the whole entry as the
// JSON object plugin.h describes; throw Error(SIGNALS_RETRY, ...) when the log
// is unavailable and Error(SIGNALS_INVALID_ARGUMENT, reason) when it refuses.
class TlogComponent : public Component {
 public:
  static constexpr uint32_t kKind = SIGNALS_KIND_TLOG;
  virtual std::string Submit(const std::string& envelope_json, const std::string& public_key_pem) = 0;
  virtual std::string LogPublicKeyPem() const = 0;
  virtual const std::string& Url() const = 0;
};

// Exposes the kernel's metrics (ABI 1.2): renders a registry snapshot (the JSON
// plugin.h describes) and optionally serves it on a listener of its own.
class MetricsComponent : public Component {
 public:
  static constexpr uint32_t kKind = SIGNALS_KIND_METRICS;
  virtual std::string Render(const std::string& snapshot_json) = 0;
  virtual const std::string& ContentType() const = 0;
  virtual void Start() {}
  virtual void Stop() {}
};

class TransportComponent : public Component {
 public:
  static constexpr uint32_t kKind = SIGNALS_KIND_TRANSPORT;
  virtual void Start() = 0;
  virtual void Stop() = 0;
};

class SourceComponent : public Component {
 public:
  static constexpr uint32_t kKind = SIGNALS_KIND_SOURCE;
  virtual void Start() = 0;
  virtual void Stop() = 0;
};

// --- the adapter: C function tables from a C++ class ---------------------------

namespace detail {

// One instance. The last error is kept per calling thread, so that two
// threads failing at once on a concurrent component each read their own.
template <typename T>
struct Box {
  std::unique_ptr<T> impl;
  std::mutex error_mutex;
  std::map<std::thread::id, std::string> last_errors;

  void SetError(const std::string& message) {
    std::lock_guard<std::mutex> lock(error_mutex);
    last_errors[std::this_thread::get_id()] = message;
  }
  // Valid until this thread's next failing call on the instance.
  const char* LastError() {
    std::lock_guard<std::mutex> lock(error_mutex);
    return last_errors[std::this_thread::get_id()].c_str();
  }
};

// Runs `fn` and turns every exception into a status and a last_error.
template <typename T, typename Fn>
signals_status Guard(void* instance, Fn&& fn) {
  auto* box = static_cast<Box<T>*>(instance);
  try {
    fn(*box->impl);
    return SIGNALS_OK;
  } catch (const Error& e) {
    box->SetError(e.what());
    return e.status();
  } catch (const std::exception& e) {
    box->SetError(e.what());
    return SIGNALS_ERROR;
  } catch (...) {
    box->SetError("unknown exception");
    return SIGNALS_ERROR;
  }
}

inline void Emit(signals_sink sink, void* ctx, const std::string& bytes) {
  sink(ctx, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

template <typename T>
struct Lifecycle {
  static signals_status Create(const signals_host* host, const signals_config* config, void** out_instance,
                               char* error, size_t error_capacity) {
    auto write_error = [&](const char* message) {
      if (error != nullptr && error_capacity > 0) {
        std::snprintf(error, error_capacity, "%s", message);
      }
    };
    try {
      Config cfg(*config);
      auto box = std::make_unique<Box<T>>();
      box->impl = std::make_unique<T>(Host(host, cfg.instance_name()), cfg);
      *out_instance = box.release();
      return SIGNALS_OK;
    } catch (const Error& e) {
      write_error(e.what());
      return e.status() == SIGNALS_OK ? SIGNALS_ERROR : e.status();
    } catch (const std::exception& e) {
      write_error(e.what());
      return SIGNALS_ERROR;
    } catch (...) {
      write_error("unknown exception");
      return SIGNALS_ERROR;
    }
  }
  static void Destroy(void* instance) {
    auto* box = static_cast<Box<T>*>(instance);
    try {
      delete box;
    } catch (...) {
    }
  }
  static const char* LastError(void* instance) { return static_cast<Box<T>*>(instance)->LastError(); }
  static signals_status Health(void* instance) {
    return Guard<T>(instance, [](T& t) { t.CheckHealth(); });
  }
};

template <typename T>
struct CasAdapter {
  static signals_status PutBegin(void* instance, const char* key, signals_cas_writer** out) {
    return Guard<T>(instance,
                    [&](T& t) { *out = reinterpret_cast<signals_cas_writer*>(t.PutBegin(key).release()); });
  }
  static signals_status PutWrite(void* instance, signals_cas_writer* w, signals_bytes chunk) {
    return Guard<T>(instance, [&](T&) { reinterpret_cast<CasWriter*>(w)->Write(chunk.data, chunk.len); });
  }
  static signals_status PutCommit(void* instance, signals_cas_writer* w) {
    std::unique_ptr<CasWriter> writer(reinterpret_cast<CasWriter*>(w));
    return Guard<T>(instance, [&](T&) { writer->Commit(); });
  }
  static void PutAbort(void*, signals_cas_writer* w) {
    try {
      delete reinterpret_cast<CasWriter*>(w);
    } catch (...) {
    }
  }
  static signals_status GetOpen(void* instance, const char* key, signals_cas_reader** out, uint64_t* size) {
    return Guard<T>(instance, [&](T& t) {
      uint64_t s = 0;
      *out = reinterpret_cast<signals_cas_reader*>(t.GetOpen(key, &s).release());
      if (size != nullptr) *size = s;
    });
  }
  static signals_status GetRead(void* instance, signals_cas_reader* r, uint8_t* buffer, size_t capacity,
                                size_t* out_len) {
    if (capacity == 0) {
      *out_len = 0;
      return SIGNALS_OK;
    }
    size_t n = 0;
    signals_status s =
        Guard<T>(instance, [&](T&) { n = reinterpret_cast<CasReader*>(r)->Read(buffer, capacity); });
    *out_len = n;
    if (s == SIGNALS_OK && n == 0) return SIGNALS_EOF;
    return s;
  }
  static void GetClose(void*, signals_cas_reader* r) {
    try {
      delete reinterpret_cast<CasReader*>(r);
    } catch (...) {
    }
  }
  static signals_status Stat(void* instance, const char* key, uint64_t* out_size) {
    return Guard<T>(instance, [&](T& t) { *out_size = t.Stat(key); });
  }
  static signals_status Remove(void* instance, const char* key) {
    return Guard<T>(instance, [&](T& t) { t.Remove(key); });
  }
  static signals_status List(void* instance, const char* prefix, signals_sink sink, void* ctx) {
    return Guard<T>(instance,
                    [&](T& t) { t.List(prefix, [&](const std::string& key) { Emit(sink, ctx, key); }); });
  }
  static const void* Api() {
    static const signals_cas_api api = {sizeof(signals_cas_api),
                                        &PutBegin,
                                        &PutWrite,
                                        &PutCommit,
                                        &PutAbort,
                                        &GetOpen,
                                        &GetRead,
                                        &GetClose,
                                        &Stat,
                                        &Remove,
                                        &List};
    return &api;
  }
};

template <typename T>
struct IndexAdapter {
  static std::string Json(signals_bytes b) {
    return std::string(reinterpret_cast<const char*>(b.data), b.len);
  }
  static IndexTxn* Txn(signals_index_txn* txn) { return reinterpret_cast<IndexTxn*>(txn); }
  static signals_status Begin(void* instance, signals_index_txn** out) {
    return Guard<T>(instance,
                    [&](T& t) { *out = reinterpret_cast<signals_index_txn*>(t.Begin().release()); });
  }
  static signals_status Insert(void* instance, signals_index_txn* txn, const char* collection,
                               const char* key, signals_bytes record) {
    return Guard<T>(instance, [&](T&) { Txn(txn)->Insert(collection, key, Json(record)); });
  }
  static signals_status Upsert(void* instance, signals_index_txn* txn, const char* collection,
                               const char* key, signals_bytes record) {
    return Guard<T>(instance, [&](T&) { Txn(txn)->Upsert(collection, key, Json(record)); });
  }
  static signals_status Remove(void* instance, signals_index_txn* txn, const char* collection,
                               const char* key) {
    return Guard<T>(instance, [&](T&) { Txn(txn)->Remove(collection, key); });
  }
  static signals_status Commit(void* instance, signals_index_txn* txn) {
    std::unique_ptr<IndexTxn> owned(Txn(txn));
    return Guard<T>(instance, [&](T&) { owned->Commit(); });
  }
  static void Rollback(void*, signals_index_txn* txn) {
    try {
      delete Txn(txn);
    } catch (...) {
    }
  }
  static signals_status Get(void* instance, const char* collection, const char* key, signals_sink sink,
                            void* ctx) {
    return Guard<T>(instance, [&](T& t) {
      std::optional<std::string> record = t.Get(collection, key);
      if (!record) throw Error(SIGNALS_NOT_FOUND, std::string(collection) + "/" + key + " not found");
      Emit(sink, ctx, *record);
    });
  }
  static signals_status Query(void* instance, const char* collection, const char* query, signals_sink sink,
                              void* ctx) {
    return Guard<T>(instance, [&](T& t) {
      t.Query(collection, query, [&](const std::string& record) { Emit(sink, ctx, record); });
    });
  }
  static const void* Api() {
    static const signals_index_api api = {
        sizeof(signals_index_api), &Begin, &Insert, &Upsert, &Remove, &Commit, &Rollback, &Get, &Query};
    return &api;
  }
};

template <typename T>
struct SignerAdapter {
  static T& Impl(void* instance) { return *static_cast<Box<T>*>(instance)->impl; }
  static const char* Algorithm(void* instance) { return Impl(instance).Algorithm().c_str(); }
  static const char* KeyId(void* instance) { return Impl(instance).KeyId().c_str(); }
  static signals_status PublicKeyPem(void* instance, signals_sink sink, void* ctx) {
    return Guard<T>(instance, [&](T& t) { Emit(sink, ctx, t.PublicKeyPem()); });
  }
  static signals_status Sign(void* instance, signals_bytes message, signals_sink sink, void* ctx) {
    return Guard<T>(instance, [&](T& t) { Emit(sink, ctx, t.Sign(message.data, message.len)); });
  }
  static const void* Api() {
    static const signals_signer_api api = {sizeof(signals_signer_api), &Algorithm, &KeyId, &PublicKeyPem,
                                           &Sign};
    return &api;
  }
};

template <typename T>
struct TlogAdapter {
  static T& Impl(void* instance) { return *static_cast<Box<T>*>(instance)->impl; }
  static signals_status Submit(void* instance, signals_bytes envelope, signals_bytes public_key,
                               signals_sink sink, void* ctx) {
    return Guard<T>(instance, [&](T& t) {
      Emit(sink, ctx,
           t.Submit(std::string(reinterpret_cast<const char*>(envelope.data), envelope.len),
                    std::string(reinterpret_cast<const char*>(public_key.data), public_key.len)));
    });
  }
  static signals_status LogPublicKeyPem(void* instance, signals_sink sink, void* ctx) {
    return Guard<T>(instance, [&](T& t) { Emit(sink, ctx, t.LogPublicKeyPem()); });
  }
  static const char* Url(void* instance) { return Impl(instance).Url().c_str(); }
  static const void* Api() {
    static const signals_tlog_api api = {sizeof(signals_tlog_api), &Submit, &LogPublicKeyPem, &Url};
    return &api;
  }
};

template <typename T>
struct MetricsAdapter {
  static T& Impl(void* instance) { return *static_cast<Box<T>*>(instance)->impl; }
  static signals_status Render(void* instance, signals_bytes snapshot, signals_sink sink, void* ctx) {
    return Guard<T>(instance, [&](T& t) {
      Emit(sink, ctx, t.Render(std::string(reinterpret_cast<const char*>(snapshot.data), snapshot.len)));
    });
  }
  static const char* ContentType(void* instance) { return Impl(instance).ContentType().c_str(); }
  static signals_status Start(void* instance) {
    return Guard<T>(instance, [](T& t) { t.Start(); });
  }
  static signals_status Stop(void* instance) {
    return Guard<T>(instance, [](T& t) { t.Stop(); });
  }
  static const void* Api() {
    static const signals_metrics_api api = {sizeof(signals_metrics_api), &Render, &ContentType, &Start,
                                            &Stop};
    return &api;
  }
};

template <typename T>
struct SourceAdapter {
  static signals_status Start(void* instance) {
    return Guard<T>(instance, [](T& t) { t.Start(); });
  }
  static signals_status Stop(void* instance) {
    return Guard<T>(instance, [](T& t) { t.Stop(); });
  }
  static const void* Api() {
    static const signals_source_api api = {sizeof(signals_source_api), &Start, &Stop};
    return &api;
  }
};

template <typename T>
struct TransportAdapter {
  static signals_status Start(void* instance) {
    return Guard<T>(instance, [](T& t) { t.Start(); });
  }
  static signals_status Stop(void* instance) {
    return Guard<T>(instance, [](T& t) { t.Stop(); });
  }
  static const void* Api() {
    static const signals_transport_api api = {sizeof(signals_transport_api), &Start, &Stop};
    return &api;
  }
};

template <typename T, typename = void>
struct Capabilities {
  static constexpr uint64_t value = 0;
};
template <typename T>
struct Capabilities<T, std::void_t<decltype(T::kCapabilities)>> {
  static constexpr uint64_t value = T::kCapabilities;
};

template <typename T>
const void* KindApi() {
  if constexpr (std::is_base_of_v<CasComponent, T>) {
    return CasAdapter<T>::Api();
  } else if constexpr (std::is_base_of_v<IndexComponent, T>) {
    return IndexAdapter<T>::Api();
  } else if constexpr (std::is_base_of_v<SignerComponent, T>) {
    return SignerAdapter<T>::Api();
  } else if constexpr (std::is_base_of_v<TlogComponent, T>) {
    return TlogAdapter<T>::Api();
  } else if constexpr (std::is_base_of_v<MetricsComponent, T>) {
    return MetricsAdapter<T>::Api();
  } else if constexpr (std::is_base_of_v<SourceComponent, T>) {
    return SourceAdapter<T>::Api();
  } else if constexpr (std::is_base_of_v<TransportComponent, T>) {
    return TransportAdapter<T>::Api();
  } else {
    static_assert(sizeof(T) == 0,
                  "a component must derive from CasComponent, IndexComponent, SignerComponent, "
                  "TlogComponent, MetricsComponent, SourceComponent or TransportComponent");
    return nullptr;
  }
}

template <typename T>
signals_component MakeComponent() {
  static_assert(std::is_constructible_v<T, const Host&, const Config&>,
                "expected constructor: T(const signals::sdk::Host&, const signals::sdk::Config&)");
  static_assert(std::is_same_v<decltype(T::Options()), OptionList>,
                "expected: static signals::sdk::OptionList Options()");
  OptionList options = T::Options();
  return signals_component{sizeof(signals_component),
                           T::kKind,
                           T::kName,
                           T::kDescription,
                           options.data,
                           options.size,
                           Capabilities<T>::value,
                           &Lifecycle<T>::Create,
                           &Lifecycle<T>::Destroy,
                           &Lifecycle<T>::LastError,
                           &Lifecycle<T>::Health,
                           KindApi<T>()};
}

template <typename... Ts>
const std::array<signals_component, sizeof...(Ts)>& ComponentTable() {
  static const std::array<signals_component, sizeof...(Ts)> table = {MakeComponent<Ts>()...};
  return table;
}

}  // namespace detail
}  // namespace sdk
}  // namespace signals

#if defined(_WIN32)
#define SIGNALS_PLUGIN_EXPORT __declspec(dllexport)
#else
#define SIGNALS_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

// Exports the library: its name, version, description and component classes.
#define SIGNALS_PLUGIN(NAME, VERSION, DESCRIPTION, ...)                                          \
  extern "C" SIGNALS_PLUGIN_EXPORT const signals_plugin_descriptor* signals_plugin_entry(void) { \
    static const auto& components = ::signals::sdk::detail::ComponentTable<__VA_ARGS__>();       \
    static const signals_plugin_descriptor descriptor = {SIGNALS_PLUGIN_MAGIC,                   \
                                                         SIGNALS_ABI_MAJOR,                      \
                                                         SIGNALS_ABI_MINOR,                      \
                                                         sizeof(signals_plugin_descriptor),      \
                                                         SIGNALS_SDK_VERSION,                    \
                                                         NAME,                                   \
                                                         VERSION,                                \
                                                         DESCRIPTION,                            \
                                                         components.data(),                      \
                                                         components.size()};                     \
    return &descriptor;                                                                          \
  }

#endif  // SIGNALS_PLUGIN_HPP
