// sqlite_index.cpp — see sqlite_index.hpp. Thread-safe: the writer is leased,
// readers are pooled, and the schema caches sit behind schema_mutex_.
#include "sqlite_index.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

#include "record_query.hpp"
#include "sqlite_txn.hpp"

namespace signals::index_sqlite {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kFileMode = 0640;       // before umask
constexpr mode_t kDirectoryMode = 0750;  // before umask

// PRAGMA user_version of the layout this code writes. Bump it when the layout
// changes incompatibly; an older plugin then refuses a newer database.
constexpr int64_t kSchemaVersion = 1;

[[noreturn]] void BadConfig(const std::string& message) {
  throw sdk::Error(SIGNALS_INVALID_CONFIG, "index-sqlite: " + message);
}

// The kernel passes durations in milliseconds. Unit suffixes are accepted too,
// so that hosts which do not normalise (test harnesses) get the same meaning
// for the declared default "5s" instead of 5 ms.
int64_t ParseDurationMs(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) BadConfig("busy_timeout '" + text + "' is not a duration");
  const int64_t value = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit.empty() || unit == "ms") return value;
  if (unit == "s") return value * 1000;
  if (unit == "m") return value * 60 * 1000;
  if (unit == "h") return value * 3600 * 1000;
  if (unit == "d") return value * 24 * 3600 * 1000;
  BadConfig("busy_timeout '" + text + "' has an unknown unit (ms, s, m, h, d)");
}

// Makes the entries of a directory durable. SQLite fsyncs the directory when
// it creates the WAL, but not when it creates the database file itself, nor
// can it know about the directories we created above it.
void SyncDirectory(const fs::path& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw sdk::Error(
        error == ENOSPC ? SIGNALS_NO_SPACE : SIGNALS_ERROR,
        "index-sqlite: fsync of directory '" + directory.string() + "': " + std::strerror(error));
  }
  ::close(fd);
}

}  // namespace

// --- options -------------------------------------------------------------------

sdk::OptionList SqliteIndex::Options() {
  static const signals_option options[] = {
      sdk::Option("path", SIGNALS_OPT_PATH, "index.sqlite",
                  "SQLite database file; a relative path resolves against the data directory, "
                  "missing parent directories are created."),
      sdk::Option("busy_timeout", SIGNALS_OPT_DURATION, "5s",
                  "How long a write waits for the database lock or a running transaction, and a "
                  "read for a free connection, before failing with RETRY.",
                  0, nullptr, 0, 3600 * 1000),
      sdk::Option("synchronous", SIGNALS_OPT_ENUM, "FULL",
                  "FULL fsyncs the WAL at every commit, so a committed record survives power loss; "
                  "NORMAL fsyncs only at checkpoints (survives a crash of the process, may lose "
                  "the latest commits on power loss).",
                  0, "FULL|NORMAL"),
      sdk::Option("read_connections", SIGNALS_OPT_INT, "4",
                  "Read-only connections for get and query; they read the last committed "
                  "snapshot without waiting for the writer.",
                  0, nullptr, 1, 64),
  };
  return sdk::MakeOptionList(options);
}

