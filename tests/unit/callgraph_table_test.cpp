// The canonicalizer's two ways of holding a graph (kernel/README.md#callgraphs) against a
// reference model: the in-memory CallgraphTable, and the external sort it
// moves to once it outgrows kernel.callgraph_sort_memory (at the first
// record, in the middle, near the end) must give the bytes, summary and error
// the model gives, for any input and however the input is cut into writes;
// and NDJSON read in 256 KiB batches on two threads must keep input order:
// the error reported is the first bad line, with its line number.
//
// The model is written here from the rules in callgraph_canonicalizer.hpp with
// std containers and nlohmann::json (member order by std::u16string), so it
// shares no code with the kernel's sort, table or record builder.
#include "canon/callgraph_table.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "canon/callgraph_canonicalizer.hpp"
#include "canon/callgraph_line_batches.hpp"
#include "utf16_text.hpp"

namespace signals {
namespace {

using nlohmann::json;
using testing::Utf16Of;
using Kind = CallgraphRecordKind;
using namespace std::string_literals;

// --- running the canonicalizer -------------------------------------------------

struct Outcome {
  Status status;
  std::string bytes;
  CallgraphSummary summary;
};

// Canonicalizes `input`, written in one piece, or in pieces of 1..max_chunk
// bytes drawn from `chunks`.
Outcome Canonicalize(std::string_view input, const CallgraphCanonicalizerOptions& options,
                     std::mt19937* chunks = nullptr, size_t max_chunk = 0) {
  Outcome out;
  CallgraphCanonicalizer canonicalizer(options);
  for (size_t at = 0; at < input.size();) {
    const size_t n = chunks == nullptr ? input.size() : 1 + (*chunks)() % max_chunk;
    Status s = canonicalizer.Write(input.substr(at, n));
    if (!s.ok()) {
      out.status = s;
      return out;
    }
    at += n;
  }
  auto summary = canonicalizer.Finish([&](std::string_view bytes) {
    out.bytes.append(bytes);
    return Status::Ok();
  });
  if (summary.ok()) {
    out.summary = *summary;
  } else {
    out.status = summary.status();
  }
  return out;
}

std::string TempDir() {
  return (std::filesystem::temp_directory_path() / ("signals-cgtable-test-" + std::to_string(::getpid())))
      .string();
}

CallgraphCanonicalizerOptions Budget(size_t sort_memory_bytes) {
  CallgraphCanonicalizerOptions o;
  o.sort_memory_bytes = sort_memory_bytes;
  o.temp_dir = TempDir();
  return o;
}

// Printable form of text that may hold NULs and control characters.
std::string Shown(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string StatusText(const Status& s) {
  return std::string(CodeName(s.code())) + " rule=" + s.rule() + " field=" + Shown(s.field()) +
         " message=" + Shown(s.message());
}

std::vector<std::string_view> LinesOf(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

// "" when `got` is `want` (spill counts aside), else the first difference.
std::string Diff(const Outcome& want, const Outcome& got) {
  if (StatusText(want.status) != StatusText(got.status)) {
    return "status\n  want " + StatusText(want.status) + "\n  got  " + StatusText(got.status);
  }
  if (!want.status.ok()) return "";
  if (want.bytes != got.bytes) {
    const auto a = LinesOf(want.bytes), b = LinesOf(got.bytes);
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      const std::string_view x = i < a.size() ? a[i] : "(none)", y = i < b.size() ? b[i] : "(none)";
      if (x != y) return "line " + std::to_string(i + 1) + "\n  want " + Shown(x) + "\n  got  " + Shown(y);
    }
    return "bytes (line ends)";
  }
  const CallgraphSummary &w = want.summary, &g = got.summary;
  if (w.dialect != g.dialect) return "dialect";
  if (w.digest != g.digest) return "digest " + w.digest + " vs " + g.digest;
  if (w.canonical_bytes != g.canonical_bytes) return "canonical_bytes";
  if (w.node_count != g.node_count || w.edge_count != g.edge_count ||
      w.entrypoint_count != g.entrypoint_count) {
    return "counts: want " + std::to_string(w.node_count) + "/" + std::to_string(w.edge_count) + "/" +
           std::to_string(w.entrypoint_count) + " got " + std::to_string(g.node_count) + "/" +
           std::to_string(g.edge_count) + "/" + std::to_string(g.entrypoint_count);
  }
  if (w.entrypoints != g.entrypoints) {
    std::string text = "entrypoints: want";
    for (const auto& e : w.entrypoints) text += " (" + Shown(e.id) + "," + Shown(e.kind) + ")";
    text += " got";
    for (const auto& e : g.entrypoints) text += " (" + Shown(e.id) + "," + Shown(e.kind) + ")";
    return text;
  }
  return "";
}

// --- the reference model --------------------------------------------------------

// One input record, with canonical member names and without "t".
struct Record {
  Kind kind = Kind::kNode;
  json members;
  // The per-record rule it breaks, if any: rule, canonical member, message.
  std::string rule, member, message;
};
using Graph = std::vector<Record>;

Record Valid(Kind kind, json members) { return Record{kind, std::move(members), "", "", ""}; }

// A rendered input. For record i: position names it in errors (array index or
// line number); order is its place in the input.
struct Input {
  std::string text;
  CallgraphDialect dialect = CallgraphDialect::kCanonical;
  std::vector<uint64_t> position, order;
};

// RFC 8785 text of a value whose numbers nlohmann prints as JCS does (integers
// and short binary fractions): members by UTF-16 code units of their names.
std::string ModelJcs(const json& value) {
  if (value.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) out += (i ? "," : "") + ModelJcs(value[i]);
    return out + "]";
  }
  if (!value.is_object()) return value.dump();
  std::vector<std::string> names;
  for (auto it = value.begin(); it != value.end(); ++it) names.push_back(it.key());
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return Utf16Of(a) < Utf16Of(b); });
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i ? "," : "") + json(names[i]).dump() + ":" + ModelJcs(value.at(names[i]));
  }
  return out + "}";
}

const char* TypeName(Kind kind) {
  return kind == Kind::kNode ? "node" : kind == Kind::kEdge ? "edge" : "entrypoint";
}

std::string CanonicalLine(const Record& r) {
  json line = r.members;
  line["t"] = TypeName(r.kind);
  return ModelJcs(line);
}

const char* ArrayName(CallgraphDialect dialect, Kind kind) {
  if (kind == Kind::kNode) return "nodes";
  if (kind == Kind::kEdge) return "edges";
  return dialect == CallgraphDialect::kRichgraph ? "roots" : "entrypoints";
}

// The document's name for a canonical member (stella renames three).
std::string InputName(CallgraphDialect dialect, Kind kind, const std::string& member) {
  if (dialect != CallgraphDialect::kStella) return member;
  if (kind == Kind::kEdge && member == "from") return "sourceId";
  if (kind == Kind::kEdge && member == "to") return "targetId";
  if (kind == Kind::kEntrypoint && member == "id") return "nodeId";
  return member;
}

Status ModelError(CallgraphDialect dialect, Kind kind, uint64_t position, const std::string& member,
                  const std::string& rule, const std::string& message) {
  if (dialect == CallgraphDialect::kCanonical) {
    return Status::Invalid(rule, member, "line " + std::to_string(position) + ": " + message);
  }
  return Status::Invalid(rule,
                         std::string(ArrayName(dialect, kind)) + "[" + std::to_string(position) + "]." +
                             InputName(dialect, kind, member),
                         message);
}

