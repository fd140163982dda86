// record_query.cpp — see record_query.hpp. Pure functions; thread-safe.
#include "record_query.hpp"

#include <nlohmann/json.hpp>

#include <limits>

namespace signals::index_sqlite {
namespace {

using nlohmann::json;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

[[noreturn]] void Invalid(const std::string& message) { throw sdk::Error(SIGNALS_INVALID_ARGUMENT, message); }

// JSON scalar -> value; anything else is rejected with `what` in the message.
QueryValue ToValue(const json& value, const std::string& context, const std::string& what) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get<std::string>();
    case json::value_t::boolean:
      return value.get<bool>();
    case json::value_t::number_integer:
      return value.get<int64_t>();
    case json::value_t::number_unsigned: {
      auto u = value.get<uint64_t>();
      // SQLite integers are signed 64-bit; larger ones are stored as REAL by
      // json_extract, so compare them as REAL too.
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return static_cast<int64_t>(u);
      }
      return static_cast<double>(u);
    }
    case json::value_t::number_float:
      return value.get<double>();
    default:
      Invalid(context + ": " + what + " must be a string, number or boolean, not " +
              std::string(value.type_name()));
  }
}

// The json_type() values a stored member must have to equal `value`. Without
// this guard json_extract would let true equal 1, and an object member (which
// json_extract returns as JSON text) equal a string holding that text.
const char* TypeGuard(const QueryValue& value) {
  if (std::holds_alternative<std::string>(value)) return "= 'text'";
  if (const bool* b = std::get_if<bool>(&value)) return *b ? "= 'true'" : "= 'false'";
  return "IN ('integer','real')";
}

void BindValue(Statement& statement, int index, const QueryValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    statement.BindText(index, *s);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    statement.BindInt64(index, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    statement.BindDouble(index, *d);
  } else {
    // json_extract returns true/false as the integers 1/0.
    statement.BindInt64(index, std::get<bool>(value) ? 1 : 0);
  }
}

}  // namespace

void ValidateCollectionName(std::string_view name, const std::string& context) {
  bool ok = !name.empty() && name.size() <= 63 && IsLower(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    ok = IsLower(name[i]) || IsDigit(name[i]) || name[i] == '_';
  }
  if (!ok) {
    Invalid(context + ": invalid collection name '" + Printable(name) + "': expected [a-z][a-z0-9_]{0,62}");
  }
  if (name.substr(0, 7) == "sqlite_") {
    Invalid(context + ": invalid collection name '" + std::string(name) +
            "': names starting with sqlite_ are reserved by SQLite");
  }
}

void ValidateMemberName(std::string_view name, const std::string& context) {
  bool ok = !name.empty() && name.size() <= 64 && (IsLower(name[0]) || IsUpper(name[0]) || name[0] == '_');
  for (size_t i = 1; ok && i < name.size(); ++i) {
    ok = IsLower(name[i]) || IsUpper(name[i]) || IsDigit(name[i]) || name[i] == '_';
  }
  if (!ok) {
    Invalid(context + ": invalid member name '" + Printable(name) +
            "': expected [A-Za-z_][A-Za-z0-9_]{0,63}");
  }
}

std::string TableIdentifier(std::string_view collection) {
  // Appended piecewise: GCC 12 misreports "literal" + std::string&& (-Wrestrict, PR 105329).
  std::string identifier;
  identifier.reserve(collection.size() + 2);
  identifier.append(1, '"').append(collection).append(1, '"');
  return identifier;
}

std::string MemberExpression(std::string_view member) {
  return "json_extract(doc,'$." + std::string(member) + "')";
}

std::string IndexName(std::string_view collection, std::string_view member) {
  std::string name(collection);
  name += ':';
  for (char c : member) {
    if (IsUpper(c)) {
      name += '^';
      name += static_cast<char>(c - 'A' + 'a');
    } else {
      name += c;
    }
  }
  return name;
}

