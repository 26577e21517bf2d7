#pragma once

#include "idl/collector/authenticator.h"
#include "idl/collector/ingest_decoder.h"
#include "idl/core/json_codec.h"
#include "idl/core/result.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The protocol-neutral ingestion entry of the collector. Every front end (native and OTLP
// HTTP routes, OTLP/gRPC, syslog, ...) authenticates its sender in its own way, decodes its
// own wire format into events, and hands both to this entry, which applies the same rules on
// every path:
//   - admission: the per-identity rate limit, Kafka readiness and the producer queue
//     high-water mark (refused before anything is decoded or produced);
//   - the app scope of the identity (EventCheck: a missing app is filled in, another app is
//     Forbidden), per-event limits and the per-request event count;
//   - producing the accepted events to the raw topic, and the outcome only once Kafka
//     acknowledged every one of them (or failed, or the ack timeout passed);
//   - metrics labelled with the front end's protocol name.
//
// Two ways in:
//   1. begin() / IngestRequest: for decoders that stream (produce events while the rest of the
//      body is decoded) or that take the check into their decoding (DecodedBatch, with the
//      rejections' indices in request order).
//   2. submit(): events already decoded as LogEvents (index i = events[i]).
// The outcome callback runs exactly once, on any thread (inline for refusals, else on the
// producer's delivery thread or the ack deadline thread); it must not block.
namespace idl::collector {

// Protocol names used as the `protocol` metrics label (any short [a-z_] name works).
namespace protocol {
inline constexpr std::string_view Native = "native";
inline constexpr std::string_view OtlpHttpJson = "otlp_http_json";
inline constexpr std::string_view OtlpHttpProtobuf = "otlp_http_protobuf";
inline constexpr std::string_view OtlpGrpc = "otlp_grpc";
inline constexpr std::string_view EsBulk = "es_bulk";
inline constexpr std::string_view LokiJson = "loki_json";
inline constexpr std::string_view LokiProtobuf = "loki_protobuf";
// Syslog: syslog::protocolName() ("syslog_tcp", "syslog_tls", "syslog_udp").
} // namespace protocol

// What one ingestion request came to.
struct IngestOutcome
{
    // Set when the request was refused as a whole (accepted is then 0): RateLimited or
    // Overloaded (retry later, HTTP 429), Unavailable (Kafka not ready or did not acknowledge
    // in time, HTTP 503), or the request-level error the front end passed to finish()
    // (TooMany, BadJson, ...). After produce, a refusal means "retry the whole request": some
    // of its events may still be written (at-least-once).
    std::optional<Error> error;
    std::size_t total = 0;          // events in the request (accepted + rejected)
    std::size_t accepted = 0;       // events acknowledged by Kafka
    std::size_t rejected = 0;       // events refused (with `error` set: every event of the request)
    std::vector<EventError> errors; // the first BatchLimits::maxErrors rejections, by index
    std::optional<ErrorCode> common;         // the code shared by every rejection, if there is one
    std::chrono::milliseconds retryAfter{0}; // > 0 when a retry should wait (429/503 cases)
};

using IngestDone = std::function<void(IngestOutcome)>;

// Limits every front end applies while decoding (the collector's configuration).
struct IngestSettings
{
    IngestLimits event;              // per event
    BatchLimits batch;               // per request
    std::size_t maxDecodedBodyBytes; // a request's body after decompression
};

// One admitted request. Move-only; finish() must be called once (the destructor finishes an
// unfinished request with an Internal error, so its callback still runs).
class IngestRequest
{
public:
    struct State; // collector.cpp
    IngestRequest() = default;
    explicit IngestRequest(std::unique_ptr<State> state);
    IngestRequest(IngestRequest &&) noexcept;
    IngestRequest &operator=(IngestRequest &&) noexcept;
    ~IngestRequest();

    // False when admission refused the request (its callback already ran).
    explicit operator bool() const { return state_ != nullptr; }

    // The app-scope check of the identity, for the decoder (DecodedBatch rejections).
    const EventCheck &check() const;
    // Produces one accepted event now (canonical encoding, key = app). Events produced this
    // way must be the first produced() entries of the `encoded` buffer of the batch passed to
    // finish(), which produces only the entries after them, then `events`.
    void produce(std::string_view key, std::string_view value);
    // A sink for decodeNativeBatch that produces each encoded event as it is appended.
    EncodedSink sink();
    // Events produced so far.
    std::size_t produced() const;

    // Ends the request: produces the accepted events of `batch` not produced yet (`encoded`
    // from produced() on, then `events`), then calls the callback once Kafka acknowledged
    // every one. A request-level error, or a batch with no accepted event, answers at once
    // when nothing was produced. Calls after the first are ignored.
    // `reuse`, when given, gets the batch's `encoded` buffers back (emptied) after producing
    // (librdkafka copies every message), so a caller can lend them to its next request.
    void finish(Result<DecodedBatch> batch, EncodedEvents *reuse = nullptr);

private:
    std::unique_ptr<State> state_;
};

// The key of an Idempotency-Key header value (IETF httpapi draft: a structured-field string,
// "..."; a bare token is accepted too): 1..maxBytes bytes of visible ASCII (0x21-0x7E) other
// than '"' and '\\'. BadRequest otherwise, naming the rule.
Result<std::string_view> parseIdempotencyKey(std::string_view header, std::size_t maxBytes);

// The entry, implemented by the Collector (Collector::ingest()). Thread-safe.
class Ingest
{
public:
    virtual ~Ingest() = default;

    // Admission for one request of `who` over `protocol`: per-identity rate limit, Kafka
    // readiness, producer queue high-water. When refused, `done` is called at once with the
    // refusal (retryAfter set) and the returned request is empty.
    // `idempotencyKey`: the request's Idempotency-Key header as received ("" = none); a
    // malformed one refuses the request (BadRequest) before anything is produced, a valid one
    // goes on every produced event with its index (idl/kafka/idempotency.h) so the writer
    // stores a resent request's events once (docs/ingest.md, "Idempotent requests").
    virtual IngestRequest begin(std::string_view protocol, const Identity &who, IngestDone done,
                                std::string_view idempotencyKey = {}) = 0;

    // One-shot: admission, then the app-scope check, the event count and the per-event size
    // limit (canonical encoding over IngestLimits::maxEventBytes: TooLarge) on `events`
    // (index = position), produce, and `done` after Kafka's acknowledgements. An event without
    // an id gets a new one (UUIDv7), without receivedNs the time of this call, without tsNs
    // its receivedNs. Field limits (IngestLimits) are the front end's to apply while decoding.
    void submit(std::string_view protocol, const Identity &who, std::vector<LogEvent> events,
                IngestDone done);

    // The limits front ends decode with.
    virtual const IngestSettings &settings() const = 0;
};

} // namespace idl::collector
