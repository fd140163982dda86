#include "directory_sync.hpp"

#include "posix_io.hpp"

namespace signals::cas_fs {

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
    const int error = FsyncDirectory(directory);
    lock.lock();
    state.running = false;
    state.synced = last;
    if (error != 0) {
      state.failures.push_back(Failure{first, last, error});
      if (state.failures.size() > 16) state.failures.pop_front();
    }
    state.done.notify_all();
  }
  for (const Failure& f : state.failures) {
    if (f.first <= ticket && ticket <= f.last) return f.error;
  }
  return 0;
}

}  // namespace signals::cas_fs
