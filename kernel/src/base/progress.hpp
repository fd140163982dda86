// Progress of a long-running kernel operation (fsck, reindex, gc): how much
// it has done so far. The operation calls the callback after each unit of
// work from its own thread; the receiver decides whether and how often to
// show anything (signalsctl's ProgressLine draws at most ten lines a second,
// and only on a terminal).
#pragma once

#include <cstdint>
#include <functional>

namespace signals {

struct ProgressCounts {
  uint64_t items = 0;        // objects (or rows, facts, ...) done
  uint64_t bytes = 0;        // bytes read or written so far
  uint64_t total_items = 0;  // 0 when not known in advance
  uint64_t total_bytes = 0;  // 0 when not known in advance
};

using ProgressCallback = std::function<void(const ProgressCounts&)>;

}  // namespace signals
