// Callgraph input formats (kernel/README.md#callgraphs): readers that turn a stella.callgraph.v1
// document, a richgraph-v1 document or canonical NDJSON lines into canonical-
// form records ({"t":"node"|"edge"|"entrypoint", …} as RFC 8785 lines, written
// straight from the parser's values), each validated, and hand them one by one
// to a CallgraphRecordSink. Sorting,
// deduplication and the cross-record checks (unique node ids, endpoints exist)
// are the canonicalizer's (callgraph_canonicalizer.hpp).
//
// Mapping to canonical records (every format):
//   * members whose value is null are dropped (null = absent), so {"file":null}
//     and {} are the same record; nested values are kept as they are;
//   * members not named below are kept unchanged: nodes carry the graph's
//     payload, and a scanner's extra edge/entrypoint members are evidence too;
//   * "t" is reserved: an input object of a JSON document that has it is
//     rejected (rule "reserved-member").
//   stella.callgraph.v1
//     nodes[]       → node: id, name, kind, namespace, file, line, symbolKey,
//                     visibility, isEntrypointCandidate, attributes (as given)
//     edges[]       → edge: sourceId → from, targetId → to; kind, reason,
//                     weight, isResolved
//     entrypoints[] → entrypoint: nodeId → id; kind, route
//   richgraph-v1
//     nodes[]       → node: members as given (id, symbol_id, lang, kind,
//                     display, purl, …)
//     edges[]       → edge: from, to, kind, confidence
//     roots[]       → entrypoint: id, phase, source
//   canonical NDJSON: each line is already a canonical-form record.
//
// Validation (Status::Invalid; field = the input's name for the member,
// "edges[12].targetId" in documents; in NDJSON the member name, with
// "line N: " in the message):
//   "json" / "utf-8"   syntax, duplicate member names, trailing content
//   "format"           top level not an object, "nodes" missing
//   "type"             a member of the wrong JSON type; line ≥ 0 integer
//   "required"         id / from / to missing or empty; stella edge and
//                      entrypoint kind missing
//   "edge-kind"        stella edge kind not static|heuristic|runtime
//   "entrypoint-kind"  stella entrypoint kind not http|grpc|cli|job|event|timer|main
//   "range"            weight or confidence outside [0,1]
//   "line-type"        NDJSON "t" not node|edge|entrypoint
//   "reserved-member", "member-conflict" (sourceId and from both given)
//   "id-length"        id, from or to (sourceId, targetId, nodeId) longer
//                      than kernel.callgraph_max_id_bytes (1024 bytes, as a
//                      runtime fact's symbolId)
//   "string-length"    a typed string member below (name, kind, namespace,
//                      file, …) longer than kernel.callgraph_max_string_bytes
//                      (4096 bytes)
//   "max-depth"        a value nested deeper than kernel.max_json_depth
//                      (counted from the document's root object, or from the
//                      NDJSON line's object), refused before it is walked;
//                      the message names the line
// Typed members (checked in every format when present): name, kind,
// namespace, file, symbolKey, visibility, symbol_id, lang, display, purl,
// reason, route, phase, source: string; line: integer ≥ 0;
// isEntrypointCandidate, isResolved: boolean; attributes: object; weight,
// confidence: number in [0,1].
//
// Not thread-safe: one reader per ingest.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_limits.hpp"
#include "base/status.hpp"

namespace signals {

enum class CallgraphDialect { kStella, kRichgraph, kCanonical };

// Limits a reader applies to each record. Ingest sets them from the kernel
// configuration; the length limits default to none here, so that a graph
// stored before they existed still re-reads (verify --deep) as it was.
struct CallgraphReadLimits {
  size_t max_depth = kDefaultMaxJsonDepth;  // kernel.max_json_depth
  size_t max_id_bytes = 0;                  // kernel.callgraph_max_id_bytes; 0: unlimited
  size_t max_string_bytes = 0;              // kernel.callgraph_max_string_bytes; 0: unlimited
};

// "stella.callgraph.v1", "richgraph-v1", "canonical-ndjson".
const char* CallgraphDialectName(CallgraphDialect dialect);

enum class CallgraphRecordKind { kNode, kEdge, kEntrypoint };

// Where a record came from: its index in the document's array, or its 1-based
// NDJSON line number. Names fields in errors.
struct CallgraphRecordOrigin {
  CallgraphDialect dialect = CallgraphDialect::kCanonical;
  CallgraphRecordKind kind = CallgraphRecordKind::kNode;
  uint64_t position = 0;
};

// The input's name for canonical member `member` of the record at `origin`:
// "edges[12].targetId" (stella), "roots[3].id" (richgraph), "to" (NDJSON).
std::string CallgraphFieldName(const CallgraphRecordOrigin& origin, std::string_view member);

// Status::Invalid(rule, CallgraphFieldName(origin, member), message), with
// "line N: " before the message for NDJSON records.
Status CallgraphRecordError(const CallgraphRecordOrigin& origin, std::string_view member, std::string rule,
                            const std::string& message);

// One validated canonical-form record. The views point into the reader's
// buffers and stay valid until the reader's next record.
struct CallgraphRecord {
  CallgraphRecordKind kind = CallgraphRecordKind::kNode;
  // The record's RFC 8785 JSON, without '\n'; empty for a bare edge, whose
  // line AppendBareEdgeLine writes from its strings.
  std::string_view line;
  std::string_view id;           // node, entrypoint
  std::string_view from;         // edge
  std::string_view to;           // edge
  std::string_view kind_member;  // the "kind" member's value, when has_kind
  bool has_kind = false;
  // An edge of nothing but from, to, t and (optionally) a string kind: its
  // line is {"from":F[,"kind":K],"t":"edge","to":T}: the reader does not
  // write it, and a store keeps the strings only.
  bool bare_edge = false;
};

// Appends the line of a bare edge (see CallgraphRecord::bare_edge); `kind`
// null: the edge has none.
void AppendBareEdgeLine(std::string_view from, std::string_view to, const std::string_view* kind,
                        std::string& out);
// The same from the JSON text of the strings (AppendJcsString's output).
void AppendBareEdgeLineFromJson(std::string_view from, std::string_view to, const std::string_view* kind,
                                std::string& out);

class CallgraphRecordSink {
 public:
  virtual ~CallgraphRecordSink() = default;
  // Receives one validated canonical-form record. A failure stops the reader.
  virtual Status Add(const CallgraphRecord& record, const CallgraphRecordOrigin& origin) = 0;
};

// Builds one canonical record from a parsed JSON object: collects its
// members as canonical text, maps a document's names (see above), applies
// the per-record rules and writes the line. Buffers are reused from record
// to record, so a stream of records allocates nothing once they are warm.
class CallgraphRecordBuilder {
 public:
  CallgraphRecordBuilder();
  ~CallgraphRecordBuilder();
  // A record of a stella/richgraph document's array (origin.kind given).
  Status BuildFromDocument(simdjson::ondemand::object object, const CallgraphRecordOrigin& origin,
                           CallgraphRecord* record);
  // A canonical NDJSON line (origin.kind taken from "t"). `doc` is the line.
  Status BuildFromLine(simdjson::ondemand::document& doc, CallgraphRecordOrigin* origin,
                       CallgraphRecord* record);

