// Kernel: one deployment's running state, assembled from a validated
// KernelConfig. It owns the plugin instances (cas, index, signer, sources), the
// host table plugins call back through, the tenant and key registries, the ULID
// generator and the metrics registry, and it is what the pipeline, signalsd and
// signalsctl work against.
//
// The signer is created on first use, so that commands that sign nothing
// never touch (or generate) a key. Thread-safety: every method may be called
// from any thread once Open() has returned.
#pragma once

#include <signals/plugin.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "base/ulid.hpp"
#include "config/kernel_config.hpp"
#include "core/access_policy.hpp"
#include "core/data_dir_lock.hpp"
#include "core/key_registry.hpp"
#include "core/metrics_registry.hpp"
#include "core/tenant_registry.hpp"
#include "core/token_store.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

class CallgraphIngest;
struct CallgraphIngestRequest;
class FactBatchIngest;
struct FactIngestRequest;
class ServiceApi;
class TlogPublisher;
class BackgroundLoop;
struct HostBinding;

class Kernel {
 public:
  // Creates the cas and index instances (and nothing that signs), and the
  // [tlog] instance when provenance.rekor_enabled is true. Failure names the
  // section and plugin. Holds the data directory's lock for `access` first
  // (core/data_dir_lock.hpp): another process's incompatible use is a
  // Status::Config naming it, and nothing is opened.
  static Result<std::unique_ptr<Kernel>> Open(KernelConfig config,
                                              DataDirAccess access = DataDirAccess::kShared);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  const KernelConfig& config() const { return config_; }
  CasStore& cas() { return *cas_; }
  IndexStore& index() { return *index_; }
  TenantRegistry& tenants() { return tenants_; }
  TokenStore& tokens() { return tokens_; }
  // Every key that ever signed (key_registry.hpp).
  KeyRegistry& keys() { return *keys_; }
  const AccessPolicy& policy() const { return policy_; }
  ServiceApi& service() { return *service_; }
  MetricsRegistry& metrics() { return metrics_; }
  // The whole registry as the snapshot JSON of plugin.h, with
  // signals_plugin_up refreshed from every instance's health() first.
  nlohmann::json MetricsSnapshot();
  // The registry rendered by the [metrics] plugin: {"text", "contentType"};
  // kNotFound when no [metrics] section is configured.
  Result<nlohmann::json> RenderMetrics();
  const signals_host* host() const { return &host_; }
  // The transparency log, or nullptr when provenance.rekor_enabled is false.
  TlogPublisher* tlog() { return tlog_.get(); }

  // The signer, created on first call (which may generate a key when the
  // signer is configured to). Checks that its algorithm matches
  // signing.algorithm and records its key in the key registry.
  Result<Signer*> signer();

  // Commits a streamed blob (atomic and durable) and counts the CAS put in
  // signals_cas_operations_total, whatever the outcome.
  Status CommitBlob(std::unique_ptr<CasStore::Writer> writer);

  // A new ULID for a batch, graph or provenance id.
  Result<std::string> NewId();

  int64_t NowMs() const;

  // "cas://signals" — the URI prefix of stored objects.
  std::string BucketUri() const;

  // Starts an ingest of runtime facts (see fact_ingest.hpp).
  Result<std::unique_ptr<FactBatchIngest>> BeginFactIngest(const FactIngestRequest& request);

  // Starts an ingest of a callgraph (see callgraph_ingest.hpp); lookups of
  // stored graphs are in callgraph_store.hpp, verification in
  // callgraph_verifier.hpp.
  Result<std::unique_ptr<CallgraphIngest>> BeginCallgraphIngest(const CallgraphIngestRequest& request);

  // Sources and transports: created and started by signalsd (sources act as
  // signals-service; transports must authenticate every request), stopped in
  // reverse order on shutdown. The [metrics] instance's own listener, if it
  // has one, starts last and stops first.
  Status StartServices();
  void StopServices();

  // signalsd: starts the thread that lands queued transparency-log
  // submissions (no-op without a tlog). Stopped by StopServices.
  void StartTlogRetry();

  // Health of every instance ("section" → status).
  std::vector<std::pair<std::string, Status>> Health();

 private:
  explicit Kernel(KernelConfig config);
  // cas, index, the signer once created, metrics, then services.
  std::vector<PluginInstance*> Instances();

  KernelConfig config_;
  DataDirLock data_dir_lock_;  // released last: every store below is closed by then
  signals_host host_{};
  MetricsRegistry metrics_;
  UlidGenerator ulids_;
  std::unique_ptr<CasStore> cas_;
  std::unique_ptr<IndexStore> index_;
  TenantRegistry tenants_;
  TokenStore tokens_;
  std::unique_ptr<KeyRegistry> keys_;  // over cas_ and index_, created with them
  AccessPolicy policy_;
  std::unique_ptr<ServiceApi> service_;
  // One host table per service instance, so the kernel knows who calls.
  std::vector<std::unique_ptr<HostBinding>> bindings_;
  std::vector<std::unique_ptr<signals_host>> service_hosts_;
  std::mutex signer_mutex_;
  std::unique_ptr<Signer> signer_;
  std::unique_ptr<TlogPublisher> tlog_;
  std::unique_ptr<BackgroundLoop> tlog_retry_;
  std::mutex services_mutex_;  // guards services_ against Instances() from serving threads
  std::vector<std::unique_ptr<PluginInstance>> services_;  // start order
  std::unique_ptr<MetricsExposer> metrics_exposer_;        // [metrics], when configured
  bool metrics_listening_ = false;
};

}  // namespace signals
