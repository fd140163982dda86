// Helpers shared by the service API's files (service_api.cpp,
// service_objects.cpp, service_ingest.cpp) and by the operations other
// libraries register into its op table (analysis/analysis_ops.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "base/status.hpp"
#include "core/access_policy.hpp"

namespace signals {
class Kernel;

namespace service_internal {

// kUnauthenticated for the anonymous principal.
Status RequireAuthenticated(const Principal& principal);

// Whether `principal` may write runtime facts into `tenant`, a registered
// tenant: the checks ingest_begin and ingest.check share.
Status AuthorizeFactWrite(Kernel& kernel, const Principal& principal, const std::string& tenant);

// A string member of `request`; "" when absent and not required.
Result<std::string> StringArg(const nlohmann::json& request, const char* name, bool required);

// The index row of request.batchId, after checking that `principal` may read
// `resource` content of the batch's tenant (404 when it may not see it).
Result<nlohmann::json> LoadBatchRow(Kernel& kernel, const nlohmann::json& request, const Principal& principal,
                                    Resource resource);

// The index record of request.graphId, after checking that `principal` may
// read `resource` content of the graph's tenant (404 when it may not see it).
Result<nlohmann::json> LoadCallgraphRecord(Kernel& kernel, const nlohmann::json& request,
                                           const Principal& principal, Resource resource);

}  // namespace service_internal
}  // namespace signals
