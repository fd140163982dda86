// Reindex. See reindex.hpp.
#include "verify/reindex.hpp"

#include <functional>
#include <optional>
#include <set>

#include "attest/dsse.hpp"
#include "base/canonical_json.hpp"
#include "base/json_member.hpp"
#include "base/timestamp.hpp"
#include "core/tenant_registry.hpp"
#include "ingest/callgraph_store.hpp"
#include "model/cas_object.hpp"
#include "model/cas_paths.hpp"
#include "model/index_rows.hpp"
#include "model/key_objects.hpp"
#include "retention/tombstone.hpp"

namespace signals {
namespace {

constexpr const char* kKeysCollection = "keys";
constexpr const char* kTenantsCollection = "tenants";

struct Span {
  std::string first;
  std::string last;
  void Add(const std::string& t) {
    if (t.empty()) return;
    if (first.empty() || t < first) first = t;
    if (last.empty() || t > last) last = t;
  }
};

class Rebuilder {
 public:
  Rebuilder(Kernel& kernel, const ReindexOptions& options) : kernel_(kernel), options_(options) {}

  Result<ReindexReport> Run() {
    // Keys registered before the registry was kept in the CAS get their
    // record there first, so that no key is lost by a rebuild.
    SIGNALS_RETURN_IF_ERROR(kernel_.keys().StoreRegistryInCas());
    SIGNALS_RETURN_IF_ERROR(ListObjects());
    auto txn = kernel_.index().Begin();
    if (!txn.ok()) return txn.status().WithContext("starting the index transaction");
    txn_ = std::move(*txn);
    SIGNALS_RETURN_IF_ERROR(RestoreTombstones());
    SIGNALS_RETURN_IF_ERROR(RebuildBatches());
    SIGNALS_RETURN_IF_ERROR(RebuildCallgraphs());
    SIGNALS_RETURN_IF_ERROR(RebuildKeys());
    SIGNALS_RETURN_IF_ERROR(RegisterTenants());
    SIGNALS_RETURN_IF_ERROR(QueueForTlog());
    SIGNALS_RETURN_IF_ERROR(RemoveUnsupported());
    SIGNALS_RETURN_IF_ERROR(txn_->Commit());  // the whole rebuild becomes visible at once
    Progress();
    return std::move(report_);
  }

 private:
  struct QueueCandidate {
    std::string kind;  // "batch" | "manifest"
    std::string id;
    std::string tenant;
  };

  void Warn(std::string message) { report_.warnings.push_back(std::move(message)); }

  void Progress() {
    if (options_.progress) options_.progress({report_.objects, report_.bytes, to_read_, 0});
  }

  bool Exists(const std::string& key) const { return objects_.count(key) != 0; }

  // Reads a stored JSON object, counting it; nullopt (with a warning) when
  // it is unreadable or not an object.
  std::optional<nlohmann::json> ReadJson(const std::string& key) {
    auto text = kernel_.cas().ReadAll(key);
    ++report_.objects;
    if (text.ok()) report_.bytes += text->size();
    Progress();
    if (!text.ok()) {
      Warn(key + ": " + text.status().message());
      return std::nullopt;
    }
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (!doc.is_object()) {
      Warn(key + ": not a JSON object; skipped");
      return std::nullopt;
    }
    return doc;
  }

  Status Put(const std::string& collection, const std::string& key, const nlohmann::json& row) {
    SIGNALS_RETURN_IF_ERROR(txn_->Upsert(collection, key, CanonicalJson(row)));
    written_[collection].insert(key);
    ++report_.rows[collection];
    return Status::Ok();
  }

