// DT_NEEDED resolution: the search order of ld.so on a fixture root (RPATH,
// RUNPATH, $ORIGIN, inherited RPATH, ld.so.conf with includes, system
// directories, wrong-class candidates, DF_1_NODEFLIB, merged /usr symlinks),
// and on this machine against ldd, which runs the real loader.
#include "ld_resolver.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "test_support.hpp"

namespace {

using namespace signals::procfs;
using procfs_test::ElfSpec;
using procfs_test::ElfWriter;
namespace fs = std::filesystem;

class Root {
 public:
  // A merged-/usr root: /lib -> usr/lib, /lib64 -> usr/lib64.
  Root() {
    fs::create_directories(dir_.path() + "/usr/lib/x86_64-linux-gnu");
    fs::create_directories(dir_.path() + "/usr/lib64");
    procfs_test::Symlink("usr/lib", dir_.path() + "/lib");
    procfs_test::Symlink("usr/lib64", dir_.path() + "/lib64");
  }
  const std::string& path() const { return dir_.path(); }
  // An ELF file at `path` (inside the root).
  void Elf(const std::string& path, ElfSpec spec) {
    procfs_test::WriteFile(dir_.path() + path, ElfWriter::Make(spec));
  }
  void Lib(const std::string& path, const std::string& soname, std::vector<std::string> needed = {}) {
    ElfSpec spec;
    spec.soname = soname;
    spec.needed = std::move(needed);
    Elf(path, spec);
  }
  void File(const std::string& path, const std::string& text) {
    procfs_test::WriteFile(dir_.path() + path, text);
  }
  void Link(const std::string& target, const std::string& link) {
    procfs_test::Symlink(target, dir_.path() + link);
  }