std::string Sha256Digest(std::string_view bytes) {
  unsigned char raw[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), raw);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

// What the canonicalizer must give for `graph` rendered as `input`.
Outcome Model(const Graph& graph, const Input& input) {
  Outcome out;
  const CallgraphDialect d = input.dialect;
  // Per-record rules first, in input order.
  size_t first_bad = graph.size();
  for (size_t i = 0; i < graph.size(); ++i) {
    if (!graph[i].rule.empty() && (first_bad == graph.size() || input.order[i] < input.order[first_bad])) {
      first_bad = i;
    }
  }
  if (first_bad < graph.size()) {
    const Record& r = graph[first_bad];
    out.status = ModelError(d, r.kind, input.position[first_bad], r.member, r.rule, r.message);
    return out;
  }

  std::map<std::string, std::vector<std::pair<std::string, uint64_t>>> nodes;  // id → (line, position)
  std::map<std::string, std::pair<NodeReference, uint64_t>> first_reference;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> edges;  // from, to, kind, line
  std::set<std::tuple<std::string, std::string, std::string>> entrypoints;         // id, line, kind
  auto refer = [&](const std::string& id, NodeReference reference, uint64_t position) {
    auto [it, fresh] = first_reference.emplace(id, std::make_pair(reference, position));
    if (!fresh) it->second = std::min(it->second, std::make_pair(reference, position));
  };
  for (size_t i = 0; i < graph.size(); ++i) {
    const Record& r = graph[i];
    const uint64_t position = input.position[i];
    const std::string line = CanonicalLine(r);
    auto text = [&](const char* member) { return r.members.value(member, std::string()); };
    switch (r.kind) {
      case Kind::kNode:
        nodes[text("id")].emplace_back(line, position);
        break;
      case Kind::kEdge:
        refer(text("from"), NodeReference::kEdgeFrom, position);
        refer(text("to"), NodeReference::kEdgeTo, position);
        edges.emplace(text("from"), text("to"), text("kind"), line);
        break;
      case Kind::kEntrypoint:
        refer(text("id"), NodeReference::kEntrypoint, position);
        entrypoints.emplace(text("id"), line, text("kind"));
        break;
    }
  }
  // Graph rules, by id in byte order: the first id with two contents or
  // without a node decides.
  std::set<std::string> ids;
  for (const auto& [id, unused] : nodes) ids.insert(id);
  for (const auto& [id, unused] : first_reference) ids.insert(id);
  for (const std::string& id : ids) {
    auto node = nodes.find(id);
    if (node == nodes.end()) {
      const auto [reference, position] = first_reference.at(id);
      const std::string message = "unknown node '" + id + "'";
      if (reference == NodeReference::kEntrypoint) {
        out.status = ModelError(d, Kind::kEntrypoint, position, "id", "entrypoint-node", message);
      } else {
        out.status =
            ModelError(d, Kind::kEdge, position, reference == NodeReference::kEdgeFrom ? "from" : "to",
                       "edge-endpoint", message);
      }
      return out;
    }
    std::vector<std::pair<std::string, uint64_t>> given = node->second;
    std::sort(given.begin(), given.end());
    for (size_t k = 1; k < given.size(); ++k) {
      if (given[k].first == given[0].first) continue;
      const uint64_t a = std::min(given[0].second, given[k].second),
                     b = std::max(given[0].second, given[k].second);
      const std::string also = d == CallgraphDialect::kCanonical ? "line " + std::to_string(a)
                                                                 : "nodes[" + std::to_string(a) + "]";
      out.status =
          ModelError(d, Kind::kNode, b, "id", "node-unique",
                     "node '" + id + "' is given twice with different content (also at " + also + ")");
      return out;
    }
  }
  if (nodes.empty()) {
    out.status = Status::Invalid("non-empty", "nodes", "the callgraph has no nodes");
    return out;
  }
  for (const auto& [id, given] : nodes) out.bytes += given.front().first + "\n";
  for (const auto& e : edges) out.bytes += std::get<3>(e) + "\n";
  for (const auto& [id, line, kind] : entrypoints) {
    out.bytes += line + "\n";
    auto& list = out.summary.entrypoints;
    const CallgraphEntrypoint entry{id, kind};
    if (std::find(list.begin(), list.end(), entry) == list.end()) list.push_back(entry);
  }
  out.summary.dialect = d;
  out.summary.node_count = nodes.size();
  out.summary.edge_count = edges.size();
  out.summary.entrypoint_count = entrypoints.size();
  out.summary.canonical_bytes = out.bytes.size();
  out.summary.digest = Sha256Digest(out.bytes);
  return out;
}

// --- generated graphs -----------------------------------------------------------

// Pieces of awkward ids. U+E000..U+FFFF sort after supplementary characters
// in UTF-16 but before them in UTF-8, which is the order of ids.
const std::string kOddPieces[] = {
    "\0"s,
    "a\0"s,
    "a\0b"s,
    "\"q\""s,
    "back\\slash"s,
    "\x01"s,
    "\x1f"s,
    "a\nb"s,
    "\t"s,
    "\x7f"s,
    "/"s,
    "a"s,
    "ab"s,
    "b"s,
    "\xC3\xA9"s,          // é
    "e\xCC\x81"s,         // e + U+0301
    "\xE4\xB8\xAD"s,      // 中
    "\xF0\x9F\x98\x80"s,  // 😀
    "\xEE\x80\x80"s,      // U+E000
    "\xEF\xBF\xBD"s,      // U+FFFD
    "\xEF\xBF\xBF"s,      // U+FFFF
    "\xEF\xAC\xB3"s,      // U+FB33
    "\xF0\x90\x80\x80"s,  // U+10000
    "\xF4\x8F\xBF\xBF"s,  // U+10FFFF
    "\xED\x9F\xBF"s,      // U+D7FF
};

template <typename T, size_t N>
const T& Pick(std::mt19937& rng, const T (&items)[N]) {
  return items[rng() % N];
}

bool OneIn(std::mt19937& rng, uint32_t n) { return rng() % n == 0; }

// A symbol id as scanners write them: 40–120 bytes sharing long prefixes.
std::string SymbolId(std::mt19937& rng) {
  static const char* const kPackages[] = {
      "pkg:maven/org.example/lib@1.2.3#", "pkg:maven/org.example/lib@1.2.4#",
      "pkg:maven/org.example/lib-extra@1.2.3#", "pkg:npm/%40scope/service@4.0.0#"};
  static const char* const kClasses[] = {"com.example.Foo", "com.example.Foo$Inner", "com.example.Fop",
                                         "com.example.Foo2", "com.example.internal.very.deep.package.Bar"};
  static const char* const kMethods[] = {"bar", "baz", "bar2", "<init>", "handleRequestWithAVeryLongName"};
  static const char* const kDescriptors[] = {"()V", "(I)V", "(Ljava/lang/String;)V", "(Ljava/lang/String;I)V",
                                             "([BLjava/util/Map;)Ljava/lang/Object;"};
  std::string id = std::string(Pick(rng, kPackages)) + Pick(rng, kClasses) + "." + Pick(rng, kMethods) +
                   Pick(rng, kDescriptors);
  if (OneIn(rng, 6)) id.resize(9 + rng() % (id.size() - 9));  // a prefix of other ids
  if (OneIn(rng, 5)) id += Pick(rng, kOddPieces);
  return id;
}

