// ld_resolver.hpp — resolving DT_NEEDED entries to files the way the GNU
// dynamic loader (ld.so, glibc's elf/dl-load.c) does when it starts a
// program, so that the module graph's edges are the libraries each object
// really gets:
//
//   1. a name with a '/' is a path (after $ORIGIN/$LIB/$PLATFORM expansion);
//   2. a name already loaded (by the name it was asked for or its DT_SONAME)
//      is that object again;
//   3. when the requesting object has no DT_RUNPATH: the DT_RPATH of the
//      requesting object, of the object that loaded it, and so on up to the
//      executable, then the executable's own DT_RPATH (an object's DT_RPATH
//      is ignored when it also has DT_RUNPATH);
//   4. (LD_LIBRARY_PATH: a process's environment is not read, so not here);
//   5. the requesting object's DT_RUNPATH;
//   6. unless DF_1_NODEFLIB: the directories of /etc/ld.so.conf (with its
//      "include" globs), which is what ldconfig puts in ld.so.cache;
//   7. unless DF_1_NODEFLIB: the system directories, /lib/<multiarch>,
//      /usr/lib/<multiarch>, /lib, /usr/lib (and /lib64, /usr/lib64 for 64-bit
//      objects, where non-Debian systems keep them).
// A candidate counts only when it is an ELF file of the executable's class
// and machine (ld.so skips a 32-bit libz in a 64-bit search the same way).
// glibc-hwcaps subdirectories and the legacy hwcap directories are not
// searched: Debian ships no libraries there.
//
// Everything is read below a root: "" for the plugin's own mount namespace,
// "/proc/<pid>/root" for a process in another one (a container), whose
// symlinks are then followed inside that root.
//
// Not thread-safe; one scan uses one set of these objects.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "elf_info.hpp"

namespace signals::procfs {

// File access below a root directory.
class RootFs {
 public:
  explicit RootFs(std::string root = "") : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  // The path as this process opens it.
  std::string Host(const std::string& path) const { return root_ + path; }
  // `path` (absolute, as seen inside the root) with every symlink resolved
  // inside the root, "." and ".." removed; "" when some component does not
  // exist or the links loop (more than 40, as the kernel allows).
  std::string RealPath(const std::string& path) const;

 private:
  std::string root_;
};

// One ELF file as read, with what identifies its content on disk.
struct ElfFile {
  ElfInfo info;
  bool readable = false;  // a regular file that could be opened and is ELF
  bool not_elf = false;   // it was opened and read, and is not ELF
  std::string problem;    // why not, when !readable
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0;
  uint64_t generation = 0;  // the scan that last used it
};

// ElfInfo of files, kept while they are in use: Get() re-reads a file whose
// device, inode, size or mtime changed; Sweep() forgets files no scan since
// the given generation asked for, so the cache holds one scan's working set.
class ElfCache {
 public:
  // The file at `host_path` (as this process opens it). Never null. A file
  // that is not regular is not opened (a device node may act on open).
  const ElfFile* Get(const std::string& host_path);
  void BeginScan() { ++generation_; }
  void Sweep();
  size_t size() const { return files_.size(); }
  uint64_t reads() const { return reads_; }

 private:
  std::map<std::string, std::unique_ptr<ElfFile>, std::less<>> files_;
  uint64_t generation_ = 0;
  uint64_t reads_ = 0;
};

// The directories of an ld.so.conf file, in order, below `fs`: comments
// ('#') and "hwcap" lines skipped, "include <glob>" followed (a relative
// glob is taken from the including file's directory; at most 8 levels), a
// "dir=type" suffix of old configurations cut.
std::vector<std::string> ReadLdSoConf(const RootFs& fs, const std::string& path = "/etc/ld.so.conf");

// Debian's multiarch tuple of an ELF machine and class ("x86_64-linux-gnu"),
// or "" when unknown.
std::string MultiarchTuple(uint16_t machine, uint8_t elf_class, uint8_t data);

// The system directories searched last (step 7 above).
std::vector<std::string> SystemDirectories(uint16_t machine, uint8_t elf_class, uint8_t data);

// An RPATH/RUNPATH entry or a DT_NEEDED path with $ORIGIN, ${ORIGIN}, $LIB,
// ${LIB}, $PLATFORM and ${PLATFORM} replaced. `origin` is the directory of the
// object the entry belongs to.
std::string ExpandDynamicTokens(std::string_view text, std::string_view origin, std::string_view lib,
                                std::string_view platform);

// A search path split at ':' ; empty entries are dropped (glibc would search
// the working directory of the process, which a scan cannot know).
std::vector<std::string> SplitSearchPath(std::string_view text);

// What ResolveTree found: edges between real paths, DT_NEEDED names that no
// directory held, and every object loaded.
struct DependencyTree {
  std::vector<std::pair<std::string, std::string>> edges;       // (requester, library)
  std::vector<std::pair<std::string, std::string>> unresolved;  // (requester, DT_NEEDED name)
  std::vector<std::string> loaded;                              // real paths, in load order
  std::string interpreter;  // the real path of the executable's PT_INTERP, when found
};

class LibraryResolver {
 public:
  // `conf_dirs`: ReadLdSoConf of the same root. `cache` outlives the resolver.
  LibraryResolver(RootFs fs, std::vector<std::string> conf_dirs, ElfCache* cache);

  // Loads the executable at `exe_path` (a real path inside the root) and its
  // dependencies breadth-first, as ld.so does at start (its PT_INTERP counts
  // as an edge and as loaded, so that libc's DT_NEEDED of the loader is the
  // same object). Then each of `dlopened` (real paths of objects the process
  // has mapped that the start did not load) is loaded the way dlopen() loads
  // it: its own dependencies, with the executable's DT_RPATH in the chain, and
  // no edge from the executable.
  DependencyTree ResolveTree(const std::string& exe_path, const std::vector<std::string>& dlopened);

  // Where the search of DT_NEEDED `name` ends when `requester_path` asks
  // for it in a process of `exe_path` that loaded the requester directly
  // (both real paths): the real path found, or "". Steps 1 and 3-7 above.
  std::string ResolveName(const std::string& name, const std::string& requester_path,
                          const std::string& exe_path);

 private:
  struct Object {
    std::string found;  // the path ld.so opened (its directory is $ORIGIN)
    std::string real;
    const ElfFile* elf = nullptr;
    int loader = -1;  // index of the object that loaded it; -1 for the executable and dlopen roots
  };
  struct Candidate {
    std::string found, real;
    const ElfFile* elf = nullptr;
  };
  struct Context;

  bool Begin(const std::string& exe_path, Context* ctx);  // the executable as object 0
  bool Try(const std::string& path, const Context& ctx, Candidate* out);
  bool SearchDirs(const std::vector<std::string>& dirs, const std::string& name, const Context& ctx,
                  Candidate* out);
  bool Search(const std::string& name, int requester, const Context& ctx, Candidate* out);
  int Load(const Candidate& c, int loader, Context& ctx);
  void LoadDependencies(int root, Context& ctx, DependencyTree* tree);
  std::vector<std::string> PathList(const std::string& text, const Object& owner, const Context& ctx) const;

  RootFs fs_;
  std::vector<std::string> conf_dirs_;
  ElfCache* cache_;
  std::map<std::string, Candidate> tried_;  // path -> what Try found there ("" real: nothing)
};

}  // namespace signals::procfs
