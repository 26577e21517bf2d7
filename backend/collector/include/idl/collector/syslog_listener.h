#pragma once

#include "idl/collector/authenticator.h"
#include "idl/collector/syslog_parser.h"
#include "idl/core/log_event.h"
#include "idl/core/result.h"
#include "idl/service/http_server.h"
#include "idl/service/tls.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// Syslog listeners of the collector: RFC 5424 / RFC 3164 messages over TCP (octet counting
// or LF/NUL framing, RFC 6587), TCP + TLS (RFC 5425) and UDP (one datagram, one message), on
// Boost.Asio with their own I/O threads. Syslog carries no credentials: each listener maps
// its messages to one app, or (TLS) to the app of the client certificate. Parsed messages go
// to the collector's ingest entry in batches; a TCP connection stops being read while its
// batches not yet acknowledged by Kafka exceed a byte bound, and a batch the entry refuses
// (rate limit, full queue, Kafka down) is retried, so nothing read is dropped for that.
namespace idl::collector::syslog {

enum class Transport { Tcp, Tls, Udp };

// "syslog_tcp", "syslog_tls", "syslog_udp": the protocol label of metrics and stack.json.
std::string_view protocolName(Transport transport) noexcept;

// One listener: where, and the app its messages map to.
struct ListenerSpec
{
    Transport transport = Transport::Tcp;
    std::string address = "0.0.0.0";
    std::uint16_t port = 0; // 0: any free port (see Listeners::ports())
    // The app of every message. kAppFromMessage: the message's APP-NAME/TAG ("syslog" when it
    // has none). kAppFromCertificate (TLS only): the app mapped from the client certificate
    // (auth.client-cert-apps), which is then required.
    std::string app;
};

inline constexpr std::string_view kAppFromMessage = "*";
inline constexpr std::string_view kAppFromCertificate = "@cert";

// Parses "tcp:5514=web,udp:0.0.0.0:5514=web,tls:[::]:6514=@cert" (PROTO:[ADDRESS:]PORT=APP).
// BadField with the reason on malformed text.
Result<std::vector<ListenerSpec>> parseListenerSpecs(std::string_view text);

struct ListenerOptions
{
    std::vector<ListenerSpec> listeners;
    std::string defaultAddress = "0.0.0.0";        // for specs without an address
    FramingLimits framing;                         // max message, max octet-counted frame
    std::size_t maxConnectionBuffer = 256 * 1024;  // read buffer of one TCP connection
    std::size_t maxUnackedBytes = 4 * 1024 * 1024; // per connection; reading pauses above it
    std::size_t maxConnections = 1024;             // TCP + TLS connections at most
    std::size_t maxBatchEvents = 1000;             // events per batch handed to the ingest entry
    std::chrono::milliseconds handshakeTimeout{10'000}; // TLS handshake
    std::chrono::milliseconds retryAfter{1'000}; // retry of a refused batch (when it says none)
    int threads = 1;
    http::TlsServerSettings tls; // certificate of TLS listeners, optional client certificates
};

// What the ingest entry made of one batch.
struct BatchOutcome
{
    bool retry = false;                      // refused or not acknowledged: send it again
    std::chrono::milliseconds retryAfter{0}; // with retry; 0 = ListenerOptions default
    std::size_t accepted = 0;
    std::size_t rejected = 0; // events refused one by one (not retried)
};

// Hands one batch of events from `who` to the ingest entry; `done` is called exactly once,
// from any thread, once Kafka acknowledged (or it was refused). Must not block.
using SubmitBatch = std::function<void(Transport, const Identity &who, std::vector<LogEvent>,
                                       std::function<void(BatchOutcome)> done)>;

// The identity of a verified client certificate (the collector's mapping), or why not.
using CertificateIdentity = std::function<Result<Identity>(const http::PeerCertificate &)>;

// Counters of the listeners (also exported as metrics), for tests.
struct ListenerStats
{
    std::uint64_t messages = 0;           // messages read (parsed, malformed or too large)
    std::uint64_t malformed = 0;          // kept whole (see parseMessage)
    std::uint64_t tooLarge = 0;           // dropped: over the message size limit
    std::uint64_t dropped = 0;            // UDP batches refused by the ingest entry (events)
    std::uint64_t framingErrors = 0;      // connections closed for a framing error
    std::uint64_t retries = 0;            // batches sent again
    std::uint64_t pauses = 0;             // times a connection stopped reading (back-pressure)
    std::uint64_t connectionsOpen = 0;    // TCP + TLS now
    std::uint64_t connectionsRefused = 0; // over the limit, failed handshake or certificate
    std::uint64_t unackedEvents = 0;      // submitted, outcome not yet in
};

// The listeners. start() binds every one (Unavailable when a port is taken or a TLS file
// cannot be loaded); stop() closes them and their connections, dropping batches waiting for
// a retry (counted) but not those already handed to the ingest entry (their outcome is
// awaited by the collector like an HTTP request's). Thread-safe after start().
class Listeners
{
public:
    Listeners(ListenerOptions options, SubmitBatch submit, CertificateIdentity certificates);
    ~Listeners();
    Listeners(const Listeners &) = delete;
    Listeners &operator=(const Listeners &) = delete;

    Result<void> start();
    void stop();

    // The bound port of each listener, in the order of ListenerOptions::listeners.
    std::vector<std::uint16_t> ports() const;
    ListenerStats stats() const;

    struct Impl; // syslog_listener.cpp (its connections hold it)

private:
    std::shared_ptr<Impl> d;
};

} // namespace idl::collector::syslog
