// FactBatchIngest: the runtime-fact pipeline for one batch (kernel/README.md#the-pipeline):
// authorise → validate every line → hash while compressing → store the blob →
// provenance record → sign the attestation → (transparency log) → commit the
// index row → count it.
//
// Bytes stream in through Write() in chunks of any size; memory stays bounded
// by kernel.max_line_bytes and the compressor window whatever the batch size.
// Nothing is visible until Finish() commits the index row: an invalid line, a
// hash mismatch, an abort or a crash leaves no batch behind (objects committed
// before a failure are removed again; after a crash fsck reports them).
// Not thread-safe: one thread drives one ingest.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "attest/attestation.hpp"
#include "base/blob_pipeline.hpp"
#include "base/sha256.hpp"
#include "base/status.hpp"
#include "base/zstd_frame_writer.hpp"
#include "core/kernel.hpp"
#include "model/runtime_fact.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

struct FactIngestRequest {
  std::string tenant;
  std::string callgraph_id;
  std::string source;                        // who produced the facts, e.g. "signalsctl", "agent-x"
  std::string principal;                     // who submitted them
  int64_t received_at_ms = 0;                // when the first byte arrived; 0 = now
  std::optional<std::string> expected_hash;  // "sha256:…" sent by the client

  // Reads {"kind","tenant","callgraphId","source","principal","receivedAt",
  // "provenanceHash"} (the host service API's request JSON).
  static Result<FactIngestRequest> FromJson(const nlohmann::json& request);
};

class FactBatchIngest {
 public:
  // Checks the request (tenant exists, callgraphId names a stored callgraph of
  // the tenant or of `global` — rule "callgraph-exists" —, hash well-formed),
  // makes sure a signer is available, and opens the blob for writing.
  static Result<std::unique_ptr<FactBatchIngest>> Begin(Kernel& kernel, const FactIngestRequest& request);
  // As Begin, but request.callgraph_id may be empty: the JSON form may name
  // its callgraph after its events, which stream in before it is known. Then
  // BindCallgraph must name it before Finish (else rule "required").
  static Result<std::unique_ptr<FactBatchIngest>> BeginUnbound(Kernel& kernel,
                                                               const FactIngestRequest& request);
  // Checks and records the referenced callgraph, as Begin does (rule
  // "callgraph-exists"); naming another graph than the bound one fails (rule
  // "callgraph-id"). A failure is final, as for Write.
  Status BindCallgraph(const std::string& callgraph_id);
  ~FactBatchIngest();
  FactBatchIngest(const FactBatchIngest&) = delete;
  FactBatchIngest& operator=(const FactBatchIngest&) = delete;

  // Feeds the next bytes. A failure (the first invalid line, storage full)
  // is final: Finish() then returns the same Status.
  Status Write(std::string_view chunk);

  // Completes the batch and returns the provenance record (README.md#the-provenance-record).
  Result<nlohmann::json> Finish();

  // Rows that must commit with the batch or not at all: `hook` runs inside the
  // batch's index transaction, after its rows, with the provenance record (an
  // Idempotency-Key's answer, so that a crash can never leave a stored batch
  // whose key would store it again).
  using CommitHook = std::function<Status(IndexStore::Txn& txn, const nlohmann::json& provenance)>;
  void CommitWith(CommitHook hook) { commit_hook_ = std::move(hook); }

  const std::string& batch_id() const { return batch_id_; }
  uint64_t fact_count() const { return fact_count_; }

 private:
  FactBatchIngest(Kernel& kernel, FactIngestRequest request);
  static Result<std::unique_ptr<FactBatchIngest>> Open(Kernel& kernel, const FactIngestRequest& request);
  // "line N: longer than kernel.max_line_bytes", for the line being read.
  Status LineTooLong() const;
  Status ConsumeLine(std::string_view line);
  Status Fail(Status status);
  Result<nlohmann::json> Commit();
  void RemoveCommitted();

  Kernel& kernel_;
  FactIngestRequest request_;
  Signer* signer_ = nullptr;
  std::string batch_id_;
  AttestationSubject callgraph_subject_;  // the referenced graph's blob and digest
  std::unique_ptr<CasStore::Writer> blob_;
  std::unique_ptr<BlobPipeline> pipeline_;  // hash + compress, beside validation
  FactLineValidator validator_;
  size_t max_line_bytes_;
  size_t max_fact_types_;
  std::string partial_line_;  // bytes of a line whose '\n' has not arrived yet
  uint64_t line_number_ = 0;
  uint64_t fact_count_ = 0;
  uint64_t raw_bytes_ = 0;
  std::map<std::string, uint64_t, std::less<>> fact_types_;
  std::vector<std::string> committed_keys_;
  Status failure_;
  bool finished_ = false;
  CommitHook commit_hook_;
};

}  // namespace signals
