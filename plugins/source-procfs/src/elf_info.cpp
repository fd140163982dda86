// elf_info.cpp — see elf_info.hpp.
#include "elf_info.hpp"

#include <elf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

namespace signals::procfs {
namespace {

template <typename T>
T ByteSwap(T v) {
  static_assert(std::is_integral_v<T>, "integers only");
  if constexpr (sizeof(T) == 1) {
    return v;
  } else if constexpr (sizeof(T) == 2) {
    return static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(v)));
  } else if constexpr (sizeof(T) == 4) {
    return static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(v)));
  } else {
    return static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(v)));
  }
}

// An integer of the file's byte order at `p` (no alignment assumed).
template <typename T>
T Load(const uint8_t* p, bool swap) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return swap ? ByteSwap(v) : v;
}

// One member of a <elf.h> struct laid out at `base`, whatever the class.
#define ELF_FIELD(Struct, member, base, swap) \
  Load<decltype(Struct::member)>((base) + offsetof(Struct, member), (swap))

// pread of up to `len` bytes at `offset`, within the file; fewer at its end.
bool ReadAt(int fd, uint64_t file_size, uint64_t offset, size_t len, std::vector<uint8_t>* out) {
  out->clear();
  if (offset >= file_size) return false;
  if (len > file_size - offset) len = static_cast<size_t>(file_size - offset);
  out->resize(len);
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd, out->data() + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  out->resize(done);
  return done == len;
}

struct Segment {
  uint32_t type = 0;
  uint64_t offset = 0, vaddr = 0, filesz = 0, align = 0;
};

struct Section {
  uint32_t type = 0;
  uint64_t offset = 0, size = 0, align = 0;
};

struct Header {
  uint16_t type = 0, machine = 0;
  uint64_t phoff = 0, shoff = 0;
  uint16_t phentsize = 0, phnum = 0, shentsize = 0, shnum = 0;
};

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

// Reads the structures of one file of class `E` (Elf32 or Elf64).
template <typename E>
class Reader {
  using Ehdr = typename E::Ehdr;
  using Phdr = typename E::Phdr;
  using Shdr = typename E::Shdr;
  using Dyn = typename E::Dyn;

 public:
  Reader(int fd, uint64_t size, bool swap) : fd_(fd), size_(size), swap_(swap) {}

  bool ReadHeader(const uint8_t* ident_and_header, Header* h) const {
    const uint8_t* p = ident_and_header;
    h->type = ELF_FIELD(Ehdr, e_type, p, swap_);
    h->machine = ELF_FIELD(Ehdr, e_machine, p, swap_);
    h->phoff = ELF_FIELD(Ehdr, e_phoff, p, swap_);
    h->shoff = ELF_FIELD(Ehdr, e_shoff, p, swap_);
    h->phentsize = ELF_FIELD(Ehdr, e_phentsize, p, swap_);
    h->phnum = ELF_FIELD(Ehdr, e_phnum, p, swap_);
    h->shentsize = ELF_FIELD(Ehdr, e_shentsize, p, swap_);
    h->shnum = ELF_FIELD(Ehdr, e_shnum, p, swap_);
    return h->phentsize == 0 || h->phentsize >= sizeof(Phdr);
  }

  // The section headers; with `first_only`, just section 0 (which holds the
  // real program header count when e_phnum is PN_XNUM).
  std::vector<Section> Sections(const Header& h, bool first_only, uint32_t* first_info) const {
    if (h.shoff == 0 || h.shentsize < sizeof(Shdr)) return {};
    return Table<Section>(h.shoff, first_only ? 1 : h.shnum, h.shentsize, [&](const uint8_t* p, size_t i) {
      Section s;
      s.type = ELF_FIELD(Shdr, sh_type, p, swap_);
      s.offset = ELF_FIELD(Shdr, sh_offset, p, swap_);
      s.size = ELF_FIELD(Shdr, sh_size, p, swap_);
      s.align = ELF_FIELD(Shdr, sh_addralign, p, swap_);
      if (i == 0 && first_info != nullptr) *first_info = ELF_FIELD(Shdr, sh_info, p, swap_);
      return s;
    });
  }

  std::vector<Segment> Segments(const Header& h) const {
    size_t count = h.phnum;
    if (count == PN_XNUM) {
      uint32_t real = 0;
      Sections(h, true, &real);
      count = real;
    }
    if (h.phoff == 0 || h.phentsize == 0 || count == 0) return {};
    return Table<Segment>(h.phoff, count, h.phentsize, [&](const uint8_t* p, size_t) {
      Segment s;
      s.type = ELF_FIELD(Phdr, p_type, p, swap_);
      s.offset = ELF_FIELD(Phdr, p_offset, p, swap_);
      s.vaddr = ELF_FIELD(Phdr, p_vaddr, p, swap_);
      s.filesz = ELF_FIELD(Phdr, p_filesz, p, swap_);
      s.align = ELF_FIELD(Phdr, p_align, p, swap_);
      return s;
    });
  }

