#pragma once

#include "idl/core/error.h"

namespace idl::service {

// The one table from error code to HTTP status, for every HTTP API of the project (the
// collector's ingestion endpoints, the gateway's /api/v1/query): input errors 400, then
// auth, not found, conflict, limits, encoding, back-pressure (429), cancel (499), internal
// (500) and dependencies / deadlines (503, which clients and shippers retry).
int httpStatus(ErrorCode code) noexcept;

} // namespace idl::service
