#pragma once

#include "idl/collector/ingest_decoder.h"
#include "idl/core/json_codec.h"
#include "idl/core/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The Loki push API as a way in (docs/ingest.md, "Loki push API"): POST /loki/api/v1/push in
// JSON or in protobuf (logproto.PushRequest, backend/collector/proto/loki_push.proto) after
// snappy, decoded into events. Stream labels map to app, host, level and attributes; entries'
// structured metadata to attributes (and trace/span ids). A stream whose labels do not parse
// rejects its entries; a bad entry rejects itself; the rest is kept. Pure functions, no I/O.
namespace idl::collector {

// One label pair of a stream.
using LokiLabels = std::vector<std::pair<std::string, std::string>>;

// Parses a label set in Prometheus syntax, as Loki's StreamAdapter.labels carries it:
// {name="value", name2="value2"}. Names match [a-zA-Z_][a-zA-Z0-9_]*; values are
// double-quoted with Go escapes (\" \\ \n \t \r \a \b \f \v \xHH \ooo \uHHHH \UHHHHHHHH) or
// back-quoted raw; a trailing comma and whitespace are allowed. BadField (with the byte
// position) for anything else: an unterminated value, a bad escape, another matcher than =,
// a repeated name, invalid UTF-8, an empty set.
Result<LokiLabels> parseLokiLabels(std::string_view text);

// A decoded push request: the accepted events (batch.events; entry i of the request, counted
// over all streams in order, is index i) and Loki-style messages for what was rejected.
struct LokiBatch
{
    DecodedBatch batch;
    std::vector<std::string> errors; // at most BatchLimits::maxErrors lines, each naming its stream
    std::size_t streams = 0;
};

// Decodes a JSON push body: {"streams":[{"stream":{labels},"values":[["<unix ns>","line",
// {structured metadata}?], ...]}]}. Request-level failures: BadJson (not such a body) and
// TooMany (more entries than limits.maxEvents).
Result<LokiBatch> decodeLokiJson(std::string_view body, std::int64_t receivedNs,
                                 const IngestLimits &eventLimits, const BatchLimits &limits,
                                 const EventCheck &check);

// Decodes a protobuf push body (already snappy-decompressed): logproto.PushRequest. Request-
// level failures: BadRequest (not a PushRequest) and TooMany.
Result<LokiBatch> decodeLokiProtobuf(std::string_view body, std::int64_t receivedNs,
                                     const IngestLimits &eventLimits, const BatchLimits &limits,
                                     const EventCheck &check);

// The text body of a 400 answer: the error lines, plus how many were not listed.
std::string lokiErrorText(const LokiBatch &batch);

} // namespace idl::collector
