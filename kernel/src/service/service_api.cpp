// ServiceApi: authentication, the op table and the core JSON operations.
// Streams live in service_objects.cpp, ingests in service_ingest.cpp; the
// reachability operations are registered by the analysis library
// (analysis/analysis_ops.cpp).
#include "service/service_api.hpp"

#include "attest/dsse.hpp"
#include "base/canonical_json.hpp"
#include "base/ulid.hpp"
#include "core/kernel.hpp"
#include "core/tenant_registry.hpp"
#include "ingest/callgraph_store.hpp"
#include "model/cas_paths.hpp"
#include "model/purl.hpp"
#include "retention/retention.hpp"
#include "service/service_internal.hpp"
#include "tlog/bundle_export.hpp"

#include <algorithm>

namespace signals {

Result<Principal> ServiceApi::Authenticate(const nlohmann::json& request, bool trusted) {
  if (trusted) return Principal{"signals-service", {}, true};
  auto credentials = request.find("credentials");
  if (credentials == request.end() || !credentials->is_object() || !credentials->contains("bearer") ||
      !(*credentials)["bearer"].is_string()) {
    return Principal{"anonymous", {}, false};
  }
  return kernel_.tokens().Authenticate((*credentials)["bearer"].get<std::string>());
}

namespace service_internal {

Status RequireAuthenticated(const Principal& principal) {
  if (principal.trusted || principal.name != "anonymous") return Status::Ok();
  return Status(Code::kUnauthenticated,
                "this operation needs a bearer token (Authorization: Bearer <token>)");
}

Status AuthorizeFactWrite(Kernel& kernel, const Principal& principal, const std::string& tenant) {
  SIGNALS_RETURN_IF_ERROR(ValidateTenantName(tenant, "tenant"));
  SIGNALS_RETURN_IF_ERROR(
      Authorize(kernel.policy(), principal, tenant, Resource::kRuntimeFacts, Action::kWrite));
  return kernel.tenants().Check(tenant, "tenant");
}

Result<std::string> StringArg(const nlohmann::json& request, const char* name, bool required) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) {
    if (required) return Status::Invalid("required", name, std::string(name) + " is required");
    return std::string();
  }
  if (!it->is_string()) return Status::Invalid("type", name, std::string(name) + " must be a string");
  return it->get<std::string>();
}

Result<nlohmann::json> LoadBatchRow(Kernel& kernel, const nlohmann::json& request, const Principal& principal,
                                    Resource resource) {
  SIGNALS_RETURN_IF_ERROR(RequireAuthenticated(principal));
  auto batch_id = StringArg(request, "batchId", true);
  if (!batch_id.ok()) return batch_id.status();
  SIGNALS_RETURN_IF_ERROR(ValidateUlid(*batch_id, "batchId"));
  auto row = kernel.index().Get("batches", *batch_id);
  if (!row.ok()) {
    if (row.status().code() == Code::kNotFound) return Status::NotFound("batch " + *batch_id + " not found");
    return row.status();
  }
  auto doc = nlohmann::json::parse(*row, nullptr, false);
  if (!doc.is_object()) return Status::Internal("index row of batch " + *batch_id + " is malformed");
  Status allowed = Authorize(kernel.policy(), principal, doc.value("tenantId", ""), resource, Action::kRead);
  if (!allowed.ok()) {
    // A principal that may not see the tenant learns nothing about the batch.
    if (allowed.rule() == "tenant-binding") return Status::NotFound("batch " + *batch_id + " not found");
    return allowed;
  }
  return doc;
}

Result<nlohmann::json> LoadCallgraphRecord(Kernel& kernel, const nlohmann::json& request,
                                           const Principal& principal, Resource resource) {
  SIGNALS_RETURN_IF_ERROR(RequireAuthenticated(principal));
  auto graph_id = StringArg(request, "graphId", true);
  if (!graph_id.ok()) return graph_id.status();
  SIGNALS_RETURN_IF_ERROR(ValidateUlid(*graph_id, "graphId"));
  auto record = CallgraphStore(kernel).Record(*graph_id);
  if (!record.ok()) return record.status();
  Status allowed =
      Authorize(kernel.policy(), principal, record->value("tenantId", ""), resource, Action::kRead);
  if (!allowed.ok()) {
    if (allowed.rule() == "tenant-binding") return Status::NotFound("callgraph " + *graph_id + " not found");
    return allowed;
  }
  return record;
}

}  // namespace service_internal

