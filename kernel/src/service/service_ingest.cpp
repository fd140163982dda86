// ServiceApi::BeginIngest: streaming uploads with authorisation, the JSON
// {callgraphId, events[]} form (streamed, json_events_reader.hpp), and
// Idempotency-Key replay.
//
// Idempotency: a key is scoped to (principal, tenant). The first request
// records "pending" at begin, so that a concurrent duplicate gets 409 instead
// of a second batch; on success the record becomes "complete" with the body's
// hash and the answer. A later request with the same key and the same body
// hash gets that answer again (nothing new is stored); with another body, 409.
// A pending record names the process that wrote it (pid and start time); one
// whose process is gone, or that is older than a few minutes, is left over
// from a crash and is taken over at once, so that a source restarted after a
// kill -9 can resend its batch with the same key without waiting.
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "base/canonical_json.hpp"
#include "base/sha256.hpp"
#include "base/timestamp.hpp"
#include "core/kernel.hpp"
#include "core/tenant_registry.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "ingest/fact_ingest.hpp"
#include "ingest/json_events_reader.hpp"
#include "model/digest.hpp"
#include "service/service_api.hpp"
#include "service/service_internal.hpp"

namespace signals {
namespace {

constexpr int64_t kStalePendingMs = 10 * 60 * 1000;

// "<pid>:<start time in clock ticks since boot>" of process `pid`, or "" when
// it does not exist. The start time tells a reused pid from the original.
std::string ProcessIdentity(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return "";
  // The command name (field 2) is in parentheses and may hold spaces or ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::to_string(pid) + ":" + field;
  }
  return "";
}

const std::string& ThisProcess() {
  static const std::string identity = ProcessIdentity(static_cast<long>(::getpid()));
  return identity;
}

// Whether the process that wrote a pending record still runs. Records
// without an owner (written before owners were recorded) count as alive:
// only their age retires them.
bool OwnerAlive(const nlohmann::json& record) {
  const std::string owner = record.value("owner", "");
  if (owner.empty()) return true;
  const size_t colon = owner.find(':');
  if (colon == std::string::npos) return true;
  long pid = 0;
  try {
    pid = std::stol(owner.substr(0, colon));
  } catch (...) {
    return true;
  }
  return ProcessIdentity(pid) == owner;
}

struct Idempotency {
  std::string key;          // index key: sha256 of principal, tenant and the client's key
  bool owner = false;       // we wrote the pending record
  nlohmann::json existing;  // the record found at begin, when not owner
};

Result<Idempotency> ClaimIdempotencyKey(Kernel& kernel, const Principal& principal, const std::string& tenant,
                                        const std::string& client_key) {
  if (client_key.empty() || client_key.size() > 256) {
    return Status::Invalid("idempotency-key", "Idempotency-Key",
                           "Idempotency-Key must be 1 to 256 characters");
  }
  Idempotency claim;
  claim.key = Sha256Hex(principal.name + "\n" + tenant + "\n" + client_key);
  const int64_t now = kernel.NowMs();
  const int64_t ttl = kernel.config().GetInt("auth", "idempotency_ttl");
  auto existing = kernel.index().Get("idempotency", claim.key);
  if (existing.ok()) {
    claim.existing = nlohmann::json::parse(*existing, nullptr, false);
    int64_t created = claim.existing.value("createdAtMs", int64_t{0});
    bool stale_pending = claim.existing.value("state", "") == "pending" &&
                         (now - created > kStalePendingMs || !OwnerAlive(claim.existing));
    bool expired = now - created > ttl;
    if (!stale_pending && !expired) return claim;
  } else if (existing.status().code() != Code::kNotFound) {
    return existing.status();
  }
  auto txn = kernel.index().Begin();
  if (!txn.ok()) return txn.status();
  nlohmann::json pending = {{"state", "pending"},
                            {"createdAtMs", now},
                            {"createdAt", FormatRfc3339Millis(now)},
                            {"owner", ThisProcess()}};
  SIGNALS_RETURN_IF_ERROR((*txn)->Upsert("idempotency", claim.key, CanonicalJson(pending)));
  SIGNALS_RETURN_IF_ERROR((*txn)->Commit());
  claim.owner = true;
  claim.existing = nullptr;
  return claim;
}

Status WriteIdempotencyRecord(Kernel& kernel, const std::string& key, const nlohmann::json* record) {
  auto txn = kernel.index().Begin();
  if (!txn.ok()) return txn.status();
  Status s = record ? (*txn)->Upsert("idempotency", key, CanonicalJson(*record))
                    : (*txn)->Remove("idempotency", key);
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  return (*txn)->Commit();
}

// The JSON form streams like NDJSON: JsonEventsReader hands each event, as
// its canonical line, to the same pipeline as soon as it is complete.
// callgraphId may come before or after events; when the events come first
// (and no callgraph_id query parameter named the graph), the batch starts
// unbound and the graph is checked when callgraphId arrives.
class FactIngestSession : public IngestSession, public JsonEventsReader::Handler {
 public:
  FactIngestSession(Kernel& kernel, FactIngestRequest request, bool json_form,
                    std::optional<Idempotency> idem)
      : kernel_(kernel), request_(std::move(request)), json_form_(json_form), idem_(std::move(idem)) {}

