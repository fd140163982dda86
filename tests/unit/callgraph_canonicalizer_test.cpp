// Callgraph canonical form (kernel/README.md#callgraphs): the three input formats, order
// independence, duplicate collapse, every validation rule, and the
// spill-to-disk sort giving the same bytes as the in-memory one.
#include "canon/callgraph_canonicalizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "base/canonical_json.hpp"
#include "base/external_sort.hpp"
#include "model/digest.hpp"

namespace signals {
namespace {

using nlohmann::json;

struct Canonical {
  Status status;
  CallgraphSummary summary;
  std::string bytes;
};

Canonical Canonicalize(std::string_view input, CallgraphCanonicalizerOptions options = {}, size_t chunk = 0) {
  Canonical out;
  CallgraphCanonicalizer canonicalizer(options);
  if (chunk == 0) chunk = input.size() + 1;
  for (size_t i = 0; i < input.size(); i += chunk) {
    Status s = canonicalizer.Write(input.substr(i, chunk));
    if (!s.ok()) {
      out.status = s;
      return out;
    }
  }
  auto summary = canonicalizer.Finish([&](std::string_view bytes) {
    out.bytes.append(bytes);
    return Status::Ok();
  });
  if (!summary.ok()) {
    out.status = summary.status();
  } else {
    out.summary = *summary;
  }
  return out;
}

json SmallStella() {
  return json::parse(R"({
    "schema": "stella.callgraph.v1",
    "nodes": [
      {"id": "b", "name": "B.run", "kind": "method", "file": "B.java", "line": 7, "visibility": "public"},
      {"id": "a", "name": "A.main", "kind": "method", "isEntrypointCandidate": true, "attributes": {"x": "1"}},
      {"id": "c", "name": "C.sink", "kind": "method", "namespace": null}
    ],
    "edges": [
      {"sourceId": "b", "targetId": "c", "kind": "static", "weight": 0.5, "isResolved": true},
      {"sourceId": "a", "targetId": "b", "kind": "static", "reason": "call"},
      {"sourceId": "a", "targetId": "b", "kind": "heuristic", "weight": 1.0}
    ],
    "entrypoints": [{"nodeId": "a", "kind": "main"}, {"nodeId": "a", "kind": "http", "route": "/x"}]
  })");
}

constexpr const char* kSmallStellaCanonical =
    R"({"attributes":{"x":"1"},"id":"a","isEntrypointCandidate":true,"kind":"method","name":"A.main","t":"node"})"
    "\n"
    R"({"file":"B.java","id":"b","kind":"method","line":7,"name":"B.run","t":"node","visibility":"public"})"
    "\n"
    R"({"id":"c","kind":"method","name":"C.sink","t":"node"})"
    "\n"
    R"({"from":"a","kind":"heuristic","t":"edge","to":"b","weight":1})"
    "\n"
    R"({"from":"a","kind":"static","reason":"call","t":"edge","to":"b"})"
    "\n"
    R"({"from":"b","isResolved":true,"kind":"static","t":"edge","to":"c","weight":0.5})"
    "\n"
    R"({"id":"a","kind":"http","route":"/x","t":"entrypoint"})"
    "\n"
    R"({"id":"a","kind":"main","t":"entrypoint"})"
    "\n";

// A generated stella graph: n nodes, a chain plus pseudo-random edges.
json GeneratedStella(int nodes, int edges, uint32_t seed) {
  std::mt19937 rng(seed);
  json g = {{"schema", "stella.callgraph.v1"},
            {"nodes", json::array()},
            {"edges", json::array()},
            {"entrypoints", json::array()}};
  for (int i = 0; i < nodes; ++i) {
    g["nodes"].push_back(
        {{"id", "n" + std::to_string(i)}, {"name", "fn_" + std::to_string(i)}, {"kind", "method"}});
  }
  const char* kinds[] = {"static", "heuristic", "runtime"};
  for (int i = 0; i < edges; ++i) {
    g["edges"].push_back({{"sourceId", "n" + std::to_string(rng() % nodes)},
                          {"targetId", "n" + std::to_string(rng() % nodes)},
                          {"kind", kinds[rng() % 3]}});
  }
  g["entrypoints"].push_back({{"nodeId", "n0"}, {"kind", "main"}});
  g["entrypoints"].push_back({{"nodeId", "n1"}, {"kind", "http"}, {"route", "/a"}});
  return g;
}

json Shuffled(json g, uint32_t seed) {
  std::mt19937 rng(seed);
  for (const char* member : {"nodes", "edges", "entrypoints", "roots"}) {
    if (g.contains(member)) std::shuffle(g[member].begin(), g[member].end(), rng);
  }
  return g;
}

// `canonical` NDJSON with its lines shuffled and their members reordered.
std::string ShuffledNdjson(const std::string& canonical, uint32_t seed) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < canonical.size()) {
    size_t nl = canonical.find('\n', start);
    json line = json::parse(canonical.substr(start, nl - start));
    // Members in reverse canonical order, with spaces: valid, not canonical.
    std::vector<std::string> members;
    for (auto it = line.begin(); it != line.end(); ++it)
      members.push_back(json(it.key()).dump() + ": " + it->dump());
    std::reverse(members.begin(), members.end());
    std::string reversed = "{";
    for (size_t i = 0; i < members.size(); ++i) reversed += (i ? ", " : "") + members[i];
    lines.push_back(reversed + "}");
    start = nl + 1;
  }
  std::mt19937 rng(seed);
  std::shuffle(lines.begin(), lines.end(), rng);
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