IndexOptions IndexOptions::FromConfig(const sdk::Config& config) {
  IndexOptions options;

  fs::path path = config.GetOr("path", "index.sqlite");
  if (path.empty()) BadConfig("path is empty");
  if (path.is_relative()) {
    // The kernel already passes PATH options absolute; this covers other hosts.
    path = config.data_dir().empty() ? fs::absolute(path) : fs::path(config.data_dir()) / path;
  }
  options.path = path.lexically_normal().string();

  const int64_t timeout = ParseDurationMs(config.GetOr("busy_timeout", "5000"));
  if (timeout > std::numeric_limits<int>::max()) BadConfig("busy_timeout is too large");
  options.busy_timeout_ms = static_cast<int>(timeout);

  const std::string synchronous = config.GetOr("synchronous", "FULL");
  if (synchronous != "FULL" && synchronous != "NORMAL") {
    BadConfig("synchronous '" + synchronous + "' must be FULL or NORMAL");
  }
  options.synchronous_full = synchronous == "FULL";

  const std::string readers = config.GetOr("read_connections", "4");
  size_t used = 0;
  int64_t count = 0;
  try {
    count = std::stoll(readers, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != readers.size() || count < 1 || count > 64) {
    BadConfig("read_connections '" + readers + "' must be an integer from 1 to 64");
  }
  options.read_connections = static_cast<int>(count);
  return options;
}

// --- the reader pool -------------------------------------------------------------

// A read connection checked out of the pool; returned on destruction.
class SqliteIndex::ReaderLease {
 public:
  ReaderLease(SqliteIndex& index, std::unique_ptr<Connection> connection)
      : index_(&index), connection_(std::move(connection)) {}
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (connection_ == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(index_->readers_mutex_);
      index_->idle_readers_.push_back(std::move(connection_));
    }
    index_->reader_returned_.notify_one();
  }
  Connection& operator*() const { return *connection_; }
  Connection* operator->() const { return connection_.get(); }

 private:
  SqliteIndex* index_;
  std::unique_ptr<Connection> connection_;
};

SqliteIndex::ReaderLease SqliteIndex::CheckoutReader(const std::string& context) {
  std::unique_lock<std::mutex> lock(readers_mutex_);
  if (!reader_returned_.wait_for(lock, std::chrono::milliseconds(options_.busy_timeout_ms),
                                 [&] { return !idle_readers_.empty(); })) {
    throw sdk::Error(SIGNALS_RETRY, context + ": all " + std::to_string(options_.read_connections) +
                                        " read connections stayed busy for " +
                                        std::to_string(options_.busy_timeout_ms) + " ms");
  }
  std::unique_ptr<Connection> connection = std::move(idle_readers_.back());
  idle_readers_.pop_back();
  return ReaderLease(*this, std::move(connection));
}

// --- lifecycle -------------------------------------------------------------------

SqliteIndex::SqliteIndex(const sdk::Host& host, const sdk::Config& config)
    : host_(host), options_(IndexOptions::FromConfig(config)) {
  const fs::path file(options_.path);
  // The directories that will be new, deepest first, to fsync after creation.
  std::vector<fs::path> created;
  for (fs::path p = file.parent_path(); !p.empty() && !fs::exists(p); p = p.parent_path()) {
    created.push_back(p);
    if (p == p.parent_path()) break;
  }
  const bool new_file = !fs::exists(file);
  // Created top down with explicit modes (not fs::create_directories, which
  // asks for 0777): the index names every tenant's objects, so it is not for
  // other users of the host whatever the daemon's umask.
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    if (::mkdir(it->c_str(), kDirectoryMode) != 0 && errno != EEXIST) {
      throw sdk::Error(SIGNALS_ERROR, "index-sqlite: cannot create the directory of '" + options_.path +
                                          "': " + it->string() + ": " + std::strerror(errno));
    }
  }
  if (new_file) {
    // SQLite would create the file 0644; it keeps the mode of an existing one
    // and gives its -wal and -shm files the same mode.
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kFileMode);
    if (fd < 0) {
      throw sdk::Error(SIGNALS_ERROR,
                       "index-sqlite: cannot create '" + options_.path + "': " + std::strerror(errno));
    }
    ::close(fd);
  }
  OpenWriter();
  if (new_file) {
    SyncDirectory(file.parent_path());
    for (const fs::path& directory : created) SyncDirectory(directory.parent_path());
  }
  LoadSchema();
  // Readers open after the writer has switched the file to WAL, which is
  // persistent, so they come up in WAL mode without writing anything.
  for (int i = 0; i < options_.read_connections; ++i) {
    idle_readers_.push_back(
        std::make_unique<Connection>(options_.path, Connection::Mode::kReadOnly, options_.busy_timeout_ms));
  }
  host_.Log(SIGNALS_LOG_DEBUG, "opened " + options_.path +
                                   " (WAL, synchronous=" + (options_.synchronous_full ? "FULL" : "NORMAL") +
                                   ", " + std::to_string(options_.read_connections) + " read connections)");
}

