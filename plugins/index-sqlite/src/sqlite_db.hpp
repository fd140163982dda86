// sqlite_db.hpp — thin RAII wrappers over one SQLite connection and its
// prepared statements, and the mapping of SQLite result codes to Signals
// statuses (SQLITE_FULL -> NO_SPACE, SQLITE_BUSY -> RETRY, ...).
//
// Thread-safety: a Connection is NOT thread-safe. It is opened with
// SQLITE_OPEN_NOMUTEX because the index hands each connection to exactly one
// caller at a time (the writer lease or the reader pool); that caller may be
// any thread. Statements borrow their connection and must not outlive it.
#ifndef SIGNALS_INDEX_SQLITE_SQLITE_DB_HPP
#define SIGNALS_INDEX_SQLITE_SQLITE_DB_HPP

#include <sqlite3.h>
#include <signals/plugin.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace signals::index_sqlite {

// The Signals status for a failed SQLite call: SQLITE_FULL (and an I/O error
// caused by ENOSPC/EDQUOT) is NO_SPACE; SQLITE_BUSY/LOCKED, which SQLite only
// returns once busy_timeout has run out, is RETRY; everything else is ERROR.
signals_status StatusForSqlite(int extended_rc, int system_errno);

// Quotes an arbitrary string for an error message: at most 128 bytes, control
// characters escaped, so a hostile key cannot forge log lines.
std::string Printable(std::string_view text);

class Statement;

class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens `path` (created when kReadWrite) with extended result codes and the
  // given busy timeout. Throws sdk::Error naming the path on failure.
  Connection(const std::string& path, Mode mode, int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL statements that return no rows we need. `context`
  // ("insert into collection 'x' key 'y'") prefixes the error message.
  void Exec(const std::string& sql, const std::string& context);

  // A prepared statement for `sql`, reused across calls (the cache is
  // bounded; beyond it statements are prepared per use). REQUIRES: the
  // previous Statement for the same SQL has been destroyed.
  Statement Prepare(const std::string& sql, const std::string& context);

  // Throws sdk::Error for result code `rc` with `context`, SQLite's message
  // for this connection and the symbolic code, e.g.
  //   "insert into collection 'a' key 'k': database or disk is full (SQLITE_FULL)".
  [[noreturn]] void Fail(int rc, const std::string& context) const;

  // Like Fail but with an explicit status (e.g. EXISTS for a key conflict).
  [[noreturn]] void FailWith(signals_status status, int rc, const std::string& context,
                             const std::string& what) const;

  // True when no transaction is open, i.e. SQLite has not (or no longer) a
  // BEGIN in effect. After a failed statement inside a transaction this tells
  // whether SQLite rolled the whole transaction back on its own.
  bool InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() const { return db_; }

 private:
  static constexpr size_t kStatementCacheLimit = 64;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// One execution of a prepared statement. Resets it on destruction, so a
// half-stepped SELECT never keeps a read snapshot (and with it the WAL) open.
class Statement {
 public:
  Statement(const Connection& connection, sqlite3_stmt* stmt, bool owned, std::string context);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  // Parameters are 1-based, as in SQLite. Text is copied (SQLITE_TRANSIENT).
  void BindText(int index, std::string_view value);
  void BindInt64(int index, int64_t value);
  void BindDouble(int index, double value);

  // Advances: true when a row is available, false when done. Throws
  // sdk::Error (mapped status, context, SQLite's message) on failure.
  bool Step();
  // Steps and returns the raw result code instead of throwing, for callers
  // that give a code a meaning of their own (a primary key conflict).
  int StepRaw();

  std::string_view ColumnText(int column) const;
  int64_t ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

  const std::string& context() const { return context_; }

 private:
  void CheckBind(int rc);

  const Connection* connection_;
  sqlite3_stmt* stmt_;
  bool owned_;
  std::string context_;
};

}  // namespace signals::index_sqlite

#endif  // SIGNALS_INDEX_SQLITE_SQLITE_DB_HPP
