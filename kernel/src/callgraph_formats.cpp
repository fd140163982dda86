// Callgraph input formats. See callgraph_formats.hpp for the mapping and rules.
#include "callgraph_formats.hpp"

#include <array>
#include <utility>

namespace signals {
namespace {

namespace od = simdjson::ondemand;

// A validation failure found while converting a value; caught per record.
struct RecordProblem {
  Status status;
};

const char* KindName(CallgraphRecordKind kind) {
  switch (kind) {
    case CallgraphRecordKind::kNode: return "node";
    case CallgraphRecordKind::kEdge: return "edge";
    case CallgraphRecordKind::kEntrypoint: return "entrypoint";
  }
  return "";
}

const char* ArrayName(CallgraphDialect dialect, CallgraphRecordKind kind) {
  switch (kind) {
    case CallgraphRecordKind::kNode: return "nodes";
    case CallgraphRecordKind::kEdge: return "edges";
    case CallgraphRecordKind::kEntrypoint:
      return dialect == CallgraphDialect::kRichgraph ? "roots" : "entrypoints";
  }
  return "";
}

// stella.callgraph.v1 names that become other canonical names.
struct Rename {
  CallgraphRecordKind kind;
  const char* input;
  const char* canonical;
};
constexpr std::array<Rename, 3> kStellaRenames = {{
    {CallgraphRecordKind::kEdge, "sourceId", "from"},
    {CallgraphRecordKind::kEdge, "targetId", "to"},
    {CallgraphRecordKind::kEntrypoint, "nodeId", "id"},
}};

enum class MemberType { kString, kBoolean, kObject, kLineNumber, kUnitInterval };
struct TypedMember {
  const char* name;
  MemberType type;
};
constexpr std::array<TypedMember, 20> kTypedMembers = {{
    {"name", MemberType::kString},       {"kind", MemberType::kString},
    {"namespace", MemberType::kString},  {"file", MemberType::kString},
    {"symbolKey", MemberType::kString},  {"visibility", MemberType::kString},
    {"symbol_id", MemberType::kString},  {"lang", MemberType::kString},
    {"display", MemberType::kString},    {"purl", MemberType::kString},
    {"reason", MemberType::kString},     {"route", MemberType::kString},
    {"phase", MemberType::kString},      {"source", MemberType::kString},
    {"line", MemberType::kLineNumber},   {"isEntrypointCandidate", MemberType::kBoolean},
    {"isResolved", MemberType::kBoolean}, {"attributes", MemberType::kObject},
    {"weight", MemberType::kUnitInterval}, {"confidence", MemberType::kUnitInterval},
}};

constexpr std::array<std::string_view, 3> kStellaEdgeKinds = {"static", "heuristic", "runtime"};
constexpr std::array<std::string_view, 7> kStellaEntrypointKinds = {"http", "grpc",  "cli", "job",
                                                                    "event", "timer", "main"};

template <size_t N>
bool OneOf(std::string_view value, const std::array<std::string_view, N>& allowed) {
  for (auto a : allowed) {
    if (a == value) return true;
  }
  return false;
}

template <size_t N>
std::string Join(const std::array<std::string_view, N>& values) {
  std::string out;
  for (auto v : values) out += (out.empty() ? "" : "|") + std::string(v);
  return out;
}

Status SyntaxError(const simdjson::simdjson_error& e, std::string field, const std::string& prefix = "") {
  const bool utf8 = e.error() == simdjson::UTF8_ERROR;
  return Status::Invalid(utf8 ? "utf-8" : "json", std::move(field),
                         prefix + (utf8 ? "not valid UTF-8" : std::string("not valid JSON (") + e.what() + ")"));
}

nlohmann::json ToJson(od::value value);

nlohmann::json ToJsonObject(od::object object) {
  nlohmann::json out = nlohmann::json::object();
  for (auto field : object) {
    std::string key(field.unescaped_key().value());
    if (out.contains(key)) {
      throw RecordProblem{Status::Invalid("json", key, "duplicate member name '" + key + "'")};
    }
    out.emplace(std::move(key), ToJson(field.value()));
  }
  return out;
}

nlohmann::json ToJson(od::value value) {
  switch (value.type().value()) {
    case od::json_type::object: return ToJsonObject(value.get_object());
    case od::json_type::array: {
      nlohmann::json out = nlohmann::json::array();
      for (auto element : value.get_array()) out.push_back(ToJson(element.value()));
      return out;
    }
    case od::json_type::string: return std::string(value.get_string().value());
    case od::json_type::boolean: return value.get_bool().value();
    case od::json_type::null:
      if (!value.is_null().value()) throw simdjson::simdjson_error(simdjson::N_ATOM_ERROR);
      return nullptr;
    case od::json_type::number: {
      od::number n = value.get_number();
      switch (n.get_number_type()) {
        case simdjson::ondemand::number_type::signed_integer: return n.get_int64();
        case simdjson::ondemand::number_type::unsigned_integer: return n.get_uint64();
        case simdjson::ondemand::number_type::floating_point_number: return n.get_double();
      }
    }
  }
  throw simdjson::simdjson_error(simdjson::INCORRECT_TYPE);
}

// Walks a value the reader does not use, so that its syntax is checked too
// (on-demand parsing otherwise only skips over it).
void CheckSyntax(od::value value) { (void)ToJson(value); }

Status CheckTyped(const nlohmann::json& record, const CallgraphRecordOrigin& origin) {
  for (const auto& member : kTypedMembers) {
    auto it = record.find(member.name);
    if (it == record.end()) continue;
    const nlohmann::json& v = *it;
    switch (member.type) {
      case MemberType::kString:
        if (!v.is_string()) return CallgraphRecordError(origin, member.name, "type", "must be a string");
        break;
      case MemberType::kBoolean:
        if (!v.is_boolean()) return CallgraphRecordError(origin, member.name, "type", "must be true or false");
        break;
      case MemberType::kObject:
        if (!v.is_object()) return CallgraphRecordError(origin, member.name, "type", "must be an object");
        break;
      case MemberType::kLineNumber:
        if (!(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0))) {
          return CallgraphRecordError(origin, member.name, "type", "must be an integer >= 0");
        }
        break;
      case MemberType::kUnitInterval: {
        if (!v.is_number()) return CallgraphRecordError(origin, member.name, "type", "must be a number");
        const double d = v.get<double>();
        if (!(d >= 0.0 && d <= 1.0)) {
          return CallgraphRecordError(origin, member.name, "range", "must be between 0 and 1, got " + v.dump());
        }
        break;
      }
    }
  }
  return Status::Ok();
}

Status CheckRequiredString(const nlohmann::json& record, const CallgraphRecordOrigin& origin, const char* member) {
  auto it = record.find(member);
  if (it == record.end()) return CallgraphRecordError(origin, member, "required", "is required");
  if (!it->is_string()) return CallgraphRecordError(origin, member, "type", "must be a string");
  if (it->get_ref<const std::string&>().empty()) {
    return CallgraphRecordError(origin, member, "required", "must not be empty");
  }
  return Status::Ok();
}

template <size_t N>
Status CheckStellaKind(const nlohmann::json& record, const CallgraphRecordOrigin& origin, const char* rule,
                       const std::array<std::string_view, N>& allowed) {
  SIGNALS_RETURN_IF_ERROR(CheckRequiredString(record, origin, "kind"));
  const std::string& kind = record["kind"].get_ref<const std::string&>();
  if (!OneOf(kind, allowed)) {
    return CallgraphRecordError(origin, "kind", rule, "'" + kind + "' is not one of " + Join(allowed));
  }
  return Status::Ok();
}

Status Validate(const nlohmann::json& record, const CallgraphRecordOrigin& origin) {
  const bool stella = origin.dialect == CallgraphDialect::kStella;
  switch (origin.kind) {
    case CallgraphRecordKind::kNode:
      SIGNALS_RETURN_IF_ERROR(CheckRequiredString(record, origin, "id"));
      break;
    case CallgraphRecordKind::kEdge:
      SIGNALS_RETURN_IF_ERROR(CheckRequiredString(record, origin, "from"));
      SIGNALS_RETURN_IF_ERROR(CheckRequiredString(record, origin, "to"));
      if (stella) SIGNALS_RETURN_IF_ERROR(CheckStellaKind(record, origin, "edge-kind", kStellaEdgeKinds));
      break;
    case CallgraphRecordKind::kEntrypoint:
      SIGNALS_RETURN_IF_ERROR(CheckRequiredString(record, origin, "id"));
      if (stella) {
        SIGNALS_RETURN_IF_ERROR(CheckStellaKind(record, origin, "entrypoint-kind", kStellaEntrypointKinds));
      }
      break;
  }
  return CheckTyped(record, origin);
}

// Turns an input object of a JSON document into a canonical-form record.
Status MapDocumentRecord(nlohmann::json& record, const CallgraphRecordOrigin& origin) {
  if (record.contains("t")) {
    return CallgraphRecordError(origin, "t", "reserved-member",
                                "'t' is reserved for the canonical line type; remove it");
  }
  for (auto it = record.begin(); it != record.end();) {
    it = it->is_null() ? record.erase(it) : std::next(it);
  }
  if (origin.dialect == CallgraphDialect::kStella) {
    for (const auto& rename : kStellaRenames) {
      if (rename.kind != origin.kind) continue;
      auto it = record.find(rename.input);
      if (it == record.end()) continue;
      if (record.contains(rename.canonical)) {
        return Status::Invalid("member-conflict",
                               std::string(ArrayName(origin.dialect, origin.kind)) + "[" +
                                   std::to_string(origin.position) + "]." + rename.canonical,
                               std::string("both '") + rename.input + "' and '" + rename.canonical +
                                   "' are given; stella.callgraph.v1 uses '" + rename.input + "'");
      }
      nlohmann::json value = std::move(*it);
      record.erase(it);
      record[rename.canonical] = std::move(value);
    }
  }
  SIGNALS_RETURN_IF_ERROR(Validate(record, origin));
  record["t"] = KindName(origin.kind);
  return Status::Ok();
}

Status ReadArray(od::value value, CallgraphDialect dialect, CallgraphRecordKind kind, CallgraphRecordSink& sink) {
  const char* name = ArrayName(dialect, kind);
  if (value.type().value() != od::json_type::array) {
    return Status::Invalid("type", name, std::string(name) + " must be an array");
  }
  CallgraphRecordOrigin origin{dialect, kind, 0};
  for (auto element : value.get_array()) {
    const std::string where = std::string(name) + "[" + std::to_string(origin.position) + "]";
    nlohmann::json record;
    try {
      od::value v = element.value();
      if (v.type().value() != od::json_type::object) return Status::Invalid("type", where, "must be an object");
      record = ToJsonObject(v.get_object());
    } catch (const simdjson::simdjson_error& e) {
      return SyntaxError(e, where);
    } catch (const RecordProblem& p) {
      return p.status.WithField(where + "." + p.status.field());
    }
    SIGNALS_RETURN_IF_ERROR(MapDocumentRecord(record, origin));
    SIGNALS_RETURN_IF_ERROR(sink.Add(std::move(record), origin));
    ++origin.position;
  }
  return Status::Ok();
}

// Pass 1 of the detection rule (see the header).
CallgraphDialect DetectDialect(od::document& doc) {
  std::optional<CallgraphDialect> marked, shaped;
  bool has_roots = false, has_entrypoints = false;
  for (auto field : doc.get_object()) {
    std::string_view key = field.unescaped_key().value();
    if (key == "schema" || key == "$schema" || key == "version") {
      od::value v = field.value();
      if (marked || v.type().value() != od::json_type::string) continue;
      std::string_view text = v.get_string().value();
      if (text.find("stella.callgraph.v1") != std::string_view::npos) marked = CallgraphDialect::kStella;
      if (text.find("richgraph-v1") != std::string_view::npos) marked = CallgraphDialect::kRichgraph;
    } else if (key == "roots") {
      has_roots = true;
    } else if (key == "entrypoints") {
      has_entrypoints = true;
    } else if (key == "edges" && !shaped) {
      od::value edges = field.value();
      if (edges.type().value() != od::json_type::array) continue;
      for (auto first : edges.get_array()) {
        od::value edge = first.value();
        if (edge.type().value() != od::json_type::object) break;
        for (auto member : edge.get_object()) {
          std::string_view name = member.unescaped_key().value();
          if (name == "sourceId" || name == "targetId") shaped = CallgraphDialect::kStella;
          if (name == "from" || name == "to") shaped = CallgraphDialect::kRichgraph;
          if (shaped) break;
        }
        break;
      }
    }
  }
  if (marked) return *marked;
  if (has_roots) return CallgraphDialect::kRichgraph;
  if (has_entrypoints) return CallgraphDialect::kStella;
  return shaped.value_or(CallgraphDialect::kStella);
}

}  // namespace