SqliteIndex::~SqliteIndex() {
  // Every transaction is finished (REQUIRES), so an open group is empty.
  if (group_open_ && writer_ && !writer_->InAutocommit()) {
    try {
      writer_->Exec("ROLLBACK", "close");
    } catch (const std::exception&) {
    }
  }
}

void SqliteIndex::OpenWriter() {
  writer_ =
      std::make_unique<Connection>(options_.path, Connection::Mode::kReadWrite, options_.busy_timeout_ms);
  const std::string context = "open '" + options_.path + "'";
  {
    Statement statement = writer_->Prepare("PRAGMA journal_mode=WAL", context);
    statement.Step();
    // SQLite answers with the mode it ended up in instead of failing, e.g.
    // "delete" where WAL is impossible (some network filesystems).
    if (statement.ColumnText(0) != "wal") {
      throw sdk::Error(SIGNALS_ERROR, "index-sqlite: " + context +
                                          ": WAL journal mode is not available (got '" +
                                          std::string(statement.ColumnText(0)) + "')");
    }
  }
  // In WAL mode FULL fsyncs the WAL at every COMMIT; NORMAL only at checkpoints.
  writer_->Exec(std::string("PRAGMA synchronous=") + (options_.synchronous_full ? "FULL" : "NORMAL") +
                    "; PRAGMA foreign_keys=ON",
                context);

  int64_t version = 0;
  {
    Statement statement = writer_->Prepare("PRAGMA user_version", context);
    statement.Step();
    version = statement.ColumnInt64(0);
  }
  if (version > kSchemaVersion) {
    BadConfig(context + ": the database has schema version " + std::to_string(version) +
              ", this plugin understands up to " + std::to_string(kSchemaVersion) +
              "; use a newer index-sqlite");
  }
  if (version < kSchemaVersion) {
    writer_->Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion), context);
  }
}

void SqliteIndex::LoadSchema() {
  Statement statement = writer_->Prepare(
      "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index')", "load schema");
  std::lock_guard<std::mutex> lock(schema_mutex_);
  while (statement.Step()) {
    std::string name(statement.ColumnText(1));
    if (statement.ColumnText(0) == "table") {
      tables_.insert(name);
    } else {
      indexes_.insert(name);
    }
  }
}

void SqliteIndex::CheckHealth() {
  ReaderLease reader = CheckoutReader("health");
  // "SELECT 1" that also reads the file: a vanished or corrupt database fails here.
  Statement statement = reader->Prepare("SELECT 1 FROM sqlite_master LIMIT 1", "health");
  statement.Step();
}

// --- writes ----------------------------------------------------------------------

bool SqliteIndex::AcquireWriter(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(writer_mutex_);
  if (!writer_released_.wait_for(lock, wait, [&] { return !writer_leased_; })) return false;
  writer_leased_ = true;
  return true;
}

bool SqliteIndex::TryAcquireWriter() {
  std::lock_guard<std::mutex> lock(writer_mutex_);
  if (writer_leased_) return false;
  writer_leased_ = true;
  return true;
}

void SqliteIndex::ReleaseWriter() {
  {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    writer_leased_ = false;
  }
  writer_released_.notify_one();
}

std::unique_ptr<sdk::IndexTxn> SqliteIndex::Begin() {
  if (!AcquireWriter(std::chrono::milliseconds(options_.busy_timeout_ms))) {
    throw sdk::Error(SIGNALS_RETRY, "begin: another write transaction stayed open for " +
                                        std::to_string(options_.busy_timeout_ms) + " ms");
  }
  uint64_t generation = 0;
  try {
    generation = JoinGroup();
    writer_->Exec("SAVEPOINT txn", "begin");
  } catch (...) {
    if (group_open_ && group_members_ == 0 && !writer_->InAutocommit()) LeftGroupEmpty();
    ReleaseWriter();
    throw;
  }
  return std::make_unique<SqliteTxn>(*this, generation);
}

