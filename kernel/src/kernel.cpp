#include "kernel.hpp"

#include <algorithm>
#include <chrono>

#include "canonical_json.hpp"
#include "fact_ingest.hpp"
#include "plugin_host.hpp"
#include "timestamp.hpp"

namespace signals {

Kernel::Kernel(KernelConfig config) : config_(std::move(config)), tenants_(nullptr) {}

Kernel::~Kernel() {
  StopSources();
  signer_.reset();
  index_.reset();
  cas_.reset();
}

Result<std::unique_ptr<Kernel>> Kernel::Open(KernelConfig config) {
  std::unique_ptr<Kernel> kernel(new Kernel(std::move(config)));
  InitHostTable(kernel.get(), &kernel->host_);
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
  kernel->tenants_ = TenantRegistry(kernel->index_.get());
  return kernel;
}

int64_t Kernel::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
    return Status::Config("[signing] algorithm is " + wanted + " but key '" + signer->key_id() +
                          "' of " + instance->component->component->name + " is " +
                          signer->algorithm() + "; set signing.algorithm = " + signer->algorithm() +
                          " or choose another key");
  }
  SIGNALS_RETURN_IF_ERROR(RegisterKey(signer->key_id(), signer->algorithm(), signer->public_key_pem()));
  signer_ = std::move(signer);
  return signer_.get();
}

Status Kernel::RegisterKey(const std::string& key_id, const std::string& algorithm,
                           const std::string& public_key_pem) {
  auto existing = index_->Get("keys", key_id);
  if (existing.ok()) {
    auto record = nlohmann::json::parse(*existing, nullptr, false);
    if (record.is_object() && record.value("publicKeyPem", "") != public_key_pem) {
      return Status::Config("key id '" + key_id +
                            "' is already registered with a different public key; key ids are "
                            "never reused");
    }
    return Status::Ok();
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();
  nlohmann::json record = {{"keyId", key_id},
                           {"algorithm", algorithm},
                           {"publicKeyPem", public_key_pem},
                           {"status", "active"},
                           {"registeredAt", FormatRfc3339Millis(NowMs())}};
  auto txn = index_->Begin();
  if (!txn.ok()) return txn.status();
  Status s = (*txn)->Insert("keys", key_id, CanonicalJson(record));
  if (s.code() == Code::kConflict) return Status::Ok();  // registered concurrently
  SIGNALS_RETURN_IF_ERROR(s);
  return (*txn)->Commit();
}

Result<std::vector<nlohmann::json>> Kernel::ListKeys() {
  std::vector<nlohmann::json> keys;
  Status s = index_->Query("keys", "{}", [&](const std::string& record) {
    auto j = nlohmann::json::parse(record, nullptr, false);
    if (j.is_object()) keys.push_back(std::move(j));
  });
  if (!s.ok()) return s;
  return keys;
}

Result<std::string> Kernel::PublicKey(const std::string& key_id) {
  auto record = index_->Get("keys", key_id);
  if (!record.ok()) {
    if (record.status().code() == Code::kNotFound) {
      return Status::NotFound("key '" + key_id + "' is not in the key registry");
    }
    return record.status();
  }
  auto j = nlohmann::json::parse(*record, nullptr, false);
  if (!j.is_object() || !j.contains("publicKeyPem")) {
    return Status::Internal("key registry record of '" + key_id + "' is malformed");
  }
  return j["publicKeyPem"].get<std::string>();
}

Result<std::unique_ptr<FactBatchIngest>> Kernel::BeginFactIngest(const FactIngestRequest& request) {
  return FactBatchIngest::Begin(*this, request);
}

Status Kernel::StartSources() {
  for (const auto& instance : config_.instances) {
    if (instance.component->component->kind != SIGNALS_KIND_SOURCE) continue;
    auto created = PluginInstance::Create(instance, config_.data_dir, &host_);
    if (!created.ok()) return created.status();
    PluginInstance& source = **created;
    SIGNALS_RETURN_IF_ERROR(source.Check(
        source.api<signals_source_api>().start(source.raw()), "start"));
    sources_.push_back(std::move(*created));
  }
  return Status::Ok();
}

void Kernel::StopSources() {
  for (auto& source : sources_) {
    source->api<signals_source_api>().stop(source->raw());
  }
  sources_.clear();
}

std::vector<std::pair<std::string, Status>> Kernel::Health() {
  std::vector<std::pair<std::string, Status>> out;
  out.emplace_back("cas", cas_->instance().Health());
  out.emplace_back("index", index_->instance().Health());
  for (auto& source : sources_) out.emplace_back(source->section(), source->Health());
  return out;
}

}  // namespace signals
