// /proc text: maps lines of every shape the kernel writes, cgroup files of
// docker, containerd, CRI-O and podman with both cgroup drivers, stat and
// status; and this process's own maps.
#include "proc_text.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using namespace signals::procfs;

TEST(Maps, FileMapping) {
  MapsEntry e;
  ASSERT_TRUE(
      ParseMapsLine("7f1c2a000000-7f1c2a1c8000 r-xp 00028000 fe:01 1312405                    "
                    "/usr/lib/x86_64-linux-gnu/libc.so.6",
                    &e));
  EXPECT_EQ(e.start, 0x7f1c2a000000u);
  EXPECT_EQ(e.end, 0x7f1c2a1c8000u);
  EXPECT_TRUE(e.readable);
  EXPECT_TRUE(e.executable);
  EXPECT_EQ(e.offset, 0x28000u);
  EXPECT_EQ(e.dev_major, 0xfeu);
  EXPECT_EQ(e.dev_minor, 1u);
  EXPECT_EQ(e.inode, 1312405u);
  EXPECT_EQ(e.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_FALSE(e.deleted);
  EXPECT_TRUE(IsFileMapping(e));
}

TEST(Maps, SpacesDeletedAndNewlines) {
  MapsEntry e;
  ASSERT_TRUE(ParseMapsLine("00400000-00401000 r-xp 00000000 08:02 42 /opt/my app/bin (deleted)", &e));
  EXPECT_EQ(e.path, "/opt/my app/bin");
  EXPECT_TRUE(e.deleted);
  ASSERT_TRUE(ParseMapsLine("00400000-00401000 r-xp 00000000 08:02 42 /tmp/a\\012b", &e));
  EXPECT_EQ(e.path, "/tmp/a\nb");
  ASSERT_TRUE(ParseMapsLine("00400000-00401000 r-xp 00000000 08:02 42 /tmp/x (deleted) y", &e));
  EXPECT_EQ(e.path, "/tmp/x (deleted) y");
  EXPECT_FALSE(e.deleted);
}

TEST(Maps, AnonymousSpecialAndNonFileMappings) {
  MapsEntry e;
  ASSERT_TRUE(ParseMapsLine("7ffd1000-7ffd3000 rw-p 00000000 00:00 0                          [stack]", &e));
  EXPECT_EQ(e.path, "[stack]");
  EXPECT_FALSE(IsFileMapping(e));
  ASSERT_TRUE(ParseMapsLine("7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]", &e));
  EXPECT_FALSE(IsFileMapping(e));
  ASSERT_TRUE(ParseMapsLine("7f00000000-7f00001000 rw-p 00000000 00:00 0 ", &e));
  EXPECT_EQ(e.path, "");
  EXPECT_FALSE(IsFileMapping(e));
  ASSERT_TRUE(ParseMapsLine("7f00000000-7f00001000 r-xs 00000000 00:01 1025 /memfd:jit (deleted)", &e));
  EXPECT_FALSE(IsFileMapping(e));
  ASSERT_TRUE(ParseMapsLine("7f00000000-7f00001000 rw-s 00000000 00:01 32770 /SYSV00000000 (deleted)", &e));
  EXPECT_FALSE(IsFileMapping(e));
  ASSERT_TRUE(ParseMapsLine("7f00000000-7f00001000 rw-s 00000000 00:05 6 /dev/zero (deleted)", &e));
  EXPECT_FALSE(IsFileMapping(e));
}

TEST(Maps, MalformedLines) {
  MapsEntry e;
  EXPECT_FALSE(ParseMapsLine("", &e));
  EXPECT_FALSE(ParseMapsLine("hello world", &e));
  EXPECT_FALSE(ParseMapsLine("0-1 r-xp 0 08:02", &e));
  EXPECT_FALSE(ParseMapsLine("zz-1 r-xp 0 08:02 1 /x", &e));
  EXPECT_FALSE(ParseMapsLine("0-1 r-xp 0 0802 1 /x", &e));
  EXPECT_FALSE(ParseMapsLine("0-1 r-xp 0 08:02 1x /x", &e));
  EXPECT_FALSE(ParseMapsLine("0-1 r- 0 08:02 1 /x", &e));
}

TEST(Maps, ThisProcessMapsItsExecutableAndLibc) {
  std::ifstream in("/proc/self/maps");
  std::string line;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  bool saw_exe = false, saw_libc = false;
  size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    MapsEntry e;
    ASSERT_TRUE(ParseMapsLine(line, &e)) << line;
    if (!e.executable || !IsFileMapping(e)) continue;
    saw_exe = saw_exe || e.path == exe;
    saw_libc = saw_libc || e.path.find("/libc.so.6") != std::string::npos;
  }
  EXPECT_GT(lines, 5u);
  EXPECT_TRUE(saw_exe);
  EXPECT_TRUE(saw_libc);
}

