// Specification of RFC 8785 (JCS) canonical JSON, using the RFC's own samples
// (§3.2.2/3.2.3 and the Appendix B number table).
#include "base/canonical_json.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "utf16_text.hpp"

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
  EXPECT_EQ(
      CanonicalJson(input),
      "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
      "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\","
      "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\",\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(CanonicalJson, OrdersNonBmpKeyBeforeHighBmpKeyUnlikeCodePointOrder) {
  // U+1F600 is D83D DE00 in UTF-16, which sorts before U+FB33 and U+E000 even
  // though its code point is larger; U+20AC stays before it.
  json input = json::object();
  input["\xEE\x80\x80"] = 3;      // U+E000
  input["\xF0\x9F\x98\x80"] = 2;  // U+1F600
  input["\xE2\x82\xAC"] = 1;      // U+20AC
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
  json input = {{"neg", -42},
                {"max", std::numeric_limits<int64_t>::max()},
                {"umax", std::numeric_limits<uint64_t>::max()},
                {"zero", 0}};
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
  EXPECT_FALSE(TryCanonicalJson(json(std::string("\xC3"))).ok());              // truncated sequence
  EXPECT_FALSE(TryCanonicalJson(json(std::string("\xC0\xAF"))).ok());          // overlong '/'
  EXPECT_FALSE(TryCanonicalJson(json(std::string("\xED\xA0\x80"))).ok());      // lone surrogate
  EXPECT_FALSE(TryCanonicalJson(json(std::string("\xF4\x90\x80\x80"))).ok());  // above U+10FFFF
  json bad_key = json::object();
  bad_key[std::string("\xFF")] = 1;
  EXPECT_FALSE(TryCanonicalJson(bad_key).ok());
}

TEST(TryCanonicalJson, RejectsBinaryValues) { EXPECT_FALSE(TryCanonicalJson(json::binary({1, 2, 3})).ok()); }

TEST(TryCanonicalJson, ReturnsSameTextAsCanonicalJson) {
  json input = json::parse(R"({"b":1.25,"a":"x"})");
  auto result = TryCanonicalJson(input);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, R"({"a":"x","b":1.25})");
}

// --- AppendJcsString and JcsNameLess against independent references ----------
// nlohmann's dump() escapes valid UTF-8 exactly as JCS does (the shortcuts
// \b \f \n \r \t, \u00xx in lowercase for other controls, '"' and '\\',
// nothing else) and rejects invalid UTF-8; std::u16string compares by UTF-16
// code units.

// The bytes JCS escapes.
std::vector<char> EscapedBytes() {
  std::vector<char> bytes = {'"', '\\'};
  for (int b = 0; b < 0x20; ++b) bytes.push_back(static_cast<char>(b));
  return bytes;
}

// Characters of each UTF-8 length, at the edges of their ranges.
const char* const kMultiByte[] = {"\xC2\x80",         "\xC3\xA9",         "\xDF\xBF",        "\xE0\xA0\x80",
                                  "\xE4\xB8\xAD",     "\xED\x9F\xBF",     "\xEE\x80\x80",    "\xEF\xBF\xBF",
                                  "\xF0\x90\x80\x80", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"};

// 40 ASCII bytes that need no escape.
const std::string kPlain = "abcdefghijklmnopqrstuvwxyz0123456789 /~\x7f";

std::string Jcs(std::string_view s) {
  std::string out = "kept:";  // appended to, not replaced
  AppendJcsString(s, out);
  return out;
}

std::string Expected(const std::string& s) { return "kept:" + json(s).dump(); }

TEST(AppendJcsString, EscapesEveryEscapedByteAtEveryPosition) {
  // Strings of 1..40 bytes cover each place in an 8-byte word and the tail.
  for (size_t length = 1; length <= kPlain.size(); ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (char b : EscapedBytes()) {
        std::string s = kPlain.substr(0, length);
        s[at] = b;
        ASSERT_EQ(Jcs(s), Expected(s)) << "byte " << int(b) << " at " << at << " of " << length;
      }
    }
  }
  EXPECT_EQ(Jcs(""), "kept:\"\"");
  EXPECT_EQ(Jcs(kPlain), Expected(kPlain));
}

TEST(AppendJcsString, CopiesMultiByteCharactersAtEveryPosition) {
  for (const char* c : kMultiByte) {
    for (size_t length = 0; length <= kPlain.size(); ++length) {
      for (size_t at = 0; at <= length; ++at) {
        std::string s = kPlain.substr(0, length);
        s.insert(at, c);
        ASSERT_EQ(Jcs(s), Expected(s)) << Expected(s);
        s.insert(at == 0 ? 0 : at - 1, "\n");  // an escape right before it
        ASSERT_EQ(Jcs(s), Expected(s)) << Expected(s);
      }
    }
  }
}

