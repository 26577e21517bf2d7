#pragma once

// Fast paths for the large gateway messages (`rows`, `tail.events`), parsed with simdjson's
// On-Demand API straight from UTF-8 instead of building QJsonObjects. Private to the models.

#include "idl/console/csv_writer.h"
#include "idl/console/log_row.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace idl::console::fastjson {

// Makes sure simdjson may read SIMDJSON_PADDING bytes past the end.
void pad(QByteArray &utf8);

// The `id` and `type` of a message (empty when absent or not strings).
bool peekIdType(const QByteArray &paddedUtf8, QString *id, QString *type);

// A `rows` or `tail.events` message, with its rows turned into LogRows.
struct RowsFrame
{
    QList<LogRow> rows;
    QString phase;
    qint64 dropped = 0;
    QJsonObject positions;
    double fraction = -1;
};
bool parseRowsFrame(const QByteArray &paddedUtf8, RowsFrame *out);

// Writes the rows of a `rows` message as CSV records in `columns` order (strings unescaped,
// objects/arrays/numbers as their JSON text, null/absent empty). Returns rows written, or -1
// when the message does not parse; *fraction gets progress.fraction when present.
qint64 writeCsvRows(const QByteArray &paddedUtf8, const QStringList &columns, CsvWriter &writer,
                    double *fraction);

} // namespace idl::console::fastjson
