// ContentDecoder: undoes a request's Content-Encoding (identity, zstd, gzip)
// chunk by chunk, so that compressed uploads stream into the kernel without
// being buffered. Decoded output is bounded by the caller (max_body_bytes
// applies to decoded bytes too, against decompression bombs); the decoder's
// own memory is bounded here: a zstd frame may not declare a window larger
// than max_zstd_window (zstd allocates the window a frame declares, however
// few bytes the frame holds), and gzip's window is 32 KiB by definition.
// Not thread-safe: one per request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace signals::http {

class ContentDecoder {
 public:
  // Receives decoded bytes; returns false to stop (the error is the caller's).
  using Sink = std::function<bool(std::string_view)>;

  virtual ~ContentDecoder() = default;
  // Feeds encoded bytes. Returns "" on success, else what is wrong.
  virtual std::string Write(std::string_view encoded, const Sink& sink) = 0;
  // Checks the stream ended cleanly. Returns "" on success.
  virtual std::string Finish(const Sink& sink) = 0;

  // nullptr for an unsupported encoding. "" and "identity" pass through.
  // max_zstd_window: the largest window a zstd frame may declare, in bytes
  // (rounded down to a power of two, at least 1 KiB).
  static std::unique_ptr<ContentDecoder> For(const std::string& content_encoding, uint64_t max_zstd_window);
};

// True for no Content-Encoding or "identity": the bytes on the wire are the content.
bool IsIdentityEncoding(const std::string& content_encoding);

// The window log that a byte limit allows: floor(log2(bytes)), within the
// range zstd accepts for ZSTD_d_windowLogMax.
int ZstdWindowLog(uint64_t max_window_bytes);

}  // namespace signals::http
