// Typed handles over plugin instances. Each handle owns one instance created
// from a validated InstanceConfig, serialises calls unless the component is
// declared concurrent, turns plugin statuses into kernel Status values carrying
// the instance's last_error, and destroys the instance when it goes away.
//
// CasStore, IndexStore, Signer, TlogClient and MetricsExposer are the
// kernel's facades over the cas, index, signer, tlog and metrics kinds: the pipeline talks to these, never to
// the C tables. Thread-safety: every method may be called from any thread.
#pragma once

#include <signals/plugin.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.hpp"
#include "config/kernel_config.hpp"

namespace signals {

class PluginInstance {
 public:
  // Creates the instance. Failure names the section, plugin and the message the
  // plugin wrote.
  static Result<std::unique_ptr<PluginInstance>> Create(const InstanceConfig& config,
                                                        const std::string& data_dir,
                                                        const signals_host* host);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const std::string& section() const { return section_; }
  const signals_component& component() const { return *component_; }
  void* raw() const { return instance_; }
  template <typename Api>
  const Api& api() const {
    return *static_cast<const Api*>(component_->api);
  }

  // Serialises calls unless the component is concurrent.
  std::unique_lock<std::mutex> Lock();

  // Turns a plugin status into a Status ("[cas] cas-fs: <last_error>").
  Status Check(signals_status status, std::string_view what) const;

  Status Health();

 private:
  PluginInstance() = default;
  std::string section_;
  const signals_component* component_ = nullptr;
  void* instance_ = nullptr;
  bool concurrent_ = false;
  std::mutex mutex_;
};

// Maps a plugin status to a kernel code.
Code CodeOfPluginStatus(signals_status status);

class CasStore {
 public:
  explicit CasStore(std::unique_ptr<PluginInstance> instance) : instance_(std::move(instance)) {}

  // A write in progress; discarded unless Commit() succeeds.
  class Writer {
   public:
    Writer(CasStore* store, signals_cas_writer* writer, std::string key)
        : store_(store), writer_(writer), key_(std::move(key)) {}
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    ~Writer();
    Status Write(std::string_view bytes);
    Status Commit();  // atomic and durable
    const std::string& key() const { return key_; }

   private:
    CasStore* store_;
    signals_cas_writer* writer_;
    std::string key_;
  };

  class Reader {
   public:
    Reader(CasStore* store, signals_cas_reader* reader, uint64_t size)
        : store_(store), reader_(reader), size_(size) {}
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader();
    // Reads up to `capacity` bytes; 0 at the end.
    Result<size_t> Read(uint8_t* buffer, size_t capacity);
    uint64_t size() const { return size_; }

   private:
    CasStore* store_;
    signals_cas_reader* reader_;
    uint64_t size_;
  };

  Result<std::unique_ptr<Writer>> PutBegin(const std::string& key);
  // Writes a whole small object.
  Status Put(const std::string& key, std::string_view bytes);
  Result<std::unique_ptr<Reader>> Open(const std::string& key);
  // Reads a whole object of at most `limit` bytes.
  Result<std::string> ReadAll(const std::string& key, size_t limit = 64 << 20);
  Result<uint64_t> Stat(const std::string& key);
  Status Remove(const std::string& key);
  Status List(const std::string& prefix, const std::function<void(const std::string&)>& visit);

  PluginInstance& instance() { return *instance_; }

 private:
  std::unique_ptr<PluginInstance> instance_;
};

class IndexStore {
 public:
  explicit IndexStore(std::unique_ptr<PluginInstance> instance) : instance_(std::move(instance)) {}

  class Txn {
   public:
    Txn(IndexStore* store, signals_index_txn* txn) : store_(store), txn_(txn) {}
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    ~Txn();
    Status Insert(const std::string& collection, const std::string& key, const std::string& json);
    Status Upsert(const std::string& collection, const std::string& key, const std::string& json);
    Status Remove(const std::string& collection, const std::string& key);
    Status Commit();  // the commit point

   private:
    IndexStore* store_;
    signals_index_txn* txn_;
  };

  Result<std::unique_ptr<Txn>> Begin();
  // The record, or kNotFound.
  Result<std::string> Get(const std::string& collection, const std::string& key);
  Status Query(const std::string& collection, const std::string& query_json,
               const std::function<void(const std::string&)>& visit);

  PluginInstance& instance() { return *instance_; }

 private:
  std::unique_ptr<PluginInstance> instance_;
};

class Signer {
 public:
  explicit Signer(std::unique_ptr<PluginInstance> instance);
  const std::string& algorithm() const { return algorithm_; }
  const std::string& key_id() const { return key_id_; }
  const std::string& public_key_pem() const { return public_key_pem_; }
  Result<std::string> Sign(std::string_view message);
  Status Init();
  PluginInstance& instance() { return *instance_; }

 private:
  std::unique_ptr<PluginInstance> instance_;
  std::string algorithm_;
  std::string key_id_;
  std::string public_key_pem_;
};

class TlogClient {
 public:
  explicit TlogClient(std::unique_ptr<PluginInstance> instance);
  const std::string& url() const { return url_; }
  const std::string& log_public_key_pem() const { return log_public_key_pem_; }
  // The whole entry the log returned (JSON), unverified. Code kUnavailable-like
  // statuses come from SIGNALS_RETRY; a refusal from SIGNALS_INVALID_ARGUMENT.
  Result<std::string> Submit(std::string_view envelope_json, std::string_view public_key_pem,
                             signals_status* plugin_status = nullptr);
  Status Init();
  PluginInstance& instance() { return *instance_; }

 private:
  std::unique_ptr<PluginInstance> instance_;
  std::string url_;
  std::string log_public_key_pem_;
};

class MetricsExposer {
 public:
  explicit MetricsExposer(std::unique_ptr<PluginInstance> instance);
  const std::string& content_type() const { return content_type_; }
  Result<std::string> Render(std::string_view snapshot_json);
  Status Start();
  Status Stop();
  Status Init();
  PluginInstance& instance() { return *instance_; }

 private:
  std::unique_ptr<PluginInstance> instance_;
  std::string content_type_;
};

}  // namespace signals
