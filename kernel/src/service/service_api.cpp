// ServiceApi: authentication and the JSON operations. Streams live in
// service_objects.cpp, ingests in service_ingest.cpp.
#include "service/service_api.hpp"

#include "analysis/drift.hpp"
#include "analysis/reachability.hpp"
#include "analysis/vex.hpp"
#include "attest/dsse.hpp"
#include "base/canonical_json.hpp"
#include "base/ulid.hpp"
#include "core/kernel.hpp"
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
  return Status(Code::kUnauthenticated, "this operation needs a bearer token (Authorization: Bearer <token>)");
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
  Status allowed = Authorize(kernel.policy(), principal, record->value("tenantId", ""), resource, Action::kRead);
  if (!allowed.ok()) {
    if (allowed.rule() == "tenant-binding") return Status::NotFound("callgraph " + *graph_id + " not found");
    return allowed;
  }
  return record;
}

}  // namespace service_internal

namespace {

// Reachability ops (DESIGN §11): the graph named by `member`, authorised like a
// callgraph read; kGone when retention deleted it.
Result<nlohmann::json> LoadGraphArg(Kernel& kernel, const nlohmann::json& request, const char* member,
                                    const Principal& principal) {
  auto id = service_internal::StringArg(request, member, true);
  if (!id.ok()) return id.status();
  SIGNALS_RETURN_IF_ERROR(ValidateUlid(*id, member));
  auto record = service_internal::LoadCallgraphRecord(kernel, nlohmann::json{{"graphId", *id}}, principal,
                                                      Resource::kCallgraphs);
  if (!record.ok()) return record.status();
  // Checked here too: a graph cached for reachability outlives its blob.
  SIGNALS_RETURN_IF_ERROR(GoneIfExpired(kCallgraphsKind, *record));
  return record;
}

Result<std::vector<std::string>> StringListArg(const nlohmann::json& request, const char* name) {
  auto it = request.find(name);
  if (it == request.end() || !it->is_array()) {
    return Status::Invalid("required", name, std::string(name) + " must be an array of strings");
  }
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return Status::Invalid("type", name, std::string(name) + " must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Runtime evidence counts only batches of tenants whose runtime facts the
// caller may read.
ReachOptions ReachOptionsFor(Kernel& kernel, const nlohmann::json& request, const Principal& principal) {
  ReachOptions options;
  auto flag = request.find("unconfirmedAsNotAffected");
  options.unconfirmed_as_not_affected = flag != request.end() && flag->is_boolean() && flag->get<bool>();
  if (principal.trusted) return options;
  std::vector<std::string> tenants;
  std::vector<std::string> candidates = principal.tenants;
  candidates.push_back("global");
  for (const auto& t : candidates) {
    if (Authorize(kernel.policy(), principal, t, Resource::kRuntimeFacts, Action::kRead).ok()) tenants.push_back(t);
  }
  options.batch_tenants = std::move(tenants);
  return options;
}

}  // namespace

Result<nlohmann::json> ServiceApi::Call(const nlohmann::json& request, const Principal& principal) {
  using namespace service_internal;
  auto op = StringArg(request, "op", true);
  if (!op.ok()) return op.status();

  if (*op == "health") return nlohmann::json{{"status", "ok"}};
  if (*op == "ready") {
    nlohmann::json instances = nlohmann::json::object();
    bool ready = true;
    std::string failing;
    for (const auto& [section, status] : kernel_.Health()) {
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
  if (*op == "metrics") return kernel_.RenderMetrics();
  if (*op == "metrics.snapshot") return kernel_.MetricsSnapshot();
  if (*op == "keys.list") {
    auto keys = kernel_.ListKeys();
    if (!keys.ok()) return keys.status();
    nlohmann::json out = nlohmann::json::array();
    for (auto& k : *keys) out.push_back(k);
    return nlohmann::json{{"keys", out}};
  }
  if (*op == "runtime-facts.provenance") {
    auto row = LoadBatchRow(kernel_, request, principal, Resource::kRuntimeFacts);
    if (!row.ok()) return row.status();
    SIGNALS_RETURN_IF_ERROR(GoneIfExpired(kRuntimeFactsKind, *row));
    auto text = kernel_.cas().ReadAll(row->value("provenanceKey", ""));
    if (!text.ok()) {
      return GoneIfExpiredSince(kernel_.index(), kRuntimeFactsKind, row->value("batchId", ""), text.status());
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
  if (*op == "runtime-facts.attestation") {
    auto format = StringArg(request, "format", false);
    if (!format.ok()) return format.status();
    if (!format->empty() && *format != "dsse" && *format != "sigstore-bundle") {
      return Status::Invalid("format", "format", "format must be dsse or sigstore-bundle");
    }
    auto row = LoadBatchRow(kernel_, request, principal, Resource::kAttestations);
    if (!row.ok()) return row.status();
    if (*format == "sigstore-bundle") {
      // Sigstore bundle v0.3: the envelope, the signing key named by its
      // hint, and the log entry when the attestation was logged.
      return ExportStoredBundle(kernel_, row->value("attestationKey", ""),
                                cas_paths::BatchRekorEntry(row->value("batchId", "")));
    }
    auto text = kernel_.cas().ReadAll(row->value("attestationKey", ""));
    if (!text.ok()) return text.status();
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (!doc.is_object()) return Status::Internal("attestation envelope is malformed");
    return doc;
  }
  if (*op == "callgraphs.manifest") {
    auto format = StringArg(request, "format", false);
    if (!format.ok()) return format.status();
    bool bundle = *format == "sigstore-bundle";
    bool dsse = *format == "dsse" || bundle;
    if (!format->empty() && !dsse && *format != "json") {
      return Status::Invalid("format", "format", "format must be json, dsse or sigstore-bundle");
    }
    auto record = LoadCallgraphRecord(kernel_, request, principal, dsse ? Resource::kAttestations : Resource::kManifests);
    if (!record.ok()) return record.status();
    if (bundle) {
      const std::string graph_id = record->value("graphId", "");
      return ExportStoredBundle(kernel_, cas_paths::ManifestEnvelope(graph_id),
                                cas_paths::ManifestRekorEntry(graph_id));
    }
    CallgraphStore store(kernel_);
    if (dsse) {
      auto envelope = store.ManifestEnvelope(record->value("graphId", ""));
      if (!envelope.ok()) return envelope.status();
      auto doc = nlohmann::json::parse(*envelope, nullptr, false);
      if (!doc.is_object()) return Status::Internal("manifest envelope is malformed");
      return doc;
    }
    return store.Manifest(record->value("graphId", ""));
  }
  if (*op == "callgraphs.by-purl") {
    SIGNALS_RETURN_IF_ERROR(RequireAuthenticated(principal));
    auto purl = StringArg(request, "purl", true);
    if (!purl.ok()) return purl.status();
    SIGNALS_RETURN_IF_ERROR(ValidatePurl(*purl, "purl"));
    auto tenant = StringArg(request, "tenant", false);
    if (!tenant.ok()) return tenant.status();
    // The tenants whose graphs the caller sees: the one asked for, or all it
    // is bound to; `global` is readable by every reader.
    std::vector<std::string> tenants;
    if (!tenant->empty()) {
      SIGNALS_RETURN_IF_ERROR(Authorize(kernel_.policy(), principal, *tenant, Resource::kCallgraphs, Action::kRead));
      tenants = {*tenant};
    } else if (principal.trusted) {
      auto all = kernel_.tenants().List();
      if (!all.ok()) return all.status();
      tenants = *all;
    } else {
      SIGNALS_RETURN_IF_ERROR(Authorize(kernel_.policy(), principal, "global", Resource::kCallgraphs, Action::kRead));
      tenants = principal.tenants;
      if (std::find(tenants.begin(), tenants.end(), "global") == tenants.end()) tenants.push_back("global");
    }
    std::vector<nlohmann::json> records;
    CallgraphStore store(kernel_);
    for (const auto& t : tenants) {
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
  if (*op == "reachability.query" || *op == "reachability.vex") {
    auto record = LoadGraphArg(kernel_, request, "callgraphId", principal);
    if (!record.ok()) return record.status();
    auto targets = StringListArg(request, *op == "reachability.query" ? "targets" : "symbols");
    if (!targets.ok()) return targets.status();
    ReachOptions options = ReachOptionsFor(kernel_, request, principal);
    if (*op == "reachability.query") return QueryReachability(kernel_, record->value("graphId", ""), *targets, options);
    auto vulnerability = StringArg(request, "vulnerability", true);
    if (!vulnerability.ok()) return vulnerability.status();
    auto vex = BuildVex(kernel_, record->value("graphId", ""), *vulnerability, *targets, options);
    if (!vex.ok()) return vex.status();
    return (*vex)["document"];
  }
  if (*op == "reachability.drift") {
    auto base = LoadGraphArg(kernel_, request, "baseGraphId", principal);
    if (!base.ok()) return base.status();
    auto head = LoadGraphArg(kernel_, request, "headGraphId", principal);
    if (!head.ok()) return head.status();
    auto sinks = ParseSinkJson(request.value("sinks", nlohmann::json()));
    if (!sinks.ok()) return sinks.status();
    return QueryDrift(kernel_, base->value("graphId", ""), head->value("graphId", ""), *sinks);
  }
  return Status::Invalid("op", "op", "unknown operation '" + *op + "'");
}

}  // namespace signals