std::string CreateIndexSql(std::string_view collection, std::string_view member) {
  // (member, key): serves equality on the member, ordering by it, and the
  // tie-break by key without a sort step.
  return "CREATE INDEX IF NOT EXISTS \"" + IndexName(collection, member) + "\" ON " +
         TableIdentifier(collection) + "(" + MemberExpression(member) + ", key)";
}

std::string CreateTableSql(std::string_view collection) {
  return "CREATE TABLE IF NOT EXISTS " + TableIdentifier(collection) +
         " (key TEXT PRIMARY KEY, doc TEXT NOT NULL)";
}

RecordQuery RecordQuery::Parse(std::string_view text, const std::string& context) {
  RecordQuery query;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return query;

  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) Invalid(context + ": query is not valid JSON");
  if (!doc.is_object()) Invalid(context + ": query must be a JSON object");

  for (const auto& [name, value] : doc.items()) {
    if (value.is_null()) continue;
    if (name == "where") {
      if (!value.is_object()) Invalid(context + ": \"where\" must be an object");
      for (const auto& [member, expected] : value.items()) {
        ValidateMemberName(member, context);
        query.where_.emplace_back(member, ToValue(expected, context, "where." + member));
      }
    } else if (name == "orderBy") {
      if (!value.is_string()) Invalid(context + ": \"orderBy\" must be a member name");
      auto member = value.get<std::string>();
      ValidateMemberName(member, context);
      query.order_by_ = member;
    } else if (name == "descending") {
      if (!value.is_boolean()) Invalid(context + ": \"descending\" must be true or false");
      query.descending_ = value.get<bool>();
    } else if (name == "after") {
      query.after_ = ToValue(value, context, "\"after\"");
    } else if (name == "limit") {
      // nlohmann parses non-negative integers as number_unsigned.
      if (!value.is_number_unsigned()) {
        Invalid(context + ": \"limit\" must be a non-negative integer");
      }
      uint64_t n = value.get<uint64_t>();
      query.limit_ = n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                         ? std::numeric_limits<int64_t>::max()
                         : static_cast<int64_t>(n);
    } else {
      Invalid(context + ": unknown query member '" + Printable(name) +
              "'; expected where, orderBy, descending, after or limit");
    }
  }
  if (!query.order_by_ && query.after_ && !std::holds_alternative<std::string>(*query.after_)) {
    Invalid(context + ": \"after\" must be a string when ordering by key");
  }
  return query;
}

std::vector<std::string> RecordQuery::IndexedMembers() const {
  std::vector<std::string> members;
  for (const auto& [member, value] : where_) members.push_back(member);
  if (order_by_) members.push_back(*order_by_);
  return members;
}

std::string RecordQuery::Sql(std::string_view collection) const {
  const char* direction = descending_ ? " DESC" : " ASC";
  const std::string order = order_by_ ? MemberExpression(*order_by_) : "key";
  std::string sql = "SELECT doc FROM " + TableIdentifier(collection) + " WHERE 1";
  int parameter = 0;
  for (const auto& [member, value] : where_) {
    sql += " AND " + MemberExpression(member) + " = ?" + std::to_string(++parameter);
    sql += " AND json_type(doc,'$." + member + "') " + TypeGuard(value);
  }
  if (after_) {
    sql += " AND " + order + (descending_ ? " < ?" : " > ?") + std::to_string(++parameter);
  }
  sql += " ORDER BY " + order + direction;
  if (order_by_) sql += std::string(", key") + direction;
  // LIMIT -1 means no limit in SQLite; binding it keeps one statement text.
  sql += " LIMIT ?" + std::to_string(++parameter);
  return sql;
}

void RecordQuery::Bind(Statement& statement) const {
  int parameter = 0;
  for (const auto& [member, value] : where_) BindValue(statement, ++parameter, value);
  if (after_) BindValue(statement, ++parameter, *after_);
  statement.BindInt64(++parameter, limit_ ? *limit_ : -1);
}

}  // namespace signals::index_sqlite