TEST(Cgroup, ContainerIdsOfTheRuntimes) {
  const std::string id = "3f4c5b2a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f40";
  // docker, systemd driver (cgroup v2) and cgroupfs driver (v1)
  EXPECT_EQ(ContainerIdFromCgroupPath("/system.slice/docker-" + id + ".scope"), id);
  EXPECT_EQ(ContainerIdFromCgroupPath("/docker/" + id), id);
  // containerd under Kubernetes, both drivers
  EXPECT_EQ(ContainerIdFromCgroupPath("/kubepods.slice/kubepods-besteffort.slice/"
                                      "kubepods-besteffort-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice/"
                                      "cri-containerd-" +
                                      id + ".scope"),
            id);
  EXPECT_EQ(ContainerIdFromCgroupPath("/kubepods/besteffort/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/" + id),
            id);
  // CRI-O, podman; their conmon monitors are not the container
  EXPECT_EQ(ContainerIdFromCgroupPath("/kubepods.slice/kubepods-pod1.slice/crio-" + id + ".scope"), id);
  EXPECT_EQ(ContainerIdFromCgroupPath("/machine.slice/libpod-" + id + ".scope/container"), id);
  EXPECT_EQ(ContainerIdFromCgroupPath("/machine.slice/libpod-conmon-" + id + ".scope"), "");
  EXPECT_EQ(ContainerIdFromCgroupPath("/kubepods.slice/crio-conmon-" + id + ".scope"), "");
  // not containers
  EXPECT_EQ(ContainerIdFromCgroupPath("/"), "");
  EXPECT_EQ(ContainerIdFromCgroupPath("/user.slice/user-1000.slice/session-2.scope"), "");
  EXPECT_EQ(ContainerIdFromCgroupPath("/process_api/6f128e99c2e4eb81e5cd8b2c282a4733"), "");  // 32 hex
  EXPECT_EQ(ContainerIdFromCgroupPath("/docker/" + id.substr(0, 63) + "g"), "");
  std::string upper = id;
  upper[0] = 'F';
  EXPECT_EQ(ContainerIdFromCgroupPath("/docker/" + upper), "");
}

TEST(Cgroup, FilesOfBothVersions) {
  const std::string id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const std::string v1 = "12:memory:/docker/" + id + "\n11:cpu,cpuacct:/docker/" + id + "\n0::/\n";
  EXPECT_EQ(CgroupPaths(v1), (std::vector<std::string>{"/docker/" + id, "/docker/" + id, "/"}));
  EXPECT_EQ(ContainerIdFromCgroupFile(v1), id);
  EXPECT_EQ(ContainerIdFromCgroupFile("0::/system.slice/docker-" + id + ".scope\n"), id);
  EXPECT_EQ(ContainerIdFromCgroupFile("0::/init.scope\n"), "");
  EXPECT_EQ(ContainerIdFromCgroupFile(""), "");
  EXPECT_EQ(CgroupPaths("garbage\n1:x\n"), std::vector<std::string>{});
}

TEST(Stat, KernelThreadFlag) {
  EXPECT_TRUE(IsKernelThreadStat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0"));
  EXPECT_FALSE(IsKernelThreadStat("1234 (my ) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0"));
  EXPECT_TRUE(IsKernelThreadStat("77 (kworker/0:1) (x)) I 2 0 0 0 -1 69238880 0 0"));
  EXPECT_FALSE(IsKernelThreadStat("garbage"));
  std::ifstream self("/proc/self/stat");
  std::stringstream text;
  text << self.rdbuf();
  EXPECT_FALSE(IsKernelThreadStat(text.str()));
}

TEST(Status, RealUid) {
  EXPECT_EQ(RealUidFromStatus("Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\n"), 1000);
  EXPECT_EQ(RealUidFromStatus("Uid: 0 33 33 33\n"), 0);
  EXPECT_EQ(RealUidFromStatus("Name:\tx\n"), -1);
  std::ifstream self("/proc/self/status");
  std::stringstream text;
  text << self.rdbuf();
  EXPECT_EQ(RealUidFromStatus(text.str()), static_cast<int64_t>(::getuid()));
}

}  // namespace