CallgraphCanonicalizerOptions TinyBudget(size_t bytes) {
  CallgraphCanonicalizerOptions o;
  o.sort_memory_bytes = bytes;
  o.temp_dir =
      (std::filesystem::temp_directory_path() / ("signals-cg-test-" + std::to_string(::getpid()))).string();
  return o;
}

// --- formats ------------------------------------------------------------------

TEST(CallgraphCanonicalizer, MapsStellaDocumentToSortedCanonicalLines) {
  Canonical c = Canonicalize(SmallStella().dump(2));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(c.bytes, kSmallStellaCanonical);
  EXPECT_EQ(c.summary.dialect, CallgraphDialect::kStella);
  EXPECT_EQ(c.summary.node_count, 3u);
  EXPECT_EQ(c.summary.edge_count, 3u);
  EXPECT_EQ(c.summary.entrypoint_count, 2u);
  EXPECT_EQ(c.summary.digest, DigestOf(kSmallStellaCanonical));
  EXPECT_EQ(c.summary.canonical_bytes, std::string(kSmallStellaCanonical).size());
  ASSERT_EQ(c.summary.entrypoints.size(), 2u);
  EXPECT_EQ(c.summary.entrypoints[0], (CallgraphEntrypoint{"a", "http"}));
  EXPECT_EQ(c.summary.entrypoints[1], (CallgraphEntrypoint{"a", "main"}));
}

TEST(CallgraphCanonicalizer, MapsRichgraphDocumentRootsToEntrypoints) {
  const char* doc = R"({"schema":"richgraph-v1",
    "nodes":[{"id":"s2","symbol_id":"sym:2","lang":"java","kind":"method","display":"B","purl":"pkg:maven/a/b@1"},
             {"id":"s1","symbol_id":"sym:1","lang":"java","kind":"method","display":"A"}],
    "edges":[{"from":"s1","to":"s2","kind":"call","confidence":0.9}],
    "roots":[{"id":"s1","phase":"runtime","source":"manifest"}]})";
  Canonical c = Canonicalize(doc);
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(c.summary.dialect, CallgraphDialect::kRichgraph);
  EXPECT_EQ(
      c.bytes,
      R"({"display":"A","id":"s1","kind":"method","lang":"java","symbol_id":"sym:1","t":"node"})"
      "\n"
      R"({"display":"B","id":"s2","kind":"method","lang":"java","purl":"pkg:maven/a/b@1","symbol_id":"sym:2","t":"node"})"
      "\n"
      R"({"confidence":0.9,"from":"s1","kind":"call","t":"edge","to":"s2"})"
      "\n"
      R"({"id":"s1","phase":"runtime","source":"manifest","t":"entrypoint"})"
      "\n");
  ASSERT_EQ(c.summary.entrypoints.size(), 1u);
  EXPECT_EQ(c.summary.entrypoints[0], (CallgraphEntrypoint{"s1", ""}));
}

