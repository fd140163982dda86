// dpkg's database: a fixture (epochs, Multi-Arch: same, removed packages,
// merged /usr), refreshing when dpkg changes it, and this machine's real
// database against `dpkg -S` and `dpkg-query -W`.
#include "dpkg_db.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "test_support.hpp"

namespace {

using namespace signals::procfs;
namespace fs = std::filesystem;

const std::string kFixture = std::string(PROCFS_FIXTURES) + "/dpkg";
const PathAliases kMergedUsr = {{"/lib", "/usr/lib"}, {"/bin", "/usr/bin"}};

TEST(DpkgStatus, InstalledPackagesOnly) {
  std::ifstream in(kFixture + "/status");
  std::stringstream s;
  s << in.rdbuf();
  const std::vector<DebPackage> packages = ParseDpkgStatus(s.str());
  std::vector<std::string> seen;
  for (const auto& p : packages) seen.push_back(p.name + ":" + p.arch + "=" + p.version);
  EXPECT_EQ(seen, (std::vector<std::string>{"attr:amd64=1:2.4.47-2+b1", "libfoo1:amd64=2.0-1~deb12u1",
                                            "libfoo1:i386=2.0-1~deb12u1", "tzdata:all=2024a-0+deb12u1",
                                            "half:amd64=1.0-1"}));
  EXPECT_TRUE(ParseDpkgStatus("").empty());
  EXPECT_TRUE(ParseDpkgStatus("Package: x\nStatus: install ok installed\n").empty());  // no version
  EXPECT_EQ(
      ParseDpkgStatus("Package: x\r\nStatus: install ok installed\r\nVersion: 1\r\nArchitecture: all\r\n")
          .size(),
      1u);
}

TEST(DpkgDatabase, FixtureOwners) {
  DpkgDatabase db;
  std::string problem;
  ASSERT_TRUE(db.Load(kFixture, kMergedUsr, &problem)) << problem;
  EXPECT_EQ(db.package_count(), 5u);
  EXPECT_EQ(db.skipped_lists(), 2u);  // oldlib (config-files only) and ghost (not in status)
  const DebPackage* attr = db.Owner("/usr/bin/getfattr");
  ASSERT_NE(attr, nullptr);
  EXPECT_EQ(attr->name, "attr");
  EXPECT_EQ(attr->version, "1:2.4.47-2+b1");
  EXPECT_EQ(attr->arch, "amd64");
  // merged /usr: the list says /usr/bin, maps may say /bin (and the other way round)
  ASSERT_NE(db.Owner("/bin/getfattr"), nullptr);
  const DebPackage* foo64 = db.Owner("/usr/lib/x86_64-linux-gnu/libfoo.so.1.0.0");
  ASSERT_NE(foo64, nullptr);
  EXPECT_EQ(foo64->arch, "amd64");
  ASSERT_NE(db.Owner("/lib/x86_64-linux-gnu/libfoo.so.1"), nullptr);
  const DebPackage* foo32 = db.Owner("/usr/lib/i386-linux-gnu/libfoo.so.1.0.0");
  ASSERT_NE(foo32, nullptr);
  EXPECT_EQ(foo32->arch, "i386");
  EXPECT_EQ(db.Owner("/lib/i386-linux-gnu/libfoo.so.1")->arch, "i386");
  EXPECT_EQ(db.Owner("/usr/bin/half")->name, "half");  // a last line without '\n'
  EXPECT_EQ(db.Owner("/usr/lib/x86_64-linux-gnu/liboldlib.so.0"), nullptr);
  EXPECT_EQ(db.Owner("/usr/bin/ghost"), nullptr);
  EXPECT_EQ(db.Owner("/usr/local/bin/mine"), nullptr);
  EXPECT_EQ(db.Owner("/libx/whatever"), nullptr);

  // Without merged /usr the two spellings are different files.
  DpkgDatabase plain;
  ASSERT_TRUE(plain.Load(kFixture, {}, &problem));
  EXPECT_EQ(plain.Owner("/bin/getfattr"), nullptr);
  EXPECT_NE(plain.Owner("/lib/x86_64-linux-gnu/libfoo.so.1"), nullptr);
  EXPECT_EQ(plain.Owner("/usr/lib/x86_64-linux-gnu/libfoo.so.1"), nullptr);
}

TEST(DpkgDatabase, NormalisesOnlyWholeComponents) {
  EXPECT_EQ(NormalisePath("/lib/x/y", kMergedUsr), "/usr/lib/x/y");
  EXPECT_EQ(NormalisePath("/lib", kMergedUsr), "/usr/lib");
  EXPECT_EQ(NormalisePath("/lib64/x", kMergedUsr), "/lib64/x");
  EXPECT_EQ(NormalisePath("/library/x", kMergedUsr), "/library/x");
  EXPECT_EQ(NormalisePath("/usr/lib/x", kMergedUsr), "/usr/lib/x");
}

TEST(DpkgDatabase, MergedUsrAliasesFromTheFileSystem) {
  procfs_test::TempDir root;
  fs::create_directories(root.path() + "/usr/lib");
  fs::create_directories(root.path() + "/usr/sbin");
  fs::create_directories(root.path() + "/bin");  // a real directory: not merged
  procfs_test::Symlink("usr/lib", root.path() + "/lib");
  procfs_test::Symlink("/usr/sbin/", root.path() + "/sbin");
  procfs_test::Symlink("usr/lib", root.path() + "/lib64");  // points elsewhere: not an alias of /usr/lib64
  EXPECT_EQ(MergedUsrAliases(root.path()), (PathAliases{{"/sbin", "/usr/sbin"}, {"/lib", "/usr/lib"}}));
}

TEST(DpkgDatabase, ChangedWhenDpkgWritesAndMissingDatabase) {
  procfs_test::TempDir dir;
  fs::copy(kFixture, dir.path() + "/dpkg", fs::copy_options::recursive);
  DpkgDatabase db;
  std::string problem;
  ASSERT_TRUE(db.Load(dir.path() + "/dpkg", {}, &problem)) << problem;
  EXPECT_FALSE(db.Changed());
  // dpkg installs a list by renaming it into info/: the directory's mtime moves.
  const auto later = fs::last_write_time(dir.path() + "/dpkg/info") + std::chrono::seconds(2);
  procfs_test::WriteFile(dir.path() + "/dpkg/info/new.list", "/usr/bin/new\n");
  fs::last_write_time(dir.path() + "/dpkg/info", later);
  EXPECT_TRUE(db.Changed());
  ASSERT_TRUE(db.Load(dir.path() + "/dpkg", {}, &problem));
  EXPECT_FALSE(db.Changed());
  fs::last_write_time(dir.path() + "/dpkg/status",
                      fs::last_write_time(dir.path() + "/dpkg/status") + std::chrono::seconds(2));
  EXPECT_TRUE(db.Changed());

  DpkgDatabase missing;
  EXPECT_FALSE(missing.Load(dir.path() + "/nowhere", {}, &problem));
  EXPECT_NE(problem.find("status"), std::string::npos);
  EXPECT_FALSE(missing.loaded());
}

// This machine's database, against dpkg's own tools, for the libraries this
// test has loaded (libc, libstdc++, libgtest, ...) and a few usual binaries.
TEST(DpkgDatabase, AgreesWithDpkgOnThisMachine) {
  if (!fs::exists("/var/lib/dpkg/status")) GTEST_SKIP() << "not a Debian system";
  DpkgDatabase db;
  std::string problem;
  ASSERT_TRUE(db.Load("/var/lib/dpkg", MergedUsrAliases(""), &problem)) << problem;
  EXPECT_GT(db.package_count(), 50u);
  std::vector<std::string> paths = {"/usr/bin/dpkg", "/usr/bin/readelf"};
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t slash = line.find('/');
    if (slash != std::string::npos && line.find(".so") != std::string::npos)
      paths.push_back(line.substr(slash));
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  size_t owned = 0;
  for (const std::string& path : paths) {
    // dpkg -S knows the list's spelling only: ask for the path and its realpath
    // and, for merged /usr, the /lib spelling too.
    std::string want_name;
    for (const std::string& candidate : {path, fs::weakly_canonical(path).string(),
                                         NormalisePath(path, {{"/usr/lib", "/lib"}, {"/usr/bin", "/bin"}})}) {
      int status = 0;
      const std::string out =
          procfs_test::Run("dpkg -S " + procfs_test::ShellQuote(candidate) + " 2>/dev/null", &status);
      if (status == 0 && out.find(": ") != std::string::npos && out.find("diversion") == std::string::npos) {
        want_name = out.substr(0, out.find(": "));
        want_name = want_name.substr(0, want_name.find(", "));  // "libc6:amd64, libc6:i386": either
        break;
      }
    }
    const DebPackage* owner = db.Owner(path);
    if (want_name.empty()) {
      EXPECT_EQ(owner, nullptr) << path << " is owned by no package, dpkg -S says";
      continue;
    }
    ASSERT_NE(owner, nullptr) << path << " is owned by " << want_name;
    // "libc6:amd64" names the architecture of a Multi-Arch: same package.
    const std::string name = want_name.substr(0, want_name.find(':'));
    EXPECT_EQ(owner->name, name) << path;
    const std::string query = procfs_test::Run("dpkg-query -W -f '${Version} ${Architecture}' " +
                                               procfs_test::ShellQuote(want_name));
    EXPECT_EQ(owner->version + " " + owner->arch, query) << path;
    ++owned;
  }
  EXPECT_GE(owned, 3u);
  std::cout << "dpkg index: " << db.package_count() << " packages, " << db.path_count() << " paths, "
            << db.memory_bytes() / 1024 << " KiB; " << owned << " of " << paths.size() << " paths owned\n";
}

}  // namespace
