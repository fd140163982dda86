// signals/support/posix_file.hpp — header-only POSIX file primitives for
// plugins that keep state in files: an owning file descriptor, errno text,
// full reads and writes, mkdir -p with a mode, directory fsync, temp names,
// and durable atomic files (write a temp file beside the target, fsync it,
// rename it into place with or without replacing, fsync the directory), so a
// reader or a crash sees the whole new file or none of it.
//
// Used by the signers (their key stores, through pem_key_store.hpp); written
// so that stores such as cas-fs can build their write protocol on it too.
// Linux-only (renameat2, getrandom), like the kernel. Needs only the C
// library; the plugin links nothing for it.
//
// Conventions: a function that makes one system call returns 0 or its errno;
// one that makes several returns a FileStatus naming the call that failed.
// Nothing here throws (but for std::bad_alloc) or keeps state. Every function
// is thread-safe; a UniqueFd is used by one thread at a time.
#ifndef SIGNALS_SUPPORT_POSIX_FILE_HPP
#define SIGNALS_SUPPORT_POSIX_FILE_HPP

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace signals {
namespace support {

// strerror text for `err`, e.g. "Permission denied" for EACCES.
inline std::string ErrnoText(int err) {
  char buffer[256];
  // GNU strerror_r may return a static string instead of filling the buffer.
  return std::string(strerror_r(err, buffer, sizeof(buffer)));
}

// Owns one file descriptor (or none, -1) and closes it on destruction.
// Movable, not copyable.
class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd`; a negative value means none (e.g. a failed open).
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = other.Release();
    }
    return *this;
  }
  ~UniqueFd() { Close(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership: returns the descriptor (the caller closes it) and
  // leaves this object empty.
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes now; returns 0 or close()'s errno (0 when there was nothing to
  // close). The object is empty afterwards either way: Linux releases the
  // descriptor even when close() fails, so it is never retried. On NFS and
  // some quota setups close() is where a deferred ENOSPC/EDQUOT surfaces.
  int Close() {
    if (fd_ < 0) return 0;
    return ::close(Release()) == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

// The result of an operation made of several system calls: ok(), or the
// errno of the call that failed (err()), the path it worked on (path()) and a
// sentence for an operator naming the step, the path and the errno text
// (message(), e.g. "write /k/.a.pem.tmp.0123456789abcdef: No space left on
// device"). Messages name paths, never file contents.
class FileStatus {
 public:
  // Success.
  FileStatus() = default;

  // A failure. REQUIRES: err != 0.
  static FileStatus Failure(int err, std::string path, std::string message) {
    FileStatus status;
    status.err_ = err;
    status.path_ = std::move(path);
    status.message_ = std::move(message);
    return status;
  }

  // A failure of `step` (e.g. "write") on `path`: "step path: errno text".
  static FileStatus Errno(int err, const std::string& step, const std::string& path) {
    return Failure(err, path, step + " " + path + ": " + ErrnoText(err));
  }

  bool ok() const { return err_ == 0; }
  int err() const { return err_; }
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }

  // True when a no-replace publish (PublishNoReplace, WriteFileAtomically)
  // found the target name taken; err() is then EEXIST. An EEXIST of any other
  // step (say, mkdir of a parent) does not count.
  bool already_exists() const { return already_exists_; }

  // The failure "the publish target `path` exists" (EEXIST, already_exists()).
  static FileStatus AlreadyExists(const std::string& path) {
    FileStatus status = Failure(EEXIST, path, path + " already exists");
    status.already_exists_ = true;
    return status;
  }

 private:
  int err_ = 0;
  bool already_exists_ = false;
  std::string path_;
  std::string message_;
};

// The directory part of `path`: "/a/b" for "/a/b/c", "/" for "/c", "." for
// "c". No file system access.
inline std::string ParentDirectory(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The last component of `path`: "c" for "/a/b/c" and for "c".
inline std::string BaseName(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

// Writes all `len` bytes at `data` to `fd`, retrying on EINTR and short
// writes. Returns 0 or errno; ENOSPC when write() takes no more bytes.
inline int WriteAll(int fd, const void* data, size_t len) {
  const char* next = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, next, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;  // a device that takes nothing more is full
    next += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

// Reads up to `capacity` bytes into `buffer`, retrying on EINTR; fewer only at
// end of file. Sets *out_len to the count read, also on failure. Returns 0 or
// errno.
inline int ReadFull(int fd, void* buffer, size_t capacity, size_t* out_len) {
  char* out = static_cast<char*>(buffer);
  size_t total = 0;
  int err = 0;
  while (total < capacity) {
    ssize_t n = ::read(fd, out + total, capacity - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  *out_len = total;
  return err;
}

// Sets *exists to whether `path` exists as anything (lstat: a dangling link
// exists). Returns 0, or the errno when that cannot be told (e.g. EACCES on a
// parent directory); ENOENT counts as an answer, not a failure.
inline int PathExists(const std::string& path, bool* exists) {
  struct stat st;
  *exists = ::lstat(path.c_str(), &st) == 0;
  if (*exists || errno == ENOENT) return 0;
  return errno;
}

// fsync()s directory `path`, so that entries created, renamed or removed in it
// survive a crash. Returns 0 or errno.
inline int FsyncDirectory(const std::string& path) {
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return errno;
  if (::fsync(dir.get()) != 0) return errno;
  return dir.Close();
}

// `bytes` random bytes from getrandom(2), as 2 * `bytes` lowercase hex digits.
// Should getrandom ever fail, the bytes come from the process id instead:
// names made with O_EXCL stay safe, they only risk a retry.
inline std::string RandomHex(size_t bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string raw(bytes, '\0');
  size_t filled = 0;
  while (filled < bytes) {
    ssize_t n = ::getrandom(&raw[filled], bytes - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      uint64_t pid = static_cast<uint64_t>(::getpid());
      for (size_t i = filled; i < bytes; ++i) raw[i] = static_cast<char>(pid >> (8 * (i % 8)));
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

// A fresh temp name beside `path`: "<dir>/.<name>.tmp.<16 hex digits>". It
// starts with a dot (hidden from listings that skip dot files) and carries 64
// random bits; create it with O_EXCL all the same.
inline std::string TempPathFor(const std::string& path) {
  return ParentDirectory(path) + "/." + BaseName(path) + ".tmp." + RandomHex(8);
}

// mkdir(path, mode) (the umask applies). Sets *created when this call made
// the directory. With `durable`, fsyncs the parent afterwards so that the new
// entry survives a crash — also when another process made it a moment ago,
// since its fsync may not have finished. An existing directory is success; an
// existing non-directory fails with ENOTDIR.
// On failure: err() is the errno, path() the directory, message() "cannot
// create directory P: …", "P is not a directory" or "fsync PARENT: …".
inline FileStatus MakeDirectory(const std::string& path, mode_t mode, bool durable, bool* created) {
  *created = false;
  if (::mkdir(path.c_str(), mode) == 0) {
    *created = true;
  } else {
    int err = errno;
    struct stat st;
    if (err != EEXIST) return FileStatus::Errno(err, "cannot create directory", path);
    if (::stat(path.c_str(), &st) != 0) return FileStatus::Errno(errno, "cannot create directory", path);
    if (!S_ISDIR(st.st_mode)) return FileStatus::Failure(ENOTDIR, path, path + " is not a directory");
  }
  if (!durable) return FileStatus();
  const std::string parent = ParentDirectory(path);
  if (int err = FsyncDirectory(parent); err != 0) {
    return FileStatus::Failure(err, path, "fsync " + parent + ": " + ErrnoText(err));
  }
  return FileStatus();
}

// mkdir -p: MakeDirectory for `path` and every missing ancestor, top down, so
// each new directory's parent exists and can be fsynced. Existing ancestors
// are only stat()ed (they may sit on read-only mounts). Empty components
// ("a//b", a trailing '/') are skipped. Returns MakeDirectory's failure for
// the first directory that could not be made; path() names it.
inline FileStatus MakeDirectories(const std::string& path, mode_t mode, bool durable) {
  size_t pos = !path.empty() && path.front() == '/' ? 1 : 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) {
      const std::string partial = path.substr(0, slash);
      struct stat st;
      bool is_dir = ::stat(partial.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      bool created = false;
      if (!is_dir) {
        if (FileStatus status = MakeDirectory(partial, mode, durable, &created); !status.ok()) return status;
      }
    }
    pos = slash + 1;
  }
  return FileStatus();
}

// Renames `temp` to `target` unless `target` exists, atomically:
// renameat2(RENAME_NOREPLACE), or link(2) + unlink(temp) on file systems
// without it (some network and FUSE mounts), which is just as exclusive.
// Returns 0 (then `temp` is gone) or errno: EEXIST when `target` is taken.
// On failure `temp` may remain; the caller removes it.
inline int PublishNoReplace(const std::string& temp, const std::string& target) {
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) return 0;
  int err = errno;
  if (err != EINVAL && err != ENOSYS && err != ENOTSUP) return err;
  if (::link(temp.c_str(), target.c_str()) != 0) return errno;
  ::unlink(temp.c_str());
  return 0;
}

// Renames `temp` to `target`, atomically replacing whatever `target` was.
// Returns 0 (then `temp` is gone) or errno; on failure `temp` remains.
inline int PublishReplacing(const std::string& temp, const std::string& target) {
  return ::rename(temp.c_str(), target.c_str()) == 0 ? 0 : errno;
}

// How WriteFileAtomically publishes a file.
struct AtomicWriteOptions {
  // Permission bits of the new file.
  mode_t mode = 0600;
  // true: the file gets exactly `mode` (fchmod), whatever the umask — for
  // secrets and files others rely on. false: the umask applies.
  bool exact_mode = true;
  // false: fail with already_exists() when the target exists (for files that
  // must never change once written, like a signing key). true: replace it.
  bool replace = false;
  // true: fsync the file before the rename and the directory after it, so
  // that success means "survives a crash". false: for tests and benchmarks.
  bool durable = true;
};

// Writes `len` bytes at `data` as file `path`, so that `path` is either
// absent (or its old contents) or complete: O_EXCL temp file beside it
// (TempPathFor), write, fsync, close, rename (no-replace or replacing, as
// `options` say), fsync of the directory. The caller keeps ownership of
// `data`. Returns ok() when `path` holds the new contents. On any failure,
// including already_exists(), the temp file is removed and, for a
// no-replace write, an existing `path` is untouched; message() names the
// step: "cannot create TEMP: …", "chmod TEMP: …", "write TEMP: …",
// "fsync TEMP: …", "close TEMP: …", "rename TEMP to PATH: …", "fsync DIR: …"
// (after that last one the new file is in place but may not survive a crash).
inline FileStatus WriteFileAtomically(const std::string& path, const void* data, size_t len,
                                      const AtomicWriteOptions& options = AtomicWriteOptions()) {
  constexpr int kTempNameAttempts = 8;
  const std::string dir = ParentDirectory(path);
  std::string temp;
  UniqueFd fd;
  int open_err = 0;
  for (int attempt = 0; attempt < kTempNameAttempts && !fd.valid(); ++attempt) {
    temp = TempPathFor(path);
    fd = UniqueFd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, options.mode));
    open_err = fd.valid() ? 0 : errno;
    if (open_err != 0 && open_err != EEXIST) break;  // EEXIST: a random-name collision; draw again
  }
  if (!fd.valid()) return FileStatus::Errno(open_err, "cannot create", temp);
  auto fail = [&temp](int err, const char* step) {
    ::unlink(temp.c_str());
    return FileStatus::Errno(err, step, temp);
  };
  if (options.exact_mode && ::fchmod(fd.get(), options.mode) != 0) return fail(errno, "chmod");
  if (int err = WriteAll(fd.get(), data, len); err != 0) return fail(err, "write");
  if (options.durable && ::fsync(fd.get()) != 0) return fail(errno, "fsync");
  if (int err = fd.Close(); err != 0) return fail(err, "close");
  int err = options.replace ? PublishReplacing(temp, path) : PublishNoReplace(temp, path);
  if (err != 0) {
    ::unlink(temp.c_str());
    if (err == EEXIST && !options.replace) return FileStatus::AlreadyExists(path);
    return FileStatus::Failure(err, temp, "rename " + temp + " to " + path + ": " + ErrnoText(err));
  }
  if (options.durable) {
    if (int sync_err = FsyncDirectory(dir); sync_err != 0) return FileStatus::Errno(sync_err, "fsync", dir);
  }
  return FileStatus();
}

// What ReadRegularFile read.
struct FileContents {
  std::string bytes;
  mode_t mode = 0;  // permission bits (07777) of the file
};

// Reads all of regular file `path`, following symlinks (mounted secrets are
// often links), into *out (the caller owns it and wipes it when it held a
// secret: on failure it may hold part of the file). Refuses a file larger
// than `max_bytes`. On failure: err() is ENOENT (and friends) when it cannot
// be opened ("cannot open P: …"), EINVAL for a non-regular file ("P is not a
// regular file"), EFBIG for a file over `max_bytes` ("P is larger than N
// bytes"), else the errno of fstat or read ("cannot stat P: …", "cannot
// read P: …").
inline FileStatus ReadRegularFile(const std::string& path, size_t max_bytes, FileContents* out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return FileStatus::Errno(errno, "cannot open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return FileStatus::Errno(errno, "cannot stat", path);
  if (!S_ISREG(st.st_mode)) return FileStatus::Failure(EINVAL, path, path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return FileStatus::Failure(EFBIG, path, path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  out->mode = st.st_mode & 07777;
  out->bytes.resize(static_cast<size_t>(st.st_size));
  size_t total = 0;
  int err = ReadFull(fd.get(), &out->bytes[0], out->bytes.size(), &total);
  out->bytes.resize(total);
  if (err != 0) return FileStatus::Errno(err, "cannot read", path);
  return FileStatus();
}

}  // namespace support
}  // namespace signals

#endif  // SIGNALS_SUPPORT_POSIX_FILE_HPP
