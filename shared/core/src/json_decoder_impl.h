#pragma once

// Private to idl::core: what the JSON formats share (json_codec.cpp), the minifier
// (json_minify.cpp), the lenient ingest format (ingest_format.cpp) and the canonical event
// encoding (event_encoding.cpp).
#include "idl/core/json_codec.h"

#include <simdjson.h>

#include <algorithm>

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace idl {

namespace json_detail {

using simdjson::dom::element;
using simdjson::dom::element_type;

// "an array", "a string", ... for error messages.
const char *typeName(element_type type) noexcept;

// User text quoted for an error message: at most `limit` bytes, cut on a UTF-8 boundary.
std::string quoted(std::string_view text, std::size_t limit = 64);

// "<what> is <size> bytes; the limit is <limit>".
std::string sizeMessage(std::string_view what, std::size_t size, std::size_t limit);

// Maps a simdjson parse failure to a stable error.
Error parseError(simdjson::error_code code, std::string_view json, std::size_t maxDepth);

// The minifier (json_minify.cpp): appends `value` as minified JSON to `out`. Fails with
// TooDeep when a container is nested deeper than maxDepth (depth = nesting level of `value`
// itself).
Result<void> writeMinified(std::string &out, element value, std::size_t depth,
                           std::size_t maxDepth);

} // namespace json_detail

// One parser and the ingest format's scratch buffers, reused across events.
struct EventDecoder::Impl
{
    explicit Impl(IngestLimits l) : limits(l)
    {
        // The parser's own maximum capacity stays at simdjson's default: incoming events are
        // size-checked before parsing, and canonical events may legitimately be larger than
        // maxEventBytes (the envelope adds a few fields). Buffers grow on demand and are kept.
        // simdjson's depth limit is only a backstop (its counting differs slightly by
        // container kind); the exact limit is enforced while walking the document.
        if (parser.allocate(std::min<std::size_t>(l.maxEventBytes, 64 * 1024) + 64,
                            std::max<std::size_t>(l.maxDepth, 1) + 2) != simdjson::SUCCESS)
            allocationFailed = true;
    }

    Result<json_detail::element> parse(std::string_view json, std::size_t maxDepth)
    {
        if (allocationFailed)
            return makeError(ErrorCode::Internal, "JSON parser could not allocate memory");
        json_detail::element root;
        const simdjson::error_code code = parser.parse(json.data(), json.size(), true).get(root);
        if (code != simdjson::SUCCESS)
            return json_detail::parseError(code, json, maxDepth);
        return root;
    }

    // Adds one attribute; checks the count, sizes and uniqueness of keys (ingest format).
    Result<void> addAttribute(std::string_view key, json_detail::element value);
    // Records an attribute key; false when it was seen before in this event.
    bool insertKey(std::string_view key);

    Result<void> decodeIncoming(std::string_view json, std::int64_t receivedNs, LogEvent &event);
    Result<void> decodeEventView(std::string_view json, CanonicalEventView &event);
    Result<LogEvent> decodeEvent(std::string_view json);

    IngestLimits limits;
    simdjson::dom::parser parser;
    bool allocationFailed = false;
    std::string attrs;
    std::size_t attributeCount = 0;
    std::size_t currentDepth = 2;
    static constexpr std::size_t kSmallKeys = 16;
    std::vector<std::string_view> smallKeys;
    std::unordered_set<std::string_view> attributeKeys; // past kSmallKeys keys
    std::vector<simdjson::dom::key_value_pair> extras;
};

} // namespace idl