  Status ListObjects() {
    Status listed = kernel_.cas().List("", [&](const std::string& key) {
      CasObject ref = ClassifyCasKey(key);
      switch (ref.kind) {
        case CasObjectKind::kLeftover:
        case CasObjectKind::kUnknown:
          return;
        case CasObjectKind::kFactProvenance:
        case CasObjectKind::kCallgraphMeta:
        case CasObjectKind::kManifest:
        case CasObjectKind::kManifestEnvelope:
        case CasObjectKind::kBatchRekorEntry:
        case CasObjectKind::kManifestRekorEntry:
        case CasObjectKind::kTombstone:
        case CasObjectKind::kKeyRecord:
        case CasObjectKind::kKeyRetirement:
          ++to_read_;
          break;
        default:
          break;
      }
      objects_.emplace(key, std::move(ref));
    });
    return listed.ok() ? listed : listed.WithContext("listing the CAS");
  }

  // What every restored or rebuilt batch/callgraph row contributes: its
  // tenant's earliest object, its signer's use, and a tlog queue entry when
  // its envelope still waits for the log.
  void Note(const std::string& kind, const nlohmann::json& row, const std::string& signer,
            const std::string& when) {
    const std::string tenant = JsonText(row, "tenantId");
    const std::string id = row.value(kind == "batch" ? "batchId" : "graphId", "");
    if (!tenant.empty()) tenants_[tenant].Add(when);
    if (!signer.empty()) key_use_[signer].Add(when);
    const std::string envelope =
        kind == "batch" ? cas_paths::BatchAttestation(id) : cas_paths::ManifestEnvelope(id);
    const std::string entry =
        kind == "batch" ? cas_paths::BatchRekorEntry(id) : cas_paths::ManifestRekorEntry(id);
    if (row.value("skipReason", nlohmann::json()) == "rekor-unavailable" &&
        row.value("rekorUuid", nlohmann::json()).is_null() && Exists(envelope) && !Exists(entry)) {
      queue_.push_back({kind, id, tenant});
    }
  }

  // The keyid of the envelope at `key`, or "" when it cannot be read.
  std::string EnvelopeSigner(const std::string& key) {
    if (!Exists(key)) return "";
    auto text = kernel_.cas().ReadAll(key);
    ++report_.objects;
    if (!text.ok()) return "";
    report_.bytes += text->size();
    auto envelope = ParseDsseEnvelope(*text);
    if (!envelope.ok()) {
      Warn(key + ": " + envelope.status().message());
      return "";
    }
    return envelope->signatures.front().keyid;
  }

  // A transparency-log entry, when stored, fills rekorUuid.
  void ApplyRekorEntry(nlohmann::json& row, const std::string& entry_key) {
    if (!Exists(entry_key)) return;
    auto entry = ReadJson(entry_key);
    if (!entry) return;
    if (!entry->contains("uuid") || !(*entry)["uuid"].is_string()) {
      Warn(entry_key + ": no uuid; rekorUuid left unset");
      return;
    }
    row["rekorUuid"] = (*entry)["uuid"];
    row["skipReason"] = nullptr;
  }

  Status RestoreTombstones() {
    for (const auto& [key, ref] : objects_) {
      if (ref.kind != CasObjectKind::kTombstone) continue;
      ++report_.objects;
      Progress();
      auto tombstone = ReadTombstone(kernel_.cas(), key);
      if (!tombstone.ok()) {
        Warn(tombstone.status().message() + "; not restored");
        continue;
      }
      SIGNALS_RETURN_IF_ERROR(Put(tombstone->collection, tombstone->row_key, tombstone->record));
      const nlohmann::json& record = tombstone->record;
      if (tombstone->collection == kBatchCollection) {
        Note("batch", record, JsonText(record, "signerKeyId"), JsonText(record, "ingestedAt"));
      } else if (tombstone->collection == kCallgraphCollection) {
        std::string signer = EnvelopeSigner(cas_paths::ManifestEnvelope(tombstone->row_key));
        if (signer.empty() && record.value("signerKeyId", nlohmann::json()).is_string()) {
          signer = record["signerKeyId"].get<std::string>();
        }
        Note("manifest", record, signer, JsonText(record, "createdAt"));
      }
    }
    return Status::Ok();
  }

  bool Restored(const std::string& collection, const std::string& key) {
    auto it = written_.find(collection);
    return it != written_.end() && it->second.count(key) != 0;
  }

