// ld_resolver.cpp — see ld_resolver.hpp.
#include "ld_resolver.hpp"

#include <elf.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <deque>
#include <set>

namespace signals::procfs {
namespace {

constexpr int kMaxSymlinks = 40;             // the kernel's MAXSYMLINKS
constexpr int kMaxIncludeDepth = 8;          // ld.so.conf include nesting
constexpr size_t kMaxConfBytes = 1 << 20;    // one ld.so.conf file
constexpr size_t kMaxObjectsPerTree = 4096;  // objects one process start may load

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

bool ReadSmallFile(const std::string& path, size_t limit, std::string* out) {
  out->clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return false;
  }
  char buffer[16384];
  while (out->size() < limit) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buffer, std::min(static_cast<size_t>(n), limit - out->size()));
  }
  ::close(fd);
  return true;
}

void ReadConf(const RootFs& fs, const std::string& path, int depth, std::vector<std::string>* dirs,
              std::set<std::string>* seen) {
  if (depth > kMaxIncludeDepth) return;
  std::string text;
  if (!ReadSmallFile(fs.Host(path), kMaxConfBytes, &text)) return;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view raw = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    const size_t hash = raw.find('#');
    if (hash != std::string_view::npos) raw = raw.substr(0, hash);
    const std::string line = Trim(raw);
    if (line.empty()) continue;
    if (line.compare(0, 7, "include") == 0 && line.size() > 7 && (line[7] == ' ' || line[7] == '\t')) {
      std::string pattern = Trim(std::string_view(line).substr(8));
      if (pattern.empty()) continue;
      if (pattern[0] != '/') pattern = DirName(path) + "/" + pattern;
      glob_t matches{};
      if (::glob(fs.Host(pattern).c_str(), 0, nullptr, &matches) == 0) {
        for (size_t i = 0; i < matches.gl_pathc; ++i) {
          std::string match = matches.gl_pathv[i];
          ReadConf(fs, match.substr(fs.root().size()), depth + 1, dirs, seen);
        }
      }
      ::globfree(&matches);
      continue;
    }
    if (line.compare(0, 5, "hwcap") == 0 && line.size() > 5 && (line[5] == ' ' || line[5] == '\t')) continue;
    std::string dir = line.substr(0, line.find('='));  // "dir=libc5" of old configurations
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (dir.empty() || dir[0] != '/') continue;
    if (seen->insert(dir).second) dirs->push_back(dir);
  }
}

std::string PlatformName(uint16_t machine) {
  switch (machine) {
    case EM_X86_64:
      return "x86_64";
    case EM_386:
      return "i686";
    case EM_AARCH64:
      return "aarch64";
    default:
      return "";
  }
}

}  // namespace

std::string RootFs::RealPath(const std::string& path) const {
  if (path.empty() || path[0] != '/') return "";
  std::vector<std::string> pending;  // components still to walk, last one first
  auto push_components = [&pending](std::string_view p) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find('/', start);
      if (end == std::string_view::npos) end = p.size();
      if (end > start) parts.emplace_back(p.substr(start, end - start));
      start = end + 1;
    }
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_back(std::move(*it));
  };
  push_components(path);
  std::string resolved;  // "" stands for the root
  int links = 0;
  while (!pending.empty()) {
    const std::string part = std::move(pending.back());
    pending.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      resolved.erase(resolved.empty() ? 0 : resolved.rfind('/'));
      continue;
    }
    const std::string next = resolved + "/" + part;
    struct stat st {};
    if (::lstat(Host(next).c_str(), &st) != 0) return "";
    if (!S_ISLNK(st.st_mode)) {
      resolved = next;
      continue;
    }
    if (++links > kMaxSymlinks) return "";
    char target[PATH_MAX];
    const ssize_t n = ::readlink(Host(next).c_str(), target, sizeof target);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof target) return "";
    const std::string_view t(target, static_cast<size_t>(n));
    if (t[0] == '/') resolved.clear();  // an absolute link starts again at the root
    push_components(t);
  }
  return resolved.empty() ? "/" : resolved;
}

