// RetentionScheduler: runs retention GC (retention_gc.hpp) inside signalsd on
// a background thread, first right after Start() and then every
// retention.gc_interval (0 disables it). Stop() interrupts a run between two
// objects and a wait at once, and joins the thread, so SIGTERM is not held up
// by GC. Failures are logged and counted by the run itself; the schedule goes
// on. Thread-safety: Start and Stop from one control thread.
#pragma once

#include <cstdint>

#include "base/background_loop.hpp"
#include "core/kernel.hpp"

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
  Kernel& kernel_;
  int64_t interval_ms_;
  BackgroundLoop loop_;
};

}  // namespace signals
