#include "idl/core/error.h"

namespace idl {

std::string_view errorCodeName(ErrorCode code) noexcept
{
    switch (code) {
    case ErrorCode::BadJson:
        return "bad_json";
    case ErrorCode::InvalidUtf8:
        return "invalid_utf8";
    case ErrorCode::TooDeep:
        return "too_deep";
    case ErrorCode::TooLarge:
        return "too_large";
    case ErrorCode::TooMany:
        return "too_many";
    case ErrorCode::BadNumber:
        return "bad_number";
    case ErrorCode::NotAnObject:
        return "not_an_object";
    case ErrorCode::MissingField:
        return "missing_field";
    case ErrorCode::BadField:
        return "bad_field";
    case ErrorCode::BadTimestamp:
        return "bad_timestamp";
    case ErrorCode::BadLevel:
        return "bad_level";
    case ErrorCode::BadEncoding:
        return "bad_encoding";
    case ErrorCode::BadRequest:
        return "bad_request";
    case ErrorCode::Unauthenticated:
        return "unauthenticated";
    case ErrorCode::Forbidden:
        return "forbidden";
    case ErrorCode::RateLimited:
        return "rate_limited";
    case ErrorCode::Unavailable:
        return "unavailable";
    case ErrorCode::Timeout:
        return "timeout";
    case ErrorCode::Overloaded:
        return "overloaded";
    case ErrorCode::Cancelled:
        return "cancelled";
    case ErrorCode::NotFound:
        return "not_found";
    case ErrorCode::Conflict:
        return "conflict";
    case ErrorCode::Internal:
        return "internal";
    case ErrorCode::QuerySyntax:
        return "query_syntax";
    case ErrorCode::QueryTooComplex:
        return "query_too_complex";
    }
    return "internal";
}

} // namespace idl