namespace {

using service_internal::LoadBatchRow;
using service_internal::LoadCallgraphRecord;
using service_internal::RequireAuthenticated;
using service_internal::StringArg;

Result<nlohmann::json> Health(Kernel&, const nlohmann::json&, const Principal&) {
  return nlohmann::json{{"status", "ok"}};
}

Result<nlohmann::json> Ready(Kernel& kernel, const nlohmann::json&, const Principal&) {
  nlohmann::json instances = nlohmann::json::object();
  bool ready = true;
  std::string failing;
  for (const auto& [section, status] : kernel.Health()) {
    instances[section] = status.ok() ? "ok" : status.message();
    if (!status.ok()) {
      ready = false;
      failing += (failing.empty() ? "" : "; ") + status.message();
    }
  }
  if (!ready) return Status(Code::kUnavailable, "not ready: " + failing);
  return nlohmann::json{{"status", "ready"}, {"instances", instances}};
}

// Public, like a scrape endpoint: counts only, no tenant data.
Result<nlohmann::json> Metrics(Kernel& kernel, const nlohmann::json&, const Principal&) {
  return kernel.RenderMetrics();
}

Result<nlohmann::json> MetricsSnapshot(Kernel& kernel, const nlohmann::json&, const Principal&) {
  return kernel.MetricsSnapshot();
}

Result<nlohmann::json> KeysList(Kernel& kernel, const nlohmann::json&, const Principal&) {
  auto keys = kernel.keys().List();
  if (!keys.ok()) return keys.status();
  nlohmann::json out = nlohmann::json::array();
  for (auto& k : *keys) out.push_back(k);
  return nlohmann::json{{"keys", out}};
}

Result<nlohmann::json> BatchProvenance(Kernel& kernel, const nlohmann::json& request,
                                       const Principal& principal) {
  auto row = LoadBatchRow(kernel, request, principal, Resource::kRuntimeFacts);
  if (!row.ok()) return row.status();
  SIGNALS_RETURN_IF_ERROR(GoneIfExpired(kRuntimeFactsKind, *row));
  auto text = kernel.cas().ReadAll(row->value("provenanceKey", ""));
  if (!text.ok()) {
    return GoneIfExpiredSince(kernel.index(), kRuntimeFactsKind, row->value("batchId", ""), text.status());
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object()) return Status::Internal("provenance record is malformed");
  // The stored record is immutable and says what was known at ingest; the
  // row has the current transparency-log state (an entry may land later).
  for (const char* member : {"rekorUuid", "skipReason"}) {
    if (row->contains(member)) doc[member] = (*row)[member];
  }
  return doc;
}

Result<nlohmann::json> BatchAttestation(Kernel& kernel, const nlohmann::json& request,
                                        const Principal& principal) {
  auto format = StringArg(request, "format", false);
  if (!format.ok()) return format.status();
  if (!format->empty() && *format != "dsse" && *format != "sigstore-bundle") {
    return Status::Invalid("format", "format", "format must be dsse or sigstore-bundle");
  }
  auto row = LoadBatchRow(kernel, request, principal, Resource::kAttestations);
  if (!row.ok()) return row.status();
  if (*format == "sigstore-bundle") {
    // Sigstore bundle v0.3: the envelope, the signing key named by its
    // hint, and the log entry when the attestation was logged.
    return ExportStoredBundle(kernel, row->value("attestationKey", ""),
                              cas_paths::BatchRekorEntry(row->value("batchId", "")));
  }
  auto text = kernel.cas().ReadAll(row->value("attestationKey", ""));
  if (!text.ok()) return text.status();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object()) return Status::Internal("attestation envelope is malformed");
  return doc;
}

Result<nlohmann::json> CallgraphManifest(Kernel& kernel, const nlohmann::json& request,
                                         const Principal& principal) {
  auto format = StringArg(request, "format", false);
  if (!format.ok()) return format.status();
  bool bundle = *format == "sigstore-bundle";
  bool dsse = *format == "dsse" || bundle;
  if (!format->empty() && !dsse && *format != "json") {
    return Status::Invalid("format", "format", "format must be json, dsse or sigstore-bundle");
  }
  auto record =
      LoadCallgraphRecord(kernel, request, principal, dsse ? Resource::kAttestations : Resource::kManifests);
  if (!record.ok()) return record.status();
  if (bundle) {
    const std::string graph_id = record->value("graphId", "");
    return ExportStoredBundle(kernel, cas_paths::ManifestEnvelope(graph_id),
                              cas_paths::ManifestRekorEntry(graph_id));
  }
  CallgraphStore store(kernel);
  if (dsse) {
    auto envelope = store.ManifestEnvelope(record->value("graphId", ""));
    if (!envelope.ok()) return envelope.status();
    auto doc = nlohmann::json::parse(*envelope, nullptr, false);
    if (!doc.is_object()) return Status::Internal("manifest envelope is malformed");
    return doc;
  }
  return store.Manifest(record->value("graphId", ""));
}

// The tenants whose graphs the caller sees: the one asked for, or all it is
// bound to; `global` is readable by every reader.
Result<std::vector<std::string>> ReadableCallgraphTenants(Kernel& kernel, const std::string& tenant,
                                                          const Principal& principal) {
  if (!tenant.empty()) {
    SIGNALS_RETURN_IF_ERROR(
        Authorize(kernel.policy(), principal, tenant, Resource::kCallgraphs, Action::kRead));
    return std::vector<std::string>{tenant};
  }
  if (principal.trusted) return kernel.tenants().List();
  SIGNALS_RETURN_IF_ERROR(
      Authorize(kernel.policy(), principal, "global", Resource::kCallgraphs, Action::kRead));
  std::vector<std::string> tenants = principal.tenants;
  if (std::find(tenants.begin(), tenants.end(), "global") == tenants.end()) tenants.push_back("global");
  return tenants;
}

