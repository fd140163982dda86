// CallgraphIngest. See callgraph_ingest.hpp.
#include "ingest/callgraph_ingest.hpp"

#include <filesystem>

#include "attest/attestation.hpp"
#include "base/base64.hpp"
#include "base/blob_pipeline.hpp"
#include "base/canonical_json.hpp"
#include "base/timestamp.hpp"
#include "base/zstd_frame_writer.hpp"
#include "ingest/callgraph_store.hpp"
#include "ingest/ingest_request.hpp"
#include "model/cas_paths.hpp"
#include "model/index_rows.hpp"
#include "model/purl.hpp"
#include "tlog/tlog_publisher.hpp"

namespace signals {

const std::vector<std::string>& CallgraphLanguages() {
  static const std::vector<std::string> kLanguages = {"dotnet", "java", "javascript", "typescript",
                                                      "python", "go",   "rust",       "ruby",
                                                      "php",    "c",    "cpp",        "binary"};
  return kLanguages;
}

Status ValidateCallgraphLanguage(std::string_view language, std::string_view field) {
  std::string known;
  for (const auto& l : CallgraphLanguages()) {
    if (l == language) return Status::Ok();
    known += (known.empty() ? "" : " ") + l;
  }
  if (language.empty())
    return Status::Invalid("language", std::string(field), "language is required (" + known + ")");
  return Status::Invalid("language", std::string(field),
                         "unknown language '" + std::string(language) + "'; known: " + known);
}

Result<CallgraphIngestRequest> CallgraphIngestRequest::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Invalid("request", "", "ingest request must be a JSON object");
  CallgraphIngestRequest r;
  auto str = [&](const char* name, std::string* out) { return ReadRequestString(j, name, out); };
  std::string kind = "callgraph", format;
  SIGNALS_RETURN_IF_ERROR(str("kind", &kind));
  if (kind != "callgraph") return Status::Invalid("kind", "kind", "unsupported ingest kind '" + kind + "'");
  SIGNALS_RETURN_IF_ERROR(str("tenant", &r.tenant));
  SIGNALS_RETURN_IF_ERROR(str("componentPurl", &r.component_purl));
  SIGNALS_RETURN_IF_ERROR(str("language", &r.language));
  SIGNALS_RETURN_IF_ERROR(str("source", &r.source));
  SIGNALS_RETURN_IF_ERROR(str("principal", &r.principal));
  SIGNALS_RETURN_IF_ERROR(str("format", &format));
  auto parsed = ParseCallgraphInputFormat(format);
  if (!parsed.ok()) return parsed.status();
  r.format = *parsed;
  return r;
}

CallgraphIngest::CallgraphIngest(Kernel& kernel, CallgraphIngestRequest request)
    : kernel_(kernel), request_(std::move(request)) {}

CallgraphIngest::~CallgraphIngest() {
  // An unfinished ingest is an abort: the blob writer discards its temp file.
  blob_.reset();
}

Result<std::unique_ptr<CallgraphIngest>> CallgraphIngest::Begin(Kernel& kernel,
                                                                const CallgraphIngestRequest& request) {
  SIGNALS_RETURN_IF_ERROR(kernel.tenants().Check(request.tenant, "tenant"));
  if (request.component_purl.empty()) {
    return Status::Invalid("required", "componentPurl", "componentPurl is required");
  }
  auto purl = CanonicalPurl(request.component_purl);
  if (!purl.ok()) return purl.status().WithField("componentPurl");
  SIGNALS_RETURN_IF_ERROR(ValidateCallgraphLanguage(request.language));
  CallgraphIngestRequest normalised = request;
  normalised.component_purl = *purl;
  if (normalised.source.empty()) normalised.source = "unspecified";
  SIGNALS_RETURN_IF_ERROR(ValidateIngestSource(normalised.source));

  std::unique_ptr<CallgraphIngest> ingest(new CallgraphIngest(kernel, std::move(normalised)));
  auto signer = kernel.signer();
  if (!signer.ok()) return signer.status();
  ingest->signer_ = *signer;
  auto id = kernel.NewId();
  if (!id.ok()) return id.status();
  ingest->graph_id_ = *id;

  const KernelConfig& config = kernel.config();
  CallgraphCanonicalizerOptions options;
  options.format = ingest->request_.format;
  options.sort_memory_bytes = static_cast<size_t>(config.GetInt("kernel", "callgraph_sort_memory"));
  options.max_document_bytes = static_cast<size_t>(config.GetInt("kernel", "callgraph_max_document_bytes"));
  options.max_line_bytes = static_cast<size_t>(config.GetInt("kernel", "max_line_bytes"));
  options.limits.max_depth = static_cast<size_t>(config.GetInt("kernel", "max_json_depth"));
  options.limits.max_id_bytes = static_cast<size_t>(config.GetInt("kernel", "callgraph_max_id_bytes"));
  options.limits.max_string_bytes =
      static_cast<size_t>(config.GetInt("kernel", "callgraph_max_string_bytes"));
  options.temp_dir = (std::filesystem::path(config.data_dir) / "tmp").string();
  ingest->canonicalizer_ = std::make_unique<CallgraphCanonicalizer>(std::move(options));
  return ingest;
}

