// ProgressLine: the one-line progress display of signalsctl's long commands
// (ingest of a large file, fsck, reindex, gc). It redraws one line on stderr
// — counts, bytes and rates, and the share done when the total is known —
// at most ten times a second, and ends it with a newline when done.
//
// It shows only when BOTH stdout and stderr are terminals: stderr because
// that is where it draws (stdout carries the command's output), stdout because
// a command whose output goes to a file or pipe runs in a script, which wants
// no progress noise in its logs either.
//
// Use: ProgressLine progress("fsck", "objects");
//      RunFsck(kernel, {.progress = progress.Callback()}); progress.Finish();
// Not thread-safe: feed it from one thread (the kernel calls back from the
// thread that runs the operation).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "base/progress.hpp"

namespace signalsctl {

class ProgressLine {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Draws on std::cerr when stdout and stderr are terminals. `unit` names the
  // items counted ("objects", "facts"); empty when only bytes count.
  ProgressLine(std::string label, std::string unit);
  // For tests: draws on `out` when `enabled`, reading time from `clock`.
  ProgressLine(std::string label, std::string unit, std::ostream& out, bool enabled, Clock clock);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Records the counts; redraws when 100 ms have passed since the last draw
  // (the first update draws at once).
  void Update(const signals::ProgressCounts& counts);

  // Draws the final counts and a newline (once; nothing when nothing was drawn).
  void Finish();

  // A callback for kernel operations that feeds Update().
  signals::ProgressCallback Callback();

  // The text of one line for `counts` after `seconds` (no control characters).
  static std::string Format(const std::string& label, const std::string& unit,
                            const signals::ProgressCounts& counts, double seconds);

 private:
  void Draw();

  std::string label_;
  std::string unit_;
  std::ostream& out_;
  bool enabled_;
  Clock clock_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  signals::ProgressCounts counts_;
  bool drawn_ = false;
  bool finished_ = false;
};

}  // namespace signalsctl
