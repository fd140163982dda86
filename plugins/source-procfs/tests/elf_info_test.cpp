// Build-ids and dynamic entries: synthetic files of every class and byte
// order (checked against readelf too, so the writer is not trusted alone),
// and this machine's own binaries against `readelf -n` / `readelf -d`.
#include "elf_info.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include "test_support.hpp"

namespace {

using namespace signals::procfs;
using procfs_test::ElfSpec;
using procfs_test::ElfWriter;

bool Read(const std::string& path, ElfInfo* info, std::string* problem) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  ::fstat(fd, &st);
  const bool ok = ReadElfInfo(fd, static_cast<uint64_t>(st.st_size), info, problem);
  ::close(fd);
  return ok;
}

// "Build ID: <hex>" of `readelf -n`, or "".
std::string ReadelfBuildId(const std::string& path) {
  const std::string out = procfs_test::Run("readelf -n " + procfs_test::ShellQuote(path) + " 2>/dev/null");
  std::smatch m;
  return std::regex_search(out, m, std::regex("Build ID: ([0-9a-f]+)")) ? m[1].str() : "";
}

// The output of `readelf -d`, run once for all the tags a test compares.
std::string ReadelfDynamic(const std::string& path) {
  return procfs_test::Run("readelf -d " + procfs_test::ShellQuote(path) + " 2>/dev/null");
}

// The bracketed values of the lines of one tag ("NEEDED", "RUNPATH") in
// `out`, an output of ReadelfDynamic.
std::vector<std::string> DynamicValues(const std::string& out, const std::string& tag) {
  std::vector<std::string> values;
  const std::regex line("\\(" + tag + "\\)[^\\[]*\\[([^\\]]*)\\]");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it) {
    values.push_back((*it)[1].str());
  }
  return values;
}

// Writes the file `spec` describes to `path` and reads it.
::testing::AssertionResult WriteAndRead(const std::string& path, const ElfSpec& spec, ElfInfo* info) {
  procfs_test::WriteFile(path, ElfWriter::Make(spec));
  std::string problem;
  if (Read(path, info, &problem)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << path << ": " << problem;
}

TEST(ElfInfo, SyntheticFilesOfEveryClassAndByteOrder) {
  procfs_test::TempDir dir;
  for (uint8_t elf_class : {ELFCLASS64, ELFCLASS32}) {
    for (uint8_t data : {ELFDATA2LSB, ELFDATA2MSB}) {
      ElfSpec spec;
      spec.elf_class = elf_class;
      spec.data = data;
      spec.machine = elf_class == ELFCLASS64 ? EM_AARCH64 : EM_ARM;
      spec.build_id_hex = "0123456789abcdef0123456789abcdef01234567";
      spec.interpreter = "/lib/ld-linux-aarch64.so.1";
      spec.soname = "libfoo.so.1";
      spec.needed = {"libbar.so.2", "libc.so.6"};
      spec.has_rpath = true;
      spec.rpath = "$ORIGIN/../lib:/opt/x";
      spec.has_runpath = true;
      spec.runpath = "/opt/run";
      spec.nodeflib = true;
      const std::string path = dir.path() + "/f" + std::to_string(elf_class) + std::to_string(data);
      ElfInfo info;
      ASSERT_TRUE(WriteAndRead(path, spec, &info));
      EXPECT_TRUE(info.is_elf);
      EXPECT_EQ(info.elf_class, elf_class);
      EXPECT_EQ(info.data, data);
      EXPECT_EQ(info.machine, spec.machine);
      EXPECT_EQ(info.type, ET_DYN);
      EXPECT_EQ(info.build_id, spec.build_id_hex);
      EXPECT_EQ(info.interpreter, spec.interpreter);
      EXPECT_EQ(info.soname, "libfoo.so.1");
      EXPECT_EQ(info.needed, spec.needed);
      EXPECT_TRUE(info.has_rpath);
      EXPECT_EQ(info.rpath, spec.rpath);
      EXPECT_TRUE(info.has_runpath);
      EXPECT_EQ(info.runpath, "/opt/run");
      EXPECT_TRUE(info.nodeflib);
      // The writer is checked by readelf, so these tests do not only agree with themselves.
      EXPECT_EQ(ReadelfBuildId(path), spec.build_id_hex) << path;
      const std::string dynamic = ReadelfDynamic(path);
      EXPECT_EQ(DynamicValues(dynamic, "NEEDED"), spec.needed) << path;
      EXPECT_EQ(DynamicValues(dynamic, "RUNPATH"), std::vector<std::string>{"/opt/run"}) << path;
    }
  }
}

TEST(ElfInfo, NotesAlignedToEightAndNotFirst) {
  procfs_test::TempDir dir;
  ElfSpec spec;
  spec.build_id_hex = "aabbccddeeff00112233445566778899aabbccdd";
  spec.note_align = 8;
  spec.extra_note_first = true;  // a GNU property note comes first, as in Debian's binaries
  const std::string path = dir.path() + "/aligned";
  ElfInfo info;
  ASSERT_TRUE(WriteAndRead(path, spec, &info));
  EXPECT_EQ(info.build_id, spec.build_id_hex);
  EXPECT_EQ(ReadelfBuildId(path), spec.build_id_hex);
}

TEST(ElfInfo, BuildIdFromTheSectionWhenNoSegmentHoldsIt) {
  procfs_test::TempDir dir;
  ElfSpec spec;
  spec.build_id_hex = "feedfacefeedfacefeedfacefeedface";
  spec.build_id_in_section_only = true;
  const std::string path = dir.path() + "/section";
  ElfInfo info;
  ASSERT_TRUE(WriteAndRead(path, spec, &info));
  EXPECT_EQ(info.build_id, spec.build_id_hex);
}

TEST(ElfInfo, NoBuildIdNoDynamicEntries) {
  procfs_test::TempDir dir;
  const std::string path = dir.path() + "/plain";
  ElfInfo info;
  ASSERT_TRUE(WriteAndRead(path, ElfSpec{}, &info));
  EXPECT_EQ(info.build_id, "");
  EXPECT_TRUE(info.needed.empty());
  EXPECT_FALSE(info.has_rpath);
  EXPECT_FALSE(info.has_runpath);
  EXPECT_FALSE(info.nodeflib);
}

TEST(ElfInfo, NotElfAndTruncatedFilesAreRefusedOrReadAsFarAsTheyGo) {
  procfs_test::TempDir dir;
  ElfInfo info;
  std::string problem;
  procfs_test::WriteFile(dir.path() + "/text", "#!/bin/sh\necho hello\n");
  EXPECT_FALSE(Read(dir.path() + "/text", &info, &problem));
  EXPECT_EQ(problem, "not an ELF file");
  procfs_test::WriteFile(dir.path() + "/short",
                         "\x7f"
                         "ELF");
  EXPECT_FALSE(Read(dir.path() + "/short", &info, &problem));
  procfs_test::WriteFile(dir.path() + "/empty", "");
  EXPECT_FALSE(Read(dir.path() + "/empty", &info, &problem));

  // Cut in the middle of the dynamic section: what is there is read, nothing more.
  ElfSpec spec;
  spec.build_id_hex = "00112233445566778899aabbccddeeff";
  spec.needed = {"liba.so", "libb.so"};
  std::string bytes = ElfWriter::Make(spec);
  for (size_t cut : {size_t{64}, size_t{100}, bytes.size() / 2, bytes.size() - 40}) {
    procfs_test::WriteFile(dir.path() + "/cut", bytes.substr(0, cut));
    problem.clear();
    Read(dir.path() + "/cut", &info, &problem);  // must not crash or read out of bounds
  }
  // Garbage after a valid identification.
  std::string garbage = bytes.substr(0, 16) + std::string(2000, '\xff');
  procfs_test::WriteFile(dir.path() + "/garbage", garbage);
  Read(dir.path() + "/garbage", &info, &problem);
}

// Damaged files read by a scan must never read outside what was read (the
// sanitizer build of tools/test runs this under AddressSanitizer): every
// byte of the headers, tables and dynamic section is overwritten in turn
// with values that make sizes and offsets absurd.
TEST(ElfInfo, DamagedFilesAreReadSafely) {
  for (uint8_t elf_class : {ELFCLASS64, ELFCLASS32}) {
    ElfSpec spec;
    spec.elf_class = elf_class;
    spec.machine = elf_class == ELFCLASS64 ? EM_X86_64 : EM_386;
    spec.build_id_hex = "0123456789abcdef0123456789abcdef";
    spec.interpreter = "/lib/ld.so";
    spec.soname = "libx.so";
    spec.needed = {"liba.so", "libb.so"};
    spec.has_runpath = true;
    spec.runpath = "$ORIGIN";
    const std::string good = ElfWriter::Make(spec);
    // In memory (memfd): some thousand files need no disk.
    const int fd = ::memfd_create("damaged-elf", MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, good.data(), good.size(), 0), static_cast<ssize_t>(good.size()));
    for (size_t at = 0; at < good.size(); ++at) {
      for (unsigned char value : {0x00, 0x7f, 0xff}) {
        ASSERT_EQ(::pwrite(fd, &value, 1, static_cast<off_t>(at)), 1);
        ElfInfo info;
        std::string problem;
        ReadElfInfo(fd, good.size(), &info, &problem);
        EXPECT_LE(info.needed.size(), kMaxNeeded);
      }
      ASSERT_EQ(::pwrite(fd, &good[at], 1, static_cast<off_t>(at)), 1);
    }
    ::close(fd);
  }
}

