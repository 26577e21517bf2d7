#pragma once

#include "idl/collector/authenticator.h"
#include "idl/collector/ingest.h"
#include "idl/collector/ingest_decoder.h"
#include "idl/collector/syslog_listener.h"
#include "idl/core/config.h"
#include "idl/core/json_codec.h"
#include "idl/core/result.h"
#include "idl/service/http_server.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace idl::collector {

// Everything the collector is configured with (declared once in declareSettings()).
struct CollectorOptions
{
    http::ServerOptions http;                  // listener, TLS/mTLS, read limits and timeouts
    std::size_t maxDecodedBodyBytes = 5 << 20; // after decompression
    IngestLimits eventLimits;                  // per event
    BatchLimits batchLimits;                   // per request
    std::size_t maxIdempotencyKeyBytes = 255;  // Idempotency-Key header value (400 over it)

    std::string pgDsn; // where api_keys lives
    AuthOptions auth;
    double rateLimitPerSecond = 100; // requests per identity; <= 0: off
    double rateLimitBurst = 200;

    std::string kafkaBootstrap;
    std::string topic = "idl.logs.raw";
    std::map<std::string, std::string> kafkaConfig; // extra librdkafka properties
    std::chrono::milliseconds ackTimeout{10'000};   // 503 when Kafka has not acked by then
    std::size_t queueHighWater = 100'000;           // 429 above this many queued messages
    std::chrono::milliseconds retryAfter{1'000};    // Retry-After for 429/503
    bool createTopic = true;
    int topicPartitions = 4;

    syslog::ListenerOptions syslog; // syslog listeners (none by default)
    // OTLP/gRPC listener (LogsService/Export): -1 = none, 0 = any free port. It uses the TLS
    // settings of `http` and its body limit as the largest message.
    int grpcPort = -1;
    std::string grpcAddress;     // "" = http.address
    int grpcMaxConcurrent = 256; // Export calls in progress at most

    std::string collectorId;  // idl-collector header on every record
    std::string metricsToken; // Bearer token for /metrics ("" = open)
};

// Declares every collector setting on a Config (names, defaults, descriptions).
void declareSettings(Config &config);

// Builds options from a loaded Config. BadField on inconsistent settings.
Result<CollectorOptions> optionsFromConfig(const Config &config);

// The ingestion service: HTTP(S) endpoints POST /api/v1/logs (native JSON/NDJSON) and
// POST /v1/logs (OTLP/HTTP protobuf and JSON), /healthz, /readyz, /metrics; OTLP/gRPC
// (LogsService/Export) on its own port; authentication against the
// api_keys table (cached) or client certificates; a Kafka producer (acks=all, idempotent)
// whose delivery reports answer each request once every accepted event is acknowledged.
//
// Lifecycle: construct, start() (connects Kafka, optionally creates the topic, starts the
// readiness probe and the HTTP threads), stop() (stops accepting, waits for pending
// deliveries up to the ack timeout, then closes Kafka). The destructor calls stop().
// Request handling runs on the HTTP server's I/O threads, the key lookup thread and the
// producer's poll thread; none of them blocks on Kafka.
class Collector
{
public:
    explicit Collector(CollectorOptions options);
    // With a custom key lookup instead of PostgreSQL (tests, embedding).
    Collector(CollectorOptions options, KeyLookup lookup);
    ~Collector();
    Collector(const Collector &) = delete;
    Collector &operator=(const Collector &) = delete;

    Result<void> start();
    void stop();

    // The bound HTTP port (after start()).
    std::uint16_t port() const;
    // The bound OTLP/gRPC port (after start()); 0 without a gRPC listener.
    std::uint16_t grpcPort() const;
    // "" when ready (Kafka answers), else why not.
    std::string notReadyReason() const;
    // The protocol-neutral ingestion entry (ingest.h) for other front ends (gRPC, syslog);
    // usable between start() and stop().
    Ingest &ingest();
    // The bound port of each syslog listener (CollectorOptions::syslog.listeners order).
    std::vector<std::uint16_t> syslogPorts() const;
    syslog::ListenerStats syslogStats() const;
    // Messages queued in the producer or in flight.
    int queueDepth() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::collector
