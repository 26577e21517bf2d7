#pragma once

#include "idl/core/log_event.h"

#include <QByteArray>
#include <QColor>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <optional>

namespace idl::console {

// One event row as the gateway sends it (protocol section 1, "Event row"). Plain value type,
// cheap to move; attrs kept as a parsed object for attribute columns and the detail pane.
struct LogRow
{
    QString id;
    qint64 tsNs = 0;
    qint64 receivedNs = 0;
    Level level = Level::Info;
    QString app;
    QString host;
    QString message;
    QByteArray attrsJson = QByteArrayLiteral("{}"); // the attributes object as JSON text
    QString traceId;
    QString spanId;

    // Reads a row object; missing keys keep their defaults, an unknown level reads as info.
    static LogRow fromJson(const QJsonObject &o);
    // The full row object again (the shape of protocol section 1).
    QJsonObject toJson() const;
    // The attributes as an object (parsed from attrsJson).
    QJsonObject attrs() const;
    // The value of an attribute path such as "user.id" (dotted), or undefined.
    QJsonValue attribute(const QString &path) const;
};

// The column keys of an event row, in protocol order (what `export` accepts in `columns`).
QStringList rowColumnKeys();

// Lower-case level name ("warn").
QString levelText(Level level);
// Level from a name or alias; nullopt when unknown.
std::optional<Level> levelFromText(const QString &text);
// The colour that stands for a level in tables and charts (tuned for light or dark themes).
QColor levelColour(Level level, bool dark);

// Event time as shown in tables: local time with milliseconds ("2026-11-27 10:00:00.123").
QString displayTime(qint64 tsNs, bool utc = false);
// Event time as RFC 3339 with 9 fraction digits (UTC).
QString rfc3339(qint64 tsNs);

// Text of a JSON value for a table cell or CSV field: strings as is, objects/arrays as
// compact JSON, numbers and booleans as JSON text, null/undefined as empty.
QString cellText(const QJsonValue &v);

// A tooltip that shows log text literally. Qt renders a tooltip as rich text when it merely
// looks like HTML (Qt::mightBeRichText), so a sender could otherwise draw markup, links and
// images into the console; this returns escaped HTML of the text (at most maxChars).
QString plainTextToolTip(const QString &text, qsizetype maxChars = 2000);

} // namespace idl::console
