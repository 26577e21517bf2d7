// HTTP front ends for shippers that speak Elasticsearch's bulk API or Loki's push API: their
// content types, credentials and reply formats around the protocol-neutral ingest entry.
#include "shipper_routes.h"

#include "idl/collector/es_bulk.h"
#include "idl/collector/loki_push.h"
#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/service/status.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>

namespace idl::collector {

namespace {

using Clock = std::chrono::steady_clock;

std::string retryAfterSeconds(std::chrono::milliseconds wait)
{
    return std::to_string(std::max<long long>(1, (wait.count() + 999) / 1000));
}

// ---- credentials first, refusals in the protocol's format ----------------------------------

using Refusal = std::function<http::Response(const Error &)>;

// The route's gate: the credentials are checked from the headers before the body is read; the
// identity reaches the handler in Request::context.
http::Gate credentialsFirst(Authenticator &auth, Refusal refusal)
{
    return [&auth, refusal = std::move(refusal)](
               http::Request &head, std::function<void(std::optional<http::Response>)> proceed) {
        auth.authenticate(head, [&head, proceed, refusal](Result<Identity> id) {
            if (!id)
                return proceed(refusal(id.error()));
            head.context = std::move(id).value();
            proceed(std::nullopt);
        });
    };
}

// ---- Elasticsearch -----------------------------------------------------------------------

http::Response esResponse(int status, std::string body)
{
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    // Checked by the official clients (8.x) on their first successful answer.
    r.headers.emplace_back("X-Elastic-Product", "Elasticsearch");
    return r;
}

http::Response esError(const Error &e, std::chrono::milliseconds retryAfter = {})
{
    const EsErrorKind kind = esErrorKind(e.code);
    http::Response r = esResponse(kind.status, esErrorBody(kind.status, kind.type, e.message));
    if (kind.status == 401)
        r.headers.emplace_back("WWW-Authenticate",
                               "ApiKey, Basic realm=\"idl-collector\" charset=\"UTF-8\"");
    if (kind.status == 429 || kind.status == 503)
        r.headers.emplace_back("Retry-After",
                               retryAfterSeconds(retryAfter.count() > 0
                                                     ? retryAfter
                                                     : std::chrono::milliseconds(1000)));
    return r;
}

// The decoder of this I/O thread (its parser and buffers are reused).
EsBulkDecoder &esDecoder(const IngestLimits &limits)
{
    thread_local std::optional<EsBulkDecoder> dec;
    thread_local const IngestLimits *owner = nullptr;
    if (!dec || owner != &limits) {
        dec.emplace(limits);
        owner = &limits;
    }
    return *dec;
}

bool esContentType(std::string_view header)
{
    const std::string type = mediaType(header);
    return type == "application/json" || type == "application/x-ndjson" ||
           type == "application/vnd.elasticsearch+json" ||
           type == "application/vnd.elasticsearch+x-ndjson";
}

void handleBulk(Ingest &ingest, http::Request &&req, const http::Responder &respond)
{
    const std::int64_t receivedNs = nowNs();
    const auto started = Clock::now();
    const Identity *who = std::any_cast<Identity>(&req.context);
    if (!who)
        return respond(esError(makeError(ErrorCode::Internal, "no identity")));
    // The items live until the reply is built (after Kafka's acknowledgements).
    struct Items
    {
        std::vector<EsBulkItem> items;
        std::vector<std::string> indices;
        std::size_t rejected = 0;
    };
    auto items = std::make_shared<Items>();
    IngestRequest in = ingest.begin(
        protocol::EsBulk, *who,
        [respond, items, started](IngestOutcome o) {
            if (o.error)
                return respond(esError(*o.error, o.retryAfter));
            EsBulkBatch view;
            view.items = std::move(items->items);
            view.indices = std::move(items->indices);
            view.batch.rejected = items->rejected;
            const auto took =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)
                    .count();
            respond(esResponse(200, esBulkResponse(view, took)));
        },
        req.header("idempotency-key"));
    if (!in)
        return;
    if (!esContentType(req.header("content-type")))
        return in.finish(
            makeError(ErrorCode::BadEncoding,
                      "Content-Type header [" + std::string(req.header("content-type")) +
                          "] is not supported (application/x-ndjson or application/json)"));
    auto encoding = parseContentEncoding(req.header("content-encoding"));
    if (!encoding)
        return in.finish(encoding.error());
    const IngestSettings &settings = ingest.settings();
    auto body = decompress(std::move(req.body), *encoding, settings.maxDecodedBodyBytes);
    if (!body)
        return in.finish(body.error());
    const std::string_view pathIndex = esBulkPathIndex(req.path).value_or(std::string_view());
    auto bulk =
        esDecoder(settings.event).decode(*body, pathIndex, receivedNs, settings.batch, in.check());
    if (!bulk)
        return in.finish(bulk.error());
    items->items = std::move(bulk->items);
    items->indices = std::move(bulk->indices);
    items->rejected = bulk->batch.rejected;
    in.finish(std::move(bulk->batch));
}

// ---- Loki ------------------------------------------------------------------------------

http::Response lokiText(int status, std::string text)
{
    http::Response r;
    r.status = status;
    r.contentType = "text/plain; charset=utf-8";
    if (!text.empty() && text.back() != '\n')
        text.push_back('\n');
    r.body = std::move(text);
    return r;
}

http::Response lokiError(const Error &e, std::chrono::milliseconds retryAfter = {})
{
    const int status = service::httpStatus(e.code);
    http::Response r = lokiText(status, std::string(e.codeName()) + ": " + e.message);
    if (status == 401)
        r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"idl-collector\"");
    if (status == 429 || status == 503)
        r.headers.emplace_back("Retry-After",
                               retryAfterSeconds(retryAfter.count() > 0
                                                     ? retryAfter
                                                     : std::chrono::milliseconds(1000)));
    return r;
}

