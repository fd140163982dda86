// DirectorySync: group fsync of directories. A writer that has renamed an
// entry into a directory needs an fsync of that directory that started after
// its rename; when many writers publish into one directory at once (small
// batches arriving concurrently), one fsync serves all of them instead of one
// each. The first caller runs the fsync; callers that arrive meanwhile wait
// for it to end and then for the next one, which the first of them runs.
//
// Sync() returns only after such an fsync has completed, with its errno (0
// on success), so durability is the same as an fsync per caller.
//
// A failed fsync is never retried as if the data were safe (PostgreSQL's
// "fsyncgate"): Linux reports a writeback error once and may drop the dirty
// pages, so a later fsync that succeeds says nothing about entries changed
// before the failure. A writer therefore takes a Mark() before it changes a
// directory and passes it to Sync(directory, mark), which fails when any
// directory fsync of the store failed since the mark, even if its own fsync
// succeeded. That also refuses writers whose entries were in another
// directory: conservative, and only on a device that is failing anyway.
// Thread-safe.
#ifndef SIGNALS_CAS_FS_DIRECTORY_SYNC_HPP
#define SIGNALS_CAS_FS_DIRECTORY_SYNC_HPP

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace signals::cas_fs {

class DirectorySync {
 public:
  // How a directory is fsynced: support::FsyncDirectory (signals/support/posix_file.hpp); tests pass
  // their own to see failures.
  using Fsync = std::function<int(const std::string& directory)>;
  explicit DirectorySync(Fsync fsync);
  DirectorySync();

  // fsyncs `directory` (or waits for an fsync of it that started after this
  // call); returns 0 or the errno of that fsync.
  int Sync(const std::string& directory);

  // The store's count of failed directory fsyncs so far; take it before
  // creating, renaming or removing an entry whose durability Sync() must vouch for.
  uint64_t Mark();

  // Sync(directory), but also returns the errno of a directory fsync that
  // failed after `mark` was taken (by any caller, in any directory).
  int Sync(const std::string& directory, uint64_t mark);

 private:
  struct Failure {
    uint64_t first, last;  // the tickets the failed fsync covered
    int error;
    uint64_t unread;  // callers of those tickets that have not returned yet
  };
  struct State {
    uint64_t issued = 0;  // tickets handed out
    uint64_t synced = 0;  // every ticket up to this one is covered by a finished fsync
    bool running = false;
    std::condition_variable done;
    // Kept until every caller it covered has read it, so that no caller
    // reports success for an fsync that failed.
    std::deque<Failure> failures;
  };

  Fsync fsync_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<State>> states_;  // one per directory ever synced
  uint64_t failed_fsyncs_ = 0;                            // in every directory, since the store was opened
  int last_error_ = 0;                                    // the errno of the latest failed fsync
};

}  // namespace signals::cas_fs

#endif  // SIGNALS_CAS_FS_DIRECTORY_SYNC_HPP