 private:
  procfs_test::TempDir dir_;
};

TEST(RootFs, RealPathStaysInsideTheRoot) {
  Root root;
  root.File("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "x");
  root.Link("libz.so.1.2.13", "/usr/lib/x86_64-linux-gnu/libz.so.1");
  root.Link("/etc/passwd-not-here", "/usr/lib/escape");  // absolute: inside the root, where it is absent
  root.Link("../../..", "/usr/lib/up");
  root.Link("loop2", "/usr/lib/loop1");
  root.Link("loop1", "/usr/lib/loop2");
  RootFs fs(root.path());
  EXPECT_EQ(fs.RealPath("/lib/x86_64-linux-gnu/libz.so.1"), "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13");
  EXPECT_EQ(fs.RealPath("/lib/./x86_64-linux-gnu/../x86_64-linux-gnu/libz.so.1"),
            "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13");
  EXPECT_EQ(fs.RealPath("/usr/lib/escape"), "");
  EXPECT_EQ(fs.RealPath("/usr/lib/up/lib"), "/usr/lib");  // ".." above the root stays at the root
  EXPECT_EQ(fs.RealPath("/usr/lib/loop1"), "");
  EXPECT_EQ(fs.RealPath("/nothing"), "");
  EXPECT_EQ(fs.RealPath("relative"), "");
  EXPECT_EQ(fs.RealPath("/"), "/");
  // The plugin's own root: the same as realpath(3).
  char* real = ::realpath("/proc/self/exe", nullptr);
  EXPECT_EQ(RootFs().RealPath("/proc/self/exe"), real);
  std::free(real);
}

TEST(LdSoConf, IncludesCommentsAndOldSyntax) {
  Root root;
  root.File("/etc/ld.so.conf", "# top\ninclude /etc/ld.so.conf.d/*.conf\n/opt/after\n  /opt/spaced/  \n");
  root.File("/etc/ld.so.conf.d/a.conf", "/opt/a # trailing comment\nhwcap 1 nosegneg\ninclude sub/*.conf\n");
  root.File("/etc/ld.so.conf.d/b.conf", "/opt/b=libc5\n/opt/a\nrelative/dir\n");
  root.File("/etc/ld.so.conf.d/sub/c.conf", "/opt/c\ninclude ../*.conf\n");  // a cycle, cut by depth
  root.File("/etc/ld.so.conf.d/skip.txt", "/opt/never\n");
  EXPECT_EQ(ReadLdSoConf(RootFs(root.path())),
            (std::vector<std::string>{"/opt/a", "/opt/c", "/opt/b", "/opt/after", "/opt/spaced"}));
  EXPECT_TRUE(ReadLdSoConf(RootFs(root.path()), "/etc/missing.conf").empty());
}

TEST(DynamicTokens, Expansion) {
  EXPECT_EQ(ExpandDynamicTokens("$ORIGIN/../lib", "/opt/app/bin", "lib/x86_64-linux-gnu", "x86_64"),
            "/opt/app/bin/../lib");
  EXPECT_EQ(ExpandDynamicTokens("${ORIGIN}/x:$LIB/y:/p/$PLATFORM", "/o", "lib64", "x86_64"),
            "/o/x:lib64/y:/p/x86_64");
  EXPECT_EQ(ExpandDynamicTokens("$ORIGINAL/x", "/o", "l", "p"), "$ORIGINAL/x");  // not the token
  EXPECT_EQ(ExpandDynamicTokens("/a/$", "/o", "l", "p"), "/a/$");
  EXPECT_EQ(SplitSearchPath("/a::/b/:$ORIGIN"), (std::vector<std::string>{"/a", "/b", "$ORIGIN"}));
}

TEST(Multiarch, TuplesAndSystemDirectories) {
  EXPECT_EQ(MultiarchTuple(EM_X86_64, ELFCLASS64, ELFDATA2LSB), "x86_64-linux-gnu");
  EXPECT_EQ(MultiarchTuple(EM_386, ELFCLASS32, ELFDATA2LSB), "i386-linux-gnu");
  EXPECT_EQ(MultiarchTuple(EM_AARCH64, ELFCLASS64, ELFDATA2LSB), "aarch64-linux-gnu");
  EXPECT_EQ(MultiarchTuple(EM_PPC64, ELFCLASS64, ELFDATA2LSB), "powerpc64le-linux-gnu");
  EXPECT_EQ(MultiarchTuple(0xfff0, ELFCLASS64, ELFDATA2LSB), "");
  EXPECT_EQ(SystemDirectories(EM_X86_64, ELFCLASS64, ELFDATA2LSB),
            (std::vector<std::string>{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib",
                                      "/usr/lib", "/lib64", "/usr/lib64"}));
  EXPECT_EQ(SystemDirectories(EM_386, ELFCLASS32, ELFDATA2LSB),
            (std::vector<std::string>{"/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu", "/lib", "/usr/lib"}));
}

TEST(LibraryResolver, SearchOrder) {
  Root root;
  root.File("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
  root.File("/etc/ld.so.conf.d/local.conf", "/opt/conf\n");
  // The executable: RPATH $ORIGIN/../lib and /opt/exerpath.
  ElfSpec exe;
  exe.type = ET_EXEC;
  exe.interpreter = "/lib64/ld-linux-x86-64.so.2";
  exe.has_rpath = true;
  exe.rpath = "$ORIGIN/../lib:/opt/exerpath";
  exe.needed = {"libapp.so", "libc.so.6"};
  root.Elf("/app/bin/prog", exe);
  root.Lib("/usr/lib64/ld-linux-x86-64.so.2", "ld-linux-x86-64.so.2");
  root.Lib("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc.so.6", {"ld-linux-x86-64.so.2"});
  root.Lib("/app/lib/libapp.so", "libapp.so", {"libinherit.so", "libconf.so", "libsys.so"});
  root.Lib("/opt/exerpath/libinherit.so", "libinherit.so");  // found through the executable's RPATH
  root.Lib("/opt/conf/libconf.so", "libconf.so");            // through ld.so.conf
  root.Lib("/opt/conf/libsys.so.bad", "x");
  root.Lib("/usr/lib/libsys.so", "libsys.so");  // a system directory
  RootFs fs(root.path());
  ElfCache cache;
  LibraryResolver resolver(fs, ReadLdSoConf(fs), &cache);
  EXPECT_EQ(resolver.ResolveName("libapp.so", "/app/bin/prog", "/app/bin/prog"), "/app/lib/libapp.so");
  EXPECT_EQ(resolver.ResolveName("libinherit.so", "/app/lib/libapp.so", "/app/bin/prog"),
            "/opt/exerpath/libinherit.so");
  EXPECT_EQ(resolver.ResolveName("libconf.so", "/app/lib/libapp.so", "/app/bin/prog"),
            "/opt/conf/libconf.so");
  EXPECT_EQ(resolver.ResolveName("libsys.so", "/app/lib/libapp.so", "/app/bin/prog"), "/usr/lib/libsys.so");
  EXPECT_EQ(resolver.ResolveName("libnone.so", "/app/lib/libapp.so", "/app/bin/prog"), "");

  const DependencyTree tree = resolver.ResolveTree("/app/bin/prog", {});
  const std::set<std::pair<std::string, std::string>> edges(tree.edges.begin(), tree.edges.end());
  const std::set<std::pair<std::string, std::string>> want = {
      {"/app/bin/prog", "/usr/lib64/ld-linux-x86-64.so.2"},
      {"/app/bin/prog", "/app/lib/libapp.so"},
      {"/app/bin/prog", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
      {"/app/lib/libapp.so", "/opt/exerpath/libinherit.so"},
      {"/app/lib/libapp.so", "/opt/conf/libconf.so"},
      {"/app/lib/libapp.so", "/usr/lib/libsys.so"},
      // libc's DT_NEEDED of the loader is the loader the kernel started (by soname)
      {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib64/ld-linux-x86-64.so.2"},
  };
  EXPECT_EQ(edges, want);
  EXPECT_EQ(tree.interpreter, "/usr/lib64/ld-linux-x86-64.so.2");
  EXPECT_TRUE(tree.unresolved.empty());
  EXPECT_EQ(tree.loaded.size(), 7u);
}

TEST(LibraryResolver, RunpathHidesRpathAndIsNotInherited) {
  Root root;
  ElfSpec exe;
  exe.has_rpath = true;
  exe.rpath = "/opt/exe";
  exe.needed = {"liba.so"};
  root.Elf("/bin/prog", exe);
  // liba has RUNPATH: neither its own RPATH nor the executable's is searched
  // for its dependencies, only its RUNPATH and then the defaults.
  ElfSpec a;
  a.soname = "liba.so";
  a.has_rpath = true;
  a.rpath = "/opt/arpath";
  a.has_runpath = true;
  a.runpath = "/opt/arunpath";
  a.needed = {"libb.so", "libc2.so"};
  root.Elf("/opt/exe/liba.so", a);
  root.Lib("/opt/arpath/libb.so", "libb.so");
  root.Lib("/opt/exe/libb.so", "libb.so");
  root.Lib("/opt/arunpath/libc2.so", "libc2.so");
  // The executable's RUNPATH does not apply to liba's dependencies either.
  RootFs fs(root.path());
  ElfCache cache;
  LibraryResolver resolver(fs, {}, &cache);
  EXPECT_EQ(resolver.ResolveName("liba.so", "/bin/prog", "/bin/prog"), "/opt/exe/liba.so");
  EXPECT_EQ(resolver.ResolveName("libb.so", "/opt/exe/liba.so", "/bin/prog"), "");
  EXPECT_EQ(resolver.ResolveName("libc2.so", "/opt/exe/liba.so", "/bin/prog"), "/opt/arunpath/libc2.so");
  const DependencyTree tree = resolver.ResolveTree("/bin/prog", {});
  EXPECT_EQ(tree.unresolved,
            (std::vector<std::pair<std::string, std::string>>{{"/opt/exe/liba.so", "libb.so"}}));
}

TEST(LibraryResolver, WrongClassSlashNamesNodeflibAndMergedUsr) {
  Root root;
  ElfSpec exe;
  exe.needed = {"libz.so.1", "$ORIGIN/plugins/libp.so", "libgone.so"};
  exe.nodeflib = false;
  root.Elf("/srv/prog", exe);
  // ld.so.conf lists a 32-bit directory first: its libz is skipped.
  root.File("/etc/ld.so.conf", "/usr/lib32\n");
  ElfSpec z32;
  z32.elf_class = ELFCLASS32;
  z32.machine = EM_386;
  z32.soname = "libz.so.1";
  root.Elf("/usr/lib32/libz.so.1", z32);
  // The 64-bit one through the merged-/usr symlinks: /lib/x86_64-linux-gnu
  // is searched first and its link resolves into /usr/lib.
  root.Lib("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "libz.so.1");
  root.Link("libz.so.1.2.13", "/usr/lib/x86_64-linux-gnu/libz.so.1");
  root.Lib("/srv/plugins/libp.so", "libp.so");
  RootFs fs(root.path());
  ElfCache cache;
  LibraryResolver resolver(fs, ReadLdSoConf(fs), &cache);
  EXPECT_EQ(resolver.ResolveName("libz.so.1", "/srv/prog", "/srv/prog"),
            "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13");
  EXPECT_EQ(resolver.ResolveName("$ORIGIN/plugins/libp.so", "/srv/prog", "/srv/prog"),
            "/srv/plugins/libp.so");
  const DependencyTree tree = resolver.ResolveTree("/srv/prog", {});
  EXPECT_EQ(tree.unresolved, (std::vector<std::pair<std::string, std::string>>{{"/srv/prog", "libgone.so"}}));

  // DF_1_NODEFLIB: neither ld.so.conf nor the system directories.
  ElfSpec strict;
  strict.nodeflib = true;
  strict.needed = {"libz.so.1"};
  root.Elf("/srv/strict", strict);
  EXPECT_EQ(resolver.ResolveName("libz.so.1", "/srv/strict", "/srv/strict"), "");
}

TEST(LibraryResolver, DlopenedObjectsAreLoadedWithoutAnEdgeFromTheExecutable) {
  Root root;
  ElfSpec exe;
  exe.needed = {"libc.so.6"};
  root.Elf("/bin/prog", exe);
  root.Lib("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc.so.6");
  root.Lib("/usr/lib/x86_64-linux-gnu/libplug.so", "libplug.so", {"libdep.so", "libc.so.6"});
  root.Lib("/usr/lib/x86_64-linux-gnu/libdep.so", "libdep.so");
  RootFs fs(root.path());
  ElfCache cache;
  LibraryResolver resolver(fs, {}, &cache);
  const DependencyTree tree = resolver.ResolveTree(
      "/bin/prog", {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libplug.so"});
  const std::set<std::pair<std::string, std::string>> edges(tree.edges.begin(), tree.edges.end());
  EXPECT_EQ(edges, (std::set<std::pair<std::string, std::string>>{
                       {"/bin/prog", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
                       {"/usr/lib/x86_64-linux-gnu/libplug.so", "/usr/lib/x86_64-linux-gnu/libdep.so"},
                       {"/usr/lib/x86_64-linux-gnu/libplug.so", "/usr/lib/x86_64-linux-gnu/libc.so.6"}}));
  EXPECT_EQ(tree.loaded.size(), 4u);
}

TEST(ElfCache, ReadsAgainOnlyWhenTheFileChanges) {
  Root root;
  root.Lib("/usr/lib/liba.so", "liba.so");
  ElfCache cache;
  const std::string path = root.path() + "/usr/lib/liba.so";
  cache.BeginScan();
  EXPECT_EQ(cache.Get(path)->info.soname, "liba.so");
  EXPECT_EQ(cache.Get(path)->info.soname, "liba.so");
  EXPECT_EQ(cache.reads(), 1u);
  // Replaced (a new inode, as dpkg installs files).
  root.Lib("/usr/lib/liba.so.new", "liba.so.2");
  fs::rename(root.path() + "/usr/lib/liba.so.new", path);
  EXPECT_EQ(cache.Get(path)->info.soname, "liba.so.2");
  EXPECT_EQ(cache.reads(), 2u);
  // Not regular: never opened.
  EXPECT_FALSE(cache.Get("/dev/null")->readable);
  EXPECT_EQ(cache.Get("/dev/null")->problem, "not a regular file");
  EXPECT_FALSE(cache.Get(root.path() + "/missing")->readable);
  root.File("/usr/lib/text", "hello");
  EXPECT_TRUE(cache.Get(root.path() + "/usr/lib/text")->not_elf);
  // Files no scan asked for are forgotten.
  cache.BeginScan();
  cache.Get(path);
  cache.Sweep();
  EXPECT_EQ(cache.size(), 1u);
}

// The real loader decides with ldd (LD_TRACE_LOADED_OBJECTS): the objects it
// loads for this test binary and some system programs are the ones
// ResolveTree loads.
TEST(LibraryResolver, AgreesWithLddOnThisMachine) {
  std::vector<std::string> programs = {fs::read_symlink("/proc/self/exe").string()};
  for (const char* p :
       {"/usr/bin/openssl", "/usr/bin/curl", "/usr/bin/ssh", "/usr/bin/python3", "/usr/bin/git"}) {
    if (::access(p, X_OK) == 0) programs.push_back(fs::canonical(p).string());
  }
  RootFs fs;
  ElfCache cache;
  LibraryResolver resolver(fs, ReadLdSoConf(fs), &cache);
  for (const std::string& program : programs) {
    int status = 0;
    const std::string out = procfs_test::Run("ldd " + procfs_test::ShellQuote(program) + " 2>&1", &status);
    if (status != 0) continue;  // a static program
    std::set<std::string> want = {program};
    const std::regex arrow("=> (/[^ ]+) \\(");
    const std::regex bare("^\\s+(/[^ ]+) \\(");
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      std::smatch m;
      if (std::regex_search(line, m, arrow) || std::regex_search(line, m, bare)) {
        want.insert(fs::canonical(m[1].str()).string());
      }
    }
    const DependencyTree tree = resolver.ResolveTree(program, {});
    const std::set<std::string> have(tree.loaded.begin(), tree.loaded.end());
    EXPECT_EQ(have, want) << program << "\nldd said:\n" << out;
    EXPECT_TRUE(tree.unresolved.empty()) << program;
  }
}

}  // namespace
