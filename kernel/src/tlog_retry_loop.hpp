// TlogRetryLoop: the background thread of signalsd that lands queued
// transparency-log submissions (TlogPublisher::RetryDue) while the service
// runs. Ingest never waits for it; it only ever talks to the log and the
// index, one due row at a time, and sleeps until the next row is due.
// Thread-safety: Start and Stop from one control thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace signals {

class TlogPublisher;

class TlogRetryLoop {
 public:
  explicit TlogRetryLoop(TlogPublisher& publisher) : publisher_(publisher) {}
  ~TlogRetryLoop() { Stop(); }
  TlogRetryLoop(const TlogRetryLoop&) = delete;
  TlogRetryLoop& operator=(const TlogRetryLoop&) = delete;

  void Start();
  // Wakes the thread and joins it. A submission in flight finishes first
  // (bounded by the plugin's timeout).
  void Stop();

 private:
  void Run();

  TlogPublisher& publisher_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace signals
