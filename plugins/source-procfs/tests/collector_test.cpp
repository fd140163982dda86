// The scanner on a fixture /proc (every reason a process is skipped, the
// filters, container ids, deleted files, truncated maps) and the collector on
// this test process itself: its executable, libc with the purl dpkg gives, a
// library it dlopen()ed, build-ids as readelf reads them, the module graph.
#include "collector.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "proc_text.hpp"
#include "purl.hpp"
#include "test_support.hpp"

namespace {

using namespace signals::procfs;
namespace fs = std::filesystem;

std::string RegexEscape(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

// A /proc of our own making.
class FakeProc {
 public:
  const std::string& path() const { return dir_.path(); }
  void Process(int pid, const std::string& exe, const std::string& maps, const std::string& cgroup = "0::/\n",
               const std::string& comm = "prog\n") {
    const std::string d = dir_.path() + "/" + std::to_string(pid);
    fs::create_directories(d);
    if (!exe.empty()) procfs_test::Symlink(exe, d + "/exe");
    procfs_test::WriteFile(d + "/maps", maps);
    procfs_test::WriteFile(d + "/cgroup", cgroup);
    procfs_test::WriteFile(d + "/comm", comm);
    procfs_test::WriteFile(d + "/stat", std::to_string(pid) + " (prog) S 1 1 1 0 -1 4194560 0 0\n");
    procfs_test::WriteFile(d + "/status", "Name:\tprog\nUid:\t1000\t1000\t1000\t1000\n");
  }
  void Write(const std::string& relative, const std::string& text) {
    procfs_test::WriteFile(dir_.path() + "/" + relative, text);
  }

 private:
  procfs_test::TempDir dir_;
};

std::string MapsLine(const std::string& path, const char* perms = "r-xp", uint64_t inode = 77) {
  return "7f0000000000-7f0000001000 " + std::string(perms) + " 00000000 08:01 " + std::to_string(inode) +
         "  " + path + "\n";
}

TEST(Scanner, FixtureProc) {
  FakeProc proc;
  const std::string id = std::string(64, 'c');
  proc.Process(100, "/usr/bin/web",
               MapsLine("/usr/bin/web") + MapsLine("/usr/bin/web", "r--p") +
                   MapsLine("/usr/lib/libssl.so.3") + MapsLine("/usr/lib/data.bin", "r--p") +
                   "7f0000002000-7f0000003000 rw-p 00000000 00:00 0 \n",
               "0::/system.slice/docker-" + id + ".scope\n", "web\n");
  proc.Process(101, "/usr/bin/web", MapsLine("/usr/bin/web") + MapsLine("/usr/lib/libssl.so.3"),
               "0::/system.slice/docker-" + id + ".scope\n", "web\n");
  // A deleted library (upgraded under a running process) and a deleted executable.
  proc.Process(102, "/usr/bin/old (deleted)",
               MapsLine("/usr/bin/old (deleted)", "r-xp", 5) +
                   MapsLine("/usr/lib/libssl.so.3 (deleted)", "r-xp", 9) + MapsLine("/usr/lib/libssl.so.3"));
  // A kernel thread: no exe, PF_KTHREAD in stat.
  fs::create_directories(proc.path() + "/2");
  proc.Write("2/stat", "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0\n");
  // A zombie: no exe, an ordinary stat.
  fs::create_directories(proc.path() + "/300");
  proc.Write("300/stat", "300 (gone) Z 1 1 1 0 -1 4194308 0 0\n");
  // Gone between the listing and the read: nothing left to read.
  fs::create_directories(proc.path() + "/400");
  // Not a process.
  fs::create_directories(proc.path() + "/sys");

  ProcScanner scanner(proc.path(), ScanFilter{}, 1 << 20);
  const ScanResult scan = scanner.Scan(nullptr);
  EXPECT_EQ(scan.listed, 6u);
  EXPECT_EQ(scan.skipped.at("kernel_thread"), 1u);
  EXPECT_EQ(scan.skipped.at("no_executable"), 1u);
  EXPECT_EQ(scan.skipped.at("vanished"), 1u);
  ASSERT_EQ(scan.processes.size(), 3u);
  const ObservedProcess& web = scan.processes[0];
  EXPECT_EQ(web.pid, 100);
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.container_id, id);
  ASSERT_EQ(web.modules.size(), 2u);  // the executable and libssl; data and anonymous mappings are not code
  ASSERT_GE(web.exe_module, 0);
  EXPECT_EQ(scan.modules[web.exe_module].path, "/usr/bin/web");
  EXPECT_TRUE(scan.modules[web.exe_module].executable);
  EXPECT_EQ(scan.processes[1].modules, web.modules);  // the same files, the same modules
  const ObservedProcess& old = scan.processes[2];
  EXPECT_EQ(old.container_id, "");
  ASSERT_EQ(old.modules.size(), 3u);
  EXPECT_TRUE(scan.modules[old.exe_module].deleted);
  EXPECT_EQ(scan.modules[old.exe_module].path, "/usr/bin/old");
  // The deleted libssl is another module than the one at its path now.
  std::set<std::pair<std::string, bool>> seen;
  for (uint32_t m : old.modules) seen.insert({scan.modules[m].path, scan.modules[m].deleted});
  EXPECT_EQ(seen.count({"/usr/lib/libssl.so.3", true}), 1u);
  EXPECT_EQ(seen.count({"/usr/lib/libssl.so.3", false}), 1u);
  EXPECT_EQ(scan.modules.size(), 4u);
  for (const ObservedModule& m : scan.modules) {
    EXPECT_FALSE(m.foreign);
    EXPECT_NE(m.map_files.find("/map_files/7f0000000000-7f0000001000"), std::string::npos);
  }
}

TEST(Scanner, FiltersAndTruncatedMaps) {
  FakeProc proc;
  proc.Process(10, "/usr/sbin/nginx", MapsLine("/usr/sbin/nginx"), "0::/system.slice/nginx.service\n");
  proc.Process(11, "/usr/bin/bash", MapsLine("/usr/bin/bash"), "0::/user.slice/user-1000.slice\n");
  std::string long_maps;
  for (int i = 0; i < 2000; ++i) long_maps += MapsLine("/usr/lib/lib" + std::to_string(i) + ".so");
  proc.Process(12, "/usr/bin/java", long_maps, "0::/system.slice/app.service\n");

  ScanFilter by_exe;
  by_exe.exe_regex.emplace("nginx|java");
  ScanResult scan = ProcScanner(proc.path(), by_exe, 64 * 1024).Scan(nullptr);
  ASSERT_EQ(scan.processes.size(), 2u);
  EXPECT_EQ(scan.filtered, 1u);
  EXPECT_EQ(scan.skipped.at("maps_truncated"), 1u);
  EXPECT_LE(scan.maps_bytes, 64u * 1024 + MapsLine("/usr/sbin/nginx").size());
  EXPECT_LT(scan.processes[1].modules.size(), 2000u);
  EXPECT_GT(scan.processes[1].modules.size(), 100u);

  ScanFilter by_cgroup;
  by_cgroup.cgroup_prefix = "/system.slice/";
  scan = ProcScanner(proc.path(), by_cgroup, 1 << 20).Scan(nullptr);
  EXPECT_EQ(scan.processes.size(), 2u);
  EXPECT_EQ(scan.filtered, 1u);

  ScanFilter by_uid;
  by_uid.uid = 1000;
  EXPECT_EQ(ProcScanner(proc.path(), by_uid, 1 << 20).Scan(nullptr).processes.size(), 3u);
  by_uid.uid = 0;
  scan = ProcScanner(proc.path(), by_uid, 1 << 20).Scan(nullptr);
  EXPECT_EQ(scan.processes.size(), 0u);
  EXPECT_EQ(scan.filtered, 3u);

  // Stopped between processes.
  int asked = 0;
  scan = ProcScanner(proc.path(), ScanFilter{}, 1 << 20).Scan([&] { return ++asked > 1; });
  EXPECT_TRUE(scan.stopped);
  EXPECT_EQ(scan.processes.size(), 1u);
}

// A library this test binary does not link, loaded with dlopen().
std::string DlopenUnlinkedLibrary(void** handle) {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  for (const char* name : {"libz.so.1", "libbz2.so.1.0", "liblzma.so.5", "libexpat.so.1"}) {
    if (text.str().find(std::string("/") + name) != std::string::npos) continue;
    *handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (*handle == nullptr) continue;
    std::ifstream again("/proc/self/maps");
    std::string line;
    while (std::getline(again, line)) {
      MapsEntry e;
      if (ParseMapsLine(line, &e) && e.executable &&
          e.path.find(std::string("/") + name) != std::string::npos) {
        return e.path;
      }
    }
  }
  return "";
}

std::string ReadelfBuildId(const std::string& path) {
  const std::string out = procfs_test::Run("readelf -n " + procfs_test::ShellQuote(path) + " 2>/dev/null");
  std::smatch m;
  return std::regex_search(out, m, std::regex("Build ID: ([0-9a-f]+)")) ? m[1].str() : "";
}

// The purl of the package owning `path` as dpkg's own tools say, or "".
std::string DpkgPurl(const std::string& path) {
  for (const std::string& candidate : {path, NormalisePath(path, {{"/usr/lib", "/lib"}})}) {
    int status = 0;
    std::string out =
        procfs_test::Run("dpkg -S " + procfs_test::ShellQuote(candidate) + " 2>/dev/null", &status);
    if (status != 0 || out.find(": ") == std::string::npos) continue;
    const std::string package = out.substr(0, out.find(": "));
    const std::string fields = procfs_test::Run("dpkg-query -W -f '${Package} ${Version} ${Architecture}' " +
                                                procfs_test::ShellQuote(package));
    std::istringstream in(fields);
    std::string name, version, arch;
    in >> name >> version >> arch;
    return "pkg:deb/debian/" + name + "@" + PurlEncode(version) + "?arch=" + arch;
  }
  return "";
}

TEST(Collector, ObservesThisProcess) {
  void* handle = nullptr;
  const std::string dlopened = DlopenUnlinkedLibrary(&handle);
  ASSERT_FALSE(dlopened.empty()) << "no library to dlopen";
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  CollectorOptions options;
  options.filter.exe_regex.emplace("^" + RegexEscape(exe) + "$");
  Collector collector(options);
  const Observation obs = collector.Collect(nullptr);
  ASSERT_EQ(obs.modules.size(), obs.scan.modules.size());

  // ctest may run other cases of this binary at the same time: ours is one of them.
  const ObservedProcess* self = nullptr;
  for (const ObservedProcess& p : obs.scan.processes) {
    if (p.pid == ::getpid()) self = &p;
  }
  ASSERT_NE(self, nullptr);
  auto module_of = [&](const std::string& path) -> int {
    for (uint32_t m : self->modules) {
      if (obs.scan.modules[m].path == path) return static_cast<int>(m);
    }
    return -1;
  };
  const int exe_m = module_of(exe);
  ASSERT_GE(exe_m, 0);
  EXPECT_EQ(self->exe_module, exe_m);
  EXPECT_EQ(obs.modules[exe_m].build_id, ReadelfBuildId(exe));
  EXPECT_EQ(obs.modules[exe_m].purl, "");
  const int libc_m = module_of(fs::canonical("/lib/x86_64-linux-gnu/libc.so.6").string());
  ASSERT_GE(libc_m, 0);
  const int dl_m = module_of(dlopened);
  ASSERT_GE(dl_m, 0);
  EXPECT_EQ(obs.modules[dl_m].build_id, ReadelfBuildId(dlopened));
  if (fs::exists("/var/lib/dpkg/status")) {
    EXPECT_EQ(obs.modules[exe_m].no_purl, "unowned");
    EXPECT_EQ(obs.modules[libc_m].purl, DpkgPurl(obs.scan.modules[libc_m].path));
    EXPECT_EQ(obs.modules[dl_m].purl, DpkgPurl(dlopened));
    EXPECT_FALSE(obs.modules[dl_m].purl.empty());
  }

  // Facts: one per module (no containers here), hits = processes.
  const ModuleFact* exe_fact = nullptr;
  for (const ModuleFact& f : obs.facts) {
    if (static_cast<int>(f.module) == exe_m) exe_fact = &f;
  }
  ASSERT_NE(exe_fact, nullptr);
  EXPECT_EQ(exe_fact->hits, obs.scan.processes.size());
  EXPECT_LE(exe_fact->pid, ::getpid());
  const nlohmann::json line = nlohmann::json::parse(
      FactLine(obs.scan.modules[exe_m], obs.modules[exe_m], *exe_fact, "2026-12-07T10:00:00.000Z"));
  EXPECT_EQ(line["symbolId"], "module:" + exe);
  EXPECT_EQ(line["factType"], "runtime.module.loaded");
  EXPECT_EQ(line["codeId"], ReadelfBuildId(exe));
  EXPECT_FALSE(line.contains("purl"));
  EXPECT_EQ(line["processId"], exe_fact->pid);
  EXPECT_EQ(line["hitCount"], exe_fact->hits);
  EXPECT_EQ(line["observedAt"], "2026-12-07T10:00:00.000Z");
  EXPECT_EQ(line["metadata"]["moduleKind"], "executable");
  if (fs::exists("/var/lib/dpkg/status")) {
    EXPECT_EQ(line["metadata"]["unowned"], "true");
  }
  EXPECT_FALSE(line.contains("containerId"));

  // The graph: the executable is an entrypoint with an edge to libc; the
  // dlopen()ed library is a node that nothing links to.
  const nlohmann::json graph = nlohmann::json::parse(collector.graph().ToJson());
  EXPECT_EQ(graph["schema"], "stella.callgraph.v1");
  std::set<std::string> nodes, entrypoints;
  std::set<std::pair<std::string, std::string>> edges;
  for (const auto& n : graph["nodes"]) {
    nodes.insert(n["id"].get<std::string>());
    EXPECT_TRUE(n["kind"] == "executable" || n["kind"] == "library");
  }
  for (const auto& e : graph["edges"]) {
    edges.insert({e["sourceId"].get<std::string>(), e["targetId"].get<std::string>()});
    EXPECT_EQ(e["kind"], "static");
  }
  for (const auto& e : graph["entrypoints"]) {
    entrypoints.insert(e["nodeId"].get<std::string>());
    EXPECT_EQ(e["kind"], "main");
  }
  const std::string exe_id = "module:" + exe, libc_id = "module:" + obs.scan.modules[libc_m].path,
                    dl_id = "module:" + dlopened;
  EXPECT_TRUE(nodes.count(exe_id) && nodes.count(libc_id) && nodes.count(dl_id));
  EXPECT_EQ(entrypoints, std::set<std::string>{exe_id});
  EXPECT_EQ(edges.count({exe_id, libc_id}), 1u);
  for (const auto& [from, to] : edges) EXPECT_NE(to, dl_id) << from << " links the dlopen()ed library";
  for (const auto& [from, to] : edges) EXPECT_TRUE(nodes.count(from) && nodes.count(to));

  // A second interval reads no file again and gives the same graph, unless
  // another case of this binary started meanwhile with new modules (the
  // plugin tests dlopen() the plugin): then the graph only grows.
  const uint64_t reads = collector.elf_cache().reads();
  const std::string before = collector.graph().ToJson();
  const Observation again = collector.Collect(nullptr);
  std::set<std::string> first_paths, new_paths;
  for (const ObservedModule& m : obs.scan.modules) first_paths.insert(m.path);
  for (const ObservedModule& m : again.scan.modules) {
    if (first_paths.count(m.path) == 0) new_paths.insert(m.path);
  }
  if (new_paths.empty()) {
    EXPECT_EQ(collector.elf_cache().reads(), reads);
    EXPECT_EQ(collector.graph().ToJson(), before);
  } else {
    for (const auto& n : graph["nodes"]) {
      EXPECT_EQ(collector.graph().nodes().count(n["id"].get<std::string>().substr(7)), 1u) << n["id"];
    }
  }
  ::dlclose(handle);
}

// A library replaced or deleted under a running process (a package upgrade
// under a service): the fact says so, has no purl, and the build-id is read
// from the mapped file itself through map_files.
TEST(Collector, DeletedLibrary) {
  procfs_test::TempDir dir;
  std::string source;
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  for (const char* name : {"libexpat.so.1", "liblzma.so.5", "libbz2.so.1.0", "libz.so.1"}) {
    const std::string path = "/lib/x86_64-linux-gnu/" + std::string(name);
    if (fs::exists(path) && text.str().find(fs::canonical(path).string()) == std::string::npos) {
      source = fs::canonical(path).string();
      break;
    }
  }
  if (source.empty()) GTEST_SKIP() << "no library to copy";
  const std::string copy = dir.path() + "/libcopy.so";
  fs::copy_file(source, copy);
  void* handle = ::dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << ::dlerror();
  fs::remove(copy);

  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  CollectorOptions options;
  options.filter.exe_regex.emplace("^" + RegexEscape(exe) + "$");
  Collector collector(options);
  const Observation obs = collector.Collect(nullptr);
  bool found = false;
  for (size_t m = 0; m < obs.scan.modules.size(); ++m) {
    if (obs.scan.modules[m].path != copy) continue;
    found = true;
    EXPECT_TRUE(obs.scan.modules[m].deleted);
    EXPECT_EQ(obs.modules[m].purl, "");
    if (fs::exists("/var/lib/dpkg/status")) {
      EXPECT_EQ(obs.modules[m].no_purl, "deleted");
    }
    // map_files opens with CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE only:
    // where this test can open it, so can the collector.
    std::ifstream probe(obs.scan.modules[m].map_files, std::ios::binary);
    if (probe) {
      EXPECT_EQ(obs.modules[m].build_id, ReadelfBuildId(source));
    } else {
      EXPECT_EQ(obs.modules[m].build_id, "");
    }
    for (const ModuleFact& f : obs.facts) {
      if (f.module != m) continue;
      const auto line =
          nlohmann::json::parse(FactLine(obs.scan.modules[m], obs.modules[m], f, "2026-12-07T10:00:00.000Z"));
      EXPECT_EQ(line["symbolId"], "module:" + copy);
      EXPECT_FALSE(line.contains("purl"));
      if (fs::exists("/var/lib/dpkg/status")) {
        EXPECT_EQ(line["metadata"]["deleted"], "true");
      }
    }
  }
  EXPECT_TRUE(found) << copy << " is not among the modules";
  ::dlclose(handle);
}

// A process in another mount namespace (what a container is): its files
// are read through /proc/<pid>/root and get no purl from the host's dpkg.
TEST(Collector, OtherMountNamespace) {
  procfs_test::TempDir dir;
  const std::string program = dir.path() + "/procfs-ns-sleeper";
  fs::copy_file("/bin/sleep", program);
  const pid_t child = ::fork();
  if (child == 0) {
    ::execl("/usr/bin/unshare", "unshare", "--mount", "--propagation", "private", program.c_str(), "30",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(child, 0);
  // Wait until the child runs the program in its own namespace.
  bool ready = false;
  const std::string self_ns = fs::read_symlink("/proc/self/ns/mnt").string();
  for (int i = 0; i < 100 && !ready; ++i) {
    std::error_code ec;
    ready = fs::read_symlink("/proc/" + std::to_string(child) + "/exe", ec).string() == program &&
            fs::read_symlink("/proc/" + std::to_string(child) + "/ns/mnt", ec).string() != self_ns;
    if (!ready) ::usleep(20000);
  }
  if (!ready) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    GTEST_SKIP() << "unshare --mount is not permitted here";
  }
  CollectorOptions options;
  options.filter.exe_regex.emplace("^" + RegexEscape(program) + "$");
  Collector collector(options);
  const Observation obs = collector.Collect(nullptr);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_EQ(obs.scan.processes.size(), 1u);
  const ObservedProcess& p = obs.scan.processes[0];
  ASSERT_GE(p.exe_module, 0);
  const ObservedModule& exe = obs.scan.modules[p.exe_module];
  EXPECT_TRUE(exe.foreign);
  EXPECT_EQ(exe.root, "/proc/" + std::to_string(child) + "/root");
  EXPECT_EQ(obs.modules[p.exe_module].build_id, ReadelfBuildId("/bin/sleep"));
  for (uint32_t m : p.modules)
    EXPECT_EQ(obs.modules[m].no_purl, "other-mount-namespace") << obs.scan.modules[m].path;
  // The graph was resolved inside that root: the program links libc.
  bool edge = false;
  const nlohmann::json graph = nlohmann::json::parse(collector.graph().ToJson());
  for (const auto& e : graph["edges"]) {
    edge = edge || (e["sourceId"] == "module:" + program &&
                    e["targetId"].get<std::string>().find("/libc.so.6") != std::string::npos);
  }
  EXPECT_TRUE(edge) << graph.dump();
}

TEST(Collector, FactLimitAndGraphLimit) {
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  CollectorOptions options;
  options.filter.exe_regex.emplace("^" + RegexEscape(exe) + "$");
  options.max_facts = 2;
  options.max_graph_nodes = 3;
  Collector collector(options);
  const Observation obs = collector.Collect(nullptr);
  EXPECT_EQ(obs.facts.size(), 2u);
  EXPECT_GT(obs.facts_dropped, 0u);
  EXPECT_EQ(collector.graph().node_count(), 3u);
  EXPECT_GT(obs.graph_nodes_dropped, 0u);
  // Full: the next interval starts the graph over.
  EXPECT_TRUE(collector.Collect(nullptr).graph_reset);
  EXPECT_EQ(collector.graph().node_count(), 3u);
}

TEST(Collector, NoPackageDatabase) {
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  CollectorOptions options;
  options.filter.exe_regex.emplace("^" + RegexEscape(exe) + "$");
  options.dpkg_dir = "/nonexistent/dpkg";
  std::vector<std::string> logs;
  Collector collector(options, [&](int, const std::string& m) { logs.push_back(m); });
  const Observation obs = collector.Collect(nullptr);
  ASSERT_FALSE(obs.modules.empty());
  for (const ModuleInfo& info : obs.modules) {
    EXPECT_EQ(info.purl, "");
    EXPECT_EQ(info.no_purl, "no-package-database");
  }
  collector.Collect(nullptr);
  ASSERT_EQ(logs.size(), 1u);  // said once
  EXPECT_NE(logs[0].find("no Debian package database"), std::string::npos);
}

TEST(Collector, Timestamps) {
  EXPECT_EQ(Rfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Rfc3339Millis(1796637600123), "2026-12-07T10:00:00.123Z");
}

}  // namespace
