// RetentionGc: deletes what the retention policy (README.md#retention) lets go —
// runtime-fact blobs and their provenance records `runtime_facts_days` after
// ingest, orphan callgraphs `orphan_callgraphs_days` after creation — and
// nothing else: manifests, attestations and referenced callgraphs stay
// forever. signalsd runs it on a schedule (retention_scheduler.hpp) and
// `signalsctl gc` on demand; both go through this class.
//
// A callgraph is *referenced* when any row of the "batches" collection names
// it as callgraphId, whatever the batch's state: an expired batch still
// references its graph, because its attestation names the graph's digest as a
// subject. An *orphan* is a callgraph no batch ever referenced; its age is
// counted from createdAt. A batch's age is counted from ingestedAt.
//
// Crash-safe order, per object (each step durable before the next starts):
//   1. write the tombstone tombstones/{kind}/{tenant}/{id}.json (CAS put:
//      fsync, rename, directory fsync) holding the index row as it will be;
//   2. one index transaction: the row becomes that record ("state":
//      "expired", "expiredAt", "tombstoneKey"), a "gc_pending" row lists the
//      keys still to remove, and an orphan callgraph's "callgraph_digests" row
//      goes (so that posting the same graph again stores it anew);
//   3. remove the blobs (CAS remove, directory fsync);
//   4. one index transaction removes the "gc_pending" row.
// A reader goes by the row: before 2 it is live and its blobs exist; from 2 on
// it answers 410 and a tombstone exists. So no reader ever sees a row pointing
// at a missing blob without a tombstone. A crash anywhere is finished by the
// next run: after 1 the row is still due and the tombstone is reused (or
// rewritten if the row changed meanwhile — it is not in effect before 2);
// after 2 or 3 the "gc_pending" row is resumed (removing an absent key is not
// an error). Runs are idempotent: a second run with the same `now` deletes
// nothing. A tombstone whose row is live never took effect (a crash after 1,
// and the graph became referenced before the next run): readers ignore it,
// and each run removes such callgraph tombstones (RemoveVoidTombstones).
//
// Referencing and expiring race: a batch could be committed against a
// callgraph while GC expires it. Step 1 and 2 of a callgraph run inside the
// index's write transaction (which serialises writers across processes), after
// re-checking that no batch references the graph; fact ingest re-checks, in its
// own commit transaction, that the graph has not expired.
//
// Every deletion is logged (kind, tenant, id, keys — nothing secret) and
// counted: signals_gc_deleted_total{kind}, signals_gc_runs_total{result},
// signals_gc_last_success_timestamp_seconds.
// Thread-safety: one Run at a time per instance; several instances (or
// processes) may run at once — the steps are idempotent.
#pragma once

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "core/kernel.hpp"
#include "retention/retention.hpp"

namespace signals {

struct RetentionPolicy {
  int64_t runtime_facts_days = 90;
  int64_t orphan_callgraphs_days = 30;

  // retention.runtime_facts_days and retention.orphan_callgraphs_days.
  static RetentionPolicy FromConfig(const KernelConfig& config);
};

// One object GC deletes: a batch's blob and provenance record, or an orphan
// callgraph's blob and meta record.
struct GcItem {
  std::string kind;  // kRuntimeFactsKind or kCallgraphsKind
  std::string tenant;
  std::string id;                 // batchId or graphId
  std::string reason;             // why it is due, for people
  std::vector<std::string> keys;  // CAS objects to remove, sorted
  std::string attestation_key;    // what remains: the batch's envelope or the manifest's
  bool resumed = false;           // finishing a deletion an earlier run started
};

// The batch row's item when it is due at `now_ms`, else nullopt (live and
// young, already expired, or without a readable ingestedAt).
std::optional<GcItem> DueBatch(const nlohmann::json& row, const RetentionPolicy& policy, int64_t now_ms);

// The callgraph row's item when it is an orphan (`referenced` false) due at
// `now_ms`, else nullopt.
std::optional<GcItem> DueCallgraph(const nlohmann::json& row, bool referenced, const RetentionPolicy& policy,
                                   int64_t now_ms);

struct GcOptions {
  int64_t now_ms = 0;    // the time retention is evaluated at
  bool dry_run = false;  // plan only: delete, write and count nothing
  // Checked between objects; when it becomes true the run stops early.
  const std::atomic<bool>* stop = nullptr;
};

struct GcReport {
  int64_t now_ms = 0;
  bool dry_run = false;
  bool interrupted = false;
  std::vector<GcItem> deleted;      // sorted by kind, tenant, id (planned, when dry_run)
  std::vector<std::string> errors;  // objects that could not be deleted, and why

  nlohmann::json ToJson() const;
};

class RetentionGc {
 public:
  explicit RetentionGc(Kernel& kernel);

  // What a run at `now_ms` would delete: unfinished deletions first found in
  // "gc_pending", then due batches and orphan callgraphs, sorted by kind,
  // tenant, id.
  Result<std::vector<GcItem>> Plan(int64_t now_ms);

  // Plans and (unless dry_run) deletes, logs and counts. A failure on one
  // object is reported in GcReport::errors and the run goes on; the run counts
  // as result="error" then. Fails as a whole only when planning fails.
  Result<GcReport> Run(const GcOptions& options);

  // The steps of one object, public so that tests can stop between them as a
  // crash would. Each is idempotent.
  // Steps 1+2 (row due → tombstone → row expired); returns false when the
  // object needs nothing (already expired, gone, or a callgraph that became
  // referenced).
  Result<bool> Expire(const GcItem& item, int64_t deleted_at_ms);
  // Step 1 alone (also done by Expire): the tombstone of `item` for the
  // current row, written or reused; returns its JSON.
  Result<nlohmann::json> WriteTombstone(const GcItem& item, const nlohmann::json& row, int64_t deleted_at_ms);
  // Steps 3+4: removes the blobs of a pending deletion and its "gc_pending" row.
  Status FinishRemoval(const GcItem& item);
  // Removes callgraph tombstones whose rows are live, checked under the index
  // write transaction (which a run holds between its steps 1 and 2 of a
  // callgraph, so a tombstone about to take effect is never taken). Returns
  // the keys removed.
  Result<std::vector<std::string>> RemoveVoidTombstones();

 private:
  Kernel& kernel_;
  RetentionPolicy policy_;
};

}  // namespace signals
