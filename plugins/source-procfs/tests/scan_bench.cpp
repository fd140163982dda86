// scan_bench.cpp — the cost of one source-procfs scan of every process of
// this machine: the collector (the same code the plugin runs) timed over a
// cold first interval (every ELF file and dpkg's database read) and warm
// ones (what every later interval costs), with the peak RSS of this process.
//
// usage: procfs-scan-bench [--spawn N] [--repeat R] [--dpkg-dir DIR]
//   --spawn N   start N extra processes (/bin/sleep) first, so the scan covers
//               at least N processes; they are killed at the end.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "collector.hpp"

namespace {

long StatusKiB(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0) return std::atol(line.c_str() + n + 1);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  int spawn = 0, repeat = 3;
  std::string dpkg_dir = "/var/lib/dpkg";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--spawn" && i + 1 < argc) {
      spawn = std::atoi(argv[++i]);
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else if (arg == "--dpkg-dir" && i + 1 < argc) {
      dpkg_dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--spawn N] [--repeat R] [--dpkg-dir DIR]\n", argv[0]);
      return 2;
    }
  }
  std::vector<pid_t> children;
  for (int i = 0; i < spawn; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execl("/bin/sleep", "sleep", "600", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (pid > 0) children.push_back(pid);
  }
  if (!children.empty()) ::sleep(1);  // let every child finish exec

  signals::procfs::CollectorOptions options;
  options.dpkg_dir = dpkg_dir;
  signals::procfs::Collector collector(
      options, [](int, const std::string& message) { std::printf("  log: %s\n", message.c_str()); });
  std::printf(
      "run  processes(listed/matched)  modules  facts  graph(nodes/edges)  scan_ms  elf+dpkg_ms  graph_ms  "
      "total_ms  elf_reads  VmRSS_KiB\n");
  for (int run = 0; run < repeat; ++run) {
    const uint64_t reads_before = collector.elf_cache().reads();
    const auto start = std::chrono::steady_clock::now();
    const signals::procfs::Observation obs = collector.Collect(nullptr);
    const double total =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-4s %8llu/%-8zu %20zu %6zu %10zu/%-8zu %8.1f %12.1f %9.1f %9.1f %10llu %10ld\n",
                run == 0 ? "cold" : "warm", static_cast<unsigned long long>(obs.scan.listed),
                obs.scan.processes.size(), obs.scan.modules.size(), obs.facts.size(),
                collector.graph().node_count(), collector.graph().edge_count(), obs.scan_seconds * 1000,
                obs.enrich_seconds * 1000, obs.graph_seconds * 1000, total,
                static_cast<unsigned long long>(collector.elf_cache().reads() - reads_before),
                StatusKiB("VmRSS:"));
    if (run == 0) {
      for (const auto& [reason, count] : obs.scan.skipped) {
        std::printf("     skipped %s: %llu\n", reason.c_str(), static_cast<unsigned long long>(count));
      }
    }
  }
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS (VmHWM) %ld KiB, ru_maxrss %ld KiB; dpkg index %zu paths, %zu KiB\n",
              StatusKiB("VmHWM:"), usage.ru_maxrss, collector.dpkg().path_count(),
              collector.dpkg().memory_bytes() / 1024);
  for (pid_t pid : children) ::kill(pid, SIGKILL);
  for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
  return 0;
}
