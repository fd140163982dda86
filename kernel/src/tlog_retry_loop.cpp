// TlogRetryLoop. See tlog_retry_loop.hpp.
#include "tlog_retry_loop.hpp"

#include <chrono>

#include "tlog_publisher.hpp"

namespace signals {

void TlogRetryLoop::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void TlogRetryLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TlogRetryLoop::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const int64_t wait_ms = publisher_.RetryDue();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stopping_; });
  }
}

}  // namespace signals
