// ZstdFrameReader: streaming decompression of stored .zst objects, handing
// plain bytes to a sink chunk by chunk (bounded memory). Rejects trailing
// garbage and truncated frames. Not thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "status.hpp"

struct ZSTD_DCtx_s;

namespace signals {

class ZstdFrameReader {
 public:
  using Sink = std::function<Status(std::string_view plain)>;
  explicit ZstdFrameReader(Sink sink);
  ~ZstdFrameReader();
  ZstdFrameReader(const ZstdFrameReader&) = delete;
  ZstdFrameReader& operator=(const ZstdFrameReader&) = delete;

  Status Write(std::string_view compressed);
  // Fails when the input ended inside a frame.
  Status Finish();

 private:
  ZSTD_DCtx_s* dctx_;
  Sink sink_;
  std::string out_;
  size_t last_hint_ = 1;  // 0 once a frame is complete
};

}  // namespace signals
