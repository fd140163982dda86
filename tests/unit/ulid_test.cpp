// Specification of ULID parsing, formatting and monotonic generation. The
// vectors come from the ULID specification's README and its reference
// implementations (ulid/javascript, oklog/ulid).
#include "base/ulid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace signals {
namespace {

std::string BytesHex(const Ulid& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id.bytes()) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Ulid MustParse(std::string_view text) {
  auto parsed = Ulid::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().message();
  return parsed.ok() ? *parsed : Ulid();
}

void ExpectParseError(std::string_view text, std::string_view message_part) {
  auto parsed = Ulid::Parse(text);
  ASSERT_FALSE(parsed.ok()) << "accepted " << text;
  EXPECT_EQ(parsed.status().code(), Code::kInvalid);
  EXPECT_EQ(parsed.status().rule(), "ulid");
  EXPECT_NE(parsed.status().message().find(message_part), std::string::npos)
      << "message '" << parsed.status().message() << "' lacks '" << message_part << "'";
}

// --- encodeTime -----------------------------------------------------------

TEST(UlidEncodeTime, Encodes1469918176385InTenCharacters) {
  auto t = Ulid::EncodeTime(1469918176385, 10);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "01ARYZ6S41");
}

TEST(UlidEncodeTime, PadsWithZerosWhenLongerThanNeeded) {
  auto t = Ulid::EncodeTime(1470264322240, 12);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "0001AS99AA60");
}

TEST(UlidEncodeTime, KeepsLowOrderDigitsWhenTruncated) {
  auto t = Ulid::EncodeTime(1470118279201, 8);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "AS4Y1E11");
}

TEST(UlidEncodeTime, RejectsTimeOf2To48) {
  auto t = Ulid::EncodeTime(uint64_t{1} << 48, 10);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().rule(), "ulid");
  EXPECT_TRUE(Ulid::EncodeTime(kUlidMaxTimeMs, 10).ok());
}

// --- decodeTime and byte layout --------------------------------------------

TEST(UlidParse, DecodesTimeOfJavascriptExample) {
  EXPECT_EQ(MustParse("01ARYZ6S41TSV4RRFFQ69G5FAV").TimeMs(), 1469918176385u);
}

TEST(UlidParse, DecodesTimeOfSpecReadmeExampleAs1469922850259) {
  EXPECT_EQ(MustParse("01ARZ3NDEKTSV4RRFFQ69G5FAV").TimeMs(), 1469922850259u);
}

TEST(UlidParse, LaysOutTimeBigEndianThenRandomBits) {
  EXPECT_EQ(BytesHex(MustParse("01ARYZ6S410000000000000000")), "01563df3648100000000000000000000");
}

TEST(Ulid, Time100000WithZeroEntropyFormatsAsOklogVector) {
  Ulid::Bytes bytes{0x00, 0x00, 0x00, 0x01, 0x86, 0xa0};
  Ulid id(bytes);
  EXPECT_EQ(id.ToString(), "00000031N00000000000000000");
  EXPECT_EQ(id.TimeMs(), 100000u);
  EXPECT_EQ(MustParse("00000031N00000000000000000"), id);
}

TEST(Ulid, Time100000WithAllOnesEntropyFormatsAsOklogVector) {
  Ulid::Bytes bytes{0x00, 0x00, 0x00, 0x01, 0x86, 0xa0};
  std::fill(bytes.begin() + 6, bytes.end(), 0xFF);
  Ulid id(bytes);
  EXPECT_EQ(id.ToString(), "00000031N0ZZZZZZZZZZZZZZZZ");
  EXPECT_EQ(MustParse("00000031N0ZZZZZZZZZZZZZZZZ"), id);
}