const ElfFile* ElfCache::Get(const std::string& host_path) {
  auto it = files_.find(host_path);
  if (it == files_.end()) it = files_.emplace(host_path, std::make_unique<ElfFile>()).first;
  ElfFile& file = *it->second;
  file.generation = generation_;
  struct stat st {};
  if (::stat(host_path.c_str(), &st) != 0) {
    const int err = errno;
    file = ElfFile{};
    file.generation = generation_;
    file.problem = std::strerror(err);
    return &file;
  }
  if (!S_ISREG(st.st_mode)) {
    file = ElfFile{};
    file.generation = generation_;
    file.problem = "not a regular file";
    return &file;
  }
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (file.ino != 0 && file.dev == st.st_dev && file.ino == st.st_ino &&
      file.size == static_cast<uint64_t>(st.st_size) && file.mtime_ns == mtime) {
    return &file;  // read before, unchanged since
  }
  ++reads_;
  file = ElfFile{};
  file.generation = generation_;
  file.dev = st.st_dev;
  file.ino = st.st_ino;
  file.size = static_cast<uint64_t>(st.st_size);
  file.mtime_ns = mtime;
  // O_NONBLOCK: a FIFO swapped in between stat and open must not hang the scan.
  const int fd = ::open(host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    file.problem = std::strerror(errno);
    return &file;
  }
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode) || opened.st_ino != st.st_ino) {
    file.problem = "changed while being opened";
    file.ino = 0;  // read again next time
  } else {
    file.readable = ReadElfInfo(fd, static_cast<uint64_t>(opened.st_size), &file.info, &file.problem);
    file.not_elf = !file.readable;
  }
  ::close(fd);
  return &file;
}

void ElfCache::Sweep() {
  for (auto it = files_.begin(); it != files_.end();) {
    it = it->second->generation < generation_ ? files_.erase(it) : std::next(it);
  }
}

std::vector<std::string> ReadLdSoConf(const RootFs& fs, const std::string& path) {
  std::vector<std::string> dirs;
  std::set<std::string> seen;
  ReadConf(fs, path, 0, &dirs, &seen);
  return dirs;
}

std::string MultiarchTuple(uint16_t machine, uint8_t elf_class, uint8_t data) {
  const bool is64 = elf_class == ELFCLASS64;
  const bool le = data == ELFDATA2LSB;
  switch (machine) {
    case EM_X86_64:
      return is64 ? "x86_64-linux-gnu" : "x86_64-linux-gnux32";
    case EM_386:
      return "i386-linux-gnu";
    case EM_AARCH64:
      return "aarch64-linux-gnu";
    case EM_ARM:
      return "arm-linux-gnueabihf";
    case EM_PPC64:
      return le ? "powerpc64le-linux-gnu" : "powerpc64-linux-gnu";
    case EM_S390:
      return is64 ? "s390x-linux-gnu" : "";
    case EM_RISCV:
      return is64 ? "riscv64-linux-gnu" : "";
    case EM_LOONGARCH:
      return is64 ? "loongarch64-linux-gnu" : "";
    default:
      return "";
  }
}

std::vector<std::string> SystemDirectories(uint16_t machine, uint8_t elf_class, uint8_t data) {
  std::vector<std::string> dirs;
  const std::string tuple = MultiarchTuple(machine, elf_class, data);
  if (!tuple.empty()) {
    dirs.push_back("/lib/" + tuple);
    dirs.push_back("/usr/lib/" + tuple);
  }
  dirs.push_back("/lib");
  dirs.push_back("/usr/lib");
  if (elf_class == ELFCLASS64) {
    dirs.push_back("/lib64");
    dirs.push_back("/usr/lib64");
  }
  return dirs;
}

std::string ExpandDynamicTokens(std::string_view text, std::string_view origin, std::string_view lib,
                                std::string_view platform) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$') {
      out.push_back(text[i++]);
      continue;
    }
    bool matched = false;
    for (const auto& [token, value] : {std::pair<std::string_view, std::string_view>{"ORIGIN", origin},
                                       {"LIB", lib},
                                       {"PLATFORM", platform}}) {
      const std::string braced = "{" + std::string(token) + "}";
      if (text.substr(i + 1, braced.size()) == braced) {
        out.append(value);
        i += 1 + braced.size();
        matched = true;
        break;
      }
      // $ORIGIN must end at a character that cannot continue a name.
      if (text.substr(i + 1, token.size()) == token) {
        const size_t after = i + 1 + token.size();
        if (after == text.size() ||
            !(std::isalnum(static_cast<unsigned char>(text[after])) || text[after] == '_')) {
          out.append(value);
          i = after;
          matched = true;
          break;
        }
      }
    }
    if (!matched) out.push_back(text[i++]);
  }
  return out;
}

