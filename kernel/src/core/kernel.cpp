#include "core/kernel.hpp"

#include <algorithm>
#include <chrono>

#include "base/background_loop.hpp"
#include "base/canonical_json.hpp"
#include "base/timestamp.hpp"
#include "core/metrics_catalog.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "ingest/fact_ingest.hpp"
#include "model/cas_paths.hpp"
#include "plugin/plugin_host.hpp"
#include "service/service_api.hpp"
#include "tlog/tlog_publisher.hpp"

namespace signals {

Kernel::Kernel(KernelConfig config)
    : config_(std::move(config)), tenants_(nullptr), tokens_(nullptr), policy_(AccessPolicy::Default()) {
  DescribeSignalsMetrics(metrics_);
}

Kernel::~Kernel() {
  StopServices();
  tlog_.reset();
  signer_.reset();
  keys_.reset();
  index_.reset();
  cas_.reset();
}

Result<std::unique_ptr<Kernel>> Kernel::Open(KernelConfig config, DataDirAccess access) {
  auto lock = DataDirLock::Acquire(config.data_dir, access);
  if (!lock.ok()) return lock.status();
  std::unique_ptr<Kernel> kernel(new Kernel(std::move(config)));
  kernel->data_dir_lock_ = std::move(*lock);
  kernel->bindings_.push_back(std::make_unique<HostBinding>(HostBinding{kernel.get(), true, "kernel"}));
  InitHostTable(kernel->bindings_.back().get(), &kernel->host_);
  kernel->service_ = std::make_unique<ServiceApi>(*kernel);
  const std::string& policy_file = kernel->config_.Get("auth", "policy_file");
  if (!policy_file.empty()) {
    auto policy = AccessPolicy::FromFile(policy_file);
    if (!policy.ok()) return policy.status();
    kernel->policy_ = std::move(*policy);
  }
  const KernelConfig& cfg = kernel->config_;
  for (const char* section : {"cas", "index"}) {
    const InstanceConfig* instance = cfg.Instance(section);
    if (instance == nullptr) return Status::Config(std::string("[") + section + "] is not configured");
    auto created = PluginInstance::Create(*instance, cfg.data_dir, &kernel->host_);
    if (!created.ok()) return created.status();
    if (std::string(section) == "cas") {
      kernel->cas_ = std::make_unique<CasStore>(std::move(*created));
    } else {
      kernel->index_ = std::make_unique<IndexStore>(std::move(*created));
    }
  }
  if (const InstanceConfig* metrics = cfg.Instance("metrics")) {
    // Trusted like the storage plugins: its listener asks for snapshots.
    auto created = PluginInstance::Create(*metrics, cfg.data_dir, &kernel->host_);
    if (!created.ok()) return created.status();
    kernel->metrics_exposer_ = std::make_unique<MetricsExposer>(std::move(*created));
    SIGNALS_RETURN_IF_ERROR(kernel->metrics_exposer_->Init());
  }
  kernel->tenants_ = TenantRegistry(kernel->index_.get());
  kernel->keys_ = std::make_unique<KeyRegistry>(*kernel->cas_, *kernel->index_);
  kernel->tokens_ = TokenStore(kernel->index_.get());
  if (cfg.GetBool("provenance", "rekor_enabled")) {
    // ResolveConfig guarantees the [tlog] section when rekor_enabled is set.
    const InstanceConfig* instance = cfg.Instance("tlog");
    if (instance == nullptr) {
      return Status::Config("[provenance] rekor_enabled: true, but no [tlog] instance is configured");
    }
    auto created = PluginInstance::Create(*instance, cfg.data_dir, &kernel->host_);
    if (!created.ok()) return created.status();
    // The backoff cap is a declared option of the tlog plugin (milliseconds
    // once validated); a third-party tlog without it gets five minutes.
    int64_t retry_max_ms = 300000;
    auto cap = instance->options.find("retry_max_interval");
    if (cap != instance->options.end() && !cap->second.empty()) retry_max_ms = std::stoll(cap->second);
    kernel->tlog_ = std::make_unique<TlogPublisher>(
        *kernel, std::make_unique<TlogClient>(std::move(*created)), std::max<int64_t>(retry_max_ms, 100));
    SIGNALS_RETURN_IF_ERROR(kernel->tlog_->Init());
  }
  return kernel;
}

int64_t Kernel::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Kernel::CommitBlob(std::unique_ptr<CasStore::Writer> writer) {
  Status stored = writer->Commit();
  metrics_.CounterAdd("signals_cas_operations_total",
                      std::string("operation=put,result=") + (stored.ok() ? "ok" : "error"), 1);
  return stored;
}

Result<std::string> Kernel::NewId() {
  auto id = ulids_.Next(static_cast<uint64_t>(NowMs()));
  if (!id.ok()) return id.status();
  return id->ToString();
}

std::string Kernel::BucketUri() const {
  const InstanceConfig* cas = config_.Instance("cas");
  if (cas != nullptr) {
    auto it = cas->options.find("bucket_prefix");
    if (it != cas->options.end() && !it->second.empty()) {
      std::string uri = it->second;
      while (!uri.empty() && uri.back() == '/') uri.pop_back();
      return uri;
    }
  }
  return "cas://signals";
}

Result<Signer*> Kernel::signer() {
  std::lock_guard<std::mutex> lock(signer_mutex_);
  if (signer_) return signer_.get();
  const InstanceConfig* instance = config_.Instance("signing");
  if (instance == nullptr) return Status::Config("[signing] is not configured");
  auto created = PluginInstance::Create(*instance, config_.data_dir, &host_);
  if (!created.ok()) return created.status();
  auto signer = std::make_unique<Signer>(std::move(*created));
  SIGNALS_RETURN_IF_ERROR(signer->Init());
  const std::string& wanted = config_.Get("signing", "algorithm");
  if (!wanted.empty() && signer->algorithm() != wanted) {
    return Status::Config("[signing] algorithm is " + wanted + " but key '" + signer->key_id() + "' of " +
                          instance->component->component->name + " is " + signer->algorithm() +
                          "; set signing.algorithm = " + signer->algorithm() + " or choose another key");
  }
  SIGNALS_RETURN_IF_ERROR(
      keys_->RegisterKey(signer->key_id(), signer->algorithm(), signer->public_key_pem()));
  // A store from before key records were kept in the CAS lacks the active
  // key's record: copy the whole registry there once. Otherwise one stat.
  auto key_record = cas_->Stat(cas_paths::KeyRecord(signer->key_id()));
  if (!key_record.ok()) {
    if (key_record.status().code() != Code::kNotFound) return key_record.status();
    SIGNALS_RETURN_IF_ERROR(keys_->StoreRegistryInCas());
  }
  signer_ = std::move(signer);
  return signer_.get();
}

Result<std::unique_ptr<FactBatchIngest>> Kernel::BeginFactIngest(const FactIngestRequest& request) {
  return FactBatchIngest::Begin(*this, request);
}

Result<std::unique_ptr<CallgraphIngest>> Kernel::BeginCallgraphIngest(const CallgraphIngestRequest& request) {
  return CallgraphIngest::Begin(*this, request);
}

Status Kernel::StartServices() {
  // Sources first, so that a transport never serves before ingest paths exist.
  for (uint32_t kind : {uint32_t{SIGNALS_KIND_SOURCE}, uint32_t{SIGNALS_KIND_TRANSPORT}}) {
    for (const auto& instance : config_.instances) {
      if (instance.component->component->kind != kind) continue;
      bool trusted = kind == SIGNALS_KIND_SOURCE;
      bindings_.push_back(std::make_unique<HostBinding>(HostBinding{this, trusted, instance.section}));
      service_hosts_.push_back(std::make_unique<signals_host>());
      InitHostTable(bindings_.back().get(), service_hosts_.back().get());
      auto created = PluginInstance::Create(instance, config_.data_dir, service_hosts_.back().get());
      if (!created.ok()) return created.status();
      PluginInstance& service = **created;
      signals_status status = kind == SIGNALS_KIND_SOURCE
                                  ? service.api<signals_source_api>().start(service.raw())
                                  : service.api<signals_transport_api>().start(service.raw());
      SIGNALS_RETURN_IF_ERROR(service.Check(status, "start"));
      // Under the lock: a transport started a moment ago may already be
      // answering /readyz or a scrape, which list the instances.
      std::lock_guard<std::mutex> lock(services_mutex_);
      services_.push_back(std::move(*created));
    }
  }
  if (metrics_exposer_) {
    SIGNALS_RETURN_IF_ERROR(metrics_exposer_->Start());
    metrics_listening_ = true;
  }
  return Status::Ok();
}

void Kernel::StartTlogRetry() {
  if (!tlog_ || tlog_retry_) return;
  tlog_retry_ = std::make_unique<BackgroundLoop>();
  // Lands queued submissions while the service runs; ingest never waits for it.
  tlog_retry_->Start(
      [tlog = tlog_.get(), loop = tlog_retry_.get()] { return tlog->RetryDue(&loop->stopping()); });
}

void Kernel::StopServices() {
  if (metrics_listening_) {
    metrics_exposer_->Stop();
    metrics_listening_ = false;
  }
  for (auto it = services_.rbegin(); it != services_.rend(); ++it) {
    PluginInstance& service = **it;
    if (service.component().kind == SIGNALS_KIND_SOURCE) {
      service.api<signals_source_api>().stop(service.raw());
    } else {
      service.api<signals_transport_api>().stop(service.raw());
    }
  }
  std::vector<std::unique_ptr<PluginInstance>> stopped;
  {
    std::lock_guard<std::mutex> lock(services_mutex_);
    stopped.swap(services_);
  }
  while (!stopped.empty()) stopped.pop_back();  // destroyed in reverse start order
  if (tlog_retry_) {
    tlog_retry_->Stop();
    tlog_retry_.reset();
  }
}

std::vector<PluginInstance*> Kernel::Instances() {
  std::vector<PluginInstance*> out = {&cas_->instance(), &index_->instance()};
  {
    std::lock_guard<std::mutex> lock(signer_mutex_);
    if (signer_) out.push_back(&signer_->instance());
  }
  if (tlog_) out.push_back(&tlog_->instance());
  if (metrics_exposer_) out.push_back(&metrics_exposer_->instance());
  std::lock_guard<std::mutex> lock(services_mutex_);
  for (auto& service : services_) out.push_back(service.get());
  return out;
}

std::vector<std::pair<std::string, Status>> Kernel::Health() {
  std::vector<std::pair<std::string, Status>> out;
  for (PluginInstance* instance : Instances()) out.emplace_back(instance->section(), instance->Health());
  return out;
}

nlohmann::json Kernel::MetricsSnapshot() {
  for (PluginInstance* instance : Instances()) {
    metrics_.GaugeSet("signals_plugin_up",
                      "section=" + instance->section() + ",plugin=" + instance->component().name,
                      instance->Health().ok() ? 1 : 0);
  }
  return metrics_.Snapshot();
}

Result<nlohmann::json> Kernel::RenderMetrics() {
  if (!metrics_exposer_) {
    return Status::NotFound(
        "no metrics plugin is configured: add a [metrics] section with plugin = metrics-prometheus");
  }
  auto text = metrics_exposer_->Render(MetricsSnapshot().dump());
  if (!text.ok()) return text.status();
  return nlohmann::json{{"text", std::move(*text)}, {"contentType", metrics_exposer_->content_type()}};
}

}  // namespace signals