const char* CallgraphDialectName(CallgraphDialect dialect) {
  switch (dialect) {
    case CallgraphDialect::kStella: return "stella.callgraph.v1";
    case CallgraphDialect::kRichgraph: return "richgraph-v1";
    case CallgraphDialect::kCanonical: return "canonical-ndjson";
  }
  return "";
}

std::string CallgraphFieldName(const CallgraphRecordOrigin& origin, std::string_view member) {
  if (origin.dialect == CallgraphDialect::kCanonical) return std::string(member);
  std::string input(member);
  if (origin.dialect == CallgraphDialect::kStella) {
    for (const auto& rename : kStellaRenames) {
      if (rename.kind == origin.kind && member == rename.canonical) input = rename.input;
    }
  }
  std::string out = std::string(ArrayName(origin.dialect, origin.kind)) + "[" + std::to_string(origin.position) + "]";
  if (!input.empty()) out += "." + input;
  return out;
}

Status CallgraphRecordError(const CallgraphRecordOrigin& origin, std::string_view member, std::string rule,
                            const std::string& message) {
  std::string prefix;
  if (origin.dialect == CallgraphDialect::kCanonical) prefix = "line " + std::to_string(origin.position) + ": ";
  return Status::Invalid(std::move(rule), CallgraphFieldName(origin, member), prefix + message);
}

