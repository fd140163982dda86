// Fsck. See fsck.hpp.
#include "verify/fsck.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "attest/attestation.hpp"
#include "attest/dsse.hpp"
#include "base/canonical_json.hpp"
#include "base/json_member.hpp"
#include "ingest/callgraph_store.hpp"
#include "model/cas_object.hpp"
#include "model/cas_paths.hpp"
#include "model/index_rows.hpp"
#include "model/key_objects.hpp"
#include "retention/retention.hpp"
#include "retention/tombstone.hpp"
#include "verify/batch_verifier.hpp"
#include "verify/callgraph_verifier.hpp"

namespace signals {

size_t FsckReport::Outstanding() const {
  return static_cast<size_t>(
      std::count_if(problems.begin(), problems.end(), [](const FsckProblem& p) { return !p.leftover; }));
}

size_t FsckReport::Leftovers() const {
  return static_cast<size_t>(std::count_if(problems.begin(), problems.end(),
                                           [](const FsckProblem& p) { return p.leftover && !p.repaired; }));
}

size_t FsckReport::Repaired() const {
  return static_cast<size_t>(
      std::count_if(problems.begin(), problems.end(), [](const FsckProblem& p) { return p.repaired; }));
}

namespace {

// The GC collection of deletions between their steps 2 and 4
// (retention/retention_gc.hpp), keyed by tombstone key.
constexpr const char* kGcPendingCollection = "gc_pending";

std::string RowName(const std::string& collection, const std::string& key) {
  return "index:" + collection + "/" + key;
}

class Checker {
 public:
  Checker(Kernel& kernel, const FsckOptions& options) : kernel_(kernel), options_(options) {}

  Result<FsckReport> Run() {
    SIGNALS_RETURN_IF_ERROR(ListObjects());
    SIGNALS_RETURN_IF_ERROR(LoadGcPending());
    LoadTombstones();
    SIGNALS_RETURN_IF_ERROR(CheckBatches());
    SIGNALS_RETURN_IF_ERROR(CheckCallgraphs());
    SIGNALS_RETURN_IF_ERROR(CheckDigestRows());
    SIGNALS_RETURN_IF_ERROR(CheckKeys());
    SIGNALS_RETURN_IF_ERROR(CheckTlogQueue());
    CheckTombstoneRows();
    ReportUnclaimed();
    std::sort(report_.problems.begin(), report_.problems.end(),
              [](const FsckProblem& a, const FsckProblem& b) {
                return std::tie(a.object, a.rule, a.detail) < std::tie(b.object, b.rule, b.detail);
              });
    return std::move(report_);
  }

 private:
  struct Entry {
    CasObject ref;
    bool claimed = false;
  };

  void Problem(std::string object, std::string rule, std::string detail) {
    report_.problems.push_back({std::move(object), std::move(rule), std::move(detail), false, false});
  }

  // What a crash may leave (see fsck.hpp): reported, never counted as damage.
  void Leftover(std::string object, std::string detail, bool repaired = false) {
    report_.problems.push_back({std::move(object), "leftover", std::move(detail), repaired, true});
  }

  bool Exists(const std::string& key) const { return objects_.count(key) != 0; }

  // Marks `key` as accounted for by a row; counts it and reports progress.
  void Claim(const std::string& key) {
    auto it = objects_.find(key);
    if (it == objects_.end() || it->second.claimed) return;
    it->second.claimed = true;
    auto size = kernel_.cas().Stat(key);
    ++report_.objects;
    if (size.ok()) report_.bytes += *size;
    Progress();
  }

  void Progress() {
    if (options_.progress) options_.progress({report_.objects, report_.bytes, objects_.size(), 0});
  }

