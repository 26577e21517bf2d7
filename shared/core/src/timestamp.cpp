#include "idl/core/timestamp.h"

#include <chrono>
#include <cmath>
#include <limits>

namespace idl {

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kMaxSeconds = INT64_MAX / kNsPerSecond;         // 9223372036
constexpr std::int64_t kMaxSecondsFraction = INT64_MAX % kNsPerSecond; // 854775807

Error badTimestamp(std::string message, long long position = -1)
{
    return makeError(ErrorCode::BadTimestamp, std::move(message), position);
}

Error badAt(std::size_t position, const char *what)
{
    return badTimestamp("bad RFC 3339 timestamp at offset " + std::to_string(position) + ": " +
                            what,
                        static_cast<long long>(position));
}

bool isDigit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

// Reads exactly `count` digits at `pos`.
bool readDigits(std::string_view text, std::size_t pos, std::size_t count, unsigned &out) noexcept
{
    if (pos + count > text.size())
        return false;
    unsigned value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[pos + i];
        if (!isDigit(c))
            return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    out = value;
    return true;
}

// Inverse of daysFromCivil (H. Hinnant's civil_from_days).
void civilFromDays(std::int64_t days, std::int64_t &year, unsigned &month, unsigned &day) noexcept
{
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    day = doy - (153 * mp + 2) / 5 + 1;
    month = mp < 10 ? mp + 3 : mp - 9;
    year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
}

void appendPadded(std::string &out, std::int64_t value, int width)
{
    char buf[24];
    int n = 0;
    bool negative = value < 0;
    auto magnitude =
        negative ? static_cast<std::uint64_t>(-(value + 1)) + 1 : static_cast<std::uint64_t>(value);
    do {
        buf[n++] = static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (negative)
        out.push_back('-');
    for (int i = n; i < width; ++i)
        out.push_back('0');
    while (n > 0)
        out.push_back(buf[--n]);
}

// "YYYY-MM-DDThh:mm:ss" of a floor-divided second count, followed by nothing.
void appendDateTime(std::string &out, std::int64_t seconds)
{
    std::int64_t days = seconds / 86400;
    std::int64_t rem = seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    std::int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
    civilFromDays(days, year, month, day);
    appendPadded(out, year, 4);
    out.push_back('-');
    appendPadded(out, month, 2);
    out.push_back('-');
    appendPadded(out, day, 2);
    out.push_back('T');
    appendPadded(out, rem / 3600, 2);
    out.push_back(':');
    appendPadded(out, rem / 60 % 60, 2);
    out.push_back(':');
    appendPadded(out, rem % 60, 2);
}

void splitNs(std::int64_t ns, std::int64_t &seconds, std::int64_t &fraction) noexcept
{
    seconds = ns / kNsPerSecond;
    fraction = ns % kNsPerSecond;
    if (fraction < 0) {
        fraction += kNsPerSecond;
        --seconds;
    }
}

// Units chosen by magnitude: upper bound (exclusive) of the value and ns per unit.
struct EpochUnit
{
    std::int64_t below;
    std::int64_t nsPerUnit;
    int fractionDigits; // digits of a fraction that still matter at ns resolution
};
constexpr EpochUnit kUnits[] = {
    {100'000'000'000, 1'000'000'000, 9},              // seconds
    {100'000'000'000'000, 1'000'000, 6},              // milliseconds
    {100'000'000'000'000'000, 1'000, 3},              // microseconds
    {std::numeric_limits<std::int64_t>::max(), 1, 0}, // nanoseconds
};

const EpochUnit &unitFor(std::int64_t magnitude) noexcept
{
    for (const EpochUnit &unit : kUnits) {
        if (magnitude < unit.below)
            return unit;
    }
    return kUnits[3];
}

const char *unitName(const EpochUnit &unit) noexcept
{
    switch (unit.nsPerUnit) {
    case 1'000'000'000:
        return "seconds";
    case 1'000'000:
        return "milliseconds";
    case 1'000:
        return "microseconds";
    default:
        return "nanoseconds";
    }
}

Error outOfRange(const EpochUnit &unit)
{
    return badTimestamp(std::string("epoch time out of range: read as ") + unitName(unit) +
                        ", it is after 2262-04-11T23:47:16.854775807Z");
}

} // namespace

Result<std::int64_t> parseRfc3339(std::string_view text)
{
    if (text.empty())
        return badTimestamp("empty timestamp", 0);
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!readDigits(text, 0, 4, year))
        return badAt(0, "expected a 4-digit year");
    if (text.size() <= 4 || text[4] != '-')
        return badAt(4, "expected '-' after the year");
    if (!readDigits(text, 5, 2, month))
        return badAt(5, "expected a 2-digit month");
    if (text.size() <= 7 || text[7] != '-')
        return badAt(7, "expected '-' after the month");
    if (!readDigits(text, 8, 2, day))
        return badAt(8, "expected a 2-digit day");
    if (text.size() <= 10)
        return badAt(10, "expected 'T' and a time after the date");
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ')
        return badAt(10, "expected 'T' or ' ' between date and time");
    if (!readDigits(text, 11, 2, hour))
        return badAt(11, "expected a 2-digit hour");
    if (text.size() <= 13 || text[13] != ':')
        return badAt(13, "expected ':' after the hour");
    if (!readDigits(text, 14, 2, minute))
        return badAt(14, "expected 2-digit minutes");
    if (text.size() <= 16 || text[16] != ':')
        return badAt(16, "expected ':' after the minutes");
    if (!readDigits(text, 17, 2, second))
        return badAt(17, "expected 2-digit seconds");

