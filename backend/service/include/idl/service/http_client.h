#pragma once

#include "idl/core/result.h"

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace idl::http {

// The parts of an HTTP reply a client needs.
struct ClientReply
{
    int status = 0;
    std::string body;
    std::string retryAfter; // Retry-After header, if any
};

// An http:// or https:// URL split into its parts.
struct Url
{
    bool tls = false;
    std::string host;
    std::string port;   // "80" / "443" when the URL has none
    std::string target; // path and query, "/" when the URL has none
};
// Parses "http[s]://host[:port][/target]"; BadField for anything else.
Result<Url> parseUrl(std::string_view url);

// One keep-alive HTTP/1.1 client connection (Boost.Beast, blocking calls), plain or TLS
// (OpenSSL; the server's certificate is checked against the system's CAs, or `caFile`, and
// its name against the host). Connects on the first request and again after the server
// closed it or an error broke it. Used by the load generator and idl-alerter's webhooks. Use
// from one thread at a time; movable, not copyable.
class Client
{
public:
    Client(std::string host, std::string port,
           std::chrono::milliseconds timeout = std::chrono::seconds(30), bool tls = false,
           std::string caFile = {});
    Client(Client &&) noexcept;
    Client &operator=(Client &&) noexcept;
    ~Client();

    // A request header beyond the ones post() sets (name, value).
    using Header = std::pair<std::string_view, std::string_view>;

    // Sends one POST and reads its reply (body at most 16 MiB). A transport failure (connect,
    // TLS handshake, write, read) is an Unavailable error (Timeout after `timeout`) and
    // closes the connection; any HTTP status is a reply.
    Result<ClientReply> post(std::string_view target, std::string_view contentType,
                             std::string_view authorization, std::string body,
                             std::span<const Header> headers = {});

    // How many TCP connections were opened so far (1 while keep-alive holds).
    int connects() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::http
