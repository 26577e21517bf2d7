// The JSON minifier: a simdjson DOM value back to compact JSON text (attributes, structured
// messages). Numbers keep their kind: integers stay integers, doubles take the shortest
// form that reads back to the same value.
#include "json_decoder_impl.h"

#include "idl/core/json_dom.h"

#include "idl/core/json_writer.h"

namespace idl::json_detail {

Result<void> writeMinified(std::string &out, element value, std::size_t depth, std::size_t maxDepth)
{
    switch (value.type()) {
    case element_type::OBJECT: {
        if (depth > maxDepth)
            break;
        simdjson::dom::object object;
        if (value.get_object().get(object))
            return makeError(ErrorCode::Internal, "object access failed");
        out.push_back('{');
        bool first = true;
        for (const simdjson::dom::key_value_pair field : object) {
            if (!first)
                out.push_back(',');
            first = false;
            appendJsonString(out, field.key);
            out.push_back(':');
            if (Result<void> r = writeMinified(out, field.value, depth + 1, maxDepth); !r)
                return r;
        }
        out.push_back('}');
        return {};
    }
    case element_type::ARRAY: {
        if (depth > maxDepth)
            break;
        simdjson::dom::array array;
        if (value.get_array().get(array))
            return makeError(ErrorCode::Internal, "array access failed");
        out.push_back('[');
        bool first = true;
        for (const element item : array) {
            if (!first)
                out.push_back(',');
            first = false;
            if (Result<void> r = writeMinified(out, item, depth + 1, maxDepth); !r)
                return r;
        }
        out.push_back(']');
        return {};
    }
    case element_type::STRING: {
        std::string_view text;
        if (value.get_string().get(text))
            return makeError(ErrorCode::Internal, "string access failed");
        appendJsonString(out, text);
        return {};
    }
    case element_type::INT64: {
        std::int64_t number = 0;
        if (value.get_int64().get(number))
            return makeError(ErrorCode::Internal, "number access failed");
        appendJsonInt(out, number);
        return {};
    }
    case element_type::UINT64: {
        std::uint64_t number = 0;
        if (value.get_uint64().get(number))
            return makeError(ErrorCode::Internal, "number access failed");
        appendJsonUInt(out, number);
        return {};
    }
    case element_type::DOUBLE: {
        double number = 0;
        if (value.get_double().get(number))
            return makeError(ErrorCode::Internal, "number access failed");
        appendJsonDouble(out, number);
        return {};
    }
    case element_type::BOOL: {
        bool flag = false;
        if (value.get_bool().get(flag))
            return makeError(ErrorCode::Internal, "boolean access failed");
        out.append(flag ? "true" : "false");
        return {};
    }
    case element_type::NULL_VALUE:
        out.append("null");
        return {};
    }
    return makeError(ErrorCode::TooDeep,
                     "JSON nesting is deeper than " + std::to_string(maxDepth) + " levels");
}

} // namespace idl::json_detail

namespace idl {

Result<void> appendMinifiedJson(std::string &out, simdjson::dom::element value, std::size_t depth,
                                std::size_t maxDepth)
{
    return json_detail::writeMinified(out, value, depth, maxDepth);
}

Error jsonParseError(simdjson::error_code code, std::string_view json, std::size_t maxDepth)
{
    return json_detail::parseError(code, json, maxDepth);
}

} // namespace idl
