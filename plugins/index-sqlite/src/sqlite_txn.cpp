// sqlite_txn.cpp — see sqlite_txn.hpp. Serialised by the transaction's mutex.
#include "sqlite_txn.hpp"

#include "record_query.hpp"
#include "sqlite_index.hpp"

namespace signals::index_sqlite {
namespace {

std::string Context(const char* operation, const std::string& collection, const std::string& key) {
  return std::string(operation) + " collection '" + Printable(collection) + "' key '" + Printable(key) + "'";
}

void ValidateKey(const std::string& key, const std::string& context) {
  if (key.empty()) throw sdk::Error(SIGNALS_INVALID_ARGUMENT, context + ": the key is empty");
}

}  // namespace

SqliteTxn::SqliteTxn(SqliteIndex& index, uint64_t generation)
    : index_(index), db_(*index.writer_), generation_(generation) {}

SqliteTxn::~SqliteTxn() {
  if (!leased_) return;  // committed: the lease went back at Commit()
  // InAutocommit(): SQLite already rolled the whole group back after a
  // failure (Run() has failed the group); there is no savepoint left.
  if (!finished_ && !db_.InAutocommit()) {
    try {
      db_.Exec("ROLLBACK TO txn; RELEASE txn", "rollback of '" + index_.options_.path + "'");
    } catch (const std::exception& e) {
      // Closing the connection would roll back too, but the writer is shared:
      // say so loudly, the next statement on it will fail and report it.
      index_.host_.Log(SIGNALS_LOG_ERROR, e.what());
    }
    index_.LeftGroupEmpty();
  }
  index_.ReleaseWriter();
}

template <typename Body>
void SqliteTxn::Run(Body&& body) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failed_) {
    throw sdk::Error(failure_status_,
                     "the transaction was rolled back after an earlier failure: " + failure_);
  }
  if (finished_) throw sdk::Error(SIGNALS_ERROR, "the transaction is already committed");
  try {
    body();
  } catch (const sdk::Error& e) {
    if (db_.InAutocommit()) {
      failed_ = true;
      finished_ = true;
      failure_status_ = e.status();
      failure_ = e.what();
      index_.FailGroup(generation_, e.status(), e.what());
    }
    throw;
  }
}

void SqliteTxn::Insert(const std::string& collection, const std::string& key,
                       const std::string& record_json) {
  Run([&] { Write(WriteMode::kInsert, collection, key, record_json); });
}

void SqliteTxn::Upsert(const std::string& collection, const std::string& key,
                       const std::string& record_json) {
  Run([&] { Write(WriteMode::kUpsert, collection, key, record_json); });
}

void SqliteTxn::Write(WriteMode mode, const std::string& collection, const std::string& key,
                      const std::string& record_json) {
  const std::string context =
      Context(mode == WriteMode::kInsert ? "insert into" : "upsert into", collection, key);
  ValidateCollectionName(collection, context);
  ValidateKey(key, context);
  RequireObject(record_json, context);
  EnsureTable(collection, context);

  const std::string table = TableIdentifier(collection);
  Statement statement =
      mode == WriteMode::kInsert
          ? db_.Prepare("INSERT INTO " + table + "(key, doc) VALUES (?1, ?2)", context)
          : db_.Prepare("INSERT INTO " + table +
                            "(key, doc) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET doc = excluded.doc",
                        context);
  statement.BindText(1, key);
  statement.BindText(2, record_json);
  int rc = statement.StepRaw();
  if (rc == SQLITE_DONE) return;
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    // A failed constraint undoes only this statement; the transaction stays usable.
    db_.FailWith(SIGNALS_EXISTS, rc, context,
                 std::string("a record with this key already exists: ") + sqlite3_errmsg(db_.raw()));
  }
  db_.Fail(rc, context);
}

void SqliteTxn::Remove(const std::string& collection, const std::string& key) {
  Run([&] {
    const std::string context = Context("remove from", collection, key);
    ValidateCollectionName(collection, context);
    ValidateKey(key, context);
    bool removed = false;
    if (TableExists(collection, context)) {
      Statement statement =
          db_.Prepare("DELETE FROM " + TableIdentifier(collection) + " WHERE key = ?1", context);
      statement.BindText(1, key);
      statement.Step();
      removed = db_.Changes() > 0;
    }
    if (!removed) throw sdk::Error(SIGNALS_NOT_FOUND, context + ": no such record");
  });
}

void SqliteTxn::Commit() {
  Run([&] {
    db_.Exec("RELEASE txn", "commit to '" + index_.options_.path + "'");
    finished_ = true;
    index_.AddedToGroup();
    leased_ = false;
    index_.ReleaseWriter();
  });
  index_.AwaitDurable(generation_);  // throws the group's failure
  index_.NoteCommitted(created_tables_, created_indexes_);
}

void SqliteTxn::RequireObject(const std::string& record_json, const std::string& context) {
  // SQLite's own parser decides, so that every stored document is one that
  // json_extract can read later; CASE keeps json_type from seeing bad JSON.
  Statement statement =
      db_.Prepare("SELECT CASE WHEN json_valid(?1) THEN json_type(?1) ELSE 'invalid' END", context);
  statement.BindText(1, record_json);
  statement.Step();
  std::string_view type = statement.ColumnText(0);
  if (type == "object") return;
  throw sdk::Error(
      SIGNALS_INVALID_ARGUMENT,
      context + ": the record must be a JSON object (json_valid/json_type says '" + std::string(type) + "')");
}

void SqliteTxn::EnsureTable(const std::string& collection, const std::string& context) {
  if (created_tables_.count(collection) != 0 || index_.TableCommitted(collection)) return;
  db_.Exec(CreateTableSql(collection), context + ": create table");
  created_tables_.insert(collection);
  // Queries may already have asked for indexes on this collection; creating
  // them with the table keeps the first rows from being unindexed.
  for (const std::string& member : index_.PendingMembers(collection)) {
    db_.Exec(CreateIndexSql(collection, member), context + ": create index on '" + member + "'");
    created_indexes_.emplace(collection, member);
  }
}

bool SqliteTxn::TableExists(const std::string& collection, const std::string& context) {
  if (created_tables_.count(collection) != 0 || index_.TableCommitted(collection)) return true;
  Statement statement =
      db_.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", context);
  statement.BindText(1, collection);
  return statement.Step();
}

}  // namespace signals::index_sqlite