std::string OddId(std::mt19937& rng) {
  std::string id;
  const int pieces = 1 + rng() % 4;
  for (int i = 0; i < pieces; ++i) id += Pick(rng, kOddPieces);
  return id;
}

json NodeMembers(std::mt19937& rng, const std::string& id) {
  // Member names whose UTF-16 order differs from their UTF-8 order.
  static const char* const kPayloadNames[] = {
      "\xF0\x9F\x98\x80", "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF", "\xC3\xA9", "zz", "Z", "a b"};
  json node = {{"id", id}, {"name", "fn_" + std::to_string(rng() % 1000)}};
  if (OneIn(rng, 2)) node["kind"] = OneIn(rng, 2) ? "method" : "function";
  if (OneIn(rng, 2)) node["line"] = rng() % 5000;
  if (OneIn(rng, 3)) node["isEntrypointCandidate"] = OneIn(rng, 2);
  for (int k = rng() % 4; k > 0; --k) node[Pick(rng, kPayloadNames)] = OddId(rng);
  if (OneIn(rng, 4)) {
    node["attributes"] = {{Pick(rng, kPayloadNames), rng() % 10},
                          {Pick(rng, kPayloadNames), true},
                          {"nested", {{"k", OddId(rng)}, {"list", {1, 0.5}}}}};
  }
  return node;
}

// A random graph for `dialect`: duplicate and conflicting nodes, unknown ids,
// edges with and without kind, exact duplicates and, now and then, a record
// that breaks a per-record rule.
Graph GenerateGraph(uint32_t seed, CallgraphDialect dialect) {
  std::mt19937 rng(seed);
  const bool stella = dialect == CallgraphDialect::kStella;
  std::set<std::string> pool;
  const int wanted = 3 + rng() % 40;
  for (int i = 0; i < wanted; ++i) pool.insert(OneIn(rng, 2) ? SymbolId(rng) : OddId(rng));
  std::vector<std::string> ids(pool.begin(), pool.end());
  std::shuffle(ids.begin(), ids.end(), rng);
  std::vector<std::string> unknown;
  if (OneIn(rng, 3) && ids.size() > 2) {
    const size_t n = std::min<size_t>(1 + rng() % 4, ids.size() - 1);
    unknown.assign(ids.end() - static_cast<std::ptrdiff_t>(n), ids.end());
    ids.resize(ids.size() - n);
  }

  Graph graph;
  for (const std::string& id : ids) {
    const json members = NodeMembers(rng, id);
    const int copies = OneIn(rng, 4) ? 2 + rng() % 2 : 1;
    for (int c = 0; c < copies; ++c) graph.push_back(Valid(Kind::kNode, members));
  }
  if (OneIn(rng, 6)) {  // one id given with two contents
    json twin = graph[rng() % graph.size()].members;
    twin["line"] = 5000 + rng() % 10;
    graph.push_back(Valid(Kind::kNode, twin));
  }

  static const char* const kStellaEdgeKinds[] = {"static", "heuristic", "runtime"};
  static const char* const kEdgeKinds[] = {"", "call", "static", "virtual"};
  static const char* const kStellaEntrypointKinds[] = {"http",  "grpc",  "cli", "job",
                                                       "event", "timer", "main"};
  static const char* const kEntrypointKinds[] = {"", "http", "main"};
  static const double kWeights[] = {0, 0.25, 0.5, 1};
  auto any_id = [&]() -> const std::string& {
    return !unknown.empty() && OneIn(rng, 12) ? unknown[rng() % unknown.size()] : ids[rng() % ids.size()];
  };
  auto edge = [&](const std::string& from, const std::string& to) {
    json e = {{"from", from}, {"to", to}};
    if (stella) {
      e["kind"] = Pick(rng, kStellaEdgeKinds);
    } else if (!OneIn(rng, 3)) {
      e["kind"] = Pick(rng, kEdgeKinds);
    }
    if (OneIn(rng, 3)) {  // not a bare edge
      if (OneIn(rng, 2)) {
        const double w = Pick(rng, kWeights);  // 0 and 1 as integers: nlohmann prints 1.0 as "1.0"
        e["weight"] = w == 0 || w == 1 ? json(static_cast<int>(w)) : json(w);
      }
      if (OneIn(rng, 2)) e["reason"] = OneIn(rng, 2) ? "call" : OddId(rng);
      if (OneIn(rng, 2)) e["isResolved"] = OneIn(rng, 2);
    }
    graph.push_back(Valid(Kind::kEdge, e));
  };
  auto entrypoint = [&](const std::string& id) {
    json e = {{"id", id}};
    if (stella) {
      e["kind"] = Pick(rng, kStellaEntrypointKinds);
      if (OneIn(rng, 2)) e["route"] = "/r" + std::to_string(rng() % 3);
    } else {
      if (!OneIn(rng, 3)) e["kind"] = Pick(rng, kEntrypointKinds);
      if (OneIn(rng, 2)) e["phase"] = OneIn(rng, 2) ? "runtime" : "load";
    }
    graph.push_back(Valid(Kind::kEntrypoint, e));
  };
  const int edges = rng() % (3 * ids.size() + 1);
  for (int i = 0; i < edges; ++i) edge(any_id(), any_id());
  for (const std::string& id : unknown) {  // several references, of every kind
    const int references = 1 + rng() % 3;
    for (int r = 0; r < references; ++r) {
      switch (rng() % 3) {
        case 0:
          entrypoint(id);
          break;
        case 1:
          edge(id, ids[rng() % ids.size()]);
          break;
        default:
          edge(ids[rng() % ids.size()], id);
          break;
      }
    }
  }
  const int entrypoints = rng() % 5;
  for (int i = 0; i < entrypoints; ++i) entrypoint(any_id());
  const size_t distinct = graph.size();
  for (size_t i = 0; i < distinct; ++i) {
    if (graph[i].kind != Kind::kNode && OneIn(rng, 8)) graph.push_back(graph[i]);  // exact duplicates
  }
  if (OneIn(rng, 10)) {
    Record bad{Kind::kEdge,
               {{"from", ids[0]}, {"to", ids[0]}, {"weight", 1.5}},
               "range",
               "weight",
               "must be between 0 and 1, got 1.5"};
    if (stella) bad.members["kind"] = "static";
    graph.push_back(bad);
  }
  if (OneIn(rng, 10))
    graph.push_back(Record{Kind::kNode, {{"id", ""}}, "required", "id", "must not be empty"});
  std::shuffle(graph.begin(), graph.end(), rng);
  return graph;
}

