// key_file_writer.cpp — see key_file_writer.hpp.
#include "key_file_writer.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace signals::signer_ecdsa_p256 {
namespace {

[[noreturn]] void Fail(const std::string& what, int err) {
  throw KeyFileError(what + ": " + ErrnoText(err));
}

void FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int err = fd < 0 || ::fsync(fd) != 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  if (err != 0) Fail("fsync " + dir, err);
}

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string ErrnoText(int err) {
  char buffer[256];
  return strerror_r(err, buffer, sizeof(buffer));
}

void MakeKeyDir(const std::string& dir, mode_t mode) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string partial = dir.substr(0, slash);
    struct stat st;
    if (!partial.empty() && ::stat(partial.c_str(), &st) != 0) {
      if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) Fail("cannot create directory " + partial, errno);
      FsyncDir(Parent(partial));  // the new entry must survive a crash, like the key inside
    } else if (!partial.empty() && !S_ISDIR(st.st_mode)) {
      throw KeyFileError(partial + " is not a directory");
    }
    if (slash == std::string::npos) return;
  }
}

bool PublishNewFile(const std::string& path, BIO* contents, mode_t mode) {
  unsigned char rnd[8] = {};
  RAND_bytes(rnd, sizeof(rnd));  // O_EXCL keeps even a predictable name safe
  char suffix[17];
  for (size_t i = 0; i < sizeof(rnd); ++i) std::snprintf(suffix + 2 * i, 3, "%02x", rnd[i]);
  const std::string dir = Parent(path);
  const std::string temp = dir + "/." + path.substr(path.find_last_of('/') + 1) + ".tmp." + suffix;
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) Fail("cannot create " + temp, errno);
  char* data = nullptr;
  long left = BIO_get_mem_data(contents, &data);
  int err = ::fchmod(fd, mode) != 0 ? errno : 0;  // exactly `mode`, whatever the umask
  while (err == 0 && left > 0) {
    ssize_t n = ::write(fd, data, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : ENOSPC;
    else data += n, left -= n;
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    err = errno;
    if (err == EINVAL || err == ENOSYS || err == ENOTSUP) {  // no RENAME_NOREPLACE here: link(2) is as exclusive
      err = ::link(temp.c_str(), path.c_str()) == 0 ? 0 : errno;
      ::unlink(temp.c_str());
    }
  }
  if (err != 0) ::unlink(temp.c_str());
  if (err == EEXIST) return false;
  if (err != 0) Fail("cannot write " + path, err);
  FsyncDir(dir);
  return true;
}

}  // namespace signals::signer_ecdsa_p256
