#pragma once

#include <string>
#include <string_view>

namespace idl {

// Stable error codes shared by every component. The string names (errorCodeName) are part of
// the public API: HTTP bodies, WebSocket errors and DLQ headers carry them. Never renumber or
// rename; add new codes at the end of their group.
enum class ErrorCode {
    // input
    BadJson,      // not well-formed JSON
    InvalidUtf8,  // bytes are not valid UTF-8
    TooDeep,      // nesting deeper than the limit
    TooLarge,     // a value, event or body over its size limit
    TooMany,      // too many events, keys or items
    BadNumber,    // a number that cannot be represented (e.g. > 64-bit integer)
    NotAnObject,  // an event that is not a JSON object
    MissingField, // a required field is absent
    BadField,     // a field has the wrong type or an invalid value
    BadTimestamp, // timestamp cannot be parsed or is out of range
    BadLevel,     // level/severity is not recognised
    BadEncoding,  // unsupported content type or content encoding
    BadRequest,   // anything else wrong with a request
    // auth
    Unauthenticated, // no, unknown, or revoked credentials
    Forbidden,       // credentials valid but not allowed to do this
    RateLimited,     // too many requests; retry later
    // infrastructure
    Unavailable, // a dependency (Kafka, PostgreSQL) is down or did not answer in time
    Timeout,     // an operation exceeded its deadline
    Overloaded,  // bounded queue full; back off
    Cancelled,   // cancelled by the client
    NotFound,    // the named object does not exist
    Conflict,    // the object exists / was changed concurrently
    Internal,    // a bug; reported, never expected
    // query language
    QuerySyntax,     // the query text does not parse
    QueryTooComplex, // the query is over a complexity limit
};

// The stable snake_case name of a code, e.g. "bad_json".
std::string_view errorCodeName(ErrorCode code) noexcept;

// A failed operation: a stable code plus a human-readable message (and, for parse errors, a
// byte offset into the input, or -1).
struct Error
{
    ErrorCode code = ErrorCode::Internal;
    std::string message;
    long long position = -1;

    std::string_view codeName() const noexcept { return errorCodeName(code); }
};

} // namespace idl
