// ProgressLine. See progress_line.hpp.
#include "progress_line.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace signalsctl {
namespace {

constexpr std::chrono::milliseconds kRedrawInterval{100};  // at most 10 lines a second

std::string Bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

std::string Count(double n) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", n);
  return text;
}

}  // namespace

ProgressLine::ProgressLine(std::string label, std::string unit)
    : ProgressLine(std::move(label), std::move(unit), std::cerr,
                   ::isatty(STDOUT_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1,
                   [] { return std::chrono::steady_clock::now(); }) {}

ProgressLine::ProgressLine(std::string label, std::string unit, std::ostream& out, bool enabled, Clock clock)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      out_(out),
      enabled_(enabled),
      clock_(std::move(clock)) {
  start_ = clock_();
}

ProgressLine::~ProgressLine() { Finish(); }

std::string ProgressLine::Format(const std::string& label, const std::string& unit,
                                 const signals::ProgressCounts& counts, double seconds) {
  // Without a unit, only bytes are counted.
  std::string line = label + ": ";
  if (!unit.empty()) {
    line += Count(static_cast<double>(counts.items));
    if (counts.total_items > 0) line += "/" + Count(static_cast<double>(counts.total_items));
    line += " " + unit + ", ";
  }
  line += Bytes(static_cast<double>(counts.bytes));
  if (counts.total_bytes > 0) {
    line += " of " + Bytes(static_cast<double>(counts.total_bytes)) + " (" +
            Count(100.0 * static_cast<double>(counts.bytes) / static_cast<double>(counts.total_bytes)) + "%)";
  } else if (counts.total_items > 0) {
    line += " (" +
            Count(100.0 * static_cast<double>(counts.items) / static_cast<double>(counts.total_items)) + "%)";
  }
  if (seconds > 0) {
    line += ", " + Bytes(static_cast<double>(counts.bytes) / seconds) + "/s";
    if (!unit.empty()) line += ", " + Count(static_cast<double>(counts.items) / seconds) + " " + unit + "/s";
  }
  return line;
}

void ProgressLine::Draw() {
  const double seconds = std::chrono::duration<double>(clock_() - start_).count();
  // "\r" + erase-line redraws in place on any terminal.
  out_ << "\r\033[K" << Format(label_, unit_, counts_, seconds) << std::flush;
  drawn_ = true;
}

void ProgressLine::Update(const signals::ProgressCounts& counts) {
  counts_ = counts;
  if (!enabled_ || finished_) return;
  const auto now = clock_();
  if (drawn_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  Draw();
}

void ProgressLine::Finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  if (!drawn_) return;
  Draw();
  out_ << "\n" << std::flush;
}

signals::ProgressCallback ProgressLine::Callback() {
  return [this](const signals::ProgressCounts& counts) { Update(counts); };
}

}  // namespace signalsctl
