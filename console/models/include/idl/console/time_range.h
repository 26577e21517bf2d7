#pragma once

#include <QList>
#include <QString>

#include <optional>

namespace idl::console {

// A query time range in the protocol's text form: `from`/`to` may be relative ("-15m",
// "now") or absolute (RFC 3339 or ns since the epoch). resolve() pins it to absolute ns so
// that every page of a paged query and the histogram see the same instants.
struct TimeRange
{
    TimeRange() = default;
    TimeRange(QString from_, QString to_) : from(std::move(from_)), to(std::move(to_)) {}

    QString from = QStringLiteral("-15m");
    QString to = QStringLiteral("now");

    bool operator==(const TimeRange &) const = default;

    // Absolute [fromNs, toNs) for "now" = nowNs; nullopt when a bound does not parse.
    std::optional<std::pair<qint64, qint64>> resolve(qint64 nowNs) const;
    // Same, with the current clock.
    std::optional<std::pair<qint64, qint64>> resolveNow() const;
    // "Last 15 minutes", or "2026-11-27 10:00 → 11:00" for absolute ranges.
    QString label() const;
    // Whether both bounds are absolute.
    bool isAbsolute() const;

    // An absolute range in ns.
    static TimeRange absolute(qint64 fromNs, qint64 toNs);
};

// One entry of the time-range picker's preset list.
struct TimeRangePreset
{
    QString label;
    QString from;
};

// Presets: 5m 15m 1h 4h 24h 7d 30d, all ending "now".
QList<TimeRangePreset> timeRangePresets();

// Parses a protocol time argument relative to nowNs; nullopt when it does not parse.
std::optional<qint64> parseTimeArgument(const QString &text, qint64 nowNs);

// Current time in ns since the epoch.
qint64 nowNs();

} // namespace idl::console
