#include "otlp_reply.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace idl::collector::otlp {

std::string outcomeMessage(const IngestOutcome &o)
{
    if (o.error)
        return o.error->message;
    if (o.errors.empty())
        return o.rejected ? "some log records were rejected" : std::string();
    // The first reason, with its record's index, and how many more there are.
    const auto &first = o.errors.front();
    std::string m = std::to_string(o.rejected) + " of " + std::to_string(o.total) +
                    " log records rejected; record " + std::to_string(first.index) + " (" +
                    std::string(first.error.codeName()) + "): " + first.error.message;
    return m;
}

ExportResponse exportResponse(const IngestOutcome &o)
{
    ExportResponse r;
    if (o.rejected > 0) {
        auto *p = r.mutable_partial_success();
        p->set_rejected_log_records(static_cast<std::int64_t>(o.rejected));
        p->set_error_message(outcomeMessage(o));
    }
    return r;
}

int grpcCode(ErrorCode code)
{
    // google.rpc.Code numbers.
    switch (code) {
    case ErrorCode::Unauthenticated:
        return 16; // UNAUTHENTICATED
    case ErrorCode::Forbidden:
        return 7; // PERMISSION_DENIED
    case ErrorCode::RateLimited:
    case ErrorCode::Overloaded:
        return 8; // RESOURCE_EXHAUSTED
    case ErrorCode::Unavailable:
    case ErrorCode::Timeout:
        return 14; // UNAVAILABLE
    case ErrorCode::Cancelled:
        return 1;
    case ErrorCode::Internal:
        return 13;
    default:
        return 3; // INVALID_ARGUMENT
    }
}

std::string statusProtobuf(ErrorCode code, const std::string &message,
                           std::chrono::milliseconds retryAfter)
{
    google::rpc::Status s;
    s.set_code(grpcCode(code));
    s.set_message(message);
    if (retryAfter.count() > 0) {
        google::rpc::RetryInfo info;
        info.ParseFromString(retryInfoProtobuf(retryAfter));
        s.add_details()->PackFrom(info);
    }
    return s.SerializeAsString();
}

std::string retryInfoProtobuf(std::chrono::milliseconds retryAfter)
{
    google::rpc::RetryInfo info;
    info.mutable_retry_delay()->set_seconds(retryAfter.count() / 1000);
    info.mutable_retry_delay()->set_nanos(static_cast<int>(retryAfter.count() % 1000) * 1'000'000);
    return info.SerializeAsString();
}

} // namespace idl::collector::otlp