TEST(CallgraphCanonicalizer, CanonicalNdjsonInAnyOrderGivesTheSameBytes) {
  const std::string ndjson = ShuffledNdjson(kSmallStellaCanonical, 7);
  Canonical c = Canonicalize(ndjson);
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(c.summary.dialect, CallgraphDialect::kCanonical);
  EXPECT_EQ(c.bytes, kSmallStellaCanonical);
}

TEST(CallgraphCanonicalizer, CanonicalOutputIsAFixedPoint) {
  Canonical c = Canonicalize(kSmallStellaCanonical);
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(c.bytes, kSmallStellaCanonical);
}

// Lines the quick canonical scan must not keep as they are: each comes out as
// the RFC 8785 form of its value (null members dropped), as computed by the
// document-level JCS serializer.
TEST(CallgraphCanonicalizer, NearlyCanonicalLinesGetTheirCanonicalForm) {
  const std::vector<std::string> lines = {
      R"({"id":"a","line":-0,"t":"node"})",
      R"({"id":"a","t":"node","weight":1.0})",
      R"({"id":"a","name":"\u0041","t":"node"})",
      R"({"t":"node","id":"a"})",
      R"({"id":"a", "t":"node"})",
      R"({"attributes":{"b":1,"a":2},"id":"a","t":"node"})",
      R"({"id":"a","n":1234567890123456789,"t":"node"})",
      R"({"a":null,"id":"a","t":"node"})",
      R"({"id":"a","n":1e2,"t":"node"})",
      R"({"id":"a","n":[2,1],"t":"node"})",
  };
  for (const std::string& line : lines) {
    json value = json::parse(line);
    value.erase("a");  // the one null member above; absent = null
    Canonical c = Canonicalize(line + "\n");
    ASSERT_TRUE(c.status.ok()) << line << ": " << c.status.ToString();
    EXPECT_EQ(c.bytes, CanonicalJson(value) + "\n") << line;
  }
  // Already canonical, including non-ASCII text, negative integers and booleans: kept.
  const std::string kept = "{\"id\":\"\xC3\xA9\",\"n\":-5,\"ok\":true,\"t\":\"node\"}\n";
  EXPECT_EQ(Canonicalize(kept).bytes, kept);
}

TEST(CallgraphCanonicalizerRules, RejectsInvalidUtf8AsUtf8) {
  Status line = Canonicalize("{\"id\":\"a\",\"t\":\"node\"}\n{\"id\":\"b\xFF\",\"t\":\"node\"}\n").status;
  EXPECT_EQ(line.rule(), "utf-8") << line.ToString();
  EXPECT_NE(line.message().find("line 2"), std::string::npos) << line.ToString();
  Status document = Canonicalize("{\"nodes\":[{\"id\":\"b\xFF\"}]}").status;
  EXPECT_EQ(document.rule(), "utf-8") << document.ToString();
}

TEST(CallgraphCanonicalizer, DetectsDialectByShapeWithoutSchemaMember) {
  json stella = SmallStella();
  stella.erase("schema");
  stella.erase("entrypoints");  // leaves the edges' sourceId as the clue
  Canonical a = Canonicalize(stella.dump());
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_EQ(a.summary.dialect, CallgraphDialect::kStella);

  json rich = {{"nodes", {{{"id", "x"}}, {{"id", "y"}}}}, {"edges", {{{"from", "x"}, {"to", "y"}}}}};
  Canonical b = Canonicalize(rich.dump());
  ASSERT_TRUE(b.status.ok()) << b.status.ToString();
  EXPECT_EQ(b.summary.dialect, CallgraphDialect::kRichgraph);

  json marked = {{"version", "richgraph-v1"}, {"nodes", {{{"id", "x"}}}}, {"entrypoints", json::array()}};
  Canonical m = Canonicalize(marked.dump());
  ASSERT_TRUE(m.status.ok()) << m.status.ToString();
  EXPECT_EQ(m.summary.dialect, CallgraphDialect::kRichgraph);  // the marker beats the shape
}

TEST(CallgraphCanonicalizer, ExplicitFormatOverridesDetection) {
  CallgraphCanonicalizerOptions ndjson;
  ndjson.format = CallgraphInputFormat::kNdjson;
  Canonical c = Canonicalize(SmallStella().dump(2), ndjson);
  EXPECT_EQ(c.status.code(), Code::kInvalid);  // a pretty document is not NDJSON

  CallgraphCanonicalizerOptions document;
  document.format = CallgraphInputFormat::kJson;
  Canonical d = Canonicalize(kSmallStellaCanonical, document);
  EXPECT_EQ(d.status.rule(), "json") << d.status.ToString();  // several objects are not one document
}

TEST(CallgraphCanonicalizer, ByteAtATimeInputGivesTheSameResult) {
  Canonical whole = Canonicalize(SmallStella().dump(2));
  Canonical bytes = Canonicalize(SmallStella().dump(2), {}, 1);
  ASSERT_TRUE(bytes.status.ok()) << bytes.status.ToString();
  EXPECT_EQ(bytes.bytes, whole.bytes);
  Canonical lines = Canonicalize(ShuffledNdjson(kSmallStellaCanonical, 3), {}, 1);
  ASSERT_TRUE(lines.status.ok()) << lines.status.ToString();
  EXPECT_EQ(lines.bytes, whole.bytes);
}

// --- order independence and duplicates ------------------------------------------

TEST(CallgraphCanonicalizer, ShufflingNodesEdgesAndEntrypointsGivesTheSameDigest) {
  const json g = GeneratedStella(200, 1000, 1);
  Canonical base = Canonicalize(g.dump());
  ASSERT_TRUE(base.status.ok()) << base.status.ToString();
  for (uint32_t seed = 2; seed < 6; ++seed) {
    Canonical shuffled = Canonicalize(Shuffled(g, seed).dump(seed % 2 ? 2 : -1));
    ASSERT_TRUE(shuffled.status.ok()) << shuffled.status.ToString();
    EXPECT_EQ(shuffled.summary.digest, base.summary.digest) << "seed " << seed;
    Canonical lines = Canonicalize(ShuffledNdjson(base.bytes, seed));
    ASSERT_TRUE(lines.status.ok()) << lines.status.ToString();
    EXPECT_EQ(lines.summary.digest, base.summary.digest) << "seed " << seed;
  }
}

TEST(CallgraphCanonicalizer, CollapsesExactDuplicates) {
  json g = SmallStella();
  g["nodes"].push_back(g["nodes"][0]);
  g["edges"].push_back(g["edges"][1]);
  g["edges"].push_back(g["edges"][1]);
  g["entrypoints"].push_back(g["entrypoints"][0]);
  Canonical c = Canonicalize(g.dump());
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(c.bytes, kSmallStellaCanonical);
  EXPECT_EQ(c.summary.node_count, 3u);
  EXPECT_EQ(c.summary.edge_count, 3u);
}

TEST(CallgraphCanonicalizer, NullMembersAreAbsentMembers) {
  json g = SmallStella();
  g["nodes"][2]["file"] = nullptr;
  Canonical c = Canonicalize(g.dump());
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(c.bytes, kSmallStellaCanonical);
}

// --- validation rules: each with its failing case (the passing case is the
// small graph above, which uses every rule's member validly) ---------------------

Status Reject(const json& g) { return Canonicalize(g.dump()).status; }

