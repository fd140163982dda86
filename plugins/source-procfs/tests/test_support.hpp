// test_support.hpp — what the source-procfs tests share: a temporary
// directory tree, running a command for its output (readelf, dpkg, ldd: the
// independent tools the tests compare with), and an ELF writer that makes
// small files with exactly the notes and dynamic entries a test needs.
#pragma once

#include <elf.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace procfs_test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "procfs-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

inline void Symlink(const std::string& target, const std::string& link) {
  std::filesystem::create_directories(std::filesystem::path(link).parent_path());
  std::filesystem::create_symlink(target, link);
}

// stdout of `command` (run by /bin/sh); throws when it cannot be started.
inline std::string Run(const std::string& command, int* status = nullptr) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int rc = ::pclose(pipe);
  if (status != nullptr) *status = rc;
  return out;
}

inline std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// What a synthetic ELF file holds.
struct ElfSpec {
  uint8_t elf_class = ELFCLASS64;
  uint8_t data = ELFDATA2LSB;
  uint16_t machine = EM_X86_64;
  uint16_t type = ET_DYN;
  std::string build_id_hex;               // "" for no note
  size_t note_align = 4;                  // PT_NOTE p_align (4, or 8 as GNU property notes use)
  bool extra_note_first = false;          // a non-build-id note before the build-id one
  bool build_id_in_section_only = false;  // no PT_NOTE: only a SHT_NOTE section holds it
  std::string interpreter;
  std::string soname;
  std::vector<std::string> needed;
  std::string rpath, runpath;
  bool has_rpath = false, has_runpath = false;
  bool nodeflib = false;
};

// An ELF file (header, program headers PT_LOAD/PT_INTERP/PT_NOTE/PT_DYNAMIC,
// then the interpreter, the notes, .dynstr and .dynamic, and a section header
// table) in either class and byte order.
class ElfWriter {
 public:
  static std::string Make(const ElfSpec& spec) { return ElfWriter(spec).bytes_; }

 private:
  explicit ElfWriter(const ElfSpec& spec)
      : is64_(spec.elf_class == ELFCLASS64),
        swap_(spec.data !=
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
              ELFDATA2LSB
#else
              ELFDATA2MSB
#endif
        ) {
    if (is64_) {
      Write<Elf64>(spec);
    } else {
      Write<Elf32>(spec);
    }
  }

  // <elf.h>'s layouts of one ELF class.
  struct Elf32 {
    using Ehdr = Elf32_Ehdr;
    using Phdr = Elf32_Phdr;
    using Shdr = Elf32_Shdr;
    using Dyn = Elf32_Dyn;
  };
  struct Elf64 {
    using Ehdr = Elf64_Ehdr;
    using Phdr = Elf64_Phdr;
    using Shdr = Elf64_Shdr;
    using Dyn = Elf64_Dyn;
  };

// One member of a <elf.h> struct of the file's class, written at `at`.
#define PUT_FIELD(Struct, member, at, value) \
  Put<decltype(Struct::member)>((at) + offsetof(Struct, member), (value))