    std::size_t pos = 19;
    std::int64_t fraction = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        while (pos < text.size() && isDigit(text[pos])) {
            if (pos - start == 9)
                return badAt(pos, "more than 9 fractional digits");
            fraction = fraction * 10 + (text[pos] - '0');
            ++pos;
        }
        if (pos == start)
            return badAt(pos, "expected digits after '.'");
        for (std::size_t i = pos - start; i < 9; ++i)
            fraction *= 10;
    }

    std::int64_t offsetSeconds = 0;
    if (pos >= text.size())
        return badAt(pos, "missing time zone offset ('Z' or +hh:mm)");
    const std::size_t zonePos = pos;
    if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
        const bool negative = text[pos] == '-';
        unsigned offHours = 0, offMinutes = 0;
        if (!readDigits(text, pos + 1, 2, offHours))
            return badAt(pos + 1, "expected 2-digit offset hours");
        pos += 3;
        if (pos < text.size() && text[pos] == ':')
            ++pos;
        if (!readDigits(text, pos, 2, offMinutes))
            return badAt(pos, "expected 2-digit offset minutes");
        pos += 2;
        if (offHours > 23)
            return badAt(zonePos + 1, "offset hours out of range (00..23)");
        if (offMinutes > 59)
            return badAt(pos - 2, "offset minutes out of range (00..59)");
        offsetSeconds = static_cast<std::int64_t>(offHours) * 3600 + offMinutes * 60;
        if (negative)
            offsetSeconds = -offsetSeconds;
    } else {
        return badAt(pos, "expected 'Z' or a +hh:mm offset");
    }
    if (pos != text.size())
        return badAt(pos, "unexpected characters after the time zone");

    if (year < 1970 || year > 2262)
        return badAt(0, "year out of range (1970..2262)");
    if (month < 1 || month > 12)
        return badAt(5, "month out of range (01..12)");
    if (day < 1 || day > daysInMonth(year, month))
        return badAt(8, "day out of range for the month");
    if (hour > 23)
        return badAt(11, "hour out of range (00..23)");
    if (minute > 59)
        return badAt(14, "minutes out of range (00..59)");
    if (second > 60)
        return badAt(17, "seconds out of range (00..60)");

    const std::int64_t seconds = daysFromCivil(year, month, day) * 86400 +
                                 static_cast<std::int64_t>(hour) * 3600 + minute * 60 + second -
                                 offsetSeconds;
    if (seconds < 0)
        return badTimestamp("timestamp is before 1970-01-01T00:00:00Z");
    if (seconds > kMaxSeconds || (seconds == kMaxSeconds && fraction > kMaxSecondsFraction))
        return badTimestamp("timestamp is after 2262-04-11T23:47:16.854775807Z");
    return seconds * kNsPerSecond + fraction;
}

