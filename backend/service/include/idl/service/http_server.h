#pragma once

#include "idl/core/result.h"

#include <any>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace idl::http {

// Identity taken from a TLS client certificate that verified against the configured CA.
struct PeerCertificate
{
    std::string subject;    // one-line subject, e.g. "CN=checkout,O=Example"
    std::string commonName; // CN, empty if none
};

// One parsed request. The body is complete and within the route's body limit.
struct Request
{
    std::string method; // upper-case, e.g. "POST"
    std::string target; // raw request target, e.g. "/api/v1/logs?x=1"
    std::string path;   // target without the query
    std::string query;  // text after '?', not decoded
    std::vector<std::pair<std::string, std::string>> headers; // names lower-case
    std::string body;
    std::string peerAddress;
    std::optional<PeerCertificate> clientCertificate; // set only for a verified client cert
    std::any context; // what the route's gate found (e.g. the sender), for its handler

    // First value of a header (name lower-case), or empty.
    std::string_view header(std::string_view lowerName) const;
};

// A reply. Content-Length and Connection are set by the server.
struct Response
{
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Sends the response for one request. Call exactly once, from any thread; the write is
// posted to the connection's own strand. Calling it after the connection closed is safe.
using Responder = std::function<void(Response)>;

// Handles a request. Must not block: answer now, or keep the Responder and answer later.
using Handler = std::function<void(Request &&, Responder)>;

// Looks at a request before its body is read (Request::body is empty): proceed(nullopt)
// reads the body and calls the route's handler with this same Request (so what the gate put
// in Request::context reaches the handler); proceed(response) answers at once and closes the
// connection without reading the body (credentials first: a request that will be refused
// costs no body). proceed may be called later, from any thread, exactly once; the Request
// stays valid until then.
using Gate = std::function<void(Request &, std::function<void(std::optional<Response>)>)>;

// Limits and listener settings; every one is enforced while reading, before memory is spent.
struct ServerOptions
{
    std::string address = "127.0.0.1";
    std::uint16_t port = 0; // 0: pick a free port (see Server::port())
    int threads = 2;
    std::size_t maxHeaderBytes = 16 * 1024;
    std::size_t maxBodyBytes = 5 * 1024 * 1024;    // default for routes without their own
    std::chrono::milliseconds readTimeout{30'000}; // a request must arrive whole within this
    std::chrono::milliseconds idleTimeout{60'000}; // keep-alive connection with no request
    std::size_t maxConnections = 4096;
    // TLS: set certificate and key files to serve HTTPS only.
    std::string tlsCertFile;
    std::string tlsKeyFile;
    // With a CA file, client certificates are requested and verified (mTLS); a connection
    // presenting a certificate that does not verify is refused during the handshake.
    std::string tlsClientCaFile;
    bool tlsRequireClientCert = false;
    std::string serverName = "instant-dev-logs";
};

// Counters the server keeps for metrics and tests.
struct ServerStats
{
    std::uint64_t connectionsAccepted = 0;
    std::uint64_t connectionsOpen = 0;
    std::uint64_t requests = 0;
    std::uint64_t rejectedTooLarge = 0;
    std::uint64_t timedOut = 0;
    std::uint64_t tlsHandshakeFailures = 0;
};

// An HTTP/1.1 (and HTTPS) server on Boost.Beast with its own I/O threads. Routes are added
// before start(); handlers run on the I/O threads. Thread-safe after start(); stop() joins
// the threads and is called by the destructor.
class Server
{
public:
    explicit Server(ServerOptions options);
    ~Server();
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Exact-path route; a "*" segment matches any one non-empty path segment ("/*/_bulk").
    // Routes are tried in the order added. maxBodyBytes 0 = the server default. Methods not routed
    // on a known path get 405; unknown paths 404.
    void route(std::string method, std::string path, Handler handler, std::size_t maxBodyBytes = 0,
               Gate gate = {});

    // Binds and starts the I/O threads. Fails with Unavailable if the address is taken or
    // a TLS file cannot be loaded.
    Result<void> start();
    void stop();

    std::uint16_t port() const;
    bool tls() const;
    ServerStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// JSON error body used by every service: {"error":{"code":"...","message":"..."}}.
Response errorResponse(int status, std::string_view code, std::string_view message);

} // namespace idl::http