  // The record at `key` when its id (`id_member`) and tenantId are those its
  // key names; else a warning and nullopt.
  std::optional<nlohmann::json> ReadOwnRecord(const std::string& key, const CasObject& ref,
                                              const char* id_member) {
    auto record = ReadJson(key);
    if (!record) return std::nullopt;
    if (JsonText(*record, id_member) != ref.id || JsonText(*record, "tenantId") != ref.tenant) {
      Warn(key + ": " + id_member + "/tenantId are not those of its key; skipped");
      return std::nullopt;
    }
    return record;
  }

  Status RebuildBatches() {
    for (const auto& [key, ref] : objects_) {
      if (ref.kind != CasObjectKind::kFactProvenance || Restored(kBatchCollection, ref.id)) continue;
      auto provenance = ReadOwnRecord(key, ref, "batchId");
      if (!provenance) continue;
      nlohmann::json row = BatchRow(*provenance);
      ApplyRekorEntry(row, cas_paths::BatchRekorEntry(ref.id));
      SIGNALS_RETURN_IF_ERROR(Put(kBatchCollection, ref.id, row));
      Note("batch", row, JsonText(row, "signerKeyId"), JsonText(row, "ingestedAt"));
    }
    return Status::Ok();
  }

  Status RebuildCallgraphs() {
    const std::string default_skip =
        kernel_.config().GetBool("provenance", "rekor_enabled") ? "rekor-unavailable" : "rekor-disabled";
    for (const auto& [key, ref] : objects_) {
      if (ref.kind != CasObjectKind::kCallgraphMeta || Restored(kCallgraphCollection, ref.id)) continue;
      auto meta = ReadOwnRecord(key, ref, "graphId");
      if (!meta) continue;
      const std::string manifest_key = cas_paths::Manifest(ref.id);
      if (!Exists(manifest_key)) {
        Warn(key + ": its manifest " + manifest_key + " is missing; skipped");
        continue;
      }
      auto manifest = ReadJson(manifest_key);
      if (!manifest) continue;
      nlohmann::json row = CallgraphRow(*meta, *manifest, default_skip);
      ApplyRekorEntry(row, cas_paths::ManifestRekorEntry(ref.id));
      SIGNALS_RETURN_IF_ERROR(Put(kCallgraphCollection, ref.id, row));
      // One graph per (tenant, purl, digest): ids ascend, so the first stored wins.
      const std::string digest_key = CallgraphStore::DigestKeyOf(
          JsonText(row, "tenantId"), JsonText(row, "componentPurl"), JsonText(row, "digest"));
      if (!Restored(kCallgraphDigestCollection, digest_key)) {
        SIGNALS_RETURN_IF_ERROR(Put(kCallgraphDigestCollection, digest_key, CallgraphDigestRow(row)));
      }
      Note("manifest", row, EnvelopeSigner(cas_paths::ManifestEnvelope(ref.id)), JsonText(row, "createdAt"));
    }
    return Status::Ok();
  }

  Status RebuildKeys() {
    for (const auto& [key, ref] : objects_) {
      if (ref.kind != CasObjectKind::kKeyRecord) continue;
      auto stored = ReadJson(key);
      if (!stored) continue;
      if (JsonText(*stored, "keyId") != ref.id) {
        Warn(key + ": keyId is not that of its key; skipped");
        continue;
      }
      nlohmann::json row = KeyObjectOf(*stored);
      row["status"] = "active";
      const std::string retirement = cas_paths::KeyRetirement(ref.id);
      if (Exists(retirement)) {
        if (auto retired = ReadJson(retirement)) {
          row["status"] = "retired";
          row["retiredAt"] = JsonText(*retired, "retiredAt");
        }
      }
      auto use = key_use_.find(ref.id);
      if (use != key_use_.end()) {
        row["firstUsedAt"] = use->second.first;
        row["lastUsedAt"] = use->second.last;
      }
      SIGNALS_RETURN_IF_ERROR(Put(kKeysCollection, ref.id, row));
    }
    return Status::Ok();
  }

