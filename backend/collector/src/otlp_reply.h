#pragma once

// The replies OTLP defines, for an ingestion outcome: ExportLogsServiceResponse with
// partial_success, google.rpc.Status (OTLP/HTTP error bodies, gRPC status details with
// RetryInfo). Internal to the collector.

#include "idl/collector/ingest.h"
#include "otlp_protobuf.h"

#include <chrono>
#include <string>

namespace idl::collector::otlp {

// The ExportLogsServiceResponse for an outcome without a request-level error: empty when
// everything was accepted, else partial_success {rejected_log_records, error_message}.
ExportResponse exportResponse(const IngestOutcome &outcome);

// The error message OTLP's partial_success / Status carries for an outcome.
std::string outcomeMessage(const IngestOutcome &outcome);

// The gRPC status code (google.rpc.Code) for an error code.
int grpcCode(ErrorCode code);

// A serialized google.rpc.RetryInfo with `retryAfter` as its delay.
std::string retryInfoProtobuf(std::chrono::milliseconds retryAfter);

// A serialized google.rpc.Status (code = grpcCode, message); with a RetryInfo detail when
// retryAfter > 0.
std::string statusProtobuf(ErrorCode code, const std::string &message,
                           std::chrono::milliseconds retryAfter = {});

} // namespace idl::collector::otlp
