#include "idl/console/csv_writer.h"

#include "idl/console/log_row.h"

#include <QIODevice>

namespace idl::console {

namespace {

constexpr qsizetype kFlushBytes = 1 << 20;

bool needsQuotes(QStringView f)
{
    if (f.isEmpty())
        return false;
    if (f.front() == u' ' || f.back() == u' ')
        return true;
    for (QChar c : f) {
        const char16_t u = c.unicode();
        if (u == u',' || u == u'"' || u == u'\r' || u == u'\n')
            return true;
    }
    return false;
}

void appendField(QByteArray &out, QStringView field)
{
    if (!needsQuotes(field)) {
        out += field.toUtf8();
        return;
    }
    out += '"';
    const QByteArray utf8 = field.toUtf8();
    for (char c : utf8) {
        if (c == '"')
            out += '"';
        out += c;
    }
    out += '"';
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
    bool quote = !field.empty() && (field.front() == ' ' || field.back() == ' ');
    for (char c : field) {
        if (c == ',' || c == '"' || c == '\r' || c == '\n') {
            quote = true;
            break;
        }
    }
    if (!quote) {
        m_buffer.append(field.data(), static_cast<qsizetype>(field.size()));
        return;
    }
    m_buffer += '"';
    for (char c : field) {
        if (c == '"')
            m_buffer += '"';
        m_buffer += c;
    }
    m_buffer += '"';
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