  std::string BuildIdAt(uint64_t offset, uint64_t size, uint64_t align) const {
    std::vector<uint8_t> notes;
    ReadAt(fd_, size_, offset, static_cast<size_t>(size < kMaxNoteBytes ? size : kMaxNoteBytes), &notes);
    return BuildIdFromNotes(notes.data(), notes.size(), align == 8 ? 8 : 4, swap_);
  }

  // A NUL-terminated string at `offset`, at most kMaxStringBytes; "" when
  // it cannot be read or is not terminated within the bound.
  std::string StringAt(uint64_t offset, uint64_t table_end) const {
    if (offset >= table_end) return "";
    uint64_t len = table_end - offset;
    if (len > kMaxStringBytes) len = kMaxStringBytes;
    std::vector<uint8_t> bytes;
    ReadAt(fd_, size_, offset, static_cast<size_t>(len), &bytes);
    if (bytes.empty()) return "";
    const void* nul = std::memchr(bytes.data(), 0, bytes.size());
    if (nul == nullptr) return "";
    return std::string(reinterpret_cast<const char*>(bytes.data()),
                       static_cast<const uint8_t*>(nul) - bytes.data());
  }

  void ReadDynamic(const Segment& dynamic, const std::vector<Segment>& segments, ElfInfo* info) const {
    std::vector<uint8_t> table;
    ReadAt(fd_, size_, dynamic.offset,
           static_cast<size_t>(dynamic.filesz < kMaxDynamicBytes ? dynamic.filesz : kMaxDynamicBytes),
           &table);
    uint64_t strtab = 0, strsz = 0;
    bool has_strtab = false;
    std::vector<uint64_t> needed;
    uint64_t soname = 0, rpath = 0, runpath = 0;
    bool has_soname = false;
    for (size_t at = 0; at + sizeof(Dyn) <= table.size(); at += sizeof(Dyn)) {
      const uint8_t* p = table.data() + at;
      const int64_t tag = ELF_FIELD(Dyn, d_tag, p, swap_);
      const uint64_t value = ELF_FIELD(Dyn, d_un.d_val, p, swap_);
      if (tag == DT_NULL) break;
      switch (tag) {
        case DT_NEEDED:
          if (needed.size() < kMaxNeeded) needed.push_back(value);
          break;
        case DT_STRTAB:
          strtab = value;
          has_strtab = true;
          break;
        case DT_STRSZ:
          strsz = value;
          break;
        case DT_SONAME:
          soname = value;
          has_soname = true;
          break;
        case DT_RPATH:
          rpath = value;
          info->has_rpath = true;
          break;
        case DT_RUNPATH:
          runpath = value;
          info->has_runpath = true;
          break;
        case DT_FLAGS_1:
          info->nodeflib = (value & DF_1_NODEFLIB) != 0;
          break;
        default:
          break;
      }
    }
    if (!has_strtab) return;
    // DT_STRTAB is a virtual address: the PT_LOAD segment holding it gives
    // its place in the file.
    uint64_t table_offset = 0;
    bool mapped = false;
    for (const Segment& s : segments) {
      if (s.type == PT_LOAD && strtab >= s.vaddr && strtab - s.vaddr < s.filesz) {
        table_offset = strtab - s.vaddr + s.offset;
        mapped = true;
        break;
      }
    }
    if (!mapped) return;
    const uint64_t table_end = strsz > 0 && strsz <= size_ - table_offset ? table_offset + strsz : size_;
    for (uint64_t name : needed) {
      std::string text = StringAt(table_offset + name, table_end);
      if (!text.empty()) info->needed.push_back(std::move(text));
    }
    if (has_soname) info->soname = StringAt(table_offset + soname, table_end);
    if (info->has_rpath) info->rpath = StringAt(table_offset + rpath, table_end);
    if (info->has_runpath) info->runpath = StringAt(table_offset + runpath, table_end);
  }

 private:
  // The entries of a header table: `count` entries of `entry_size` bytes at
  // `offset`, as many of them as fit kMaxHeaderTableBytes and the file, each
  // made by `parse(bytes, index)`.
  template <typename Entry, typename Parse>
  std::vector<Entry> Table(uint64_t offset, size_t count, size_t entry_size, Parse parse) const {
    if (count * entry_size > kMaxHeaderTableBytes) count = kMaxHeaderTableBytes / entry_size;
    std::vector<uint8_t> table;
    ReadAt(fd_, size_, offset, count * entry_size, &table);
    count = table.size() / entry_size;
    std::vector<Entry> out;
    for (size_t i = 0; i < count; ++i) out.push_back(parse(table.data() + i * entry_size, i));
    return out;
  }

  int fd_;
  uint64_t size_;
  bool swap_;
};