  Status ListObjects() {
    std::vector<std::string> leftovers;
    Status listed = kernel_.cas().List("", [&](const std::string& key) {
      CasObject ref = ClassifyCasKey(key);
      if (ref.kind == CasObjectKind::kLeftover) {
        leftovers.push_back(key);
      } else {
        objects_.emplace(key, Entry{std::move(ref)});
      }
    });
    if (!listed.ok()) return listed.WithContext("listing the CAS");
    for (const auto& key : leftovers) {
      std::string detail = "temp file of an interrupted write";
      bool repaired = false;
      if (options_.repair) {
        Status removed = kernel_.cas().Remove(key);
        repaired = removed.ok();
        detail += repaired ? "; removed" : "; not removed: " + removed.message();
      }
      Leftover(key, detail, repaired);
    }
    for (const auto& [key, entry] : objects_) {
      if (entry.ref.kind == CasObjectKind::kUnknown) {
        Claim(key);
        Problem(key, "unknown-object", "fits no object layout of the store (README.md#what-is-stored)");
      }
    }
    return Status::Ok();
  }

  void LoadTombstones() {
    for (const auto& [key, entry] : objects_) {
      if (entry.ref.kind != CasObjectKind::kTombstone) continue;
      auto tombstone = ReadTombstone(kernel_.cas(), key);
      Claim(key);
      if (!tombstone.ok()) {
        Problem(key, "tombstone-invalid", tombstone.status().message());
        continue;
      }
      tombstones_[{tombstone->collection, tombstone->row_key}] = std::move(*tombstone);
    }
  }

  // Deletions GC committed (step 2) and has not finished (steps 3 and 4):
  // their objects may still be there until the next run removes them.
  Status LoadGcPending() {
    Status s = kernel_.index().Query(kGcPendingCollection, "{}", [&](const std::string& record) {
      ++report_.rows;
      auto row = nlohmann::json::parse(record, nullptr, false);
      const std::string tombstone = row.is_object() ? JsonText(row, "tombstoneKey") : "";
      if (tombstone.empty() || !row.contains("deletedKeys") || !row["deletedKeys"].is_array()) {
        Problem(RowName(kGcPendingCollection, "?"), "row-invalid",
                "a row without a string 'tombstoneKey' and an array 'deletedKeys'");
        return;
      }
      std::set<std::string>& keys = gc_pending_[tombstone];
      for (const auto& key : row["deletedKeys"]) {
        if (key.is_string()) keys.insert(key.get<std::string>());
      }
      // Step 1 (the tombstone) is durable before step 2 writes this row.
      if (!Exists(tombstone)) {
        Problem(tombstone, "missing-object", RowName(kGcPendingCollection, tombstone) + " refers to it");
      }
    });
    // The collection exists once GC has deleted something.
    if (!s.ok() && s.code() != Code::kNotFound) return s.WithContext("reading index collection gc_pending");
    return Status::Ok();
  }

  // The objects a tombstone in effect lists as deleted must be gone, unless
  // its deletion is still pending.
  void CheckDeletedObjects(const Tombstone& tombstone) {
    auto pending = gc_pending_.find(tombstone.key);
    for (const auto& deleted : tombstone.deleted_keys) {
      if (!Exists(deleted)) continue;
      Claim(deleted);
      if (pending != gc_pending_.end() && pending->second.count(deleted) != 0) {
        Leftover(deleted, "deleted by " + tombstone.key + ", whose removal was interrupted (" +
                              RowName(kGcPendingCollection, tombstone.key) + "); the next gc run removes it");
      } else {
        Problem(deleted, "deleted-object-present", "tombstone " + tombstone.key + " lists it as deleted");
      }
    }
  }

  // Collects the value of `member` of every row of `collection`.
  Result<std::vector<std::string>> RowKeys(const std::string& collection, const char* member) {
    std::vector<std::string> keys;
    Status s = kernel_.index().Query(collection, "{}", [&](const std::string& record) {
      auto j = nlohmann::json::parse(record, nullptr, false);
      if (j.is_object() && j.contains(member) && j[member].is_string()) {
        keys.push_back(j[member].get<std::string>());
      } else {
        Problem(RowName(collection, "?"), "row-invalid",
                "a row without a string '" + std::string(member) + "'");
      }
    });
    if (!s.ok()) return s.WithContext("reading index collection " + collection);
    return keys;
  }