uint64_t SqliteIndex::JoinGroup() {
  if (group_open_ && writer_->InAutocommit()) {
    // SQLite ended the group on its own: its members must not be told it committed.
    uint64_t lost = 0;
    {
      std::lock_guard<std::mutex> lock(group_mutex_);
      lost = open_generation_;
    }
    FailGroup(lost, SIGNALS_ERROR, "SQLite rolled the transaction back");
  }
  if (!group_open_) {
    CreatePendingIndexes();
    // IMMEDIATE takes the database write lock now (waiting busy_timeout for
    // other processes), so no statement of the group can hit BUSY later.
    writer_->Exec("BEGIN IMMEDIATE", "begin");
    group_open_ = true;
    group_members_ = 0;
  }
  std::lock_guard<std::mutex> lock(group_mutex_);
  return open_generation_;
}

void SqliteIndex::LeftGroupEmpty() {
  if (!group_open_ || group_members_ != 0) return;
  try {
    if (!writer_->InAutocommit()) writer_->Exec("ROLLBACK", "end an empty group");
  } catch (const std::exception& e) {
    host_.Log(SIGNALS_LOG_ERROR, e.what());
  }
  group_open_ = false;
}

void SqliteIndex::FailGroup(uint64_t generation, signals_status status, const std::string& message) {
  const size_t members = group_members_;
  group_open_ = false;
  group_members_ = 0;
  std::lock_guard<std::mutex> lock(group_mutex_);
  // No commit runs now (we hold the lease), so `generation` is the open one.
  if (members > 0) {
    failed_generations_[generation] = {status, "the group commit was rolled back: " + message, members};
  }
  done_generation_ = generation;
  open_generation_ = generation + 1;
  group_done_.notify_all();
}

void SqliteIndex::AwaitDurable(uint64_t generation) {
  std::unique_lock<std::mutex> lock(group_mutex_);
  while (done_generation_ < generation) {
    if (committing_) {
      group_done_.wait(lock);
      continue;
    }
    committing_ = true;
    lock.unlock();
    // The lease, without a deadline: members of the group are already
    // released and must learn their outcome; holders keep it only briefly.
    {
      std::unique_lock<std::mutex> writer(writer_mutex_);
      writer_released_.wait(writer, [&] { return !writer_leased_; });
      writer_leased_ = true;
    }
    lock.lock();
    const uint64_t committing = open_generation_;
    ++open_generation_;  // later transactions form the next group
    lock.unlock();
    std::optional<std::pair<signals_status, std::string>> failure;
    const size_t members = group_members_;
    if (group_open_) {
      try {
        writer_->Exec("COMMIT", "commit to '" + options_.path + "'");
      } catch (const sdk::Error& e) {
        failure.emplace(e.status(), e.what());
      } catch (const std::exception& e) {
        failure.emplace(SIGNALS_ERROR, e.what());
      }
      if (failure && !writer_->InAutocommit()) {
        try {
          writer_->Exec("ROLLBACK", "rollback after a failed commit");
        } catch (const std::exception& e) {
          host_.Log(SIGNALS_LOG_ERROR, e.what());
        }
      }
      group_open_ = false;
      group_members_ = 0;
    }
    ReleaseWriter();
    lock.lock();
    if (failure && members > 0) {
      failed_generations_[committing] = {failure->first, std::move(failure->second), members};
    }
    done_generation_ = committing;
    committing_ = false;
    group_done_.notify_all();
  }
  auto failed = failed_generations_.find(generation);
  if (failed != failed_generations_.end()) {
    sdk::Error error(failed->second.status, failed->second.message);
    if (--failed->second.unread == 0) failed_generations_.erase(failed);
    throw error;
  }
}

// --- reads -----------------------------------------------------------------------

std::optional<std::string> SqliteIndex::Get(const std::string& collection, const std::string& key) {
  const std::string context = "get collection '" + Printable(collection) + "' key '" + Printable(key) + "'";
  ValidateCollectionName(collection, context);
  ReaderLease reader = CheckoutReader(context);
  if (!TableVisible(*reader, collection)) return std::nullopt;
  Statement statement =
      reader->Prepare("SELECT doc FROM " + TableIdentifier(collection) + " WHERE key = ?1", context);
  statement.BindText(1, key);
  if (!statement.Step()) return std::nullopt;
  return std::string(statement.ColumnText(0));
}