TEST(CallgraphCanonicalizerRules, RejectsSyntaxErrorsAsJson) {
  Status s = Canonicalize(R"({"nodes":[{"id":"a"},]})").status;
  EXPECT_EQ(s.rule(), "json") << s.ToString();
  s = Canonicalize(R"({"nodes":[{"id":"a"}], "extra": [tru]})").status;
  EXPECT_EQ(s.rule(), "json") << "ignored members are syntax-checked too: " << s.ToString();
  s = Canonicalize("{\"t\":\"node\",\"id\":\"a\"}\n{\"t\":\"node\",\"id\":}\n").status;
  EXPECT_EQ(s.rule(), "json");
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
}

TEST(CallgraphCanonicalizerRules, RejectsDuplicateMemberNames) {
  Status s = Canonicalize(R"({"nodes":[{"id":"a","id":"b"}]})").status;
  EXPECT_EQ(s.rule(), "json");
  EXPECT_EQ(s.field(), "nodes[0].id");
}

TEST(CallgraphCanonicalizerRules, RequiresNodeIds) {
  json g = SmallStella();
  g["nodes"][1].erase("id");
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "required");
  EXPECT_EQ(s.field(), "nodes[1].id");
  g["nodes"][1]["id"] = 5;
  EXPECT_EQ(Reject(g).rule(), "type");
  g["nodes"][1]["id"] = "";
  EXPECT_EQ(Reject(g).rule(), "required");
}

TEST(CallgraphCanonicalizerRules, RejectsOneIdWithTwoContents) {
  json g = SmallStella();
  json twin = g["nodes"][0];
  twin["line"] = 8;
  g["nodes"].push_back(twin);
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "node-unique") << s.ToString();
  EXPECT_EQ(s.field(), "nodes[3].id");
  EXPECT_NE(s.message().find("nodes[0]"), std::string::npos) << s.message();
}

TEST(CallgraphCanonicalizerRules, RejectsEdgeToUnknownNodeNamingTheInputField) {
  json g = SmallStella();
  g["edges"][2]["targetId"] = "x";
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "edge-endpoint");
  EXPECT_EQ(s.field(), "edges[2].targetId");
  EXPECT_NE(s.message().find("unknown node 'x'"), std::string::npos) << s.message();
  g = SmallStella();
  g["edges"][0]["sourceId"] = "zz";
  s = Reject(g);
  EXPECT_EQ(s.field(), "edges[0].sourceId");
}

TEST(CallgraphCanonicalizerRules, RejectsEdgeToUnknownNodeInNdjsonByLine) {
  std::string lines = "{\"t\":\"node\",\"id\":\"a\"}\n{\"t\":\"edge\",\"from\":\"a\",\"to\":\"b\"}\n";
  Status s = Canonicalize(lines).status;
  EXPECT_EQ(s.rule(), "edge-endpoint");
  EXPECT_EQ(s.field(), "to");
  EXPECT_NE(s.message().find("line 2: unknown node 'b'"), std::string::npos) << s.message();
}

TEST(CallgraphCanonicalizerRules, RejectsEntrypointOfUnknownNode) {
  json g = SmallStella();
  g["entrypoints"][1]["nodeId"] = "ghost";
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "entrypoint-node");
  EXPECT_EQ(s.field(), "entrypoints[1].nodeId");
}

TEST(CallgraphCanonicalizerRules, RejectsUnknownStellaEdgeKind) {
  json g = SmallStella();
  g["edges"][0]["kind"] = "dynamic";
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "edge-kind");
  EXPECT_EQ(s.field(), "edges[0].kind");
  g["edges"][0].erase("kind");
  EXPECT_EQ(Reject(g).rule(), "required");
}

TEST(CallgraphCanonicalizerRules, RejectsUnknownStellaEntrypointKind) {
  json g = SmallStella();
  g["entrypoints"][0]["kind"] = "cron";
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "entrypoint-kind");
  EXPECT_EQ(s.field(), "entrypoints[0].kind");
}

