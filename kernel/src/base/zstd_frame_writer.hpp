// ZstdFrameWriter: compresses a byte stream into one standard zstd frame with
// the content checksum on (so `zstd -d` and `zstd -t` verify it), handing
// compressed output to a sink as it is produced. Memory is the compressor's
// window plus one output buffer, whatever the input size.
// Not thread-safe: one writer per stream.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.hpp"

struct ZSTD_CCtx_s;

namespace signals {

class ZstdFrameWriter {
 public:
  using Sink = std::function<Status(std::string_view compressed)>;

  // REQUIRES: 1 <= level <= 19.
  ZstdFrameWriter(int level, Sink sink);
  ~ZstdFrameWriter();
  ZstdFrameWriter(const ZstdFrameWriter&) = delete;
  ZstdFrameWriter& operator=(const ZstdFrameWriter&) = delete;

  // Announces the exact input size before the first Write: zstd then sizes
  // its window and tables to the input (a small batch no longer pays for
  // megabytes of tables) and records the size in the frame header.
  Status SetPledgedSize(uint64_t bytes);

  Status Write(std::string_view bytes);
  // Ends the frame. No Write after Finish.
  Status Finish();

  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  Status Drive(std::string_view input, bool end);

  ZSTD_CCtx_s* cctx_;
  Sink sink_;
  std::string out_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace signals
