// ZstdFrameReader: streaming decompression of stored .zst objects, handing
// plain bytes to a sink chunk by chunk (bounded memory). Rejects trailing
// garbage and truncated frames. Not thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.hpp"

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

  // Pulls compressed bytes from `read` (0 at the end) through Write() until
  // the end, then Finish(): the whole of a stored object, chunk by chunk.
  // Errors of `read` come back as they are; corrupt data as kInvalid.
  Status Drain(const std::function<Result<size_t>(uint8_t* buffer, size_t capacity)>& read);

 private:
  ZSTD_DCtx_s* dctx_;
  Sink sink_;
  std::string out_;
  size_t last_hint_ = 1;  // 0 once a frame is complete
};

}  // namespace signals
