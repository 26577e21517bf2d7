#include "otlp_grpc.h"

#include "otlp_reply.h"

#include "idl/core/timestamp.h"
#include "idl/observability/metrics.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <atomic>
#include <fstream>
#include <sstream>

namespace idl::collector {

namespace {

using LogsService = opentelemetry::proto::collector::logs::v1::LogsService;

Result<std::string> readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::BadField, "cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// "ipv4:127.0.0.1:5000" / "ipv6:[::1]:5000" -> the address, for the authenticator's
// per-address failure counting.
std::string peerAddress(const std::string &peer)
{
    std::string_view p = peer;
    if (const auto colon = p.find(':'); colon != std::string_view::npos)
        p.remove_prefix(colon + 1);
    if (const auto colon = p.rfind(':'); colon != std::string_view::npos)
        p = p.substr(0, colon);
    if (p.size() >= 2 && p.front() == '[' && p.back() == ']')
        p = p.substr(1, p.size() - 2);
    return std::string(p);
}

// An error status; with a retry delay, that delay goes where OTLP exporters read it: a
// google.rpc.Status with a RetryInfo detail (grpc-status-details-bin; the Go and Java
// exporters and the Collector retry RESOURCE_EXHAUSTED only when it is there) and the same
// RetryInfo in the google.rpc.retryinfo-bin trailer (the Python exporter reads only that one;
// without it, it backs off 1, 2, 4 ... s whatever the server asked).
grpc::Status toStatus(grpc::CallbackServerContext *ctx, ErrorCode code, const std::string &message,
                      std::chrono::milliseconds retryAfter)
{
    if (retryAfter.count() <= 0)
        return grpc::Status(static_cast<grpc::StatusCode>(otlp::grpcCode(code)), message);
    ctx->AddTrailingMetadata("google.rpc.retryinfo-bin", otlp::retryInfoProtobuf(retryAfter));
    return grpc::Status(static_cast<grpc::StatusCode>(otlp::grpcCode(code)), message,
                        otlp::statusProtobuf(code, message, retryAfter));
}

} // namespace

struct OtlpGrpcServer::Impl final : LogsService::CallbackService
{
    OtlpGrpcOptions opt;
    Authenticator &auth;
    Ingest &ingest;
    std::unique_ptr<grpc::Server> server;
    int boundPort = 0;
    std::atomic<int> inFlight{0};
    metrics::Registry &reg = metrics::Registry::global();

    Impl(OtlpGrpcOptions o, Authenticator &a, Ingest &i) : opt(std::move(o)), auth(a), ingest(i) {}

    void count(grpc::StatusCode code)
    {
        reg.counter("idl_collector_grpc_requests_total", "OTLP/gRPC Export calls by status code",
                    {{"code", std::to_string(static_cast<int>(code))}})
            .inc();
    }

    // Finishes the call (once) and gives its concurrency slot back.
    struct Call
    {
        Impl *impl;
        grpc::CallbackServerContext *ctx;
        grpc::ServerUnaryReactor *reactor;
        otlp::ExportResponse *response;
        void finish(const grpc::Status &status) const
        {
            impl->count(status.error_code());
            impl->inFlight.fetch_sub(1);
            reactor->Finish(status);
        }
    };

    grpc::ServerUnaryReactor *Export(grpc::CallbackServerContext *ctx,
                                     const otlp::ExportRequest *request,
                                     otlp::ExportResponse *response) override
    {
        const std::int64_t receivedNs = nowNs();
        auto *reactor = ctx->DefaultReactor();
        if (inFlight.fetch_add(1) >= opt.maxConcurrent) {
            inFlight.fetch_sub(1);
            const grpc::Status busy = toStatus(ctx, ErrorCode::Overloaded,
                                               "too many OTLP/gRPC calls in progress; retry later",
                                               std::chrono::milliseconds(1000));
            count(busy.error_code());
            reactor->Finish(busy);
            return reactor;
        }
        const Call call{this, ctx, reactor, response};

        // The credentials in the form the authenticator reads from HTTP: the authorization
        // (or x-api-key) metadata, the peer address and a verified client certificate.
        auto head = std::make_shared<http::Request>();
        const auto &md = ctx->client_metadata();
        for (const char *name : {"authorization", "x-api-key", "idempotency-key"})
            if (auto it = md.find(name); it != md.end())
                head->headers.emplace_back(name, std::string(it->second.data(), it->second.size()));
        head->peerAddress = peerAddress(ctx->peer());
        if (auto ac = ctx->auth_context(); ac && ac->IsPeerAuthenticated()) {
            const auto cn = ac->FindPropertyValues("x509_common_name");
            const auto subject = ac->FindPropertyValues("x509_subject");
            http::PeerCertificate cert;
            if (!cn.empty())
                cert.commonName.assign(cn.front().data(), cn.front().size());
            cert.subject = subject.empty()
                               ? "CN=" + cert.commonName
                               : std::string(subject.front().data(), subject.front().size());
            head->clientCertificate = std::move(cert);
        }
        auth.authenticate(*head, [this, call, head, request, receivedNs](Result<Identity> id) {
            if (!id)
                return call.finish(toStatus(call.ctx, id.error().code, id.error().message,
                                            id.error().code == ErrorCode::Unauthenticated
                                                ? std::chrono::milliseconds(0)
                                                : std::chrono::milliseconds(1000)));
            process(call, *request, receivedNs, *id, head->header("idempotency-key"));
        });
        return reactor;
    }