// An object with its members in random order, sometimes with a null member
// (which is absent), \u escapes for non-ASCII text and spaces.
std::string RenderObject(const json& members, std::mt19937& rng) {
  const bool ascii = OneIn(rng, 3);
  const char* separator = OneIn(rng, 4) ? ", " : ",";
  std::vector<std::string> texts;
  for (auto it = members.begin(); it != members.end(); ++it) {
    texts.push_back(json(it.key()).dump(-1, ' ', ascii) + ":" + it.value().dump(-1, ' ', ascii));
  }
  if (OneIn(rng, 5)) texts.push_back("\"note\":null");
  std::shuffle(texts.begin(), texts.end(), rng);
  std::string out = "{";
  for (size_t i = 0; i < texts.size(); ++i) out += (i ? separator : "") + texts[i];
  return out + "}";
}

struct LineStyle {
  uint32_t blank_one_in = 0;  // a blank line before a record, one time in n (0: never)
  uint32_t crlf_one_in = 0;   // "\r\n" line ends, one time in n
  bool final_newline = true;
};

Input RenderNdjson(const Graph& graph, std::mt19937& rng, const LineStyle& style) {
  static const char* const kBlanks[] = {"", " ", "\t \r", "\r", "   "};
  Input in;
  uint64_t line = 0;
  for (size_t i = 0; i < graph.size(); ++i) {
    if (style.blank_one_in != 0 && OneIn(rng, style.blank_one_in)) {
      in.text += std::string(Pick(rng, kBlanks)) + "\n";
      ++line;
    }
    json members = graph[i].members;
    members["t"] = TypeName(graph[i].kind);
    in.text += RenderObject(members, rng);
    if (style.crlf_one_in != 0 && OneIn(rng, style.crlf_one_in)) in.text += '\r';
    if (i + 1 < graph.size() || style.final_newline) in.text += '\n';
    in.position.push_back(++line);
    in.order.push_back(i);
  }
  return in;
}

Input RenderDocument(const Graph& graph, CallgraphDialect dialect, std::mt19937& rng) {
  Input in;
  in.dialect = dialect;
  in.position.resize(graph.size());
  in.order.resize(graph.size());
  // Top-level members in random order; records are read in document order.
  std::vector<int> top = {-2, -1, static_cast<int>(Kind::kNode), static_cast<int>(Kind::kEdge),
                          static_cast<int>(Kind::kEntrypoint)};
  std::shuffle(top.begin(), top.end(), rng);
  in.text = "{";
  for (size_t t = 0; t < top.size(); ++t) {
    in.text += t ? ",\n" : "\n";
    if (top[t] == -2) {
      in.text += std::string("\"schema\":\"") + CallgraphDialectName(dialect) + "\"";
      continue;
    }
    if (top[t] == -1) {
      in.text += "\"meta\":{\"tool\":\"gen\",\"n\":[1,2]}";
      continue;
    }
    const auto kind = static_cast<Kind>(top[t]);
    in.text += std::string("\"") + ArrayName(dialect, kind) + "\":[";
    uint64_t index = 0;
    for (size_t i = 0; i < graph.size(); ++i) {
      if (graph[i].kind != kind) continue;
      json members;
      for (auto it = graph[i].members.begin(); it != graph[i].members.end(); ++it) {
        members[InputName(dialect, kind, it.key())] = it.value();
      }
      in.text += (index ? (OneIn(rng, 2) ? ",\n  " : ",") : "") + RenderObject(members, rng);
      in.position[i] = index++;
      in.order[i] = (uint64_t{t} << 32) + in.position[i];
    }
    in.text += "]";
  }
  in.text += "\n}\n";
  return in;
}

// The table's memory_bytes() after each record of `input`, as the
// canonicalizer's table sees them: a budget of entry j-1 makes it move to the
// external sort at record j when entry j is larger.
class TableProbe : public CallgraphRecordSink {
 public:
  Status Add(const CallgraphRecord& record, const CallgraphRecordOrigin& origin) override {
    table_.Add(record, origin.position);
    memory_.push_back(table_.memory_bytes());
    return Status::Ok();
  }
  const std::vector<size_t>& memory() const { return memory_; }

 private:
  CallgraphTable table_;
  std::vector<size_t> memory_;
};

std::vector<size_t> TableMemoryAfterEachRecord(const Input& input) {
  TableProbe probe;
  if (input.dialect == CallgraphDialect::kCanonical) {
    CallgraphLineReader reader(size_t{1} << 20);
    uint64_t number = 0;
    for (std::string_view line : LinesOf(input.text)) {
      if (!reader.Read(line, ++number, probe).ok()) break;
    }
  } else {
    std::string padded = input.text + std::string(simdjson::SIMDJSON_PADDING, '\0');
    CallgraphDocumentReader reader;
    (void)reader.Read(padded, input.text.size(), probe);
  }
  return probe.memory();
}

// A budget that moves the table to the external sort at the growth of its
// memory nearest to record `fraction` × n (1.0: the last growth); 0 if its
// memory never grows after the first record.
size_t MoveBudget(const std::vector<size_t>& memory, double fraction) {
  size_t best = 0;
  const double target = fraction * static_cast<double>(memory.size());
  for (size_t j = 1; j < memory.size(); ++j) {
    if (memory[j] <= memory[j - 1]) continue;
    if (best == 0 ||
        std::abs(static_cast<double>(j) - target) <= std::abs(static_cast<double>(best) - target)) {
      best = j;
    }
  }
  return best == 0 ? 0 : memory[best - 1];
}

struct RunPlan {
  std::string label;
  size_t budget;     // 0: the default (the table holds everything)
  size_t max_chunk;  // 0: one write
};

CallgraphCanonicalizerOptions OptionsFor(const RunPlan& plan) {
  return plan.budget == 0 ? CallgraphCanonicalizerOptions{} : Budget(plan.budget);
}

// Runs `input` under every plan and compares each outcome with `want`;
// returns how many differed.
int CompareRuns(const Outcome& want, const Input& input, const std::vector<RunPlan>& plans, uint32_t seed) {
  int failures = 0;
  std::mt19937 chunks(seed);
  for (const RunPlan& plan : plans) {
    const Outcome got =
        Canonicalize(input.text, OptionsFor(plan), plan.max_chunk ? &chunks : nullptr, plan.max_chunk);
    const std::string diff = Diff(want, got);
    EXPECT_EQ(diff, "") << "seed " << seed << ", " << CallgraphDialectName(input.dialect) << ", "
                        << plan.label;
    if (!diff.empty()) ++failures;
  }
  return failures;
}

// Every input in memory, and moved to the external sort at its first record
// (any budget below the table's first 1 MiB block), in the middle and at the
// end. Sort runs spilled to disk cost file operations; the external sort's
// own tests show that spilled and in-memory runs merge alike, so only some
// seeds spill many runs.
std::vector<RunPlan> PlansFor(const Input& input, uint32_t seed) {
  std::vector<RunPlan> plans = {{"in memory", 0, 0},
                                {"in memory, random writes", 0, 97},
                                {"512 KiB budget: moves at the first record", 512 << 10, 0}};
  if (seed % 3 == 0) plans.push_back({"64 KiB budget, random writes", 64 << 10, 4096});
  if (seed % 10 == 0) plans.push_back({"4 KiB budget", 4 << 10, 0});
  if (seed % 40 == 0) plans.push_back({"1-byte budget", 1, 0});
  const std::vector<size_t> memory = TableMemoryAfterEachRecord(input);
  if (size_t b = MoveBudget(memory, 0.5)) {
    plans.push_back({"moves mid-input (" + std::to_string(b) + ")", b, 0});
  }
  if (size_t b = MoveBudget(memory, 1.0)) {
    plans.push_back({"moves at the last growth (" + std::to_string(b) + "), random writes", b, 61});
  }
  return plans;
}

