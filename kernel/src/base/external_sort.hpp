// ExternalSorter: sorts an unbounded stream of (key, value, position) records
// in bounded memory. Records are kept in memory until the budget is reached,
// then sorted and written to a temporary run file; at the end the runs are
// merged k ways (in several rounds when there are more than kMaxFanIn). When
// nothing was spilled, the records are sorted and returned from memory.
//
// Order: key bytes, then value bytes, then position — a total order, so the
// output is the same whatever order the records came in and however the
// budget split them into runs.
//
// Used by the callgraph canonicalizer (callgraph_canonicalizer.hpp). Run files
// live in a private directory created under `temp_parent` on the first spill
// and removed, with everything in it, by the destructor.
// Not thread-safe: one thread drives one sorter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"

namespace signals {

struct SortRecord {
  std::string_view key;
  std::string_view value;
  uint64_t position = 0;
};

class ExternalSorter {
 public:
  // Most runs merged at once; more runs are merged in rounds.
  static constexpr size_t kMaxFanIn = 64;

  // `memory_budget`: bytes of records (plus bookkeeping) held before a spill;
  // at least one record is always held, so a tiny budget means one run per
  // record. `temp_parent`: directory under which the run directory is made
  // (created if missing).
  ExternalSorter(size_t memory_budget, std::string temp_parent);
  ~ExternalSorter();
  ExternalSorter(const ExternalSorter&) = delete;
  ExternalSorter& operator=(const ExternalSorter&) = delete;

  // Adds a record. Failure (a spill could not be written) is final.
  // REQUIRES: Finish() has not been called; key and value < 4 GiB each.
  Status Add(std::string_view key, std::string_view value, uint64_t position);

  // Ends the input and prepares the sorted output.
  Status Finish();

  // Sets *out to the next record in order and returns true, or returns false
  // at the end. The views in *out stay valid until the next call.
  // REQUIRES: Finish() returned OK.
  Result<bool> Next(SortRecord* out);

  uint64_t record_count() const { return record_count_; }
  // Number of run files written (0 when everything fit in memory).
  uint64_t spilled_runs() const { return spilled_runs_; }

 private:
  class RunWriter;
  class RunReader;
  class Merge;
  struct Block;

  Status Spill();
  Status EnsureRunDir();
  std::string NewRunPath();
  Status MergeRuns(std::vector<std::string> inputs, const std::string& output);
  Status OpenMerge();
  void SortInMemory();
  void ReleaseMemory();
  size_t MergeBufferBytes() const;

  size_t budget_;
  size_t block_size_;
  std::string temp_parent_;
  std::string run_dir_;  // empty until the first spill
  std::vector<std::unique_ptr<Block>> blocks_;
  size_t block_bytes_ = 0;  // capacity of all blocks
  // An encoded record in the blocks, with the first 8 key bytes (big-endian,
  // zero-padded) beside it: most comparisons of the in-memory sort end there,
  // without touching the record.
  struct Entry {
    uint64_t prefix;
    const char* record;
  };
  std::vector<Entry> records_;
  std::vector<std::string> runs_;
  uint64_t record_count_ = 0;
  uint64_t spilled_runs_ = 0;
  uint64_t run_sequence_ = 0;
  bool finished_ = false;
  Status failure_;

  // Output state: either an index into records_ or a merge of the runs.
  size_t next_in_memory_ = 0;
  std::unique_ptr<Merge> merge_;
};

}  // namespace signals
