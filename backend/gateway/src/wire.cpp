#include "idl/gateway/wire.h"

#include "idl/core/csv.h"

#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/pg/connection.h"
#include "idl/protocol/replies.h"

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

void appendRowJson(std::string &out, const pg::Rows &rows, int i, unsigned columns)
{
    protocol::RowView v;
    v.id = rows.value(i, 0);
    v.ts = rows.value(i, 1);
    parseInt64(v.ts, v.tsNs);
    v.received = rows.value(i, 2);
    v.level = levelText(rows.value(i, 3));
    v.app = rows.value(i, 4);
    v.host = rows.value(i, 5);
    v.message = rows.value(i, 6);
    v.attrs = rows.value(i, 7);
    if (!rows.isNull(i, 8))
        v.traceId = rows.value(i, 8);
    if (!rows.isNull(i, 9))
        v.spanId = rows.value(i, 9);
    protocol::appendRow(out, v, columns);
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

} // namespace idl::gateway
