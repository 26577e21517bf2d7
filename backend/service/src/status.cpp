#include "idl/service/status.h"

namespace idl::service {

int httpStatus(ErrorCode code) noexcept
{
    switch (code) {
    case ErrorCode::BadJson:
    case ErrorCode::InvalidUtf8:
    case ErrorCode::TooDeep:
    case ErrorCode::BadNumber:
    case ErrorCode::NotAnObject:
    case ErrorCode::MissingField:
    case ErrorCode::BadField:
    case ErrorCode::BadTimestamp:
    case ErrorCode::BadLevel:
    case ErrorCode::BadRequest:
    case ErrorCode::QuerySyntax:
    case ErrorCode::QueryTooComplex:
        return 400;
    case ErrorCode::Unauthenticated:
        return 401;
    case ErrorCode::Forbidden:
        return 403;
    case ErrorCode::NotFound:
        return 404;
    case ErrorCode::Conflict:
        return 409;
    case ErrorCode::TooLarge:
    case ErrorCode::TooMany:
        return 413;
    case ErrorCode::BadEncoding:
        return 415;
    case ErrorCode::RateLimited:
    case ErrorCode::Overloaded:
        return 429;
    case ErrorCode::Cancelled:
        return 499;
    case ErrorCode::Internal:
        return 500;
    case ErrorCode::Unavailable:
    case ErrorCode::Timeout:
        return 503;
    }
    return 500;
}

} // namespace idl::service
