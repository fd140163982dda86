// Specification of RFC 3339 timestamps: UTC millisecond output, tolerant but
// strict-where-it-matters input.
#include "base/timestamp.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace signals {
namespace {

int64_t MustParse(std::string_view text) {
  auto parsed = ParseRfc3339(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().message();
  return parsed.ok() ? *parsed : INT64_MIN;
}

void ExpectRejected(std::string_view text, std::string_view message_part = "") {
  auto parsed = ParseRfc3339(text);
  ASSERT_FALSE(parsed.ok()) << "accepted '" << text << "' as " << *parsed;
  EXPECT_EQ(parsed.status().code(), Code::kInvalid);
  EXPECT_EQ(parsed.status().rule(), "timestamp");
  EXPECT_NE(parsed.status().message().find(message_part), std::string::npos)
      << "message '" << parsed.status().message() << "' lacks '" << message_part << "'";
}

TEST(FormatRfc3339Millis, FormatsEpochWithThreeFractionDigitsAndZ) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
}

TEST(FormatRfc3339Millis, FormatsAKnownInstant) {
  EXPECT_EQ(FormatRfc3339Millis(1795710393123), "2026-11-26T16:26:33.123Z");
  EXPECT_EQ(FormatRfc3339Millis(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(-2203891200000), "1900-03-01T00:00:00.000Z");
}

TEST(FormatRfc3339Millis, FloorsTimesBeforeTheEpoch) {
  EXPECT_EQ(FormatRfc3339Millis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Millis(-1000), "1969-12-31T23:59:59.000Z");
}

TEST(FormatRfc3339Millis, CoversYearsZeroToNineThousandNineHundredNinetyNine) {
  EXPECT_EQ(FormatRfc3339Millis(-62167219200000), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(253402300799999), "9999-12-31T23:59:59.999Z");
}

TEST(ParseRfc3339, ParsesUtcWithMilliseconds) {
  EXPECT_EQ(MustParse("2026-11-26T16:26:33.123Z"), 1795710393123);
  EXPECT_EQ(MustParse("1970-01-01T00:00:00Z"), 0);
}

TEST(ParseRfc3339, AcceptsLowercaseTAndZ) { EXPECT_EQ(MustParse("2026-11-26t16:26:33.123z"), 1795710393123); }

TEST(ParseRfc3339, AppliesNumericOffsets) {
  EXPECT_EQ(MustParse("2026-11-26T17:26:33.123+01:00"), 1795710393123);
  EXPECT_EQ(MustParse("2026-11-26T11:56:33.123-04:30"), 1795710393123);
  EXPECT_EQ(MustParse("2026-11-26T16:26:33.123+00:00"), 1795710393123);
  EXPECT_EQ(MustParse("2026-11-26T16:26:33.123-00:00"), 1795710393123);
  EXPECT_EQ(MustParse("1970-01-01T00:00:00+23:59"), -(23 * 60 + 59) * 60 * 1000LL);
}

TEST(ParseRfc3339, AcceptsZeroToNineFractionDigitsTruncatingToMillis) {
  EXPECT_EQ(MustParse("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(MustParse("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(MustParse("1970-01-01T00:00:01.25Z"), 1250);
  EXPECT_EQ(MustParse("1970-01-01T00:00:01.123456Z"), 1123);
  EXPECT_EQ(MustParse("1970-01-01T00:00:01.999999999Z"), 1999);
  EXPECT_EQ(MustParse("1969-12-31T23:59:59.5Z"), -500);
}

TEST(ParseRfc3339, AcceptsLeapDays) {
  EXPECT_EQ(MustParse("2000-02-29T00:00:00Z"), 951782400000);
  EXPECT_TRUE(ParseRfc3339("2024-02-29T12:00:00Z").ok());
}

TEST(ParseRfc3339, RejectsDaysThatDoNotExist) {
  ExpectRejected("2026-02-30T00:00:00Z", "does not exist");
  ExpectRejected("2023-02-29T00:00:00Z", "does not exist");
  ExpectRejected("1900-02-29T00:00:00Z", "does not exist");
  ExpectRejected("2026-04-31T00:00:00Z", "does not exist");
  ExpectRejected("2026-01-00T00:00:00Z", "does not exist");
}

TEST(ParseRfc3339, RejectsMonth13AndMonth0) {
  ExpectRejected("2026-13-01T00:00:00Z", "month");
  ExpectRejected("2026-00-01T00:00:00Z", "month");
}

TEST(ParseRfc3339, RejectsHour24MinuteAndSecond60) {
  ExpectRejected("2026-01-01T24:00:00Z", "hour");
  ExpectRejected("2026-01-01T00:60:00Z", "minute");
  ExpectRejected("2026-01-01T00:00:60Z", "second");
}

TEST(ParseRfc3339, RejectsMissingOffset) {
  ExpectRejected("2026-11-26T16:26:33.123", "offset");
  ExpectRejected("2026-11-26T16:26:33", "offset");
}

TEST(ParseRfc3339, RejectsMalformedSyntax) {
  ExpectRejected("");
  ExpectRejected("2026-11-26 16:26:33Z");   // space instead of T
  ExpectRejected("2026-11-26T16:26Z");      // no seconds
  ExpectRejected("26-11-26T16:26:33Z");     // two-digit year
  ExpectRejected("2026-11-26T16:26:33.Z");  // '.' without digits
  ExpectRejected("2026-11-26T16:26:33.1234567890Z", "9 digits");
  ExpectRejected("2026-11-26T16:26:33+0100");  // offset without colon
  ExpectRejected("2026-11-26T16:26:33+24:00", "offset");
  ExpectRejected("2026-11-26T16:26:33ZZ");  // trailing garbage
  ExpectRejected("2026-1-26T16:26:33Z");
}

TEST(ParseRfc3339, InvertsFormatAcrossFourCenturies) {
  // A stride that is not a multiple of a day or a year visits varied dates.
  for (int64_t ms = -62167219200000; ms <= 253402300799999; ms += 9'876'543'211) {
    ASSERT_EQ(MustParse(FormatRfc3339Millis(ms)), ms) << FormatRfc3339Millis(ms);
  }
}

TEST(DaysFromCivil, CountsFromTheUnixEpoch) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
}

TEST(UnixNowMillis, ReturnsWallClockMillisecondsAfter2024) {
  EXPECT_GT(UnixNowMillis(), 1704067200000);  // 2024-01-01T00:00:00Z
}

}  // namespace
}  // namespace signals
