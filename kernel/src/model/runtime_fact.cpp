#include "model/runtime_fact.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "base/json_limits.hpp"
#include "base/timestamp.hpp"
#include "model/purl.hpp"

namespace signals {
namespace {

enum class FieldKind { kString, kPurl, kInteger, kHitCount, kTimestamp, kMetadata, kSymbolId, kFactType };

// Names as string_views: matching a key compares lengths first and never
// measures a C string (this loop runs for every member of every fact).
struct FieldSpec {
  std::string_view camel;
  std::string_view snake;  // empty when the name has no underscore form
  FieldKind kind;
};

constexpr std::array<FieldSpec, 14> kFields = {{
    {"symbolId", "symbol_id", FieldKind::kSymbolId},
    {"factType", "fact_type", FieldKind::kFactType},
    {"codeId", "code_id", FieldKind::kString},
    {"buildId", "build_id", FieldKind::kString},
    {"loaderBase", "loader_base", FieldKind::kString},
    {"processName", "process_name", FieldKind::kString},
    {"socketAddress", "socket_address", FieldKind::kString},
    {"containerId", "container_id", FieldKind::kString},
    {"evidenceUri", "evidence_uri", FieldKind::kString},
    {"purl", {}, FieldKind::kPurl},
    {"processId", "process_id", FieldKind::kInteger},
    {"hitCount", "hit_count", FieldKind::kHitCount},
    {"observedAt", "observed_at", FieldKind::kTimestamp},
    {"metadata", {}, FieldKind::kMetadata},
}};

constexpr size_t kFieldCount = kFields.size();

Status LineError(size_t line, std::string_view field, std::string_view rule, const std::string& message) {
  std::string text = "line " + std::to_string(line) + ": ";
  if (!field.empty()) text += "field '" + std::string(field) + "': ";
  text += message;
  return Status::Invalid(std::string(rule), std::string(field), text).AtLine(line);
}

// A key `object` has more than once, if any. simdjson keeps every member of
// an object, and a reader that takes the first or the last would see
// different metadata than another: the line is refused instead.
std::optional<std::string_view> DuplicateKey(simdjson::dom::object object,
                                             std::vector<std::string_view>& keys) {
  keys.clear();
  for (auto entry : object) keys.push_back(entry.key);
  if (keys.size() < 2) return std::nullopt;
  std::sort(keys.begin(), keys.end());
  auto at = std::adjacent_find(keys.begin(), keys.end());
  if (at == keys.end()) return std::nullopt;
  return *at;
}

const char* KnownFieldList() {
  return "symbolId, factType, codeId, buildId, loaderBase, processName, socketAddress, "
         "containerId, evidenceUri, purl, processId, hitCount, observedAt, metadata";
}

}  // namespace

bool IsBuiltInFactType(std::string_view type) {
  static constexpr std::array<std::string_view, 5> kBuiltIn = {
      "runtime.symbol.hit", "runtime.module.loaded", "runtime.process.observed", "runtime.network.connection",
      "runtime.file.access"};
  for (auto t : kBuiltIn) {
    if (t == type) return true;
  }
  return false;
}

bool IsValidFactType(std::string_view type) {
  if (IsBuiltInFactType(type)) return true;
  // ^[a-z][a-z0-9]*(\.[a-z0-9_]+)+$
  size_t i = 0;
  if (type.empty() || !(type[0] >= 'a' && type[0] <= 'z')) return false;
  ++i;
  while (i < type.size() && ((type[i] >= 'a' && type[i] <= 'z') || (type[i] >= '0' && type[i] <= '9'))) ++i;
  size_t segments = 0;
  while (i < type.size()) {
    if (type[i] != '.') return false;
    ++i;
    size_t start = i;
    while (i < type.size() &&
           ((type[i] >= 'a' && type[i] <= 'z') || (type[i] >= '0' && type[i] <= '9') || type[i] == '_'))
      ++i;
    if (i == start) return false;
    ++segments;
  }
  return segments >= 1;
}

std::string_view FactTypeMetricLabel(std::string_view type) {
  return IsBuiltInFactType(type) ? type : std::string_view("other");
}

// Nothing is allocated up front: the parser and the line buffer grow to the
// longest line seen. A 100-fact batch then costs kilobytes, not buffers sized
// for max_line_bytes (megabytes of parser tape per request).
// The parser starts with a small capacity only to carry the depth limit:
// simdjson keeps max_depth when it grows to a longer line.
FactLineValidator::FactLineValidator(size_t max_line_bytes, size_t max_depth)
    : parser_(max_line_bytes + simdjson::SIMDJSON_PADDING), max_depth_(max_depth) {
  // DOM parsing is not recursive; the limit is for the message and for
  // anything that walks the parsed fact later. On failure the parser keeps
  // simdjson's default depth, and the line is still checked.
  if (parser_.allocate(kInitialCapacity, max_depth) != simdjson::SUCCESS) return;
}

bool FactLineValidator::KnownValidPurl(std::string_view purl) const {
  if (purl.empty()) return false;  // unused slots are empty, and "" is no purl
  for (const std::string& known : valid_purls_) {
    if (known == purl) return true;
  }
  return false;
}

void FactLineValidator::RememberValidPurl(std::string_view purl) {
  if (purl.size() > kMaxRememberedPurlBytes) return;
  valid_purls_[next_purl_slot_].assign(purl);  // reuses the slot's buffer
  next_purl_slot_ = (next_purl_slot_ + 1) % valid_purls_.size();
}

Result<FactLine> FactLineValidator::Validate(std::string_view line, size_t line_number) {
  std::string_view fact_type;
  SIGNALS_RETURN_IF_ERROR(Check(line, line_number, &fact_type));
  return FactLine{std::string(fact_type)};
}

Status FactLineValidator::Check(std::string_view line, size_t line_number, std::string_view* fact_type) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  padded_.assign(line.data(), line.size());
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element root;
  auto error = parser_.parse(reinterpret_cast<const uint8_t*>(padded_.data()), line.size(), false).get(root);
  if (error == simdjson::DEPTH_ERROR) {
    return LineError(line_number, "", "max-depth", JsonDepthMessage(max_depth_));
  }
  if (error) {
    std::string rule = error == simdjson::UTF8_ERROR ? "utf-8" : "json";
    std::string message = error == simdjson::UTF8_ERROR
                              ? "the line is not valid UTF-8"
                              : std::string("not valid JSON (") + simdjson::error_message(error) + ")";
    return LineError(line_number, "", rule, message);
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    return LineError(line_number, "", "fact-object", "a runtime fact must be a JSON object");
  }