class CallgraphTableDifferential : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(TempDir()); }

  // Tallies what the generated inputs exercised, so that a generator that
  // stopped producing some case fails the test instead of passing it.
  void Tally(const Outcome& want) { ++seen_[want.status.ok() ? std::string("ok") : want.status.rule()]; }
  void ExpectEveryCaseSeen(int at_least) {
    for (const char* rule : {"ok", "node-unique", "edge-endpoint", "entrypoint-node", "range", "required"}) {
      EXPECT_GE(seen_[rule], at_least) << rule;
    }
  }

  std::map<std::string, int> seen_;
};

constexpr uint32_t kSeeds = 200;

TEST_F(CallgraphTableDifferential, NdjsonGivesTheModelsResultInMemoryAndInTheExternalSort) {
  int failures = 0;
  for (uint32_t seed = 0; seed < kSeeds && failures < 5; ++seed) {
    const Graph graph = GenerateGraph(seed, CallgraphDialect::kCanonical);
    std::mt19937 rng(seed + 1000);
    const Input input = RenderNdjson(graph, rng, {5, 4, seed % 2 == 0});
    const Outcome want = Model(graph, input);
    Tally(want);
    failures += CompareRuns(want, input, PlansFor(input, seed), seed);
  }
  ExpectEveryCaseSeen(5);
}

TEST_F(CallgraphTableDifferential, DocumentsGiveTheModelsResultInMemoryAndInTheExternalSort) {
  int failures = 0;
  for (uint32_t seed = 0; seed < kSeeds && failures < 5; ++seed) {
    const CallgraphDialect dialect = seed % 2 ? CallgraphDialect::kStella : CallgraphDialect::kRichgraph;
    const Graph graph = GenerateGraph(seed, dialect);
    std::mt19937 rng(seed + 2000);
    const Input input = RenderDocument(graph, dialect, rng);
    const Outcome want = Model(graph, input);
    Tally(want);
    failures += CompareRuns(want, input, PlansFor(input, seed), seed);
  }
  ExpectEveryCaseSeen(5);
}

// --- chosen cases, each checked under every budget -------------------------------------

const std::vector<RunPlan> kEveryBudget = {{"in memory", 0, 0},
                                           {"in memory, byte by byte", 0, 1},
                                           {"1-byte budget", 1, 0},
                                           {"4 KiB budget, byte by byte", 4 << 10, 1}};

Outcome Expect(std::string bytes) {
  Outcome o;
  o.bytes = std::move(bytes);
  return o;
}

// Compares status and bytes only (the summary is the model's business above).
void ExpectUnderEveryBudget(std::string_view input, const Outcome& want) {
  for (const RunPlan& plan : kEveryBudget) {
    std::mt19937 chunks(1);
    const Outcome got =
        Canonicalize(input, OptionsFor(plan), plan.max_chunk ? &chunks : nullptr, plan.max_chunk);
    EXPECT_EQ(StatusText(got.status), StatusText(want.status)) << plan.label;
    EXPECT_EQ(Shown(got.bytes), Shown(want.bytes)) << plan.label;
  }
  std::filesystem::remove_all(TempDir());
}

Outcome Rejected(std::string rule, std::string field, std::string message) {
  Outcome o;
  o.status = Status::Invalid(std::move(rule), std::move(field), std::move(message));
  return o;
}

TEST(CallgraphTableCases, ReportsTheLeastUnknownIdAtItsEntrypointBeforeEdges) {
  // "beta" < "zeta" are both unknown; beta's references: to@2, from@3,
  // entrypoint@6 — an entrypoint reference is reported before edge ones.
  const std::string input =
      "{\"t\":\"node\",\"id\":\"n\"}\n"
      "{\"t\":\"edge\",\"from\":\"n\",\"to\":\"beta\"}\n"
      "{\"t\":\"edge\",\"from\":\"beta\",\"to\":\"n\"}\n"
      "{\"t\":\"edge\",\"from\":\"zeta\",\"to\":\"n\"}\n"
      "{\"t\":\"entrypoint\",\"id\":\"zeta\"}\n"
      "{\"t\":\"entrypoint\",\"id\":\"beta\"}\n";
  ExpectUnderEveryBudget(input, Rejected("entrypoint-node", "id", "line 6: unknown node 'beta'"));
}

TEST(CallgraphTableCases, ReportsAnEdgesFromBeforeAnEarlierTo) {
  const std::string input =
      "{\"t\":\"node\",\"id\":\"n\"}\n"
      "{\"t\":\"edge\",\"from\":\"n\",\"to\":\"beta\"}\n"
      "{\"t\":\"edge\",\"from\":\"beta\",\"to\":\"n\"}\n"
      "{\"t\":\"edge\",\"from\":\"beta\",\"to\":\"n\",\"kind\":\"x\"}\n";
  ExpectUnderEveryBudget(input, Rejected("edge-endpoint", "from", "line 3: unknown node 'beta'"));
  const std::string stella = R"({"schema":"stella.callgraph.v1","nodes":[{"id":"n"}],"edges":[
      {"sourceId":"n","targetId":"beta","kind":"static"},
      {"sourceId":"n","targetId":"alpha","kind":"static"},
      {"sourceId":"alpha","targetId":"beta","kind":"static"}]})";
  ExpectUnderEveryBudget(stella, Rejected("edge-endpoint", "edges[2].sourceId", "unknown node 'alpha'"));
}

TEST(CallgraphTableCases, ReportsAnUnknownIdBeforeALaterConflictingNode) {
  // Errors go by id: "a\u0000" (unknown) sorts before "a\u0001" (two contents).
  const std::string input =
      "{\"t\":\"node\",\"id\":\"a\\u0001\",\"line\":1}\n"
      "{\"t\":\"node\",\"id\":\"a\\u0001\",\"line\":2}\n"
      "{\"t\":\"node\",\"id\":\"a\"}\n"
      "{\"t\":\"edge\",\"from\":\"a\",\"to\":\"a\\u0000\"}\n";
  ExpectUnderEveryBudget(input,
                         Rejected("edge-endpoint", "to", std::string("line 4: unknown node 'a\0'", 25)));
  const std::string conflict =
      "{\"t\":\"node\",\"id\":\"a\\u0001\",\"line\":2}\n"
      "{\"t\":\"node\",\"id\":\"a\\u0001\",\"line\":1}\n"
      "{\"t\":\"node\",\"id\":\"a\\u0001\",\"line\":2}\n"
      "{\"t\":\"node\",\"id\":\"a\\u0002\"}\n"
      "{\"t\":\"edge\",\"from\":\"a\\u0001\",\"to\":\"a\\u0003\"}\n";
  // The two least contents decide: "line":1 (line 2) and "line":2 at its first place (line 1).
  ExpectUnderEveryBudget(
      conflict, Rejected("node-unique", "id",
                         "line 2: node 'a\x01' is given twice with different content (also at line 1)"));
}

