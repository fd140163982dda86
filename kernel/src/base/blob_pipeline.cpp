#include "base/blob_pipeline.hpp"

#include <algorithm>

namespace signals {

BlobPipeline::BlobPipeline(int zstd_level, size_t max_buffered_bytes, ZstdFrameWriter::Sink sink,
                           Hashing hashing)
    : compressor_(zstd_level, std::move(sink)),
      hashing_(hashing == Hashing::kSha256),
      max_blocks_(std::max<size_t>(2, max_buffered_bytes / kBlockBytes)),
      current_(std::make_unique<Block>()) {
  blocks_ = 1;  // grows as bytes arrive: a small stream never holds a whole block
}

BlobPipeline::~BlobPipeline() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_ready_.notify_one();
    worker_.join();
  }
}

Status BlobPipeline::Compress(std::string_view bytes) { return compressor_.Write(bytes); }

Status BlobPipeline::WorkerFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

Status BlobPipeline::Write(std::string_view bytes) {
  if (hashing_) hasher_.Update(bytes);
  while (!bytes.empty()) {
    size_t room = kBlockBytes - current_->size();
    size_t n = std::min(room, bytes.size());
    current_->append(bytes.data(), n);
    bytes.remove_prefix(n);
    if (current_->size() == kBlockBytes) SIGNALS_RETURN_IF_ERROR(Handoff());
  }
  return Status::Ok();
}

Status BlobPipeline::Handoff() {
  if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
  std::unique_lock<std::mutex> lock(mu_);
  if (!failure_.ok()) return failure_;
  queue_.push_back(std::move(current_));
  work_ready_.notify_one();
  if (free_.empty() && blocks_ < max_blocks_) {
    ++blocks_;
    lock.unlock();
    current_ = std::make_unique<Block>();
    current_->reserve(kBlockBytes);
    return Status::Ok();
  }
  block_free_.wait(lock, [&] { return !free_.empty() || !failure_.ok(); });
  if (!failure_.ok()) return failure_;
  current_ = std::move(free_.back());
  free_.pop_back();
  current_->clear();
  return Status::Ok();
}

void BlobPipeline::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_ready_.wait(lock, [&] { return stop_ || end_ || !queue_.empty(); });
    if (stop_ || queue_.empty()) return;  // abandoned, or the end with nothing left
    std::unique_ptr<Block> block = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Status s = Compress(*block);
    lock.lock();
    free_.push_back(std::move(block));
    if (!s.ok()) failure_ = s;
    block_free_.notify_one();
    if (!s.ok()) return;
  }
}

Status BlobPipeline::Finish() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      end_ = true;
    }
    work_ready_.notify_one();
    worker_.join();  // the worker drains the queue before it sees the end
    SIGNALS_RETURN_IF_ERROR(WorkerFailure());
  } else {
    // A small stream, whole in one block: compressed here, with its size
    // known up front (see ZstdFrameWriter::SetPledgedSize).
    SIGNALS_RETURN_IF_ERROR(compressor_.SetPledgedSize(current_->size()));
  }
  // What never filled a block: the whole stream when it was small.
  SIGNALS_RETURN_IF_ERROR(Compress(*current_));
  current_->clear();
  SIGNALS_RETURN_IF_ERROR(compressor_.Finish());
  if (hashing_) digest_ = hasher_.Finish();
  return Status::Ok();
}

}  // namespace signals
