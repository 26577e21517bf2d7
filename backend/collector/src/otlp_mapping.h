#pragma once

// The OTLP log record -> LogEvent mapping shared by both OTLP encodings (otlp_json.cpp and
// otlp_protobuf.cpp; docs/collector.md has the table). Each encoding extracts a record's
// fields into RecordFields (checking what is specific to it: JSON types, byte lengths of ids)
// and buildEvent() applies the rest, so the JSON and protobuf forms of one request give the
// same events. Internal to the collector.

#include "idl/collector/ingest_decoder.h"
#include "idl/core/json_codec.h"
#include "idl/core/log_event.h"
#include "idl/core/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idl::collector::otlp {

// One attribute: its key and its value as minified JSON.
struct Attr
{
    std::string_view key;  // points into the request (or a literal)
    std::string json;      // the value as JSON (AnyValue mapped as in docs/collector.md)
    std::string_view text; // the string value, when it was a stringValue
};

// What a resource contributes to each of its records.
struct ResourceContext
{
    std::string app;         // service.name
    std::string host;        // host.name
    std::vector<Attr> attrs; // the other resource attributes
};

// Sorts a resource's attributes into app, host and the rest.
void setResourceAttributes(std::vector<Attr> attrs, ResourceContext &out);

// Adds otel.scope.name / otel.scope.version (when not empty) to a scope's attributes.
void addScopeIdentity(std::vector<Attr> &scopeAttrs, std::string_view name,
                      std::string_view version);

// Error for a duplicate key inside a record's attributes, etc.: checked by buildEvent.
struct RecordFields
{
    std::uint64_t timeUnixNano = 0;         // 0 = not given
    std::uint64_t observedTimeUnixNano = 0; // 0 = not given
    std::optional<long long> severityNumber;
    std::string_view severityText;
    std::optional<std::string_view> bodyText; // a stringValue body
    std::string bodyJson;                     // any other body, as JSON ("" = no body)
    std::string traceId;                      // lower-case hex, "" = none
    std::string spanId;                       // lower-case hex, "" = none
    std::vector<Attr> attrs;
    std::string_view eventName;
};

// The event of one record. Errors: BadTimestamp, BadLevel, TooLarge, BadField (repeated
// attribute key), TooMany (attributes).
Result<LogEvent> buildEvent(RecordFields &rec, const ResourceContext &res,
                            const std::vector<Attr> &scopeAttrs, std::int64_t receivedNs,
                            const IngestLimits &limits);

// Lower-case hex of a binary trace/span id ("" for empty or all-zero); BadField when it is
// not `bytes` long.
Result<std::string> hexId(std::string_view raw, std::size_t bytes, std::string_view what);

// Normalises a hex id from OTLP/JSON ("" for absent, empty or all-zero); BadField when it is
// not 2*bytes hex digits.
Result<std::string> normalizeHexId(std::string_view hex, std::size_t bytes, std::string_view what);

// Counts records of one request and files each one's event or rejection.
class BatchBuilder
{
public:
    BatchBuilder(const BatchLimits &limits, const EventCheck &check)
        : limits_(limits), check_(check)
    {}
    // The next record's index; TooMany past BatchLimits::maxEvents.
    Result<std::size_t> next();
    // The record's event (the check may still reject it) or why it was rejected.
    void add(std::size_t index, Result<LogEvent> event);
    DecodedBatch take();

private:
    const BatchLimits &limits_;
    const EventCheck &check_;
    DecodedBatch batch_;
    std::size_t count_ = 0;
};

} // namespace idl::collector::otlp
