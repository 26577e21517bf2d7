#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QStringList>

#include <string_view>

class QIODevice;

namespace idl::console {

// Writes CSV as RFC 4180 says: fields separated by commas, records ended by CRLF, a field
// quoted (with inner quotes doubled) when it contains a comma, a quote, CR or LF (or starts
// or ends with a space, so spreadsheet tools keep it), UTF-8, optionally after a byte order
// mark for Excel. Buffers in memory and writes in blocks of about 1 MiB. Not thread-safe;
// use from one thread.
class CsvWriter
{
public:
    explicit CsvWriter(QIODevice *out, bool byteOrderMark = false);
    ~CsvWriter();
    CsvWriter(const CsvWriter &) = delete;
    CsvWriter &operator=(const CsvWriter &) = delete;

    // Appends one record.
    void writeRecord(const QStringList &fields);
    // Appends one field of the current record (then endRecord()).
    void writeField(QStringView field);
    // Same, for text that is already UTF-8.
    void writeFieldUtf8(std::string_view field);
    void endRecord();
    // Writes the buffer to the device; false on a write error.
    bool flush();
    // Bytes handed to the device or buffered so far (BOM included).
    qint64 bytes() const { return m_bytes + m_buffer.size(); }
    qint64 records() const { return m_records; }
    bool hasError() const { return m_error; }

    // The field as it appears in the file (quoted when needed), UTF-8.
    static QByteArray encodeField(QStringView field);

private:
    QIODevice *m_out;
    QByteArray m_buffer;
    qint64 m_bytes = 0;
    qint64 m_records = 0;
    bool m_firstField = true;
    bool m_error = false;
};

// The CSV fields of an event row for the chosen export columns (protocol keys such as
// "time", "level", "message", "attrs"): strings as is, attrs as compact JSON.
QStringList csvFieldsForRow(const QJsonObject &row, const QStringList &columns);

} // namespace idl::console
