// TlogPublisher. See tlog_publisher.hpp.
#include "tlog/tlog_publisher.hpp"

#include <algorithm>
#include <mutex>
#include <random>
#include <vector>

#include "attest/dsse.hpp"
#include "base/canonical_json.hpp"
#include "base/logging.hpp"
#include "base/timestamp.hpp"
#include "base/ulid.hpp"
#include "core/kernel.hpp"
#include "model/cas_paths.hpp"
#include "retention/retention.hpp"
#include "tlog/tlog_verify.hpp"

namespace signals {
namespace {

constexpr int64_t kFirstBackoffMs = 1000;
constexpr int64_t kMinPollMs = 50;
constexpr int64_t kMaxPollMs = 5000;
constexpr size_t kMaxReasonBytes = 300;

void CountSubmission(Kernel& kernel, const char* result) {
  kernel.metrics().CounterAdd("signals_tlog_submissions_total", std::string("result=") + result, 1);
}

// The plugin's own words, without the "[tlog] tlog-rekor: submit: " prefix
// the facade adds, on one line and bounded (it ends up in index rows).
std::string PluginReason(const Status& status) {
  std::string text = status.message();
  const std::string marker = ": submit: ";
  auto at = text.find(marker);
  if (at != std::string::npos) text = text.substr(at + marker.size());
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (text.size() > kMaxReasonBytes) text = text.substr(0, kMaxReasonBytes) + "...";
  return text;
}

std::mt19937_64& Jitter() {
  static std::mt19937_64 rng{std::random_device{}()};
  return rng;
}
std::mutex jitter_mutex;

}  // namespace

TlogSubject TlogSubject::Batch(const std::string& batch_id, const std::string& tenant_id) {
  return TlogSubject{Kind::kBatch, batch_id, tenant_id, cas_paths::BatchAttestation(batch_id),
                     cas_paths::BatchRekorEntry(batch_id)};
}

TlogSubject TlogSubject::Manifest(const std::string& graph_id, const std::string& tenant_id) {
  return TlogSubject{Kind::kManifest, graph_id, tenant_id, cas_paths::ManifestEnvelope(graph_id),
                     cas_paths::ManifestRekorEntry(graph_id)};
}

const char* TlogSubject::kind_name() const { return kind == Kind::kBatch ? "batch" : "manifest"; }
const char* TlogSubject::collection() const { return kind == Kind::kBatch ? "batches" : "callgraphs"; }

nlohmann::json TlogOutcome::SkipReason() const {
  switch (state) {
    case State::kLogged:
      return nullptr;
    case State::kQueued:
      return "rekor-unavailable";
    case State::kRejected:
      return "rekor-rejected: " + reason;
    case State::kDisabled:
      break;
  }
  return "rekor-disabled";
}

nlohmann::json TlogOutcome::RekorUuid() const {
  return state == State::kLogged ? nlohmann::json(uuid) : nlohmann::json(nullptr);
}

TlogPublisher::TlogPublisher(Kernel& kernel, std::unique_ptr<TlogClient> client,
                             int64_t retry_max_interval_ms)
    : kernel_(kernel), client_(std::move(client)), retry_max_interval_ms_(retry_max_interval_ms) {}

Status TlogPublisher::Init() {
  SIGNALS_RETURN_IF_ERROR(client_->Init());
  if (client_->log_public_key_pem().empty()) {
    return Status::Config("[tlog] " + std::string(client_->instance().component().name) +
                          " reports no log public key; entries could not be verified");
  }
  RefreshQueueDepth();
  return Status::Ok();
}

Status TlogPublisher::Verify(const nlohmann::json& entry, std::string_view envelope_json) {
  // The uuid is what rows and readers use to find the entry, so it must be
  // there; VerifyRekorEntry checks that it names the entry's leaf.
  if (!entry.contains("uuid") || !entry["uuid"].is_string() || entry["uuid"].get<std::string>().empty()) {
    return Status::Invalid("tlog", "uuid", "the entry has no uuid");
  }
  return VerifyRekorEntry(entry, envelope_json, TlogVerifyOptions{client_->log_public_key_pem()});
}

std::optional<std::string> TlogPublisher::VerifiedStoredEntry(const TlogSubject& subject,
                                                              std::string_view envelope_json) {
  auto text = kernel_.cas().ReadAll(subject.entry_key, 1 << 20);
  if (!text.ok()) return std::nullopt;
  auto entry = nlohmann::json::parse(*text, nullptr, false);
  if (!entry.is_object()) return std::nullopt;
  Status verified = Verify(entry, envelope_json);
  if (!verified.ok()) {
    spdlog::warn("tlog: stored entry {} does not verify ({}); asking the log again", subject.entry_key,
                 verified.message());
    return std::nullopt;
  }
  return entry["uuid"].get<std::string>();
}

TlogOutcome TlogPublisher::Publish(const TlogSubject& subject, std::string_view envelope_json,
                                   const std::string& signer_public_key_pem) {
  TlogOutcome outcome;
  signals_status plugin_status = SIGNALS_OK;
  auto returned = client_->Submit(envelope_json, signer_public_key_pem, &plugin_status);
  if (!returned.ok()) {
    outcome.reason = PluginReason(returned.status());
    if (plugin_status == SIGNALS_INVALID_ARGUMENT) {
      outcome.state = TlogOutcome::State::kRejected;
      CountSubmission(kernel_, "rejected");
      spdlog::warn("tlog: {} refused {}: {}", client_->url(), subject.envelope_key, outcome.reason);
    } else {
      outcome.state = TlogOutcome::State::kQueued;
      CountSubmission(kernel_, "retry");
    }
    return outcome;
  }
  auto entry = nlohmann::json::parse(*returned, nullptr, false);
  Status verified = entry.is_object()
                        ? Verify(entry, envelope_json)
                        : Status::Invalid("tlog", "entry", "the plugin returned no JSON object");
  if (!verified.ok()) {
    outcome.state = TlogOutcome::State::kQueued;
    outcome.reason = "the log's entry does not verify: " + verified.message();
    if (outcome.reason.size() > kMaxReasonBytes)
      outcome.reason = outcome.reason.substr(0, kMaxReasonBytes) + "...";
    CountSubmission(kernel_, "invalid");
    spdlog::warn("tlog: {} returned an entry for {} that does not verify: {}", client_->url(),
                 subject.envelope_key, verified.message());
    return outcome;
  }
  Status stored = kernel_.cas().Put(subject.entry_key, CanonicalJson(entry));
  if (stored.code() == Code::kConflict) {
    // Another writer stored it first (a retry racing a restart); use it if it is sound.
    if (auto existing = VerifiedStoredEntry(subject, envelope_json)) {
      outcome.state = TlogOutcome::State::kLogged;
      outcome.uuid = *existing;
      CountSubmission(kernel_, "ok");
      return outcome;
    }
  }
  if (!stored.ok()) {
    outcome.state = TlogOutcome::State::kQueued;
    outcome.reason = "storing " + subject.entry_key + ": " + stored.message();
    CountSubmission(kernel_, "retry");
    return outcome;
  }
  outcome.state = TlogOutcome::State::kLogged;
  outcome.uuid = entry["uuid"].get<std::string>();
  outcome.stored_entry_object = true;
  CountSubmission(kernel_, "ok");
  return outcome;
}

TlogOutcome PublishAtIngest(TlogPublisher* tlog, const TlogSubject& subject, std::string_view envelope_json,
                            const std::string& signer_public_key_pem,
                            std::vector<std::string>* created_keys) {
  if (tlog == nullptr) return TlogOutcome{};
  TlogOutcome outcome = tlog->Publish(subject, envelope_json, signer_public_key_pem);
  if (outcome.stored_entry_object) created_keys->push_back(subject.entry_key);
  return outcome;
}

int64_t TlogPublisher::BackoffMs(int64_t attempts) {
  int64_t full = kFirstBackoffMs;
  for (int64_t i = 1; i < attempts && full < retry_max_interval_ms_; ++i) full *= 2;
  full = std::min(full, retry_max_interval_ms_);
  std::lock_guard<std::mutex> lock(jitter_mutex);
  std::uniform_int_distribution<int64_t> spread(full / 2, full);
  return spread(Jitter());
}

Status TlogPublisher::Enqueue(IndexStore::Txn& txn, const TlogSubject& subject, const TlogOutcome& outcome) {
  const int64_t now = kernel_.NowMs();
  // The row reindex would build, after the ingest-time attempt.
  nlohmann::json record =
      TlogQueueRow(subject.kind_name(), subject.id, subject.tenant_id, FormatRfc3339Millis(now));
  record["attempts"] = 1;
  record["nextAttemptAt"] = FormatRfc3339Millis(now + BackoffMs(1));
  record["lastError"] = outcome.reason;
  return txn.Upsert(kTlogQueueCollection, subject.envelope_key, CanonicalJson(record));
}

void TlogPublisher::RefreshQueueDepth() {
  int64_t depth = 0;
  Status s = kernel_.index().Query(kTlogQueueCollection, "{}", [&](const std::string&) { ++depth; });
  if (!s.ok()) {
    spdlog::warn("tlog: counting the retry queue failed: {}", s.message());
    return;
  }
  queue_depth_ = depth;
  kernel_.metrics().GaugeSet("signals_tlog_queue_depth", "", static_cast<double>(depth));
}

void TlogPublisher::NoteEnqueued() {
  kernel_.metrics().GaugeSet("signals_tlog_queue_depth", "", static_cast<double>(++queue_depth_));
}

Status TlogPublisher::Land(const TlogSubject& subject, const TlogOutcome& outcome) {
  auto txn = kernel_.index().Begin();
  if (!txn.ok()) return txn.status();
  auto text = kernel_.index().Get(subject.collection(), subject.id);
  if (text.ok()) {
    auto row = nlohmann::json::parse(*text, nullptr, false);
    if (!row.is_object())
      return Status::Internal(std::string(subject.collection()) + " row " + subject.id + " is malformed");
    if (IsExpired(row)) {
      // Retention expired it while the log was away: the row must stay what its
      // tombstone recorded (reindex restores it from there, fsck compares the
      // two), so the entry object alone records that it landed.
      spdlog::info("tlog: {} row {} expired before its entry landed; the entry is stored as {}",
                   subject.collection(), subject.id, subject.entry_key);
    } else {
      row["rekorUuid"] = outcome.RekorUuid();
      row["skipReason"] = outcome.SkipReason();
      SIGNALS_RETURN_IF_ERROR((*txn)->Upsert(subject.collection(), subject.id, CanonicalJson(row)));
    }
  } else if (text.status().code() == Code::kNotFound) {
    // The row is gone (retention): the entry object stays as evidence, the queue row goes.
    spdlog::warn("tlog: {} row {} no longer exists; dropping its queued submission", subject.collection(),
                 subject.id);
  } else {
    return text.status();
  }
  SIGNALS_RETURN_IF_ERROR((*txn)->Remove(kTlogQueueCollection, subject.envelope_key));
  return (*txn)->Commit();
}

Status TlogPublisher::RetryOne(const nlohmann::json& queued) {
  const std::string kind = queued.value("kind", "");
  const std::string id = queued.value("id", "");
  const std::string tenant = queued.value("tenantId", "");
  TlogSubject subject =
      kind == "manifest" ? TlogSubject::Manifest(id, tenant) : TlogSubject::Batch(id, tenant);
  if ((kind != "batch" && kind != "manifest") || subject.envelope_key != queued.value("envelopeKey", "") ||
      ValidateUlid(id, "id").code() != Code::kOk) {
    return Status::Internal("tlog_queue row " + queued.value("envelopeKey", "?") + " is malformed");
  }
  auto envelope = kernel_.cas().ReadAll(subject.envelope_key);
  if (!envelope.ok()) {
    if (envelope.status().code() != Code::kNotFound) return envelope.status();
    TlogOutcome gone;
    gone.state = TlogOutcome::State::kRejected;
    gone.reason = "the envelope " + subject.envelope_key + " no longer exists";
    return Land(subject, gone);
  }
  // An earlier attempt may have stored the entry and stopped before landing it.
  if (auto stored = VerifiedStoredEntry(subject, *envelope)) {
    TlogOutcome logged;
    logged.state = TlogOutcome::State::kLogged;
    logged.uuid = *stored;
    CountSubmission(kernel_, "ok");
    return Land(subject, logged);
  }
  auto parsed = ParseDsseEnvelope(*envelope);
  if (!parsed.ok()) return Status::Internal(subject.envelope_key + ": " + parsed.status().message());
  auto public_key = kernel_.keys().PublicKey(parsed->signatures.front().keyid);
  if (!public_key.ok()) return public_key.status();

  TlogOutcome outcome = Publish(subject, *envelope, *public_key);
  if (outcome.state != TlogOutcome::State::kQueued) {
    SIGNALS_RETURN_IF_ERROR(Land(subject, outcome));
    if (outcome.state == TlogOutcome::State::kLogged) {
      spdlog::info("tlog: {} logged as {} after {} queued attempt(s)", subject.envelope_key, outcome.uuid,
                   queued.value("attempts", 0));
    }
    return Status::Ok();
  }
  return Postpone(queued, outcome.reason);
}

Status TlogPublisher::Postpone(const nlohmann::json& queued, const std::string& reason) {
  nlohmann::json record = queued;
  const int64_t attempts = queued.value("attempts", 0) + 1;
  record["attempts"] = attempts;
  record["nextAttemptAt"] = FormatRfc3339Millis(kernel_.NowMs() + BackoffMs(attempts));
  record["lastError"] = reason;
  auto txn = kernel_.index().Begin();
  if (!txn.ok()) return txn.status();
  SIGNALS_RETURN_IF_ERROR(
      (*txn)->Upsert(kTlogQueueCollection, queued.value("envelopeKey", ""), CanonicalJson(record)));
  return (*txn)->Commit();
}

int64_t TlogPublisher::RetryDue(const std::atomic<bool>* stop) {
  std::vector<nlohmann::json> rows;
  Status listed = kernel_.index().Query(kTlogQueueCollection, "{}", [&](const std::string& text) {
    auto row = nlohmann::json::parse(text, nullptr, false);
    if (row.is_object()) rows.push_back(std::move(row));
  });
  if (!listed.ok()) {
    spdlog::warn("tlog: reading the retry queue failed: {}", listed.message());
    return kMaxPollMs;
  }
  int64_t wait = kMaxPollMs;
  for (const auto& row : rows) {
    if (stop != nullptr && stop->load()) break;
    auto due = ParseRfc3339(row.value("nextAttemptAt", ""));
    const int64_t now = kernel_.NowMs();
    if (due.ok() && *due > now) {
      wait = std::min(wait, *due - now);
      continue;
    }
    Status s = RetryOne(row);
    if (!s.ok()) {
      // Not the log's fault (the index, the CAS, a missing key): back off all the same.
      spdlog::warn("tlog: retrying {} failed: {}", row.value("envelopeKey", "?"), s.message());
      Status postponed = Postpone(row, s.message());
      if (!postponed.ok())
        spdlog::warn("tlog: postponing {} failed: {}", row.value("envelopeKey", "?"), postponed.message());
    }
  }
  if (!rows.empty()) RefreshQueueDepth();
  return std::clamp(wait, kMinPollMs, kMaxPollMs);
}

}  // namespace signals