// The part of ReadElfInfo after the identification (checked, at the start
// of `head`, with the whole header), for a file of class `E`.
template <typename E>
bool ReadClass(int fd, uint64_t file_size, bool swap, const uint8_t* head, ElfInfo* info,
               std::string* problem) {
  const Reader<E> reader(fd, file_size, swap);
  Header h;
  if (!reader.ReadHeader(head, &h)) {
    *problem = "program header entries smaller than the ELF class's";
    return false;
  }
  info->is_elf = true;
  info->elf_class = head[EI_CLASS];
  info->data = head[EI_DATA];
  info->type = h.type;
  info->machine = h.machine;

  const std::vector<Segment> segments = reader.Segments(h);
  for (const Segment& s : segments) {
    if (s.type == PT_NOTE && info->build_id.empty()) {
      info->build_id = reader.BuildIdAt(s.offset, s.filesz, s.align);
    } else if (s.type == PT_INTERP && info->interpreter.empty()) {
      info->interpreter = reader.StringAt(s.offset, s.offset + s.filesz);
    }
  }
  for (const Segment& s : segments) {
    if (s.type == PT_DYNAMIC) {
      reader.ReadDynamic(s, segments, info);
      break;
    }
  }
  // Objects without program headers (relocatable files) or whose PT_NOTE
  // does not cover the note: .note.gnu.build-id is a SHT_NOTE section.
  if (info->build_id.empty()) {
    for (const Section& s : reader.Sections(h, false, nullptr)) {
      if (s.type != SHT_NOTE) continue;
      info->build_id = reader.BuildIdAt(s.offset, s.size, s.align);
      if (!info->build_id.empty()) break;
    }
  }
  return true;
}

}  // namespace

std::string BuildIdFromNotes(const uint8_t* notes, size_t size, size_t align, bool swap) {
  static const char kHex[] = "0123456789abcdef";
  auto aligned = [align](uint64_t n) { return (n + align - 1) & ~static_cast<uint64_t>(align - 1); };
  size_t at = 0;
  while (at + sizeof(Elf64_Nhdr) <= size) {
    const uint8_t* p = notes + at;
    const uint32_t namesz = ELF_FIELD(Elf64_Nhdr, n_namesz, p, swap);
    const uint32_t descsz = ELF_FIELD(Elf64_Nhdr, n_descsz, p, swap);
    const uint32_t type = ELF_FIELD(Elf64_Nhdr, n_type, p, swap);
    // As binutils lays notes out: the descriptor starts at the header plus
    // the name rounded up to the alignment, the next note after the
    // descriptor rounded up (for 4-byte alignment the same as the gABI's
    // padding of name and descriptor).
    const uint64_t name_at = at + sizeof(Elf64_Nhdr);
    const uint64_t desc_at = at + aligned(sizeof(Elf64_Nhdr) + static_cast<uint64_t>(namesz));
    const uint64_t next = at + aligned(desc_at - at + descsz);
    if (name_at + namesz > size || desc_at + descsz > size) break;
    if (type == NT_GNU_BUILD_ID && namesz == 4 && std::memcmp(notes + name_at, "GNU", 4) == 0 && descsz > 0) {
      std::string hex;
      hex.reserve(descsz * 2);
      for (uint32_t i = 0; i < descsz; ++i) {
        hex.push_back(kHex[notes[desc_at + i] >> 4]);
        hex.push_back(kHex[notes[desc_at + i] & 0xf]);
      }
      return hex;
    }
    if (next <= at) break;
    at = static_cast<size_t>(next);
  }
  return "";
}

bool ReadElfInfo(int fd, uint64_t file_size, ElfInfo* info, std::string* problem) {
  *info = ElfInfo{};
  std::vector<uint8_t> head;
  if (!ReadAt(fd, file_size, 0, sizeof(Elf64_Ehdr), &head) && head.size() < sizeof(Elf32_Ehdr)) {
    *problem = "shorter than an ELF header";
    return false;
  }
  if (head.size() < EI_NIDENT || std::memcmp(head.data(), ELFMAG, SELFMAG) != 0) {
    *problem = "not an ELF file";
    return false;
  }
  const uint8_t elf_class = head[EI_CLASS], data = head[EI_DATA];
  if ((elf_class != ELFCLASS32 && elf_class != ELFCLASS64) || (data != ELFDATA2LSB && data != ELFDATA2MSB)) {
    *problem = "unknown ELF class or byte order";
    return false;
  }
  const bool is64 = elf_class == ELFCLASS64;
  if (head.size() < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
    *problem = "shorter than an ELF header";
    return false;
  }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const bool swap = data != ELFDATA2LSB;
#else
  const bool swap = data != ELFDATA2MSB;
#endif
  return is64 ? ReadClass<Elf64>(fd, file_size, swap, head.data(), info, problem)
              : ReadClass<Elf32>(fd, file_size, swap, head.data(), info, problem);
}

}  // namespace signals::procfs
