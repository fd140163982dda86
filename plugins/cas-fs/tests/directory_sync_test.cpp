// DirectorySync: a failed group fsync reaches exactly the callers it covered
// (those whose renames came before it started), every one of them, however
// many failures follow.
#include "directory_sync.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

namespace signals::cas_fs {
namespace {

TEST(DirectorySync, AFailureReachesTheCallersItCoveredAndNoOthers) {
  std::atomic<int> calls{0};
  std::atomic<int> entered{0};
  constexpr int kLate = 4;
  DirectorySync sync([&](const std::string&) {
    if (calls.fetch_add(1) == 0) {
      // The first fsync fails, and lasts until the late callers have come:
      // their tickets are issued after it started, so it does not cover them.
      while (entered.load() < 1 + kLate) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return EIO;
    }
    return 0;
  });
  int first_result = -1;
  std::thread first([&] {
    entered.fetch_add(1);
    first_result = sync.Sync("d");
  });
  while (calls.load() == 0) std::this_thread::yield();
  std::vector<int> late_results(kLate, -1);
  std::vector<std::thread> late;
  for (int i = 0; i < kLate; ++i) {
    late.emplace_back([&, i] {
      entered.fetch_add(1);
      late_results[i] = sync.Sync("d");
    });
  }
  first.join();
  for (auto& t : late) t.join();
  EXPECT_EQ(first_result, EIO);
  for (int r : late_results) EXPECT_EQ(r, 0) << "a later fsync covered it";
  EXPECT_EQ(calls.load(), 2) << "one fsync served all the late callers";
}

TEST(DirectorySync, EveryCallerOfFailingFsyncsGetsTheError) {
  DirectorySync sync([](const std::string&) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    return EIO;
  });
  constexpr int kThreads = 8;
  constexpr int kCalls = 200;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        if (sync.Sync("d") != EIO) succeeded.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded.load(), 0);
}

}  // namespace
}  // namespace signals::cas_fs
