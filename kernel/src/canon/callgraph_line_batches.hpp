// CallgraphLineBatches: reads canonical NDJSON callgraph lines on two
// threads. Lines are gathered into batches of about kBatchBytes; the
// caller's thread and one worker thread each take the oldest batch nobody has
// taken and read it (CallgraphLineReader: parse, validate, canonical line);
// the records go to the sink on the caller's thread, batch after batch, in
// input order. Reading a line costs several times what storing its record
// does, so two readers keep both cores busy while the sink stays
// single-threaded.
//
// Errors: a batch stops at its first bad line; batches reach the sink in
// order, so the error reported is the first in the input, as with one thread.
// Memory: at most kMaxBatchesInFlight batches (their text and their records)
// exist at once. An input smaller than one batch starts no thread.
// Not thread-safe: one thread calls Line and Finish.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.hpp"
#include "canon/callgraph_formats.hpp"

namespace signals {

class CallgraphLineBatches {
 public:
  static constexpr size_t kBatchBytes = size_t{256} << 10;
  static constexpr size_t kMaxBatchesInFlight = 4;

  CallgraphLineBatches(size_t max_line_bytes, CallgraphRecordSink& sink,
                       const CallgraphReadLimits& limits = {});
  ~CallgraphLineBatches();
  CallgraphLineBatches(const CallgraphLineBatches&) = delete;
  CallgraphLineBatches& operator=(const CallgraphLineBatches&) = delete;

  // Adds line `line_number` (without its '\n'). May read batches and pass
  // their records on; returns the first failure, which is final.
  Status Line(std::string_view line, uint64_t line_number);

  // Reads what is left and passes every record on.
  Status Finish();

 private:
  struct Batch;
  class BatchRecords;

  Status Submit();
  Status Drain(size_t max_in_flight);
  Status Hand(const Batch& batch);
  void Read(Batch& batch, CallgraphLineReader& reader);
  void Work();
  void Stop();

  const size_t max_line_bytes_;
  const CallgraphReadLimits limits_;
  CallgraphRecordSink& sink_;
  CallgraphLineReader reader_;  // the caller's
  std::unique_ptr<Batch> filling_;
  Status failure_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Batch>> in_flight_;  // oldest first
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace signals
