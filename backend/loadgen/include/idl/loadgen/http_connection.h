#pragma once

// The load generator's HTTP client is the service library's (idl/service/http_client.h).
#include "idl/service/http_client.h"

#include <string>
#include <string_view>

namespace idl::loadgen {

using HttpReply = http::ClientReply;
using HttpConnection = http::Client;

// Splits "http://host:port[/...]" into host and port. False for anything else.
inline bool splitHttpUrl(std::string_view url, std::string &host, std::string &port)
{
    auto u = http::parseUrl(url);
    if (!u || u->tls)
        return false;
    host = u->host;
    port = u->port;
    return true;
}

} // namespace idl::loadgen
