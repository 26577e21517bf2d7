#pragma once

#include "idl/core/log_event.h"
#include "idl/core/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idl::pg {
class Rows;
}

// Pieces of the wire format of docs/protocol.md shared by the WebSocket and HTTP APIs.
namespace idl::gateway {

// Parses a time argument: RFC 3339, ns since the epoch as decimal text, "now", or a
// relative "-15m" (units ms s m h d w). BadTimestamp on failure.
Result<std::int64_t> parseTimeArg(std::string_view text, std::int64_t nowNs);

// Chooses the aggregate bucket: the smallest of the standard widths that gives at most
// maxBuckets buckets over [fromNs, toNs).
std::int64_t chooseBucketNs(std::int64_t fromNs, std::int64_t toNs, int maxBuckets = 120);

// Column bit set for export rows.
enum Column : unsigned {
    ColId = 1u << 0,
    ColTs = 1u << 1,
    ColTime = 1u << 2,
    ColReceived = 1u << 3,
    ColLevel = 1u << 4,
    ColApp = 1u << 5,
    ColHost = 1u << 6,
    ColMessage = 1u << 7,
    ColAttrs = 1u << 8,
    ColTraceId = 1u << 9,
    ColSpanId = 1u << 10,
    ColAll = (1u << 11) - 1,
};
// Parses a column name ("time", "attrs", ...).
std::optional<unsigned> parseColumn(std::string_view name);

// Appends one event row object (protocol section 1) from row `i` of a page query result
// (columns id, ts, received, level, app, host, message, attrs, trace_id, span_id).
void appendRowJson(std::string &out, const pg::Rows &rows, int i, unsigned columns = ColAll);
// Appends one event row object from an event.
void appendEventJson(std::string &out, const LogEvent &event, unsigned columns = ColAll);
// Appends one CSV line (with \r\n) for row `i`; and the CSV header line.
void appendRowCsv(std::string &out, const pg::Rows &rows, int i);
std::string csvHeader();

// Opaque keyset cursor: base64url of "<ts>|<id>".
std::string encodeCursor(std::int64_t tsNs, std::string_view id);
// Decodes a cursor; BadField when malformed.
Result<std::pair<std::int64_t, std::string>> decodeCursor(std::string_view cursor);

} // namespace idl::gateway
