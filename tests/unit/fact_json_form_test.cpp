// The JSON form of runtime facts, {"callgraphId": "...", "events": [...]},
// through the service API as a transport calls it: it streams (each event is
// stored as soon as it is complete, memory bounded by one event), stores what
// the NDJSON form of the same events would store, and refuses duplicate
// member names, deep nesting and oversized events, naming where.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/canonical_json.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "ingest/fact_ingest.hpp"
#include "ingest/json_events_reader.hpp"
#include "model/cas_paths.hpp"
#include "model/digest.hpp"
#include "service/service_api.hpp"
#include "test_kernel.hpp"

namespace signals {
namespace {

using json = nlohmann::json;

class FactJsonFormTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Open()); }

  void Open(const std::map<std::string, std::string>& overrides = {}) {
    ASSERT_NO_FATAL_FAILURE(kernel_.Open(overrides));
    if (!callgraph_id_.empty()) return;
    ASSERT_NO_FATAL_FAILURE(
        testing::StoreSmallCallgraph(*kernel_, &callgraph_id_, nullptr, R"({"nodes":[{"id":"a"}]})"));
  }

  // Posts `body` in chunks of `chunk` bytes as the JSON form; `query_graph`
  // is the callgraph_id query parameter ("" for none).
  Result<json> Post(const std::string& body, size_t chunk = 1 << 16, const std::string& query_graph = "") {
    json request = {
        {"kind", "runtime-facts"}, {"tenant", "global"}, {"format", "json"}, {"source", "unit-test"}};
    if (!query_graph.empty()) request["callgraphId"] = query_graph;
    auto session = kernel_->service().BeginIngest(request, Principal{"signals-service", {}, true});
    if (!session.ok()) return session.status();
    for (size_t at = 0; at < body.size(); at += chunk) {
      Status s = (*session)->Write(std::string_view(body).substr(at, chunk));
      if (!s.ok()) return s;
    }
    bool created = false;
    return (*session)->Finish(&created);
  }

  std::string Stored(const json& record) {
    return testing::ReadStoredBlob(*kernel_,
                                   cas_paths::FactBlob(record.at("tenantId"), record.at("batchId")));
  }

  // What the pipeline used to store: nlohmann's parse of the whole document,
  // each event canonicalised and written as one line.
  static std::string ExpectedLines(const std::string& body) {
    std::string out;
    const json document = json::parse(body);
    for (const auto& event : document.at("events")) out += CanonicalJson(event) + "\n";
    return out;
  }

  size_t BatchRows() {
    size_t rows = 0;
    EXPECT_TRUE(kernel_->index().Query("batches", "{}", [&](const std::string&) { ++rows; }).ok());
    return rows;
  }

  static void ExpectRefused(const Result<json>& result, const std::string& rule, const std::string& field) {
    ASSERT_FALSE(result.ok()) << result->dump();
    EXPECT_EQ(result.status().code(), Code::kInvalid) << result.status().ToString();
    EXPECT_EQ(result.status().rule(), rule) << result.status().ToString();
    EXPECT_EQ(result.status().field(), field) << result.status().ToString();
  }

  testing::TestKernel kernel_;
  std::string callgraph_id_;
};

TEST_F(FactJsonFormTest, StoresTheSameCanonicalLinesAsParsingTheWholeDocumentDidInAnyChunking) {
  const std::string body =
      "\xEF\xBB\xBF { \"note\" : {\"any\": [1, 2.50, \"x\"]},\n  \"callgraphId\" : \"" + callgraph_id_ +
      "\" ,\r\n \"events\" : [ {\"symbolId\":\"caf\\u00e9::m\", \"hitCount\": 3},"
      "{\"symbol_id\":\"c\",\"fact_type\":\"runtime.module.loaded\",\"metadata\":{\"b\":\"2\",\"a\":"
      "\"\\\"1\\\"\"}}\n,"
      " {\"symbolId\":\"e\\u20ac\",\"observedAt\":\"2025-01-02T03:04:05Z\",\"processId\":1E2}  ] }\n";
  const std::string expected = ExpectedLines(body.substr(3));
  for (size_t chunk : {1, 2, 7, 64, 1 << 16}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    auto record = Post(body, chunk);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->at("factCount"), 3);
    EXPECT_EQ(record->at("provenanceHash"), DigestOf(expected));
    EXPECT_EQ(Stored(*record), expected);
  }
}

TEST_F(FactJsonFormTest, AcceptsCallgraphIdAfterTheEvents) {
  const std::string body =
      R"({"events":[{"symbolId":"a"},{"symbolId":"b"}],"callgraphId":")" + callgraph_id_ + "\"}";
  auto record = Post(body, 5);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->at("callgraphId"), callgraph_id_);
  EXPECT_EQ(record->at("factCount"), 2);
  EXPECT_EQ(Stored(*record), ExpectedLines(body));
}