void handlePush(Ingest &ingest, http::Request &&req, const http::Responder &respond)
{
    const std::int64_t receivedNs = nowNs();
    const Identity *who = std::any_cast<Identity>(&req.context);
    if (!who)
        return respond(lokiError(makeError(ErrorCode::Internal, "no identity")));
    const std::string type = mediaType(req.header("content-type"));
    // Loki reads anything but JSON as snappy-compressed protobuf.
    const bool json = type == "application/json";
    const bool protobuf =
        type.empty() || type == "application/x-protobuf" || type == "application/protobuf";
    auto errors = std::make_shared<std::string>();
    IngestRequest in = ingest.begin(
        json ? protocol::LokiJson : protocol::LokiProtobuf, *who,
        [respond, errors](IngestOutcome o) {
            if (o.error)
                return respond(lokiError(*o.error, o.retryAfter));
            if (o.rejected == 0)
                return respond(lokiText(204, {})); // Loki's success: 204, no body
            // Loki's answer to a partly invalid push: the valid entries are stored,
            // the invalid ones named, 400 (clients do not retry it).
            const bool forbidden = o.accepted == 0 && o.common == ErrorCode::Forbidden;
            respond(lokiText(forbidden ? 403 : 400, *errors));
        },
        req.header("idempotency-key"));
    if (!in)
        return;
    if (!json && !protobuf)
        return in.finish(makeError(ErrorCode::BadEncoding,
                                   "unsupported Content-Type \"" + type +
                                       "\" (application/json or application/x-protobuf)"));
    // A protobuf body is snappy-compressed whether or not Content-Encoding says "snappy".
    const std::string_view encodingHeader = req.header("content-encoding");
    const bool saysSnappy =
        protobuf && encodingHeader.size() == 6 &&
        std::equal(encodingHeader.begin(), encodingHeader.end(), "snappy",
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    auto encoding = saysSnappy ? Result<ContentEncoding>(ContentEncoding::Identity)
                               : parseContentEncoding(encodingHeader);
    if (!encoding)
        return in.finish(encoding.error());
    const IngestSettings &settings = ingest.settings();
    auto body = decompress(std::move(req.body), *encoding, settings.maxDecodedBodyBytes);
    if (body && protobuf)
        body = decompress(std::move(*body), ContentEncoding::Snappy, settings.maxDecodedBodyBytes);
    if (!body)
        return in.finish(body.error());
    auto push =
        json ? decodeLokiJson(*body, receivedNs, settings.event, settings.batch, in.check())
             : decodeLokiProtobuf(*body, receivedNs, settings.event, settings.batch, in.check());
    if (!push)
        return in.finish(push.error());
    *errors = lokiErrorText(*push);
    in.finish(std::move(push->batch));
}

} // namespace

