#pragma once

#include "idl/service/http_server.h"

#include <functional>
#include <string>

namespace idl::service {

// Adds the endpoints every service exposes:
//   GET /healthz  200 while the process serves requests
//   GET /readyz   200 when notReadyReason() is empty, else 503 with that reason
//   GET /metrics  Prometheus text of metrics::Registry::global(); when metricsToken is set,
//                 only with `Authorization: Bearer <token>` (401 otherwise)
void addOpsRoutes(http::Server &server, std::function<std::string()> notReadyReason,
                  std::string metricsToken);

// The readiness of several workers in one process (each with notReadyReason()): the first
// non-empty reason, or empty when all are ready. For addOpsRoutes.
template <typename Workers> std::string firstNotReady(const Workers &workers)
{
    for (const auto &w : workers)
        if (std::string why = w->notReadyReason(); !why.empty())
            return why;
    return {};
}

} // namespace idl::service
