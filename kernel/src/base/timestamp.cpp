// RFC 3339 formatting and parsing. See timestamp.hpp.
#include "base/timestamp.hpp"

#include <chrono>
#include <cstdio>

namespace signals {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

// Inverse of DaysFromCivil (Howard Hinnant's civil_from_days): eras of 400
// years make the Gregorian cycle exact without tables.
CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (month <= 2), month, day};
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

Status TimestampInvalid(std::string message) { return Status::Invalid("timestamp", "", std::move(message)); }

// Reads exactly `n` decimal digits at text[pos], advancing pos.
bool ReadDigits(std::string_view text, size_t& pos, size_t n, int& value) {
  if (pos + n > text.size()) return false;
  value = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char a, char b = '\0') {
  if (pos >= text.size() || (text[pos] != a && (b == '\0' || text[pos] != b))) return false;
  ++pos;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string FormatRfc3339Millis(int64_t unix_ms) {
  // Floor division, so that -1 ms is 1969-12-31T23:59:59.999Z.
  int64_t days = unix_ms / kMsPerDay;
  int64_t ms_of_day = unix_ms % kMsPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMsPerDay;
    --days;
  }
  CivilDate date = CivilFromDays(days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(date.year),
                date.month, date.day, static_cast<int>(ms_of_day / 3'600'000),
                static_cast<int>(ms_of_day / 60'000 % 60), static_cast<int>(ms_of_day / 1000 % 60),
                static_cast<int>(ms_of_day % 1000));
  return buf;
}

Result<int64_t> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  auto syntax = [&](const char* expected) {
    return TimestampInvalid("not an RFC 3339 timestamp: expected " + std::string(expected) + " at position " +
                            std::to_string(pos) + " of '" + std::string(text.substr(0, 64)) + "'");
  };
  if (!ReadDigits(text, pos, 4, year)) return syntax("a 4-digit year");
  if (!Expect(text, pos, '-')) return syntax("'-'");
  if (!ReadDigits(text, pos, 2, month)) return syntax("a 2-digit month");
  if (!Expect(text, pos, '-')) return syntax("'-'");
  if (!ReadDigits(text, pos, 2, day)) return syntax("a 2-digit day");
  if (!Expect(text, pos, 'T', 't')) return syntax("'T'");
  if (!ReadDigits(text, pos, 2, hour)) return syntax("a 2-digit hour");
  if (!Expect(text, pos, ':')) return syntax("':'");
  if (!ReadDigits(text, pos, 2, minute)) return syntax("2-digit minutes");
  if (!Expect(text, pos, ':')) return syntax("':'");
  if (!ReadDigits(text, pos, 2, second)) return syntax("2-digit seconds");

  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return syntax("fraction digits after '.'");
    if (digits > 9) return TimestampInvalid("timestamp fraction has more than 9 digits");
    for (size_t d = digits; d < 3; ++d) millis *= 10;
  }

  int offset_minutes = 0;
  if (pos >= text.size()) return TimestampInvalid("timestamp has no UTC offset: add 'Z' or ±hh:mm");
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int off_h, off_m;
    if (!ReadDigits(text, pos, 2, off_h)) return syntax("a 2-digit offset hour");
    if (!Expect(text, pos, ':')) return syntax("':' in the offset");
    if (!ReadDigits(text, pos, 2, off_m)) return syntax("2-digit offset minutes");
    if (off_h > 23 || off_m > 59) return TimestampInvalid("UTC offset out of range");
    offset_minutes = sign * (off_h * 60 + off_m);
  } else {
    return syntax("'Z' or a ±hh:mm offset");
  }
  if (pos != text.size()) return syntax("end of timestamp");

  if (month < 1 || month > 12)
    return TimestampInvalid("month " + std::to_string(month) + " is out of range 01-12");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month))) {
    return TimestampInvalid("day " + std::to_string(day) + " does not exist in " + std::to_string(year) +
                            "-" + (month < 10 ? "0" : "") + std::to_string(month));
  }
  if (hour > 23) return TimestampInvalid("hour " + std::to_string(hour) + " is out of range 00-23");
  if (minute > 59) return TimestampInvalid("minute " + std::to_string(minute) + " is out of range 00-59");
  // RFC 3339 permits second 60, but without a leap-second table it cannot be
  // mapped to Unix time faithfully; rejecting beats silently shifting it.
  if (second > 59)
    return TimestampInvalid("second " + std::to_string(second) +
                            " is out of range (leap seconds unsupported)");

  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t local_seconds = days * 86'400 + hour * 3600 + minute * 60 + second;
  return (local_seconds - int64_t{offset_minutes} * 60) * 1000 + millis;
}

int64_t UnixNowMillis() {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  using std::chrono::system_clock;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace signals
