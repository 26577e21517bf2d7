#pragma once

// OTLP logs in the protobuf encoding (OTLP/HTTP application/x-protobuf and OTLP/gRPC): the
// request -> events mapping, shared with OTLP/JSON through otlp_mapping.h. The replies are in
// otlp_reply.h. Internal to the collector.

#include "idl/collector/ingest_decoder.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace idl::collector::otlp {

using ExportRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using ExportResponse = opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;

// The events of a parsed request (docs/collector.md, OTLP mapping). TooMany over maxEvents
// records; a bad record is rejected with its index, the others kept.
Result<DecodedBatch> mapRequest(const ExportRequest &request, std::int64_t receivedNs,
                                const IngestLimits &eventLimits, const BatchLimits &limits,
                                const EventCheck &check);

} // namespace idl::collector::otlp
