// dpkg_db.cpp — see dpkg_db.hpp.
#include "dpkg_db.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "fnv.hpp"

namespace signals::procfs {
namespace {

// Calls `line` with each line of the file at `path`, read in 64 KiB pieces
// (lines longer than 64 KiB are cut: no dpkg path is that long). False when
// the file cannot be opened or read.
template <typename Fn>
bool ForEachLine(const std::string& path, Fn&& line) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string buffer;
  std::string carry;
  buffer.resize(64 * 1024);
  bool ok = true;
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ok = false;
      break;
    }
    if (n == 0) break;
    std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    while (!chunk.empty()) {
      const size_t end = chunk.find('\n');
      if (end == std::string_view::npos) {
        if (carry.size() < buffer.size()) carry.append(chunk.substr(0, buffer.size() - carry.size()));
        break;
      }
      if (carry.empty()) {
        line(chunk.substr(0, end));
      } else {
        if (carry.size() < buffer.size())
          carry.append(chunk.substr(0, std::min(end, buffer.size() - carry.size())));
        line(std::string_view(carry));
        carry.clear();
      }
      chunk.remove_prefix(end + 1);
    }
  }
  if (ok && !carry.empty()) line(std::string_view(carry));
  ::close(fd);
  return ok;
}

int64_t MtimeNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

uint64_t PathHash(std::string_view text) { return Fnv1a64(text); }

PathAliases MergedUsrAliases(const std::string& root) {
  PathAliases aliases;
  for (const char* dir : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    char target[256];
    const std::string link = root + "/" + dir;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    std::string_view t(target, static_cast<size_t>(n));
    while (t.size() > 1 && t.back() == '/') t.remove_suffix(1);
    const std::string relative = std::string("usr/") + dir;
    if (t == relative || t == "/" + relative) aliases.emplace_back(std::string("/") + dir, "/" + relative);
  }
  return aliases;
}

std::string NormalisePath(std::string_view path, const PathAliases& aliases) {
  for (const auto& [from, to] : aliases) {
    if (StartsWith(path, from) && (path.size() == from.size() || path[from.size()] == '/')) {
      return to + std::string(path.substr(from.size()));
    }
  }
  return std::string(path);
}

void DpkgStatusParser::Line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    Flush();
    return;
  }
  if (line[0] == ' ' || line[0] == '\t') return;  // a continuation (Description, Conffiles)
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string_view field = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (field == "Package") {
    current_.name = std::string(value);
  } else if (field == "Version") {
    current_.version = std::string(value);
  } else if (field == "Architecture") {
    current_.arch = std::string(value);
  } else if (field == "Status") {
    status_ = std::string(value);
  }
}

void DpkgStatusParser::Flush() {
  // "want flag state": the last word says whether the files are on disk.
  const size_t space = status_.find_last_of(' ');
  const std::string state = space == std::string::npos ? status_ : status_.substr(space + 1);
  if (!current_.name.empty() && !current_.version.empty() && !state.empty() && state != "not-installed" &&
      state != "config-files") {
    packages_.push_back(std::move(current_));
  }
  current_ = DebPackage{};
  status_.clear();
}

std::vector<DebPackage> DpkgStatusParser::Finish() {
  Flush();
  return std::move(packages_);
}

std::vector<DebPackage> ParseDpkgStatus(std::string_view text) {
  DpkgStatusParser parser;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    parser.Line(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return parser.Finish();
}

DpkgDatabase::Stamp DpkgDatabase::ReadStamp(const std::string& dir) {
  return Stamp{MtimeNs(dir + "/status"), MtimeNs(dir + "/info")};
}

bool DpkgDatabase::Load(const std::string& dir, const PathAliases& aliases, std::string* problem) {
  dir_ = dir;
  aliases_ = aliases;
  packages_.clear();
  index_.clear();
  skipped_lists_ = 0;
  loaded_ = false;
  // The stamp is taken before reading: a change during the read shows as a
  // change at the next check, never as a missed one.
  stamp_ = ReadStamp(dir);
  DpkgStatusParser parser;
  if (!ForEachLine(dir + "/status", [&](std::string_view line) { parser.Line(line); })) {
    *problem = "cannot read " + dir + "/status";
    return false;
  }
  packages_ = parser.Finish();

  std::map<std::string, uint32_t> by_name_arch, by_name;
  for (uint32_t i = 0; i < packages_.size(); ++i) {
    by_name_arch.emplace(packages_[i].name + ":" + packages_[i].arch, i);
    by_name.emplace(packages_[i].name, i);
  }
  DIR* info = ::opendir((dir + "/info").c_str());
  if (info == nullptr) {
    *problem = "cannot read " + dir + "/info";
    return false;
  }
  std::vector<std::string> lists;
  while (const dirent* entry = ::readdir(info)) {
    const std::string_view name = entry->d_name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".list") lists.emplace_back(name);
  }
  ::closedir(info);
  std::sort(lists.begin(), lists.end());
  for (const std::string& list : lists) {
    const std::string stem = list.substr(0, list.size() - 5);
    // "name:arch.list" names the architecture; "name.list" the one instance.
    const auto& table = stem.find(':') != std::string::npos ? by_name_arch : by_name;
    const auto it = table.find(stem);
    if (it == table.end()) {
      ++skipped_lists_;  // a list left by a package that is no longer installed
      continue;
    }
    const uint32_t package = it->second;
    if (!ForEachLine(dir + "/info/" + list, [&](std::string_view line) {
          if (line.empty() || line[0] != '/') return;
          index_.emplace_back(PathHash(NormalisePath(line, aliases_)), package);
        })) {
      ++skipped_lists_;
    }
  }
  std::sort(index_.begin(), index_.end());
  index_.shrink_to_fit();
  loaded_ = true;
  return true;
}

const DebPackage* DpkgDatabase::Owner(std::string_view path) const {
  const uint64_t h = PathHash(NormalisePath(path, aliases_));
  auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(h, uint32_t{0}));
  if (it == index_.end() || it->first != h) return nullptr;
  return &packages_[it->second];
}

bool DpkgDatabase::Changed() const { return !(ReadStamp(dir_) == stamp_); }

size_t DpkgDatabase::memory_bytes() const {
  size_t bytes = index_.capacity() * sizeof(index_[0]) + packages_.capacity() * sizeof(DebPackage);
  for (const DebPackage& p : packages_) bytes += p.name.capacity() + p.version.capacity() + p.arch.capacity();
  return bytes;
}

}  // namespace signals::procfs
