// elf_info.hpp — what source-procfs needs to know about one ELF file: its GNU
// build-id and the dynamic-section entries the dynamic loader resolves
// (DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME, DF_1_NODEFLIB) plus PT_INTERP.
//
// The file is read with pread(2) in a few bounded pieces (the header, the
// program and section header tables, note segments, the dynamic segment and
// single strings of the dynamic string table), never mapped or read whole: a
// running service may map a 2 GiB library, and a scan must cost the same
// whatever the files hold. ELF32 and ELF64, either byte order, are read with
// <elf.h>'s layouts. Pure functions of the file's bytes; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace signals::procfs {

// The bounds of one read (bytes). A table or segment larger than its bound is
// read up to the bound: what lies beyond is ignored, never an error.
inline constexpr size_t kMaxHeaderTableBytes = 64 * 1024;  // program headers, section headers
inline constexpr size_t kMaxNoteBytes = 64 * 1024;         // one note segment or section
inline constexpr size_t kMaxDynamicBytes = 64 * 1024;      // the dynamic segment (4096 entries of ELF64)
inline constexpr size_t kMaxStringBytes = 4096;            // one string of the dynamic string table
inline constexpr size_t kMaxNeeded = 1024;                 // DT_NEEDED entries kept

struct ElfInfo {
  bool is_elf = false;              // the file starts with a valid ELF identification
  uint8_t elf_class = 0;            // ELFCLASS32 or ELFCLASS64
  uint8_t data = 0;                 // ELFDATA2LSB or ELFDATA2MSB
  uint16_t type = 0;                // ET_EXEC, ET_DYN, ...
  uint16_t machine = 0;             // EM_X86_64, EM_AARCH64, ...
  std::string build_id;             // NT_GNU_BUILD_ID as lowercase hex; "" when the file has none
  std::string interpreter;          // PT_INTERP; "" for libraries and static executables
  std::string soname;               // DT_SONAME
  std::vector<std::string> needed;  // DT_NEEDED, in order
  bool has_rpath = false;           // DT_RPATH present (searched only without DT_RUNPATH)
  std::string rpath;
  bool has_runpath = false;  // DT_RUNPATH present
  std::string runpath;
  bool nodeflib = false;  // DF_1_NODEFLIB: the cache and default directories are not searched
};

// Reads `fd` (a regular file of `file_size` bytes). Returns false with
// *problem set when the file is not ELF or a read fails; a file that is ELF
// but whose notes or dynamic section are damaged gives what could be read and
// true. *info is reset first.
bool ReadElfInfo(int fd, uint64_t file_size, ElfInfo* info, std::string* problem);

// Parses a block of ELF notes (Elf32_Nhdr/Elf64_Nhdr, which are the same) and
// returns the hex build-id of the first note named "GNU" of type
// NT_GNU_BUILD_ID, or "". `align` is the notes' alignment (4, or 8 for
// segments aligned to 8). `swap`: the file's byte order is not the host's.
std::string BuildIdFromNotes(const uint8_t* notes, size_t size, size_t align, bool swap);

}  // namespace signals::procfs
