// sqlite_index.hpp — the "index-sqlite" component: Signals' queryable record
// store on one SQLite database in WAL mode.
//
// Layout: one table per collection, (key TEXT PRIMARY KEY, doc TEXT NOT NULL),
// plus expression indexes on json_extract(doc,'$.member') created the first
// time a query filters or orders by that member.
//
// Thread-safety: the component declares SIGNALS_CAP_CONCURRENT and every
// public method may be called from any thread at any time. Writes go through
// one writer connection, leased to at most one transaction from Begin() until
// Commit() or rollback (a second Begin() waits up to busy_timeout, then fails
// with RETRY). Get() and Query() use a pool of read-only connections and read
// the last committed WAL snapshot, so they never wait for the writer.
//
// Group commit: concurrent transactions share one SQLite transaction and so
// one WAL fsync. Each transaction is a SAVEPOINT inside the open group;
// Commit() releases it, gives the writer to the next transaction and waits
// until a COMMIT that covers it has returned. The first waiter commits the
// group for everyone in it; whoever arrives meanwhile joins the next group.
// Commit() still returns only once the records are durable, and a failed
// group COMMIT fails every transaction in it (nothing of them is kept). A
// rollback undoes only its own savepoint.
// REQUIRES: every transaction is finished before the instance is destroyed.
#ifndef SIGNALS_INDEX_SQLITE_SQLITE_INDEX_HPP
#define SIGNALS_INDEX_SQLITE_SQLITE_INDEX_HPP

#include <signals/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sqlite_db.hpp"

namespace signals::index_sqlite {

// The validated options of one instance.
struct IndexOptions {
  std::string path;              // absolute path of the database file
  int busy_timeout_ms = 5000;    // lock / connection wait before RETRY
  bool synchronous_full = true;  // FULL (durable per commit) or NORMAL
  int read_connections = 4;

  // Reads and checks the options; throws sdk::Error(SIGNALS_INVALID_CONFIG).
  static IndexOptions FromConfig(const sdk::Config& config);
};

class SqliteTxn;

class SqliteIndex final : public sdk::IndexComponent {
 public:
  static constexpr const char* kName = "index-sqlite";
  static constexpr const char* kDescription =
      "Record index on SQLite (WAL): one table per collection, JSON documents, "
      "expression indexes on demand.";
  static constexpr uint64_t kCapabilities = SIGNALS_CAP_CONCURRENT;
  static sdk::OptionList Options();

  // Opens (creating if needed) the database and its parent directories.
  // Throws sdk::Error: INVALID_CONFIG for bad options or a database written by
  // a newer schema version, ERROR when the file cannot be opened in WAL mode.
  SqliteIndex(const sdk::Host& host, const sdk::Config& config);
  ~SqliteIndex() override;
  SqliteIndex(const SqliteIndex&) = delete;
  SqliteIndex& operator=(const SqliteIndex&) = delete;

  // Leases the writer (waiting up to busy_timeout) and runs BEGIN IMMEDIATE.
  // Throws Error(RETRY) when the lease or the database lock is not obtained.
  std::unique_ptr<sdk::IndexTxn> Begin() override;

  // The committed document under `key`, or nullopt. Throws
  // Error(INVALID_ARGUMENT) for a bad collection name or key.
  std::optional<std::string> Get(const std::string& collection, const std::string& key) override;

  // Streams each matching committed document to `emit`, one call per row, in
  // order, from one consistent snapshot. See RecordQuery for `query_json`.
  // REQUIRES: `emit` does not call back into this instance while holding
  // every read connection (it would wait busy_timeout, then fail with RETRY).
  void Query(const std::string& collection, const std::string& query_json,
             const std::function<void(const std::string&)>& emit) override;

  // A read connection can read the schema ("SELECT 1" against the file).
  void CheckHealth() override;

 private:
  friend class SqliteTxn;
  class ReaderLease;

  // The writer lease. A flag under a mutex rather than a mutex held across
  // calls, because the kernel may begin on one thread and commit on another,
  // and unlocking a std::mutex from a thread that does not own it is UB.
  bool AcquireWriter(std::chrono::milliseconds wait);
  bool TryAcquireWriter();
  void ReleaseWriter();

  // Group commit (see the file comment). Begin side, under the lease: opens
  // the group if needed; returns the generation the transaction joins.
  uint64_t JoinGroup();
  // A transaction released its savepoint into the group (under the lease).
  void AddedToGroup() { ++group_members_; }
  // A transaction rolled back its savepoint (under the lease): an empty group
  // is closed, so that no SQLite write lock is held while nothing is pending.
  void LeftGroupEmpty();
  // SQLite rolled back the whole group after a failure (under the lease):
  // every member of `generation` fails with `status`/`message`.
  void FailGroup(uint64_t generation, signals_status status, const std::string& message);
  // Waits until `generation` is committed, committing it when no one else is;
  // throws the group's failure. REQUIRES: the caller does not hold the lease.
  void AwaitDurable(uint64_t generation);

  ReaderLease CheckoutReader(const std::string& context);

  void OpenWriter();
  void LoadSchema();

  // Whether the collection's table is committed. A reader that finds it in
  // its snapshot records it, so later calls skip the catalog look-up.
  bool TableCommitted(const std::string& collection) const;
  bool TableVisible(Connection& reader, const std::string& collection);

  // Queues expression indexes for members a query uses and, when the writer
  // is free right now, creates them at once; otherwise the next Begin() does.
  void RequestIndexes(const std::string& collection, const std::vector<std::string>& members);
  // Creates queued indexes of committed tables. REQUIRES: the writer lease
  // and no open transaction. Failures are logged, never thrown: a missing
  // index costs speed, not correctness.
  void CreatePendingIndexes();
  // Pending indexes for `collection`, for a transaction that creates its table.
  std::vector<std::string> PendingMembers(const std::string& collection) const;
  // Called after COMMIT with the tables and indexes the transaction created.
  void NoteCommitted(const std::set<std::string>& tables,
                     const std::set<std::pair<std::string, std::string>>& indexes);

  sdk::Host host_;
  IndexOptions options_;
  std::unique_ptr<Connection> writer_;

  std::mutex writer_mutex_;
  std::condition_variable writer_released_;
  bool writer_leased_ = false;

  // Group commit state. group_open_ and group_members_ are guarded by the
  // writer lease; the generations by group_mutex_.
  bool group_open_ = false;   // a BEGIN IMMEDIATE of the current group is open
  size_t group_members_ = 0;  // savepoints released into the open group
  std::mutex group_mutex_;
  std::condition_variable group_done_;
  uint64_t open_generation_ = 1;  // the generation new transactions join
  uint64_t done_generation_ = 0;  // every generation up to this one is finished
  bool committing_ = false;       // a waiter is committing a group
  // A rolled-back group's outcome, kept until each of its members has read it.
  struct FailedGroup {
    signals_status status;
    std::string message;
    size_t unread;  // members that have not learnt it yet
  };
  std::map<uint64_t, FailedGroup> failed_generations_;

  std::mutex readers_mutex_;
  std::condition_variable reader_returned_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;

  mutable std::mutex schema_mutex_;
  std::set<std::string> tables_;                                   // committed collections
  std::set<std::string> indexes_;                                  // committed index names
  std::set<std::pair<std::string, std::string>> pending_indexes_;  // (collection, member)
};

}  // namespace signals::index_sqlite

#endif  // SIGNALS_INDEX_SQLITE_SQLITE_INDEX_HPP
