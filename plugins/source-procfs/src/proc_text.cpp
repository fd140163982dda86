// proc_text.cpp — see proc_text.hpp.
#include "proc_text.hpp"

#include <cstdlib>

namespace signals::procfs {
namespace {

bool ParseHex(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 16) return false;
  uint64_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// The next field separated by spaces; advances `rest` past it.
std::string_view NextField(std::string_view* rest) {
  size_t start = rest->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *rest = {};
    return {};
  }
  size_t end = rest->find(' ', start);
  std::string_view field =
      rest->substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  *rest = end == std::string_view::npos ? std::string_view{} : rest->substr(end);
  return field;
}

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

bool ParseMapsLine(std::string_view line, MapsEntry* out) {
  *out = MapsEntry{};
  std::string_view rest = line;
  const std::string_view range = NextField(&rest);
  const std::string_view perms = NextField(&rest);
  const std::string_view offset = NextField(&rest);
  const std::string_view dev = NextField(&rest);
  const std::string_view inode = NextField(&rest);
  const size_t dash = range.find('-');
  const size_t colon = dev.find(':');
  if (dash == std::string_view::npos || perms.size() < 4 || colon == std::string_view::npos) return false;
  uint64_t major = 0, minor = 0;
  if (!ParseHex(range.substr(0, dash), &out->start) || !ParseHex(range.substr(dash + 1), &out->end) ||
      !ParseHex(offset, &out->offset) || !ParseHex(dev.substr(0, colon), &major) ||
      !ParseHex(dev.substr(colon + 1), &minor) || !ParseDecimal(inode, &out->inode)) {
    return false;
  }
  out->dev_major = static_cast<uint32_t>(major);
  out->dev_minor = static_cast<uint32_t>(minor);
  out->readable = perms[0] == 'r';
  out->executable = perms[2] == 'x';
  // The pathname is the rest after the padding; it may contain spaces.
  const size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) return true;
  std::string_view path = rest.substr(start);
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.size() > kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted) {
    out->deleted = true;
    path.remove_suffix(kDeleted.size());
  }
  // The kernel writes a newline in a path as "\012" (and escapes nothing else).
  out->path.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && path.substr(i, 4) == "\\012") {
      out->path.push_back('\n');
      i += 3;
    } else {
      out->path.push_back(path[i]);
    }
  }
  return true;
}

bool IsFileMapping(const MapsEntry& entry) {
  if (entry.inode == 0 || entry.path.empty() || entry.path[0] != '/') return false;
  return !StartsWith(entry.path, "/memfd:") && !StartsWith(entry.path, "/SYSV") &&
         !StartsWith(entry.path, "/dev/zero") && !StartsWith(entry.path, "/[aio]");
}

std::vector<std::string> CgroupPaths(std::string_view text) {
  std::vector<std::string> paths;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    paths.emplace_back(line.substr(second + 1));
  }
  return paths;
}

std::string ContainerIdFromCgroupPath(std::string_view path) {
  static constexpr std::string_view kPrefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-",
                                                   "containerd-"};
  while (!path.empty()) {
    const size_t slash = path.rfind('/');
    std::string_view part = slash == std::string_view::npos ? path : path.substr(slash + 1);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
    if (StartsWith(part, "libpod-conmon-") || StartsWith(part, "crio-conmon-")) continue;
    constexpr std::string_view kScope = ".scope";
    if (part.size() > kScope.size() && part.substr(part.size() - kScope.size()) == kScope) {
      part.remove_suffix(kScope.size());
    }
    for (std::string_view prefix : kPrefixes) {
      if (StartsWith(part, prefix)) {
        part.remove_prefix(prefix.size());
        break;
      }
    }
    if (IsLowerHex64(part)) return std::string(part);
  }
  return "";
}

std::string ContainerIdFromCgroupFile(std::string_view text) {
  for (const std::string& path : CgroupPaths(text)) {
    std::string id = ContainerIdFromCgroupPath(path);
    if (!id.empty()) return id;
  }
  return "";
}

bool IsKernelThreadStat(std::string_view stat_text) {
  constexpr uint64_t kPfKthread = 0x00200000;  // PF_KTHREAD, include/linux/sched.h
  const size_t close = stat_text.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = stat_text.substr(close + 1);
  // After the command: state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9).
  std::string_view field;
  for (int i = 3; i <= 9; ++i) field = NextField(&rest);
  uint64_t flags = 0;
  return ParseDecimal(field, &flags) && (flags & kPfKthread) != 0;
}

int64_t RealUidFromStatus(std::string_view status_text) {
  size_t at = 0;
  while (at < status_text.size()) {
    size_t end = status_text.find('\n', at);
    std::string_view line =
        status_text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    at = end == std::string_view::npos ? status_text.size() : end + 1;
    if (!StartsWith(line, "Uid:")) continue;
    std::string_view rest = line.substr(4);
    size_t start = rest.find_first_not_of(" \t");
    if (start == std::string_view::npos) return -1;
    rest = rest.substr(start);
    const size_t stop = rest.find_first_of(" \t");
    uint64_t uid = 0;
    if (!ParseDecimal(rest.substr(0, stop), &uid)) return -1;
    return static_cast<int64_t>(uid);
  }
  return -1;
}

}  // namespace signals::procfs