TEST(CallgraphCanonicalizerRules, RejectsWeightsAndConfidencesOutsideUnitInterval) {
  json g = SmallStella();
  g["edges"][0]["weight"] = 1.5;
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "range");
  EXPECT_EQ(s.field(), "edges[0].weight");
  g["edges"][0]["weight"] = -0.1;
  EXPECT_EQ(Reject(g).rule(), "range");
  g["edges"][0]["weight"] = "0.5";
  EXPECT_EQ(Reject(g).rule(), "type");
  g["edges"][0]["weight"] = 0;
  EXPECT_TRUE(Reject(g).ok());
  json rich = {{"schema", "richgraph-v1"},
               {"nodes", {{{"id", "x"}}}},
               {"edges", {{{"from", "x"}, {"to", "x"}, {"confidence", 2}}}}};
  s = Reject(rich);
  EXPECT_EQ(s.rule(), "range");
  EXPECT_EQ(s.field(), "edges[0].confidence");
}

TEST(CallgraphCanonicalizerRules, ChecksTypesOfKnownMembers) {
  json g = SmallStella();
  g["nodes"][0]["line"] = -1;
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "type");
  EXPECT_EQ(s.field(), "nodes[0].line");
  g = SmallStella();
  g["nodes"][0]["attributes"] = "x";
  EXPECT_EQ(Reject(g).field(), "nodes[0].attributes");
  g = SmallStella();
  g["edges"][0]["isResolved"] = "yes";
  EXPECT_EQ(Reject(g).field(), "edges[0].isResolved");
}

TEST(CallgraphCanonicalizerRules, RejectsUnknownLineTypeInNdjson) {
  Status s = Canonicalize("{\"t\":\"vertex\",\"id\":\"a\"}\n").status;
  EXPECT_EQ(s.rule(), "line-type");
  EXPECT_EQ(s.field(), "t");
}

TEST(CallgraphCanonicalizerRules, RejectsReservedAndConflictingMembers) {
  json g = SmallStella();
  g["nodes"][0]["t"] = "node";
  EXPECT_EQ(Reject(g).rule(), "reserved-member");
  g = SmallStella();
  g["edges"][0]["to"] = "c";
  Status s = Reject(g);
  EXPECT_EQ(s.rule(), "member-conflict");
  EXPECT_EQ(s.field(), "edges[0].to");
}

TEST(CallgraphCanonicalizerRules, RejectsEmptyGraphs) {
  EXPECT_EQ(Canonicalize("").status.rule(), "non-empty");
  EXPECT_EQ(Canonicalize(R"({"nodes":[]})").status.rule(), "non-empty");
  EXPECT_EQ(Canonicalize(R"({"edges":[]})").status.rule(), "format");
}

TEST(CallgraphCanonicalizerRules, BoundsDocumentsAndLines) {
  CallgraphCanonicalizerOptions o;
  o.max_document_bytes = 64;
  Status s = Canonicalize(SmallStella().dump(2), o).status;
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(s.rule(), "max-document-bytes");
  o = {};
  o.format = CallgraphInputFormat::kNdjson;
  o.max_line_bytes = 32;
  s = Canonicalize("{\"t\":\"node\",\"id\":\"a-rather-long-identifier\"}\n", o).status;
  EXPECT_EQ(s.rule(), "max-line-bytes");
}

// A value of `levels` nested arrays around a string: [[["x"]]].
std::string Nested(size_t levels) { return std::string(levels, '[') + "\"x\"" + std::string(levels, ']'); }