std::vector<std::string> SplitSearchPath(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(':', start);
    if (end == std::string_view::npos) end = text.size();
    std::string entry(text.substr(start, end - start));
    while (entry.size() > 1 && entry.back() == '/') entry.pop_back();
    if (!entry.empty()) out.push_back(std::move(entry));
    start = end + 1;
  }
  return out;
}

// --- the resolver ---------------------------------------------------------------

struct LibraryResolver::Context {
  std::vector<Object> objects;
  std::map<std::string, int> names;    // DT_NEEDED names, sonames and opened paths -> object
  std::map<std::string, int> by_real;  // real path -> object
  int main = 0;
  uint16_t machine = 0;
  uint8_t elf_class = 0, data = 0;
  std::string lib, platform;
  std::vector<std::string> system_dirs;
};

LibraryResolver::LibraryResolver(RootFs fs, std::vector<std::string> conf_dirs, ElfCache* cache)
    : fs_(std::move(fs)), conf_dirs_(std::move(conf_dirs)), cache_(cache) {}

bool LibraryResolver::Try(const std::string& path, const Context& ctx, Candidate* out) {
  auto it = tried_.find(path);
  if (it == tried_.end()) {
    Candidate c;
    c.found = path;
    c.real = fs_.RealPath(path);
    if (!c.real.empty()) {
      c.elf = cache_->Get(fs_.Host(c.real));
      if (!c.elf->readable) c.real.clear();
    }
    it = tried_.emplace(path, std::move(c)).first;
  }
  const Candidate& c = it->second;
  if (c.real.empty() || c.elf == nullptr) return false;
  const ElfInfo& info = c.elf->info;
  if (info.elf_class != ctx.elf_class || info.machine != ctx.machine || info.data != ctx.data) return false;
  *out = c;
  return true;
}

std::vector<std::string> LibraryResolver::PathList(const std::string& text, const Object& owner,
                                                   const Context& ctx) const {
  std::vector<std::string> dirs;
  const std::string origin = DirName(owner.found);
  for (const std::string& entry : SplitSearchPath(text)) {
    std::string dir = ExpandDynamicTokens(entry, origin, ctx.lib, ctx.platform);
    if (!dir.empty() && dir[0] == '/') dirs.push_back(std::move(dir));  // relative: the process's cwd
  }
  return dirs;
}

bool LibraryResolver::SearchDirs(const std::vector<std::string>& dirs, const std::string& name,
                                 const Context& ctx, Candidate* out) {
  for (const std::string& dir : dirs) {
    if (Try(dir == "/" ? "/" + name : dir + "/" + name, ctx, out)) return true;
  }
  return false;
}

bool LibraryResolver::Search(const std::string& name, int requester, const Context& ctx, Candidate* out) {
  const Object& req = ctx.objects[requester];
  const ElfInfo& rinfo = req.elf->info;
  if (name.find('/') != std::string::npos) {
    const std::string path = ExpandDynamicTokens(name, DirName(req.found), ctx.lib, ctx.platform);
    return !path.empty() && path[0] == '/' && Try(path, ctx, out);
  }
  if (!rinfo.has_runpath) {
    bool did_main = false;
    for (int l = requester; l >= 0; l = ctx.objects[l].loader) {
      const Object& o = ctx.objects[l];
      if (o.elf->info.has_rpath && !o.elf->info.has_runpath &&
          SearchDirs(PathList(o.elf->info.rpath, o, ctx), name, ctx, out)) {
        return true;
      }
      did_main = did_main || l == ctx.main;
    }
    const Object& main = ctx.objects[ctx.main];
    if (!did_main && main.elf->info.has_rpath && !main.elf->info.has_runpath &&
        SearchDirs(PathList(main.elf->info.rpath, main, ctx), name, ctx, out)) {
      return true;
    }
  }
  if (rinfo.has_runpath && SearchDirs(PathList(rinfo.runpath, req, ctx), name, ctx, out)) return true;
  if (rinfo.nodeflib) return false;
  return SearchDirs(conf_dirs_, name, ctx, out) || SearchDirs(ctx.system_dirs, name, ctx, out);
}