TEST_F(FactJsonFormTest, TakesTheCallgraphFromTheQueryWhenTheBodyHasNone) {
  auto record = Post(R"({"events":[{"symbolId":"a"}]})", 1 << 16, callgraph_id_);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->at("callgraphId"), callgraph_id_);
}

TEST_F(FactJsonFormTest, RefusesABodyCallgraphIdThatDiffersFromTheQuery) {
  const std::string body = R"({"events":[{"symbolId":"a"}],"callgraphId":"01ARZ3NDEKTSV4RRFFQ69G5FAV"})";
  ExpectRefused(Post(body, 1 << 16, callgraph_id_), "callgraph-id", "callgraphId");
  EXPECT_EQ(BatchRows(), 0u);
}

TEST_F(FactJsonFormTest, RefusesACallgraphIdNamedAfterTheEventsThatNamesNoGraph) {
  ExpectRefused(Post(R"({"events":[{"symbolId":"a"}],"callgraphId":"01ARZ3NDEKTSV4RRFFQ69G5FAV"})"),
                "callgraph-exists", "callgraphId");
  ExpectRefused(Post(R"({"events":[{"symbolId":"a"}]})"), "required", "callgraphId");
  EXPECT_EQ(BatchRows(), 0u);
}

TEST_F(FactJsonFormTest, KeepsTheAnswersForMalformedDocuments) {
  const std::string graph = "\"" + callgraph_id_ + "\"";
  ExpectRefused(Post(""), "json", "body");
  ExpectRefused(Post("[1]"), "json", "body");
  ExpectRefused(Post("{\"callgraphId\":" + graph + ",\"events\":{}}"), "required", "events");
  ExpectRefused(Post("{\"callgraphId\":" + graph + "}"), "required", "events");
  ExpectRefused(Post("{\"callgraphId\":5,\"events\":[]}"), "type", "callgraphId");
  ExpectRefused(Post("{\"callgraphId\":" + graph + ",\"events\":[]}"), "non-empty", "body");
  ExpectRefused(Post("{\"callgraphId\":" + graph + ",\"events\":[{\"symbolId\":\"a\"}"), "json", "body");
  ExpectRefused(Post("{\"callgraphId\":" + graph + ",\"events\":[{\"symbolId\":\"a\"}]} x"), "json", "body");
  ExpectRefused(Post("{\"callgraphId\":" + graph + ",\"events\":[{\"symbolId\":\"a\",}]}"), "json",
                "events[0]");
  ExpectRefused(Post("{\"callgraphId\":" + graph + ",\"events\":[{\"symbolId\":\"a\"},]}"), "json", "body");
  EXPECT_EQ(BatchRows(), 0u);
}

TEST_F(FactJsonFormTest, NamesTheEventWhoseFactIsInvalid) {
  const std::string body =
      "{\"callgraphId\":\"" + callgraph_id_ +
      "\",\"events\":[{\"symbolId\":\"a\"},{\"symbolId\":\"b\"},{\"symbolId\":\"c\",\"hitCount\":0}]}";
  auto result = Post(body);
  ExpectRefused(result, "hitCount", "hitCount");
  EXPECT_EQ(result.status().message().rfind("events[2]: ", 0), 0u) << result.status().message();
  EXPECT_EQ(BatchRows(), 0u);
}

TEST_F(FactJsonFormTest, RefusesDuplicateMemberNamesAtEveryLevel) {
  const std::string graph = "\"" + callgraph_id_ + "\"";
  ExpectRefused(
      Post("{\"callgraphId\":" + graph + ",\"callgraphId\":" + graph + ",\"events\":[{\"symbolId\":\"a\"}]}"),
      "unique-field", "callgraphId");
  ExpectRefused(Post("{\"callgraphId\":" + graph + ",\"events\":[{\"symbolId\":\"a\"}],\"events\":[]}"),
                "unique-field", "events");
  ExpectRefused(Post("{\"callgraphId\":" + graph +
                     ",\"events\":[{\"symbolId\":\"a\"},{\"symbolId\":\"a\",\"symbolId\":\"b\"}]}"),
                "unique-field", "events[1].symbolId");
  auto result =
      Post("{\"callgraphId\":" + graph +
           ",\"events\":[{\"symbolId\":\"a\",\"metadata\":{\"k\":\"1\",\"j\":\"2\",\"k\":\"3\"}}]}");
  ExpectRefused(result, "unique-field", "events[0].metadata.k");
  EXPECT_EQ(BatchRows(), 0u);
}