Result<CallgraphDialect> CallgraphDocumentReader::Read(const std::string& padded, size_t size,
                                                       CallgraphRecordSink& sink) {
  try {
    od::document doc = parser_.iterate(simdjson::padded_string_view(padded.data(), size, padded.size()));
    if (doc.type().value() != od::json_type::object) {
      return Status::Invalid("format", "", "a callgraph document must be a JSON object");
    }
    const CallgraphDialect dialect = DetectDialect(doc);
    doc.rewind();
    bool has_nodes = false;
    std::vector<std::string> seen;
    for (auto field : doc.get_object()) {
      std::string key(field.unescaped_key().value());
      for (const auto& s : seen) {
        if (s == key) return Status::Invalid("json", key, "duplicate member name '" + key + "'");
      }
      seen.push_back(key);
      od::value value = field.value();
      if (key == "nodes") {
        has_nodes = true;
        SIGNALS_RETURN_IF_ERROR(ReadArray(value, dialect, CallgraphRecordKind::kNode, sink));
      } else if (key == "edges") {
        SIGNALS_RETURN_IF_ERROR(ReadArray(value, dialect, CallgraphRecordKind::kEdge, sink));
      } else if (key == ArrayName(dialect, CallgraphRecordKind::kEntrypoint)) {
        SIGNALS_RETURN_IF_ERROR(ReadArray(value, dialect, CallgraphRecordKind::kEntrypoint, sink));
      } else {
        try {
          CheckSyntax(value);
        } catch (const RecordProblem& p) {
          return p.status.WithField(key + "." + p.status.field());
        }
      }
    }
    if (!doc.current_location().error()) {
      return Status::Invalid("json", "", "not valid JSON (content after the end of the document)");
    }
    if (!has_nodes) {
      return Status::Invalid("format", "nodes",
                             std::string("a ") + CallgraphDialectName(dialect) + " document needs a \"nodes\" array");
    }
    return dialect;
  } catch (const simdjson::simdjson_error& e) {
    return SyntaxError(e, "");
  }
}

