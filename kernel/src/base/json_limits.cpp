// JSON input limits. See json_limits.hpp.
#include "base/json_limits.hpp"

#include <algorithm>
#include <cstring>

namespace signals {
namespace {

// Member names are for messages only: a long one is cut.
constexpr size_t kMaxReportedNameBytes = 128;

}  // namespace

std::string JsonDepthMessage(size_t max_depth) {
  return "nested deeper than " + std::to_string(max_depth) + " levels (kernel.max_json_depth)";
}

bool JsonDepthScanner::Scan(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    if (in_string_) {
      // Skip to the next byte that matters inside a string.
      const char* stop = p;
      while (stop < end && *stop != '"' && *stop != '\\' && *stop != '\n') ++stop;
      if (collecting_name_ && name_.size() < kMaxReportedNameBytes) {
        name_.append(p,
                     std::min<size_t>(static_cast<size_t>(stop - p), kMaxReportedNameBytes - name_.size()));
      }
      if (escaped_ && stop > p) escaped_ = false;
      p = stop;
      if (p == end) break;
      const char c = *p++;
      if (escaped_) {
        escaped_ = false;
        if (c == '\n') ++line_;
        continue;
      }
      if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      } else {
        ++line_;  // a raw newline in a string is invalid JSON; count it anyway
      }
      continue;
    }
    const char c = *p++;
    switch (c) {
      case '"':
        in_string_ = true;
        collecting_name_ = depth_ == 1;
        if (collecting_name_) name_.clear();
        break;
      case ':':
        if (depth_ == 1) member_ = name_;
        break;
      case '[':
      case '{':
        if (++depth_ > max_depth_) return false;
        break;
      case ']':
      case '}':
        if (depth_ > 0) --depth_;
        break;
      case '\n':
        ++line_;
        break;
      default:
        break;
    }
  }
  return true;
}

Status CheckJsonDepth(std::string_view text, size_t max_depth, std::string_view field) {
  JsonDepthScanner scanner(max_depth);
  if (scanner.Scan(text)) return Status::Ok();
  std::string where = scanner.member().empty() ? std::string(field) : scanner.member();
  return Status::Invalid("max-depth", where,
                         "line " + std::to_string(scanner.line()) + ": " + JsonDepthMessage(max_depth));
}

}  // namespace signals
