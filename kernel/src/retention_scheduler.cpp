// RetentionScheduler. See retention_scheduler.hpp.
#include "retention_scheduler.hpp"

#include <chrono>

#include "logging.hpp"
#include "retention_gc.hpp"

namespace signals {

RetentionScheduler::RetentionScheduler(Kernel& kernel)
    : kernel_(kernel), interval_ms_(kernel.config().GetInt("retention", "gc_interval")) {}

RetentionScheduler::~RetentionScheduler() { Stop(); }

bool RetentionScheduler::Start() {
  if (interval_ms_ <= 0) {
    spdlog::info("gc: scheduled retention GC is disabled (retention.gc_interval = 0)");
    return false;
  }
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return true;
}

void RetentionScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionScheduler::Loop() {
  RetentionGc gc(kernel_);
  while (!stop_) {
    GcOptions options;
    options.now_ms = kernel_.NowMs();
    options.stop = &stop_;
    // Errors are logged and counted by Run; the next interval tries again.
    (void)gc.Run(options);
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stop_.load(); });
  }
}

}  // namespace signals