TEST(UlidParse, RoundTripsThroughToString) {
  for (const char* text : {"01ARYZ6S41TSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                           "01BX5ZZKBKACTAV9WEVGEMMVRZ", "0000XSNJG0MQJHBF4QX1EFD6Y3"}) {
    EXPECT_EQ(MustParse(text).ToString(), text);
  }
}

// --- overflow ----------------------------------------------------------------

TEST(UlidParse, AcceptsValuesUpTo2To128Minus1) {
  EXPECT_EQ(MustParse("00000000000000000000000000"), Ulid());
  EXPECT_TRUE(Ulid::Parse("70000000000000000000000000").ok());
  Ulid max = MustParse("7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  EXPECT_EQ(BytesHex(max), std::string(32, 'f'));
  EXPECT_EQ(max.TimeMs(), 281474976710655u);
  EXPECT_EQ(max.ToString(), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
}

TEST(UlidParse, RejectsUlidStartingWith8AsOverflow) {
  ExpectParseError("80000000000000000000000000", "overflow");
  ExpectParseError("80000000000000000000000001", "overflow");
  ExpectParseError("ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "overflow");
}

// --- characters, size, case ---------------------------------------------------

TEST(UlidParse, RejectsByte0xFFOr0x00AtEveryPosition) {
  const std::string valid = "0000XSNJG0MQJHBF4QX1EFD6Y3";
  ASSERT_TRUE(Ulid::Parse(valid).ok());
  for (char bad : {'\xFF', '\0'}) {
    for (size_t i = 0; i < valid.size(); ++i) {
      std::string text = valid;
      text[i] = bad;
      SCOPED_TRACE("index " + std::to_string(i) + " byte " + std::to_string(static_cast<uint8_t>(bad)));
      ExpectParseError(text, "invalid characters");
    }
  }
}

TEST(UlidParse, RejectsLettersOutsideCrockfordAlphabet) {
  for (char bad : {'I', 'L', 'O', 'U', 'i', 'l', 'o', 'u', '-'}) {
    std::string text = "01ARYZ6S41TSV4RRFFQ69G5FAV";
    text[20] = bad;
    ExpectParseError(text, "invalid characters");
  }
}

TEST(UlidParse, RejectsWrongLengthAsDataSize) {
  ExpectParseError("", "data size");
  ExpectParseError("01ARYZ6S41TSV4RRFFQ69G5FA", "data size");
  ExpectParseError("01ARYZ6S41TSV4RRFFQ69G5FAVX", "data size");
}

TEST(UlidParse, IsCaseInsensitive) {
  const std::string upper = "01ARYZ6S41TSV4RRFFQ69G5FAV";
  std::string lower = upper;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(c)); });
  EXPECT_EQ(MustParse(lower), MustParse(upper));
  EXPECT_EQ(MustParse(lower).ToString(), upper);
}

TEST(ValidateUlid, ReportsRuleAndCallersField) {
  EXPECT_TRUE(ValidateUlid("01ARYZ6S41TSV4RRFFQ69G5FAV", "batchId").ok());
  Status s = ValidateUlid("not-a-ulid", "batchId");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.rule(), "ulid");
  EXPECT_EQ(s.field(), "batchId");
}

// --- generation ----------------------------------------------------------------

TEST(UlidGenerator, IncrementsWithCarryInTheSameMillisecond) {
  Ulid last = MustParse("01BX5ZZKBKACTAV9WEVGEMMVRZ");
  UlidGenerator generator(last);
  auto next = generator.Next(last.TimeMs());
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ(next->ToString(), "01BX5ZZKBKACTAV9WEVGEMMVS0");
}

TEST(UlidGenerator, FailsWhenRandomPartOverflowsWithinAMillisecond) {
  Ulid last = MustParse("01BX5ZZKBKZZZZZZZZZZZZZZZZ");
  UlidGenerator generator(last);
  auto next = generator.Next(last.TimeMs());
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().rule(), "ulid");
  EXPECT_NE(next.status().message().find("overflow"), std::string::npos);
}

TEST(UlidGenerator, StampsTheGivenTimeAndFreshRandomnessInANewMillisecond) {
  UlidGenerator generator;
  auto a = generator.Next(1469918176385);
  auto b = generator.Next(1469918176386);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->TimeMs(), 1469918176385u);
  EXPECT_EQ(a->ToString().substr(0, 10), "01ARYZ6S41");
  EXPECT_EQ(b->TimeMs(), 1469918176386u);
  EXPECT_LT(*a, *b);
}

TEST(UlidGenerator, NeverGoesBackwardsWhenTheClockSteppedBack) {
  UlidGenerator generator;
  auto a = generator.Next(2000);
  auto b = generator.Next(1000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->TimeMs(), 2000u);
  EXPECT_LT(*a, *b);
}

TEST(UlidGenerator, RejectsTimeOf2To48) {
  UlidGenerator generator;
  EXPECT_FALSE(generator.Next(uint64_t{1} << 48).ok());
}

TEST(UlidGenerator, IssuesStrictlyIncreasingIdsAcrossThreads) {
  UlidGenerator generator;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::vector<Ulid>> issued(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = generator.Next(1700000000000);  // all in one millisecond
        if (id.ok()) issued[t].push_back(*id);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<Ulid> all;
  for (const auto& ids : issued) {
    ASSERT_EQ(ids.size(), static_cast<size_t>(kPerThread));
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace signals
