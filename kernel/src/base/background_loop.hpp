// BackgroundLoop: one thread of signalsd that runs a step, then sleeps for as
// long as the step asks, until Stop(). Stop() wakes a sleep at once and joins
// the thread; a step in progress can end early by polling stopping() (between
// objects, say), so SIGTERM is never held up by background work.
// Used by retention GC (retention_scheduler.hpp) and the transparency-log
// retry queue (TlogPublisher::RetryDue).
// Thread-safety: Start and Stop from one control thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace signals {

class BackgroundLoop {
 public:
  // Runs once, then returns how many milliseconds to sleep before the next run.
  using Step = std::function<int64_t()>;

  BackgroundLoop() = default;
  ~BackgroundLoop() { Stop(); }
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

  // Starts the thread (no-op when it runs already); the first step runs at once.
  void Start(Step step);
  // Wakes and joins the thread. Idempotent.
  void Stop();
  // True from Stop() on, for steps that can end early.
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace signals
