#pragma once

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

} // namespace idl
