// posix_io.cpp — POSIX primitives for the cas-fs write protocol. Thread-safe.
#include "posix_io.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace signals::cas_fs {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() { Close(); }

int UniqueFd::Close() {
  if (fd_ < 0) return 0;
  int fd = Release();
  // Linux releases the descriptor even when close() fails, so never retry
  // (a retry could close a descriptor another thread just opened).
  return ::close(fd) == 0 ? 0 : errno;
}

std::string ErrnoText(int err) {
  char buffer[256];
  // GNU strerror_r may return a static string instead of filling the buffer.
  return std::string(strerror_r(err, buffer, sizeof(buffer)));
}

int WriteAll(int fd, const uint8_t* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    // write() returning 0 for a non-zero length means the device takes no more.
    if (n == 0) return ENOSPC;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

int ReadFull(int fd, uint8_t* buffer, size_t capacity, size_t* out_len) {
  size_t total = 0;
  while (total < capacity) {
    ssize_t n = ::read(fd, buffer + total, capacity - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      *out_len = total;
      return errno;
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  *out_len = total;
  return 0;
}

int FsyncDirectory(const std::string& path) {
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return errno;
  if (::fsync(dir.get()) != 0) return errno;
  return dir.Close();
}

std::string RandomHex(size_t bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string raw(bytes, '\0');
  size_t filled = 0;
  while (filled < bytes) {
    ssize_t n = ::getrandom(raw.data() + filled, bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // getrandom cannot fail once the pool is initialised; if it ever does,
      // fall back to something unique enough for O_EXCL retries.
      std::string fallback = std::to_string(::getpid()) + "x" + std::to_string(filled);
      raw.replace(filled, std::string::npos, fallback.substr(0, bytes - filled));
      raw.resize(bytes, 'z');
      break;
    }
    filled += static_cast<size_t>(n);
  }
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

int MakeDirectory(const std::string& path, mode_t mode, bool durable, bool* created) {
  *created = false;
  if (::mkdir(path.c_str(), mode) != 0) {
    int err = errno;
    if (err != EEXIST) return err;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  }
  *created = true;
  if (!durable) return 0;
  size_t slash = path.find_last_of('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  return FsyncDirectory(parent);
}

int MakeDirectories(const std::string& path, mode_t mode, bool durable, std::string* failed_path) {
  // Walk top down so each new directory's parent exists and can be fsynced.
  size_t pos = path.front() == '/' ? 1 : 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) {  // skip empty components ("a//b", trailing '/')
      std::string partial = path.substr(0, slash);
      // Existing ancestors are the common case (and may sit on read-only
      // mounts or in directories we may not write), so look before mkdir.
      struct stat st;
      if (::stat(partial.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        pos = slash + 1;
        continue;
      }
      bool created = false;
      if (int err = MakeDirectory(partial, mode, durable, &created); err != 0) {
        *failed_path = partial;
        return err;
      }
    }
    pos = slash + 1;
  }
  return 0;
}

}  // namespace signals::cas_fs