Status CallgraphIngest::Fail(Status status) {
  if (failure_.ok()) failure_ = std::move(status);
  blob_.reset();
  canonicalizer_.reset();  // frees sort memory and removes spill files
  return failure_;
}

Status CallgraphIngest::Write(std::string_view chunk) {
  if (!failure_.ok()) return failure_;
  if (finished_) return Status::Internal("write after finish");
  Status s = canonicalizer_->Write(chunk);
  return s.ok() ? s : Fail(s);
}

void CallgraphIngest::RemoveCommitted() {
  for (auto it = committed_keys_.rbegin(); it != committed_keys_.rend(); ++it) {
    (void)kernel_.cas().Remove(*it);
  }
  committed_keys_.clear();
}

Result<CallgraphIngestResult> CallgraphIngest::Existing(const std::string& graph_id) {
  auto manifest = CallgraphStore(kernel_).Manifest(graph_id);
  if (!manifest.ok()) return manifest.status();
  return CallgraphIngestResult{std::move(*manifest), false, graph_id};
}

Result<CallgraphIngestResult> CallgraphIngest::Finish() {
  if (!failure_.ok()) return failure_;
  if (finished_) return Status::Internal("finish called twice");
  finished_ = true;
  MetricsRegistry& metrics = kernel_.metrics();
  auto fail = [&](Status s) -> Status {
    RemoveCommitted();
    metrics.CounterAdd("signals_ingest_failures_total",
                       "kind=callgraph,code=" + std::string(CodeName(s.code())), 1);
    return Fail(std::move(s));
  };

  auto writer = kernel_.cas().PutBegin(cas_paths::CallgraphBlob(request_.tenant, graph_id_));
  if (!writer.ok()) return fail(writer.status());
  blob_ = std::move(*writer);
  CasStore::Writer* blob = blob_.get();
  // Compression runs on a second thread, beside the merge of the sorted
  // records; the canonicalizer hashes the canonical bytes itself. The
  // pipeline is stopped before any failure path drops the blob it writes to.
  auto compressor = std::make_unique<BlobPipeline>(
      static_cast<int>(kernel_.config().GetInt("kernel", "zstd_level")),
      static_cast<size_t>(kernel_.config().GetInt("kernel", "ingest_pipeline_memory")),
      [blob](std::string_view compressed) { return blob->Write(compressed); }, BlobPipeline::Hashing::kNone);
  auto summary =
      canonicalizer_->Finish([&](std::string_view canonical) { return compressor->Write(canonical); });
  Status compressed = summary.ok() ? compressor->Finish() : summary.status();
  const uint64_t compressed_bytes = compressor->bytes_out();
  compressor.reset();
  if (!compressed.ok()) return fail(compressed);
  canonicalizer_.reset();

  CallgraphStore store(kernel_);
  auto existing = store.FindByDigest(request_.tenant, request_.component_purl, summary->digest);
  if (!existing.ok()) return fail(existing.status());
  if (existing->has_value()) {
    blob_.reset();  // discards the new copy
    return Existing(**existing);
  }
  auto result = Commit(*summary, compressed_bytes);
  if (!result.ok()) return fail(result.status());
  return result;
}

