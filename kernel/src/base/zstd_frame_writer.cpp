#include "base/zstd_frame_writer.hpp"

#include <zstd.h>

namespace signals {

ZstdFrameWriter::ZstdFrameWriter(int level, Sink sink) : cctx_(ZSTD_createCCtx()), sink_(std::move(sink)) {
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  out_.resize(ZSTD_CStreamOutSize());
}

ZstdFrameWriter::~ZstdFrameWriter() { ZSTD_freeCCtx(cctx_); }

Status ZstdFrameWriter::SetPledgedSize(uint64_t bytes) {
  size_t rc = ZSTD_CCtx_setPledgedSrcSize(cctx_, bytes);
  if (ZSTD_isError(rc)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(rc));
  return Status::Ok();
}

Status ZstdFrameWriter::Write(std::string_view bytes) {
  bytes_in_ += bytes.size();
  return Drive(bytes, false);
}

Status ZstdFrameWriter::Finish() { return Drive({}, true); }

Status ZstdFrameWriter::Drive(std::string_view input, bool end) {
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  while (true) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t remaining = ZSTD_compressStream2(cctx_, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(remaining)) {
      return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(remaining));
    }
    if (out.pos > 0) {
      bytes_out_ += out.pos;
      SIGNALS_RETURN_IF_ERROR(sink_(std::string_view(out_.data(), out.pos)));
    }
    if (end ? remaining == 0 : in.pos == in.size) break;
  }
  return Status::Ok();
}

}  // namespace signals
