// cas_fs.cpp — the cas-fs plugin: a content-addressed object store on a local
// filesystem (README.md#what-is-stored).
//
// Objects live at {root}/{bucket}/{key}. A write goes to a temp file in the
// object's own directory (".<name>.tmp.<random>", never a valid key) and is
// published with one atomic no-replace rename, so a reader sees either nothing
// or the whole object, a crash leaves at most a temp file that List() ignores,
// and two writers of one key cannot overwrite each other: objects are
// immutable. With fsync on, the file and every directory entry created on the
// way are fsynced before success is reported; concurrent writers into one
// directory share its fsync (DirectorySync: one that started after their
// rename), so small objects arriving together do not queue one fsync each.
//
// Leftovers: a writer holds an exclusive flock(2) on its temp file until the
// temp file is published or removed. The lock dies with the process, so a
// temp file nobody holds a lock on is the leftover of an interrupted write.
// With `list_leftovers` on (signalsctl fsck turns it on for itself), List()
// also yields such files under their own name (".<name>.tmp.<hex>", never a
// valid object key), and Stat()/Remove() accept those names; Remove() takes
// the lock first, so it never deletes the temp file of a live writer.
//
// Thread-safety: the component declares SIGNALS_CAP_CONCURRENT. An instance
// holds immutable configuration and the thread-safe DirectorySync; every call
// works on its own file descriptors, and concurrent writers of the same key
// are arbitrated by the filesystem (the loser gets SIGNALS_EXISTS). One
// writer or reader is used by one thread at a time, as the ABI requires.
#include <signals/plugin.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>     // renameat2
#include <sys/file.h>  // flock
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <signals/support/posix_file.hpp>

#include "directory_sync.hpp"
#include "object_key.hpp"

namespace signals::cas_fs {
namespace {

namespace sdk = signals::sdk;
using namespace signals::support;  // UniqueFd, ErrnoText, MakeDirectory, PublishNoReplace, ...

// Before umask. Objects hold tenants' facts and graphs: readable by the
// daemon's group (backup, audit), never by every user of the host, whatever
// umask the daemon was started with.
constexpr mode_t kObjectMode = 0640;
constexpr mode_t kDirectoryMode = 0750;
constexpr size_t kWriteBufferBytes = 64 * 1024;
constexpr int kTempNameAttempts = 8;

std::string Quote(const std::string& key) {
  // Appended piecewise: "'" + std::string + "'" trips GCC 12's -Wrestrict (PR 105651).
  std::string out(1, '\'');
  out += Printable(key);
  out += '\'';
  return out;
}

// Fails a call for errno `err`. Storage that cannot take the write — a full
// disk, a quota, a file system remounted read-only (ext4's errors=remount-ro,
// an operator) — gets its own status, so the kernel answers 507: the request
// was fine, the client keeps its data and retries later, and an operator has
// to act on the storage. Anything else (EIO, ...) is an internal error.
[[noreturn]] void ThrowErrno(int err, const std::string& what) {
  signals_status status = (err == ENOSPC || err == EDQUOT || err == EROFS) ? SIGNALS_NO_SPACE : SIGNALS_ERROR;
  throw sdk::Error(status, what + ": " + ErrnoText(err));
}

// The directory part of an object path (objects always live below store_dir_).
std::string Parent(const std::string& path) { return ParentDirectory(path); }

// A write in progress: a temp file beside the final object. Destroying the
// writer without a successful Commit() removes the temp file.
class FsObjectWriter final : public sdk::CasWriter {
 public:
  // `lock`: the exclusive flock that marks the temp file as a live write.
  // `directories`: the store's group fsync of directories; nullptr when the
  // store is not durable. REQUIRES: it outlives the writer. `mark`: its
  // Mark() from before the put touched any directory.
  FsObjectWriter(std::string key, std::string final_path, std::string temp_path, UniqueFd fd, UniqueFd lock,
                 DirectorySync* directories, uint64_t mark)
      : key_(std::move(key)),
        final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)),
        fd_(std::move(fd)),
        lock_(std::move(lock)),
        durable_(directories != nullptr),
        directories_(directories),
        mark_(mark) {
    buffer_.reserve(kWriteBufferBytes);
  }
  FsObjectWriter(const FsObjectWriter&) = delete;
  FsObjectWriter& operator=(const FsObjectWriter&) = delete;
  ~FsObjectWriter() override { Discard(); }

