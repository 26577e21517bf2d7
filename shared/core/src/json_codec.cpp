// What the JSON formats share: the decoder's parser and buffers, error texts. The formats
// themselves: ingest_format.cpp (lenient, what applications send), event_encoding.cpp
// (canonical, the Kafka topics), json_minify.cpp (the minifier both use).
#include "json_decoder_impl.h"

#include "idl/core/utf8.h"

#include <memory>

namespace idl {

namespace json_detail {

const char *typeName(element_type type) noexcept
{
    switch (type) {
    case element_type::ARRAY:
        return "an array";
    case element_type::OBJECT:
        return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
        return "a number";
    case element_type::STRING:
        return "a string";
    case element_type::BOOL:
        return "a boolean";
    case element_type::NULL_VALUE:
        return "null";
    }
    return "a value";
}

std::string quoted(std::string_view text, std::size_t limit)
{
    std::string out = "'";
    if (text.size() <= limit) {
        out.append(text);
    } else {
        std::size_t cut = limit;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;
        out.append(text.substr(0, cut));
        out.append("...");
    }
    out.push_back('\'');
    return out;
}

std::string sizeMessage(std::string_view what, std::size_t size, std::size_t limit)
{
    return std::string(what) + " is " + std::to_string(size) + " bytes; the limit is " +
           std::to_string(limit);
}

Error parseError(simdjson::error_code code, std::string_view json, std::size_t maxDepth)
{
    switch (code) {
    case simdjson::UTF8_ERROR: {
        const std::size_t at = findInvalidUtf8(json);
        const long long position = at == std::string_view::npos ? -1 : static_cast<long long>(at);
        return makeError(ErrorCode::InvalidUtf8,
                         position >= 0 ? "invalid UTF-8 at byte " + std::to_string(position)
                                       : std::string("invalid UTF-8"),
                         position);
    }
    case simdjson::DEPTH_ERROR:
        return makeError(ErrorCode::TooDeep,
                         "JSON nesting is deeper than " + std::to_string(maxDepth) + " levels");
    case simdjson::NUMBER_ERROR:
        return makeError(ErrorCode::BadNumber,
                         "a number is malformed or cannot be represented (integers are limited "
                         "to 64 bits, doubles to about 1.8e308)");
    case simdjson::EMPTY:
        return makeError(ErrorCode::BadJson, "empty input: expected a JSON object", 0);
    case simdjson::CAPACITY:
        return makeError(ErrorCode::TooLarge, "JSON document is too large");
    case simdjson::MEMALLOC:
        return makeError(ErrorCode::Internal, "out of memory while parsing JSON");
    case simdjson::STRING_ERROR:
        return makeError(ErrorCode::BadJson, "malformed JSON: invalid escape sequence in a string");
    case simdjson::UNESCAPED_CHARS:
        return makeError(ErrorCode::BadJson,
                         "malformed JSON: unescaped control character in a string");
    case simdjson::UNCLOSED_STRING:
        return makeError(ErrorCode::BadJson, "malformed JSON: unterminated string");
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
        return makeError(ErrorCode::BadJson,
                         "malformed JSON: invalid literal (expected true, false or null)");
    default:
        return makeError(ErrorCode::BadJson,
                         std::string("malformed JSON: ") + simdjson::error_message(code));
    }
}

} // namespace json_detail

EventDecoder::EventDecoder(IngestLimits limits) : d(std::make_unique<Impl>(limits)) {}
EventDecoder::~EventDecoder() = default;
EventDecoder::EventDecoder(EventDecoder &&) noexcept = default;
EventDecoder &EventDecoder::operator=(EventDecoder &&) noexcept = default;

const IngestLimits &EventDecoder::limits() const noexcept
{
    return d->limits;
}

} // namespace idl
