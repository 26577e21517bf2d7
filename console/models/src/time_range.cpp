#include "idl/console/time_range.h"

#include "idl/protocol/requests.h"

#include "idl/console/log_row.h"
#include "idl/core/timestamp.h"

#include <QDateTime>

#include <chrono>

namespace idl::console {

namespace {

bool isRelative(const QString &t)
{
    return t == u"now" || t.startsWith(u'-');
}

QString relativeLabel(const QString &from)
{
    for (const auto &p : timeRangePresets()) {
        if (p.from == from)
            return p.label;
    }
    return QStringLiteral("Since %1").arg(from);
}

} // namespace

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<qint64> parseTimeArgument(const QString &text, qint64 now)
{
    // The gateway's own reading of a time argument (one definition, in idl::protocol).
    auto r = protocol::parseTimeArg(text.trimmed().toStdString(), now);
    return r ? std::optional<qint64>(*r) : std::nullopt;
}

std::optional<std::pair<qint64, qint64>> TimeRange::resolve(qint64 now) const
{
    auto f = parseTimeArgument(from, now);
    auto t = parseTimeArgument(to, now);
    if (!f || !t || *f >= *t)
        return std::nullopt;
    return std::make_pair(*f, *t);
}

std::optional<std::pair<qint64, qint64>> TimeRange::resolveNow() const
{
    return resolve(nowNs());
}

bool TimeRange::isAbsolute() const
{
    return !isRelative(from) && !isRelative(to);
}

QString TimeRange::label() const
{
    if (to == u"now" && isRelative(from))
        return relativeLabel(from);
    auto r = resolveNow();
    if (!r)
        return QStringLiteral("%1 → %2").arg(from, to);
    const QString a = displayTime(r->first).left(19);
    QString b = displayTime(r->second).left(19);
    if (a.left(10) == b.left(10))
        b = b.mid(11);
    return QStringLiteral("%1 → %2").arg(a, b);
}

TimeRange TimeRange::absolute(qint64 fromNs, qint64 toNs)
{
    return TimeRange{QString::fromStdString(formatRfc3339Nanos(fromNs)),
                     QString::fromStdString(formatRfc3339Nanos(toNs))};
}

QList<TimeRangePreset> timeRangePresets()
{
    return {{QStringLiteral("Last 5 minutes"), QStringLiteral("-5m")},
            {QStringLiteral("Last 15 minutes"), QStringLiteral("-15m")},
            {QStringLiteral("Last hour"), QStringLiteral("-1h")},
            {QStringLiteral("Last 4 hours"), QStringLiteral("-4h")},
            {QStringLiteral("Last 24 hours"), QStringLiteral("-24h")},
            {QStringLiteral("Last 7 days"), QStringLiteral("-7d")},
            {QStringLiteral("Last 30 days"), QStringLiteral("-30d")}};
}

} // namespace idl::console
