// Specification of RFC 8785 (JCS) canonical JSON, using the RFC's own samples
// (§3.2.2/3.2.3 and the Appendix B number table).
#include "canonical_json.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace signals {
namespace {

using nlohmann::json;

TEST(CanonicalJson, CanonicalisesTheRfc8785Section322Sample) {
  const json input = json::parse(R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })");
  EXPECT_EQ(CanonicalJson(input),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(CanonicalJson, SortsKeysByUtf16CodeUnitsAsInRfc8785Section323) {
  const json input = json::parse(R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })");
  EXPECT_EQ(CanonicalJson(input),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
            "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\","
            "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\",\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(CanonicalJson, OrdersNonBmpKeyBeforeHighBmpKeyUnlikeCodePointOrder) {
  // U+1F600 is D83D DE00 in UTF-16, which sorts before U+FB33 and U+E000 even
  // though its code point is larger; U+20AC stays before it.
  json input = json::object();
  input["\xEE\x80\x80"] = 3;           // U+E000
  input["\xF0\x9F\x98\x80"] = 2;       // U+1F600
  input["\xE2\x82\xAC"] = 1;           // U+20AC
  EXPECT_EQ(CanonicalJson(input), "{\"\xE2\x82\xAC\":1,\"\xF0\x9F\x98\x80\":2,\"\xEE\x80\x80\":3}");
}

TEST(CanonicalJson, SortsNestedObjectsAndKeepsArrayOrder) {
  const json input = json::parse(R"({"b": [3, {"z": 1, "a": 2}, 1], "a": {"y": null, "x": "s"}})");
  EXPECT_EQ(CanonicalJson(input), R"({"a":{"x":"s","y":null},"b":[3,{"a":2,"z":1},1]})");
}

TEST(CanonicalJson, EscapesOnlyWhatJcsRequires) {
  json input = std::string("\x01\b\t\n\x0b\f\r\x1f \"\\/<>&\x7f\xC3\xA9", 18);
  EXPECT_EQ(CanonicalJson(input), "\"\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\\"\\\\/<>&\x7f\xC3\xA9\"");
}

TEST(CanonicalJson, PrintsIntegersExactly) {
  json input = {{"neg", -42}, {"max", std::numeric_limits<int64_t>::max()},
                {"umax", std::numeric_limits<uint64_t>::max()}, {"zero", 0}};
  EXPECT_EQ(CanonicalJson(input),
            R"({"max":9223372036854775807,"neg":-42,"umax":18446744073709551615,"zero":0})");
}

TEST(CanonicalJson, PrintsIntegerValuedDoubleWithoutFraction) {
  EXPECT_EQ(CanonicalJson(json(2.0)), "2");
  EXPECT_EQ(CanonicalJson(json(-0.0)), "0");
  EXPECT_EQ(CanonicalJson(json::parse("[1.0, 100.00, 1e2]")), "[1,100,100]");
}

TEST(CanonicalJson, EmptyContainers) {
  EXPECT_EQ(CanonicalJson(json::object()), "{}");
  EXPECT_EQ(CanonicalJson(json::array()), "[]");
  EXPECT_EQ(CanonicalJson(json::parse(R"({"a":{},"b":[]})")), R"({"a":{},"b":[]})");
}

struct NumberCase {
  uint64_t ieee_bits;
  const char* expected;
};

TEST(EcmaScriptNumber, FormatsRfc8785AppendixBNumbers) {
  const NumberCase cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const NumberCase& c : cases) {
    EXPECT_EQ(EcmaScriptNumber(std::bit_cast<double>(c.ieee_bits)), c.expected) << std::hex << c.ieee_bits;
  }
}

TEST(EcmaScriptNumber, SwitchesToExponentFormAtTheEcmaScriptThresholds) {
  EXPECT_EQ(EcmaScriptNumber(1e20), "100000000000000000000");
  EXPECT_EQ(EcmaScriptNumber(1e21), "1e+21");
  EXPECT_EQ(EcmaScriptNumber(1e-6), "0.000001");
  EXPECT_EQ(EcmaScriptNumber(1e-7), "1e-7");
  EXPECT_EQ(EcmaScriptNumber(1.5e-7), "1.5e-7");
  EXPECT_EQ(EcmaScriptNumber(0.1), "0.1");
  EXPECT_EQ(EcmaScriptNumber(123.456), "123.456");
}

TEST(CanonicalJson, ThrowsInvalidArgumentForNanAndInfinity) {
  EXPECT_THROW(CanonicalJson(json(std::numeric_limits<double>::quiet_NaN())), std::invalid_argument);
  EXPECT_THROW(CanonicalJson(json(std::numeric_limits<double>::infinity())), std::invalid_argument);
  EXPECT_THROW(CanonicalJson(json(-std::numeric_limits<double>::infinity())), std::invalid_argument);
}

TEST(TryCanonicalJson, ReturnsInvalidInsteadOfThrowingForNan) {
  json input = {{"weight", std::numeric_limits<double>::quiet_NaN()}};
  auto result = TryCanonicalJson(input);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kInvalid);
  EXPECT_EQ(result.status().rule(), "canonical-json");
  EXPECT_NE(result.status().message().find("NaN"), std::string::npos) << result.status().message();
}

TEST(TryCanonicalJson, RejectsInvalidUtf8InStringsAndKeys) {
  EXPECT_FALSE(TryCanonicalJson(json(std::string("\xC3"))).ok());             // truncated sequence
  EXPECT_FALSE(TryCanonicalJson(json(std::string("\xC0\xAF"))).ok());         // overlong '/'
  EXPECT_FALSE(TryCanonicalJson(json(std::string("\xED\xA0\x80"))).ok());     // lone surrogate
  EXPECT_FALSE(TryCanonicalJson(json(std::string("\xF4\x90\x80\x80"))).ok()); // above U+10FFFF
  json bad_key = json::object();
  bad_key[std::string("\xFF")] = 1;
  EXPECT_FALSE(TryCanonicalJson(bad_key).ok());
}

TEST(TryCanonicalJson, RejectsBinaryValues) {
  EXPECT_FALSE(TryCanonicalJson(json::binary({1, 2, 3})).ok());
}

TEST(TryCanonicalJson, ReturnsSameTextAsCanonicalJson) {
  json input = json::parse(R"({"b":1.25,"a":"x"})");
  auto result = TryCanonicalJson(input);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, R"({"a":"x","b":1.25})");
}

}  // namespace
}  // namespace signals