  Result<nlohmann::json> Row(const std::string& collection, const std::string& key) {
    auto text = kernel_.index().Get(collection, key);
    if (!text.ok()) return text.status();
    auto row = nlohmann::json::parse(*text, nullptr, false);
    if (!row.is_object()) return Status::Invalid("integrity", "", "the row is not a JSON object");
    return row;
  }

  // A row that retention GC left: it must be the tombstone's record, the
  // objects it names that GC did not delete (the attestation, a graph's
  // manifest) must exist, and the attestation must verify.
  void CheckTombstonedRow(const std::string& collection, const std::string& key, const std::string& row_name,
                          const nlohmann::json& row, const Tombstone& tombstone,
                          const std::vector<const char*>& key_members) {
    if (CanonicalJson(row) != CanonicalJson(tombstone.record)) {
      Problem(tombstone.key, "tombstone-row-mismatch",
              "index row " + collection + "/" + key + " is not the record the tombstone holds");
    }
    std::vector<std::string> remaining;
    for (const char* member : key_members) {
      const std::string object = JsonText(row, member);
      const auto& deleted = tombstone.deleted_keys;
      if (!object.empty() && std::find(deleted.begin(), deleted.end(), object) == deleted.end()) {
        remaining.push_back(object);
      }
    }
    if (std::find(remaining.begin(), remaining.end(), tombstone.attestation) == remaining.end()) {
      remaining.push_back(tombstone.attestation);
    }
    if (!ClaimReferenced(row_name, remaining)) return;
    Status verified = VerifyEnvelopeWithRegistry(tombstone.attestation);
    if (!verified.ok()) Problem(tombstone.attestation, "integrity", verified.message());
  }

  Status VerifyEnvelopeWithRegistry(const std::string& key) {
    auto text = kernel_.cas().ReadAll(key);
    if (!text.ok()) return text.status();
    auto envelope = ParseDsseEnvelope(*text);
    if (!envelope.ok()) return envelope.status();
    const std::string key_id = envelope->signatures.front().keyid;
    auto public_key = kernel_.keys().PublicKey(key_id);
    if (!public_key.ok()) return public_key.status();
    Status signature = VerifyEnvelopeSignature(*envelope, *public_key, key_id);
    if (!signature.ok()) return Status::Invalid("integrity", key, "signature: " + signature.message());
    return Status::Ok();
  }

  // The transparency-log entry of an envelope, when there is one, and the
  // row's rekorUuid agree.
  void CheckRekorEntry(const std::string& row_name, const nlohmann::json& row, const std::string& entry_key) {
    const nlohmann::json uuid = row.value("rekorUuid", nlohmann::json());
    if (!Exists(entry_key)) {
      if (!uuid.is_null()) Problem(entry_key, "missing-object", row_name + " has rekorUuid " + uuid.dump());
      return;
    }
    Claim(entry_key);
    auto text = kernel_.cas().ReadAll(entry_key);
    auto entry = text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (!entry.is_object() || !entry.contains("uuid") || !entry["uuid"].is_string()) {
      Problem(entry_key, "rekor-entry-invalid", "not a transparency-log entry with a uuid");
      return;
    }
    // A null rekorUuid is the interim state of a crash between storing the
    // entry and updating the row; the tlog queue finishes it.
    if (!uuid.is_null() && uuid != entry["uuid"]) {
      Problem(entry_key, "rekor-uuid-mismatch",
              "entry uuid " + entry["uuid"].dump() + " but " + row_name + " has rekorUuid " + uuid.dump());
    }
  }

