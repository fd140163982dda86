// scanner.cpp — see scanner.hpp.
#include "scanner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "proc_text.hpp"

namespace signals::procfs {
namespace {

constexpr size_t kSmallFileBytes = 64 * 1024;  // comm, cgroup, status, stat
constexpr size_t kChunkBytes = 64 * 1024;      // one read of maps
constexpr size_t kMaxMapsLine = 16 * 1024;     // a maps line: PATH_MAX and the fields before it

// Closes a descriptor at the end of a scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

const char* Reason(int err) {
  if (err == ENOENT || err == ESRCH) return "vanished";
  if (err == EACCES || err == EPERM) return "unreadable";
  return "error";
}

// Reads up to `limit` bytes of `name` below `dir_fd`. Returns 0 or the errno.
int ReadAt(int dir_fd, const char* name, size_t limit, std::string* out) {
  out->clear();
  Fd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return errno;
  char buffer[4096];
  while (out->size() < limit) {
    const ssize_t n = ::read(fd.get(), buffer, std::min(sizeof buffer, limit - out->size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  return 0;
}

int ReadLinkAt(int dir_fd, const char* name, std::string* out) {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlinkat(dir_fd, name, buffer, sizeof buffer);
  if (n < 0) return errno;
  out->assign(buffer, static_cast<size_t>(n));
  return 0;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// One process's executable mappings, one per file (the first mapping kept).
struct ProcessMaps {
  std::vector<MapsEntry> files;
  std::map<std::pair<std::string, bool>, size_t> by_path;  // (path, deleted) -> files index
  bool truncated = false;
  uint64_t bytes = 0;
};

// Streams maps in pieces; only lines of executable file mappings are kept.
int ReadMaps(int dir_fd, uint64_t limit, ProcessMaps* maps) {
  Fd fd(::openat(dir_fd, "maps", O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return errno;
  std::string buffer(kChunkBytes, '\0');
  std::string carry;
  MapsEntry entry;
  auto line = [&](std::string_view text) {
    if (!ParseMapsLine(text, &entry) || !entry.executable || !IsFileMapping(entry)) return;
    const auto key = std::make_pair(entry.path, entry.deleted);
    if (maps->by_path.count(key) != 0) return;
    maps->by_path.emplace(key, maps->files.size());
    maps->files.push_back(entry);
  };
  while (true) {
    if (maps->bytes >= limit) {
      maps->truncated = true;
      break;
    }
    const ssize_t n = ::read(fd.get(), buffer.data(), std::min<uint64_t>(buffer.size(), limit - maps->bytes));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    maps->bytes += static_cast<uint64_t>(n);
    std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    while (!chunk.empty()) {
      const size_t end = chunk.find('\n');
      if (end == std::string_view::npos) {
        if (carry.size() + chunk.size() <= kMaxMapsLine) carry.append(chunk);
        break;
      }
      if (carry.empty()) {
        line(chunk.substr(0, end));
      } else {
        if (carry.size() + end <= kMaxMapsLine) {
          carry.append(chunk.substr(0, end));
          line(carry);
        }
        carry.clear();
      }
      chunk.remove_prefix(end + 1);
    }
  }
  if (!carry.empty() && !maps->truncated) line(carry);
  return 0;
}

}  // namespace

ProcScanner::ProcScanner(std::string proc_dir, ScanFilter filter, uint64_t max_maps_bytes)
    : proc_dir_(std::move(proc_dir)), filter_(std::move(filter)), max_maps_bytes_(max_maps_bytes) {
  if (ReadLinkAt(AT_FDCWD, (proc_dir_ + "/self/ns/mnt").c_str(), &self_mnt_) != 0) self_mnt_.clear();
}

ScanResult ProcScanner::Scan(const std::function<bool()>& stop) {
  ScanResult result;
  DIR* dir = ::opendir(proc_dir_.c_str());
  if (dir == nullptr) {
    result.skipped[Reason(errno)] += 1;
    return result;
  }
  std::vector<int32_t> pids;
  while (const dirent* entry = ::readdir(dir)) {
    const char* name = entry->d_name;
    if (name[0] < '1' || name[0] > '9') continue;
    char* end = nullptr;
    const long pid = std::strtol(name, &end, 10);
    if (*end == '\0' && pid > 0 && pid <= INT32_MAX) pids.push_back(static_cast<int32_t>(pid));
  }
  std::sort(pids.begin(), pids.end());
  std::map<std::string, uint32_t> index;  // module key -> ScanResult::modules index
  for (const int32_t pid : pids) {
    if (stop && stop()) {
      result.stopped = true;
      break;
    }
    ++result.listed;
    ReadProcess(::dirfd(dir), pid, &result, &index);
  }
  ::closedir(dir);
  return result;
}

void ProcScanner::ReadProcess(int proc_fd, int32_t pid, ScanResult* result,
                              std::map<std::string, uint32_t>* index) {
  const std::string pid_text = std::to_string(pid);
  Fd dir(::openat(proc_fd, pid_text.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) {
    result->skipped[Reason(errno)] += 1;
    return;
  }
  std::string exe, text;
  if (const int err = ReadLinkAt(dir.get(), "exe", &exe); err != 0) {
    if (err != ENOENT) {
      result->skipped[Reason(err)] += 1;
    } else if (ReadAt(dir.get(), "stat", kSmallFileBytes, &text) != 0) {
      result->skipped["vanished"] += 1;
    } else {
      result->skipped[IsKernelThreadStat(text) ? "kernel_thread" : "no_executable"] += 1;
    }
    return;
  }
  constexpr std::string_view kDeleted = " (deleted)";
  bool exe_deleted = false;
  if (exe.size() > kDeleted.size() &&
      exe.compare(exe.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0) {
    exe.resize(exe.size() - kDeleted.size());
    exe_deleted = true;
  }
  if (filter_.exe_regex && !std::regex_search(exe, *filter_.exe_regex)) {
    ++result->filtered;
    return;
  }
  if (filter_.uid >= 0) {
    if (const int err = ReadAt(dir.get(), "status", kSmallFileBytes, &text); err != 0) {
      result->skipped[Reason(err)] += 1;
      return;
    }
    if (RealUidFromStatus(text) != filter_.uid) {
      ++result->filtered;
      return;
    }
  }
  if (const int err = ReadAt(dir.get(), "cgroup", kSmallFileBytes, &text); err != 0) {
    result->skipped[Reason(err)] += 1;
    return;
  }
  if (!filter_.cgroup_prefix.empty()) {
    bool match = false;
    for (const std::string& path : CgroupPaths(text))
      match = match || StartsWith(path, filter_.cgroup_prefix);
    if (!match) {
      ++result->filtered;
      return;
    }
  }
  ObservedProcess process;
  process.pid = pid;
  process.container_id = ContainerIdFromCgroupFile(text);
  if (ReadAt(dir.get(), "comm", kSmallFileBytes, &text) == 0) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    process.name = text;
  }
  if (process.name.empty()) process.name = exe.substr(exe.rfind('/') + 1);
  // Another mount namespace (a container): its paths are read through
  // /proc/<pid>/root. Without the right to read the link, assume ours.
  std::string mnt;
  const bool foreign = ReadLinkAt(dir.get(), "ns/mnt", &mnt) == 0 && !self_mnt_.empty() && mnt != self_mnt_;
  ProcessMaps maps;
  if (const int err = ReadMaps(dir.get(), max_maps_bytes_, &maps); err != 0) {
    result->skipped[Reason(err)] += 1;
    return;
  }
  result->maps_bytes += maps.bytes;
  if (maps.truncated) result->skipped["maps_truncated"] += 1;
  if (maps.by_path.count({exe, exe_deleted}) == 0) {
    MapsEntry entry;
    entry.path = exe;
    entry.deleted = exe_deleted;
    entry.executable = true;
    maps.by_path.emplace(std::make_pair(exe, exe_deleted), maps.files.size());
    maps.files.push_back(entry);
  }
  for (const MapsEntry& file : maps.files) {
    // One module per file: a deleted file is told from the file now at its
    // path (and from other deleted ones) by device and inode.
    std::string key = (foreign ? mnt : std::string()) + '\n';
    if (file.deleted)
      key += std::to_string(file.dev_major) + ":" + std::to_string(file.dev_minor) + ":" +
             std::to_string(file.inode);
    key += '\n' + file.path;
    auto [it, fresh] = index->emplace(key, static_cast<uint32_t>(result->modules.size()));
    if (fresh) {
      ObservedModule module;
      module.path = file.path;
      module.deleted = file.deleted;
      module.foreign = foreign;
      module.dev = (static_cast<uint64_t>(file.dev_major) << 32) | file.dev_minor;
      module.inode = file.inode;
      if (foreign) module.root = proc_dir_ + "/" + pid_text + "/root";
      if (file.end > file.start) {
        char range[64];
        std::snprintf(range, sizeof range, "%llx-%llx", static_cast<unsigned long long>(file.start),
                      static_cast<unsigned long long>(file.end));
        module.map_files = proc_dir_ + "/" + pid_text + "/map_files/" + range;
      }
      result->modules.push_back(std::move(module));
    }
    process.modules.push_back(it->second);
    if (file.path == exe && file.deleted == exe_deleted) {
      process.exe_module = static_cast<int32_t>(it->second);
      result->modules[it->second].executable = true;
    }
  }
  result->processes.push_back(std::move(process));
}

}  // namespace signals::procfs
