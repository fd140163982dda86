// posix_io.hpp — the few POSIX file primitives cas-fs builds its write protocol
// on: an owning file descriptor, full writes and reads that survive EINTR and
// short transfers, directory fsync, and random temp-name suffixes.
//
// Functions return 0 or an errno value instead of throwing, so the caller can
// choose the status (ENOSPC → SIGNALS_NO_SPACE) and name the key in the
// message. All functions are thread-safe; a UniqueFd is not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace signals::cas_fs {

// Owns one file descriptor and closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes now and reports close()'s errno (0 on success). On NFS and some
  // quota setups close() is where a deferred ENOSPC/EDQUOT surfaces.
  int Close();

 private:
  int fd_ = -1;
};

// strerror text for `err`, e.g. "No space left on device".
std::string ErrnoText(int err);

// Writes all `len` bytes, retrying on EINTR and short writes. 0 or errno.
int WriteAll(int fd, const uint8_t* data, size_t len);

// Reads up to `capacity` bytes, retrying on EINTR; fewer only at end of file.
// Returns the count in *out_len. 0 or errno.
int ReadFull(int fd, uint8_t* buffer, size_t capacity, size_t* out_len);

// fsync()s a directory so that entries created, renamed or removed in it
// survive a crash. 0 or errno.
int FsyncDirectory(const std::string& path);

// `bytes` random bytes from getrandom(2) as lowercase hex.
std::string RandomHex(size_t bytes);

// mkdir(path, mode); when the directory was created and `durable`, fsyncs its
// parent so the new entry survives a crash. Sets *created. An existing
// directory is success; an existing non-directory is ENOTDIR. 0 or errno.
int MakeDirectory(const std::string& path, mode_t mode, bool durable, bool* created);

// MakeDirectory for `path` and every missing ancestor, top down. 0 or errno;
// *failed_path names the directory that could not be made.
int MakeDirectories(const std::string& path, mode_t mode, bool durable, std::string* failed_path);

}  // namespace signals::cas_fs