Result<std::int64_t> epochToNs(std::int64_t value)
{
    if (value < 0)
        return badTimestamp("negative epoch time (before 1970)");
    const EpochUnit &unit = unitFor(value);
    if (value > INT64_MAX / unit.nsPerUnit)
        return outOfRange(unit);
    return value * unit.nsPerUnit;
}

Result<std::int64_t> epochToNs(long double value)
{
    if (!std::isfinite(value))
        return badTimestamp("epoch time is not a finite number");
    if (value < 0)
        return badTimestamp("negative epoch time (before 1970)");
    // 2^63: every finite non-negative value below it fits in int64 after rounding down.
    constexpr long double kTwo63 = 9223372036854775808.0L;
    const EpochUnit &unit = value >= kTwo63 ? kUnits[3] : unitFor(static_cast<std::int64_t>(value));
    const long double scaled = std::round(value * static_cast<long double>(unit.nsPerUnit));
    if (!(scaled < kTwo63))
        return outOfRange(unit);
    return static_cast<std::int64_t>(scaled);
}

Result<std::int64_t> epochTextToNs(std::string_view text)
{
    std::size_t pos = 0;
    if (pos < text.size() && text[pos] == '-')
        ++pos;
    const std::size_t intStart = pos;
    std::int64_t integer = 0;
    bool overflow = false;
    while (pos < text.size() && isDigit(text[pos])) {
        const int digit = text[pos] - '0';
        if (integer > (INT64_MAX - digit) / 10)
            overflow = true;
        else
            integer = integer * 10 + digit;
        ++pos;
    }
    const std::size_t intDigits = pos - intStart;
    std::string_view fractionDigits;
    if (pos < text.size() && text[pos] == '.') {
        const std::size_t fracStart = ++pos;
        while (pos < text.size() && isDigit(text[pos]))
            ++pos;
        fractionDigits = text.substr(fracStart, pos - fracStart);
        if (fractionDigits.empty())
            return badTimestamp("bad epoch time: expected digits after '.'");
    }
    if (intDigits == 0 || pos != text.size())
        return badTimestamp("bad epoch time: expected decimal digits with an optional fraction");
    if (intStart == 1)
        return badTimestamp("negative epoch time (before 1970)");
    if (overflow)
        return outOfRange(kUnits[3]);

    const EpochUnit &unit = unitFor(integer);
    if (integer > INT64_MAX / unit.nsPerUnit)
        return outOfRange(unit);
    std::int64_t ns = integer * unit.nsPerUnit;
    // Fraction scaled to ns, rounded half up on the first digit that no longer matters.
    std::int64_t fraction = 0;
    for (int i = 0; i < unit.fractionDigits; ++i) {
        const std::size_t k = static_cast<std::size_t>(i);
        fraction = fraction * 10 + (k < fractionDigits.size() ? fractionDigits[k] - '0' : 0);
    }
    const auto roundDigit = static_cast<std::size_t>(unit.fractionDigits);
    if (roundDigit < fractionDigits.size() && fractionDigits[roundDigit] >= '5')
        ++fraction;
    if (ns > INT64_MAX - fraction)
        return outOfRange(unit);
    return ns + fraction;
}

std::string formatRfc3339Nanos(std::int64_t ns)
{
    std::int64_t seconds = 0, fraction = 0;
    splitNs(ns, seconds, fraction);
    std::string out;
    out.reserve(30);
    appendDateTime(out, seconds);
    out.push_back('.');
    appendPadded(out, fraction, 9);
    out.push_back('Z');
    return out;
}

std::string formatRfc3339Millis(std::int64_t ns)
{
    std::int64_t seconds = 0, fraction = 0;
    splitNs(ns, seconds, fraction);
    std::string out;
    out.reserve(24);
    appendDateTime(out, seconds);
    out.push_back('.');
    appendPadded(out, fraction / 1'000'000, 3);
    out.push_back('Z');
    return out;
}

std::int64_t nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace idl
