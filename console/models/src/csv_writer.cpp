#include "idl/console/csv_writer.h"

#include "idl/console/log_row.h"
#include "idl/core/csv.h"

#include <QIODevice>

namespace idl::console {

namespace {

constexpr qsizetype kFlushBytes = 1 << 20;

// Quoting and formula neutralisation: idl::appendCsvField (shared with the gateway's CSV).
void appendField(QByteArray &out, std::string_view utf8)
{
    thread_local std::string field; // reused: an export writes millions of fields
    field.clear();
    appendCsvField(field, utf8);
    out.append(field.data(), static_cast<qsizetype>(field.size()));
}

void appendField(QByteArray &out, QStringView field)
{
    const QByteArray utf8 = field.toUtf8();
    appendField(out, std::string_view(utf8.constData(), static_cast<std::size_t>(utf8.size())));
}

} // namespace

CsvWriter::CsvWriter(QIODevice *out, bool byteOrderMark) : m_out(out)
{
    m_buffer.reserve(kFlushBytes + 64 * 1024);
    if (byteOrderMark)
        m_buffer += QByteArrayLiteral("\xEF\xBB\xBF");
}

CsvWriter::~CsvWriter()
{
    flush();
}

QByteArray CsvWriter::encodeField(QStringView field)
{
    QByteArray out;
    appendField(out, field);
    return out;
}

void CsvWriter::writeField(QStringView field)
{
    if (!m_firstField)
        m_buffer += ',';
    m_firstField = false;
    appendField(m_buffer, field);
}

void CsvWriter::writeFieldUtf8(std::string_view field)
{
    if (!m_firstField)
        m_buffer += ',';
    m_firstField = false;
    appendField(m_buffer, field);
}

void CsvWriter::endRecord()
{
    m_buffer += "\r\n";
    m_firstField = true;
    ++m_records;
    if (m_buffer.size() >= kFlushBytes)
        flush();
}

void CsvWriter::writeRecord(const QStringList &fields)
{
    for (const auto &f : fields)
        writeField(f);
    endRecord();
}

bool CsvWriter::flush()
{
    if (m_buffer.isEmpty() || !m_out)
        return !m_error;
    const qint64 n = m_out->write(m_buffer);
    if (n != m_buffer.size())
        m_error = true;
    m_bytes += m_buffer.size();
    m_buffer.clear();
    return !m_error;
}

QStringList csvFieldsForRow(const QJsonObject &row, const QStringList &columns)
{
    QStringList out;
    out.reserve(columns.size());
    for (const auto &c : columns)
        out << cellText(row.value(c));
    return out;
}

} // namespace idl::console