TEST(CallgraphTableCases, OrdersIdsByUtf8BytesAndEscapesThem) {
  // Byte order: "a" < "a\0" < "a\0b" < "a\x01" < "a\"" < "a\\" < U+E000 < U+1F600
  // (UTF-16 would put U+1F600 first); member names go by UTF-16.
  const std::string input =
      "{\"t\":\"node\",\"id\":\"\xF0\x9F\x98\x80\"}\n"
      "{\"t\":\"node\",\"id\":\"\\uE000\",\"\\uE000\":1,\"\\ud83d\\ude00\":2,\"\\u00e9\":3}\n"
      "{\"t\":\"node\",\"id\":\"a\\\\\"}\n"
      "{\"t\":\"node\",\"id\":\"a\\\"\"}\n"
      "{\"t\":\"node\",\"id\":\"a\\u0001\"}\n"
      "{\"t\":\"node\",\"id\":\"a\\u0000b\"}\n"
      "{\"t\":\"node\",\"id\":\"a\\u0000\"}\n"
      "{\"t\":\"node\",\"id\":\"a\"}\n";
  ExpectUnderEveryBudget(input, Expect("{\"id\":\"a\",\"t\":\"node\"}\n"
                                       "{\"id\":\"a\\u0000\",\"t\":\"node\"}\n"
                                       "{\"id\":\"a\\u0000b\",\"t\":\"node\"}\n"
                                       "{\"id\":\"a\\u0001\",\"t\":\"node\"}\n"
                                       "{\"id\":\"a\\\"\",\"t\":\"node\"}\n"
                                       "{\"id\":\"a\\\\\",\"t\":\"node\"}\n"
                                       "{\"id\":\"\xEE\x80\x80\",\"t\":\"node\",\"\xC3\xA9\":3,"
                                       "\"\xF0\x9F\x98\x80\":2,\"\xEE\x80\x80\":1}\n"
                                       "{\"id\":\"\xF0\x9F\x98\x80\",\"t\":\"node\"}\n"));
}

TEST(CallgraphTableCases, KindEmptyAndKindAbsentAreDifferentEdgesThatSortTogether) {
  // (from, to, kind) with a missing kind as "", then the whole line: kind ""
  // ('k' < 't'), then the one with more members (',' < '}'), then no kind.
  const std::string input =
      "{\"t\":\"node\",\"id\":\"a\"}\n"
      "{\"t\":\"node\",\"id\":\"b\"}\n"
      "{\"t\":\"edge\",\"from\":\"a\",\"to\":\"b\",\"kind\":\"x\"}\n"
      "{\"t\":\"edge\",\"from\":\"a\",\"to\":\"b\"}\n"
      "{\"t\":\"edge\",\"from\":\"a\",\"to\":\"b\",\"weight\":0.5}\n"
      "{\"t\":\"edge\",\"from\":\"a\",\"to\":\"b\",\"kind\":\"\"}\n"
      "{\"to\":\"b\",\"from\":\"a\",\"t\":\"edge\"}\n"
      "{\"t\":\"edge\",\"from\":\"a\",\"to\":\"b\",\"kind\":\"\",\"reason\":null}\n"
      "{\"t\":\"edge\",\"from\":\"a\",\"to\":\"a\",\"kind\":\"z\"}\n";
  ExpectUnderEveryBudget(input, Expect("{\"id\":\"a\",\"t\":\"node\"}\n"
                                       "{\"id\":\"b\",\"t\":\"node\"}\n"
                                       "{\"from\":\"a\",\"kind\":\"z\",\"t\":\"edge\",\"to\":\"a\"}\n"
                                       "{\"from\":\"a\",\"kind\":\"\",\"t\":\"edge\",\"to\":\"b\"}\n"
                                       "{\"from\":\"a\",\"t\":\"edge\",\"to\":\"b\",\"weight\":0.5}\n"
                                       "{\"from\":\"a\",\"t\":\"edge\",\"to\":\"b\"}\n"
                                       "{\"from\":\"a\",\"kind\":\"x\",\"t\":\"edge\",\"to\":\"b\"}\n"));
}

TEST(CallgraphTableCases, ManyKindsAndVeryLongIdsGiveTheModelsResult) {
  // More than 2048 distinct ids and kinds (radix sorts of several passes),
  // and ids longer than what the table's arena packs into shared blocks.
  std::mt19937 rng(41);
  std::set<std::string> pool;
  while (pool.size() < 2500)
    pool.insert("pkg:golang/example.com/mod@v1.0.0#pkg.Func" + std::to_string(rng() % 100000));
  const std::vector<std::string> ids(pool.begin(), pool.end());
  const std::string long_ids[] = {std::string(300 << 10, 'x'), std::string(300 << 10, 'x') + "\0"s,
                                  "\xF0\x9F\x98\x80" + std::string(400 << 10, 'y')};
  Graph graph;
  for (const std::string& id : ids) graph.push_back(Valid(Kind::kNode, {{"id", id}}));
  std::set<std::string> kinds;
  for (int i = 0; i < 4000; ++i) {
    json edge = {{"from", ids[rng() % ids.size()]}, {"to", ids[rng() % ids.size()]}};
    edge["kind"] = "kind-" + std::to_string(rng() % 5000);
    kinds.insert(edge["kind"]);
    graph.push_back(Valid(Kind::kEdge, edge));
  }
  ASSERT_GT(kinds.size(), 2048u);
  for (const std::string& id : long_ids) {  // referred to at both ends
    graph.push_back(Valid(Kind::kNode, {{"id", id}}));
    graph.push_back(Valid(Kind::kEdge, {{"from", id}, {"to", ids[1]}}));
    graph.push_back(Valid(Kind::kEdge, {{"from", ids[1]}, {"to", id}, {"weight", 0.5}}));
  }
  std::shuffle(graph.begin(), graph.end(), rng);
  const Input input = RenderNdjson(graph, rng, {});
  const Outcome want = Model(graph, input);
  ASSERT_TRUE(want.status.ok()) << StatusText(want.status);
  const size_t mid = MoveBudget(TableMemoryAfterEachRecord(input), 0.5);
  ASSERT_GT(mid, 0u);
  EXPECT_EQ(CompareRuns(want, input,
                        {{"in memory", 0, 0}, {"moves mid-input", mid, 0}, {"512 KiB", 512 << 10, 0}}, 41),
            0);
  std::filesystem::remove_all(TempDir());
}

// --- NDJSON in batches ----------------------------------------------------------------

constexpr size_t kBatch = CallgraphLineBatches::kBatchBytes;

// A realistic graph of about `bytes` of NDJSON: symbol ids, nodes with a few
// members, three edges a node.
Graph LargeGraph(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  Graph graph;
  std::vector<std::string> ids;
  size_t size = 0;
  while (size < bytes) {
    std::string id = "pkg:maven/org.example/lib@1.2.3#com.example.Service" + std::to_string(ids.size() % 97) +
                     ".method" + std::to_string(ids.size()) + "(Ljava/lang/String;)V";
    json node = {{"id", id},
                 {"name", "method" + std::to_string(ids.size())},
                 {"kind", "method"},
                 {"line", rng() % 9000},
                 {"file", "src/main/java/com/example/Service.java"}};
    size += node.dump().size() + 12;
    graph.push_back(Valid(Kind::kNode, node));
    ids.push_back(id);
    for (int e = 0; e < 3 && ids.size() > 1; ++e) {
      json edge = {{"from", id}, {"to", ids[rng() % ids.size()]}, {"kind", e == 0 ? "call" : "virtual"}};
      if (e == 2) edge["weight"] = 0.5;
      size += edge.dump().size() + 12;
      graph.push_back(Valid(Kind::kEdge, edge));
    }
    if (rng() % 50 == 0) {
      graph.push_back(Valid(Kind::kEntrypoint, {{"id", id}, {"kind", "http"}}));
    }
  }
  std::shuffle(graph.begin(), graph.end(), rng);
  return graph;
}

