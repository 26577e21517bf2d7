#pragma once

#include "idl/core/error.h"

namespace idl::collector {

// The one table from error code to HTTP status for the collector's ingestion API
// (see docs/collector.md). Per-event input errors map to 400; the request-level codes
// (auth, limits, back-pressure, Kafka) to their own statuses.
int httpStatus(ErrorCode code) noexcept;

} // namespace idl::collector
