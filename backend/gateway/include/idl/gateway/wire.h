#pragma once

#include "idl/core/result.h"
#include "idl/protocol/requests.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idl::pg {
class Rows;
}

// The gateway's side of the wire format (idl/protocol has the rest): rows of the database
// as protocol rows or CSV, and the aggregate bucket policy.
namespace idl::gateway {

// Chooses the aggregate bucket: the smallest of the standard widths that gives at most
// maxBuckets buckets over [fromNs, toNs).
std::int64_t chooseBucketNs(std::int64_t fromNs, std::int64_t toNs, int maxBuckets = 120);

// Appends one event row object (protocol section 1) from row `i` of a page query result
// (columns id, ts, received, level, app, host, message, attrs, trace_id, span_id).
void appendRowJson(std::string &out, const pg::Rows &rows, int i,
                   unsigned columns = protocol::ColAll);
// Appends one CSV line (with \r\n) for row `i`; and the CSV header line.
void appendRowCsv(std::string &out, const pg::Rows &rows, int i);
std::string csvHeader();

} // namespace idl::gateway