  // Claims the objects a row references; reports the missing ones. True when
  // all exist.
  bool ClaimReferenced(const std::string& row_name, const std::vector<std::string>& keys) {
    bool all = true;
    for (const auto& key : keys) {
      if (Exists(key)) {
        Claim(key);
      } else {
        all = false;
        Problem(key.empty() ? row_name : key, "missing-object", row_name + " references it");
      }
    }
    return all;
  }

  void ReportVerifierFailure(const std::string& row_name, const Status& failure) {
    const std::string object = failure.field().empty() ? row_name : failure.field();
    Problem(object, failure.rule().empty() ? "integrity" : failure.rule(), failure.message());
  }

  // Checks every row of `collection` (keyed by its `id_member`, naming its
  // objects in `key_members`): a row that a tombstone holds gets the
  // tombstone's checks, every other row `check_live`; both get the check of
  // their transparency-log entry.
  Status CheckRows(const char* collection, const char* id_member, const std::vector<const char*>& key_members,
                   std::string (*rekor_entry)(const std::string&),
                   const std::function<void(const std::string& id, const std::string& row_name,
                                            const nlohmann::json& row)>& check_live) {
    auto ids = RowKeys(collection, id_member);
    if (!ids.ok()) return ids.status();
    for (const auto& id : *ids) {
      ++report_.rows;
      const std::string row_name = RowName(collection, id);
      auto row = Row(collection, id);
      if (!row.ok()) {
        Problem(row_name, "row-invalid", row.status().message());
        continue;
      }
      auto tombstone = tombstones_.find({collection, id});
      if (tombstone != tombstones_.end()) matched_tombstones_.insert(tombstone->first);
      if (tombstone != tombstones_.end() && IsExpired(*row)) {
        CheckTombstonedRow(collection, id, row_name, *row, tombstone->second, key_members);
        CheckDeletedObjects(tombstone->second);
      } else {
        // A tombstone takes effect with the row that says "expired" (GC's
        // step 2); before that the row is live and its objects are all there.
        if (tombstone != tombstones_.end()) {
          Leftover(tombstone->second.key, row_name +
                                              " is live: a gc deletion that stopped before its commit; the "
                                              "next gc run reuses or removes this tombstone");
        }
        check_live(id, row_name, *row);
      }
      CheckRekorEntry(row_name, *row, rekor_entry(id));
    }
    return Status::Ok();
  }

  // The object keys a row names under `members` must be those `expected`
  // names; returns the expected ones.
  std::vector<std::string> ReferencedKeys(const std::string& row_name, const nlohmann::json& row,
                                          const nlohmann::json& expected,
                                          const std::vector<const char*>& members) {
    std::vector<std::string> keys;
    for (const char* member : members) {
      const std::string want = expected.value(member, "");
      if (row.value(member, "") != want)
        Problem(row_name, "row-invalid", std::string(member) + " is not " + want);
      keys.push_back(want);
    }
    return keys;
  }

  Status CheckBatches() {
    const std::vector<const char*> members = {"blobKey", "provenanceKey", "attestationKey"};
    return CheckRows(kBatchCollection, "batchId", members, cas_paths::BatchRekorEntry,
                     [&](const std::string& id, const std::string& row_name, const nlohmann::json& row) {
                       const auto keys = ReferencedKeys(row_name, row, BatchRow(row), members);
                       if (!ClaimReferenced(row_name, keys)) return;
                       auto verified = VerifyBatch(kernel_, id);
                       if (!verified.ok()) ReportVerifierFailure(row_name, verified.status());
                     });
  }

