// BackgroundLoop. See background_loop.hpp.
#include "base/background_loop.hpp"

#include <chrono>

namespace signals {

void BackgroundLoop::Start(Step step) {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, step = std::move(step)] {
    while (!stopping_) {
      const int64_t sleep_ms = step();
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(sleep_ms), [this] { return stopping_.load(); });
    }
  });
}

void BackgroundLoop::Stop() {
  {
    // Under the mutex, so that the thread cannot miss the wake-up between
    // checking the flag and starting to wait.
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace signals