  template <typename E>
  void Write(const ElfSpec& spec) {
    const uint64_t base = 0x400000;
    using Ehdr = typename E::Ehdr;
    using Phdr = typename E::Phdr;
    using Shdr = typename E::Shdr;
    using Dyn = typename E::Dyn;
    const size_t ehdr = sizeof(Ehdr);
    const size_t phent = sizeof(Phdr);
    const size_t dynent = sizeof(Dyn);
    const size_t shent = sizeof(Shdr);
    const bool note = !spec.build_id_hex.empty();
    const bool note_segment = note && !spec.build_id_in_section_only;
    const size_t phnum = 2 + (spec.interpreter.empty() ? 0 : 1) + (note_segment ? 1 : 0);

    // Contents after the headers.
    std::string interp = spec.interpreter.empty() ? "" : spec.interpreter + std::string(1, '\0');
    std::string notes;
    if (note) {
      if (spec.extra_note_first)
        notes += Note("GNU", NT_GNU_PROPERTY_TYPE_0, std::string(16, '\x01'), spec.note_align);
      notes += Note("GNU", NT_GNU_BUILD_ID, FromHex(spec.build_id_hex), spec.note_align);
    }
    std::string dynstr(1, '\0');
    auto add_string = [&dynstr](const std::string& s) {
      const size_t at = dynstr.size();
      dynstr += s + std::string(1, '\0');
      return at;
    };
    std::vector<std::pair<int64_t, uint64_t>> dyn;
    for (const std::string& n : spec.needed) dyn.emplace_back(DT_NEEDED, add_string(n));
    if (!spec.soname.empty()) dyn.emplace_back(DT_SONAME, add_string(spec.soname));
    if (spec.has_rpath) dyn.emplace_back(DT_RPATH, add_string(spec.rpath));
    if (spec.has_runpath) dyn.emplace_back(DT_RUNPATH, add_string(spec.runpath));
    if (spec.nodeflib) dyn.emplace_back(DT_FLAGS_1, DF_1_NODEFLIB);

    size_t at = ehdr + phnum * phent;
    const size_t interp_at = at;
    at += interp.size();
    at = Align(at, 8);
    const size_t notes_at = at;
    at += notes.size();
    const size_t dynstr_at = at;
    at += dynstr.size();
    at = Align(at, 8);
    const size_t dynamic_at = at;
    dyn.emplace_back(DT_STRTAB, base + dynstr_at);
    dyn.emplace_back(DT_STRSZ, dynstr.size());
    dyn.emplace_back(DT_NULL, 0);
    at += dyn.size() * dynent;
    at = Align(at, 8);
    const size_t shdrs_at = at;
    const size_t shnum = note ? 2 : 1;  // the null section, the note section
    const size_t total = shdrs_at + shnum * shent;
    bytes_.assign(total, '\0');

    // ELF header.
    std::memcpy(&bytes_[0], ELFMAG, SELFMAG);
    bytes_[EI_CLASS] = static_cast<char>(spec.elf_class);
    bytes_[EI_DATA] = static_cast<char>(spec.data);
    bytes_[EI_VERSION] = EV_CURRENT;
    PUT_FIELD(Ehdr, e_type, 0, spec.type);
    PUT_FIELD(Ehdr, e_machine, 0, spec.machine);
    PUT_FIELD(Ehdr, e_version, 0, EV_CURRENT);
    PUT_FIELD(Ehdr, e_phoff, 0, ehdr);
    PUT_FIELD(Ehdr, e_shoff, 0, shdrs_at);
    PUT_FIELD(Ehdr, e_ehsize, 0, ehdr);
    PUT_FIELD(Ehdr, e_phentsize, 0, phent);
    PUT_FIELD(Ehdr, e_phnum, 0, phnum);
    PUT_FIELD(Ehdr, e_shentsize, 0, shent);
    PUT_FIELD(Ehdr, e_shnum, 0, shnum);
    size_t ph = ehdr;
    auto segment = [&](uint32_t type, uint64_t offset, uint64_t size, uint64_t align) {
      PUT_FIELD(Phdr, p_type, ph, type);
      PUT_FIELD(Phdr, p_flags, ph, PF_R);
      PUT_FIELD(Phdr, p_offset, ph, offset);
      PUT_FIELD(Phdr, p_vaddr, ph, base + offset);
      PUT_FIELD(Phdr, p_paddr, ph, base + offset);
      PUT_FIELD(Phdr, p_filesz, ph, size);
      PUT_FIELD(Phdr, p_memsz, ph, size);
      PUT_FIELD(Phdr, p_align, ph, align);
      ph += phent;
    };
    segment(PT_LOAD, 0, total, 0x1000);
    if (!interp.empty()) segment(PT_INTERP, interp_at, interp.size(), 1);
    if (note_segment) segment(PT_NOTE, notes_at, notes.size(), spec.note_align);
    segment(PT_DYNAMIC, dynamic_at, dyn.size() * dynent, 8);

    std::memcpy(&bytes_[interp_at], interp.data(), interp.size());
    std::memcpy(&bytes_[notes_at], notes.data(), notes.size());
    std::memcpy(&bytes_[dynstr_at], dynstr.data(), dynstr.size());
    for (size_t i = 0; i < dyn.size(); ++i) {
      const size_t d = dynamic_at + i * dynent;
      PUT_FIELD(Dyn, d_tag, d, dyn[i].first);
      PUT_FIELD(Dyn, d_un.d_val, d, dyn[i].second);
    }
    if (note) {
      const size_t s = shdrs_at + shent;  // section 1: the notes
      PUT_FIELD(Shdr, sh_type, s, SHT_NOTE);
      PUT_FIELD(Shdr, sh_offset, s, notes_at);
      PUT_FIELD(Shdr, sh_size, s, notes.size());
      PUT_FIELD(Shdr, sh_addralign, s, spec.note_align);
    }
  }

#undef PUT_FIELD

  static size_t Align(size_t n, size_t a) { return (n + a - 1) / a * a; }

  static std::string FromHex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
  }

  template <typename T>
  void Put(size_t offset, uint64_t value) {
    T v = static_cast<T>(value);
    if (swap_) {
      T s = 0;
      for (size_t i = 0; i < sizeof(T); ++i) {
        s = static_cast<T>((static_cast<uint64_t>(s) << 8) | ((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
      }
      v = s;
    }
    std::memcpy(&bytes_[offset], &v, sizeof v);
  }

  std::string Note(const std::string& name, uint32_t type, const std::string& desc, size_t align) {
    std::string out(12, '\0');
    const std::string padded_name = name + std::string(1, '\0');
    auto put32 = [this, &out](size_t at, uint32_t v) {
      if (swap_) v = __builtin_bswap32(v);
      std::memcpy(&out[at], &v, 4);
    };
    put32(0, static_cast<uint32_t>(padded_name.size()));
    put32(4, static_cast<uint32_t>(desc.size()));
    put32(8, type);
    out += padded_name;
    out.resize(Align(out.size(), align), '\0');
    out += desc;
    out.resize(Align(out.size(), align), '\0');
    return out;
  }

  bool is64_;
  bool swap_;
  std::string bytes_;
};

}  // namespace procfs_test