  ~FactIngestSession() override {
    if (idem_ && idem_->owner && !finished_) (void)WriteIdempotencyRecord(kernel_, idem_->key, nullptr);
  }

  Status Start() {
    if (idem_ && !idem_->owner) return Status::Ok();  // a replay candidate: only hashed
    if (json_form_) {
      reader_ = std::make_unique<JsonEventsReader>(
          static_cast<size_t>(kernel_.config().GetInt("kernel", "max_line_bytes")),
          static_cast<size_t>(kernel_.config().GetInt("kernel", "max_json_depth")), *this);
      return Status::Ok();
    }
    auto ingest = kernel_.BeginFactIngest(request_);
    if (!ingest.ok()) return ingest.status();
    ingest_ = std::move(*ingest);
    return Status::Ok();
  }

  Status Write(std::string_view chunk) override {
    if (HashesBody()) hasher_.Update(chunk);
    if (idem_ && !idem_->owner) return Status::Ok();
    if (json_form_) return reader_->Write(chunk);
    return ingest_->Write(chunk);
  }

  Result<nlohmann::json> Finish(bool* created) override {
    *created = true;
    std::string body_hash;
    if (HashesBody()) body_hash = DigestFromRaw(hasher_.Finish());
    if (idem_ && !idem_->owner) {
      finished_ = true;
      const nlohmann::json& record = idem_->existing;
      if (record.value("state", "") != "complete") {
        return Status(Code::kConflict,
                      "a request with this Idempotency-Key is still in progress; retry later",
                      "Idempotency-Key", "idempotency-in-progress");
      }
      if (record.value("bodyHash", "") != body_hash) {
        return Status(Code::kConflict, "this Idempotency-Key was used with a different body",
                      "Idempotency-Key", "idempotency-key");
      }
      *created = false;
      return record.value("response", nlohmann::json::object());
    }
    if (json_form_) {
      SIGNALS_RETURN_IF_ERROR(reader_->Finish());
      // No events: the pipeline still says what is wrong (graph, emptiness).
      if (!ingest_) SIGNALS_RETURN_IF_ERROR(BeginPipeline());
    }
    if (idem_) {
      // The answer is remembered in the batch's own index transaction: a
      // crash between two transactions would leave a stored batch whose key
      // is free again, and the client's resend would store it twice.
      ingest_->CommitWith([this, body_hash](IndexStore::Txn& txn, const nlohmann::json& provenance) {
        const int64_t now = kernel_.NowMs();
        // An NDJSON body is stored as received, so the pipeline's
        // provenanceHash already is the body's hash.
        nlohmann::json record = {
            {"state", "complete"},
            {"bodyHash", json_form_ ? body_hash : provenance.value("provenanceHash", "")},
            {"response", provenance},
            {"createdAtMs", now},
            {"createdAt", FormatRfc3339Millis(now)}};
        return txn.Upsert("idempotency", idem_->key, CanonicalJson(record));
      });
    }
    auto result = ingest_->Finish();
    if (!result.ok()) return result.status();
    finished_ = true;
    return result;
  }

 private:
  // The body is hashed here only where the pipeline does not hash it as
  // received: a replay candidate (never ingested) or the JSON form (whose
  // stored blob is derived from the body, not the body).
  bool HashesBody() const { return idem_ && (json_form_ || !idem_->owner); }

  // The JSON form's pipeline, started at its first event (or at the end of a
  // document without any): bound when the graph is known by then.
  Status BeginPipeline() {
    auto ingest = request_.callgraph_id.empty() ? FactBatchIngest::BeginUnbound(kernel_, request_)
                                                : kernel_.BeginFactIngest(request_);
    if (!ingest.ok()) return ingest.status();
    ingest_ = std::move(*ingest);
    return Status::Ok();
  }

