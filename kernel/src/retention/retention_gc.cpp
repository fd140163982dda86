// RetentionGc. See retention_gc.hpp for the policy and the crash-safe order.
#include "retention/retention_gc.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "base/canonical_json.hpp"
#include "base/json_member.hpp"
#include "base/logging.hpp"
#include "base/timestamp.hpp"
#include "base/ulid.hpp"
#include "core/tenant_registry.hpp"
#include "ingest/callgraph_store.hpp"
#include "model/cas_paths.hpp"
#include "model/index_rows.hpp"
#include "retention/retention.hpp"

namespace signals {
namespace {

constexpr int64_t kDayMs = 86'400'000;
// Deletions between step 2 and step 4, keyed by tombstone key.
constexpr const char* kPendingCollection = "gc_pending";

const char* CollectionOf(const std::string& kind) {
  return kind == kRuntimeFactsKind ? kBatchCollection : kCallgraphCollection;
}

// Tenant and id become CAS path segments of the tombstone: only valid ones do.
bool ValidIdentity(const std::string& tenant, const std::string& id) {
  return ValidateTenantName(tenant, "tenantId").ok() && ValidateUlid(id, "id").ok();
}

std::vector<std::string> SortedKeys(const nlohmann::json& row, const char* a, const char* b) {
  std::vector<std::string> keys;
  for (const char* member : {a, b}) {
    std::string key = row.value(member, "");
    if (!key.empty()) keys.push_back(std::move(key));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

// When `stamp` + `days` has passed at `now_ms`; nullopt for an unreadable stamp.
std::optional<bool> Elapsed(const std::string& stamp, int64_t days, int64_t now_ms) {
  auto at = ParseRfc3339(stamp);
  if (!at.ok()) return std::nullopt;
  return now_ms >= *at + days * kDayMs;
}

auto SortKey(const GcItem& item) { return std::tie(item.kind, item.tenant, item.id); }

}  // namespace

RetentionPolicy RetentionPolicy::FromConfig(const KernelConfig& config) {
  RetentionPolicy policy;
  policy.runtime_facts_days = config.GetInt("retention", "runtime_facts_days");
  policy.orphan_callgraphs_days = config.GetInt("retention", "orphan_callgraphs_days");
  return policy;
}

namespace {

// What the two kinds of expiring rows differ in.
struct ExpiringShape {
  const char* kind;
  const char* id_member;
  const char* stamp_member;  // the age is counted from it
  const char* stamp_verb;    // how the reason names it
  const char* key_members[2];
  const char* remains_member;
};
constexpr ExpiringShape kBatchShape{
    kRuntimeFactsKind, "batchId", "ingestedAt", "ingested", {"blobKey", "provenanceKey"}, "attestationKey"};
constexpr ExpiringShape kCallgraphShape{kCallgraphsKind,        "graphId",    "createdAt", "created",
                                        {"blobKey", "metaKey"}, "envelopeKey"};

// The item of `row` when its stamp plus `days` has passed at `now_ms`.
std::optional<GcItem> DueRow(const ExpiringShape& shape, const nlohmann::json& row, int64_t days,
                             int64_t now_ms, const std::string& why) {
  if (!row.is_object() || IsExpired(row)) return std::nullopt;
  const std::string stamp = row.value(shape.stamp_member, "");
  auto due = Elapsed(stamp, days, now_ms);
  if (!due || !*due) return std::nullopt;
  GcItem item;
  item.kind = shape.kind;
  item.tenant = JsonText(row, "tenantId");
  item.id = row.value(shape.id_member, "");
  if (!ValidIdentity(item.tenant, item.id)) return std::nullopt;
  item.reason = std::string(shape.stamp_verb) + " " + stamp + why + std::to_string(days);
  item.keys = SortedKeys(row, shape.key_members[0], shape.key_members[1]);
  item.attestation_key = row.value(shape.remains_member, "");
  return item;
}

}  // namespace

std::optional<GcItem> DueBatch(const nlohmann::json& row, const RetentionPolicy& policy, int64_t now_ms) {
  return DueRow(kBatchShape, row, policy.runtime_facts_days, now_ms, ", retention.runtime_facts_days = ");
}

std::optional<GcItem> DueCallgraph(const nlohmann::json& row, bool referenced, const RetentionPolicy& policy,
                                   int64_t now_ms) {
  if (referenced) return std::nullopt;
  return DueRow(kCallgraphShape, row, policy.orphan_callgraphs_days, now_ms,
                ", referenced by no batch, retention.orphan_callgraphs_days = ");
}

nlohmann::json GcReport::ToJson() const {
  nlohmann::json deleted_json = nlohmann::json::array();
  size_t batches = 0, callgraphs = 0, objects = 0;
  for (const auto& item : deleted) {
    (item.kind == kRuntimeFactsKind ? batches : callgraphs) += 1;
    objects += item.keys.size();
    deleted_json.push_back({{"kind", item.kind},
                            {"tenantId", item.tenant},
                            {"id", item.id},
                            {"reason", item.reason},
                            {"deletedKeys", item.keys},
                            {"attestation", item.attestation_key},
                            {"tombstone", cas_paths::Tombstone(item.kind, item.tenant, item.id)},
                            {"resumed", item.resumed}});
  }
  return {{"now", FormatRfc3339Millis(now_ms)},
          {"dryRun", dry_run},
          {"interrupted", interrupted},
          {"deleted", deleted_json},
          {"errors", errors},
          {"counts", {{kRuntimeFactsKind, batches}, {kCallgraphsKind, callgraphs}, {"objects", objects}}}};
}

RetentionGc::RetentionGc(Kernel& kernel)
    : kernel_(kernel), policy_(RetentionPolicy::FromConfig(kernel.config())) {}

Result<std::vector<GcItem>> RetentionGc::Plan(int64_t now_ms) {
  std::vector<GcItem> items;
  Status malformed;
  SIGNALS_RETURN_IF_ERROR(kernel_.index().Query(kPendingCollection, "{}", [&](const std::string& text) {
    auto pending = nlohmann::json::parse(text, nullptr, false);
    if (!pending.is_object()) {
      malformed = Status::Internal("a gc_pending row is not a JSON object");
      return;
    }
    GcItem item;
    item.kind = JsonText(pending, "kind");
    item.tenant = JsonText(pending, "tenantId");
    item.id = JsonText(pending, "id");
    item.reason = JsonText(pending, "reason");
    item.keys = pending.value("deletedKeys", std::vector<std::string>());
    item.attestation_key = JsonText(pending, "attestation");
    item.resumed = true;
    items.push_back(std::move(item));
  }));
  SIGNALS_RETURN_IF_ERROR(malformed);

  // One pass over the batches: the due ones, and every graph any batch
  // references (expired batches included).
  std::set<std::string> referenced;
  SIGNALS_RETURN_IF_ERROR(kernel_.index().Query(kBatchCollection, "{}", [&](const std::string& text) {
    auto row = nlohmann::json::parse(text, nullptr, false);
    if (!row.is_object()) return;
    referenced.insert(JsonText(row, "callgraphId"));
    if (auto item = DueBatch(row, policy_, now_ms)) items.push_back(std::move(*item));
  }));
  SIGNALS_RETURN_IF_ERROR(kernel_.index().Query(kCallgraphCollection, "{}", [&](const std::string& text) {
    auto row = nlohmann::json::parse(text, nullptr, false);
    if (!row.is_object()) return;
    const bool is_referenced = referenced.count(JsonText(row, "graphId")) != 0;
    if (auto item = DueCallgraph(row, is_referenced, policy_, now_ms)) items.push_back(std::move(*item));
  }));
  std::sort(items.begin(), items.end(),
            [](const GcItem& a, const GcItem& b) { return SortKey(a) < SortKey(b); });
  return items;
}

Result<nlohmann::json> RetentionGc::WriteTombstone(const GcItem& item, const nlohmann::json& row,
                                                   int64_t deleted_at_ms) {
  const std::string key = cas_paths::Tombstone(item.kind, item.tenant, item.id);
  std::string deleted_at = FormatRfc3339Millis(deleted_at_ms);
  auto existing = kernel_.cas().ReadAll(key, 16 << 20);
  if (existing.ok()) {
    // A run that crashed after step 1: keep its deletion time.
    auto earlier = nlohmann::json::parse(*existing, nullptr, false);
    if (earlier.is_object() && JsonText(earlier, "deletedAt") != "")
      deleted_at = JsonText(earlier, "deletedAt");
  } else if (existing.status().code() != Code::kNotFound) {
    return existing.status();
  }
  nlohmann::json record = row;
  record["state"] = kExpiredState;
  record["expiredAt"] = deleted_at;
  record["tombstoneKey"] = key;
  nlohmann::json tombstone = {
      {"kind", item.kind},
      {"tenantId", item.tenant},
      {"id", item.id},
      {"deletedAt", deleted_at},
      {"reason", item.reason},
      {"deletedKeys", item.keys},
      {"attestation", item.attestation_key},
      {"index", {{"collection", CollectionOf(item.kind)}, {"key", item.id}, {"record", record}}},
  };
  const std::string bytes = CanonicalJson(tombstone);
  if (existing.ok()) {
    if (*existing == bytes) return tombstone;
    // The row changed since that run (or the policy did). The old tombstone
    // is not in effect — the row is still live — so it is replaced.
    Status removed = kernel_.cas().Remove(key);
    if (!removed.ok() && removed.code() != Code::kNotFound) return removed;
  }
  SIGNALS_RETURN_IF_ERROR(kernel_.cas().Put(key, bytes));
  return tombstone;
}

Result<bool> RetentionGc::Expire(const GcItem& item, int64_t deleted_at_ms) {
  const bool callgraph = item.kind == kCallgraphsKind;
  const nlohmann::json referencing = {{"where", {{"callgraphId", item.id}}}, {"limit", 1}};
  auto referenced = [&]() -> Result<bool> {
    bool found = false;
    Status s = kernel_.index().Query(kBatchCollection, referencing.dump(),
                                     [&](const std::string&) { found = true; });
    if (!s.ok()) return s;
    return found;
  };
  if (callgraph) {
    // Outside the transaction first: cheap, and it lets the index create its
    // callgraphId index, which it does not do while a writer is open.
    auto now_referenced = referenced();
    if (!now_referenced.ok()) return now_referenced.status();
    if (*now_referenced) return false;
  }
  // The write transaction is taken before the row is read: no other writer
  // (fact ingest, a tlog update, another GC) can change it until the commit.
  auto txn = kernel_.index().Begin();
  if (!txn.ok()) return txn.status();
  const char* collection = CollectionOf(item.kind);
  auto text = kernel_.index().Get(collection, item.id);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return false;
    return text.status();
  }
  auto row = nlohmann::json::parse(*text, nullptr, false);
  if (!row.is_object())
    return Status::Internal(std::string("index row ") + collection + "/" + item.id + " is malformed");
  if (IsExpired(row)) return false;
  if (callgraph) {
    auto now_referenced = referenced();
    if (!now_referenced.ok()) return now_referenced.status();
    if (*now_referenced) return false;
  }

  // Step 1: the tombstone, durable before the row says "expired".
  auto tombstone = WriteTombstone(item, row, deleted_at_ms);
  if (!tombstone.ok()) return tombstone.status();
  const nlohmann::json& index = (*tombstone)["index"];
  const std::string tombstone_key = index["record"].value("tombstoneKey", "");

  // Step 2: the row as the tombstone records it, and the pending removal.
  nlohmann::json pending = {{"kind", item.kind},
                            {"tenantId", item.tenant},
                            {"id", item.id},
                            {"reason", item.reason},
                            {"deletedKeys", item.keys},
                            {"attestation", item.attestation_key},
                            {"tombstoneKey", tombstone_key}};
  SIGNALS_RETURN_IF_ERROR((*txn)->Upsert(collection, item.id, CanonicalJson(index["record"])));
  SIGNALS_RETURN_IF_ERROR((*txn)->Upsert(kPendingCollection, tombstone_key, CanonicalJson(pending)));
  if (callgraph) {
    const std::string digest_key =
        CallgraphStore::DigestKeyOf(item.tenant, JsonText(row, "componentPurl"), JsonText(row, "digest"));
    auto digest_row = kernel_.index().Get(kCallgraphDigestCollection, digest_key);
    if (digest_row.ok()) {
      auto j = nlohmann::json::parse(*digest_row, nullptr, false);
      if (j.is_object() && JsonText(j, "graphId") == item.id) {
        SIGNALS_RETURN_IF_ERROR((*txn)->Remove(kCallgraphDigestCollection, digest_key));
      }
    } else if (digest_row.status().code() != Code::kNotFound) {
      return digest_row.status();
    }
  }
  SIGNALS_RETURN_IF_ERROR((*txn)->Commit());
  return true;
}

Status RetentionGc::FinishRemoval(const GcItem& item) {
  // Step 3: the blobs. An absent one was removed by an earlier run.
  for (const auto& key : item.keys) {
    Status removed = kernel_.cas().Remove(key);
    const bool ok = removed.ok() || removed.code() == Code::kNotFound;
    kernel_.metrics().CounterAdd("signals_cas_operations_total",
                                 std::string("operation=remove,result=") + (ok ? "ok" : "error"), 1);
    if (!ok) return removed;
  }
  // Step 4: nothing is pending any more.
  const std::string tombstone_key = cas_paths::Tombstone(item.kind, item.tenant, item.id);
  auto pending = kernel_.index().Get(kPendingCollection, tombstone_key);
  if (!pending.ok()) return pending.status().code() == Code::kNotFound ? Status::Ok() : pending.status();
  auto txn = kernel_.index().Begin();
  if (!txn.ok()) return txn.status();
  Status removed = (*txn)->Remove(kPendingCollection, tombstone_key);
  if (removed.code() == Code::kNotFound) return Status::Ok();  // finished concurrently
  SIGNALS_RETURN_IF_ERROR(removed);
  return (*txn)->Commit();
}

Result<std::vector<std::string>> RetentionGc::RemoveVoidTombstones() {
  std::vector<std::string> keys;
  SIGNALS_RETURN_IF_ERROR(kernel_.cas().List(TombstonePrefix(kCallgraphsKind),
                                             [&](const std::string& key) { keys.push_back(key); }));
  std::vector<std::string> removed;
  for (const auto& key : keys) {
    // tombstones/callgraphs/{tenant}/{graphId}.json
    const size_t slash = key.rfind('/');
    const size_t dot = key.rfind(".json");
    if (slash == std::string::npos || dot == std::string::npos || dot < slash) continue;
    const std::string graph_id = key.substr(slash + 1, dot - slash - 1);
    auto live = [&]() {
      auto text = kernel_.index().Get(kCallgraphCollection, graph_id);
      return text.ok() && !IsExpired(nlohmann::json::parse(*text, nullptr, false));
    };
    if (!live()) continue;
    auto txn = kernel_.index().Begin();
    if (!txn.ok()) return txn.status();
    if (!live()) continue;
    Status s = kernel_.cas().Remove(key);
    if (!s.ok() && s.code() != Code::kNotFound) return s;
    spdlog::warn("gc: removed tombstone {}: it never took effect, callgraph {} is live", key, graph_id);
    removed.push_back(key);
  }
  return removed;
}

Result<GcReport> RetentionGc::Run(const GcOptions& options) {
  MetricsRegistry& metrics = kernel_.metrics();
  GcReport report;
  report.now_ms = options.now_ms;
  report.dry_run = options.dry_run;
  auto plan = Plan(options.now_ms);
  if (!plan.ok()) {
    if (!options.dry_run) metrics.CounterAdd("signals_gc_runs_total", "result=error", 1);
    spdlog::error("gc: planning failed: {}", plan.status().ToString());
    return plan.status();
  }
  if (options.dry_run) {
    report.deleted = std::move(*plan);
    return report;
  }
  for (const auto& item : *plan) {
    if (options.stop != nullptr && options.stop->load()) {
      report.interrupted = true;
      break;
    }
    const std::string what = item.kind + " " + item.tenant + "/" + item.id;
    if (!item.resumed) {
      auto expired = Expire(item, kernel_.NowMs());
      if (!expired.ok()) {
        report.errors.push_back(what + ": " + expired.status().ToString());
        spdlog::error("gc: {}: {}", what, expired.status().ToString());
        continue;
      }
      if (!*expired) continue;  // referenced meanwhile, or expired by another run
    }
    Status removed = FinishRemoval(item);
    if (!removed.ok()) {
      report.errors.push_back(what + ": " + removed.ToString());
      spdlog::error("gc: {}: tombstone written, removal failed (the next run retries): {}", what,
                    removed.ToString());
      continue;
    }
    std::string keys;
    for (const auto& key : item.keys) keys += (keys.empty() ? "" : ", ") + key;
    spdlog::info("gc: deleted {} ({}){}: removed {}; tombstone {}; {} remains", what, item.reason,
                 item.resumed ? " [resumed]" : "", keys,
                 cas_paths::Tombstone(item.kind, item.tenant, item.id), item.attestation_key);
    metrics.CounterAdd("signals_gc_deleted_total", "kind=" + item.kind, 1);
    report.deleted.push_back(item);
  }
  if (report.interrupted) {
    spdlog::info("gc: stopped early after {} deletions", report.deleted.size());
    return report;
  }
  auto void_tombstones = RemoveVoidTombstones();
  if (!void_tombstones.ok())
    report.errors.push_back("void tombstones: " + void_tombstones.status().ToString());
  const bool ok = report.errors.empty();
  metrics.CounterAdd("signals_gc_runs_total", ok ? "result=ok" : "result=error", 1);
  if (ok)
    metrics.GaugeSet("signals_gc_last_success_timestamp_seconds", "",
                     static_cast<double>(kernel_.NowMs()) / 1000.0);
  spdlog::info("gc: run at {} {}: {} objects deleted, {} errors", FormatRfc3339Millis(options.now_ms),
               ok ? "ok" : "failed", report.deleted.size(), report.errors.size());
  return report;
}

}  // namespace signals
