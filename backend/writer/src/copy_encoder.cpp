#include "idl/writer/copy_encoder.h"

#include "idl/core/hex.h"

#include <cstdint>

namespace idl::writer {
namespace {

void putBe16(std::string &out, std::uint16_t v)
{
    const char b[2] = {char(v >> 8), char(v)};
    out.append(b, 2);
}

void putBe32(std::string &out, std::uint32_t v)
{
    const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    out.append(b, 4);
}

void putBe64(std::string &out, std::uint64_t v)
{
    const char b[8] = {char(v >> 56), char(v >> 48), char(v >> 40), char(v >> 32),
                       char(v >> 24), char(v >> 16), char(v >> 8),  char(v)};
    out.append(b, 8);
}

void putBinaryText(std::string &out, std::string_view text)
{
    putBe32(out, static_cast<std::uint32_t>(text.size()));
    out.append(text);
}

void putBinaryOptionalText(std::string &out, std::string_view text)
{
    if (text.empty())
        putBe32(out, 0xFFFFFFFFu); // NULL
    else
        putBinaryText(out, text);
}

// Text format: backslash, tab, newline and carriage return are escaped.
void putTextField(std::string &out, std::string_view text)
{
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const char *esc = nullptr;
        switch (c) {
        case '\\':
            esc = "\\\\";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            continue;
        }
        out.append(text.substr(start, i - start));
        out.append(esc, 2);
        start = i + 1;
    }
    out.append(text.substr(start));
}

} // namespace

std::string_view logsCopySql(pg::CopyFormat format)
{
    return format == pg::CopyFormat::Binary
               ? "COPY logs (id, ts, received, level, app, host, message, attrs, trace_id, "
                 "span_id) FROM STDIN (FORMAT binary)"
               : "COPY logs (id, ts, received, level, app, host, message, attrs, trace_id, "
                 "span_id) FROM STDIN (FORMAT text)";
}

void appendCopyHeader(std::string &out, pg::CopyFormat format)
{
    if (format != pg::CopyFormat::Binary)
        return;
    static constexpr char kSignature[11] = {'P',  'G',    'C',  'O',  'P', 'Y',
                                            '\n', '\xff', '\r', '\n', '\0'};
    out.append(kSignature, sizeof kSignature);
    putBe32(out, 0); // flags
    putBe32(out, 0); // header extension length
}

void appendCopyTrailer(std::string &out, pg::CopyFormat format)
{
    if (format == pg::CopyFormat::Binary)
        putBe16(out, 0xFFFF);
}

void appendCopyRow(std::string &out, const LogEvent &e, pg::CopyFormat format)
{
    if (format == pg::CopyFormat::Binary) {
        putBe16(out, 10);
        // uuid: 16 bytes from the 32 hex digits.
        putBe32(out, 16);
        int nibble = 0;
        unsigned char byte = 0;
        for (const char c : e.id) {
            if (c == '-')
                continue;
            byte = static_cast<unsigned char>((byte << 4) | hexDigitValue(c));
            if (++nibble % 2 == 0) {
                out.push_back(char(byte));
                byte = 0;
            }
        }
        putBe32(out, 8);
        putBe64(out, static_cast<std::uint64_t>(e.tsNs));
        putBe32(out, 8);
        putBe64(out, static_cast<std::uint64_t>(e.receivedNs));
        putBe32(out, 2);
        putBe16(out, static_cast<std::uint16_t>(e.level));
        putBinaryText(out, e.app);
        putBinaryText(out, e.host);
        putBinaryText(out, e.message);
        // jsonb binary: version byte 1, then the text.
        const std::string_view attrs = e.attrsJson.empty() ? "{}" : std::string_view(e.attrsJson);
        putBe32(out, static_cast<std::uint32_t>(attrs.size() + 1));
        out.push_back('\x01');
        out.append(attrs);
        putBinaryOptionalText(out, e.traceId);
        putBinaryOptionalText(out, e.spanId);
        return;
    }
    out.append(e.id);
    out.push_back('\t');
    out.append(std::to_string(e.tsNs));
    out.push_back('\t');
    out.append(std::to_string(e.receivedNs));
    out.push_back('\t');
    out.append(std::to_string(static_cast<int>(e.level)));
    out.push_back('\t');
    putTextField(out, e.app);
    out.push_back('\t');
    putTextField(out, e.host);
    out.push_back('\t');
    putTextField(out, e.message);
    out.push_back('\t');
    putTextField(out, e.attrsJson.empty() ? std::string_view("{}") : e.attrsJson);
    out.push_back('\t');
    if (e.traceId.empty())
        out.append("\\N");
    else
        putTextField(out, e.traceId);
    out.push_back('\t');
    if (e.spanId.empty())
        out.append("\\N");
    else
        putTextField(out, e.spanId);
    out.push_back('\n');
}

} // namespace idl::writer
