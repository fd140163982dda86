// RFC 3339 timestamps as Signals reads and writes them (kernel/README.md#identifiers): output
// is always UTC with 'Z' and exactly three fraction digits; input may carry any
// offset and 0-9 fraction digits.
//
// Used by record builders (createdAt, ingestedAt, ...) and by validators of
// client-supplied times (observedAt). The calendar arithmetic is done here
// (proleptic Gregorian, days-from-civil), so results never depend on the
// process's locale or TZ. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace signals {

// Formats Unix milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ". Negative values
// (before 1970) are supported.
// REQUIRES: the time falls in years 0000..9999 (RFC 3339's range).
std::string FormatRfc3339Millis(int64_t unix_ms);

// Parses "YYYY-MM-DD('T'|'t')HH:MM:SS[.fraction]('Z'|'z'|±hh:mm)" and returns
// Unix milliseconds; fraction digits beyond milliseconds are truncated toward
// the past. Failure: Status::Invalid rule "timestamp" naming the defect
// (syntax, a field out of range such as month 13 or hour 24, a day that does
// not exist such as Feb 30, a leap second, or a missing offset).
Result<int64_t> ParseRfc3339(std::string_view text);

// Current wall-clock time in Unix milliseconds.
int64_t UnixNowMillis();

// Days since 1970-01-01 of a proleptic Gregorian date (negative before).
// REQUIRES: month 1..12, day 1..31.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace signals
