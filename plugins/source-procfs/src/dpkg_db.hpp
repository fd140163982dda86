// dpkg_db.hpp — which installed Debian package owns a file, read from dpkg's
// own database the way `dpkg -S` and `dpkg-query -W` read it:
//   <dir>/status        paragraphs with Package, Status, Architecture, Version;
//   <dir>/info/*.list   one file per installed package ("name.list", or
//                       "name:arch.list" for Multi-Arch: same packages), one
//                       path a line.
//
// Memory: the lists of a desktop system hold ~160,000 paths (9 MB of text).
// The index keeps no path text, only a sorted table of 64-bit hashes of the
// normalised paths with a package number (16 bytes a path: ~2.5 MB for that
// system). Two different paths share a hash with a probability of about 1e-14
// per lookup at that size, which is far below anything else that can go wrong.
//
// Merged /usr: on systems where /lib, /bin, ... are symlinks into /usr,
// /proc/<pid>/maps names /usr/lib/x86_64-linux-gnu/libz.so.1.2.13 while
// zlib1g's list says /lib/x86_64-linux-gnu/libz.so.1.2.13 (and newer packages
// the other way round). Both the lists and the lookups are normalised through
// the same aliases (/lib -> /usr/lib, ...), taken from the file system at load,
// so either spelling finds the owner; on a system without merged /usr the two
// are different files and nothing is aliased.
//
// Not thread-safe: one scanner uses it; Load() replaces it whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace signals::procfs {

struct DebPackage {
  std::string name;
  std::string version;
  std::string arch;
};

// One top-level directory that is a symlink into /usr: "/lib" -> "/usr/lib".
using PathAliases = std::vector<std::pair<std::string, std::string>>;

// The merged-/usr aliases of the system under `root` ("" for this one): each
// of /bin, /sbin, /lib, /lib32, /lib64, /libx32 whose symlink points to
// usr/<same> (relative or absolute).
PathAliases MergedUsrAliases(const std::string& root);

// `path` with a leading aliased directory replaced by its target.
std::string NormalisePath(std::string_view path, const PathAliases& aliases);

// Reads the status file a line at a time (it is a few MB; no copy is kept)
// and keeps the installed packages: any state but not-installed and
// config-files, with their name, version and architecture.
class DpkgStatusParser {
 public:
  void Line(std::string_view line);  // one line, without its '\n'
  std::vector<DebPackage> Finish();

 private:
  void Flush();
  DebPackage current_;
  std::string status_;
  std::vector<DebPackage> packages_;
};

// The same for a whole status text.
std::vector<DebPackage> ParseDpkgStatus(std::string_view text);

class DpkgDatabase {
 public:
  // Reads `dir` (status and info/*.list). False with *problem when the
  // status file cannot be read; unreadable lists are skipped (counted in
  // skipped_lists()).
  bool Load(const std::string& dir, const PathAliases& aliases, std::string* problem);

  // The package owning `path` (either merged-/usr spelling), or nullptr.
  const DebPackage* Owner(std::string_view path) const;

  // True when dpkg changed its database since Load (the mtime of status or of
  // the info directory, where dpkg renames every new list into place).
  bool Changed() const;

  bool loaded() const { return loaded_; }
  size_t package_count() const { return packages_.size(); }
  size_t path_count() const { return index_.size(); }
  size_t skipped_lists() const { return skipped_lists_; }
  // Bytes held by the index and the package table.
  size_t memory_bytes() const;

 private:
  struct Stamp {
    int64_t status_ns = -1;
    int64_t info_ns = -1;
    bool operator==(const Stamp& o) const { return status_ns == o.status_ns && info_ns == o.info_ns; }
  };
  static Stamp ReadStamp(const std::string& dir);

  std::string dir_;
  PathAliases aliases_;
  Stamp stamp_;
  bool loaded_ = false;
  std::vector<DebPackage> packages_;
  std::vector<std::pair<uint64_t, uint32_t>> index_;  // (hash of the normalised path, package), sorted
  size_t skipped_lists_ = 0;
};

// 64-bit FNV-1a, the index's hash.
uint64_t PathHash(std::string_view text);

}  // namespace signals::procfs
