// RetentionScheduler: runs retention GC (retention_gc.hpp) inside signalsd on
// a background thread, first right after Start() and then every
// retention.gc_interval (0 disables it). Stop() interrupts a run between two
// objects and a wait at once, and joins the thread, so SIGTERM is not held up
// by GC. Failures are logged and counted by the run itself; the schedule goes
// on. Thread-safety: Start and Stop from one control thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "kernel.hpp"

namespace signals {

class RetentionScheduler {
 public:
  explicit RetentionScheduler(Kernel& kernel);
  ~RetentionScheduler();  // Stop()
  RetentionScheduler(const RetentionScheduler&) = delete;
  RetentionScheduler& operator=(const RetentionScheduler&) = delete;

  // Starts the thread, unless retention.gc_interval is 0. Returns whether it did.
  bool Start();
  // Interrupts and joins. Idempotent.
  void Stop();

 private:
  void Loop();

  Kernel& kernel_;
  int64_t interval_ms_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace signals