void SqliteIndex::Query(const std::string& collection, const std::string& query_json,
                        const std::function<void(const std::string&)>& emit) {
  const std::string context = "query collection '" + Printable(collection) + "'";
  ValidateCollectionName(collection, context);
  const RecordQuery query = RecordQuery::Parse(query_json, context);
  RequestIndexes(collection, query.IndexedMembers());

  ReaderLease reader = CheckoutReader(context);
  if (!TableVisible(*reader, collection)) return;
  Statement statement = reader->Prepare(query.Sql(collection), context);
  query.Bind(statement);
  // One statement is one read transaction: every row comes from the same
  // snapshot, and each is handed over as soon as SQLite produces it.
  std::string document;
  while (statement.Step()) {
    document.assign(statement.ColumnText(0));
    emit(document);
  }
}

// --- the schema caches -----------------------------------------------------------

bool SqliteIndex::TableCommitted(const std::string& collection) const {
  std::lock_guard<std::mutex> lock(schema_mutex_);
  return tables_.count(collection) != 0;
}

bool SqliteIndex::TableVisible(Connection& reader, const std::string& collection) {
  if (TableCommitted(collection)) return true;
  Statement statement = reader.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                                       "look up '" + collection + "'");
  statement.BindText(1, collection);
  if (!statement.Step()) return false;
  std::lock_guard<std::mutex> lock(schema_mutex_);
  tables_.insert(collection);
  return true;
}

void SqliteIndex::RequestIndexes(const std::string& collection, const std::vector<std::string>& members) {
  bool queued = false;
  {
    std::lock_guard<std::mutex> lock(schema_mutex_);
    for (const std::string& member : members) {
      if (indexes_.count(IndexName(collection, member)) == 0) {
        pending_indexes_.emplace(collection, member);
        queued = true;
      }
    }
  }
  // Never wait for a running transaction: the query works without the index.
  if (queued && TryAcquireWriter()) {
    if (!group_open_) CreatePendingIndexes();  // else the next group's Begin() does
    ReleaseWriter();
  }
}

std::vector<std::string> SqliteIndex::PendingMembers(const std::string& collection) const {
  std::lock_guard<std::mutex> lock(schema_mutex_);
  std::vector<std::string> members;
  for (const auto& [c, member] : pending_indexes_) {
    if (c == collection) members.push_back(member);
  }
  return members;
}

void SqliteIndex::CreatePendingIndexes() {
  std::vector<std::pair<std::string, std::string>> ready;
  {
    std::lock_guard<std::mutex> lock(schema_mutex_);
    for (const auto& entry : pending_indexes_) {
      if (tables_.count(entry.first) != 0) ready.push_back(entry);
    }
  }
  // CREATE INDEX runs outside the schema mutex: on a large table it takes a
  // while, and readers must not wait for it.
  for (const auto& [collection, member] : ready) {
    const std::string context = "create index on collection '" + collection + "' member '" + member + "'";
    bool created = false;
    try {
      writer_->Exec(CreateIndexSql(collection, member), context);
      created = true;
    } catch (const std::exception& e) {
      // Dropped from the queue, so a persistent failure is retried (and
      // logged) only when a query asks again, not at every Begin().
      host_.Warn(e.what());
    }
    std::lock_guard<std::mutex> lock(schema_mutex_);
    pending_indexes_.erase({collection, member});
    if (created) indexes_.insert(IndexName(collection, member));
  }
}

void SqliteIndex::NoteCommitted(const std::set<std::string>& tables,
                                const std::set<std::pair<std::string, std::string>>& indexes) {
  if (tables.empty() && indexes.empty()) return;
  std::lock_guard<std::mutex> lock(schema_mutex_);
  tables_.insert(tables.begin(), tables.end());
  for (const auto& entry : indexes) {
    indexes_.insert(IndexName(entry.first, entry.second));
    pending_indexes_.erase(entry);
  }
}

}  // namespace signals::index_sqlite
