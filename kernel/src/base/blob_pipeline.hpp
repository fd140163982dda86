// BlobPipeline: SHA-256 and zstd of one ingested byte stream, with zstd on a
// second thread, so that compression overlaps with the caller's own work
// (line validation, hashing) instead of adding to it (kernel/README.md#the-pipeline step 3).
// zstd -3 costs about as much as validation and hashing together, so this
// split keeps both cores busy; the hash stays with the caller.
//
// The caller's bytes are hashed and copied into fixed-size blocks; a full
// block is handed to the worker, which compresses it and passes the
// compressed bytes to the sink (the CAS writer). At most
// `max_buffered_bytes` of blocks exist at once (rounded to whole blocks, at
// least two), so memory stays bounded whatever the stream's size: when the
// worker falls behind, Write waits. Blocks are reused, not reallocated.
//
// Streams that never fill a block (small batches) start no thread: their
// bytes are hashed and compressed in the caller at Finish.
//
// The first failure (of the sink or of zstd) is final and is returned by the
// next Write and by Finish. The destructor stops the worker and drops what
// was not processed; the sink is not called after it returns.
// One caller thread drives one pipeline; the sink runs on the worker thread,
// never on two threads at once.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/sha256.hpp"
#include "base/status.hpp"
#include "base/zstd_frame_writer.hpp"

namespace signals {

class BlobPipeline {
 public:
  static constexpr size_t kBlockBytes = size_t{256} << 10;
  enum class Hashing { kSha256, kNone };  // kNone: the caller hashes already

  BlobPipeline(int zstd_level, size_t max_buffered_bytes, ZstdFrameWriter::Sink sink,
               Hashing hashing = Hashing::kSha256);
  ~BlobPipeline();
  BlobPipeline(const BlobPipeline&) = delete;
  BlobPipeline& operator=(const BlobPipeline&) = delete;

  // Copies `bytes` into the stream. May wait for the worker (bounded memory).
  Status Write(std::string_view bytes);

  // Processes everything written, ends the zstd frame and stops the worker.
  // REQUIRES: called once, after the last Write.
  Status Finish();

  // Valid after a successful Finish() (with Hashing::kSha256).
  const std::array<uint8_t, 32>& digest() const { return digest_; }
  uint64_t bytes_out() const { return compressor_.bytes_out(); }

 private:
  using Block = std::string;

  Status Compress(std::string_view bytes);  // the worker, or the caller when inline
  Status Handoff();                         // queues current_ and gets an empty block
  void Work();
  Status WorkerFailure();

  ZstdFrameWriter compressor_;
  Sha256Hasher hasher_;
  const bool hashing_;
  const size_t max_blocks_;
  std::array<uint8_t, 32> digest_{};
  std::unique_ptr<Block> current_;  // being filled by the caller

  std::mutex mu_;
  std::condition_variable work_ready_;        // worker waits: a block or the end
  std::condition_variable block_free_;        // caller waits: a free block
  std::deque<std::unique_ptr<Block>> queue_;  // full blocks, in stream order
  std::vector<std::unique_ptr<Block>> free_;  // processed blocks for reuse
  size_t blocks_ = 0;                         // blocks that exist
  bool end_ = false;                          // no more blocks will come
  bool stop_ = false;                         // abandon: the destructor
  Status failure_;                            // the worker's first failure
  std::thread worker_;
};

}  // namespace signals