  void Write(const uint8_t* data, size_t len) override {
    RequireOpen();
    if (buffer_.size() + len <= kWriteBufferBytes) {
      buffer_.insert(buffer_.end(), data, data + len);
      return;
    }
    Flush();
    if (len >= kWriteBufferBytes) {
      // Large chunks go straight through; copying them buys nothing.
      if (int err = WriteAll(fd_.get(), data, len); err != 0) Fail(err, "write " + temp_path_);
    } else {
      buffer_.assign(data, data + len);
    }
  }

  void Commit() override {
    RequireOpen();
    Flush();
    // A failed fsync discards the temp file (Fail): the kernel may already
    // have dropped the pages it could not write and marked them clean, so
    // fsyncing again would "succeed" over lost data. A retry of the put
    // writes the object again from the caller's bytes.
    if (durable_ && ::fsync(fd_.get()) != 0) Fail(errno, "fsync " + temp_path_);
    if (int err = fd_.Close(); err != 0) Fail(err, "close " + temp_path_);
    if (int err = PublishNoReplace(temp_path_, final_path_); err != 0) {
      Discard();
      if (err == EEXIST) {
        throw sdk::Error(SIGNALS_EXISTS,
                         "put " + Quote(key_) + ": object already exists (objects are immutable)");
      }
      ThrowErrno(err, "put " + Quote(key_) + ": rename to " + final_path_);
    }
    temp_path_.clear();  // nothing left to clean up
    lock_.Close();
    if (durable_) {
      if (int err = directories_->Sync(Parent(final_path_), mark_); err != 0) {
        // The object is visible but may not survive a crash: our fsync, or
        // one since the put began, failed (DirectorySync::Mark). Take it back
        // so that failure means "nothing stored" and a retry writes it again.
        ::unlink(final_path_.c_str());
        ThrowErrno(err, "put " + Quote(key_) + ": fsync directory " + Parent(final_path_));
      }
    }
    committed_ = true;
  }

 private:
  void RequireOpen() const {
    if (!fd_.valid()) {
      throw sdk::Error(SIGNALS_ERROR,
                       "put " + Quote(key_) + ": writer is unusable after an earlier failure or commit");
    }
  }

  void Flush() {
    if (buffer_.empty()) return;
    int err = WriteAll(fd_.get(), buffer_.data(), buffer_.size());
    buffer_.clear();
    if (err != 0) Fail(err, "write " + temp_path_);
  }

  // Removes the temp file at once (a full disk needs the space back now, not
  // when the caller gets round to aborting) and throws.
  [[noreturn]] void Fail(int err, const std::string& what) {
    Discard();
    ThrowErrno(err, "put " + Quote(key_) + ": " + what);
  }

  void Discard() noexcept {
    fd_.Close();
    buffer_.clear();
    if (!temp_path_.empty() && !committed_) ::unlink(temp_path_.c_str());
    temp_path_.clear();
    lock_.Close();  // after the unlink: a locked temp file is never a leftover
  }

  std::string key_;
  std::string final_path_;
  std::string temp_path_;  // empty once published or removed
  UniqueFd fd_;
  // A duplicate of fd_ that keeps the temp file's flock held after fd_ is
  // closed (Commit closes fd_ before the rename, to check close's errors).
  UniqueFd lock_;
  bool durable_;
  DirectorySync* directories_;
  uint64_t mark_;
  bool committed_ = false;
  std::vector<uint8_t> buffer_;
};