bool CallgraphLineReader::LooksLikeRecordLine(std::string_view line) {
  padded_.assign(line.data(), line.size());
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  try {
    od::document doc = parser_.iterate(simdjson::padded_string_view(padded_.data(), line.size(), padded_.size()));
    if (doc.type().value() != od::json_type::object) return false;
    for (auto field : doc.get_object()) {
      if (field.unescaped_key().value() == "t") return field.value().type().value() == od::json_type::string;
    }
  } catch (const simdjson::simdjson_error&) {
  }
  return false;
}

CallgraphLineReader::CallgraphLineReader(size_t max_line_bytes) {
  padded_.reserve(max_line_bytes + simdjson::SIMDJSON_PADDING);
}

Status CallgraphLineReader::Read(std::string_view line, uint64_t line_number, CallgraphRecordSink& sink) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return Status::Ok();
  CallgraphRecordOrigin origin{CallgraphDialect::kCanonical, CallgraphRecordKind::kNode, line_number};
  const std::string prefix = "line " + std::to_string(line_number) + ": ";
  padded_.assign(line.data(), line.size());
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  nlohmann::json record;
  try {
    od::document doc = parser_.iterate(simdjson::padded_string_view(padded_.data(), line.size(), padded_.size()));
    if (doc.type().value() != od::json_type::object) {
      return Status::Invalid("format", "", prefix + "a callgraph line must be a JSON object");
    }
    record = ToJsonObject(doc.get_object());
    if (!doc.current_location().error()) {
      return Status::Invalid("json", "", prefix + "not valid JSON (content after the object)");
    }
  } catch (const simdjson::simdjson_error& e) {
    return SyntaxError(e, "", prefix);
  } catch (const RecordProblem& p) {
    return Status::Invalid(p.status.rule(), p.status.field(), prefix + p.status.message());
  }
  auto t = record.find("t");
  if (t == record.end()) return CallgraphRecordError(origin, "t", "required", "is required (node, edge or entrypoint)");
  if (!t->is_string()) return CallgraphRecordError(origin, "t", "type", "must be a string");
  const std::string& type = t->get_ref<const std::string&>();
  if (type == "node") {
    origin.kind = CallgraphRecordKind::kNode;
  } else if (type == "edge") {
    origin.kind = CallgraphRecordKind::kEdge;
  } else if (type == "entrypoint") {
    origin.kind = CallgraphRecordKind::kEntrypoint;
  } else {
    return CallgraphRecordError(origin, "t", "line-type", "'" + type + "' is not node, edge or entrypoint");
  }
  for (auto it = record.begin(); it != record.end();) {
    it = it->is_null() ? record.erase(it) : std::next(it);
  }
  SIGNALS_RETURN_IF_ERROR(Validate(record, origin));
  return sink.Add(std::move(record), origin);
}

}  // namespace signals