// Index of the first line of each batch (lines without '\n').
std::vector<size_t> BatchStarts(const std::vector<std::string_view>& lines) {
  std::vector<size_t> starts = {0};
  size_t filled = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    filled += lines[i].size() + 1;
    if (filled >= kBatch && i + 1 < lines.size()) {
      starts.push_back(i + 1);
      filled = 0;
    }
  }
  return starts;
}

bool Blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// `text` with line `index` (0-based, not blank) replaced by `bad` padded to
// the same length (so that the batches stay as they were); keeps its '\r'.
std::string ReplaceLine(const std::string& text, size_t index, std::string bad) {
  const auto lines = LinesOf(text);
  const std::string_view old = lines.at(index);
  const bool cr = !old.empty() && old.back() == '\r';
  const size_t length = old.size() - (cr ? 1 : 0);
  if (bad.size() > length) {
    ADD_FAILURE() << "line " << index + 1 << " is shorter than " << Shown(bad);
    return text;
  }
  bad.insert(1, length - bad.size(), ' ');  // spaces after '{' keep it the same object
  if (cr) bad += '\r';
  const size_t at = static_cast<size_t>(old.data() - text.data());
  return text.substr(0, at) + bad + text.substr(at + old.size());
}

// `text` with line `index` made blank (spaces, a tab, and a '\r' at the end
// when `cr`), of the same length.
std::string BlankOut(const std::string& text, size_t index, bool cr) {
  const std::string_view old = LinesOf(text).at(index);
  std::string blank(old.size(), ' ');
  if (blank.size() > 2) blank[1] = '\t';
  if (cr && !blank.empty()) blank.back() = '\r';
  const size_t at = static_cast<size_t>(old.data() - text.data());
  return text.substr(0, at) + blank + text.substr(at + old.size());
}

constexpr const char* kRangeLine = "{\"t\":\"edge\",\"from\":\"x\",\"to\":\"y\",\"weight\":1.5}";
constexpr const char* kSyntaxLine = "{\"t\":\"node\",\"id\":}";

Status RangeError(size_t index) {
  return Status::Invalid("range", "weight",
                         "line " + std::to_string(index + 1) + ": must be between 0 and 1, got 1.5");
}

class CallgraphLineBatchesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const Graph graph = LargeGraph(size_t{3} << 20, 17);
    std::mt19937 rng(18);
    input_ = new Input(RenderNdjson(graph, rng, {7, 3, true}));
    want_ = new Outcome(Model(graph, *input_));
  }
  static void TearDownTestSuite() {
    delete input_;
    delete want_;
    std::filesystem::remove_all(TempDir());
  }

  // The first non-blank line at or after line `index`.
  static size_t NonBlankFrom(const std::vector<std::string_view>& lines, size_t index) {
    while (Blank(lines.at(index))) ++index;
    return index;
  }

  static Input* input_;
  static Outcome* want_;
};
Input* CallgraphLineBatchesTest::input_ = nullptr;
Outcome* CallgraphLineBatchesTest::want_ = nullptr;

TEST_F(CallgraphLineBatchesTest, ManyBatchesGiveTheModelsResult) {
  const auto lines = LinesOf(input_->text);
  const auto starts = BatchStarts(lines);
  ASSERT_GE(starts.size(), 8u) << "the input should span many batches";
  // Blank and CRLF lines sit next to batch boundaries.
  int blank_at_boundary = 0, crlf_at_boundary = 0;
  for (size_t s = 1; s < starts.size(); ++s) {
    for (size_t i = starts[s] - 3; i < std::min(lines.size(), starts[s] + 3); ++i) {
      blank_at_boundary += Blank(lines[i]);
      crlf_at_boundary += !lines[i].empty() && lines[i].back() == '\r';
    }
  }
  EXPECT_GE(blank_at_boundary, 2);
  EXPECT_GE(crlf_at_boundary, 4);
  ASSERT_TRUE(want_->status.ok()) << StatusText(want_->status);

  std::mt19937 chunks(3);
  EXPECT_EQ(Diff(*want_, Canonicalize(input_->text, {})), "");
  EXPECT_EQ(Diff(*want_, Canonicalize(input_->text, {}, &chunks, 200000)), "") << "random writes";
  const std::vector<size_t> memory = TableMemoryAfterEachRecord(*input_);
  const size_t mid = MoveBudget(memory, 0.5);
  ASSERT_GT(mid, 0u);
  EXPECT_EQ(Diff(*want_, Canonicalize(input_->text, Budget(mid))), "") << "table moves mid-input";
  EXPECT_EQ(Diff(*want_, Canonicalize(input_->text, Budget(256 << 10), &chunks, 70000)), "")
      << "256 KiB budget";
}

TEST_F(CallgraphLineBatchesTest, ByteByByteWritesGiveTheSameResult) {
  // Two batches, the second read by the worker thread, fed one byte a write.
  const Graph graph = LargeGraph(kBatch + kBatch / 2, 23);
  std::mt19937 rng(24);
  const Input input = RenderNdjson(graph, rng, {4, 2, false});
  ASSERT_EQ(BatchStarts(LinesOf(input.text)).size(), 2u);
  std::mt19937 chunks(5);
  const Outcome want = Model(graph, input);
  ASSERT_TRUE(want.status.ok()) << StatusText(want.status);
  EXPECT_EQ(Diff(want, Canonicalize(input.text, {}, &chunks, 1)), "");
  EXPECT_EQ(Diff(want, Canonicalize(input.text, Budget(64 << 10), &chunks, 1)), "");
}

TEST_F(CallgraphLineBatchesTest, ReportsABadLineInTheFirstBatch) {
  const auto lines = LinesOf(input_->text);
  const size_t bad = NonBlankFrom(lines, 1000);
  ASSERT_LT(bad, BatchStarts(lines)[1]);
  const std::string text = ReplaceLine(input_->text, bad, kRangeLine);
  EXPECT_EQ(StatusText(Canonicalize(text, {}).status), StatusText(RangeError(bad)));
  EXPECT_EQ(StatusText(Canonicalize(text, Budget(1 << 20)).status), StatusText(RangeError(bad)));
}

