#include "ingest/fact_ingest.hpp"

#include <cstring>

#include "attest/attestation.hpp"
#include "base/canonical_json.hpp"
#include "base/timestamp.hpp"
#include "ingest/callgraph_store.hpp"
#include "ingest/ingest_request.hpp"
#include "model/cas_paths.hpp"
#include "model/digest.hpp"
#include "model/index_rows.hpp"
#include "retention/retention.hpp"
#include "tlog/tlog_publisher.hpp"

#ifndef SIGNALS_PIPELINE_VERSION
#define SIGNALS_PIPELINE_VERSION "unknown"
#endif

namespace signals {
namespace {

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// A batch may not reference a callgraph that retention deleted: its
// attestation would name a graph nobody can read.
Status RequireLiveCallgraph(const nlohmann::json& graph) {
  if (!IsExpired(graph)) return Status::Ok();
  return Status::Invalid("callgraph-exists", "callgraphId",
                         "callgraph " + graph.value("graphId", "") + " was deleted by retention at " +
                             graph.value("expiredAt", "") +
                             "; store the graph again and reference the new graphId");
}

}  // namespace

Result<FactIngestRequest> FactIngestRequest::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Invalid("request", "", "ingest request must be a JSON object");
  FactIngestRequest r;
  auto str = [&](const char* name, std::string* out) { return ReadRequestString(j, name, out); };
  std::string kind = "runtime-facts", received_at, hash;
  SIGNALS_RETURN_IF_ERROR(str("kind", &kind));
  if (kind != "runtime-facts") {
    return Status::Invalid("kind", "kind", "unsupported ingest kind '" + kind + "'");
  }
  SIGNALS_RETURN_IF_ERROR(str("tenant", &r.tenant));
  SIGNALS_RETURN_IF_ERROR(str("callgraphId", &r.callgraph_id));
  SIGNALS_RETURN_IF_ERROR(str("source", &r.source));
  SIGNALS_RETURN_IF_ERROR(str("principal", &r.principal));
  SIGNALS_RETURN_IF_ERROR(str("receivedAt", &received_at));
  SIGNALS_RETURN_IF_ERROR(str("provenanceHash", &hash));
  if (!received_at.empty()) {
    auto t = ParseRfc3339(received_at);
    if (!t.ok()) return t.status().WithField("receivedAt");
    r.received_at_ms = *t;
  }
  if (!hash.empty()) r.expected_hash = hash;
  return r;
}

FactBatchIngest::FactBatchIngest(Kernel& kernel, FactIngestRequest request)
    : kernel_(kernel),
      request_(std::move(request)),
      validator_(static_cast<size_t>(kernel.config().GetInt("kernel", "max_line_bytes")),
                 static_cast<size_t>(kernel.config().GetInt("kernel", "max_json_depth"))),
      max_line_bytes_(static_cast<size_t>(kernel.config().GetInt("kernel", "max_line_bytes"))),
      max_fact_types_(static_cast<size_t>(kernel.config().GetInt("kernel", "max_fact_types"))) {}

FactBatchIngest::~FactBatchIngest() {
  // An unfinished ingest is an abort: the blob writer discards its temp file
  // (after the pipeline's worker, which writes to it, has stopped).
  pipeline_.reset();
  blob_.reset();
}

Result<std::unique_ptr<FactBatchIngest>> FactBatchIngest::Begin(Kernel& kernel,
                                                                const FactIngestRequest& request) {
  SIGNALS_RETURN_IF_ERROR(kernel.tenants().Check(request.tenant, "tenant"));
  if (request.callgraph_id.empty()) {
    return Status::Invalid("required", "callgraphId", "callgraphId is required");
  }
  return Open(kernel, request);
}

Result<std::unique_ptr<FactBatchIngest>> FactBatchIngest::BeginUnbound(Kernel& kernel,
                                                                       const FactIngestRequest& request) {
  SIGNALS_RETURN_IF_ERROR(kernel.tenants().Check(request.tenant, "tenant"));
  return Open(kernel, request);
}