  Status CallgraphId(const std::string& id) override {
    if (!request_.callgraph_id.empty() && request_.callgraph_id != id) {
      return Status::Invalid("callgraph-id", "callgraphId",
                             "the body's callgraphId differs from the callgraph_id query parameter");
    }
    if (ingest_ && request_.callgraph_id.empty()) SIGNALS_RETURN_IF_ERROR(ingest_->BindCallgraph(id));
    request_.callgraph_id = id;
    return Status::Ok();
  }

  Status Event(uint64_t index, std::string_view canonical_line) override {
    if (!ingest_) SIGNALS_RETURN_IF_ERROR(BeginPipeline());
    line_.assign(canonical_line);
    line_.push_back('\n');
    Status s = ingest_->Write(line_);
    // The pipeline counts lines; the client sent events[index] (line index + 1),
    // which is no line of its body.
    if (!s.ok()) return s.WithContext("events[" + std::to_string(index) + "]").AtLine(0);
    return Status::Ok();
  }

  Kernel& kernel_;
  FactIngestRequest request_;
  bool json_form_;
  std::optional<Idempotency> idem_;
  std::unique_ptr<FactBatchIngest> ingest_;
  std::unique_ptr<JsonEventsReader> reader_;
  Sha256Hasher hasher_;
  std::string line_;
  bool finished_ = false;
};

class CallgraphIngestSession : public IngestSession {
 public:
  explicit CallgraphIngestSession(std::unique_ptr<CallgraphIngest> ingest) : ingest_(std::move(ingest)) {}
  Status Write(std::string_view chunk) override { return ingest_->Write(chunk); }
  Result<nlohmann::json> Finish(bool* created) override {
    auto result = ingest_->Finish();
    if (!result.ok()) return result.status();
    *created = result->created;
    return result->manifest;
  }

 private:
  std::unique_ptr<CallgraphIngest> ingest_;
};

Result<std::unique_ptr<IngestSession>> BeginCallgraphIngest(Kernel& kernel, const nlohmann::json& request,
                                                            const Principal& principal) {
  auto parsed = CallgraphIngestRequest::FromJson(request);
  if (!parsed.ok()) return parsed.status();
  CallgraphIngestRequest graph_request = std::move(*parsed);
  graph_request.principal = principal.name;
  SIGNALS_RETURN_IF_ERROR(ValidateTenantName(graph_request.tenant, "tenant"));
  SIGNALS_RETURN_IF_ERROR(
      Authorize(kernel.policy(), principal, graph_request.tenant, Resource::kCallgraphs, Action::kWrite));
  auto ingest = CallgraphIngest::Begin(kernel, graph_request);
  if (!ingest.ok()) return ingest.status();
  return std::unique_ptr<IngestSession>(new CallgraphIngestSession(std::move(*ingest)));
}

}  // namespace

Result<std::unique_ptr<IngestSession>> ServiceApi::BeginIngest(const nlohmann::json& request,
                                                               const Principal& principal) {
  using namespace service_internal;
  SIGNALS_RETURN_IF_ERROR(RequireAuthenticated(principal));
  auto kind = StringArg(request, "kind", false);
  if (!kind.ok()) return kind.status();
  if (*kind == "callgraph") return BeginCallgraphIngest(kernel_, request, principal);
  if (!kind->empty() && *kind != "runtime-facts") {
    return Status::Invalid("kind", "kind", "unsupported ingest kind '" + *kind + "'");
  }
  auto parsed = FactIngestRequest::FromJson(request);
  if (!parsed.ok()) return parsed.status();
  FactIngestRequest fact_request = std::move(*parsed);
  fact_request.principal = principal.name;
  SIGNALS_RETURN_IF_ERROR(AuthorizeFactWrite(kernel_, principal, fact_request.tenant));
  auto format = StringArg(request, "format", false);
  if (!format.ok()) return format.status();
  if (!format->empty() && *format != "ndjson" && *format != "json") {
    return Status(Code::kUnsupportedMedia,
                  "runtime facts are NDJSON or a JSON {callgraphId, events[]} document", "format",
                  "media-type");
  }
  std::optional<Idempotency> idem;
  auto client_key = StringArg(request, "idempotencyKey", false);
  if (!client_key.ok()) return client_key.status();
  if (!client_key->empty()) {
    auto claim = ClaimIdempotencyKey(kernel_, principal, fact_request.tenant, *client_key);
    if (!claim.ok()) return claim.status();
    idem = std::move(*claim);
  }
  auto session = std::make_unique<FactIngestSession>(kernel_, std::move(fact_request), *format == "json",
                                                     std::move(idem));
  SIGNALS_RETURN_IF_ERROR(session->Start());
  return std::unique_ptr<IngestSession>(std::move(session));
}

}  // namespace signals
