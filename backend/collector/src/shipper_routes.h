#pragma once

#include "idl/collector/authenticator.h"
#include "idl/collector/ingest.h"
#include "idl/service/http_server.h"

#include <string>

namespace idl::collector {

// Adds the Elasticsearch bulk API (POST /_bulk, POST /{index}/_bulk and the read endpoints
// shippers call at start-up) and the Loki push API (POST /loki/api/v1/push) to `server`
// (docs/ingest.md). Every route authenticates from the headers before the body is read and
// answers refusals in its protocol's own format; events go through `ingest` (metrics protocol
// names es_bulk, loki_json, loki_protobuf). `auth` and `ingest` must outlive the server.
void addShipperRoutes(http::Server &server, Ingest &ingest, Authenticator &auth,
                      std::string nodeName);

} // namespace idl::collector