Result<std::unique_ptr<FactBatchIngest>> FactBatchIngest::Open(Kernel& kernel,
                                                               const FactIngestRequest& request) {
  FactIngestRequest normalised = request;
  normalised.callgraph_id.clear();  // set by BindCallgraph once checked
  if (normalised.source.empty()) normalised.source = "unspecified";
  std::unique_ptr<FactBatchIngest> ingest(new FactBatchIngest(kernel, std::move(normalised)));
  if (!request.callgraph_id.empty()) SIGNALS_RETURN_IF_ERROR(ingest->BindCallgraph(request.callgraph_id));
  SIGNALS_RETURN_IF_ERROR(ValidateIngestSource(ingest->request_.source));
  if (ingest->request_.expected_hash) {
    SIGNALS_RETURN_IF_ERROR(ValidateDigest(*ingest->request_.expected_hash, "provenanceHash"));
  }
  if (ingest->request_.received_at_ms == 0) ingest->request_.received_at_ms = kernel.NowMs();

  auto signer = kernel.signer();
  if (!signer.ok()) return signer.status();
  ingest->signer_ = *signer;
  auto id = kernel.NewId();
  if (!id.ok()) return id.status();
  ingest->batch_id_ = *id;
  auto writer = kernel.cas().PutBegin(cas_paths::FactBlob(ingest->request_.tenant, ingest->batch_id_));
  if (!writer.ok()) return writer.status();
  ingest->blob_ = std::move(*writer);
  CasStore::Writer* blob = ingest->blob_.get();
  ingest->pipeline_ = std::make_unique<BlobPipeline>(
      static_cast<int>(kernel.config().GetInt("kernel", "zstd_level")),
      static_cast<size_t>(kernel.config().GetInt("kernel", "ingest_pipeline_memory")),
      [blob](std::string_view compressed) { return blob->Write(compressed); });
  return ingest;
}

Status FactBatchIngest::BindCallgraph(const std::string& callgraph_id) {
  if (!failure_.ok()) return failure_;
  if (!request_.callgraph_id.empty()) {
    if (request_.callgraph_id == callgraph_id) return Status::Ok();
    return Fail(Status::Invalid(
        "callgraph-id", "callgraphId",
        "the batch already names callgraph " + request_.callgraph_id + ", not " + callgraph_id));
  }
  if (callgraph_id.empty())
    return Fail(Status::Invalid("required", "callgraphId", "callgraphId is required"));
  Status s = ValidateUlid(callgraph_id, "callgraphId");
  if (!s.ok()) return Fail(s);
  // The graph must exist for this tenant (or globally): a 400 naming the field.
  auto graph = CallgraphStore(kernel_).RecordVisibleTo(request_.tenant, callgraph_id, "callgraphId");
  if (!graph.ok()) return Fail(graph.status());
  s = RequireLiveCallgraph(*graph);
  if (!s.ok()) return Fail(s);
  callgraph_subject_ =
      AttestationSubject{cas_paths::CallgraphSubjectName(graph->value("tenantId", ""), callgraph_id),
                         graph->value("digest", "").substr(kSha256DigestPrefix.size())};
  request_.callgraph_id = callgraph_id;
  return Status::Ok();
}

Status FactBatchIngest::Fail(Status status) {
  if (failure_.ok()) failure_ = status;
  pipeline_.reset();  // stops the worker before its sink goes away
  blob_.reset();
  return failure_;
}

Status FactBatchIngest::ConsumeLine(std::string_view line) {
  ++line_number_;
  if (IsBlank(line)) return Status::Ok();
  std::string_view fact_type;
  SIGNALS_RETURN_IF_ERROR(validator_.Check(line, line_number_, &fact_type));
  ++fact_count_;
  auto it = fact_types_.find(fact_type);
  if (it != fact_types_.end()) {
    ++it->second;
  } else {
    if (fact_types_.size() >= max_fact_types_) {
      return Status::Invalid("max-fact-types", "factType",
                             "line " + std::to_string(line_number_) + ": more than " +
                                 std::to_string(max_fact_types_) + " distinct factType values in one batch")
          .AtLine(line_number_);
    }
    fact_types_.emplace(std::string(fact_type), 1);
  }
  return Status::Ok();
}

Status FactBatchIngest::LineTooLong() const {
  return Status::Invalid("max-line-bytes", "",
                         "line " + std::to_string(line_number_ + 1) + ": longer than " +
                             std::to_string(max_line_bytes_) + " bytes (kernel.max_line_bytes)")
      .AtLine(line_number_ + 1);
}

