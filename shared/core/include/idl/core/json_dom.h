#pragma once

#include "idl/core/log_event.h"
#include "idl/core/result.h"

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

// The core's JSON helpers over a simdjson DOM, for decoders of other wire formats (the
// collector's Elasticsearch bulk and Loki push decoders) that parse with simdjson themselves.
// They are the ones the native ingest format uses, so every path writes attribute values and
// reports malformed JSON the same way. Users link simdjson::simdjson themselves.
namespace idl {

// Appends `value` as minified JSON to `out`: integers stay integers, doubles take the
// shortest form that reads back to the same value, strings are escaped as JsonWriter does.
// `depth` is the nesting level of `value` itself; TooDeep when a container sits deeper than
// maxDepth.
Result<void> appendMinifiedJson(std::string &out, simdjson::dom::element value, std::size_t depth,
                                std::size_t maxDepth);

// A simdjson parse failure of `json` as a stable error: InvalidUtf8 (with the position of the
// first bad byte), TooDeep, BadNumber, TooLarge, BadJson with the reason.
Error jsonParseError(simdjson::error_code code, std::string_view json, std::size_t maxDepth);

// A canonical v1 event (idl/core/event_encoding.h) read without copying anything
// (EventDecoder::decodeEventView): the strings and `attrs` point into the decoder's parser
// and stay valid until its next decode. decodeEvent copies this into a LogEvent.
struct CanonicalEventView
{
    std::string_view id;
    std::int64_t tsNs = 0;
    std::int64_t receivedNs = 0;
    Level level = Level::Info;
    std::string_view app;
    std::string_view host;
    std::string_view message;
    simdjson::dom::element attrs; // an object, nested no deeper than limits().maxDepth + 1
    std::string_view traceId;     // "" when absent
    std::string_view spanId;      // "" when absent
};

} // namespace idl
