// record_query.hpp — the names and query language of index-sqlite: collection
// and member name rules, the SQL identifiers derived from them, and the query
// JSON of signals_index_api.query compiled into one parameterised SELECT.
//
// Only validated names are ever spliced into SQL (as quoted identifiers or
// JSON paths); every value from a record or a query is bound as a parameter.
//
// Thread-safety: free functions are pure; a RecordQuery is an immutable value
// once parsed and may be shared.
#ifndef SIGNALS_INDEX_SQLITE_RECORD_QUERY_HPP
#define SIGNALS_INDEX_SQLITE_RECORD_QUERY_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sqlite_db.hpp"

namespace signals::index_sqlite {

// Throws sdk::Error(SIGNALS_INVALID_ARGUMENT) unless `name` matches
// [a-z][a-z0-9_]{0,62} and does not start with "sqlite_" (reserved by SQLite
// for its own tables, so CREATE TABLE would fail with a less helpful message).
// `context` ("insert into collection 'x' key 'y'") prefixes the message.
void ValidateCollectionName(std::string_view name, const std::string& context);

// Throws sdk::Error(SIGNALS_INVALID_ARGUMENT) unless `name` matches
// [A-Za-z_][A-Za-z0-9_]{0,63}. `context` prefixes the message.
void ValidateMemberName(std::string_view name, const std::string& context);

// "name" as an SQL identifier. REQUIRES: a validated collection name.
std::string TableIdentifier(std::string_view collection);

// json_extract(doc,'$.member'). The expression text must be identical in
// CREATE INDEX and in queries for SQLite to use the index, which is why the
// path is spelled out rather than bound. REQUIRES: a validated member name.
std::string MemberExpression(std::string_view member);

// The name of the expression index on (member, key) of a collection:
// "<collection>:<member>", upper-case letters written as '^' + lower-case
// because SQLite compares identifiers case-insensitively while JSON members
// are case-sensitive ("tenantId" and "tenantid" need two indexes).
std::string IndexName(std::string_view collection, std::string_view member);

// CREATE INDEX IF NOT EXISTS for IndexName(collection, member).
std::string CreateIndexSql(std::string_view collection, std::string_view member);

// CREATE TABLE IF NOT EXISTS for a collection: key TEXT PRIMARY KEY, doc TEXT NOT NULL.
std::string CreateTableSql(std::string_view collection);

// A JSON scalar from a query, typed as SQLite's json_extract returns it.
using QueryValue = std::variant<std::string, int64_t, double, bool>;

// A parsed query:
//   {"where": {"member": value, ...}, "orderBy": "member", "descending": bool,
//    "after": value, "limit": n}
// Every member is optional; null counts as absent. Unknown members, values
// that are not string/number/bool, bad member names and negative or
// non-integer limits are rejected with SIGNALS_INVALID_ARGUMENT.
class RecordQuery {
 public:
  // Parses `json` ("" means {}). `context` prefixes error messages.
  static RecordQuery Parse(std::string_view json, const std::string& context);

  // Members that benefit from an expression index: where members and orderBy.
  std::vector<std::string> IndexedMembers() const;

  // The SELECT returning `doc`, ordered by the orderBy member (or the key)
  // with ties broken by key in the same direction, so the order is total.
  std::string Sql(std::string_view collection) const;

  // Binds the parameters of Sql() in order.
  void Bind(Statement& statement) const;

 private:
  std::vector<std::pair<std::string, QueryValue>> where_;  // sorted by member name
  std::optional<std::string> order_by_;                    // nullopt: the record key
  bool descending_ = false;
  std::optional<QueryValue> after_;
  std::optional<int64_t> limit_;
};

}  // namespace signals::index_sqlite

#endif  // SIGNALS_INDEX_SQLITE_RECORD_QUERY_HPP
