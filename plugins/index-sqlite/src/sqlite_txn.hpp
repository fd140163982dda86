// sqlite_txn.hpp — one write transaction of index-sqlite: a SAVEPOINT in the
// open group on the leased writer connection, inserts/upserts/removes, then
// Commit(), which releases the savepoint and returns once a group COMMIT has
// made it durable — the pipeline's commit point. Destruction without a
// successful Commit() rolls back the savepoint; either way the writer lease
// is released.
//
// Thread-safety: calls on one transaction are serialised by its own mutex, so
// the kernel may drive it from any thread. REQUIRES: the SqliteIndex that
// created it outlives it.
#ifndef SIGNALS_INDEX_SQLITE_SQLITE_TXN_HPP
#define SIGNALS_INDEX_SQLITE_SQLITE_TXN_HPP

#include <signals/plugin.hpp>

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "sqlite_db.hpp"

namespace signals::index_sqlite {

class SqliteIndex;

class SqliteTxn final : public sdk::IndexTxn {
 public:
  // REQUIRES: the caller holds the writer lease and has opened the savepoint
  // in group `generation`; the transaction takes over the lease.
  SqliteTxn(SqliteIndex& index, uint64_t generation);
  ~SqliteTxn() override;
  SqliteTxn(const SqliteTxn&) = delete;
  SqliteTxn& operator=(const SqliteTxn&) = delete;

  // Adds a record. Errors: INVALID_ARGUMENT (bad name, empty key, not a JSON
  // object), EXISTS (key taken), NO_SPACE, RETRY, ERROR.
  void Insert(const std::string& collection, const std::string& key, const std::string& record_json) override;
  // Adds or replaces a record. Errors as Insert, without EXISTS.
  void Upsert(const std::string& collection, const std::string& key, const std::string& record_json) override;
  // Deletes a record; NOT_FOUND when absent.
  void Remove(const std::string& collection, const std::string& key) override;
  // Releases the savepoint and waits for the group COMMIT. On success the
  // records are durable (see the synchronous option) and visible to new
  // reads. On failure nothing of the transaction is kept.
  void Commit() override;

 private:
  enum class WriteMode { kInsert, kUpsert };

  // Runs `body` under the mutex after checking the transaction is still
  // usable. When a failure made SQLite roll the whole transaction back (disk
  // full, I/O error), remembers it, so later calls and Commit() report that
  // error instead of silently committing a partial transaction.
  template <typename Body>
  void Run(Body&& body);

  void Write(WriteMode mode, const std::string& collection, const std::string& key,
             const std::string& record_json);
  void RequireObject(const std::string& record_json, const std::string& context);
  void EnsureTable(const std::string& collection, const std::string& context);
  bool TableExists(const std::string& collection, const std::string& context);

  SqliteIndex& index_;
  Connection& db_;
  const uint64_t generation_;
  bool leased_ = true;  // holds the writer lease
  std::mutex mutex_;
  bool finished_ = false;  // committed, or rolled back by SQLite
  bool failed_ = false;    // rolled back by SQLite after a failure
  signals_status failure_status_ = SIGNALS_OK;
  std::string failure_;
  std::set<std::string> created_tables_;
  std::set<std::pair<std::string, std::string>> created_indexes_;
};

}  // namespace signals::index_sqlite

#endif  // SIGNALS_INDEX_SQLITE_SQLITE_TXN_HPP
