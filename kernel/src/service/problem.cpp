#include "service/problem.hpp"

namespace signals {

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalid:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kForbidden:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kGone:
      return 410;
    case Code::kTooLarge:
      return 413;
    case Code::kUnsupportedMedia:
      return 415;
    case Code::kHashMismatch:
      return 422;
    case Code::kUnavailable:
      return 503;
    case Code::kNoSpace:
      return 507;
    case Code::kConfig:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

nlohmann::json ProblemJson(const Status& status) {
  std::string code = CodeName(status.code());
  nlohmann::json problem = {
      {"type", "urn:signals:problem:" + (status.rule().empty() ? code : status.rule())},
      {"title", code},
      {"status", HttpStatusOf(status.code())},
      {"code", code},
      {"detail", status.message()},
  };
  if (!status.field().empty()) problem["field"] = status.field();
  if (!status.rule().empty()) problem["rule"] = status.rule();
  if (status.line() != 0) problem["line"] = status.line();
  // Extension members never replace the standard ones.
  for (const auto& [name, value] : status.details()) {
    if (!problem.contains(name)) problem[name] = value;
  }
  return problem;
}

int ExitCodeOf(const Status& status) {
  if (status.ok()) return 0;
  return status.code() == Code::kConfig ? 2 : 1;
}

}  // namespace signals