TEST(CallgraphCanonicalizerRules, RefusesANodeAttributeNested100000DeepByLineInNdjson) {
  const std::string input =
      "{\"t\":\"node\",\"id\":\"a\"}\n{\"t\":\"node\",\"id\":\"b\",\"attributes\":{\"deep\":" +
      Nested(100000) + "}}\n";
  Status s = Canonicalize(input).status;
  EXPECT_EQ(s.code(), Code::kInvalid) << s.ToString();
  EXPECT_EQ(s.rule(), "max-depth") << s.ToString();
  EXPECT_EQ(s.field(), "attributes") << s.ToString();
  EXPECT_EQ(s.message().rfind("line 2:", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("kernel.max_json_depth"), std::string::npos) << s.message();
}

TEST(CallgraphCanonicalizerRules, RefusesANodeAttributeNested100000DeepByLineInADocument) {
  const std::string input =
      "{\"nodes\": [\n{\"id\": \"a\"},\n{\"id\": \"b\", \"attributes\": {\"deep\": " + Nested(100000) +
      "}}]}";
  Status s = Canonicalize(input).status;
  EXPECT_EQ(s.rule(), "max-depth") << s.ToString();
  EXPECT_EQ(s.field(), "nodes[1].attributes") << s.ToString();
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
  // Ignored top-level members are walked too, and bounded the same way.
  s = Canonicalize("{\"nodes\": [{\"id\": \"a\"}], \"extra\": " + Nested(100000) + "}").status;
  EXPECT_EQ(s.rule(), "max-depth") << s.ToString();
  EXPECT_EQ(s.field(), "extra") << s.ToString();
}

TEST(CallgraphCanonicalizerRules, AcceptsNestingUpToTheConfiguredDepthAndNoDeeper) {
  CallgraphCanonicalizerOptions o;
  o.limits.max_depth = 10;
  // Root object 1, nodes 2, the node 3, attributes 4, then six arrays: 10.
  const std::string fits = "{\"nodes\":[{\"id\":\"a\",\"attributes\":{\"k\":" + Nested(6) + "}}]}";
  Canonical ok = Canonicalize(fits, o);
  EXPECT_TRUE(ok.status.ok()) << ok.status.ToString();
  const std::string deeper = "{\"nodes\":[{\"id\":\"a\",\"attributes\":{\"k\":" + Nested(7) + "}}]}";
  EXPECT_EQ(Canonicalize(deeper, o).status.rule(), "max-depth");
  // In NDJSON the line's object is level 1: attributes 2, six arrays: 8.
  o.format = CallgraphInputFormat::kNdjson;
  EXPECT_TRUE(Canonicalize("{\"t\":\"node\",\"id\":\"a\",\"attributes\":{\"k\":" + Nested(8) + "}}\n", o)
                  .status.ok());
  EXPECT_EQ(Canonicalize("{\"t\":\"node\",\"id\":\"a\",\"attributes\":{\"k\":" + Nested(9) + "}}\n", o)
                .status.rule(),
            "max-depth");
}

TEST(CallgraphCanonicalizerRules, LimitsIdsTo1024BytesAndNamesTo4096AsIngestConfiguresThem) {
  CallgraphCanonicalizerOptions o;
  o.limits.max_id_bytes = 1024;
  o.limits.max_string_bytes = 4096;
  auto Reject = [&](const json& g) { return Canonicalize(g.dump(), o).status; };
  const std::string id1024(1024, 'i');
  const std::string name4096(4096, 'n');
  json ok = {{"nodes", {{{"id", id1024}, {"name", name4096}}, {{"id", "b"}}}},
             {"edges", {{{"from", id1024}, {"to", "b"}}}}};
  Canonical accepted = Canonicalize(ok.dump(), o);
  EXPECT_TRUE(accepted.status.ok()) << accepted.status.ToString();

  json long_id = {{"nodes", {{{"id", id1024 + "i"}}}}};
  Status s = Reject(long_id);
  EXPECT_EQ(s.rule(), "id-length") << s.ToString();
  EXPECT_EQ(s.field(), "nodes[0].id") << s.ToString();

  json long_target = {{"nodes", {{{"id", "a"}}}},
                      {"edges", {{{"sourceId", "a"}, {"targetId", id1024 + "i"}, {"kind", "static"}}}}};
  s = Reject(long_target);
  EXPECT_EQ(s.rule(), "id-length") << s.ToString();
  EXPECT_EQ(s.field(), "edges[0].targetId") << s.ToString();

  json long_name = {{"nodes", {{{"id", "a"}, {"name", name4096 + "n"}}}}};
  s = Reject(long_name);
  EXPECT_EQ(s.rule(), "string-length") << s.ToString();
  EXPECT_EQ(s.field(), "nodes[0].name") << s.ToString();

  // NDJSON, canonical lines included (the fast path reads them without a parser).
  const std::string long_line = "{\"id\":\"" + std::string(2000, 'x') + "\",\"t\":\"node\"}\n";
  s = Canonicalize(long_line, o).status;
  EXPECT_EQ(s.rule(), "id-length") << s.ToString();
  EXPECT_EQ(s.message().rfind("line 1:", 0), 0u) << s.message();

  // Without limits (how a stored graph is re-read), the same line is fine.
  EXPECT_TRUE(Canonicalize(long_line).status.ok());
}

// --- bounded memory ------------------------------------------------------------

TEST(CallgraphCanonicalizer, SpillingToDiskGivesIdenticalOutput) {
  const json g = GeneratedStella(300, 3000, 11);
  Canonical memory = Canonicalize(g.dump());
  ASSERT_TRUE(memory.status.ok()) << memory.status.ToString();
  EXPECT_EQ(memory.summary.spilled_runs, 0u);

  CallgraphCanonicalizerOptions tiny = TinyBudget(6 << 10);
  Canonical spilled = Canonicalize(g.dump(), tiny);
  ASSERT_TRUE(spilled.status.ok()) << spilled.status.ToString();
  EXPECT_GT(spilled.summary.spilled_runs, ExternalSorter::kMaxFanIn) << "expected a multi-round merge";
  EXPECT_EQ(spilled.bytes, memory.bytes);
  EXPECT_EQ(spilled.summary.digest, memory.summary.digest);

  Canonical lines = Canonicalize(ShuffledNdjson(memory.bytes, 5), tiny);
  ASSERT_TRUE(lines.status.ok()) << lines.status.ToString();
  EXPECT_EQ(lines.bytes, memory.bytes);

  // Run files are removed with the canonicalizer.
  EXPECT_TRUE(std::filesystem::is_empty(tiny.temp_dir));
  std::filesystem::remove_all(tiny.temp_dir);
}

TEST(CallgraphCanonicalizer, SpilledValidationErrorsMatchInMemoryOnes) {
  json g = GeneratedStella(100, 500, 3);
  g["edges"][250]["targetId"] = "nowhere";
  Status memory = Canonicalize(g.dump()).status;
  CallgraphCanonicalizerOptions tiny = TinyBudget(4 << 10);
  Status spilled = Canonicalize(g.dump(), tiny).status;
  EXPECT_EQ(memory.field(), "edges[250].targetId");
  EXPECT_EQ(spilled.field(), memory.field());
  EXPECT_EQ(spilled.message(), memory.message());
  std::filesystem::remove_all(tiny.temp_dir);
}

TEST(ExternalSorter, SortsByKeyThenValueThenPosition) {
  ExternalSorter sorter(1024, (std::filesystem::temp_directory_path() / "signals-sort-test").string());
  std::mt19937 rng(1);
  std::vector<std::tuple<std::string, std::string, uint64_t>> expected;
  for (int i = 0; i < 2000; ++i) {
    std::string key(1 + rng() % 3, static_cast<char>('a' + rng() % 3));
    key += '\0';  // keys may hold any byte
    std::string value = std::to_string(rng() % 5);
    uint64_t position = rng() % 7;
    expected.emplace_back(key, value, position);
    ASSERT_TRUE(sorter.Add(key, value, position).ok());
  }
  ASSERT_TRUE(sorter.Finish().ok());
  EXPECT_GT(sorter.spilled_runs(), 0u);
  std::sort(expected.begin(), expected.end());
  SortRecord r;
  for (const auto& [key, value, position] : expected) {
    auto more = sorter.Next(&r);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_EQ(r.key, key);
    EXPECT_EQ(r.value, value);
    EXPECT_EQ(r.position, position);
  }
  auto end = sorter.Next(&r);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
}

}  // namespace
}  // namespace signals