  // True when `line` is already in canonical form as far as a quick scan can
  // tell (see the definition); its members are then read, and
  // BuildFromCanonicalLine finishes the record. False: use BuildFromLine.
  bool ScanCanonical(std::string_view line);
  Status BuildFromCanonicalLine(std::string_view line, CallgraphRecordOrigin* origin,
                                CallgraphRecord* record);

  // Nested values deeper than limits.max_depth (counted from the document or
  // line) are refused, rule "max-depth"; long ids and strings as above.
  void set_limits(const CallgraphReadLimits& limits) { limits_ = limits; }
  // Where the last "max-depth" refusal was found in the parsed text, or null.
  const char* problem_location() const { return problem_at_; }

  // A document's records are objects in an array in the root object.
  static constexpr size_t kDocumentRecordDepth = 3;

 private:
  struct Member;
  void Collect(simdjson::ondemand::object object, size_t depth);
  void IndexMembers();
  Member* Find(int known);  // a live member by its number (KnownIndex), or null
  Member* FindByName(std::string_view name);
  Status Validate(const CallgraphRecordOrigin& origin);
  Status CheckLengths(const CallgraphRecordOrigin& origin);
  Status FinishLine(CallgraphRecordOrigin* origin, std::string_view canonical_input, CallgraphRecord* record);
  // Writes the record (and its line, unless it is bare or `canonical_input`
  // already is the line). order_ lists the members by name, unless `resort`.
  Status Finish(const CallgraphRecordOrigin& origin, bool resort, std::string_view canonical_input,
                CallgraphRecord* record);

  std::vector<Member> members_;
  size_t count_ = 0;
  std::vector<uint32_t> order_;
  std::array<int, 24> at_{};  // live member index by KnownIndex, -1 if absent
  std::string line_;
  CallgraphReadLimits limits_;
  const char* problem_at_ = nullptr;
};

// Detects the dialect of a JSON document (rule, in order):
//   1. the first of the top-level members "schema", "$schema", "version" whose
//      string value contains "stella.callgraph.v1" or "richgraph-v1";
//   2. else by shape: a "roots" member → richgraph-v1; an "entrypoints"
//      member → stella.callgraph.v1; the first edge having "sourceId" or
//      "targetId" → stella, "from" or "to" → richgraph;
//   3. else stella.callgraph.v1 (a graph of nodes only maps the same way).
// then reads "nodes", "edges" and "entrypoints" (stella) / "roots" (richgraph)
// in document order; other top-level members are syntax-checked and ignored.
// The parser's tape is the only structure built besides one record at a time.
class CallgraphDocumentReader {
 public:
  explicit CallgraphDocumentReader(const CallgraphReadLimits& limits = {});
  // REQUIRES: `padded` holds the document followed by at least
  // simdjson::SIMDJSON_PADDING bytes; `size` is the document's length.
  Result<CallgraphDialect> Read(const std::string& padded, size_t size, CallgraphRecordSink& sink);

 private:
  Status ReadArray(simdjson::ondemand::value value, CallgraphDialect dialect, CallgraphRecordKind kind,
                   CallgraphRecordSink& sink);
  // "line N" of `at` in the document being read.
  std::string LineContext(const char* at) const;

  simdjson::ondemand::parser parser_;
  CallgraphRecordBuilder builder_;
  CallgraphReadLimits limits_;
  const std::string* document_ = nullptr;
};

// Reads canonical NDJSON one line at a time.
class CallgraphLineReader {
 public:
  explicit CallgraphLineReader(size_t max_line_bytes, const CallgraphReadLimits& limits = {});
  // Validates one line (without its '\n'; a trailing '\r' is allowed) and
  // passes its record to `sink`. Blank lines are skipped.
  Status Read(std::string_view line, uint64_t line_number, CallgraphRecordSink& sink);

  // True when `line` is a JSON object with a string member "t" (how format
  // auto-detection recognises canonical NDJSON). Validates nothing else.
  bool LooksLikeRecordLine(std::string_view line);

 private:
  simdjson::ondemand::parser parser_;
  std::string padded_;
  CallgraphRecordBuilder builder_;
};

}  // namespace signals
