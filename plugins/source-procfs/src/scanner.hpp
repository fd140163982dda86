// scanner.hpp — one pass over /proc: which processes match the filters, what
// each runs (/proc/<pid>/exe), where (/proc/<pid>/cgroup: the container id)
// and which files it has mapped executable (/proc/<pid>/maps).
//
// Each process is read through a descriptor of its /proc/<pid> directory, so
// that a pid reused half-way through is read as the process that vanished
// (ESRCH), never as a mix of two. A process that vanishes or cannot be read
// (another user's, without CAP_SYS_PTRACE) is counted by reason and skipped;
// nothing here fails a scan. Reads are bounded: maps up to max_maps_bytes
// (in 64 KiB pieces), the small files up to 64 KiB.
//
// Not thread-safe: one scan at a time per scanner.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace signals::procfs {

struct ScanFilter {
  std::optional<std::regex> exe_regex;  // searched in the executable's path
  std::string cgroup_prefix;            // "" matches all; else some cgroup path must start with it
  int64_t uid = -1;                     // real uid; -1 matches all
};

// One file some matched process has mapped with execute permission.
struct ObservedModule {
  std::string path;             // as the process sees it (its mount namespace)
  bool deleted = false;         // unlinked or replaced since it was mapped
  bool foreign = false;         // in another mount namespace than the scanner's
  std::string root;             // "" or "/proc/<pid>/root" of a process that maps it
  std::string map_files;        // "/proc/<pid>/map_files/<start>-<end>" of one executable mapping
  uint64_t dev = 0, inode = 0;  // from maps
  bool executable = false;      // some matched process runs it
};

struct ObservedProcess {
  int32_t pid = 0;
  std::string name;               // /proc/<pid>/comm
  std::string container_id;       // "" outside containers
  int32_t exe_module = -1;        // index into ScanResult::modules
  std::vector<uint32_t> modules;  // indices into ScanResult::modules, exe included
};

struct ScanResult {
  std::vector<ObservedProcess> processes;  // matched ones, by pid
  std::vector<ObservedModule> modules;
  uint64_t listed = 0;    // numeric entries of /proc read
  uint64_t filtered = 0;  // did not match the filters
  // Processes not read, by reason: "vanished" (exited during the scan),
  // "unreadable" (EACCES/EPERM), "kernel_thread", "no_executable" (zombies),
  // "maps_truncated" (read, but maps was cut at max_maps_bytes), "error".
  std::map<std::string, uint64_t> skipped;
  uint64_t maps_bytes = 0;  // bytes of maps read
  bool stopped = false;     // the stop predicate ended the scan early
};

class ProcScanner {
 public:
  ProcScanner(std::string proc_dir, ScanFilter filter, uint64_t max_maps_bytes);
  // `stop` is asked between processes; true ends the scan (stopped = true).
  ScanResult Scan(const std::function<bool()>& stop);

 private:
  void ReadProcess(int proc_fd, int32_t pid, ScanResult* result, std::map<std::string, uint32_t>* index);

  std::string proc_dir_;
  ScanFilter filter_;
  uint64_t max_maps_bytes_;
  std::string self_mnt_;  // readlink of /proc/self/ns/mnt
};

}  // namespace signals::procfs
