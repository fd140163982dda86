// DirectorySync: a failed group fsync reaches exactly the callers it covered
// (those whose renames came before it started), every one of them, however
// many failures follow; and a caller that took a Mark() before the failure
// gets it too, even when its own later fsync succeeds (fsyncgate).
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

TEST(DirectorySync, AFailureAfterTheMarkFailsASyncWhoseOwnFsyncSucceeded) {
  int calls = 0;
  DirectorySync sync([&](const std::string&) { return ++calls == 1 ? EIO : 0; });
  // A writer marks, renames its entry into "d"; before it syncs, another
  // writer's fsync of "d" fails. Linux reports that once: the first writer's
  // own fsync would succeed although its entry may be lost.
  const uint64_t before = sync.Mark();
  EXPECT_EQ(sync.Sync("d"), EIO);
  EXPECT_EQ(sync.Sync("d", before), EIO) << "its own fsync succeeded, the earlier failure still counts";
  EXPECT_EQ(calls, 2);
  // A failure in another directory counts too: the store refuses rather than guess.
  const uint64_t other = before;
  EXPECT_EQ(sync.Sync("e", other), EIO);
  // A writer that marked after the failure is not refused for it.
  const uint64_t after = sync.Mark();
  EXPECT_EQ(sync.Sync("d", after), 0);
  EXPECT_EQ(sync.Sync("e", after), 0);
}

}  // namespace
}  // namespace signals::cas_fs
