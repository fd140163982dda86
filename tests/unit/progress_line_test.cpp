// Specification of signalsctl's progress line: counts, bytes and rates on one
// redrawn line, at most ten draws a second, a final line and newline at the
// end, and nothing at all when disabled (not a terminal).
#include <gtest/gtest.h>

#include <sstream>

#include "../../tools/signalsctl/progress_line.hpp"

namespace signalsctl {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  ProgressLine::Clock Fn() {
    return [this] { return now; };
  }
};

size_t Draws(const std::string& out) {
  size_t n = 0;
  for (size_t at = out.find('\r'); at != std::string::npos; at = out.find('\r', at + 1)) ++n;
  return n;
}

TEST(ProgressLine, FormatsCountsBytesShareAndRates) {
  signals::ProgressCounts counts{500, 3 << 20, 1000, 0};
  EXPECT_EQ(ProgressLine::Format("fsck", "objects", counts, 2.0),
            "fsck: 500/1000 objects, 3.0 MiB (50%), 1.5 MiB/s, 250 objects/s");
  signals::ProgressCounts bytes_only{0, 512, 0, 2048};
  EXPECT_EQ(ProgressLine::Format("ingest", "", bytes_only, 0.0), "ingest: 512 B of 2.0 KiB (25%)");
}

TEST(ProgressLine, DrawsAtMostTenTimesASecondAndEndsWithANewline) {
  std::ostringstream out;
  FakeClock clock;
  {
    ProgressLine line("reindex", "objects", out, true, clock.Fn());
    for (int i = 1; i <= 100; ++i) {
      clock.now += 10ms;  // 100 updates over one second
      line.Update({static_cast<uint64_t>(i), static_cast<uint64_t>(i) * 1024, 100, 0});
    }
    EXPECT_LE(Draws(out.str()), 11u);
    EXPECT_GE(Draws(out.str()), 9u);
    line.Finish();
  }
  const std::string text = out.str();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("reindex: 100/100 objects, 100.0 KiB (100%)"), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line, redrawn in place";
}

TEST(ProgressLine, ShowsNothingWhenDisabled) {
  std::ostringstream out;
  FakeClock clock;
  {
    ProgressLine line("fsck", "objects", out, false, clock.Fn());
    for (int i = 0; i < 10; ++i) {
      clock.now += 1s;
      line.Update({static_cast<uint64_t>(i), 1, 0, 0});
    }
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressLine, ShowsNothingWhenNothingHappened) {
  std::ostringstream out;
  FakeClock clock;
  { ProgressLine line("fsck", "objects", out, true, clock.Fn()); }
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace signalsctl
