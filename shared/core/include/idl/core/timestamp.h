#pragma once

#include "idl/core/result.h"

#include <cstdint>
#include <string>
#include <string_view>

// Event times as nanoseconds since the Unix epoch (UTC), stored in a signed 64-bit integer.
// The accepted range is 1970-01-01T00:00:00Z .. 2262-04-11T23:47:16.854775807Z
// (0 .. INT64_MAX ns). Everything here is locale-free and allocation-free on the parse path.
namespace idl {

// Largest representable event time, in ns since the epoch (2262-04-11T23:47:16.854775807Z).
inline constexpr std::int64_t kMaxTimestampNs = INT64_MAX;

// Parses an RFC 3339 date-time: "YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm)". The separator may
// be 'T', 't' or ' '; the zone 'Z', 'z', ±hh:mm or ±hhmm. Second 60 (a leap second) is read as
// the first second of the next minute. Fails with ErrorCode::BadTimestamp (position = offset
// of the offending character) when the text is malformed, a field is out of range
// (month, day incl. leap years, hour, minute, second, offset) or the instant is outside
// the representable range. Never throws except std::bad_alloc for the message.
Result<std::int64_t> parseRfc3339(std::string_view text);

// Converts a Unix epoch number to ns, choosing the unit by magnitude: |v| < 1e11 seconds,
// < 1e14 milliseconds, < 1e17 microseconds, otherwise nanoseconds. Fractions are allowed
// (rounded to the nearest ns). Negative, non-finite or out-of-range values fail with
// ErrorCode::BadTimestamp.
Result<std::int64_t> epochToNs(long double value);

// Exact integer variant of epochToNs (same unit rule, no floating-point rounding).
Result<std::int64_t> epochToNs(std::int64_t value);

// Parses a decimal number written as text ("1700000000", "1700000000.123456789", "-5")
// exactly and converts it like epochToNs. Exponents are not accepted. BadTimestamp on failure.
Result<std::int64_t> epochTextToNs(std::string_view text);

// Formats ns since the epoch as "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ" (UTC, 9 fraction digits).
// Any int64 value is accepted (negative values are before 1970).
std::string formatRfc3339Nanos(std::int64_t ns);

// Formats ns since the epoch as "YYYY-MM-DDThh:mm:ss.mmmZ" (UTC, truncated to milliseconds).
std::string formatRfc3339Millis(std::int64_t ns);

// The wall clock now, in ns since the Unix epoch (UTC): the one clock every event time,
// received time and relative query range is read from.
std::int64_t nowNs();

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
// month 1..12, day 1..31; no validation.
constexpr std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day) noexcept
{
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto yoe = static_cast<unsigned>(year - era * 400);
    const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// True for Gregorian leap years.
constexpr bool isLeapYear(std::int64_t year) noexcept
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

// Number of days in a month (1..12) of a year.
constexpr unsigned daysInMonth(std::int64_t year, unsigned month) noexcept
{
    constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && isLeapYear(year) ? 29 : kDays[(month - 1) % 12];
}

} // namespace idl