TEST_F(CallgraphLineBatchesTest, TheFirstErrorIsFinal) {
  // Once a batch's error reaches the caller, later writes and Finish give it
  // again, whatever else the rest of the input holds.
  const auto lines = LinesOf(input_->text);
  const size_t bad = NonBlankFrom(lines, 10);
  const size_t later = NonBlankFrom(lines, lines.size() - 100);
  const std::string text = ReplaceLine(ReplaceLine(input_->text, bad, kRangeLine), later, kSyntaxLine);
  CallgraphCanonicalizer canonicalizer({});
  Status first = Status::Ok();
  size_t at = 0;
  for (; at < text.size() && first.ok(); at += 100000) {
    first = canonicalizer.Write(std::string_view(text).substr(at, 100000));
  }
  ASSERT_EQ(StatusText(first), StatusText(RangeError(bad))) << "reported by a write, not at Finish";
  EXPECT_LT(at, text.size());
  EXPECT_EQ(StatusText(canonicalizer.Write(std::string_view(text).substr(at))), StatusText(first));
  EXPECT_EQ(StatusText(canonicalizer.Finish([](std::string_view) { return Status::Ok(); }).status()),
            StatusText(first));
}

TEST_F(CallgraphLineBatchesTest, AnInputLeftUnfinishedStopsItsWorker) {
  // Batches in flight when the canonicalizer goes away (a client that hung
  // up): the worker thread ends and nothing waits forever.
  for (size_t cut : {2 * kBatch, 5 * kBatch + 17, input_->text.size() - 1}) {
    CallgraphCanonicalizer canonicalizer({});
    ASSERT_TRUE(canonicalizer.Write(std::string_view(input_->text).substr(0, cut)).ok());
  }
}

TEST_F(CallgraphLineBatchesTest, ReportsABadLineInTheLastBatch) {
  const auto lines = LinesOf(input_->text);
  const size_t bad = NonBlankFrom(lines, lines.size() - 3);
  ASSERT_GE(bad, BatchStarts(lines).back());
  const std::string text = ReplaceLine(input_->text, bad, kRangeLine);
  EXPECT_EQ(StatusText(Canonicalize(text, {}).status), StatusText(RangeError(bad)));
  std::mt19937 chunks(9);
  EXPECT_EQ(StatusText(Canonicalize(text, {}, &chunks, 100000).status), StatusText(RangeError(bad)));
}

TEST_F(CallgraphLineBatchesTest, ReportsTheFirstOfBadLinesInDifferentBatches) {
  const auto lines = LinesOf(input_->text);
  const auto starts = BatchStarts(lines);
  ASSERT_GE(starts.size(), 6u);
  // The last line of batch 2 and the first of batch 4; then the first line of
  // batch 2 and the last of batch 5 (the worker may read the later one first).
  const std::pair<size_t, size_t> pairs[] = {{starts[2] - 1, starts[3]}, {starts[1], starts[5] - 1}};
  for (auto [first, second] : pairs) {
    while (Blank(lines[first])) --first;
    second = NonBlankFrom(lines, second);
    std::string text = ReplaceLine(input_->text, first, kRangeLine);
    text = ReplaceLine(text, second, kSyntaxLine);
    EXPECT_EQ(StatusText(Canonicalize(text, {}).status), StatusText(RangeError(first)))
        << first << ", " << second;
    std::mt19937 chunks(first);
    EXPECT_EQ(StatusText(Canonicalize(text, Budget(64 << 10), &chunks, 50000).status),
              StatusText(RangeError(first)));
    // And the other way round: the syntax error first.
    text = ReplaceLine(input_->text, first, kSyntaxLine);
    text = ReplaceLine(text, second, kRangeLine);
    const Status s = Canonicalize(text, {}).status;
    EXPECT_EQ(s.rule(), "json");
    EXPECT_EQ(s.message().rfind("line " + std::to_string(first + 1) + ": not valid JSON", 0), 0u)
        << s.message();
  }
}

TEST_F(CallgraphLineBatchesTest, BlankLinesAndCrlfAcrossBatchBoundariesKeepLineNumbers) {
  // Blank lines (some "\r" or " \t\r") end batch k and start batch k+1; the
  // first record line of batch k+1 still gets its own number.
  std::string text = input_->text;
  const auto starts = BatchStarts(LinesOf(text));
  const size_t boundary = starts[3];
  for (size_t i = boundary - 2; i < boundary + 2; ++i) text = BlankOut(text, i, i % 2 == 1);
  const auto lines = LinesOf(text);
  ASSERT_EQ(BatchStarts(lines), starts) << "blanking lines keeps their lengths";
  ASSERT_TRUE(Blank(lines[boundary - 1]) && Blank(lines[boundary]));
  const size_t bad = NonBlankFrom(lines, boundary);
  text = ReplaceLine(text, bad, kRangeLine);
  EXPECT_EQ(StatusText(Canonicalize(text, {}).status), StatusText(RangeError(bad)));
  std::mt19937 chunks(2);
  EXPECT_EQ(StatusText(Canonicalize(text, {}, &chunks, 3000).status), StatusText(RangeError(bad)));
}

TEST_F(CallgraphLineBatchesTest, LinesLongerThanABatchKeepOrderAndLineNumbers) {
  // A line longer than a whole batch makes a batch of its own.
  Graph graph;
  for (int i = 0; i < 2000; ++i) {
    graph.push_back(Valid(Kind::kNode, {{"id", "n" + std::to_string(i)}, {"name", std::string(100, 'n')}}));
    if (i == 700) {
      graph.push_back(Valid(Kind::kNode, {{"id", "long"}, {"name", std::string(kBatch + 100, 'a')}}));
    }
    if (i == 701) {
      graph.push_back(
          Valid(Kind::kEdge, {{"from", "long"}, {"to", "n1"}, {"reason", std::string(3 * kBatch, 'b')}}));
    }
  }
  std::mt19937 rng(30);
  const Input input = RenderNdjson(graph, rng, {9, 2, true});
  EXPECT_EQ(Diff(Model(graph, input), Canonicalize(input.text, {})), "");
  const auto lines = LinesOf(input.text);
  const size_t bad = static_cast<size_t>(input.position[graph.size() - 10] - 1);  // a node's line
  const std::string text = ReplaceLine(input.text, bad, kRangeLine);
  EXPECT_EQ(StatusText(Canonicalize(text, {}).status), StatusText(RangeError(bad)));
}

TEST_F(CallgraphLineBatchesTest, ReportsAnEarlierBadLineBeforeALaterOverlongOne) {
  // A bad line waiting in a batch that is not read yet is still the first
  // error of the input, before a later line that is too long.
  CallgraphCanonicalizerOptions options;
  options.max_line_bytes = 64;
  const std::string small = std::string("{\"t\":\"node\",\"id\":\"a\"}\n") + kSyntaxLine + "\n" +
                            "{\"t\":\"node\",\"id\":\"" + std::string(100, 'x') + "\"}\n";
  Status s = Canonicalize(small, options).status;
  EXPECT_EQ(s.rule(), "json") << StatusText(s);
  EXPECT_EQ(s.message().rfind("line 2: ", 0), 0u) << s.message();

  const auto lines = LinesOf(input_->text);
  const size_t bad = NonBlankFrom(lines, BatchStarts(lines)[2] + 10);
  std::string text = ReplaceLine(input_->text, bad, kRangeLine);
  const size_t long_at = static_cast<size_t>(lines[bad + 5].data() - input_->text.data());
  text.insert(long_at, "{\"t\":\"node\",\"id\":\"" + std::string(2 << 20, 'x') + "\"}\n");
  s = Canonicalize(text, {}).status;
  EXPECT_EQ(StatusText(s), StatusText(RangeError(bad)));
}

}  // namespace
}  // namespace signals
