#include "plugin/plugin_instance.hpp"

#include <signals/support/posix_file.hpp>

#include <cctype>
#include <exception>
#include <vector>

namespace signals {
namespace {

void AppendTo(void* ctx, const uint8_t* data, size_t len) {
  static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(data), len);
}

}  // namespace

Code CodeOfPluginStatus(signals_status status) {
  switch (status) {
    case SIGNALS_OK:
      return Code::kOk;
    case SIGNALS_NOT_FOUND:
      return Code::kNotFound;
    case SIGNALS_EXISTS:
      return Code::kConflict;
    case SIGNALS_NO_SPACE:
      return Code::kNoSpace;
    case SIGNALS_RETRY:
    case SIGNALS_AGAIN:
      return Code::kUnavailable;
    case SIGNALS_INVALID_ARGUMENT:
      return Code::kInvalid;
    case SIGNALS_INVALID_CONFIG:
      return Code::kConfig;
    default:
      return Code::kInternal;
  }
}

Result<std::unique_ptr<PluginInstance>> PluginInstance::Create(const InstanceConfig& config,
                                                               const std::string& data_dir,
                                                               const signals_host* host) {
  std::unique_ptr<PluginInstance> self(new PluginInstance());
  self->section_ = config.section;
  self->component_ = config.component->component;
  self->concurrent_ = (self->component_->capabilities & SIGNALS_CAP_CONCURRENT) != 0;

  std::vector<signals_option_value> values;
  for (const auto& [name, value] : config.options) values.push_back({name.c_str(), value.c_str()});
  const std::string who = "[" + config.section + "] " + self->component_->name + ": ";
  // A source keeps what must survive a restart (offsets, checkpoints) in a
  // directory of its own, named after its section: one path component.
  std::string state_dir;
  if (self->component_->kind == SIGNALS_KIND_SOURCE) {
    bool safe = !config.section.empty() && config.section.size() <= 200 && config.section != "." &&
                config.section != "..";
    for (char c : config.section)
      safe = safe && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
    if (!safe) {
      return Status::Config(who + "a source's section name is its state directory's name: use letters, " +
                            "digits, '.', '_' and '-' (at most 200)");
    }
    state_dir = data_dir + "/state/" + config.section;
    support::FileStatus made = support::MakeDirectories(state_dir, 0750, true);
    if (!made.ok()) return Status::Config(who + "cannot create its state directory: " + made.message());
  }
  signals_config cfg{sizeof(signals_config), config.section.c_str(),
                     data_dir.c_str(),       values.data(),
                     values.size(),          state_dir.empty() ? nullptr : state_dir.c_str()};
  char error[1024] = {0};
  void* instance = nullptr;
  signals_status status = SIGNALS_ERROR;
  // A C++ plugin that lets an exception escape breaks the ABI (plugin.hpp
  // catches them); catching it here keeps one bad plugin from aborting signalsd.
  try {
    status = self->component_->create(host, &cfg, &instance, error, sizeof(error));
  } catch (const std::exception& e) {
    return Status::Config(who + "create threw an exception across the C ABI (" + e.what() +
                          "); the plugin must catch it and return a status, as plugin.hpp does");
  } catch (...) {
    return Status::Config(who +
                          "create threw an exception across the C ABI; the plugin must "
                          "catch it and return a status, as plugin.hpp does");
  }
  error[sizeof(error) - 1] = '\0';
  if (status == SIGNALS_OK && instance == nullptr) {
    return Status::Internal(who + "create returned OK without an instance");
  }
  if (status != SIGNALS_OK) {
    Code code = CodeOfPluginStatus(status);
    std::string message =
        error[0] ? error : "create failed with status " + std::to_string(status) + " and no message";
    return Status(code, who + message);
  }
  self->instance_ = instance;
  return self;
}

PluginInstance::~PluginInstance() {
  if (instance_ != nullptr) component_->destroy(instance_);
}

std::unique_lock<std::mutex> PluginInstance::Lock() {
  if (concurrent_) return std::unique_lock<std::mutex>();
  return std::unique_lock<std::mutex>(mutex_);
}