    void process(const Call &call, const otlp::ExportRequest &request, std::int64_t receivedNs,
                 const Identity &who, std::string_view idempotencyKey)
    {
        IngestRequest in = ingest.begin(
            protocol::OtlpGrpc, who,
            [call](IngestOutcome o) {
                if (o.error)
                    return call.finish(
                        toStatus(call.ctx, o.error->code, o.error->message, o.retryAfter));
                if (o.accepted == 0 && o.total > 0)
                    return call.finish(toStatus(
                        call.ctx, o.common.value_or(ErrorCode::BadRequest),
                        "no valid log record in the request: " + otlp::outcomeMessage(o), {}));
                *call.response = otlp::exportResponse(o);
                call.finish(grpc::Status::OK);
            },
            idempotencyKey);
        if (!in)
            return;
        const IngestSettings &s = ingest.settings();
        in.finish(otlp::mapRequest(request, receivedNs, s.event, s.batch, in.check()));
    }
};

OtlpGrpcServer::OtlpGrpcServer(OtlpGrpcOptions options, Authenticator &auth, Ingest &ingest)
    : d(std::make_unique<Impl>(std::move(options), auth, ingest))
{}

OtlpGrpcServer::~OtlpGrpcServer()
{
    stop();
}

Result<void> OtlpGrpcServer::start()
{
    const auto &o = d->opt;
    std::shared_ptr<grpc::ServerCredentials> creds;
    if (o.tlsCertFile.empty()) {
        creds = grpc::InsecureServerCredentials();
    } else {
        auto cert = readFile(o.tlsCertFile);
        auto key = readFile(o.tlsKeyFile);
        if (!cert || !key)
            return !cert ? cert.error() : key.error();
        grpc::SslServerCredentialsOptions ssl;
        ssl.pem_key_cert_pairs.push_back({*key, *cert});
        if (!o.tlsClientCaFile.empty()) {
            auto ca = readFile(o.tlsClientCaFile);
            if (!ca)
                return ca.error();
            ssl.pem_root_certs = *ca;
            // As on HTTP: a presented certificate must verify; without one the API key decides
            // unless client certificates are required.
            ssl.client_certificate_request =
                o.tlsRequireClientCert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                       : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
        }
        creds = grpc::SslServerCredentials(ssl);
    }
    grpc::ServerBuilder builder;
    const std::string host =
        o.address.find(':') != std::string::npos ? "[" + o.address + "]" : o.address;
    // gRPC sets SO_REUSEPORT by default: a second process (another collector, one still
    // exiting) could then bind the same port and receive part of the connections. A port in
    // use is an error here, as for the HTTP and syslog listeners.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddListeningPort(host + ":" + std::to_string(std::max(0, o.port)), creds,
                             &d->boundPort);
    builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<std::size_t>(
        o.maxMessageBytes, static_cast<std::size_t>(std::numeric_limits<int>::max()))));
    builder.RegisterService(d.get());
    d->server = builder.BuildAndStart();
    if (!d->server || d->boundPort == 0) {
        d->server.reset();
        return makeError(ErrorCode::Unavailable,
                         "cannot listen for OTLP/gRPC on " + host + ":" + std::to_string(o.port));
    }
    return {};
}

void OtlpGrpcServer::stop()
{
    if (!d->server)
        return;
    // Calls still waiting for Kafka get their outcome from the ingestion entry (or its ack
    // timeout) before the deadline; after it they are cancelled.
    d->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    d->server->Wait();
    d->server.reset();
}

std::uint16_t OtlpGrpcServer::port() const
{
    return static_cast<std::uint16_t>(d->boundPort);
}

} // namespace idl::collector