TEST_F(FactJsonFormTest, RefusesNestingDeeperThanTheLimitBeforeParsingIt) {
  const std::string graph = "\"" + callgraph_id_ + "\"";
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto result = Post("{\"callgraphId\":" + graph +
                     ",\"events\":[{\"symbolId\":\"a\"},\n{\"symbolId\":\"b\",\"metadata\":" + deep + "}]}");
  ExpectRefused(result, "max-depth", "events[1]");
  EXPECT_NE(result.status().message().find("line 2"), std::string::npos) << result.status().message();
  EXPECT_NE(result.status().message().find("kernel.max_json_depth"), std::string::npos)
      << result.status().message();
  ExpectRefused(Post("{\"extra\":" + deep + ",\"callgraphId\":" + graph + ",\"events\":[]}"), "max-depth",
                "extra");

  ASSERT_NO_FATAL_FAILURE(Open({{"kernel.max_json_depth", "5"}}));
  // Root 1, events 2, the event 3, metadata 4, one array 5.
  auto fits =
      Post("{\"callgraphId\":" + graph + ",\"events\":[{\"symbolId\":\"a\",\"metadata\":{\"k\":[\"v\"]}}]}");
  ASSERT_FALSE(fits.ok());
  EXPECT_EQ(fits.status().rule(), "metadata")
      << "5 levels are within the limit: " << fits.status().ToString();
  ExpectRefused(Post("{\"callgraphId\":" + graph +
                     ",\"events\":[{\"symbolId\":\"a\",\"metadata\":{\"k\":[[\"v\"]]}}]}"),
                "max-depth", "events[0]");
}

TEST_F(FactJsonFormTest, RefusesAnEventLongerThanMaxLineBytes) {
  ASSERT_NO_FATAL_FAILURE(Open({{"kernel.max_line_bytes", "1024"}}));
  const std::string graph = "\"" + callgraph_id_ + "\"";
  const std::string big = "{\"symbolId\":\"" + std::string(2000, 'x') + "\"}";
  for (size_t chunk : {100, 1 << 16}) {
    auto result =
        Post("{\"callgraphId\":" + graph + ",\"events\":[{\"symbolId\":\"a\"}," + big + "]}", chunk);
    ExpectRefused(result, "max-line-bytes", "events[1]");
    EXPECT_NE(result.status().message().find("kernel.max_line_bytes"), std::string::npos);
  }
}

// The reader holds one event at a time: its buffer never grows with the body.
TEST(JsonEventsReader, HoldsOneEventAtATimeWhateverTheBodySize) {
  struct Counter : JsonEventsReader::Handler {
    Status CallgraphId(const std::string&) override { return Status::Ok(); }
    Status Event(uint64_t, std::string_view line) override {
      ++events;
      longest = std::max(longest, line.size());
      return Status::Ok();
    }
    uint64_t events = 0;
    size_t longest = 0;
  } counter;
  JsonEventsReader reader(256, 64, counter);
  ASSERT_TRUE(reader.Write("{\"callgraphId\":\"x\",\"events\":[").ok());
  const std::string event = "{\"symbolId\":\"s\",\"hitCount\":1},";
  std::string chunk;
  for (int i = 0; i < 1000; ++i) chunk += event;
  // 10 MB of events through a reader whose events may be 256 bytes long.
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(reader.Write(chunk).ok());
  ASSERT_TRUE(reader.Write("{\"symbolId\":\"last\"}]}").ok());
  ASSERT_TRUE(reader.Finish().ok());
  EXPECT_EQ(counter.events, 300u * 1000u + 1u);
  EXPECT_EQ(reader.events(), counter.events);
}

// The reader remembers top-level names to refuse duplicates, so it bounds
// how many there may be; and it takes a byte order mark only whole and first.
TEST(JsonEventsReader, BoundsTopLevelMembersAndTakesAByteOrderMarkOnlyWholeAndFirst) {
  struct Ignore : JsonEventsReader::Handler {
    Status CallgraphId(const std::string&) override { return Status::Ok(); }
    Status Event(uint64_t, std::string_view) override { return Status::Ok(); }
  } ignore;
  auto read = [&](const std::string& body) {
    JsonEventsReader reader(256, 64, ignore);
    Status s = reader.Write(body);
    return s.ok() ? reader.Finish() : s;
  };
  std::string many = "{";
  for (int i = 0; i < 65; ++i) many += "\"m" + std::to_string(i) + "\":0,";
  many += "\"events\":[]}";
  Status refused = read(many);
  EXPECT_EQ(refused.rule(), "max-members") << refused.ToString();
  std::string enough = "{";
  for (int i = 0; i < 60; ++i) enough += "\"m" + std::to_string(i) + "\":0,";
  enough += "\"events\":[]}";
  EXPECT_TRUE(read(enough).ok()) << read(enough).ToString();

  EXPECT_TRUE(read("\xEF\xBB\xBF{\"events\":[]}").ok());
  EXPECT_FALSE(read("\xEF{\"events\":[]}").ok()) << "a partial byte order mark";
  EXPECT_FALSE(read("\n\xBB\xBF{\"events\":[]}").ok()) << "byte order mark bytes after whitespace";
  EXPECT_FALSE(read(" \xEF\xBB\xBF{\"events\":[]}").ok()) << "a byte order mark after whitespace";
}

}  // namespace
}  // namespace signals