TEST(ElfInfo, NotesParserStopsAtBadSizes) {
  // namesz claims more than there is.
  const uint8_t notes[] = {0xff, 0xff, 0xff, 0x7f, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, 1, 2, 3, 4};
  EXPECT_EQ(BuildIdFromNotes(notes, sizeof notes, 4, false), "");
  EXPECT_EQ(BuildIdFromNotes(notes, 0, 4, false), "");
}

// Real binaries of this machine: the test itself, libc, libssl, the loader.
TEST(ElfInfo, AgreesWithReadelfOnThisMachinesBinaries) {
  std::vector<std::string> paths = {"/proc/self/exe"};
  for (const char* p : {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libssl.so.3",
                        "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/bin/openssl", "/bin/sh",
                        "/usr/lib/x86_64-linux-gnu/libz.so.1"}) {
    if (::access(p, R_OK) == 0) paths.push_back(p);
  }
  ASSERT_GE(paths.size(), 2u);
  for (const std::string& path : paths) {
    ElfInfo info;
    std::string problem;
    const std::string real = path == "/proc/self/exe" ? std::filesystem::read_symlink(path).string() : path;
    ASSERT_TRUE(Read(real, &info, &problem)) << real << ": " << problem;
    EXPECT_EQ(info.build_id, ReadelfBuildId(real)) << real;
    const std::string dynamic = ReadelfDynamic(real);
    EXPECT_EQ(info.needed, DynamicValues(dynamic, "NEEDED")) << real;
    const auto soname = DynamicValues(dynamic, "SONAME");
    EXPECT_EQ(info.soname, soname.empty() ? "" : soname[0]) << real;
    const auto runpath = DynamicValues(dynamic, "RUNPATH");
    EXPECT_EQ(info.has_runpath, !runpath.empty()) << real;
    if (!runpath.empty()) {
      EXPECT_EQ(info.runpath, runpath[0]) << real;
    }
  }
}

}  // namespace