TEST(AppendJcsString, MatchesNlohmannForRandomStrings) {
  std::vector<std::string> pieces;
  for (char b : EscapedBytes()) pieces.emplace_back(1, b);
  for (const char* c : kMultiByte) pieces.emplace_back(c);
  for (char c : kPlain) pieces.emplace_back(1, c);
  std::mt19937 rng(8785);
  for (int i = 0; i < 20000; ++i) {
    const size_t length = rng() % 41;
    std::string s;
    while (true) {
      const std::string& piece = pieces[rng() % pieces.size()];
      if (s.size() + piece.size() > length) break;
      s += piece;
    }
    ASSERT_EQ(Jcs(s), Expected(s)) << Expected(s);
  }
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
    out += ' ';
  }
  return out;
}

TEST(AppendJcsString, RejectsInvalidUtf8AnywhereInTheString) {
  const std::string invalid[] = {
      "\x80",
      "\xBF",  // lone continuation bytes
      "\xC3",
      "\xE4\xB8",
      "\xF0\x9F\x98",  // truncated
      "\xC3(",
      "\xE4(\xAD",
      "\xF0\x9F(\x80",
      "\xC3\xC3\xA9",  // a non-continuation inside
      "\xC0\xAF",
      "\xC1\xBF",
      "\xE0\x80\xAF",
      "\xE0\x9F\xBF",
      "\xF0\x80\x80\xAF",
      "\xF0\x8F\xBF\xBF",  // overlong
      "\xED\xA0\x80",
      "\xED\xBF\xBF",
      "\xED\xB0\x80",  // surrogates
      "\xF4\x90\x80\x80",
      "\xF5\x80\x80\x80",
      "\xF8\x88\x80\x80\x80",
      "\xFE",
      "\xFF",  // out of range
  };
  const std::string fillers[] = {kPlain, std::string("\xC3\xA9\xE4\xB8\xAD") + kPlain};
  for (const std::string& bad : invalid) {
    EXPECT_THROW((void)json(bad).dump(), json::type_error)
        << "not invalid to nlohmann: " << json(bad).dump(-1, ' ', true, json::error_handler_t::replace);
    for (const std::string& filler : fillers) {
      for (size_t at = 0; at <= 40; ++at) {
        if ((filler[at] & 0xC0) == 0x80) continue;  // cut the filler between characters only
        for (size_t after : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{20}}) {
          const std::string s = filler.substr(0, at) + bad + kPlain.substr(0, after);
          std::string out;
          EXPECT_THROW(AppendJcsString(s, out), std::invalid_argument)
              << Hex(s) << " (" << Hex(bad) << " at " << at << ")";
        }
      }
    }
  }
}

TEST(JcsNameLess, OrdersLikeUtf16CodeUnits) {
  // Supplementary characters (surrogate pairs, D800..DFFF) sort before
  // U+E000..U+FFFF in UTF-16 but after them in UTF-8 and code points.
  const std::string pieces[] = {std::string("\0", 1),
                                "a",
                                "b",
                                "\x7f",
                                "\xC2\x80",
                                "\xC3\xA9",
                                "\xDF\xBF",
                                "\xE0\xA0\x80",
                                "\xED\x9F\xBF",
                                "\xEE\x80\x80",
                                "\xEF\xAC\xB3",
                                "\xEF\xBF\xBF",
                                "\xF0\x90\x80\x80",
                                "\xF0\x9F\x98\x80",
                                "\xF4\x8F\xBF\xBF"};
  using testing::Utf16Of;
  auto check = [](const std::string& a, const std::string& b) {
    ASSERT_EQ(JcsNameLess(a, b), Utf16Of(a) < Utf16Of(b))
        << json(a).dump(-1, ' ', true) << " vs " << json(b).dump(-1, ' ', true);
  };
  // Every pair of names of up to two pieces (sharing a first piece or not).
  std::vector<std::string> names = {""};
  for (const auto& x : pieces) {
    names.push_back(x);
    for (const auto& y : pieces) names.push_back(x + y);
  }
  for (const auto& a : names) {
    for (const auto& b : names) check(a, b);
  }
  // Random longer names with long common prefixes.
  std::mt19937 rng(16);
  for (int i = 0; i < 20000; ++i) {
    std::string prefix = "member";
    for (int k = rng() % 4; k > 0; --k) prefix += pieces[rng() % std::size(pieces)];
    std::string a = prefix, b = prefix;
    for (int k = rng() % 4; k > 0; --k) a += pieces[rng() % std::size(pieces)];
    for (int k = rng() % 4; k > 0; --k) b += pieces[rng() % std::size(pieces)];
    check(a, b);
  }
}

}  // namespace
}  // namespace signals
