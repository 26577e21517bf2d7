#pragma once

#include "idl/core/json_codec.h"
#include "idl/core/log_event.h"
#include "idl/core/result.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Turning a request body into events: content type and encoding, bounded decompression, and
// splitting a JSON array or NDJSON into events that are decoded one by one (a bad event is
// rejected with its index and code; the others are kept). Pure functions, no I/O; the
// collector calls them on its I/O threads.
namespace idl::collector {

// Content-Encoding of a request body.
enum class ContentEncoding { Identity, Gzip, Zstd };

// Shape of a native ingestion body.
enum class BodyFormat {
    Json,  // application/json: one event object, or an array of them
    Ndjson // application/x-ndjson (and aliases): one event object per line
};

// Parses Content-Encoding: identity/absent, gzip (x-gzip), zstd. BadEncoding otherwise.
Result<ContentEncoding> parseContentEncoding(std::string_view header);

// Parses Content-Type for POST /api/v1/logs. BadEncoding for anything else (including a
// charset other than UTF-8).
Result<BodyFormat> parseNativeContentType(std::string_view header);

// The media type without parameters, lower-case ("application/json").
std::string mediaType(std::string_view header);

// Decompresses `body` in chunks; stops with TooLarge as soon as the output would exceed
// maxOutput bytes (so a decompression bomb costs at most maxOutput bytes of memory).
// Corrupt or truncated data: BadRequest. Identity returns the body unchanged.
Result<std::string> decompress(std::string body, ContentEncoding encoding, std::size_t maxOutput);

// Limits of one request's batch.
struct BatchLimits
{
    std::size_t maxEvents = 10'000; // more events in one request: the request fails (TooMany)
    std::size_t maxErrors = 100;    // per-event errors listed in the reply (all are counted)
};

// One rejected event: its 0-based index in the request and why.
struct EventError
{
    std::size_t index = 0;
    Error error;
};

// Accepted events in the canonical encoding, back to back in one buffer, each with its Kafka
// key (the app): what the collector produces, built without an allocation per event.
struct EncodedEvents
{
    // Where one event's value and key sit in `bytes`.
    struct Span
    {
        std::uint32_t valueOffset = 0;
        std::uint32_t valueSize = 0;
        std::uint32_t keyOffset = 0;
        std::uint32_t keySize = 0;
    };
    std::string bytes;
    std::vector<Span> spans;

    // Encodes one event (canonical JSON) and its key at the end.
    void append(const LogEvent &event);
    // Removes the last event appended.
    void dropLast()
    {
        bytes.resize(spans.back().valueOffset);
        spans.pop_back();
    }
    // Drops the events, keeps the buffers' capacity.
    void clear()
    {
        bytes.clear();
        spans.clear();
    }
    std::size_t size() const { return spans.size(); }
    std::string_view value(std::size_t i) const
    {
        return std::string_view(bytes).substr(spans[i].valueOffset, spans[i].valueSize);
    }
    std::string_view key(std::size_t i) const
    {
        return std::string_view(bytes).substr(spans[i].keyOffset, spans[i].keySize);
    }
};

// What a decoder does with the events it accepts.
enum class EventOutput {
    Events, // kept as LogEvents in DecodedBatch::events
    Encoded // encoded straight into DecodedBatch::encoded (no LogEvent per event)
};

// The events of one request that passed, and what was rejected.
struct DecodedBatch
{
    std::vector<LogEvent> events;    // accepted events (EventOutput::Events)
    EncodedEvents encoded;           // accepted events (EventOutput::Encoded)
    std::size_t total = 0;           // events in the request (accepted + rejected)
    std::size_t rejected = 0;        // rejected events (errors lists the first ones)
    std::vector<EventError> errors;  // at most BatchLimits::maxErrors, in index order
    std::optional<ErrorCode> common; // the code shared by every rejection, if there is one

    // Records a rejection.
    void reject(std::size_t index, Error error, std::size_t maxErrors);
    // Accepted events, in either form.
    std::size_t accepted() const { return events.size() + encoded.size(); }
};

// Called for each decoded event before it is accepted: may fill defaults (the app of the
// key) or return an error that rejects the event (e.g. Forbidden for another app).
using EventCheck = std::function<std::optional<Error>(LogEvent &)>;

// Called after each event appended to DecodedBatch::encoded (e.g. to produce it while the
// rest of the body is decoded).
using EncodedSink = std::function<void(const EncodedEvents &)>;

// Splits a native body and decodes every event. Request-level failures: TooMany (more than
// maxEvents events; an NDJSON body is counted before any event is decoded, so `onEncoded`
// never sees an event of a request that fails this way) and BadJson when the body holds no
// JSON value at all. With EventOutput::Encoded, `storage` lends its buffers to
// DecodedBatch::encoded (its contents are dropped), so a caller that hands them back request
// after request allocates none; `onEncoded` is called only for NDJSON bodies.
Result<DecodedBatch> decodeNativeBatch(std::string_view body, BodyFormat format,
                                       EventDecoder &decoder, std::int64_t receivedNs,
                                       const BatchLimits &limits, const EventCheck &check,
                                       EventOutput output = EventOutput::Events,
                                       EncodedEvents storage = {},
                                       const EncodedSink &onEncoded = {});

// Decodes an OTLP/HTTP JSON ExportLogsServiceRequest (see docs/collector.md for the
// mapping). BadJson when the body is not such a request; TooMany over maxEvents records.
Result<DecodedBatch> decodeOtlpJson(std::string_view body, std::int64_t receivedNs,
                                    const IngestLimits &eventLimits, const BatchLimits &limits,
                                    const EventCheck &check);

} // namespace idl::collector
