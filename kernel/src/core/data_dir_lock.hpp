// DataDirLock: who may use a data directory at the same time.
//
// Every process that opens a kernel over a data directory (signalsd, every
// signalsctl command) holds a shared flock on {data_dir}/signals.lock for as
// long as the kernel is open: ingests, reads, fsck and gc from several
// processes are safe together (the CAS publishes with no-replace renames, the
// index serialises writers). Two uses are not:
//  * two signalsd on one directory would run two retention schedulers and two
//    transparency-log retry queues over the same rows: signalsd also holds an
//    exclusive flock on {data_dir}/signalsd.pid, which names its pid;
//  * `signalsctl reindex` rewrites index collections from the CAS and must not
//    race with writers: it takes signals.lock exclusively.
// A process that cannot get its lock fails at once with a message naming the
// holder, instead of waiting or corrupting anything. flock locks die with the
// process, so a crash leaves no stale lock (the pid file's content may be
// stale; it is only read for the message).
// Thread-safety: a lock object is owned by one kernel; no shared state.
#pragma once

#include <string>

#include "base/status.hpp"

namespace signals {

enum class DataDirAccess {
  kShared,     // signalsctl commands that coexist with others
  kDaemon,     // signalsd: shared, and the only daemon
  kExclusive,  // reindex: nobody else
};

class DataDirLock {
 public:
  // Creates the data directory (0750) when missing, then takes the lock for
  // `access`. Status::Config naming the holder when another process has it.
  static Result<DataDirLock> Acquire(const std::string& data_dir, DataDirAccess access);

  DataDirLock() = default;
  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  void Release();

  int shared_fd_ = -1;  // signals.lock
  int daemon_fd_ = -1;  // signalsd.pid (kDaemon only)
};

}  // namespace signals