Status FactBatchIngest::Write(std::string_view chunk) {
  if (!failure_.ok()) return failure_;
  if (finished_) return Status::Internal("write after finish");
  raw_bytes_ += chunk.size();
  Status s = pipeline_->Write(chunk);
  if (!s.ok()) return Fail(s);

  size_t start = 0;
  while (start < chunk.size()) {
    const void* nl = std::memchr(chunk.data() + start, '\n', chunk.size() - start);
    if (nl == nullptr) {
      size_t rest = chunk.size() - start;
      if (partial_line_.size() + rest > max_line_bytes_) {
        return Fail(LineTooLong());
      }
      partial_line_.append(chunk.data() + start, rest);
      break;
    }
    size_t end = static_cast<size_t>(static_cast<const char*>(nl) - chunk.data());
    Status line_status;
    if (partial_line_.empty()) {
      if (end - start > max_line_bytes_) {
        return Fail(LineTooLong());
      }
      line_status = ConsumeLine(chunk.substr(start, end - start));
    } else {
      if (partial_line_.size() + (end - start) > max_line_bytes_) {
        return Fail(LineTooLong());
      }
      partial_line_.append(chunk.data() + start, end - start);
      line_status = ConsumeLine(partial_line_);
      partial_line_.clear();
    }
    if (!line_status.ok()) return Fail(line_status);
    start = end + 1;
  }
  return Status::Ok();
}

void FactBatchIngest::RemoveCommitted() {
  for (auto it = committed_keys_.rbegin(); it != committed_keys_.rend(); ++it) {
    (void)kernel_.cas().Remove(*it);
  }
  committed_keys_.clear();
}

Result<nlohmann::json> FactBatchIngest::Finish() {
  if (!failure_.ok()) return failure_;
  if (finished_) return Status::Internal("finish called twice");
  finished_ = true;
  if (!partial_line_.empty()) {
    Status s = ConsumeLine(partial_line_);
    partial_line_.clear();
    if (!s.ok()) return Fail(s);
  }
  if (request_.callgraph_id.empty()) {
    return Fail(Status::Invalid("required", "callgraphId", "callgraphId is required"));
  }
  if (fact_count_ == 0) {
    return Fail(Status::Invalid("non-empty", "body", "the batch contains no runtime facts"));
  }
  auto result = Commit();
  if (!result.ok()) {
    RemoveCommitted();
    kernel_.metrics().CounterAdd("signals_ingest_failures_total",
                                 "kind=runtime-facts,code=" + std::string(CodeName(result.status().code())),
                                 1);
    return Fail(result.status());
  }
  return result;
}

