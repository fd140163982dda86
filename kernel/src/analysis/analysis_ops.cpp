// The reachability operations of the service API. See analysis_ops.hpp.
#include "analysis/analysis_ops.hpp"

#include <string>
#include <vector>

#include "analysis/drift.hpp"
#include "analysis/reachability.hpp"
#include "analysis/vex.hpp"
#include "base/ulid.hpp"
#include "core/kernel.hpp"
#include "retention/retention.hpp"
#include "service/service_api.hpp"
#include "service/service_internal.hpp"

namespace signals {
namespace {

// The graph named by `member`, authorised like a callgraph read; kGone when
// retention deleted it.
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
    if (!v.is_string())
      return Status::Invalid("type", name, std::string(name) + " must be an array of strings");
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
    if (Authorize(kernel.policy(), principal, t, Resource::kRuntimeFacts, Action::kRead).ok())
      tenants.push_back(t);
  }
  options.batch_tenants = std::move(tenants);
  return options;
}

Result<nlohmann::json> Query(Kernel& kernel, const nlohmann::json& request, const Principal& principal) {
  auto record = LoadGraphArg(kernel, request, "callgraphId", principal);
  if (!record.ok()) return record.status();
  auto targets = StringListArg(request, "targets");
  if (!targets.ok()) return targets.status();
  ReachOptions options = ReachOptionsFor(kernel, request, principal);
  return QueryReachability(kernel, record->value("graphId", ""), *targets, options);
}

Result<nlohmann::json> Vex(Kernel& kernel, const nlohmann::json& request, const Principal& principal) {
  auto record = LoadGraphArg(kernel, request, "callgraphId", principal);
  if (!record.ok()) return record.status();
  auto symbols = StringListArg(request, "symbols");
  if (!symbols.ok()) return symbols.status();
  ReachOptions options = ReachOptionsFor(kernel, request, principal);
  auto vulnerability = service_internal::StringArg(request, "vulnerability", true);
  if (!vulnerability.ok()) return vulnerability.status();
  auto vex = BuildVex(kernel, record->value("graphId", ""), *vulnerability, *symbols, options);
  if (!vex.ok()) return vex.status();
  return (*vex)["document"];
}

Result<nlohmann::json> Drift(Kernel& kernel, const nlohmann::json& request, const Principal& principal) {
  auto base = LoadGraphArg(kernel, request, "baseGraphId", principal);
  if (!base.ok()) return base.status();
  auto head = LoadGraphArg(kernel, request, "headGraphId", principal);
  if (!head.ok()) return head.status();
  auto sinks = ParseSinkJson(request.value("sinks", nlohmann::json()));
  if (!sinks.ok()) return sinks.status();
  return QueryDrift(kernel, base->value("graphId", ""), head->value("graphId", ""), *sinks);
}

}  // namespace

void RegisterAnalysisOps(ServiceApi& service) {
  service.RegisterOp("reachability.query", &Query);
  service.RegisterOp("reachability.vex", &Vex);
  service.RegisterOp("reachability.drift", &Drift);
}

}  // namespace signals
