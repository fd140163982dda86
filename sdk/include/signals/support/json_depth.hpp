// signals/support/json_depth.hpp — the nesting depth of JSON text, counted
// without parsing: brackets outside strings. Whatever will later walk a JSON
// value recursively (nlohmann's dump, canonical JSON, the callgraph readers)
// first lets this scanner refuse text nested deeper than a limit, so input
// nested 100,000 deep never reaches a recursion. The outermost value is depth
// 1 and each array or object inside adds one ({"a":[1]} has depth 2).
//
// Used by the kernel (kernel.max_json_depth) and by transport-http (its own
// ceiling for the bodies it parses). Needs only the C++ library. Not
// thread-safe: one scanner per text; bytes may arrive in pieces.
#ifndef SIGNALS_SUPPORT_JSON_DEPTH_HPP
#define SIGNALS_SUPPORT_JSON_DEPTH_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace signals {
namespace support {

class JsonDepthScanner {
 public:
  explicit JsonDepthScanner(size_t max_depth) : max_depth_(max_depth) {}

  // Scans the next bytes. Returns false once the text is nested deeper than
  // the limit (and stops there); line() is then the 1-based line of the
  // bracket that went too deep and member() the top-level member whose value
  // it is in (when the text is an object). It validates nothing else: a
  // parser does that afterwards, on text known not to be too deep.
  bool Scan(std::string_view text) {
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
          if (++depth_ > deepest_) deepest_ = depth_;
          if (depth_ > max_depth_) return false;
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

  // The deepest nesting seen so far (at most the limit + 1).
  size_t deepest() const { return deepest_; }
  uint64_t line() const { return line_; }
  const std::string& member() const { return member_; }

 private:
  // Member names are for messages only: a long one is cut.
  static constexpr size_t kMaxReportedNameBytes = 128;

  size_t max_depth_;
  size_t depth_ = 0;
  size_t deepest_ = 0;
  uint64_t line_ = 1;
  bool in_string_ = false;
  bool escaped_ = false;
  bool collecting_name_ = false;  // inside a string at depth 1 (maybe a member name)
  std::string name_;              // that string so far (raw, capped)
  std::string member_;            // the last member name seen at depth 1
};

}  // namespace support
}  // namespace signals

#endif  // SIGNALS_SUPPORT_JSON_DEPTH_HPP