Result<nlohmann::json> CallgraphsByPurl(Kernel& kernel, const nlohmann::json& request,
                                        const Principal& principal) {
  SIGNALS_RETURN_IF_ERROR(RequireAuthenticated(principal));
  auto purl = StringArg(request, "purl", true);
  if (!purl.ok()) return purl.status();
  SIGNALS_RETURN_IF_ERROR(ValidatePurl(*purl, "purl"));
  auto tenant = StringArg(request, "tenant", false);
  if (!tenant.ok()) return tenant.status();
  auto tenants = ReadableCallgraphTenants(kernel, *tenant, principal);
  if (!tenants.ok()) return tenants.status();
  std::vector<nlohmann::json> records;
  CallgraphStore store(kernel);
  for (const auto& t : *tenants) {
    CallgraphListQuery query;
    query.tenant = t;
    query.component_purl = *purl;
    auto list = store.List(query);
    if (!list.ok()) return list.status();
    for (auto& r : *list) records.push_back(std::move(r));
  }
  // Newest first across tenants; ULIDs order by creation, ties by id.
  std::sort(records.begin(), records.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    auto ka = std::make_pair(a.value("createdAt", ""), a.value("graphId", ""));
    auto kb = std::make_pair(b.value("createdAt", ""), b.value("graphId", ""));
    return ka > kb;
  });
  nlohmann::json out = nlohmann::json::array();
  for (auto& r : records) out.push_back(std::move(r));
  return nlohmann::json{{"purl", *purl}, {"callgraphs", out}};
}

// Whether an ingest of runtime facts with this tenant and callgraph would
// start, so that a source can check its configuration before it has data:
// ingest_begin's own checks (authorisation, tenant, callgraph), after which
// the ingest is dropped and nothing is stored. An Idempotency-Key is not
// claimed by a check.
Result<nlohmann::json> IngestCheck(Kernel& kernel, const nlohmann::json& request,
                                   const Principal& principal) {
  auto kind = StringArg(request, "kind", false);
  if (!kind.ok()) return kind.status();
  if (!kind->empty() && *kind != "runtime-facts") {
    return Status::Invalid("kind", "kind", "ingest.check checks runtime-facts ingests, not '" + *kind + "'");
  }
  nlohmann::json begin = request;
  begin.erase("op");
  begin.erase("idempotencyKey");
  if (!begin.contains("callgraphId")) {
    // A source that stores its own callgraph first (source-procfs's module
    // graph) checks its tenant alone.
    SIGNALS_RETURN_IF_ERROR(RequireAuthenticated(principal));
    const std::string tenant = begin.value("tenant", "");
    SIGNALS_RETURN_IF_ERROR(service_internal::AuthorizeFactWrite(kernel, principal, tenant));
    return nlohmann::json{{"kind", "runtime-facts"}, {"tenant", tenant}, {"accepted", true}};
  }
  auto session = kernel.service().BeginIngest(begin, principal);
  if (!session.ok()) return session.status();
  return nlohmann::json{{"kind", "runtime-facts"},
                        {"tenant", begin.value("tenant", "")},
                        {"callgraphId", begin.value("callgraphId", "")},
                        {"accepted", true}};
}

// The kernel's own operations. The list of all of them, with their request
// members, is the comment on signals_host.call in plugin.h.
const std::pair<const char*, ServiceOp> kCoreOps[] = {
    {"health", &Health},
    {"ready", &Ready},
    {"metrics", &Metrics},
    {"metrics.snapshot", &MetricsSnapshot},
    {"keys.list", &KeysList},
    {"runtime-facts.provenance", &BatchProvenance},
    {"runtime-facts.attestation", &BatchAttestation},
    {"callgraphs.manifest", &CallgraphManifest},
    {"callgraphs.by-purl", &CallgraphsByPurl},
    {"ingest.check", &IngestCheck},
};

}  // namespace

ServiceApi::ServiceApi(Kernel& kernel) : kernel_(kernel) {
  for (const auto& [name, op] : kCoreOps) RegisterOp(name, op);
}

void ServiceApi::RegisterOp(const std::string& name, ServiceOp op) { ops_[name] = op; }

bool ServiceApi::HasOp(std::string_view name) const { return ops_.find(name) != ops_.end(); }

Result<nlohmann::json> ServiceApi::Call(const nlohmann::json& request, const Principal& principal) {
  auto op = service_internal::StringArg(request, "op", true);
  if (!op.ok()) return op.status();
  auto it = ops_.find(*op);
  if (it == ops_.end()) return Status::Invalid("op", "op", "unknown operation '" + *op + "'");
  return it->second(kernel_, request, principal);
}

}  // namespace signals