int LibraryResolver::Load(const Candidate& c, int loader, Context& ctx) {
  auto known = ctx.by_real.find(c.real);
  if (known != ctx.by_real.end()) return known->second;  // the same file: ld.so maps it once
  const int index = static_cast<int>(ctx.objects.size());
  ctx.objects.push_back(Object{c.found, c.real, c.elf, loader});
  ctx.by_real.emplace(c.real, index);
  ctx.names.emplace(c.found, index);
  if (!c.elf->info.soname.empty()) ctx.names.emplace(c.elf->info.soname, index);
  return index;
}

void LibraryResolver::LoadDependencies(int root, Context& ctx, DependencyTree* tree) {
  std::deque<int> queue{root};
  while (!queue.empty()) {
    const int current = queue.front();
    queue.pop_front();
    const std::vector<std::string> needed = ctx.objects[current].elf->info.needed;
    const std::string from = ctx.objects[current].real;
    for (const std::string& name : needed) {
      int target;
      auto named = ctx.names.find(name);
      if (named != ctx.names.end()) {
        target = named->second;
      } else {
        Candidate c;
        if (ctx.objects.size() >= kMaxObjectsPerTree || !Search(name, current, ctx, &c)) {
          tree->unresolved.emplace_back(from, name);
          continue;
        }
        const bool fresh = ctx.by_real.count(c.real) == 0;
        target = Load(c, current, ctx);
        ctx.names.emplace(name, target);
        if (fresh) {
          tree->loaded.push_back(c.real);
          queue.push_back(target);
        }
      }
      tree->edges.emplace_back(from, ctx.objects[target].real);
    }
  }
}

bool LibraryResolver::Begin(const std::string& exe_path, Context* ctx) {
  const ElfFile* exe = cache_->Get(fs_.Host(exe_path));
  if (!exe->readable) return false;
  ctx->elf_class = exe->info.elf_class;
  ctx->data = exe->info.data;
  ctx->machine = exe->info.machine;
  const std::string tuple = MultiarchTuple(ctx->machine, ctx->elf_class, ctx->data);
  ctx->lib = !tuple.empty() ? "lib/" + tuple : ctx->elf_class == ELFCLASS64 ? "lib64" : "lib";
  ctx->platform = PlatformName(ctx->machine);
  ctx->system_dirs = SystemDirectories(ctx->machine, ctx->elf_class, ctx->data);
  ctx->main = Load(Candidate{exe_path, exe_path, exe}, -1, *ctx);
  return true;
}

DependencyTree LibraryResolver::ResolveTree(const std::string& exe_path,
                                            const std::vector<std::string>& dlopened) {
  DependencyTree tree;
  Context ctx;
  if (!Begin(exe_path, &ctx)) return tree;
  tree.loaded.push_back(exe_path);
  const std::string& interpreter = ctx.objects[ctx.main].elf->info.interpreter;
  if (!interpreter.empty()) {
    Candidate interp;
    if (Try(interpreter, ctx, &interp)) {
      const bool fresh = ctx.by_real.count(interp.real) == 0;
      const int index = Load(interp, -1, ctx);
      tree.edges.emplace_back(exe_path, ctx.objects[index].real);
      tree.interpreter = ctx.objects[index].real;
      if (fresh) tree.loaded.push_back(interp.real);
    } else {
      tree.unresolved.emplace_back(exe_path, interpreter);
    }
  }
  LoadDependencies(ctx.main, ctx, &tree);
  for (const std::string& path : dlopened) {
    if (ctx.by_real.count(path) != 0) continue;
    Candidate c;
    if (!Try(path, ctx, &c)) continue;
    const int index = Load(c, -1, ctx);
    tree.loaded.push_back(c.real);
    LoadDependencies(index, ctx, &tree);
  }
  return tree;
}

std::string LibraryResolver::ResolveName(const std::string& name, const std::string& requester_path,
                                         const std::string& exe_path) {
  Context ctx;
  if (!Begin(exe_path, &ctx)) return "";
  int requester = ctx.main;
  if (requester_path != exe_path) {
    Candidate c;
    if (!Try(requester_path, ctx, &c)) return "";
    requester = Load(c, ctx.main, ctx);  // as if the executable had loaded it
  }
  Candidate found;
  return Search(name, requester, ctx, &found) ? found.real : "";
}

}  // namespace signals::procfs
