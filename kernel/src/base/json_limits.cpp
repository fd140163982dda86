// JSON input limits. See json_limits.hpp.
#include "base/json_limits.hpp"

namespace signals {

std::string JsonDepthMessage(size_t max_depth) {
  return "nested deeper than " + std::to_string(max_depth) + " levels (kernel.max_json_depth)";
}

Status CheckJsonDepth(std::string_view text, size_t max_depth, std::string_view field) {
  JsonDepthScanner scanner(max_depth);
  if (scanner.Scan(text)) return Status::Ok();
  std::string where = scanner.member().empty() ? std::string(field) : scanner.member();
  return Status::Invalid("max-depth", where,
                         "line " + std::to_string(scanner.line()) + ": " + JsonDepthMessage(max_depth));
}

}  // namespace signals