Status PluginInstance::Check(signals_status status, std::string_view what) const {
  if (status == SIGNALS_OK || status == SIGNALS_EOF) return Status::Ok();
  const char* error = component_->last_error(instance_);
  std::string message = std::string(what) + ": " + (error && *error ? error : "failed");
  return Status(CodeOfPluginStatus(status), "[" + section_ + "] " + component_->name + ": " + message);
}

Status PluginInstance::Health() {
  auto lock = Lock();
  return Check(component_->health(instance_), "health");
}

// --- CasStore ------------------------------------------------------------------

CasStore::Writer::~Writer() {
  if (writer_ != nullptr) {
    auto lock = store_->instance_->Lock();
    store_->instance_->api<signals_cas_api>().put_abort(store_->instance_->raw(), writer_);
  }
}

Status CasStore::Writer::Write(std::string_view bytes) {
  if (writer_ == nullptr) return Status::Internal("write after commit");
  PluginInstance& inst = *store_->instance_;
  auto lock = inst.Lock();
  signals_bytes chunk{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
  return inst.Check(inst.api<signals_cas_api>().put_write(inst.raw(), writer_, chunk), "write " + key_);
}

Status CasStore::Writer::Commit() {
  if (writer_ == nullptr) return Status::Internal("commit twice");
  PluginInstance& inst = *store_->instance_;
  auto lock = inst.Lock();
  signals_cas_writer* writer = writer_;
  writer_ = nullptr;  // put_commit frees it whatever the outcome
  return inst.Check(inst.api<signals_cas_api>().put_commit(inst.raw(), writer), "commit " + key_);
}

CasStore::Reader::~Reader() {
  auto lock = store_->instance_->Lock();
  store_->instance_->api<signals_cas_api>().get_close(store_->instance_->raw(), reader_);
}

Result<size_t> CasStore::Reader::Read(uint8_t* buffer, size_t capacity) {
  PluginInstance& inst = *store_->instance_;
  auto lock = inst.Lock();
  size_t n = 0;
  signals_status s = inst.api<signals_cas_api>().get_read(inst.raw(), reader_, buffer, capacity, &n);
  if (s == SIGNALS_EOF) return size_t{0};
  SIGNALS_RETURN_IF_ERROR(inst.Check(s, "read"));
  return n;
}

Result<std::unique_ptr<CasStore::Writer>> CasStore::PutBegin(const std::string& key) {
  auto lock = instance_->Lock();
  signals_cas_writer* writer = nullptr;
  Status s = instance_->Check(
      instance_->api<signals_cas_api>().put_begin(instance_->raw(), key.c_str(), &writer), "put " + key);
  if (!s.ok()) return s;
  return std::make_unique<Writer>(this, writer, key);
}

Status CasStore::Put(const std::string& key, std::string_view bytes) {
  auto writer = PutBegin(key);
  if (!writer.ok()) return writer.status();
  SIGNALS_RETURN_IF_ERROR((*writer)->Write(bytes));
  return (*writer)->Commit();
}

Result<std::unique_ptr<CasStore::Reader>> CasStore::Open(const std::string& key) {
  auto lock = instance_->Lock();
  signals_cas_reader* reader = nullptr;
  uint64_t size = 0;
  Status s = instance_->Check(
      instance_->api<signals_cas_api>().get_open(instance_->raw(), key.c_str(), &reader, &size),
      "open " + key);
  if (!s.ok()) return s;
  return std::make_unique<Reader>(this, reader, size);
}

Result<std::string> CasStore::ReadAll(const std::string& key, size_t limit) {
  auto reader = Open(key);
  if (!reader.ok()) return reader.status();
  if ((*reader)->size() > limit) {
    return Status(Code::kTooLarge, key + " is " + std::to_string((*reader)->size()) + " bytes, more than " +
                                       std::to_string(limit));
  }
  std::string out;
  out.resize((*reader)->size());
  size_t filled = 0;
  while (true) {
    if (filled == out.size()) out.resize(out.size() + 4096);
    auto n = (*reader)->Read(reinterpret_cast<uint8_t*>(out.data()) + filled, out.size() - filled);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    filled += *n;
    if (filled > limit) return Status(Code::kTooLarge, key + " grew beyond the read limit");
  }
  out.resize(filled);
  return out;
}

Result<uint64_t> CasStore::Stat(const std::string& key) {
  auto lock = instance_->Lock();
  uint64_t size = 0;
  Status s = instance_->Check(instance_->api<signals_cas_api>().stat(instance_->raw(), key.c_str(), &size),
                              "stat " + key);
  if (!s.ok()) return s;
  return size;
}

Status CasStore::Remove(const std::string& key) {
  auto lock = instance_->Lock();
  return instance_->Check(instance_->api<signals_cas_api>().remove(instance_->raw(), key.c_str()),
                          "remove " + key);
}

Status CasStore::List(const std::string& prefix, const std::function<void(const std::string&)>& visit) {
  std::vector<std::string> keys;
  {
    auto lock = instance_->Lock();
    auto sink = [](void* ctx, const uint8_t* data, size_t len) {
      static_cast<std::vector<std::string>*>(ctx)->emplace_back(reinterpret_cast<const char*>(data), len);
    };
    SIGNALS_RETURN_IF_ERROR(instance_->Check(
        instance_->api<signals_cas_api>().list(instance_->raw(), prefix.c_str(), sink, &keys),
        "list " + prefix));
  }
  for (const auto& k : keys) visit(k);
  return Status::Ok();
}

// --- IndexStore ------------------------------------------------------------------

IndexStore::Txn::~Txn() {
  if (txn_ != nullptr) {
    auto lock = store_->instance_->Lock();
    store_->instance_->api<signals_index_api>().rollback(store_->instance_->raw(), txn_);
  }
}

Status IndexStore::Txn::Insert(const std::string& collection, const std::string& key,
                               const std::string& json) {
  PluginInstance& inst = *store_->instance_;
  auto lock = inst.Lock();
  signals_bytes b{reinterpret_cast<const uint8_t*>(json.data()), json.size()};
  return inst.Check(
      inst.api<signals_index_api>().insert(inst.raw(), txn_, collection.c_str(), key.c_str(), b),
      "insert " + collection + "/" + key);
}

Status IndexStore::Txn::Upsert(const std::string& collection, const std::string& key,
                               const std::string& json) {
  PluginInstance& inst = *store_->instance_;
  auto lock = inst.Lock();
  signals_bytes b{reinterpret_cast<const uint8_t*>(json.data()), json.size()};
  return inst.Check(
      inst.api<signals_index_api>().upsert(inst.raw(), txn_, collection.c_str(), key.c_str(), b),
      "upsert " + collection + "/" + key);
}

Status IndexStore::Txn::Remove(const std::string& collection, const std::string& key) {
  PluginInstance& inst = *store_->instance_;
  auto lock = inst.Lock();
  return inst.Check(inst.api<signals_index_api>().remove(inst.raw(), txn_, collection.c_str(), key.c_str()),
                    "remove " + collection + "/" + key);
}

Status IndexStore::Txn::Commit() {
  PluginInstance& inst = *store_->instance_;
  auto lock = inst.Lock();
  signals_index_txn* txn = txn_;
  txn_ = nullptr;  // commit frees it whatever the outcome
  return inst.Check(inst.api<signals_index_api>().commit(inst.raw(), txn), "commit");
}

Result<std::unique_ptr<IndexStore::Txn>> IndexStore::Begin() {
  auto lock = instance_->Lock();
  signals_index_txn* txn = nullptr;
  Status s = instance_->Check(instance_->api<signals_index_api>().begin(instance_->raw(), &txn), "begin");
  if (!s.ok()) return s;
  return std::make_unique<Txn>(this, txn);
}

Result<std::string> IndexStore::Get(const std::string& collection, const std::string& key) {
  auto lock = instance_->Lock();
  std::string out;
  Status s = instance_->Check(instance_->api<signals_index_api>().get(instance_->raw(), collection.c_str(),
                                                                      key.c_str(), &AppendTo, &out),
                              "get " + collection + "/" + key);
  if (!s.ok()) return s;
  return out;
}

Status IndexStore::Query(const std::string& collection, const std::string& query_json,
                         const std::function<void(const std::string&)>& visit) {
  auto lock = instance_->Lock();
  struct Ctx {
    const std::function<void(const std::string&)>* visit;
  } ctx{&visit};
  auto sink = [](void* c, const uint8_t* data, size_t len) {
    (*static_cast<Ctx*>(c)->visit)(std::string(reinterpret_cast<const char*>(data), len));
  };
  return instance_->Check(instance_->api<signals_index_api>().query(instance_->raw(), collection.c_str(),
                                                                    query_json.c_str(), sink, &ctx),
                          "query " + collection);
}

// --- Signer ----------------------------------------------------------------------

Signer::Signer(std::unique_ptr<PluginInstance> instance) : instance_(std::move(instance)) {}

Status Signer::Init() {
  auto lock = instance_->Lock();
  const auto& api = instance_->api<signals_signer_api>();
  const char* alg = api.algorithm(instance_->raw());
  const char* kid = api.key_id(instance_->raw());
  algorithm_ = alg ? alg : "";
  key_id_ = kid ? kid : "";
  return instance_->Check(api.public_key_pem(instance_->raw(), &AppendTo, &public_key_pem_), "public key");
}

Result<std::string> Signer::Sign(std::string_view message) {
  auto lock = instance_->Lock();
  std::string signature;
  signals_bytes b{reinterpret_cast<const uint8_t*>(message.data()), message.size()};
  Status s = instance_->Check(
      instance_->api<signals_signer_api>().sign(instance_->raw(), b, &AppendTo, &signature), "sign");
  if (!s.ok()) return s;
  return signature;
}

TlogClient::TlogClient(std::unique_ptr<PluginInstance> instance) : instance_(std::move(instance)) {}

Status TlogClient::Init() {
  auto lock = instance_->Lock();
  const auto& api = instance_->api<signals_tlog_api>();
  const char* url = api.url(instance_->raw());
  url_ = url ? url : "";
  return instance_->Check(api.log_public_key_pem(instance_->raw(), &AppendTo, &log_public_key_pem_),
                          "log public key");
}

Result<std::string> TlogClient::Submit(std::string_view envelope_json, std::string_view public_key_pem,
                                       signals_status* plugin_status) {
  auto lock = instance_->Lock();
  std::string entry;
  signals_bytes envelope{reinterpret_cast<const uint8_t*>(envelope_json.data()), envelope_json.size()};
  signals_bytes key{reinterpret_cast<const uint8_t*>(public_key_pem.data()), public_key_pem.size()};
  signals_status status =
      instance_->api<signals_tlog_api>().submit(instance_->raw(), envelope, key, &AppendTo, &entry);
  if (plugin_status != nullptr) *plugin_status = status;
  Status s = instance_->Check(status, "submit");
  if (!s.ok()) return s;
  return entry;
}

MetricsExposer::MetricsExposer(std::unique_ptr<PluginInstance> instance) : instance_(std::move(instance)) {}

Status MetricsExposer::Init() {
  auto lock = instance_->Lock();
  const char* type = instance_->api<signals_metrics_api>().content_type(instance_->raw());
  content_type_ = type ? type : "text/plain";
  return Status::Ok();
}

Result<std::string> MetricsExposer::Render(std::string_view snapshot_json) {
  auto lock = instance_->Lock();
  std::string text;
  signals_bytes b{reinterpret_cast<const uint8_t*>(snapshot_json.data()), snapshot_json.size()};
  Status s = instance_->Check(
      instance_->api<signals_metrics_api>().render(instance_->raw(), b, &AppendTo, &text), "render");
  if (!s.ok()) return s;
  return text;
}

Status MetricsExposer::Start() {
  auto lock = instance_->Lock();
  return instance_->Check(instance_->api<signals_metrics_api>().start(instance_->raw()), "start");
}

Status MetricsExposer::Stop() {
  auto lock = instance_->Lock();
  return instance_->Check(instance_->api<signals_metrics_api>().stop(instance_->raw()), "stop");
}

}  // namespace signals
