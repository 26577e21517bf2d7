#include "idl/console/log_row.h"

#include <QTextDocument>

#include "idl/core/timestamp.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

namespace idl::console {

namespace {

qint64 nsFromJson(const QJsonValue &v)
{
    if (v.isString())
        return v.toString().toLongLong();
    if (v.isDouble())
        return static_cast<qint64>(v.toDouble());
    return 0;
}

} // namespace

LogRow LogRow::fromJson(const QJsonObject &o)
{
    LogRow r;
    r.id = o.value(QLatin1String("id")).toString();
    r.tsNs = nsFromJson(o.value(QLatin1String("ts")));
    if (r.tsNs == 0) {
        const QString time = o.value(QLatin1String("time")).toString();
        if (!time.isEmpty()) {
            const QByteArray utf8 = time.toUtf8();
            if (auto ns = parseRfc3339(std::string_view(utf8.constData(), utf8.size())); ns)
                r.tsNs = *ns;
        }
    }
    r.receivedNs = nsFromJson(o.value(QLatin1String("received")));
    r.level = levelFromText(o.value(QLatin1String("level")).toString()).value_or(Level::Info);
    r.app = o.value(QLatin1String("app")).toString();
    r.host = o.value(QLatin1String("host")).toString();
    r.message = o.value(QLatin1String("message")).toString();
    r.attrsJson =
        QJsonDocument(o.value(QLatin1String("attrs")).toObject()).toJson(QJsonDocument::Compact);
    r.traceId = o.value(QLatin1String("trace_id")).toString();
    r.spanId = o.value(QLatin1String("span_id")).toString();
    return r;
}

QJsonObject LogRow::toJson() const
{
    QJsonObject o;
    o.insert(QLatin1String("id"), id);
    o.insert(QLatin1String("ts"), QString::number(tsNs));
    o.insert(QLatin1String("time"), rfc3339(tsNs));
    if (receivedNs != 0)
        o.insert(QLatin1String("received"), QString::number(receivedNs));
    o.insert(QLatin1String("level"), levelText(level));
    o.insert(QLatin1String("app"), app);
    o.insert(QLatin1String("host"), host);
    o.insert(QLatin1String("message"), message);
    o.insert(QLatin1String("attrs"), attrs());
    if (!traceId.isEmpty())
        o.insert(QLatin1String("trace_id"), traceId);
    if (!spanId.isEmpty())
        o.insert(QLatin1String("span_id"), spanId);
    return o;
}

QJsonObject LogRow::attrs() const
{
    return QJsonDocument::fromJson(attrsJson).object();
}

QJsonValue LogRow::attribute(const QString &path) const
{
    QJsonValue v = attrs();
    for (const auto &part : QStringView(path).split(u'.')) {
        if (!v.isObject())
            return QJsonValue(QJsonValue::Undefined);
        v = v.toObject().value(part);
    }
    return v;
}

QStringList rowColumnKeys()
{
    return {QStringLiteral("id"),       QStringLiteral("ts"),      QStringLiteral("time"),
            QStringLiteral("received"), QStringLiteral("level"),   QStringLiteral("app"),
            QStringLiteral("host"),     QStringLiteral("message"), QStringLiteral("attrs"),
            QStringLiteral("trace_id"), QStringLiteral("span_id")};
}

QString levelText(Level level)
{
    const auto name = levelName(level);
    return QString::fromLatin1(name.data(), static_cast<qsizetype>(name.size()));
}

std::optional<Level> levelFromText(const QString &text)
{
    const QByteArray latin = text.toLatin1();
    return parseLevel(std::string_view(latin.constData(), latin.size()));
}

QColor levelColour(Level level, bool dark)
{
    switch (level) {
    case Level::Trace:
        return dark ? QColor(0x8a, 0x93, 0x9e) : QColor(0x8a, 0x93, 0x9e);
    case Level::Debug:
        return dark ? QColor(0x6c, 0xb6, 0xff) : QColor(0x3b, 0x7d, 0xd8);
    case Level::Info:
        return dark ? QColor(0x4f, 0xc3, 0x8a) : QColor(0x2e, 0x9e, 0x5b);
    case Level::Warn:
        return dark ? QColor(0xf5, 0xb8, 0x41) : QColor(0xe0, 0x9a, 0x12);
    case Level::Error:
        return dark ? QColor(0xff, 0x6b, 0x6b) : QColor(0xd9, 0x3b, 0x3b);
    case Level::Fatal:
        return dark ? QColor(0xd0, 0x7c, 0xff) : QColor(0x8e, 0x2d, 0xc8);
    }
    return {};
}

QString displayTime(qint64 tsNs, bool utc)
{
    const qint64 ms = tsNs / 1'000'000;
    const QDateTime t =
        utc ? QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC) : QDateTime::fromMSecsSinceEpoch(ms);
    return t.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
}

QString rfc3339(qint64 tsNs)
{
    return QString::fromStdString(formatRfc3339Nanos(tsNs));
}

QString cellText(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    case QJsonValue::Double: {
        const double d = v.toDouble();
        if (d == static_cast<double>(static_cast<qint64>(d)) && qAbs(d) < 9.0e15)
            return QString::number(static_cast<qint64>(d));
        return QString::number(d, 'g', 17);
    }
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

QString plainTextToolTip(const QString &text, qsizetype maxChars)
{
    if (text.isEmpty())
        return {};
    return Qt::convertFromPlainText(text.left(maxChars), Qt::WhiteSpaceNormal);
}

} // namespace idl::console
