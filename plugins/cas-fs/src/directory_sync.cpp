#include "directory_sync.hpp"

#include <utility>

#include <signals/support/posix_file.hpp>

namespace signals::cas_fs {

DirectorySync::DirectorySync(Fsync fsync) : fsync_(std::move(fsync)) {}
DirectorySync::DirectorySync() : DirectorySync(support::FsyncDirectory) {}

int DirectorySync::Sync(const std::string& directory) {
  std::unique_lock<std::mutex> lock(mu_);
  std::unique_ptr<State>& slot = states_[directory];
  if (!slot) slot = std::make_unique<State>();
  State& state = *slot;
  const uint64_t ticket = ++state.issued;
  while (state.synced < ticket) {
    if (state.running) {
      state.done.wait(lock);
      continue;
    }
    // Every ticket issued so far belongs to a rename that has completed, so
    // an fsync starting now covers them all.
    state.running = true;
    const uint64_t first = state.synced + 1;
    const uint64_t last = state.issued;
    lock.unlock();
    const int error = fsync_(directory);
    lock.lock();
    state.running = false;
    state.synced = last;
    if (error != 0) {
      state.failures.push_back(Failure{first, last, error, last - first + 1});
      ++failed_fsyncs_;
      last_error_ = error;
    }
    state.done.notify_all();
  }
  for (auto f = state.failures.begin(); f != state.failures.end(); ++f) {
    if (ticket < f->first || ticket > f->last) continue;
    const int error = f->error;
    if (--f->unread == 0) state.failures.erase(f);
    return error;
  }
  return 0;
}

uint64_t DirectorySync::Mark() {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_fsyncs_;
}

int DirectorySync::Sync(const std::string& directory, uint64_t mark) {
  if (const int error = Sync(directory); error != 0) return error;
  std::lock_guard<std::mutex> lock(mu_);
  // Our own fsync succeeded, but one that ran after the mark failed: the
  // kernel may have dropped our entry with the pages it could not write, and
  // has reported that only once, to whoever ran that fsync.
  return failed_fsyncs_ == mark ? 0 : last_error_;
}

}  // namespace signals::cas_fs
