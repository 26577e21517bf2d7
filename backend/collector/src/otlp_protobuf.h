#pragma once

// OTLP logs in the protobuf encoding (OTLP/HTTP application/x-protobuf and OTLP/gRPC): the
// request -> events mapping (shared with OTLP/JSON through otlp_mapping.h) and the replies
// OTLP defines (ExportLogsServiceResponse with partial_success, google.rpc.Status).
// Internal to the collector.

#include "idl/collector/ingest.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

#include <chrono>
#include <string>

namespace idl::collector::otlp {

using ExportRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using ExportResponse = opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;

// The events of a parsed request (docs/collector.md, OTLP mapping). TooMany over maxEvents
// records; a bad record is rejected with its index, the others kept.
Result<DecodedBatch> mapRequest(const ExportRequest &request, std::int64_t receivedNs,
                                const IngestLimits &eventLimits, const BatchLimits &limits,
                                const EventCheck &check);

// The ExportLogsServiceResponse for an outcome without a request-level error: empty when
// everything was accepted, else partial_success {rejected_log_records, error_message}.
ExportResponse exportResponse(const IngestOutcome &outcome);

// The error message OTLP's partial_success / Status carries for an outcome.
std::string outcomeMessage(const IngestOutcome &outcome);

// The gRPC status code (google.rpc.Code) for an error code.
int grpcCode(ErrorCode code);

// A serialized google.rpc.Status (code = grpcCode, message); with a RetryInfo detail when
// retryAfter > 0.
std::string statusProtobuf(ErrorCode code, const std::string &message,
                           std::chrono::milliseconds retryAfter = {});

} // namespace idl::collector::otlp
