#pragma once

#include "idl/core/event_encoding.h"
#include "idl/core/log_event.h"
#include "idl/core/result.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

// JSON codecs for log events (simdjson DOM underneath, no Qt on this path): the umbrella
// header for the lenient ingest format (here), the canonical encoding (event_encoding.h)
// and the decoder that reads both.
//
// ## Native ingestion format (what applications send; EventDecoder::decodeIncoming)
//
// One JSON object per event. Recognised top-level fields (first alias present wins):
//
// | role      | keys                                          | accepted values                  |
// | --------- | --------------------------------------------- | -------------------------------- |
// | time      | ts, timestamp, time, @timestamp               | RFC 3339 string; epoch number or |
// |           |                                               | numeric string, unit by size:    |
// |           |                                               | <1e11 s, <1e14 ms, <1e17 us, ns  |
// | level     | level, severity, lvl, loglevel                | name/alias (case-insensitive),   |
// |           |                                               | or syslog number 0..7            |
// | app       | app, service, service.name, application       | string                           |
// | host      | host, hostname                                | string                           |
// | message   | message, msg, body                            | string; any other JSON value is  |
// |           |                                               | kept as its minified JSON text   |
// | attrs     | attrs, attributes                             | object, merged into attributes   |
// | trace id  | trace_id, traceId                             | 32 hex digits                    |
// | span id   | span_id, spanId                               | 16 hex digits                    |
// | id        | id                                            | UUID; kept (lower-cased)         |
//
// - null means "absent" for every field. Missing time -> the receive time; missing level ->
//   info; missing app/host -> "" (the caller fills defaults); missing message -> MissingField.
// - Every other top-level field becomes an attribute with its JSON value (minified). So does
//   a second alias of a role already filled (e.g. "time" after "ts"), and an "id" that is not
//   a UUID (a fresh UUIDv7 is generated instead). Nothing the sender wrote is dropped.
// - Attribute keys must be unique (attrs entries and top-level extras together): a repeated
//   key is BadField rather than a silent choice.
// - Trace/span ids are lower-cased; all-zero ids (the W3C "invalid" value) mean "no trace".
// - Limits (IngestLimits) are checked before memory is spent on the event: size -> TooLarge,
//   nesting -> TooDeep, attribute count -> TooMany; field and message sizes -> TooLarge.
// - Errors carry stable codes: BadJson, InvalidUtf8 (position = first bad byte), TooDeep,
//   TooLarge, TooMany, BadNumber (integer beyond 64 bits, number out of double range),
//   NotAnObject, MissingField, BadField, BadTimestamp, BadLevel.
//
// The canonical encoding of the Kafka topics (EventDecoder::decodeEvent, encodeEvent) is
// described in idl/core/event_encoding.h, which this header includes.
namespace idl {

struct CanonicalEventView; // idl/core/json_dom.h

// Limits applied to one incoming event, checked before memory is spent on it.
struct IngestLimits
{
    std::size_t maxEventBytes = 256 * 1024;   // size of the event's JSON text
    std::size_t maxDepth = 32;                // nesting of objects/arrays, the event object = 1
    std::size_t maxAttributes = 256;          // attributes after merging attrs and extras
    std::size_t maxFieldBytes = 64 * 1024;    // app, host, ids, attribute keys and values
    std::size_t maxMessageBytes = 128 * 1024; // the message
};

// Decodes events from JSON, reusing one simdjson parser and its buffers across calls.
//
// Lifecycle: create one per thread (or per worker) and keep it; not thread-safe. Never
// throws on any input (only std::bad_alloc if memory runs out).
class EventDecoder
{
public:
    explicit EventDecoder(IngestLimits limits = {});
    ~EventDecoder();
    EventDecoder(EventDecoder &&) noexcept;
    EventDecoder &operator=(EventDecoder &&) noexcept;
    EventDecoder(const EventDecoder &) = delete;
    EventDecoder &operator=(const EventDecoder &) = delete;

    // Decodes one event in the native ingestion format (see the table above); receivedNs
    // becomes LogEvent::receivedNs and the event time when none is given.
    Result<LogEvent> decodeIncoming(std::string_view json, std::int64_t receivedNs);

    // The same, decoded over `event` (every field is overwritten; its strings' capacity is
    // reused, so a loop over many events allocates nothing per event). On failure `event`
    // holds unspecified values.
    Result<void> decodeIncoming(std::string_view json, std::int64_t receivedNs, LogEvent &event);

    // Decodes one event in the canonical encoding (idl/core/event_encoding.h).
    Result<LogEvent> decodeEvent(std::string_view json);

    // The same checks and errors, without copying: `view` points into this decoder's parser
    // until the next decode (see CanonicalEventView in idl/core/json_dom.h). For readers that
    // re-encode the event at once (the processor) and need no LogEvent.
    Result<void> decodeEventView(std::string_view json, CanonicalEventView &view);

    // The limits this decoder applies.
    const IngestLimits &limits() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl
