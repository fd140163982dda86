#include "core/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <signals/support/posix_file.hpp>

#include <cerrno>
#include <string>
#include <utility>

namespace signals {
namespace {

// The pid signalsd wrote into its pid file, or "" when there is none to read.
std::string DaemonPid(const std::string& data_dir) {
  support::FileContents contents;
  if (!support::ReadRegularFile(data_dir + "/signalsd.pid", 64, &contents).ok()) return "";
  std::string text = std::move(contents.bytes);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string Holder(const std::string& data_dir) {
  const std::string pid = DaemonPid(data_dir);
  return pid.empty() ? "another process" : "signalsd (pid " + pid + ") or another process";
}

}  // namespace

Result<DataDirLock> DataDirLock::Acquire(const std::string& data_dir, DataDirAccess access) {
  support::FileStatus made = support::MakeDirectories(data_dir, 0750, false);
  if (!made.ok()) return Status::Config("data directory: " + made.message());
  DataDirLock lock;
  const std::string shared_path = data_dir + "/signals.lock";
  lock.shared_fd_ = ::open(shared_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock.shared_fd_ < 0)
    return Status::Config("cannot open " + shared_path + ": " + support::ErrnoText(errno));
  const int mode = access == DataDirAccess::kExclusive ? LOCK_EX : LOCK_SH;
  if (::flock(lock.shared_fd_, mode | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK)
      return Status::Config("cannot lock " + shared_path + ": " + support::ErrnoText(errno));
    if (access == DataDirAccess::kExclusive) {
      return Status::Config("the data directory " + data_dir + " is in use by " + Holder(data_dir) +
                            "; stop signalsd and other signalsctl commands first");
    }
    return Status::Config("the data directory " + data_dir +
                          " is locked by a running `signalsctl reindex`; try again when it has finished");
  }
  if (access != DataDirAccess::kDaemon) return lock;

  const std::string pid_path = data_dir + "/signalsd.pid";
  lock.daemon_fd_ = ::open(pid_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock.daemon_fd_ < 0)
    return Status::Config("cannot open " + pid_path + ": " + support::ErrnoText(errno));
  if (::flock(lock.daemon_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK)
      return Status::Config("cannot lock " + pid_path + ": " + support::ErrnoText(errno));
    const std::string pid = DaemonPid(data_dir);
    return Status::Config("the data directory " + data_dir + " is already served by signalsd" +
                          (pid.empty() ? std::string() : " (pid " + pid + ")") +
                          "; one signalsd per data directory");
  }
  // The pid is for people reading the message above; the lock is the flock.
  const std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock.daemon_fd_, 0) != 0 ||
      support::WriteAll(lock.daemon_fd_, text.data(), text.size()) != 0) {
    return Status::Config("cannot write " + pid_path + ": " + support::ErrnoText(errno));
  }
  return lock;
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept
    : shared_fd_(std::exchange(other.shared_fd_, -1)), daemon_fd_(std::exchange(other.daemon_fd_, -1)) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    Release();
    shared_fd_ = std::exchange(other.shared_fd_, -1);
    daemon_fd_ = std::exchange(other.daemon_fd_, -1);
  }
  return *this;
}

DataDirLock::~DataDirLock() { Release(); }

void DataDirLock::Release() {
  // Closing the descriptors releases the flocks.
  if (daemon_fd_ >= 0) ::close(daemon_fd_);
  if (shared_fd_ >= 0) ::close(shared_fd_);
  daemon_fd_ = shared_fd_ = -1;
}

}  // namespace signals