class FsObjectReader final : public sdk::CasReader {
 public:
  FsObjectReader(std::string key, std::string path, UniqueFd fd)
      : key_(std::move(key)), path_(std::move(path)), fd_(std::move(fd)) {}

  size_t Read(uint8_t* buffer, size_t capacity) override {
    size_t n = 0;
    if (int err = ReadFull(fd_.get(), buffer, capacity, &n); err != 0) {
      ThrowErrno(err, "get " + Quote(key_) + ": read " + path_);
    }
    return n;
  }

 private:
  std::string key_;
  std::string path_;
  UniqueFd fd_;
};

class FsCas final : public sdk::CasComponent {
 public:
  // Concurrent: every call works on its own file descriptors; the only
  // shared state, the group fsync of directories, has its own lock.
  static constexpr uint64_t kCapabilities = SIGNALS_CAP_CONCURRENT;
  static constexpr const char* kName = "cas-fs";
  static constexpr const char* kDescription =
      "Content-addressed object store on a local filesystem: immutable objects, atomic and "
      "durable writes (temp file, fsync, no-replace rename, directory fsync).";

  static sdk::OptionList Options() { return sdk::MakeOptionList(kOptions); }

  FsCas(const sdk::Host& host, const sdk::Config& config) : host_(host) {
    std::string root = config.Get("root");
    if (root.empty()) throw sdk::Error(SIGNALS_INVALID_CONFIG, "root must not be empty");
    if (root.front() != '/') {
      if (config.data_dir().empty()) {
        throw sdk::Error(SIGNALS_INVALID_CONFIG,
                         "root '" + root + "' is relative and no data directory is set");
      }
      root = config.data_dir() + "/" + root;
    }
    while (root.size() > 1 && root.back() == '/') root.pop_back();

    const std::string prefix = config.Get("bucket_prefix");
    constexpr std::string_view kScheme = "cas://";
    if (prefix.compare(0, kScheme.size(), kScheme) != 0) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG,
                       "bucket_prefix '" + Printable(prefix) + "' must have the form cas://<bucket>");
    }
    const std::string bucket = prefix.substr(kScheme.size());
    if (auto why = KeyViolation(bucket)) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG, "bucket_prefix '" + Printable(prefix) + "': bucket " + *why);
    }
    durable_ = config.GetBool("fsync");
    list_leftovers_ = config.GetBool("list_leftovers");
    store_dir_ = (root == "/" ? "" : root) + "/" + bucket;

    if (FileStatus made = MakeDirectories(store_dir_, kDirectoryMode, durable_); !made.ok()) {
      throw sdk::Error(SIGNALS_ERROR,
                       "cannot create store directory " + made.path() + ": " + ErrnoText(made.err()));
    }
    if (!durable_) {
      host_.Warn("fsync=false: objects in " + store_dir_ +
                 " may be lost or truncated on power failure; use only for benchmarks");
    }
  }

  std::unique_ptr<sdk::CasWriter> PutBegin(const std::string& key) override {
    RequireValidKey("put", key);
    const std::string final_path = PathOf(key);
    struct stat st;
    if (::lstat(final_path.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        throw sdk::Error(SIGNALS_INVALID_ARGUMENT,
                         "put " + Quote(key) + ": the key names a directory of other objects");
      }
      throw sdk::Error(SIGNALS_EXISTS,
                       "put " + Quote(key) + ": object already exists (objects are immutable)");
    }
    const std::string dir = Parent(final_path);
    // Before any directory changes: a directory fsync that fails from now on
    // refuses this put (see DirectorySync).
    const uint64_t mark = durable_ ? directories_.Mark() : 0;
    for (int attempt = 0; attempt < kTempNameAttempts; ++attempt) {
      std::string temp_path = TempPathFor(final_path);  // dir + "/." + name + ".tmp." + 16 hex
      UniqueFd fd(
          ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, kObjectMode));
      if (!fd.valid() && errno == ENOENT) {
        // First object under this prefix: make the directories, then retry.
        MakeParents(key, dir, mark);
        fd = UniqueFd(
            ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, kObjectMode));
      }
      if (fd.valid()) {
        // Locked at once, so that only a crash leaves an unlocked temp file.
        UniqueFd lock(::dup(fd.get()));
        // Blocking: fsck may hold a shared lock for an instant while it looks.
        if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) {
          int err = errno;
          ::unlink(temp_path.c_str());
          ThrowErrno(err, "put " + Quote(key) + ": lock " + temp_path);
        }
        // Between open and flock the file was unlocked: fsck --repair may have
        // taken it for a leftover and unlinked it. Then draw another name.
        struct stat st {};
        if (::fstat(fd.get(), &st) == 0 && st.st_nlink == 0) continue;
        return std::make_unique<FsObjectWriter>(key, final_path, std::move(temp_path), std::move(fd),
                                                std::move(lock), durable_ ? &directories_ : nullptr, mark);
      }
      int err = errno;
      if (err == EEXIST) continue;  // a random-name collision; draw again
      if (err == ENOTDIR) {
        throw sdk::Error(SIGNALS_INVALID_ARGUMENT,
                         "put " + Quote(key) + ": a leading part of the key is an existing object");
      }
      ThrowErrno(err, "put " + Quote(key) + ": create " + temp_path);
    }
    throw sdk::Error(SIGNALS_ERROR, "put " + Quote(key) + ": could not pick a unique temp name in " + dir);
  }

  std::unique_ptr<sdk::CasReader> GetOpen(const std::string& key, uint64_t* size) override {
    RequireValidKey("get", key);
    const std::string path = PathOf(key);
    // O_NOFOLLOW: an object is a regular file the store wrote, never a link
    // planted to expose something outside it.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
      int err = errno;
      if (IsAbsent(err)) throw NotFound("get", key);
      ThrowErrno(err, "get " + Quote(key) + ": open " + path);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) ThrowErrno(errno, "get " + Quote(key) + ": fstat " + path);
    if (!S_ISREG(st.st_mode)) throw NotFound("get", key);
    *size = static_cast<uint64_t>(st.st_size);
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::make_unique<FsObjectReader>(key, path, std::move(fd));
  }

  uint64_t Stat(const std::string& key) override {
    RequireValidKey("stat", key, list_leftovers_);
    const std::string path = PathOf(key);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      int err = errno;
      if (IsAbsent(err)) throw NotFound("stat", key);
      ThrowErrno(err, "stat " + Quote(key) + ": " + path);
    }
    if (!S_ISREG(st.st_mode)) throw NotFound("stat", key);
    return static_cast<uint64_t>(st.st_size);
  }

  void Remove(const std::string& key) override {
    RequireValidKey("remove", key, list_leftovers_);
    const std::string path = PathOf(key);
    UniqueFd held;  // for a leftover: its lock, held across the unlink
    if (IsTempName(BaseName(key))) {
      held = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (!held.valid()) {
        int err = errno;
        if (IsAbsent(err)) throw NotFound("remove", key);
        ThrowErrno(err, "remove " + Quote(key) + ": open " + path);
      }
      if (::flock(held.get(), LOCK_EX | LOCK_NB) != 0) {
        throw sdk::Error(SIGNALS_ERROR, "remove " + Quote(key) + ": a write in progress holds it");
      }
    }
    if (::unlink(path.c_str()) != 0) {
      int err = errno;
      if (IsAbsent(err) || err == EISDIR) throw NotFound("remove", key);
      ThrowErrno(err, "remove " + Quote(key) + ": unlink " + path);
    }
    // Empty directories are left in place: removing them would race with a
    // concurrent put that has just created its temp file's directory.
    if (durable_) {
      if (int err = directories_.Sync(Parent(path)); err != 0) {
        ThrowErrno(err, "remove " + Quote(key) + ": fsync directory " + Parent(path));
      }
    }
  }

  void List(const std::string& prefix, const std::function<void(const std::string&)>& emit) override {
    if (auto why = PrefixViolation(prefix)) {
      throw sdk::Error(SIGNALS_INVALID_ARGUMENT, "list: invalid prefix " + Quote(prefix) + ": " + *why);
    }
    // Start at the deepest directory the prefix names completely; the rest of
    // the prefix filters names (string-prefix semantics, as in S3).
    size_t slash = prefix.rfind('/');
    std::string start = slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
    Walk(start, prefix, emit);
  }

  void CheckHealth() override {
    struct stat st;
    if (::stat(store_dir_.c_str(), &st) != 0) {
      ThrowErrno(errno, "store directory " + store_dir_ + " is not accessible");
    }
    if (!S_ISDIR(st.st_mode)) {
      throw sdk::Error(SIGNALS_ERROR, "store directory " + store_dir_ + " is not a directory");
    }
    if (::access(store_dir_.c_str(), W_OK | X_OK) != 0) {
      ThrowErrno(errno, "store directory " + store_dir_ + " is not writable");
    }
  }

 private:
  static constexpr signals_option kOptions[] = {
      sdk::Option("root", SIGNALS_OPT_PATH, "cas",
                  "Directory that holds the buckets; relative paths resolve against the data "
                  "directory."),
      sdk::Option("bucket_prefix", SIGNALS_OPT_STRING, "cas://signals",
                  "cas://<bucket>; objects are stored under {root}/{bucket}."),
      sdk::Option("fsync", SIGNALS_OPT_BOOL, "true",
                  "fsync objects and directories before a write succeeds; false is for "
                  "benchmarks only and can lose or truncate objects on power failure."),
      sdk::Option("list_leftovers", SIGNALS_OPT_BOOL, "false",
                  "List temp files of interrupted writes (no writer holds their lock) as keys "
                  "'<dir>/.<name>.tmp.<hex>', and let stat and remove take such keys; for fsck "
                  "--repair, off in normal operation."),
  };

  std::string PathOf(const std::string& key) const { return store_dir_ + "/" + key; }

  static bool IsAbsent(int err) { return err == ENOENT || err == ENOTDIR || err == ELOOP; }

  static sdk::Error NotFound(const char* op, const std::string& key) {
    return sdk::Error(SIGNALS_NOT_FOUND, std::string(op) + " " + Quote(key) + ": no such object");
  }

  // A leftover's key is valid but for its last segment, a temp name.
  static void RequireValidKey(const char* op, const std::string& key, bool allow_leftover = false) {
    const size_t slash = key.find_last_of('/');
    const std::string last = slash == std::string::npos ? key : key.substr(slash + 1);
    if (allow_leftover && IsTempName(last) &&
        (slash == std::string::npos || !KeyViolation(key.substr(0, slash)))) {
      return;
    }
    if (auto why = KeyViolation(key)) {
      throw sdk::Error(SIGNALS_INVALID_ARGUMENT,
                       std::string(op) + ": invalid key " + Quote(key) + ": " + *why);
    }
  }

  // Creates the directories between the store and `dir`, fsyncing the parent
  // of each new one so the object's path survives a crash, not just its data.
  // A directory whose parent's fsync failed is removed again (when empty), so
  // that the next put creates it anew and fsyncs a fresh change, rather than
  // finding it and trusting an entry that may never reach the disk.
  void MakeParents(const std::string& key, const std::string& dir, uint64_t mark) {
    std::string path = store_dir_;
    const std::string rest = dir.substr(store_dir_.size());  // "" or "/a/b"
    size_t pos = 1;
    while (pos <= rest.size()) {
      size_t slash = rest.find('/', pos);
      if (slash == std::string::npos) slash = rest.size();
      path = store_dir_ + rest.substr(0, slash);
      bool created = false;
      if (FileStatus made = MakeDirectory(path, kDirectoryMode, /*durable=*/false, &created); !made.ok()) {
        const int err = made.err();
        if (err == ENOTDIR) {
          throw sdk::Error(SIGNALS_INVALID_ARGUMENT,
                           "put " + Quote(key) + ": a leading part of the key is an existing object");
        }
        ThrowErrno(err, "put " + Quote(key) + ": mkdir " + path);
      }
      // Also when the directory existed: whoever made it a moment ago may not
      // have finished its fsync.
      if (durable_) {
        if (int err = directories_.Sync(Parent(path), mark); err != 0) {
          if (created) ::rmdir(path.c_str());
          ThrowErrno(err, "put " + Quote(key) + ": fsync directory " + Parent(path));
        }
      }
      pos = slash + 1;
    }
  }

  // Emits, in byte order, every object key under the relative directory `dir`
  // ("" or "a/b/") that starts with `prefix`.
  void Walk(const std::string& dir, const std::string& prefix,
            const std::function<void(const std::string&)>& emit) {
    const std::string path = dir.empty() ? store_dir_ : store_dir_ + "/" + dir.substr(0, dir.size() - 1);
    DIR* handle = ::opendir(path.c_str());
    if (handle == nullptr) {
      int err = errno;
      if (IsAbsent(err)) return;  // nothing was ever stored under this prefix
      ThrowErrno(err, "list " + Quote(prefix) + ": opendir " + path);
    }
    struct Entry {
      std::string sort_key;  // name, plus '/' for directories
      bool is_dir;
    };
    std::vector<Entry> entries;
    int fd = ::dirfd(handle);
    errno = 0;
    while (struct dirent* e = ::readdir(handle)) {
      std::string name = e->d_name;
      // Skips ".", "..", temp files of writes in progress or of a crash, and
      // anything else that could not have been written through this API;
      // leftovers of interrupted writes only when asked for.
      const bool leftover = list_leftovers_ && IsTempName(name) && IsLeftover(fd, name);
      if (!leftover && !IsValidSegment(name)) continue;
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : (S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN);
      }
      if (type == DT_DIR) {
        entries.push_back({name + "/", true});
      } else if (type == DT_REG) {
        entries.push_back({name, false});
      }
    }
    int read_err = errno;
    ::closedir(handle);
    if (read_err != 0) ThrowErrno(read_err, "list " + Quote(prefix) + ": readdir " + path);

    // Sorting a directory's names with '/' appended to subdirectories yields
    // keys in global byte order ("a-c" < "a/b" because '-' < '/'), so the walk
    // streams sorted output while holding one directory at a time.
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.sort_key < b.sort_key; });
    for (const Entry& entry : entries) {
      std::string full = dir + entry.sort_key;
      if (entry.is_dir) {
        // Descend only where keys can still match the prefix.
        bool may_match = full.size() >= prefix.size() ? full.compare(0, prefix.size(), prefix) == 0
                                                      : prefix.compare(0, full.size(), full) == 0;
        if (may_match) Walk(full, prefix, emit);
      } else if (full.compare(0, prefix.size(), prefix) == 0) {
        emit(full);
      }
    }
  }

  // True when no writer holds the lock of temp file `name` in directory `dir_fd`.
  // Keeps errno: the caller's readdir loop reads it to tell the end from an error.
  static bool IsLeftover(int dir_fd, const std::string& name) {
    const int saved_errno = errno;
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    // Not openable: gone meanwhile, or not a plain file.
    const bool unlocked = fd.valid() && ::flock(fd.get(), LOCK_SH | LOCK_NB) == 0;
    fd.Close();
    errno = saved_errno;
    return unlocked;
  }

  sdk::Host host_;
  std::string store_dir_;  // {root}/{bucket}, absolute
  bool durable_ = true;
  bool list_leftovers_ = false;
  DirectorySync directories_;  // group fsync of directories (see directory_sync.hpp)
};

}  // namespace
}  // namespace signals::cas_fs

SIGNALS_PLUGIN("cas-fs", "1.0.0", "Filesystem content-addressed store for Signals", signals::cas_fs::FsCas)