  Status CheckCallgraphs() {
    const std::string default_skip =
        kernel_.config().GetBool("provenance", "rekor_enabled") ? "rekor-unavailable" : "rekor-disabled";
    const std::vector<const char*> members = {"blobKey", "metaKey", "manifestKey", "envelopeKey"};
    return CheckRows(kCallgraphCollection, "graphId", members, cas_paths::ManifestRekorEntry,
                     [&](const std::string& id, const std::string& row_name, const nlohmann::json& row) {
                       nlohmann::json expected = CallgraphRow(row, nlohmann::json::object(), default_skip);
                       expected["blobKey"] = cas_paths::CallgraphBlob(row.value("tenantId", ""), id);
                       const auto keys = ReferencedKeys(row_name, row, expected, members);
                       if (ClaimReferenced(row_name, keys)) {
                         auto verified = VerifyCallgraph(kernel_, id);
                         if (!verified.ok()) ReportVerifierFailure(row_name, verified.status());
                       }
                       // The de-duplication row of the graph points back to it.
                       const std::string digest_key = CallgraphStore::DigestKeyOf(
                           row.value("tenantId", ""), row.value("componentPurl", ""),
                           row.value("digest", ""));
                       auto digest_row = Row(kCallgraphDigestCollection, digest_key);
                       if (!digest_row.ok() || digest_row->value("graphId", "") != id) {
                         Problem(RowName(kCallgraphDigestCollection, digest_key), "digest-row-missing",
                                 "no row maps the digest of callgraph " + id + " to it");
                       }
                     });
  }

  Status CheckDigestRows() {
    std::vector<nlohmann::json> rows;
    Status s = kernel_.index().Query(kCallgraphDigestCollection, "{}", [&](const std::string& record) {
      rows.push_back(nlohmann::json::parse(record, nullptr, false));
    });
    if (!s.ok()) return s.WithContext("reading index collection callgraph_digests");
    for (const auto& row : rows) {
      ++report_.rows;
      if (!row.is_object()) {
        Problem(RowName(kCallgraphDigestCollection, "?"), "row-invalid", "not a JSON object");
        continue;
      }
      const std::string graph_id = row.value("graphId", "");
      if (!Row(kCallgraphCollection, graph_id).ok()) {
        Problem(RowName(kCallgraphDigestCollection,
                        CallgraphStore::DigestKeyOf(row.value("tenantId", ""), row.value("componentPurl", ""),
                                                    row.value("digest", ""))),
                "row-without-objects", "points to callgraph " + graph_id + ", which has no row");
      }
    }
    return Status::Ok();
  }

  Status CheckKeys() {
    auto keys = kernel_.keys().List();
    if (!keys.ok()) return keys.status().WithContext("reading the key registry");
    for (const auto& row : *keys) {
      ++report_.rows;
      const std::string id = row.value("keyId", "");
      const std::string object = cas_paths::KeyRecord(id);
      if (!ClaimReferenced(RowName("keys", id), {object})) continue;
      auto text = kernel_.cas().ReadAll(object);
      auto stored = text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
      if (!stored.is_object()) {
        Problem(object, "integrity", "not a JSON object");
        continue;
      }
      Status canonical = CheckCanonicalText(object, *text, stored);
      if (!canonical.ok()) Problem(object, "integrity", canonical.message());
      if (stored != KeyObjectOf(row)) {
        Problem(object, "key-mismatch", "differs from the key registry's record of " + id);
      }
      const std::string retirement = cas_paths::KeyRetirement(id);
      const bool retired = row.value("status", "") == "retired";
      if (retired && !Exists(retirement)) {
        Problem(retirement, "missing-object", "the key registry says " + id + " is retired");
      } else if (Exists(retirement)) {
        Claim(retirement);
        auto retired_text = kernel_.cas().ReadAll(retirement);
        auto record =
            retired_text.ok() ? nlohmann::json::parse(*retired_text, nullptr, false) : nlohmann::json();
        if (!record.is_object() || record.value("keyId", "") != id ||
            (retired && record.value("retiredAt", "") != row.value("retiredAt", ""))) {
          Problem(retirement, "key-mismatch", "differs from the key registry's retirement of " + id);
        } else if (!retired && row.value("status", "") == "active") {
          // Rotation stores the retirement before the row changes.
          Leftover(retirement, "the key registry says " + id +
                                   " is active: a rotation that stopped before its commit; rotating "
                                   "again reuses this record");
        } else if (!retired) {
          Problem(retirement, "key-mismatch",
                  "the key registry says " + id + " is " + row.value("status", "?"));
        }
      }
    }
    return Status::Ok();
  }

