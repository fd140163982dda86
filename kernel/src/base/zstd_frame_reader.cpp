#include "base/zstd_frame_reader.hpp"

#include <zstd.h>

namespace signals {

ZstdFrameReader::ZstdFrameReader(Sink sink) : dctx_(ZSTD_createDCtx()), sink_(std::move(sink)) {
  out_.resize(ZSTD_DStreamOutSize());
}

ZstdFrameReader::~ZstdFrameReader() { ZSTD_freeDCtx(dctx_); }

Status ZstdFrameReader::Write(std::string_view compressed) {
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t hint = ZSTD_decompressStream(dctx_, &out, &in);
    if (ZSTD_isError(hint)) {
      return Status::Invalid("zstd", "", std::string("corrupt zstd data: ") + ZSTD_getErrorName(hint));
    }
    last_hint_ = hint;
    if (out.pos > 0) SIGNALS_RETURN_IF_ERROR(sink_(std::string_view(out_.data(), out.pos)));
  }
  // Flush whatever the decoder still holds for this input.
  while (true) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    ZSTD_inBuffer empty{nullptr, 0, 0};
    size_t hint = ZSTD_decompressStream(dctx_, &out, &empty);
    if (ZSTD_isError(hint)) {
      return Status::Invalid("zstd", "", std::string("corrupt zstd data: ") + ZSTD_getErrorName(hint));
    }
    if (out.pos == 0) break;  // nothing held back; keep the hint of the last real step
    last_hint_ = hint;
    SIGNALS_RETURN_IF_ERROR(sink_(std::string_view(out_.data(), out.pos)));
  }
  return Status::Ok();
}

Status ZstdFrameReader::Drain(const std::function<Result<size_t>(uint8_t*, size_t)>& read) {
  std::string buffer(1 << 16, '\0');
  while (true) {
    auto n = read(reinterpret_cast<uint8_t*>(buffer.data()), buffer.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    SIGNALS_RETURN_IF_ERROR(Write(std::string_view(buffer.data(), *n)));
  }
  return Finish();
}

Status ZstdFrameReader::Finish() {
  if (last_hint_ != 0) return Status::Invalid("zstd", "", "truncated zstd frame");
  return Status::Ok();
}

}  // namespace signals
