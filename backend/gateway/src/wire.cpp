#include "idl/gateway/wire.h"

#include "idl/core/csv.h"

#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/pg/connection.h"

#include <QByteArray>

#include <charconv>
#include <chrono>

namespace idl::gateway {
namespace {

bool parseInt64(std::string_view text, std::int64_t &out)
{
    if (text.empty())
        return false;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
}

const char *levelText(std::string_view digit)
{
    static const char *kNames[] = {"trace", "debug", "info", "warn", "error", "fatal"};
    if (digit.size() == 1 && digit[0] >= '0' && digit[0] <= '5')
        return kNames[digit[0] - '0'];
    return "info";
}

} // namespace

Result<std::int64_t> parseTimeArg(std::string_view text, std::int64_t now)
{
    auto bad = [&] {
        return makeError(ErrorCode::BadTimestamp,
                         "time must be RFC 3339, ns since the epoch, \"now\" or like \"-15m\"");
    };
    if (text == "now")
        return now;
    if (text.size() >= 2 && text[0] == '-') {
        std::size_t i = 1;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9')
            ++i;
        std::int64_t n = 0;
        if (i == 1 || !parseInt64(text.substr(1, i - 1), n))
            return bad();
        const std::string_view unit = text.substr(i);
        std::int64_t mult = 0;
        if (unit == "ms")
            mult = 1'000'000;
        else if (unit == "s")
            mult = 1'000'000'000;
        else if (unit == "m")
            mult = 60'000'000'000;
        else if (unit == "h")
            mult = 3'600'000'000'000;
        else if (unit == "d")
            mult = 86'400'000'000'000;
        else if (unit == "w")
            mult = 7 * 86'400'000'000'000;
        else
            return bad();
        if (n > now / mult)
            return bad();
        return now - n * mult;
    }
    std::int64_t ns = 0;
    if (parseInt64(text, ns)) {
        if (ns < 0)
            return bad();
        return ns;
    }
    auto r = parseRfc3339(text);
    if (!r)
        return bad();
    return *r;
}

std::int64_t chooseBucketNs(std::int64_t fromNs, std::int64_t toNs, int maxBuckets)
{
    static constexpr std::int64_t kS = 1'000'000'000;
    static constexpr std::int64_t kWidths[] = {kS,
                                               5 * kS,
                                               10 * kS,
                                               30 * kS,
                                               60 * kS,
                                               300 * kS,
                                               600 * kS,
                                               900 * kS,
                                               1800 * kS,
                                               3600 * kS,
                                               3 * 3600 * kS,
                                               6 * 3600 * kS,
                                               12 * 3600 * kS,
                                               86400 * kS,
                                               7 * 86400 * kS};
    const std::int64_t span = toNs - fromNs;
    for (std::int64_t w : kWidths) {
        if (span / w + 2 <= maxBuckets)
            return w;
    }
    return kWidths[std::size(kWidths) - 1];
}

std::optional<unsigned> parseColumn(std::string_view name)
{
    static const std::pair<std::string_view, unsigned> kCols[] = {
        {"id", ColId},         {"ts", ColTs},
        {"time", ColTime},     {"received", ColReceived},
        {"level", ColLevel},   {"app", ColApp},
        {"host", ColHost},     {"message", ColMessage},
        {"attrs", ColAttrs},   {"trace_id", ColTraceId},
        {"span_id", ColSpanId}};
    for (const auto &[n, c] : kCols) {
        if (n == name)
            return c;
    }
    return std::nullopt;
}

void appendRowJson(std::string &out, const pg::Rows &rows, int i, unsigned columns)
{
    JsonWriter w(out);
    w.beginObject();
    const std::string_view ts = rows.value(i, 1);
    if (columns & ColId) {
        w.key("id");
        w.value(rows.value(i, 0));
    }
    if (columns & ColTs) {
        w.key("ts");
        w.value(ts);
    }
    if (columns & ColTime) {
        std::int64_t n = 0;
        parseInt64(ts, n);
        w.key("time");
        w.value(formatRfc3339Nanos(n));
    }
    if (columns & ColReceived) {
        w.key("received");
        w.value(rows.value(i, 2));
    }
    if (columns & ColLevel) {
        w.key("level");
        w.value(levelText(rows.value(i, 3)));
    }
    if (columns & ColApp) {
        w.key("app");
        w.value(rows.value(i, 4));
    }
    if (columns & ColHost) {
        w.key("host");
        w.value(rows.value(i, 5));
    }
    if (columns & ColMessage) {
        w.key("message");
        w.value(rows.value(i, 6));
    }
    if (columns & ColAttrs) {
        w.key("attrs");
        const std::string_view a = rows.value(i, 7);
        w.raw(a.empty() ? std::string_view("{}") : a);
    }
    if ((columns & ColTraceId) && !rows.isNull(i, 8) && !rows.value(i, 8).empty()) {
        w.key("trace_id");
        w.value(rows.value(i, 8));
    }
    if ((columns & ColSpanId) && !rows.isNull(i, 9) && !rows.value(i, 9).empty()) {
        w.key("span_id");
        w.value(rows.value(i, 9));
    }
    w.endObject();
}

void appendEventJson(std::string &out, const LogEvent &e, unsigned columns)
{
    JsonWriter w(out);
    w.beginObject();
    if (columns & ColId) {
        w.key("id");
        w.value(e.id);
    }
    if (columns & ColTs) {
        w.key("ts");
        w.value(std::to_string(e.tsNs));
    }
    if (columns & ColTime) {
        w.key("time");
        w.value(formatRfc3339Nanos(e.tsNs));
    }
    if (columns & ColReceived) {
        w.key("received");
        w.value(std::to_string(e.receivedNs));
    }
    if (columns & ColLevel) {
        w.key("level");
        w.value(levelName(e.level));
    }
    if (columns & ColApp) {
        w.key("app");
        w.value(e.app);
    }
    if (columns & ColHost) {
        w.key("host");
        w.value(e.host);
    }
    if (columns & ColMessage) {
        w.key("message");
        w.value(e.message);
    }
    if (columns & ColAttrs) {
        w.key("attrs");
        w.raw(e.attrsJson.empty() ? std::string_view("{}") : std::string_view(e.attrsJson));
    }
    if ((columns & ColTraceId) && !e.traceId.empty()) {
        w.key("trace_id");
        w.value(e.traceId);
    }
    if ((columns & ColSpanId) && !e.spanId.empty()) {
        w.key("span_id");
        w.value(e.spanId);
    }
    w.endObject();
}

std::string csvHeader()
{
    return "id,ts,time,received,level,app,host,message,attrs,trace_id,span_id\r\n";
}

void appendRowCsv(std::string &out, const pg::Rows &rows, int i)
{
    std::int64_t n = 0;
    parseInt64(rows.value(i, 1), n);
    appendCsvField(out, rows.value(i, 0));
    out.push_back(',');
    appendCsvField(out, rows.value(i, 1));
    out.push_back(',');
    appendCsvField(out, formatRfc3339Nanos(n));
    out.push_back(',');
    appendCsvField(out, rows.value(i, 2));
    out.push_back(',');
    appendCsvField(out, levelText(rows.value(i, 3)));
    for (int c = 4; c <= 9; ++c) {
        out.push_back(',');
        appendCsvField(out, rows.value(i, c));
    }
    out.append("\r\n");
}

std::string encodeCursor(std::int64_t tsNs, std::string_view id)
{
    const std::string plain = std::to_string(tsNs) + "|" + std::string(id);
    return QByteArray(plain.data(), static_cast<qsizetype>(plain.size()))
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
        .toStdString();
}

Result<std::pair<std::int64_t, std::string>> decodeCursor(std::string_view cursor)
{
    auto r = QByteArray::fromBase64Encoding(
        QByteArray(cursor.data(), static_cast<qsizetype>(cursor.size())),
        QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!r)
        return makeError(ErrorCode::BadField, "malformed cursor");
    const std::string plain = r.decoded.toStdString();
    const auto bar = plain.find('|');
    std::int64_t ts = 0;
    if (bar == std::string::npos || !parseInt64(std::string_view(plain).substr(0, bar), ts) ||
        plain.size() - bar - 1 != 36)
        return makeError(ErrorCode::BadField, "malformed cursor");
    return std::pair<std::int64_t, std::string>(ts, plain.substr(bar + 1));
}

} // namespace idl::gateway
