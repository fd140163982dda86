// ContentDecoder: undoes a request's Content-Encoding (identity, zstd, gzip)
// chunk by chunk, so that compressed uploads stream into the kernel without
// being buffered. Decoded output is bounded by the caller (max_body_bytes
// applies to decoded bytes too, against decompression bombs).
// Not thread-safe: one per request.
#pragma once

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
  static std::unique_ptr<ContentDecoder> For(const std::string& content_encoding);
};

}  // namespace signals::http
