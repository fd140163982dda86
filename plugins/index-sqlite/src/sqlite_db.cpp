// sqlite_db.cpp — see sqlite_db.hpp. Not thread-safe per connection; the
// index guarantees one user per connection at a time.
#include "sqlite_db.hpp"

#include <cerrno>
#include <cstdio>
#include <utility>

namespace signals::index_sqlite {
namespace {

// SQLite has no API for the symbolic name of a code; operators search for the
// symbol, so error messages carry it.
const char* PrimaryCodeName(int rc) {
  switch (rc & 0xff) {
    case SQLITE_ERROR:
      return "SQLITE_ERROR";
    case SQLITE_INTERNAL:
      return "SQLITE_INTERNAL";
    case SQLITE_PERM:
      return "SQLITE_PERM";
    case SQLITE_ABORT:
      return "SQLITE_ABORT";
    case SQLITE_BUSY:
      return "SQLITE_BUSY";
    case SQLITE_LOCKED:
      return "SQLITE_LOCKED";
    case SQLITE_NOMEM:
      return "SQLITE_NOMEM";
    case SQLITE_READONLY:
      return "SQLITE_READONLY";
    case SQLITE_INTERRUPT:
      return "SQLITE_INTERRUPT";
    case SQLITE_IOERR:
      return "SQLITE_IOERR";
    case SQLITE_CORRUPT:
      return "SQLITE_CORRUPT";
    case SQLITE_NOTFOUND:
      return "SQLITE_NOTFOUND";
    case SQLITE_FULL:
      return "SQLITE_FULL";
    case SQLITE_CANTOPEN:
      return "SQLITE_CANTOPEN";
    case SQLITE_PROTOCOL:
      return "SQLITE_PROTOCOL";
    case SQLITE_SCHEMA:
      return "SQLITE_SCHEMA";
    case SQLITE_TOOBIG:
      return "SQLITE_TOOBIG";
    case SQLITE_CONSTRAINT:
      return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH:
      return "SQLITE_MISMATCH";
    case SQLITE_MISUSE:
      return "SQLITE_MISUSE";
    case SQLITE_RANGE:
      return "SQLITE_RANGE";
    case SQLITE_NOTADB:
      return "SQLITE_NOTADB";
    default:
      return "SQLITE_?";
  }
}

std::string DescribeCode(int rc) {
  std::string out = PrimaryCodeName(rc);
  if ((rc & ~0xff) != 0) out += ", extended code " + std::to_string(rc);
  return out;
}

}  // namespace

signals_status StatusForSqlite(int extended_rc, int system_errno) {
  switch (extended_rc & 0xff) {
    case SQLITE_FULL:
      return SIGNALS_NO_SPACE;
    case SQLITE_IOERR:
    case SQLITE_READONLY:
      // A write that hit a full disk or quota surfaces as SQLITE_IOERR_WRITE/
      // FSYNC with the OS error still recorded, and one on a file system
      // remounted read-only as an IOERR or READONLY with EROFS: the caller's
      // remedy is the same as FULL (507, retry once the storage takes data).
      // Any other I/O error (EIO) is an internal error; the failed COMMIT was
      // rolled back and the connection stays usable.
      return (system_errno == ENOSPC || system_errno == EDQUOT || system_errno == EROFS) ? SIGNALS_NO_SPACE
                                                                                         : SIGNALS_ERROR;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return SIGNALS_RETRY;
    default:
      return SIGNALS_ERROR;
  }
}

std::string Printable(std::string_view text) {
  static constexpr size_t kLimit = 128;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kLimit; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kLimit) out += "...";
  return out;
}

Connection::Connection(const std::string& path, Mode mode, int busy_timeout_ms) {
  const int flags =
      SQLITE_OPEN_NOMUTEX |
      (mode == Mode::kReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    int system_errno = db_ != nullptr ? sqlite3_system_errno(db_) : 0;
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw sdk::Error(StatusForSqlite(rc, system_errno),
                     "open '" + path + "': " + message + " (" + DescribeCode(rc) + ")");
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  // close_v2 never fails with BUSY: anything left over is released when the
  // last statement is finalised, which has just happened.
  sqlite3_close_v2(db_);
}

void Connection::Exec(const std::string& sql, const std::string& context) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);  // sqlite3_errmsg(db_) still holds the same text
  if (rc != SQLITE_OK) Fail(rc, context);
}

Statement Connection::Prepare(const std::string& sql, const std::string& context) {
  if (auto it = cache_.find(sql); it != cache_.end()) {
    return Statement(*this, it->second, /*owned=*/false, context);
  }
  const bool cacheable = cache_.size() < kStatementCacheLimit;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1),
                              cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) Fail(rc, context);
  if (cacheable) cache_.emplace(sql, stmt);
  return Statement(*this, stmt, /*owned=*/!cacheable, context);
}

// The errno behind an I/O error. sqlite3_system_errno() reads errno only when
// the statement is abandoned, after the rollback's own system calls, and so
// is often 0 (seen with an EROFS write of the WAL). The unix VFS also keeps
// the errno of each file's last failed call: the WAL's (where a commit
// writes and syncs) first, then the database file's (checkpoints).
static int SystemErrno(sqlite3* db) {
  if (int err = sqlite3_system_errno(db); err != 0) return err;
  for (bool wal : {true, false}) {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db, "main", wal ? SQLITE_FCNTL_JOURNAL_POINTER : SQLITE_FCNTL_FILE_POINTER,
                             &file) != SQLITE_OK ||
        file == nullptr || file->pMethods == nullptr) {
      continue;
    }
    int err = 0;
    if (file->pMethods->xFileControl(file, SQLITE_FCNTL_LAST_ERRNO, &err) == SQLITE_OK && err != 0)
      return err;
  }
  return 0;
}

void Connection::Fail(int rc, const std::string& context) const {
  const int primary = rc & 0xff;
  const int err = primary == SQLITE_IOERR || primary == SQLITE_READONLY ? SystemErrno(db_) : 0;
  FailWith(StatusForSqlite(rc, err), rc, context, sqlite3_errmsg(db_));
}

void Connection::FailWith(signals_status status, int rc, const std::string& context,
                          const std::string& what) const {
  throw sdk::Error(status, context + ": " + what + " (" + DescribeCode(rc) + ")");
}

Statement::Statement(const Connection& connection, sqlite3_stmt* stmt, bool owned, std::string context)
    : connection_(&connection), stmt_(stmt), owned_(owned), context_(std::move(context)) {}

Statement::Statement(Statement&& other) noexcept
    : connection_(other.connection_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      owned_(other.owned_),
      context_(std::move(other.context_)) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Statement::CheckBind(int rc) {
  if (rc != SQLITE_OK) connection_->Fail(rc, context_);
}

void Statement::BindText(int index, std::string_view value) {
  CheckBind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindInt64(int index, int64_t value) { CheckBind(sqlite3_bind_int64(stmt_, index, value)); }

void Statement::BindDouble(int index, double value) { CheckBind(sqlite3_bind_double(stmt_, index, value)); }

int Statement::StepRaw() { return sqlite3_step(stmt_); }

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  connection_->Fail(rc, context_);
}

std::string_view Statement::ColumnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

}  // namespace signals::index_sqlite
