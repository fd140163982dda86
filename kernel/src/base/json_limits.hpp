// Limits on JSON that comes from outside (requests, uploads): its nesting
// depth, checked before anything walks the value recursively.
//
// Every JSON reader of the kernel recurses over nested values somewhere
// (nlohmann's dump, canonical JSON, the callgraph readers), so input nested
// 100,000 deep would overflow a thread's stack. kernel.max_json_depth bounds
// it: the outermost value is depth 1, each array or object inside adds one
// ({"a":[1]} has depth 2). A deeper input is refused with Status::Invalid
// rule "max-depth" before it is parsed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <signals/support/json_depth.hpp>

#include "base/status.hpp"

namespace signals {

constexpr size_t kDefaultMaxJsonDepth = 64;
// The option's upper bound: recursion this deep is safe on any thread stack.
constexpr size_t kMaxJsonDepthLimit = 1000;

// "nested deeper than N levels (kernel.max_json_depth)", the text every
// "max-depth" answer carries.
std::string JsonDepthMessage(size_t max_depth);

// Counts the nesting of JSON text without parsing it (the SDK's scanner,
// shared with transport-http).
using support::JsonDepthScanner;

// Checks `text` with a JsonDepthScanner. Failure: Status::Invalid rule
// "max-depth", field the top-level member holding the too-deep value (else
// `field`), message naming the line and the limit.
Status CheckJsonDepth(std::string_view text, size_t max_depth, std::string_view field);

}  // namespace signals