  *fact_type = kDefaultFactType;
  std::array<std::string_view, kFieldCount> seen_as{};  // empty: not seen
  bool has_symbol = false;
  for (auto member : object) {
    std::string_view key = member.key;
    size_t index = kFieldCount;
    for (size_t f = 0; f < kFieldCount; ++f) {
      if (key == kFields[f].camel || (!kFields[f].snake.empty() && key == kFields[f].snake)) {
        index = f;
        break;
      }
    }
    if (index == kFieldCount) {
      return LineError(line_number, key, "known-field",
                       "unknown field; runtime facts have " + std::string(KnownFieldList()));
    }
    const FieldSpec& spec = kFields[index];
    const std::string_view name = spec.camel;
    if (!seen_as[index].empty()) {
      return LineError(
          line_number, name, "unique-field",
          "given twice (as '" + std::string(seen_as[index]) + "' and '" + std::string(key) + "')");
    }
    seen_as[index] = key == spec.camel ? spec.camel : spec.snake;
    simdjson::dom::element value = member.value;
    bool is_null = value.is_null();
    if (is_null && spec.kind != FieldKind::kSymbolId) continue;  // null = absent for optional fields

    switch (spec.kind) {
      case FieldKind::kSymbolId: {
        std::string_view s;
        if (value.get_string().get(s)) {
          return LineError(line_number, name, "symbolId", "must be a string");
        }
        if (s.empty()) return LineError(line_number, name, "symbolId", "must not be empty");
        if (s.size() > kMaxSymbolIdBytes) {
          return LineError(line_number, name, "symbolId",
                           "is " + std::to_string(s.size()) + " bytes, more than 1024");
        }
        has_symbol = true;
        break;
      }
      case FieldKind::kFactType: {
        std::string_view s;
        if (value.get_string().get(s)) return LineError(line_number, name, "factType", "must be a string");
        if (!IsValidFactType(s)) {
          return LineError(line_number, name, "factType",
                           "'" + std::string(s.substr(0, 80)) +
                               "' is neither a known fact type nor matches ^[a-z][a-z0-9]*(\\.[a-z0-9_]+)+$");
        }
        *fact_type = s;  // in the parser's string buffer, which lives until the next parse
        break;
      }
      case FieldKind::kString: {
        if (!value.is_string()) return LineError(line_number, name, "type", "must be a string");
        break;
      }
      case FieldKind::kPurl: {
        std::string_view s;
        if (value.get_string().get(s)) return LineError(line_number, name, "purl", "must be a string");
        if (!KnownValidPurl(s)) {
          Status purl = ValidatePurl(s, name);
          if (!purl.ok()) return LineError(line_number, name, "purl", purl.message());
          RememberValidPurl(s);
        }
        break;
      }
      case FieldKind::kInteger: {
        if (!value.is_int64()) return LineError(line_number, name, "type", "must be an integer");
        break;
      }
      case FieldKind::kHitCount: {
        int64_t n = 0;
        if (value.get_int64().get(n))
          return LineError(line_number, name, "hitCount", "must be an integer >= 1");
        if (n < 1) {
          return LineError(line_number, name, "hitCount",
                           "must be an integer >= 1, got " + std::to_string(n));
        }
        break;
      }
      case FieldKind::kTimestamp: {
        std::string_view s;
        if (value.get_string().get(s))
          return LineError(line_number, name, "rfc3339", "must be an RFC 3339 string");
        auto t = ParseRfc3339(s);
        if (!t.ok()) return LineError(line_number, name, "rfc3339", t.status().message());
        break;
      }
      case FieldKind::kMetadata: {
        simdjson::dom::object meta;
        if (value.get_object().get(meta)) {
          return LineError(line_number, name, "metadata", "must be an object of string values");
        }
        for (auto entry : meta) {
          if (!entry.value.is_string()) {
            return LineError(line_number, std::string("metadata.") + std::string(entry.key), "metadata",
                             "must be a string");
          }
        }
        if (auto duplicate = DuplicateKey(meta, metadata_keys_)) {
          return LineError(line_number, "metadata." + std::string(*duplicate), "unique-field",
                           "given twice in metadata");
        }
        break;
      }
    }
  }
  if (!has_symbol) return LineError(line_number, "symbolId", "required", "is required");
  return Status::Ok();
}

}  // namespace signals
