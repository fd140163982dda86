// Specification of one runtime-fact NDJSON line (kernel/README.md#runtime-facts): every field
// rule with a passing and a failing case, snake_case aliases, duplicates,
// unknown fields, UTF-8, CRLF and the factType pattern. Every error names the
// line number, the field (when there is one) and the rule.
#include "model/runtime_fact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace signals {
namespace {

constexpr size_t kMaxLine = 1 << 20;

Result<FactLine> Check(std::string_view line, size_t line_number = 1) {
  FactLineValidator validator(kMaxLine);
  return validator.Validate(line, line_number);
}

void ExpectAccepted(std::string_view line) {
  auto fact = Check(line);
  EXPECT_TRUE(fact.ok()) << "rejected " << line << ": " << fact.status().ToString();
}

// Expects a rejection with `rule` at `field`, and a message that names the
// line number and (when there is a field) the field.
void ExpectRejected(std::string_view line, std::string_view rule, std::string_view field,
                    size_t line_number = 7) {
  FactLineValidator validator(kMaxLine);
  auto fact = validator.Validate(line, line_number);
  ASSERT_FALSE(fact.ok()) << "accepted " << line;
  const Status& s = fact.status();
  EXPECT_EQ(s.code(), Code::kInvalid) << s.ToString();
  EXPECT_EQ(s.rule(), rule) << "for " << line << ": " << s.ToString();
  EXPECT_EQ(s.field(), field) << "for " << line << ": " << s.ToString();
  const std::string prefix = "line " + std::to_string(line_number) + ": ";
  EXPECT_EQ(s.message().rfind(prefix, 0), 0u)
      << "message does not start with '" << prefix << "': " << s.message();
  if (!field.empty()) {
    EXPECT_NE(s.message().find("field '" + std::string(field) + "'"), std::string::npos) << s.message();
  }
}

// --- symbolId -------------------------------------------------------------------

TEST(FactLineValidator, AcceptsMinimalFactWithSymbolIdOnly) { ExpectAccepted(R"({"symbolId":"a"})"); }

TEST(FactLineValidator, RejectsLineThatLacksSymbolId) {
  ExpectRejected(R"({"factType":"runtime.symbol.hit","hitCount":2})", "required", "symbolId");
}

TEST(FactLineValidator, RejectsNullSymbolId) {
  ExpectRejected(R"({"symbolId":null})", "symbolId", "symbolId");
}

TEST(FactLineValidator, RejectsNonStringSymbolId) {
  ExpectRejected(R"({"symbolId":42})", "symbolId", "symbolId");
}

TEST(FactLineValidator, RejectsEmptySymbolId) {
  ExpectRejected(R"({"symbolId":""})", "symbolId", "symbolId");
}

TEST(FactLineValidator, AcceptsSymbolIdOfExactly1024Bytes) {
  ExpectAccepted(R"({"symbolId":")" + std::string(1024, 's') + R"("})");
}

TEST(FactLineValidator, RejectsSymbolIdLongerThan1024Bytes) {
  ExpectRejected(R"({"symbolId":")" + std::string(1025, 's') + R"("})", "symbolId", "symbolId");
}

TEST(FactLineValidator, CountsSymbolIdLengthInBytesNotCharacters) {
  // 342 three-byte characters = 1026 bytes but only 342 characters.
  std::string euro;
  for (int i = 0; i < 342; ++i) euro += "\xE2\x82\xAC";
  ExpectRejected(R"({"symbolId":")" + euro + R"("})", "symbolId", "symbolId");
}

// --- factType -------------------------------------------------------------------

TEST(FactLineValidator, DefaultsFactTypeToRuntimeSymbolHit) {
  auto fact = Check(R"({"symbolId":"a"})");
  ASSERT_TRUE(fact.ok());
  EXPECT_EQ(fact->fact_type, "runtime.symbol.hit");
}

TEST(FactLineValidator, ReturnsTheGivenFactType) {
  auto fact = Check(R"({"symbolId":"a","factType":"runtime.module.loaded"})");
  ASSERT_TRUE(fact.ok());
  EXPECT_EQ(fact->fact_type, "runtime.module.loaded");
}

TEST(FactLineValidator, AcceptsEveryBuiltInFactType) {
  for (const char* type : {"runtime.symbol.hit", "runtime.module.loaded", "runtime.process.observed",
                           "runtime.network.connection", "runtime.file.access"}) {
    ExpectAccepted(std::string(R"({"symbolId":"a","factType":")") + type + R"("})");
  }
}

TEST(FactLineValidator, AcceptsCustomFactTypeMatchingThePattern) {
  ExpectAccepted(R"({"symbolId":"a","factType":"acme.gpu_kernel.launch"})");
}

TEST(FactLineValidator, RejectsFactTypeNotMatchingThePattern) {
  ExpectRejected(R"({"symbolId":"a","factType":"Runtime.Hit"})", "factType", "factType");
}

TEST(FactLineValidator, RejectsNonStringFactType) {
  ExpectRejected(R"({"symbolId":"a","factType":1})", "factType", "factType");
}

TEST(IsValidFactType, FollowsThePattern) {
  for (const char* ok : {"a.b", "runtime.symbol.hit", "x1.y_2", "abc.d.e_f.g9", "a0.0"}) {
    EXPECT_TRUE(IsValidFactType(ok)) << ok;
  }
  for (const char* bad : {"", "a", "runtime", "A.b", "1a.b", "_a.b", "a_b.c", "a..b", "a.b.", ".a.b", "a.B",
                          "a.b-c", "a b.c", "a.b\n", "a.é"}) {
    EXPECT_FALSE(IsValidFactType(bad)) << bad;
  }
}

// --- optional string fields -----------------------------------------------------

TEST(FactLineValidator, AcceptsEveryOptionalStringField) {
  ExpectAccepted(R"({"symbolId":"a","codeId":"c","buildId":"b","loaderBase":"0x7f00","processName":"java",)"
                 R"("socketAddress":"10.0.0.1:443","containerId":"abc","evidenceUri":"https://e/1"})");
}

TEST(FactLineValidator, RejectsOptionalStringFieldOfWrongType) {
  for (const char* field :
       {"codeId", "buildId", "loaderBase", "processName", "socketAddress", "containerId", "evidenceUri"}) {
    ExpectRejected(std::string(R"({"symbolId":"a",")") + field + R"(":5})", "type", field);
  }
}

TEST(FactLineValidator, TreatsNullOptionalFieldsAsAbsent) {
  ExpectAccepted(R"({"symbolId":"a","codeId":null,"purl":null,"hitCount":null,"metadata":null})");
}

// --- purl -----------------------------------------------------------------------

TEST(FactLineValidator, AcceptsValidPurl) {
  ExpectAccepted(R"({"symbolId":"a","purl":"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"})");
}

TEST(FactLineValidator, RejectsInvalidPurl) {
  ExpectRejected(R"({"symbolId":"a","purl":"maven/log4j"})", "purl", "purl");
}

TEST(FactLineValidator, RejectsNonStringPurl) {
  ExpectRejected(R"({"symbolId":"a","purl":{}})", "purl", "purl");
}

// One validator sees many lines; the purls it remembers as valid must not
// let an invalid or empty one through, before or after.
TEST(FactLineValidator, RemembersOnlyValidPurlsAcrossLines) {
  FactLineValidator validator(kMaxLine);
  const std::string good = R"({"symbolId":"a","purl":"pkg:npm/%40angular/core@17.0.1"})";
  EXPECT_TRUE(validator.Validate(good, 1).ok());
  EXPECT_TRUE(validator.Validate(good, 2).ok());
  for (const char* bad : {R"({"symbolId":"a","purl":""})", R"({"symbolId":"a","purl":"maven/log4j"})",
                          R"({"symbolId":"a","purl":"pkg:npm"})"}) {
    auto fact = validator.Validate(bad, 3);
    ASSERT_FALSE(fact.ok()) << bad;
    EXPECT_EQ(fact.status().rule(), "purl") << bad;
    EXPECT_EQ(fact.status().message().rfind("line 3: field 'purl': ", 0), 0u) << fact.status().message();
  }
  EXPECT_TRUE(validator.Validate(good, 4).ok());
}

// --- processId ------------------------------------------------------------------

TEST(FactLineValidator, AcceptsIntegerProcessId) { ExpectAccepted(R"({"symbolId":"a","processId":4242})"); }

TEST(FactLineValidator, RejectsNonIntegerProcessId) {
  ExpectRejected(R"({"symbolId":"a","processId":"4242"})", "type", "processId");
  ExpectRejected(R"({"symbolId":"a","processId":1.5})", "type", "processId");
}

// --- hitCount -------------------------------------------------------------------

TEST(FactLineValidator, AcceptsHitCountOfOneAndMore) {
  ExpectAccepted(R"({"symbolId":"a","hitCount":1})");
  ExpectAccepted(R"({"symbolId":"a","hitCount":9007199254740993})");
}

TEST(FactLineValidator, RejectsHitCountBelowOne) {
  ExpectRejected(R"({"symbolId":"a","hitCount":0})", "hitCount", "hitCount");
  ExpectRejected(R"({"symbolId":"a","hitCount":-3})", "hitCount", "hitCount");
}

TEST(FactLineValidator, RejectsHitCountThatIsNotAnInteger) {
  ExpectRejected(R"({"symbolId":"a","hitCount":"2"})", "hitCount", "hitCount");
  ExpectRejected(R"({"symbolId":"a","hitCount":2.5})", "hitCount", "hitCount");
  ExpectRejected(R"({"symbolId":"a","hitCount":true})", "hitCount", "hitCount");
}

TEST(FactLineValidator, NamesTheRuleAndTheValueOfABadHitCount) {
  auto fact = Check(R"({"symbolId":"a","hitCount":0})", 3);
  ASSERT_FALSE(fact.ok());
  EXPECT_EQ(fact.status().message(), "line 3: field 'hitCount': must be an integer >= 1, got 0");
}

// --- observedAt -----------------------------------------------------------------

TEST(FactLineValidator, AcceptsRfc3339ObservedAt) {
  ExpectAccepted(R"({"symbolId":"a","observedAt":"2025-01-02T03:04:05.678Z"})");
  ExpectAccepted(R"({"symbolId":"a","observedAt":"2025-01-02T03:04:05+02:00"})");
}

TEST(FactLineValidator, RejectsObservedAtThatIsNotRfc3339) {
  ExpectRejected(R"({"symbolId":"a","observedAt":"yesterday"})", "rfc3339", "observedAt");
  ExpectRejected(R"({"symbolId":"a","observedAt":"2025-13-02T03:04:05Z"})", "rfc3339", "observedAt");
  ExpectRejected(R"({"symbolId":"a","observedAt":1700000000})", "rfc3339", "observedAt");
}

// --- metadata -------------------------------------------------------------------

TEST(FactLineValidator, AcceptsMetadataOfStringValues) {
  ExpectAccepted(R"({"symbolId":"a","metadata":{"k":"v","empty":""}})");
  ExpectAccepted(R"({"symbolId":"a","metadata":{}})");
}

TEST(FactLineValidator, RejectsMetadataWithNonStringValueNamingTheKey) {
  ExpectRejected(R"({"symbolId":"a","metadata":{"k":"v","n":1}})", "metadata", "metadata.n");
}

TEST(FactLineValidator, RejectsMetadataThatIsNotAnObject) {
  ExpectRejected(R"({"symbolId":"a","metadata":["k","v"]})", "metadata", "metadata");
}

// --- names ----------------------------------------------------------------------

TEST(FactLineValidator, AcceptsSnakeCaseAliases) {
  auto fact =
      Check(R"({"symbol_id":"a","fact_type":"runtime.file.access","code_id":"c","build_id":"b",)"
            R"("loader_base":"0x1","process_name":"p","socket_address":"s","container_id":"c",)"
            R"("evidence_uri":"u","process_id":1,"hit_count":2,"observed_at":"2025-01-01T00:00:00Z"})");
  ASSERT_TRUE(fact.ok()) << fact.status().ToString();
  EXPECT_EQ(fact->fact_type, "runtime.file.access");
}

TEST(FactLineValidator, ValidatesSnakeCaseAliasesAndReportsTheCanonicalName) {
  ExpectRejected(R"({"symbol_id":"a","hit_count":0})", "hitCount", "hitCount");
}

TEST(FactLineValidator, RejectsFieldGivenInBothCamelAndSnakeCase) {
  ExpectRejected(R"({"symbolId":"a","symbol_id":"b"})", "unique-field", "symbolId");
  ExpectRejected(R"({"symbolId":"a","hitCount":1,"hit_count":1})", "unique-field", "hitCount");
}

TEST(FactLineValidator, RejectsFieldGivenTwice) {
  ExpectRejected(R"({"symbolId":"a","symbolId":"b"})", "unique-field", "symbolId");
}

TEST(FactLineValidator, RejectsUnknownFieldListingTheKnownOnes) {
  FactLineValidator validator(kMaxLine);
  auto fact = validator.Validate(R"({"symbolId":"a","symbolID":"b"})", 1);
  ASSERT_FALSE(fact.ok());
  EXPECT_EQ(fact.status().rule(), "known-field");
  EXPECT_EQ(fact.status().field(), "symbolID");
  EXPECT_NE(fact.status().message().find("hitCount"), std::string::npos) << fact.status().message();
}

TEST(FactLineValidator, RejectsSnakeCaseFormOfFieldsThatHaveNone) {
  // "purl" and "metadata" have no underscore form; "fact-type" is not an alias.
  ExpectRejected(R"({"symbolId":"a","fact-type":"a.b"})", "known-field", "fact-type");
}

// --- the line as a whole --------------------------------------------------------

TEST(FactLineValidator, RejectsLineThatIsNotJson) {
  ExpectRejected(R"({"symbolId":"a")", "json", "");
  ExpectRejected("symbolId=a", "json", "");
  ExpectRejected(R"({"symbolId":"a"} {"symbolId":"b"})", "json", "");
}

TEST(FactLineValidator, RejectsJsonThatIsNotAnObject) {
  ExpectRejected(R"(["symbolId","a"])", "fact-object", "");
  ExpectRejected(R"("a")", "fact-object", "");
}

TEST(FactLineValidator, AcceptsMultibyteUtf8) {
  ExpectAccepted("{\"symbolId\":\"caf\xC3\xA9::\xE2\x82\xAC::\xF0\x9F\x98\x80\"}");
}

TEST(FactLineValidator, RejectsInvalidUtf8) {
  ExpectRejected("{\"symbolId\":\"caf\xC3\"}", "utf-8", "");       // truncated sequence
  ExpectRejected("{\"symbolId\":\"\xFF\xFE\"}", "utf-8", "");      // never valid bytes
  ExpectRejected("{\"symbolId\":\"\xC0\xAF\"}", "utf-8", "");      // overlong encoding
  ExpectRejected("{\"symbolId\":\"\xED\xA0\x80\"}", "utf-8", "");  // surrogate
}

TEST(FactLineValidator, AcceptsCrlfLineEnding) { ExpectAccepted("{\"symbolId\":\"a\"}\r"); }

TEST(FactLineValidator, RejectsUnescapedCarriageReturnInsideAString) {
  // A bare CR ends no line: inside a string it is an unescaped control character.
  ExpectRejected("{\"symbolId\":\"a\rb\"}\r", "json", "");
}

TEST(FactLineValidator, IsReusableAfterARejection) {
  FactLineValidator validator(kMaxLine);
  EXPECT_FALSE(validator.Validate(R"({"symbolId":1})", 1).ok());
  EXPECT_FALSE(validator.Validate("\xFF", 2).ok());
  auto fact = validator.Validate(R"({"symbolId":"ok","factType":"a.b"})", 3);
  ASSERT_TRUE(fact.ok()) << fact.status().ToString();
  EXPECT_EQ(fact->fact_type, "a.b");
}

}  // namespace
}  // namespace signals
