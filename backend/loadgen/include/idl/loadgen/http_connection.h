#pragma once

#include "idl/core/result.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace idl::loadgen {

// The parts of an HTTP reply a load generator needs.
struct HttpReply
{
    int status = 0;
    std::string body;
    std::string retryAfter; // Retry-After header, if any
};

// One keep-alive HTTP/1.1 client connection (Boost.Beast, blocking calls). Connects on the
// first request and again after the server closed it or an error broke it. Use from one thread
// at a time; movable, not copyable.
class HttpConnection
{
public:
    HttpConnection(std::string host, std::string port,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30));
    HttpConnection(HttpConnection &&) noexcept;
    HttpConnection &operator=(HttpConnection &&) noexcept;
    ~HttpConnection();

    // Sends one POST and reads its reply. A transport failure (connect, write, read, timeout)
    // is an Unavailable error and closes the connection; any HTTP status is a reply.
    Result<HttpReply> post(std::string_view target, std::string_view contentType,
                           std::string_view authorization, std::string body);

    // How many TCP connections were opened so far (1 while keep-alive holds).
    int connects() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Splits "http://host:port[/...]" into host and port. False for anything else.
bool splitHttpUrl(std::string_view url, std::string &host, std::string &port);

} // namespace idl::loadgen
