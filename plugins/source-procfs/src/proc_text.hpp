// proc_text.hpp — parsers for the text files of /proc/<pid> that
// source-procfs reads: maps (which files a process has mapped), cgroup (where
// it runs, and the container id in that path), stat (the kernel-thread flag)
// and status (the real uid). Pure functions of the text; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace signals::procfs {

// One line of /proc/<pid>/maps:
//   start-end perms offset major:minor inode   pathname
struct MapsEntry {
  uint64_t start = 0, end = 0;
  bool readable = false, executable = false;
  uint64_t offset = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  uint64_t inode = 0;
  // The pathname (spaces kept, the kernel's "\012" for a newline decoded,
  // " (deleted)" removed); "" for anonymous mappings.
  std::string path;
  bool deleted = false;  // the kernel appended " (deleted)": the file was unlinked or replaced
};

// Parses one line (without its '\n'). False when the line is not in the form
// above.
bool ParseMapsLine(std::string_view line, MapsEntry* out);

// True when a mapping is a file that may hold code: a path starting with '/',
// a non-zero inode, not a memfd or System V segment (which show as paths but
// are no files anyone can open by name).
bool IsFileMapping(const MapsEntry& entry);

// The cgroup paths of /proc/<pid>/cgroup ("hierarchy:controllers:path" lines),
// in file order: the unified ("0::") line's path and each v1 hierarchy's.
std::vector<std::string> CgroupPaths(std::string_view text);

// The container id in a cgroup path, or "" when it names none: the last
// component that is, after removing a ".scope" suffix and one of the
// prefixes "docker-", "cri-containerd-", "crio-", "libpod-", "containerd-",
// exactly 64 lowercase hex digits (docker, containerd, CRI-O and podman, with
// the systemd or the cgroupfs driver; Kubernetes pods nest them under
// /kubepods/...). The conmon monitors ("libpod-conmon-…", "crio-conmon-…")
// are not containers.
std::string ContainerIdFromCgroupPath(std::string_view path);

// The first container id of any line of /proc/<pid>/cgroup, or "".
std::string ContainerIdFromCgroupFile(std::string_view text);

// True when the "flags" field (the 9th) of /proc/<pid>/stat has PF_KTHREAD.
// The command name (2nd field, in parentheses) may hold spaces and ')', so
// the fields are counted from the last ')'.
bool IsKernelThreadStat(std::string_view stat_text);

// The real uid of a "Uid:" line of /proc/<pid>/status; -1 when absent.
int64_t RealUidFromStatus(std::string_view status_text);

}  // namespace signals::procfs