Result<nlohmann::json> FactBatchIngest::Commit() {
  MetricsRegistry& metrics = kernel_.metrics();
  SIGNALS_RETURN_IF_ERROR(pipeline_->Finish());
  const std::string provenance_hash = DigestFromRaw(pipeline_->digest());
  if (request_.expected_hash && *request_.expected_hash != provenance_hash) {
    return Status(Code::kHashMismatch,
                  "the client's hash " + *request_.expected_hash +
                      " does not match the received bytes' hash " + provenance_hash,
                  "provenanceHash", "provenance-hash");
  }
  const std::string& tenant = request_.tenant;
  const std::string blob_key = blob_->key();
  SIGNALS_RETURN_IF_ERROR(kernel_.CommitBlob(std::move(blob_)));
  committed_keys_.push_back(blob_key);

  const std::string bucket = kernel_.BucketUri();
  const std::string provenance_key = cas_paths::FactProvenance(tenant, batch_id_);
  const std::string attestation_key = cas_paths::BatchAttestation(batch_id_);
  nlohmann::json fact_types = nlohmann::json::array();
  for (const auto& [type, count] : fact_types_) fact_types.push_back(type);
  // ingestedAt is taken just before the commit sequence; the records it goes
  // into are immutable and must exist before the index row that commits them.
  const int64_t ingested_at_ms = kernel_.NowMs();
  const std::string ingested_at = FormatRfc3339Millis(ingested_at_ms);
  const std::string received_at = FormatRfc3339Millis(request_.received_at_ms);

  nlohmann::json predicate = {
      {"batchId", batch_id_},
      {"tenantId", tenant},
      {"callgraphId", request_.callgraph_id},
      {"source", request_.source},
      {"provenanceHash", provenance_hash},
      {"factCount", fact_count_},
      {"factTypes", fact_types},
      {"receivedAt", received_at},
      {"ingestedAt", ingested_at},
      {"pipelineVersion", SIGNALS_PIPELINE_VERSION},
      {"blobUri", bucket + "/" + blob_key},
  };
  nlohmann::json statement =
      MakeStatement({AttestationSubject{cas_paths::FactSubjectName(tenant, batch_id_),
                                        provenance_hash.substr(std::string("sha256:").size())},
                     callgraph_subject_},
                    kRuntimeFactsPredicate, predicate);
  auto envelope = StoreSignedStatement(*signer_, statement, kernel_.cas(), metrics, attestation_key);
  if (!envelope.ok()) return envelope.status();
  committed_keys_.push_back(attestation_key);

  // Step 6: one bounded attempt at the transparency log. Whatever it says,
  // ingest goes on; the provenance record keeps the outcome as of ingest,
  // the index row the current one.
  TlogPublisher* tlog = kernel_.tlog();
  const TlogSubject tlog_subject = TlogSubject::Batch(batch_id_, tenant);
  const TlogOutcome logged =
      PublishAtIngest(tlog, tlog_subject, *envelope, signer_->public_key_pem(), &committed_keys_);

  nlohmann::json provenance = predicate;
  provenance["provenanceId"] = batch_id_;
  provenance["principal"] =
      request_.principal.empty() ? nlohmann::json(nullptr) : nlohmann::json(request_.principal);
  provenance["sizeBytes"] = raw_bytes_;
  provenance["compressedSizeBytes"] = pipeline_->bytes_out();
  provenance["attestationUri"] = bucket + "/" + attestation_key;
  provenance["signerKeyId"] = signer_->key_id();
  provenance["rekorUuid"] = logged.RekorUuid();
  provenance["skipReason"] = logged.SkipReason();
  const std::string provenance_json = CanonicalJson(provenance);
  SIGNALS_RETURN_IF_ERROR(kernel_.cas().Put(provenance_key, provenance_json));
  committed_keys_.push_back(provenance_key);

  auto txn = kernel_.index().Begin();
  if (!txn.ok()) return txn.status();
  // Re-checked under the write transaction, which retention GC holds while it
  // expires an orphan callgraph: either GC saw this batch, or this sees GC's
  // mark (retention_gc.hpp).
  auto graph = CallgraphStore(kernel_).Record(request_.callgraph_id);
  if (!graph.ok()) return graph.status();
  SIGNALS_RETURN_IF_ERROR(RequireLiveCallgraph(*graph));
  SIGNALS_RETURN_IF_ERROR((*txn)->Insert(kBatchCollection, batch_id_, CanonicalJson(BatchRow(provenance))));
  const bool queued = logged.state == TlogOutcome::State::kQueued;
  // Queued with the row, in its transaction: acknowledged means it will be logged.
  if (queued) SIGNALS_RETURN_IF_ERROR(tlog->Enqueue(**txn, tlog_subject, logged));
  SIGNALS_RETURN_IF_ERROR(kernel_.keys().RecordKeyUse(**txn, signer_->key_id(), ingested_at_ms));
  if (commit_hook_) SIGNALS_RETURN_IF_ERROR(commit_hook_(**txn, provenance));
  SIGNALS_RETURN_IF_ERROR((*txn)->Commit());  // the commit point
  committed_keys_.clear();
  if (queued) tlog->NoteEnqueued();

  metrics.CounterAdd("signals_runtime_fact_batches_ingested_total", "tenant=" + tenant, 1);
  metrics.CounterAdd("signals_provenance_records_total", "", 1);
  metrics.HistogramObserve("signals_runtime_facts_batch_size", "", static_cast<double>(fact_count_));
  // Client-chosen types are counted together as "other" (FactTypeMetricLabel):
  // the label set stays fixed whatever the clients send.
  std::map<std::string_view, uint64_t> by_label;
  for (const auto& [type, count] : fact_types_) by_label[FactTypeMetricLabel(type)] += count;
  for (const auto& [label, count] : by_label) {
    metrics.CounterAdd("signals_runtime_facts_ingested_total",
                       "fact_type=" + std::string(label) + ",tenant=" + tenant, static_cast<double>(count));
  }
  return provenance;
}

}  // namespace signals
