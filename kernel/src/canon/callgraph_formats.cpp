// Callgraph input formats. See callgraph_formats.hpp for the mapping and rules.
#include "canon/callgraph_formats.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <utility>

#include "base/canonical_json.hpp"
#include "base/json_limits.hpp"

namespace signals {
namespace {

namespace od = simdjson::ondemand;

// A validation failure found while converting a value; caught per record.
// `at` points into the parsed text where it was found, when known.
struct RecordProblem {
  Status status;
  const char* at = nullptr;
};

const char* KindName(CallgraphRecordKind kind) {
  switch (kind) {
    case CallgraphRecordKind::kNode:
      return "node";
    case CallgraphRecordKind::kEdge:
      return "edge";
    case CallgraphRecordKind::kEntrypoint:
      return "entrypoint";
  }
  return "";
}

const char* ArrayName(CallgraphDialect dialect, CallgraphRecordKind kind) {
  switch (kind) {
    case CallgraphRecordKind::kNode:
      return "nodes";
    case CallgraphRecordKind::kEdge:
      return "edges";
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
  std::string_view name;
  MemberType type;
};
constexpr std::array<TypedMember, 20> kTypedMembers = {{
    {"name", MemberType::kString},         {"kind", MemberType::kString},
    {"namespace", MemberType::kString},    {"file", MemberType::kString},
    {"symbolKey", MemberType::kString},    {"visibility", MemberType::kString},
    {"symbol_id", MemberType::kString},    {"lang", MemberType::kString},
    {"display", MemberType::kString},      {"purl", MemberType::kString},
    {"reason", MemberType::kString},       {"route", MemberType::kString},
    {"phase", MemberType::kString},        {"source", MemberType::kString},
    {"line", MemberType::kLineNumber},     {"isEntrypointCandidate", MemberType::kBoolean},
    {"isResolved", MemberType::kBoolean},  {"attributes", MemberType::kObject},
    {"weight", MemberType::kUnitInterval}, {"confidence", MemberType::kUnitInterval},
}};

// Member names compare often and are short: compare them in place.
bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// a < b for ASCII names, without a call to memcmp.
bool AsciiNameLess(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return a.size() < b.size();
}

// Members the builder looks at, numbered: kTypedMembers by their index, then
// these. Classifying each member once spares a search per rule.
constexpr int kMemberKind = 1;  // "kind" in kTypedMembers
enum : int {
  kMemberT = static_cast<int>(kTypedMembers.size()),
  kMemberId,
  kMemberFrom,
  kMemberTo,
  kKnownMembers
};
constexpr std::array<std::string_view, kKnownMembers - kMemberT> kUntypedKnown = {"t", "id", "from", "to"};

std::string_view KnownName(int known);

// The member's number (see above), or -1. Every member of every record is
// classified, so the candidates are looked up by (length, first byte).
int KnownIndex(std::string_view name) {
  constexpr size_t kLongest = 24;
  struct Candidates {
    int8_t known[3] = {-1, -1, -1};
  };
  static const auto* const table = [] {
    auto* t = new std::array<Candidates, kLongest * 128>();
    for (int k = 0; k < kKnownMembers; ++k) {
      const std::string_view n = KnownName(k);
      Candidates& c = (*t)[n.size() * 128 + static_cast<uint8_t>(n[0])];
      for (auto& slot : c.known) {
        if (slot < 0) {
          slot = static_cast<int8_t>(k);
          break;
        }
      }
    }
    return t;
  }();
  if (name.empty() || name.size() >= kLongest || static_cast<uint8_t>(name[0]) >= 128) return -1;
  for (int8_t k : (*table)[name.size() * 128 + static_cast<uint8_t>(name[0])].known) {
    if (k < 0) return -1;
    if (SameName(KnownName(k), name)) return k;
  }
  return -1;
}

std::string_view KnownName(int known) {
  return known < kMemberT ? kTypedMembers[known].name : kUntypedKnown[known - kMemberT];
}

constexpr std::array<std::string_view, 3> kStellaEdgeKinds = {"static", "heuristic", "runtime"};
constexpr std::array<std::string_view, 7> kStellaEntrypointKinds = {"http",  "grpc",  "cli", "job",
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
  return Status::Invalid(
      utf8 ? "utf-8" : "json", std::move(field),
      prefix + (utf8 ? "not valid UTF-8" : std::string("not valid JSON (") + e.what() + ")"));
}

void AppendCanonical(od::value value, std::string& out, size_t depth, size_t max_depth);

void AppendNumber(od::number n, std::string& out) {
  char buf[24];
  std::to_chars_result r{};
  switch (n.get_number_type()) {
    case od::number_type::signed_integer:
      r = std::to_chars(buf, buf + sizeof buf, n.get_int64());
      break;
    case od::number_type::unsigned_integer:
      r = std::to_chars(buf, buf + sizeof buf, n.get_uint64());
      break;
    case od::number_type::floating_point_number:
      out += EcmaScriptNumber(n.get_double());
      return;
  }
  out.append(buf, r.ptr);
}

// A nested object (at `depth`): its members in JCS order, each value canonical.
void AppendCanonicalObject(od::object object, std::string& out, size_t depth, size_t max_depth) {
  using Pair = std::pair<std::string, std::string>;
  std::vector<Pair> members;
  for (auto field : object) {
    Pair member;
    member.first.assign(field.unescaped_key().value());
    AppendCanonical(field.value(), member.second, depth + 1, max_depth);
    members.push_back(std::move(member));
  }
  std::sort(members.begin(), members.end(),
            [](const Pair& a, const Pair& b) { return JcsNameLess(a.first, b.first); });
  for (size_t i = 1; i < members.size(); ++i) {
    if (members[i - 1].first == members[i].first) {
      const std::string& key = members[i].first;
      throw RecordProblem{Status::Invalid("json", key, "duplicate member name '" + key + "'")};
    }
  }
  out += '{';
  for (size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += ',';
    AppendJcsString(members[i].first, out);
    out += ':';
    out += members[i].second;
  }
  out += '}';
}

// Appends the canonical text of any value; walking it also checks its syntax
// (on-demand parsing would otherwise only skip over what it does not read).
// `depth` is the value's own depth in the document: the walk recurses once
// per level, so a container deeper than max_depth (kernel.max_json_depth) is
// refused before it is entered (rule "max-depth").
void AppendCanonical(od::value value, std::string& out, size_t depth, size_t max_depth) {
  const od::json_type type = value.type().value();
  if ((type == od::json_type::object || type == od::json_type::array) && depth > max_depth) {
    throw RecordProblem{Status::Invalid("max-depth", "", JsonDepthMessage(max_depth)),
                        value.raw_json_token().data()};
  }
  switch (type) {
    case od::json_type::object:
      AppendCanonicalObject(value.get_object().value(), out, depth, max_depth);
      return;
    case od::json_type::array: {
      out += '[';
      bool first = true;
      for (auto element : value.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendCanonical(element.value(), out, depth + 1, max_depth);
      }
      out += ']';
      return;
    }
    case od::json_type::string:
      AppendJcsString(value.get_string().value(), out);
      return;
    case od::json_type::boolean:
      out += value.get_bool().value() ? "true" : "false";
      return;
    case od::json_type::null:
      if (!value.is_null().value()) throw simdjson::simdjson_error(simdjson::N_ATOM_ERROR);
      out += "null";
      return;
    case od::json_type::number:
      AppendNumber(value.get_number().value(), out);
      return;
  }
  throw simdjson::simdjson_error(simdjson::INCORRECT_TYPE);
}

// Walks a value the reader does not use, so that its syntax is checked too.
void CheckSyntax(od::value value, size_t depth, size_t max_depth) {
  std::string ignored;
  AppendCanonical(value, ignored, depth, max_depth);
}

// The 1-based line of `at` in `text` (for messages about a document).
uint64_t LineAt(const std::string& text, const char* at) {
  if (at == nullptr || at < text.data() || at > text.data() + text.size()) return 0;
  return 1 + static_cast<uint64_t>(std::count(text.data(), at, '\n'));
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
    case CallgraphDialect::kStella:
      return "stella.callgraph.v1";
    case CallgraphDialect::kRichgraph:
      return "richgraph-v1";
    case CallgraphDialect::kCanonical:
      return "canonical-ndjson";
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
  std::string out =
      std::string(ArrayName(origin.dialect, origin.kind)) + "[" + std::to_string(origin.position) + "]";
  if (!input.empty()) out += "." + input;
  return out;
}

Status CallgraphRecordError(const CallgraphRecordOrigin& origin, std::string_view member, std::string rule,
                            const std::string& message) {
  std::string prefix;
  if (origin.dialect == CallgraphDialect::kCanonical)
    prefix = "line " + std::to_string(origin.position) + ": ";
  return Status::Invalid(std::move(rule), CallgraphFieldName(origin, member), prefix + message);
}

void AppendBareEdgeLineFromJson(std::string_view from, std::string_view to, const std::string_view* kind,
                                std::string& out) {
  out += "{\"from\":";
  out += from;
  if (kind != nullptr) {
    out += ",\"kind\":";
    out += *kind;
  }
  out += ",\"t\":\"edge\",\"to\":";
  out += to;
  out += '}';
}

void AppendBareEdgeLine(std::string_view from, std::string_view to, const std::string_view* kind,
                        std::string& out) {
  std::string quoted[3];
  AppendJcsString(from, quoted[0]);
  AppendJcsString(to, quoted[1]);
  if (kind != nullptr) AppendJcsString(*kind, quoted[2]);
  const std::string_view quoted_kind = quoted[2];
  AppendBareEdgeLineFromJson(quoted[0], quoted[1], kind != nullptr ? &quoted_kind : nullptr, out);
}

// Names and strings are views into the parser's buffers (or the line read),
// which live until the next record.
struct CallgraphRecordBuilder::Member {
  std::string_view name;
  std::string text;         // the value as canonical JSON, unless it is a string
  std::string_view string;  // the value, when it is a string
  od::json_type type = od::json_type::null;
  od::number_type number_type = od::number_type::signed_integer;
  int64_t integer = 0;  // when number_type is signed_integer
  double number = 0;    // any number, as a double
  int known = -1;       // KnownIndex(name)
  bool live = true;     // false once dropped (a null member is absent)
};

CallgraphRecordBuilder::CallgraphRecordBuilder() = default;
CallgraphRecordBuilder::~CallgraphRecordBuilder() = default;

namespace {

std::string WhereInDocument(const CallgraphRecordOrigin& origin) { return CallgraphFieldName(origin, ""); }

Status CanonicalJsonProblem(const CallgraphRecordOrigin& origin, const std::invalid_argument& e) {
  return CallgraphRecordError(origin, "", "canonical-json",
                              std::string("cannot canonicalise JSON: ") + e.what());
}

}  // namespace

// Reads every member of `object` into members_ (throws simdjson_error for
// syntax, RecordProblem for a duplicate name, std::invalid_argument for text
// that is not valid UTF-8 once unescaped).
void CallgraphRecordBuilder::Collect(od::object object, size_t depth) {
  count_ = 0;
  problem_at_ = nullptr;
  if (depth > limits_.max_depth) {
    throw RecordProblem{Status::Invalid("max-depth", "", JsonDepthMessage(limits_.max_depth))};
  }
  for (auto field : object) {
    if (count_ == members_.size()) members_.emplace_back();
    Member& m = members_[count_++];
    m.name = field.unescaped_key().value();
    m.known = KnownIndex(m.name);
    od::value v = field.value();
    m.type = v.type().value();
    m.text.clear();
    m.live = true;
    switch (m.type) {
      case od::json_type::string:
        m.string = v.get_string().value();
        break;  // escaped in Finish
      case od::json_type::number: {
        od::number n = v.get_number().value();
        m.number_type = n.get_number_type();
        switch (m.number_type) {
          case od::number_type::signed_integer:
            m.integer = n.get_int64();
            m.number = static_cast<double>(m.integer);
            break;
          case od::number_type::unsigned_integer:
            m.number = static_cast<double>(n.get_uint64());
            break;
          case od::number_type::floating_point_number:
            m.number = n.get_double();
            break;
        }
        AppendNumber(n, m.text);
        break;
      }
      default:
        try {
          AppendCanonical(v, m.text, depth + 1, limits_.max_depth);
        } catch (RecordProblem& p) {
          // Name the record's member the too-deep value is in.
          if (p.status.rule() == "max-depth") {
            problem_at_ = p.at;
            p.status = p.status.WithField(std::string(m.name));
          }
          throw;
        }
        break;
    }
  }
  order_.resize(count_);
  for (uint32_t i = 0; i < count_; ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(),
            [this](uint32_t a, uint32_t b) { return JcsNameLess(members_[a].name, members_[b].name); });
  for (size_t i = 1; i < order_.size(); ++i) {
    const std::string name(members_[order_[i]].name);
    if (members_[order_[i - 1]].name == name) {
      throw RecordProblem{Status::Invalid("json", name, "duplicate member name '" + name + "'")};
    }
  }
  IndexMembers();
}

void CallgraphRecordBuilder::IndexMembers() {
  static_assert(std::tuple_size_v<decltype(at_)> == kKnownMembers);
  at_.fill(-1);
  for (size_t i = 0; i < count_; ++i) {
    if (members_[i].live && members_[i].known >= 0) at_[members_[i].known] = static_cast<int>(i);
  }
}

CallgraphRecordBuilder::Member* CallgraphRecordBuilder::Find(int known) {
  return at_[known] < 0 ? nullptr : &members_[at_[known]];
}

CallgraphRecordBuilder::Member* CallgraphRecordBuilder::FindByName(std::string_view name) {
  for (size_t i = 0; i < count_; ++i) {
    if (members_[i].live && SameName(members_[i].name, name)) return &members_[i];
  }
  return nullptr;
}

Status CallgraphRecordBuilder::Validate(const CallgraphRecordOrigin& origin) {
  auto required_string = [&](int known) -> Status {
    const std::string_view name = KnownName(known);
    const Member* m = Find(known);
    if (m == nullptr) return CallgraphRecordError(origin, name, "required", "is required");
    if (m->type != od::json_type::string)
      return CallgraphRecordError(origin, name, "type", "must be a string");
    if (m->string.empty()) return CallgraphRecordError(origin, name, "required", "must not be empty");
    return Status::Ok();
  };
  auto stella_kind = [&](const char* rule, const auto& allowed) -> Status {
    SIGNALS_RETURN_IF_ERROR(required_string(kMemberKind));
    const std::string kind(Find(kMemberKind)->string);
    if (!OneOf(kind, allowed)) {
      return CallgraphRecordError(origin, "kind", rule, "'" + kind + "' is not one of " + Join(allowed));
    }
    return Status::Ok();
  };
  const bool stella = origin.dialect == CallgraphDialect::kStella;
  switch (origin.kind) {
    case CallgraphRecordKind::kNode:
      SIGNALS_RETURN_IF_ERROR(required_string(kMemberId));
      break;
    case CallgraphRecordKind::kEdge:
      SIGNALS_RETURN_IF_ERROR(required_string(kMemberFrom));
      SIGNALS_RETURN_IF_ERROR(required_string(kMemberTo));
      if (stella) SIGNALS_RETURN_IF_ERROR(stella_kind("edge-kind", kStellaEdgeKinds));
      break;
    case CallgraphRecordKind::kEntrypoint:
      SIGNALS_RETURN_IF_ERROR(required_string(kMemberId));
      if (stella) SIGNALS_RETURN_IF_ERROR(stella_kind("entrypoint-kind", kStellaEntrypointKinds));
      break;
  }

  // Typed members; the first failing one in kTypedMembers order is reported.
  size_t failed = kTypedMembers.size();
  for (size_t i = 0; i < count_; ++i) {
    const Member& m = members_[i];
    if (!m.live || m.known < 0 || static_cast<size_t>(m.known) >= failed) continue;
    {
      const size_t t = static_cast<size_t>(m.known);
      bool ok = false;
      switch (kTypedMembers[t].type) {
        case MemberType::kString:
          ok = m.type == od::json_type::string;
          break;
        case MemberType::kBoolean:
          ok = m.type == od::json_type::boolean;
          break;
        case MemberType::kObject:
          ok = m.type == od::json_type::object;
          break;
        case MemberType::kLineNumber:
          ok = m.type == od::json_type::number &&
               (m.number_type == od::number_type::unsigned_integer ||
                (m.number_type == od::number_type::signed_integer && m.integer >= 0));
          break;
        case MemberType::kUnitInterval:
          ok = m.type == od::json_type::number && m.number >= 0.0 && m.number <= 1.0;
          break;
      }
      if (!ok) failed = t;
    }
  }
  if (failed == kTypedMembers.size()) return CheckLengths(origin);
  const TypedMember& typed = kTypedMembers[failed];
  const Member& m = *Find(static_cast<int>(failed));
  const std::string name(typed.name);
  switch (typed.type) {
    case MemberType::kString:
      return CallgraphRecordError(origin, name, "type", "must be a string");
    case MemberType::kBoolean:
      return CallgraphRecordError(origin, name, "type", "must be true or false");
    case MemberType::kObject:
      return CallgraphRecordError(origin, name, "type", "must be an object");
    case MemberType::kLineNumber:
      return CallgraphRecordError(origin, name, "type", "must be an integer >= 0");
    case MemberType::kUnitInterval:
      if (m.type != od::json_type::number)
        return CallgraphRecordError(origin, name, "type", "must be a number");
      return CallgraphRecordError(origin, name, "range", "must be between 0 and 1, got " + m.text);
  }
  return Status::Internal("unknown member type");
}

// Ids are keys of the graph's table, of reachability answers and of runtime
// facts' symbolId (≤ 1024 bytes too); names and the other typed strings are
// labels. Neither has a reason to be long, and a megabyte id would be held in
// every structure that indexes the graph.
Status CallgraphRecordBuilder::CheckLengths(const CallgraphRecordOrigin& origin) {
  for (size_t i = 0; i < count_; ++i) {
    const Member& m = members_[i];
    if (!m.live || m.known < 0 || m.type != od::json_type::string) continue;
    const bool is_id = m.known == kMemberId || m.known == kMemberFrom || m.known == kMemberTo;
    const bool is_typed = static_cast<size_t>(m.known) < kTypedMembers.size();
    if (is_id && limits_.max_id_bytes > 0 && m.string.size() > limits_.max_id_bytes) {
      return CallgraphRecordError(origin, KnownName(m.known), "id-length",
                                  "is " + std::to_string(m.string.size()) + " bytes, more than " +
                                      std::to_string(limits_.max_id_bytes) +
                                      " (kernel.callgraph_max_id_bytes)");
    }
    if (is_typed && limits_.max_string_bytes > 0 && m.string.size() > limits_.max_string_bytes) {
      return CallgraphRecordError(origin, KnownName(m.known), "string-length",
                                  "is " + std::to_string(m.string.size()) + " bytes, more than " +
                                      std::to_string(limits_.max_string_bytes) +
                                      " (kernel.callgraph_max_string_bytes)");
    }
  }
  return Status::Ok();
}

Status CallgraphRecordBuilder::Finish(const CallgraphRecordOrigin& origin, bool resort,
                                      std::string_view canonical_input, CallgraphRecord* record) {
  // order_ holds the members in name order; keep the live ones.
  size_t kept = 0;
  for (uint32_t i : order_) {
    if (members_[i].live) order_[kept++] = i;
  }
  order_.resize(kept);
  if (resort) {
    std::sort(order_.begin(), order_.end(),
              [this](uint32_t a, uint32_t b) { return JcsNameLess(members_[a].name, members_[b].name); });
  }
  *record = CallgraphRecord{};
  record->kind = origin.kind;
  auto string_of = [this](int known) -> std::string_view {
    const Member* m = Find(known);
    return m != nullptr && m->type == od::json_type::string ? m->string : std::string_view();
  };
  if (origin.kind == CallgraphRecordKind::kEdge) {
    record->from = string_of(kMemberFrom);
    record->to = string_of(kMemberTo);
  } else {
    record->id = string_of(kMemberId);
  }
  const Member* kind = Find(kMemberKind);
  record->has_kind = kind != nullptr;
  if (kind != nullptr) record->kind_member = kind->string;  // a string: Validate checked its type
  record->bare_edge =
      origin.kind == CallgraphRecordKind::kEdge && order_.size() == (record->has_kind ? 4u : 3u);
  if (record->bare_edge) return Status::Ok();  // its line follows from its strings
  if (!canonical_input.empty()) {
    record->line = canonical_input;
    return Status::Ok();
  }

  line_.clear();
  line_ += '{';
  try {
    for (size_t i = 0; i < order_.size(); ++i) {
      const Member& m = members_[order_[i]];
      if (i > 0) line_ += ',';
      AppendJcsString(m.name, line_);
      line_ += ':';
      if (m.type == od::json_type::string) {
        AppendJcsString(m.string, line_);
      } else {
        line_ += m.text;
      }
    }
  } catch (const std::invalid_argument& e) {
    return CanonicalJsonProblem(origin, e);
  }
  line_ += '}';
  record->line = line_;
  return Status::Ok();
}

// The canonical form of a line is usually what a scanner sent: check that
// cheaply, by a scan that accepts only text the full path would turn into
// exactly itself, and fall back to the full parser for anything else.
// Accepted: {"name":value,...} with ASCII names without escapes in strictly
// ascending order (so no duplicates), and values that are strings without
// escapes or control characters (non-ASCII text must be valid UTF-8),
// integers in canonical form within ±10^18, true or false.
bool CallgraphRecordBuilder::ScanCanonical(std::string_view line) {
  const size_t n = line.size();
  if (n < 2 || line[0] != '{' || line[n - 1] != '}') return false;
  count_ = 0;
  order_.clear();
  bool non_ascii = false;
  std::string_view previous;
  size_t i = 1;
  if (n == 2) {
    IndexMembers();
    return true;
  }
  while (true) {
    // "name":
    if (line[i] != '"') return false;
    const size_t name_start = ++i;
    while (i < n && line[i] != '"') {
      const auto b = static_cast<uint8_t>(line[i]);
      if (b < 0x20 || b >= 0x80 || b == '\\') return false;
      ++i;
    }
    if (i + 2 >= n || line[i + 1] != ':') return false;
    const std::string_view name = line.substr(name_start, i - name_start);
    if (count_ > 0 && !AsciiNameLess(previous, name)) return false;
    previous = name;
    i += 2;
    if (count_ == members_.size()) members_.emplace_back();
    Member& m = members_[count_];
    m.name = name;
    m.known = KnownIndex(name);
    m.live = true;
    m.text.clear();
    const char c = line[i];
    if (c == '"') {
      const size_t start = ++i;
      while (i < n && line[i] != '"') {
        const auto b = static_cast<uint8_t>(line[i]);
        if (b < 0x20 || b == '\\') return false;
        non_ascii = non_ascii || b >= 0x80;
        ++i;
      }
      if (i >= n) return false;
      m.type = od::json_type::string;
      m.string = line.substr(start, i - start);
      ++i;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t start = i;
      if (c == '-') ++i;
      if (i >= n || line[i] < '0' || line[i] > '9') return false;
      if (line[i] == '0' && (i + 1 < n && line[i + 1] >= '0' && line[i + 1] <= '9')) return false;
      while (i < n && line[i] >= '0' && line[i] <= '9') ++i;
      const std::string_view digits = line.substr(start, i - start);
      if (digits.size() > 18 || digits == "-0") return false;
      m.type = od::json_type::number;
      m.number_type = od::number_type::signed_integer;
      std::from_chars(digits.data(), digits.data() + digits.size(), m.integer);
      m.number = static_cast<double>(m.integer);
      m.text.assign(digits);
    } else if (line.substr(i, 4) == "true" || line.substr(i, 5) == "false") {
      const bool value = c == 't';
      i += value ? 4 : 5;
      m.type = od::json_type::boolean;
      m.text = value ? "true" : "false";
    } else {
      return false;  // null, objects, arrays: the full path
    }
    order_.push_back(static_cast<uint32_t>(count_++));
    if (i >= n) return false;
    if (line[i] == '}') break;
    if (line[i] != ',' || ++i >= n) return false;
  }
  if (i != n - 1) return false;
  if (non_ascii && !simdjson::validate_utf8(line.data(), n)) return false;
  IndexMembers();
  return true;
}

Status CallgraphRecordBuilder::BuildFromDocument(od::object object, const CallgraphRecordOrigin& origin,
                                                 CallgraphRecord* record) {
  try {
    Collect(object, kDocumentRecordDepth);
  } catch (const simdjson::simdjson_error& e) {
    return SyntaxError(e, WhereInDocument(origin));
  } catch (const RecordProblem& p) {
    if (p.status.field().empty()) return p.status.WithField(WhereInDocument(origin));
    return p.status.WithField(WhereInDocument(origin) + "." + p.status.field());
  } catch (const std::invalid_argument& e) {
    return CanonicalJsonProblem(origin, e);
  }
  if (Find(kMemberT) != nullptr) {
    return CallgraphRecordError(origin, "t", "reserved-member",
                                "'t' is reserved for the canonical line type; remove it");
  }
  for (size_t i = 0; i < count_; ++i) {
    if (members_[i].type == od::json_type::null) members_[i].live = false;
  }
  if (origin.dialect == CallgraphDialect::kStella) {
    for (const auto& rename : kStellaRenames) {
      if (rename.kind != origin.kind) continue;
      Member* input = FindByName(rename.input);
      if (input == nullptr) continue;
      if (FindByName(rename.canonical) != nullptr) {
        return Status::Invalid("member-conflict", WhereInDocument(origin) + "." + rename.canonical,
                               std::string("both '") + rename.input + "' and '" + rename.canonical +
                                   "' are given; stella.callgraph.v1 uses '" + rename.input + "'");
      }
      input->name = rename.canonical;
      input->known = KnownIndex(input->name);
    }
  }
  IndexMembers();
  SIGNALS_RETURN_IF_ERROR(Validate(origin));
  if (count_ == members_.size()) members_.emplace_back();
  Member& t = members_[count_++];
  t.name = "t";
  t.known = kMemberT;
  t.type = od::json_type::string;
  t.string = KindName(origin.kind);
  t.live = true;
  at_[kMemberT] = static_cast<int>(count_ - 1);
  order_.push_back(static_cast<uint32_t>(count_ - 1));
  return Finish(origin, /*resort=*/true, {}, record);
}

Status CallgraphRecordBuilder::BuildFromLine(od::document& doc, CallgraphRecordOrigin* origin,
                                             CallgraphRecord* record) {
  auto prefix = [&] { return "line " + std::to_string(origin->position) + ": "; };
  try {
    if (doc.type().value() != od::json_type::object) {
      return Status::Invalid("format", "", prefix() + "a callgraph line must be a JSON object");
    }
    Collect(doc.get_object().value(), 1);
    if (!doc.current_location().error()) {
      return Status::Invalid("json", "", prefix() + "not valid JSON (content after the object)");
    }
  } catch (const simdjson::simdjson_error& e) {
    return SyntaxError(e, "", prefix());
  } catch (const RecordProblem& p) {
    return Status::Invalid(p.status.rule(), p.status.field(), prefix() + p.status.message());
  } catch (const std::invalid_argument& e) {
    return CanonicalJsonProblem(*origin, e);
  }
  return FinishLine(origin, {}, record);
}

Status CallgraphRecordBuilder::BuildFromCanonicalLine(std::string_view line, CallgraphRecordOrigin* origin,
                                                      CallgraphRecord* record) {
  return FinishLine(origin, line, record);
}

Status CallgraphRecordBuilder::FinishLine(CallgraphRecordOrigin* origin, std::string_view canonical_input,
                                          CallgraphRecord* record) {
  const Member* t = Find(kMemberT);
  if (t == nullptr)
    return CallgraphRecordError(*origin, "t", "required", "is required (node, edge or entrypoint)");
  if (t->type != od::json_type::string) return CallgraphRecordError(*origin, "t", "type", "must be a string");
  if (t->string == "node") {
    origin->kind = CallgraphRecordKind::kNode;
  } else if (t->string == "edge") {
    origin->kind = CallgraphRecordKind::kEdge;
  } else if (t->string == "entrypoint") {
    origin->kind = CallgraphRecordKind::kEntrypoint;
  } else {
    return CallgraphRecordError(*origin, "t", "line-type",
                                "'" + std::string(t->string) + "' is not node, edge or entrypoint");
  }
  for (size_t i = 0; i < count_; ++i) {
    if (members_[i].type == od::json_type::null) {
      members_[i].live = false;
      if (members_[i].known >= 0) at_[members_[i].known] = -1;
    }
  }
  SIGNALS_RETURN_IF_ERROR(Validate(*origin));
  return Finish(*origin, /*resort=*/false, canonical_input, record);
}

Status CallgraphDocumentReader::ReadArray(od::value value, CallgraphDialect dialect, CallgraphRecordKind kind,
                                          CallgraphRecordSink& sink) {
  const char* name = ArrayName(dialect, kind);
  if (value.type().value() != od::json_type::array) {
    return Status::Invalid("type", name, std::string(name) + " must be an array");
  }
  CallgraphRecordOrigin origin{dialect, kind, 0};
  CallgraphRecord record;
  for (auto element : value.get_array()) {
    od::object object;
    try {
      od::value v = element.value();
      if (v.type().value() != od::json_type::object) {
        return Status::Invalid("type", WhereInDocument(origin), "must be an object");
      }
      object = v.get_object().value();
    } catch (const simdjson::simdjson_error& e) {
      return SyntaxError(e, WhereInDocument(origin));
    }
    Status built = builder_.BuildFromDocument(object, origin, &record);
    if (!built.ok()) {
      if (built.rule() == "max-depth") return built.WithContext(LineContext(builder_.problem_location()));
      return built;
    }
    SIGNALS_RETURN_IF_ERROR(sink.Add(record, origin));
    ++origin.position;
  }
  return Status::Ok();
}

std::string CallgraphDocumentReader::LineContext(const char* at) const {
  const uint64_t line = document_ == nullptr ? 0 : LineAt(*document_, at);
  return line == 0 ? std::string("in the document") : "line " + std::to_string(line);
}

Result<CallgraphDialect> CallgraphDocumentReader::Read(const std::string& padded, size_t size,
                                                       CallgraphRecordSink& sink) {
  document_ = &padded;
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
          CheckSyntax(value, 2, limits_.max_depth);
        } catch (const RecordProblem& p) {
          if (p.status.rule() == "max-depth") return p.status.WithField(key).WithContext(LineContext(p.at));
          return p.status.WithField(key + "." + p.status.field());
        }
      }
    }
    if (!doc.current_location().error()) {
      return Status::Invalid("json", "", "not valid JSON (content after the end of the document)");
    }
    if (!has_nodes) {
      return Status::Invalid(
          "format", "nodes",
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
    od::document doc =
        parser_.iterate(simdjson::padded_string_view(padded_.data(), line.size(), padded_.size()));
    if (doc.type().value() != od::json_type::object) return false;
    for (auto field : doc.get_object()) {
      if (field.unescaped_key().value() == "t") return field.value().type().value() == od::json_type::string;
    }
  } catch (const simdjson::simdjson_error&) {
  }
  return false;
}

CallgraphLineReader::CallgraphLineReader(size_t max_line_bytes, const CallgraphReadLimits& limits) {
  padded_.reserve(max_line_bytes + simdjson::SIMDJSON_PADDING);
  builder_.set_limits(limits);
}

CallgraphDocumentReader::CallgraphDocumentReader(const CallgraphReadLimits& limits) : limits_(limits) {
  builder_.set_limits(limits);
}

Status CallgraphLineReader::Read(std::string_view line, uint64_t line_number, CallgraphRecordSink& sink) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return Status::Ok();
  CallgraphRecordOrigin origin{CallgraphDialect::kCanonical, CallgraphRecordKind::kNode, line_number};
  CallgraphRecord record;
  if (builder_.ScanCanonical(line)) {
    SIGNALS_RETURN_IF_ERROR(builder_.BuildFromCanonicalLine(line, &origin, &record));
    return sink.Add(record, origin);
  }
  padded_.assign(line.data(), line.size());
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  try {
    od::document doc =
        parser_.iterate(simdjson::padded_string_view(padded_.data(), line.size(), padded_.size()));
    SIGNALS_RETURN_IF_ERROR(builder_.BuildFromLine(doc, &origin, &record));
  } catch (const simdjson::simdjson_error& e) {
    return SyntaxError(e, "", "line " + std::to_string(line_number) + ": ");
  }
  return sink.Add(record, origin);
}

}  // namespace signals