  Status CheckTlogQueue() {
    auto keys = RowKeys(kTlogQueueCollection, "envelopeKey");
    if (!keys.ok()) return keys.status();
    for (const auto& key : *keys) {
      ++report_.rows;
      if (!Exists(key))
        Problem(key, "missing-object", RowName(kTlogQueueCollection, key) + " queues it for the log");
    }
    return Status::Ok();
  }

  void CheckTombstoneRows() {
    for (const auto& [row, tombstone] : tombstones_) {
      if (matched_tombstones_.count(row) != 0) continue;
      CheckDeletedObjects(tombstone);
      // Other collections than batches and callgraphs are checked here only
      // for presence.
      auto text = kernel_.index().Get(row.first, row.second);
      if (text.ok()) {
        auto stored = nlohmann::json::parse(*text, nullptr, false);
        if (CanonicalJson(stored) != CanonicalJson(tombstone.record)) {
          Problem(tombstone.key, "tombstone-row-mismatch",
                  "index row " + row.first + "/" + row.second + " is not the record the tombstone holds");
        }
        continue;
      }
      Problem(tombstone.key, "row-missing", "index row " + row.first + "/" + row.second + " is gone");
    }
  }

  void ReportUnclaimed() {
    for (const auto& [key, entry] : objects_) {
      if (entry.claimed) continue;
      Claim(key);
      const CasObject& ref = entry.ref;
      switch (ref.kind) {
        case CasObjectKind::kBatchRekorEntry:
        case CasObjectKind::kManifestRekorEntry: {
          const std::string envelope = ref.kind == CasObjectKind::kBatchRekorEntry
                                           ? cas_paths::BatchAttestation(ref.id)
                                           : cas_paths::ManifestEnvelope(ref.id);
          if (!Exists(envelope)) {
            Problem(key, "rekor-entry-without-envelope", envelope + " does not exist");
            break;
          }
          Leftover(key, "no index row refers to " + envelope + kUncommitted);
          break;
        }
        case CasObjectKind::kFactBlob:
        case CasObjectKind::kFactProvenance:
        case CasObjectKind::kBatchAttestation:
          Leftover(key, "no index row " + std::string(kBatchCollection) + "/" + ref.id + kUncommitted);
          break;
        case CasObjectKind::kKeyRecord:
          // The signer registers its key at every start: it completes this.
          Leftover(key, "key " + ref.id +
                            " is not in the key registry: a registration that stopped before its commit");
          break;
        case CasObjectKind::kKeyRetirement:
          Problem(key, "object-without-row", "key " + ref.id + " is not in the key registry");
          break;
        default:
          Leftover(key, "no index row " + std::string(kCallgraphCollection) + "/" + ref.id + kUncommitted);
          break;
      }
    }
    Progress();
  }

  // The objects of an ingest without their row: the process stopped between
  // storing them and its index commit (nothing reads them), or the row was
  // lost, which SQLite does not do to a committed row.
  static constexpr const char* kUncommitted =
      ": an ingest that stopped before its index commit (reindex adopts a complete one)";

  Kernel& kernel_;
  const FsckOptions& options_;
  FsckReport report_;
  std::map<std::string, Entry> objects_;
  std::map<std::pair<std::string, std::string>, Tombstone> tombstones_;  // by (collection, row key)
  std::set<std::pair<std::string, std::string>> matched_tombstones_;     // their rows, once checked
  std::map<std::string, std::set<std::string>> gc_pending_;  // tombstone key → keys still to remove
};

}  // namespace

Result<FsckReport> RunFsck(Kernel& kernel, const FsckOptions& options) {
  return Checker(kernel, options).Run();
}

}  // namespace signals