void addShipperRoutes(http::Server &server, Ingest &ingest, Authenticator &auth,
                      std::string nodeName)
{
    // Elasticsearch: every endpoint needs credentials, the start-up probes included (the
    // clients send them on every request).
    const auto esGate = credentialsFirst(auth, [](const Error &e) { return esError(e); });
    const auto bulk = [&ingest](http::Request &&r, http::Responder respond) {
        handleBulk(ingest, std::move(r), respond);
    };
    for (const char *path : {"/_bulk", "/*/_bulk"})
        for (const char *method : {"POST", "PUT"})
            server.route(method, path, bulk, 0, esGate);
    const auto fixed = [](std::string body) {
        return [body = std::move(body)](http::Request &&r, http::Responder respond) {
            respond(esResponse(200, r.method == "HEAD" ? std::string() : body));
        };
    };
    server.route("GET", "/", fixed(esInfoBody(nodeName)), 0, esGate);
    server.route("HEAD", "/", fixed({}), 0, esGate);
    server.route("GET", "/_license", fixed(esLicenseBody()), 0, esGate);
    server.route("GET", "/_xpack", fixed(esXpackBody()), 0, esGate);
    server.route("GET", "/_cluster/health", fixed(esClusterHealthBody()), 0, esGate);
    // Index templates and lifecycle policies (Filebeat's and Logstash's set-up): every name
    // exists (HEAD/GET 200) and every upload is acknowledged and dropped; the collector has
    // no mappings or index lifecycle (retention is the writer's).
    for (const char *path : {"/_index_template/*", "/_template/*", "/_ilm/policy/*"}) {
        server.route("HEAD", path, fixed({}), 0, esGate);
        server.route("PUT", path, fixed(R"({"acknowledged":true})"), 0, esGate);
    }
    // GET answers name what was asked for (escaped: the name comes from the path).
    const auto named = [](std::string before, std::string after) {
        return [before = std::move(before), after = std::move(after)](http::Request &&r,
                                                                      http::Responder respond) {
            std::string body = before;
            appendJsonString(body, r.path.substr(r.path.rfind('/') + 1));
            body += after;
            respond(esResponse(200, std::move(body)));
        };
    };
    server.route("GET", "/_index_template/*",
                 named(R"({"index_templates":[{"name":)",
                       R"(,"index_template":{"index_patterns":["*"],"composed_of":[]}}]})"),
                 0, esGate);
    server.route("GET", "/_template/*", named("{", R"(:{"index_patterns":["*"]}})"), 0, esGate);
    server.route("GET", "/_ilm/policy/*", named("{", R"(:{"version":1,"policy":{"phases":{}}}})"),
                 0, esGate);

    // Loki: the push endpoint (X-Scope-OrgID is ignored: the API key decides the sender).
    server.route(
        "POST", "/loki/api/v1/push",
        [&ingest](http::Request &&r, http::Responder respond) {
            handlePush(ingest, std::move(r), respond);
        },
        0, credentialsFirst(auth, [](const Error &e) { return lokiError(e); }));
}

} // namespace idl::collector