Result<CallgraphIngestResult> CallgraphIngest::Commit(const CallgraphSummary& summary,
                                                      uint64_t compressed_bytes) {
  MetricsRegistry& metrics = kernel_.metrics();
  const std::string& tenant = request_.tenant;
  const std::string blob_key = blob_->key();
  SIGNALS_RETURN_IF_ERROR(kernel_.CommitBlob(std::move(blob_)));
  committed_keys_.push_back(blob_key);

  const std::string meta_key = cas_paths::CallgraphMeta(tenant, graph_id_);
  const std::string manifest_key = cas_paths::Manifest(graph_id_);
  const std::string envelope_key = cas_paths::ManifestEnvelope(graph_id_);
  const int64_t created_at_ms = kernel_.NowMs();
  const std::string created_at = FormatRfc3339Millis(created_at_ms);
  const bool sign_manifests = kernel_.config().GetBool("signing", "sign_manifests");

  nlohmann::json meta = {
      {"graphId", graph_id_},
      {"tenantId", tenant},
      {"componentPurl", request_.component_purl},
      {"language", request_.language},
      {"source", request_.source},
      {"digest", summary.digest},
      {"nodeCount", summary.node_count},
      {"edgeCount", summary.edge_count},
      {"createdAt", created_at},
      {"sizeBytes", summary.canonical_bytes},
      {"compressedSizeBytes", compressed_bytes},
      {"blobKey", blob_key},
      // Who stored it and the transparency-log state at ingest (skipReason is
      // set after the submission below): the index row carries both, and
      // reindex takes them from here.
      {"principal",
       request_.principal.empty() ? nlohmann::json(nullptr) : nlohmann::json(request_.principal)},
      {"skipReason", nullptr},
  };
  nlohmann::json entry_points = nlohmann::json::array();
  for (const auto& e : summary.entrypoints) {
    nlohmann::json entry = {{"id", e.id}};
    if (!e.kind.empty()) entry["kind"] = e.kind;
    entry_points.push_back(std::move(entry));
  }
  // The body is what the signature covers (JCS bytes) and what the envelope's
  // predicate holds: the manifest without signature and rekorUuid.
  nlohmann::json body = {
      {"graphId", graph_id_},
      {"digest", summary.digest},
      {"language", request_.language},
      {"source", request_.source},
      {"createdAt", created_at},
      {"tenantId", tenant},
      {"componentPurl", request_.component_purl},
      {"entryPoints", entry_points},
      {"nodeCount", summary.node_count},
      {"edgeCount", summary.edge_count},
      {"signerKeyId", sign_manifests ? nlohmann::json(signer_->key_id()) : nlohmann::json(nullptr)},
  };
  nlohmann::json manifest = body;
  manifest["signature"] = nullptr;
  if (sign_manifests) {
    auto signature = signer_->Sign(CanonicalJson(body));
    if (!signature.ok()) return signature.status();
    manifest["signature"] = Base64Encode(*signature);
  }

  // The envelope first, then the transparency log, then the manifest object:
  // rekorUuid is not signed (kernel/README.md#callgraph-manifest), so the stored manifest can name
  // the entry when it landed during ingest. Later landings update the index
  // row only; reads take rekorUuid from there (CallgraphStore::Manifest).
  nlohmann::json statement =
      MakeStatement({AttestationSubject{cas_paths::CallgraphSubjectName(tenant, graph_id_),
                                        summary.digest.substr(std::string("sha256:").size())}},
                    kCallgraphManifestPredicate, body);
  auto envelope = StoreSignedStatement(*signer_, statement, kernel_.cas(), metrics, envelope_key);
  if (!envelope.ok()) return envelope.status();
  committed_keys_.push_back(envelope_key);

  TlogPublisher* tlog = kernel_.tlog();
  const TlogSubject tlog_subject = TlogSubject::Manifest(graph_id_, tenant);
  const TlogOutcome logged =
      PublishAtIngest(tlog, tlog_subject, *envelope, signer_->public_key_pem(), &committed_keys_);
  // The meta record keeps the log state as of ingest (reindex starts from it).
  meta["skipReason"] = logged.SkipReason();
  SIGNALS_RETURN_IF_ERROR(kernel_.cas().Put(meta_key, CanonicalJson(meta)));
  committed_keys_.push_back(meta_key);
  manifest["rekorUuid"] = logged.RekorUuid();
  SIGNALS_RETURN_IF_ERROR(kernel_.cas().Put(manifest_key, CanonicalJson(manifest)));
  committed_keys_.push_back(manifest_key);

  const nlohmann::json row = CallgraphRow(meta, manifest, "rekor-disabled");
  const nlohmann::json digest_row = CallgraphDigestRow(meta);
  auto txn = kernel_.index().Begin();
  if (!txn.ok()) return txn.status();
  SIGNALS_RETURN_IF_ERROR((*txn)->Insert(kCallgraphCollection, graph_id_, CanonicalJson(row)));
  Status unique = (*txn)->Insert(kCallgraphDigestCollection,
                                 CallgraphStore::DigestKeyOf(tenant, request_.component_purl, summary.digest),
                                 CanonicalJson(digest_row));
  if (unique.code() == Code::kConflict) {
    // An identical graph was committed concurrently: it wins, this copy goes.
    txn->reset();
    RemoveCommitted();
    auto winner = CallgraphStore(kernel_).FindByDigest(tenant, request_.component_purl, summary.digest);
    if (!winner.ok()) return winner.status();
    if (!winner->has_value()) return unique;
    return Existing(**winner);
  }
  SIGNALS_RETURN_IF_ERROR(unique);
  const bool queued = logged.state == TlogOutcome::State::kQueued;
  // Queued with the row, in its transaction: acknowledged means it will be logged.
  if (queued) SIGNALS_RETURN_IF_ERROR(tlog->Enqueue(**txn, tlog_subject, logged));
  SIGNALS_RETURN_IF_ERROR(kernel_.keys().RecordKeyUse(**txn, signer_->key_id(), created_at_ms));
  SIGNALS_RETURN_IF_ERROR((*txn)->Commit());  // the commit point
  committed_keys_.clear();
  if (queued) tlog->NoteEnqueued();

  metrics.CounterAdd("signals_callgraphs_stored_total", "language=" + request_.language + ",tenant=" + tenant,
                     1);
  metrics.HistogramObserve("signals_callgraph_nodes", "language=" + request_.language,
                           static_cast<double>(summary.node_count));
  return CallgraphIngestResult{std::move(manifest), true, graph_id_};
}

}  // namespace signals
