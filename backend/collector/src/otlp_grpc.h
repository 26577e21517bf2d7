#pragma once

// OTLP/gRPC logs (opentelemetry.proto.collector.logs.v1.LogsService/Export) in the collector
// process: gRPC's callback API, TLS/mTLS from the collector's certificate settings, the API
// key in the `authorization` (or `x-api-key`) metadata, events through the ingestion entry
// (ingest.h). Internal to the collector.

#include "idl/collector/authenticator.h"
#include "idl/collector/ingest.h"
#include "idl/core/result.h"
#include "idl/service/http_server.h"

#include <cstdint>
#include <memory>
#include <string>

namespace idl::collector {

struct OtlpGrpcOptions
{
    std::string address = "127.0.0.1";
    int port = -1;           // -1: no gRPC listener; 0: any free port
    int maxConcurrent = 256; // Export calls in progress at most; beyond: RESOURCE_EXHAUSTED
    std::size_t maxMessageBytes = 5 << 20; // = http.max-body (after decompression too)
    // TLS/mTLS as on HTTP (ServerOptions' tls* fields).
    std::string tlsCertFile, tlsKeyFile, tlsClientCaFile;
    bool tlsRequireClientCert = false;
};

class OtlpGrpcServer
{
public:
    OtlpGrpcServer(OtlpGrpcOptions options, Authenticator &auth, Ingest &ingest);
    ~OtlpGrpcServer();
    OtlpGrpcServer(const OtlpGrpcServer &) = delete;
    OtlpGrpcServer &operator=(const OtlpGrpcServer &) = delete;

    // Binds and serves. Unavailable when the port cannot be bound, BadField on TLS files.
    Result<void> start();
    // Stops accepting and cancels calls still waiting (their reactors are answered).
    void stop();
    std::uint16_t port() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::collector
