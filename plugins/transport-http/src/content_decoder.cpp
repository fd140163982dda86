#include "content_decoder.hpp"

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <vector>

#include "http_text.hpp"

namespace signals::http {
namespace {

class IdentityDecoder : public ContentDecoder {
 public:
  std::string Write(std::string_view encoded, const Sink& sink) override {
    if (!encoded.empty() && !sink(encoded)) return "stopped";
    return "";
  }
  std::string Finish(const Sink&) override { return ""; }
};

class ZstdDecoder : public ContentDecoder {
 public:
  explicit ZstdDecoder(int window_log)
      : dctx_(ZSTD_createDCtx()), out_(ZSTD_DStreamOutSize()), window_log_(window_log) {
    if (dctx_ != nullptr) ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, window_log_);
  }
  ~ZstdDecoder() override { ZSTD_freeDCtx(dctx_); }

  std::string Write(std::string_view encoded, const Sink& sink) override {
    if (dctx_ == nullptr) return "zstd decoder could not start (out of memory)";
    ZSTD_inBuffer in{encoded.data(), encoded.size(), 0};
    do {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      size_t hint = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(hint)) {
        if (ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge) {
          return "the zstd frame declares a window larger than max_zstd_window (" +
                 std::to_string(uint64_t{1} << window_log_) +
                 " bytes); compress with a smaller window (no --long above " + std::to_string(window_log_) +
                 ")";
        }
        return std::string("invalid zstd content: ") + ZSTD_getErrorName(hint);
      }
      if (in.pos > 0 || out.pos > 0) frame_done_ = hint == 0;
      if (out.pos > 0 && !sink(std::string_view(out_.data(), out.pos))) return "stopped";
      if (out.pos < out_.size() && in.pos == in.size) break;
    } while (true);
    seen_input_ = seen_input_ || !encoded.empty();
    return "";
  }
  std::string Finish(const Sink&) override {
    if (seen_input_ && !frame_done_) return "the zstd content ends inside a frame";
    return "";
  }

 private:
  ZSTD_DCtx* dctx_;
  std::vector<char> out_;
  int window_log_;
  bool frame_done_ = true;
  bool seen_input_ = false;
};

class GzipDecoder : public ContentDecoder {
 public:
  GzipDecoder() : out_(64 * 1024) {
    stream_ = z_stream{};
    // 15 + 16: a gzip wrapper (not zlib, not raw deflate).
    ok_ = inflateInit2(&stream_, 15 + 16) == Z_OK;
  }
  ~GzipDecoder() override { inflateEnd(&stream_); }

  std::string Write(std::string_view encoded, const Sink& sink) override {
    if (!ok_) return "gzip decoder could not start";
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data()));
    stream_.avail_in = static_cast<uInt>(encoded.size());
    while (stream_.avail_in > 0 && !ended_) {
      stream_.next_out = reinterpret_cast<Bytef*>(out_.data());
      stream_.avail_out = static_cast<uInt>(out_.size());
      int rc = inflate(&stream_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return std::string("invalid gzip content: ") + (stream_.msg ? stream_.msg : "inflate failed");
      }
      size_t produced = out_.size() - stream_.avail_out;
      if (produced > 0 && !sink(std::string_view(out_.data(), produced))) return "stopped";
      if (rc == Z_STREAM_END) ended_ = true;
      if (rc == Z_BUF_ERROR && produced == 0) break;
    }
    if (ended_ && stream_.avail_in > 0) return "data after the end of the gzip stream";
    return "";
  }
  std::string Finish(const Sink& sink) override {
    // Drain what inflate still holds.
    while (!ended_) {
      stream_.next_in = nullptr;
      stream_.avail_in = 0;
      stream_.next_out = reinterpret_cast<Bytef*>(out_.data());
      stream_.avail_out = static_cast<uInt>(out_.size());
      int rc = inflate(&stream_, Z_FINISH);
      size_t produced = out_.size() - stream_.avail_out;
      if (produced > 0 && !sink(std::string_view(out_.data(), produced))) return "stopped";
      if (rc == Z_STREAM_END) {
        ended_ = true;
        break;
      }
      if (produced == 0) return "the gzip content is truncated";
    }
    return "";
  }

 private:
  z_stream stream_;
  std::vector<char> out_;
  bool ok_ = false;
  bool ended_ = false;
};

}  // namespace

int ZstdWindowLog(uint64_t max_window_bytes) {
  int log = 0;
  while (log < 63 && (uint64_t{1} << (log + 1)) <= max_window_bytes) ++log;
  const ZSTD_bounds bounds = ZSTD_dParam_getBounds(ZSTD_d_windowLogMax);
  if (log < bounds.lowerBound) log = bounds.lowerBound;
  if (log > bounds.upperBound) log = bounds.upperBound;
  return log;
}

bool IsIdentityEncoding(const std::string& content_encoding) {
  std::string e = Lower(content_encoding);
  return e.empty() || e == "identity";
}

std::unique_ptr<ContentDecoder> ContentDecoder::For(const std::string& content_encoding,
                                                    uint64_t max_zstd_window) {
  std::string e = Lower(content_encoding);
  if (e.empty() || e == "identity") return std::make_unique<IdentityDecoder>();
  if (e == "zstd") return std::make_unique<ZstdDecoder>(ZstdWindowLog(max_zstd_window));
  if (e == "gzip" || e == "x-gzip") return std::make_unique<GzipDecoder>();
  return nullptr;
}

}  // namespace signals::http