  Status RegisterTenants() {
    for (const auto& [tenant, span] : tenants_) {
      if (tenant == kGlobalTenant) continue;
      auto existing = kernel_.index().Get(kTenantsCollection, tenant);
      if (existing.ok()) continue;
      if (existing.status().code() != Code::kNotFound) return existing.status();
      nlohmann::json record = {{"tenantId", tenant}, {"createdAt", span.first}};
      SIGNALS_RETURN_IF_ERROR(txn_->Upsert(kTenantsCollection, tenant, CanonicalJson(record)));
      report_.tenants_added.push_back(tenant);
    }
    return Status::Ok();
  }

  Status QueueForTlog() {
    const std::string now = FormatRfc3339Millis(kernel_.NowMs());
    for (const auto& candidate : queue_) {
      const nlohmann::json row = TlogQueueRow(candidate.kind, candidate.id, candidate.tenant, now);
      const std::string key = row["envelopeKey"].get<std::string>();
      auto existing = kernel_.index().Get(kTlogQueueCollection, key);
      if (existing.ok()) {
        written_[kTlogQueueCollection].insert(key);  // keeps its attempts and schedule
        continue;
      }
      if (existing.status().code() != Code::kNotFound) return existing.status();
      SIGNALS_RETURN_IF_ERROR(Put(kTlogQueueCollection, key, row));
    }
    return Status::Ok();
  }

  // Removes the committed rows of derived collections that the CAS no longer
  // supports (their objects are gone). The key registry is never shrunk:
  // a key that signed something must stay known.
  Status RemoveUnsupported() {
    struct Derived {
      const char* collection;
      std::function<std::string(const nlohmann::json&)> key_of;
    };
    const std::vector<Derived> derived = {
        {kBatchCollection, [](const nlohmann::json& r) { return JsonText(r, "batchId"); }},
        {kCallgraphCollection, [](const nlohmann::json& r) { return JsonText(r, "graphId"); }},
        {kCallgraphDigestCollection,
         [](const nlohmann::json& r) {
           return CallgraphStore::DigestKeyOf(JsonText(r, "tenantId"), JsonText(r, "componentPurl"),
                                              JsonText(r, "digest"));
         }},
        {kTlogQueueCollection, [](const nlohmann::json& r) { return JsonText(r, "envelopeKey"); }},
    };
    for (const auto& d : derived) {
      std::vector<std::string> stale;
      Status s = kernel_.index().Query(d.collection, "{}", [&](const std::string& record) {
        auto row = nlohmann::json::parse(record, nullptr, false);
        if (!row.is_object()) return;
        std::string key = d.key_of(row);
        if (!key.empty() && !Restored(d.collection, key)) stale.push_back(std::move(key));
      });
      if (!s.ok()) return s.WithContext(std::string("reading index collection ") + d.collection);
      for (const auto& key : stale) {
        SIGNALS_RETURN_IF_ERROR(txn_->Remove(d.collection, key));
        ++report_.removed;
      }
    }
    Status s = kernel_.index().Query(kKeysCollection, "{}", [&](const std::string& record) {
      auto row = nlohmann::json::parse(record, nullptr, false);
      if (row.is_object() && !Restored(kKeysCollection, JsonText(row, "keyId"))) {
        Warn("key " + row.value("keyId", "?") + " is in the registry but not in the CAS; kept");
      }
    });
    return s.ok() ? s : s.WithContext("reading the key registry");
  }

  Kernel& kernel_;
  const ReindexOptions& options_;
  ReindexReport report_;
  std::unique_ptr<IndexStore::Txn> txn_;
  std::map<std::string, CasObject> objects_;
  uint64_t to_read_ = 0;
  std::map<std::string, std::set<std::string>> written_;  // collection → row keys written or kept
  std::map<std::string, Span> key_use_;                   // keyId → first/last signing time
  std::map<std::string, Span> tenants_;                   // tenant → its objects' times
  std::vector<QueueCandidate> queue_;
};

}  // namespace

Result<ReindexReport> Reindex(Kernel& kernel, const ReindexOptions& options) {
  return Rebuilder(kernel, options).Run();
}

}  // namespace signals
