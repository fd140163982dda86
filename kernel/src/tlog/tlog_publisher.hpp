// TlogPublisher: the pipeline's side of the transparency log (README.md#transparency-log-rekor-v1).
// It submits a stored DSSE envelope through the [tlog] instance, accepts the
// entry the log returns only when VerifyRekorEntry passes against the log's
// key, and stores that entry as the immutable CAS object next to the envelope
// (attestations/{batchId}.rekor.json, manifests/{graphId}.rekor.json). What
// could not land waits in the durable retry queue, index collection
// "tlog_queue", keyed by the envelope's CAS key:
//   {envelopeKey, kind: "batch"|"manifest", id, tenantId, entryKey,
//    enqueuedAt, attempts, nextAttemptAt, lastError}
// Ingest adds the queue row in the same index transaction as the batch or
// callgraph row, so an acknowledged submission is never lost; RetryDue()
// (called by signalsd's retry loop, a BackgroundLoop) lands it later and, in one transaction, sets the
// row's rekorUuid, clears its skipReason and deletes the queue row.
//
// Crash safety rests on the log: a resubmitted envelope yields the entry the
// log already holds (tlog-rekor turns Rekor's 409 into that entry), so a
// crash between "the log took it" and "the queue row is gone" costs one more
// request, never a second entry. An entry object already stored is reused
// without asking the log at all.
//
// Metrics: signals_tlog_submissions_total{result="ok"|"retry"|"rejected"|
// "invalid"} per submission, gauge signals_tlog_queue_depth = queue rows.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "model/index_rows.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

class Kernel;

// What one submission logs and where its results go.
struct TlogSubject {
  enum class Kind { kBatch, kManifest };
  Kind kind = Kind::kBatch;
  std::string id;  // batchId or graphId
  std::string tenant_id;
  std::string envelope_key;  // the DSSE envelope's CAS key (the queue key)
  std::string entry_key;     // where the entry object goes

  static TlogSubject Batch(const std::string& batch_id, const std::string& tenant_id);
  static TlogSubject Manifest(const std::string& graph_id, const std::string& tenant_id);
  const char* kind_name() const;   // "batch" | "manifest"
  const char* collection() const;  // "batches" | "callgraphs"
};

// The result of one attempt.
struct TlogOutcome {
  enum class State { kLogged, kQueued, kRejected, kDisabled };
  State state = State::kDisabled;
  std::string uuid;                  // kLogged: the entry uuid
  std::string reason;                // kQueued: why it did not land; kRejected: the log's reason
  bool stored_entry_object = false;  // kLogged: this attempt created the entry object

  // The row's skipReason: null when logged, else "rekor-disabled",
  // "rekor-unavailable" or "rekor-rejected: <reason>".
  nlohmann::json SkipReason() const;
  nlohmann::json RekorUuid() const;
};

class TlogPublisher {
 public:
  // REQUIRES: client was created from the [tlog] section.
  TlogPublisher(Kernel& kernel, std::unique_ptr<TlogClient> client, int64_t retry_max_interval_ms);
  TlogPublisher(const TlogPublisher&) = delete;
  TlogPublisher& operator=(const TlogPublisher&) = delete;

  // Reads the log's key from the plugin and publishes the queue depth.
  Status Init();

  // One attempt, bounded by the plugin's timeout: submits `envelope_json`
  // (the stored envelope's exact bytes) signed by `signer_public_key_pem`.
  // kLogged: the entry verified and is stored at subject.entry_key. kQueued:
  // the log was unreachable, slow, failing, or returned an entry that does not
  // verify. kRejected: the log refused the entry (4xx). Never fails ingest.
  TlogOutcome Publish(const TlogSubject& subject, std::string_view envelope_json,
                      const std::string& signer_public_key_pem);

  // Adds the queue row of a kQueued outcome to `txn` (the ingest's own).
  Status Enqueue(IndexStore::Txn& txn, const TlogSubject& subject, const TlogOutcome& outcome);

  // Sets signals_tlog_queue_depth to the number of queue rows (a scan: at
  // start-up and after each retry pass, which also sees other processes' rows).
  void RefreshQueueDepth();
  // Adds one to the gauge for a queue row just committed, without a scan (an
  // ingest during an outage must not read the whole queue).
  void NoteEnqueued();

  // Attempts every queue row that is due. Returns how long to wait (ms)
  // before the next row is due, bounded to [50 ms, 5 s] so new rows from
  // other processes are noticed. When `stop` becomes true it returns between
  // two rows, so that a shutdown during an outage waits for one submission at most.
  int64_t RetryDue(const std::atomic<bool>* stop = nullptr);

  // The backoff before attempt `attempts` + 1: 1 s doubled per attempt, capped
  // at retry_max_interval, then jittered to a uniform value in [half, full].
  int64_t BackoffMs(int64_t attempts);

  PluginInstance& instance() { return client_->instance(); }

  // Records that a queued submission landed (its entry object is stored): in
  // one transaction the row gets rekorUuid (unless retention expired it) and
  // the queue row goes.
  Status Land(const TlogSubject& subject, const TlogOutcome& outcome);

 private:
  // A stored entry object that verifies for this envelope, or nullopt.
  std::optional<std::string> VerifiedStoredEntry(const TlogSubject& subject, std::string_view envelope_json);
  Status Verify(const nlohmann::json& entry, std::string_view envelope_json);
  Status RetryOne(const nlohmann::json& queued);
  // Counts an attempt on a queue row and schedules the next one.
  Status Postpone(const nlohmann::json& queued, const std::string& reason);

  Kernel& kernel_;
  std::unique_ptr<TlogClient> client_;
  int64_t retry_max_interval_ms_;
  std::atomic<int64_t> queue_depth_{0};  // what the gauge shows
};

// The ingest-time attempt (pipeline step 6): kDisabled when `tlog` is null
// (provenance.rekor_enabled = false), else tlog->Publish. An entry object it
// stores is appended to `created_keys`, so that a failed commit removes it.
TlogOutcome PublishAtIngest(TlogPublisher* tlog, const TlogSubject& subject, std::string_view envelope_json,
                            const std::string& signer_public_key_pem, std::vector<std::string>* created_keys);

}  // namespace signals
