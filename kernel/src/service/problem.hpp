// Problem details (RFC 9457): how a failed Status is reported to clients, over
// HTTP and through the host's service API alike. `type` and `code` are stable;
// `detail` is for people.
#pragma once

#include <nlohmann/json.hpp>

#include "base/status.hpp"

namespace signals {

// The HTTP status a Code maps to (400, 401, 403, 404, 409, 410, 413, 415, 422,
// 503, 507, 500).
int HttpStatusOf(Code code);

// {type, title, status, code, detail, field?, rule?} plus the status's
// details as extension members.
nlohmann::json ProblemJson(const Status& status);

// The process exit code for a Status: 0 ok, 2 usage/configuration, 1 otherwise.
int ExitCodeOf(const Status& status);

}  // namespace signals
