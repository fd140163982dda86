// kernel.max_json_depth: JSON from outside nested deeper than the limit is
// refused (rule "max-depth") before anything recursive walks it — service
// requests, canonical JSON, NDJSON runtime facts — and NDJSON facts refuse
// duplicate metadata keys.
#include "base/json_limits.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/canonical_json.hpp"
#include "model/runtime_fact.hpp"
#include "plugin/plugin_host.hpp"
#include "test_kernel.hpp"

namespace signals {
namespace {

using json = nlohmann::json;

std::string Arrays(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

TEST(JsonDepth, AcceptsTheLimitAndRefusesOneLevelMore) {
  EXPECT_TRUE(CheckJsonDepth(Arrays(64), 64, "body").ok());
  Status s = CheckJsonDepth(Arrays(65), 64, "body");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.rule(), "max-depth");
  EXPECT_EQ(s.field(), "body");
  EXPECT_NE(s.message().find("kernel.max_json_depth"), std::string::npos) << s.message();
}

TEST(JsonDepth, IgnoresBracketsInsideStringsAndAfterEscapedQuotes) {
  EXPECT_TRUE(CheckJsonDepth(R"({"a":"[[[[[[","b":"\"[[[[[[[\\"})", 2, "body").ok());
  EXPECT_EQ(CheckJsonDepth(R"({"a":"\\",  "b":[[1]]})", 2, "body").rule(), "max-depth");
}

TEST(JsonDepth, NamesTheTopLevelMemberAndTheLine) {
  Status s = CheckJsonDepth("{\"op\": \"x\",\n \"targets\": " + Arrays(100) + "}", 64, "request");
  EXPECT_EQ(s.rule(), "max-depth");
  EXPECT_EQ(s.field(), "targets");
  EXPECT_EQ(s.message().rfind("line 2:", 0), 0u) << s.message();
}

TEST(JsonDepth, ScansTextArrivingInPieces) {
  JsonDepthScanner scanner(3);
  EXPECT_TRUE(scanner.Scan("[\"[[["));
  EXPECT_TRUE(scanner.Scan("\\\"\",[["));
  EXPECT_FALSE(scanner.Scan("["));
}

TEST(JsonDepth, ServiceRequestsNestedDeeperThanTheLimitAreRefusedBeforeParsing) {
  testing::TestKernel kernel;
  ASSERT_NO_FATAL_FAILURE(kernel.Open());
  HostBinding binding{&*kernel, true, "test"};
  signals_host host{};
  InitHostTable(&binding, &host);
  std::string answer;
  auto sink = [](void* ctx, const uint8_t* data, size_t len) {
    static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(data), len);
  };
  const std::string request =
      R"({"op":"reachability.query","callgraphId":"01ARZ3NDEKTSV4RRFFQ69G5FAV","targets":)" + Arrays(200) +
      "}";
  signals_status status = host.query(host.ctx, request.c_str(), sink, &answer);
  EXPECT_EQ(status, SIGNALS_INVALID_ARGUMENT) << answer;
  json problem = json::parse(answer, nullptr, false);
  ASSERT_TRUE(problem.is_object()) << answer;
  EXPECT_EQ(problem.value("rule", ""), "max-depth") << answer;
  EXPECT_EQ(problem.value("field", ""), "targets") << answer;
  EXPECT_EQ(problem.value("status", 0), 400) << answer;

  // The limit is the configured one.
  ASSERT_NO_FATAL_FAILURE(kernel.Open({{"kernel.max_json_depth", "300"}}));
  binding.kernel = &*kernel;
  answer.clear();
  host.query(host.ctx, request.c_str(), sink, &answer);
  EXPECT_NE(json::parse(answer, nullptr, false).value("rule", ""), "max-depth") << answer;
}

TEST(JsonDepth, CanonicalJsonRefusesValuesDeeperThanItsLimit) {
  json deep = json::array();
  json* inner = &deep;
  for (int i = 1; i < 10; ++i) {
    inner->push_back(json::array());
    inner = &inner->back();
  }
  EXPECT_TRUE(TryCanonicalJson(deep, 10).ok());
  auto refused = TryCanonicalJson(deep, 9);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().rule(), "max-depth");
}

TEST(JsonDepth, NdjsonFactsNestedDeeperThanTheLimitNameTheDepthRule) {
  FactLineValidator validator(1 << 20, 64);
  const std::string line = R"({"symbolId":"a","metadata":{"k":)" + Arrays(2000) + "}}";
  std::string_view fact_type;
  Status s = validator.Check(line, 7, &fact_type);
  EXPECT_EQ(s.rule(), "max-depth") << s.ToString();
  EXPECT_EQ(s.message().rfind("line 7:", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("kernel.max_json_depth"), std::string::npos) << s.message();
}

TEST(RuntimeFactRules, RefusesDuplicateMetadataKeysInNdjson) {
  FactLineValidator validator(1 << 20);
  auto ok = validator.Validate(R"({"symbolId":"a","metadata":{"k":"1","j":"2"}})", 1);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto twice = validator.Validate(R"({"symbolId":"a","metadata":{"k":"1","j":"2","k":"3"}})", 4);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().rule(), "unique-field");
  EXPECT_EQ(twice.status().field(), "metadata.k");
  EXPECT_EQ(twice.status().message().rfind("line 4:", 0), 0u) << twice.status().message();
}

}  // namespace
}  // namespace signals
