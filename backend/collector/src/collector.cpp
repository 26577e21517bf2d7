#include "idl/collector/collector.h"

#include "idl/collector/ingest.h"
#include "idl/collector/key_store.h"
#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"
#include "idl/kafka/admin.h"
#include "idl/kafka/idempotency.h"
#include "idl/kafka/producer.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/service/auth/rate_limiter.h"
#include "idl/service/ops.h"
#include "idl/service/status.h"
#include "otlp_grpc.h"
#include "otlp_protobuf.h"
#include "otlp_reply.h"
#include "shipper_routes.h"

#include <QString>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace idl::collector {

namespace {

using Clock = std::chrono::steady_clock;

enum class Endpoint { Native, Otlp };

std::string_view endpointName(Endpoint e)
{
    return e == Endpoint::Native ? "native" : "otlp";
}

// The reply body shared by every outcome (see docs/collector.md):
// {"accepted":N,"rejected":M,"errors":[...]} plus "error" when the whole request was refused,
// plus "partialSuccess" on the OTLP endpoint (ExportLogsServiceResponse).
std::string replyBody(Endpoint ep, std::size_t accepted, std::size_t rejected,
                      const std::vector<EventError> &errors, const Error *requestError)
{
    std::string out;
    out.reserve(64 + errors.size() * 96);
    JsonWriter w(out);
    w.beginObject();
    w.key("accepted");
    w.value(static_cast<std::uint64_t>(accepted));
    w.key("rejected");
    w.value(static_cast<std::uint64_t>(rejected));
    w.key("errors");
    w.beginArray();
    for (const auto &e : errors) {
        w.beginObject();
        w.key("index");
        w.value(static_cast<std::uint64_t>(e.index));
        w.key("code");
        w.value(e.error.codeName());
        w.key("message");
        w.value(e.error.message);
        w.endObject();
    }
    w.endArray();
    if (requestError) {
        w.key("error");
        w.beginObject();
        w.key("code");
        w.value(requestError->codeName());
        w.key("message");
        w.value(requestError->message);
        w.endObject();
    }
    if (ep == Endpoint::Otlp && (rejected > 0 || requestError)) {
        w.key("partialSuccess");
        w.beginObject();
        w.key("rejectedLogRecords");
        w.value(std::to_string(rejected));
        w.key("errorMessage");
        w.value(requestError      ? requestError->message
                : !errors.empty() ? errors.front().error.message
                                  : std::string("some log records were rejected"));
        w.endObject();
    }
    w.endObject();
    return out;
}

// Looks keys up in PostgreSQL. The authenticator calls it from several threads at once: each
// call borrows an idle connection (or opens one), so there are at most as many connections as
// lookup threads; a broken connection is dropped.
KeyLookup postgresLookup(std::string dsn)
{
    struct Idle
    {
        std::mutex mutex;
        std::vector<pg::Connection> connections;
    };
    auto idle = std::make_shared<Idle>();
    return
        [dsn = std::move(dsn), idle](std::string_view prefix) -> Result<std::optional<KeyRecord>> {
            std::optional<pg::Connection> conn;
            {
                std::lock_guard lock(idle->mutex);
                if (!idle->connections.empty()) {
                    conn.emplace(std::move(idle->connections.back()));
                    idle->connections.pop_back();
                }
            }
            if (!conn || conn->isBroken()) {
                auto c = pg::Connection::connect(dsn, std::chrono::seconds(3));
                if (!c)
                    return c.error();
                conn.emplace(std::move(*c));
            }
            auto r = findKey(*conn, prefix);
            if (!conn->isBroken()) {
                std::lock_guard lock(idle->mutex);
                idle->connections.push_back(std::move(*conn));
            }
            return r;
        };
}

} // namespace

// The base of IngestRequest's state (ingest.h); Collector::Impl::Producing implements it.
struct IngestRequest::State
{
    virtual ~State() = default;
    virtual const EventCheck &check() const = 0;
    virtual void produce(std::string_view key, std::string_view value) = 0;
    virtual std::size_t produced() const = 0;
    virtual void finish(Result<DecodedBatch> batch, EncodedEvents *reuse) = 0;
    bool finished = false;
};

struct Collector::Impl final : Ingest
{
    CollectorOptions opt;
    KeyLookup lookup;
    std::unique_ptr<Authenticator> auth;
    std::unique_ptr<auth::RateLimiter> limiter;
    std::unique_ptr<kafka::Producer> producer;
    std::unique_ptr<kafka::Admin> admin;
    std::unique_ptr<http::Server> server;
    std::unique_ptr<syslog::Listeners> syslogListeners;
    std::unique_ptr<OtlpGrpcServer> grpc;
    kafka::Headers headersTemplate;
    kafka::TopicHandle topic; // opt.topic, resolved once

    std::thread probe;
    std::mutex probeMutex;
    std::condition_variable probeCv;
    bool stopProbe = false;
    std::atomic<bool> kafkaReady{false};
    bool topicChecked = false;
    mutable std::mutex reasonMutex;
    std::string notReady = "starting";
    std::atomic<std::int64_t> pendingRequests{0};
    std::atomic<std::int64_t> lastErrorLogNs{0};

    metrics::Registry &reg = metrics::Registry::global();
    metrics::Counter &bytesWire = reg.counter("idl_collector_bytes_received_total",
                                              "Request body bytes as sent", {{"form", "wire"}});
    metrics::Counter &bytesDecoded = reg.counter(
        "idl_collector_bytes_received_total", "Request body bytes as sent", {{"form", "decoded"}});
    metrics::Histogram &produceLatency =
        reg.histogram("idl_collector_produce_latency_seconds",
                      "From the first produce of a request to the last delivery report");
    metrics::Gauge &queueDepthGauge =
        reg.gauge("idl_collector_kafka_queue_depth", "Producer messages queued or in flight");
    metrics::Gauge &pendingGauge =
        reg.gauge("idl_collector_pending_requests", "Requests waiting for Kafka acknowledgements");

    std::string reason() const
    {
        std::lock_guard lock(reasonMutex);
        return notReady;
    }
    void setReason(std::string r)
    {
        std::lock_guard lock(reasonMutex);
        notReady = std::move(r);
    }

    void countRequest(Endpoint ep, int status)
    {
        reg.counter("idl_collector_requests_total", "HTTP ingestion requests by reply status",
                    {{"endpoint", std::string(endpointName(ep))}, {"code", std::to_string(status)}})
            .inc();
    }

    // retryAfter: the Retry-After of a 429/503 (0 = collector.retry-after).
    void reply(Endpoint ep, const http::Responder &respond, int status, std::string body,
               std::chrono::milliseconds retryAfter = {},
               std::string_view contentType = "application/json")
    {
        http::Response r;
        r.status = status;
        r.body = std::move(body);
        r.contentType = std::string(contentType);
        if (status == 429 || status == 503) {
            const auto ms = retryAfter.count() > 0 ? retryAfter : opt.retryAfter;
            const auto secs = (ms.count() + 999) / 1000;
            r.headers.emplace_back("Retry-After", std::to_string(std::max<long long>(1, secs)));
        }
        if (status == 401)
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"idl-collector\"");
        countRequest(ep, status);
        respond(std::move(r));
    }

    // A request refused as a whole, in the reply format of its endpoint (and encoding).
    void refuse(Endpoint ep, bool protobuf, const http::Responder &respond, const Error &error)
    {
        IngestOutcome o;
        o.error = error;
        answer(ep, protobuf, respond, o);
    }

    // OTLP/HTTP with a protobuf body gets its replies in protobuf.
    static bool wantsProtobuf(Endpoint ep, const http::Request &r)
    {
        if (ep != Endpoint::Otlp)
            return false;
        const std::string type = mediaType(r.header("content-type"));
        return type == "application/x-protobuf" || type == "application/protobuf";
    }

    void probeOnce()
    {
        if (!admin) {
            // librdkafka's reconnect back-off grows to 10 s by default: after a broker outage
            // the probe (and so /readyz and every request, refused with 503 while it fails)
            // would lag the broker's return by up to that long (tests/chaos).
            kafka::Config cfg{{"bootstrap.servers", opt.kafkaBootstrap},
                              {"log_level", "0"},
                              {"reconnect.backoff.max.ms", "1000"}};
            auto a = kafka::Admin::create(cfg);
            if (!a) {
                kafkaReady = false;
                setReason("kafka: " + a.error().message);
                return;
            }
            admin = std::move(*a);
        }
        if (auto r = admin->waitForMetadata(std::chrono::milliseconds(1500)); !r) {
            kafkaReady = false;
            setReason("kafka does not answer: " + r.error().message);
            return;
        }
        if (!topicChecked) {
            if (opt.createTopic) {
                if (auto r = admin->createTopics({opt.topic}, opt.topicPartitions, -1,
                                                 std::chrono::seconds(10));
                    !r) {
                    kafkaReady = false;
                    setReason("cannot create topic " + opt.topic + ": " + r.error().message);
                    return;
                }
            }
            topicChecked = true;
        }
        if (auto fatal = producer->fatalError()) {
            kafkaReady = false;
            setReason("kafka producer failed: " + fatal->message);
            return;
        }
        kafkaReady = true;
        setReason({});
    }

    void runProbe()
    {
        std::unique_lock lock(probeMutex);
        while (!stopProbe) {
            lock.unlock();
            probeOnce();
            queueDepthGauge.set(producer->outstanding());
            lock.lock();
            probeCv.wait_for(lock, std::chrono::seconds(2), [&] { return stopProbe; });
        }
    }

    EventDecoder &decoder()
    {
        thread_local const Impl *owner = nullptr;
        thread_local std::optional<EventDecoder> dec;
        if (owner != this || !dec) {
            dec.emplace(opt.eventLimits);
            owner = this;
        }
        return *dec;
    }

    // Encoding buffers of this I/O thread, lent to each request and given back after producing
    // (kept up to kKeptEncodedBytes, so one huge request does not pin its memory).
    static constexpr std::size_t kKeptEncodedBytes = 2 << 20;
    static EncodedEvents &spareEncoded()
    {
        thread_local EncodedEvents spare;
        return spare;
    }

    // ---- the ingestion entry (ingest.h) ----------------------------------------------------

    // Counters of one protocol (front end), created on first use.
    struct ProtocolMetrics
    {
        metrics::Registry &reg;
        std::string name;
        metrics::Counter &accepted;
        metrics::Counter &rejected;
        metrics::Counter &failed;

        ProtocolMetrics(metrics::Registry &r, std::string_view n)
            : reg(r), name(n),
              accepted(r.counter("idl_collector_events_accepted_total",
                                 "Events acknowledged by Kafka and answered as accepted",
                                 {{"protocol", name}})),
              rejected(r.counter("idl_collector_events_rejected_total",
                                 "Events rejected as invalid or not allowed",
                                 {{"protocol", name}})),
              failed(r.counter("idl_collector_events_failed_total",
                               "Valid events of requests refused because Kafka did not ack",
                               {{"protocol", name}}))
        {}

        // One finished request, by what it came to.
        void count(const IngestOutcome &o)
        {
            std::string_view result = "ok";
            if (o.error) {
                switch (o.error->code) {
                case ErrorCode::RateLimited:
                    result = "rate_limited";
                    break;
                case ErrorCode::Overloaded:
                    result = "overloaded";
                    break;
                case ErrorCode::Unavailable:
                case ErrorCode::Timeout:
                    result = "unavailable";
                    break;
                default:
                    result = "invalid";
                }
            } else if (o.accepted == 0)
                result = o.total == 0 ? "empty" : "invalid";
            else if (o.rejected > 0)
                result = "partial";
            reg.counter("idl_collector_ingest_requests_total",
                        "Ingestion requests of every protocol by outcome",
                        {{"protocol", name}, {"result", std::string(result)}})
                .inc();
        }
    };
    std::mutex protocolMutex;
    std::map<std::string, std::unique_ptr<ProtocolMetrics>, std::less<>> protocols;

    ProtocolMetrics &metricsFor(std::string_view name)
    {
        std::lock_guard lock(protocolMutex);
        auto it = protocols.find(name);
        if (it == protocols.end())
            it = protocols.emplace(std::string(name), std::make_unique<ProtocolMetrics>(reg, name))
                     .first;
        return *it->second;
    }

    static void deliver(ProtocolMetrics &m, const IngestDone &done, IngestOutcome o)
    {
        m.count(o);
        if (done)
            done(std::move(o));
    }

    IngestRequest begin(std::string_view proto, const Identity &who, IngestDone done,
                        std::string_view idempotencyKey) override
    {
        ProtocolMetrics &m = metricsFor(proto);
        const auto refuseNow = [&](Error e, std::chrono::milliseconds wait) {
            IngestOutcome o;
            o.error = std::move(e);
            o.retryAfter = wait;
            deliver(m, done, std::move(o));
            return IngestRequest();
        };
        std::string_view key;
        if (!idempotencyKey.empty()) {
            auto parsed = parseIdempotencyKey(idempotencyKey, opt.maxIdempotencyKeyBytes);
            if (!parsed)
                return refuseNow(std::move(parsed).error(), {});
            key = *parsed;
        }
        if (auto wait = limiter->take(who.id))
            return refuseNow(makeError(ErrorCode::RateLimited,
                                       "request rate limit of this key exceeded; retry later"),
                             std::chrono::milliseconds(std::max<std::int64_t>(1, *wait)));
        if (!kafkaReady)
            return refuseNow(makeError(ErrorCode::Unavailable, "Kafka is unavailable: " + reason()),
                             opt.retryAfter);
        const int depth = producer->outstanding();
        queueDepthGauge.set(depth);
        if (static_cast<std::size_t>(depth) > opt.queueHighWater)
            return refuseNow(
                makeError(ErrorCode::Overloaded, "the Kafka producer queue is full; retry later"),
                opt.retryAfter);
        auto state = std::make_unique<Producing>(*this, m, who, std::move(done));
        state->idempotencyKey.assign(key);
        return IngestRequest(std::move(state));
    }

    const IngestSettings &settings() const override { return ingestSettings; }
    IngestSettings ingestSettings;

    // ---- HTTP front end (native and OTLP/HTTP) ----------------------------------------------

    void handle(Endpoint ep, http::Request &&request, http::Responder respond)
    {
        const std::int64_t receivedNs = nowNs();
        bytesWire.inc(request.body.size());
        // The route's gate authenticated the request before its body was read.
        if (const auto *who = std::any_cast<Identity>(&request.context))
            return process(ep, request, respond, receivedNs, *who);
        auto req = std::make_shared<http::Request>(std::move(request));
        auth->authenticate(*req, [this, ep, req, respond = std::move(respond),
                                  receivedNs](Result<Identity> id) mutable {
            process(ep, *req, respond, receivedNs, std::move(id));
        });
    }

    // The HTTP reply for what an ingestion request came to (docs/collector.md, status table).
    void answer(Endpoint ep, bool protobuf, const http::Responder &respond, const IngestOutcome &o)
    {
        if (protobuf)
            return answerProtobuf(respond, o);
        if (o.error)
            return reply(ep, respond, service::httpStatus(o.error->code),
                         replyBody(ep, 0, o.rejected, o.errors, &*o.error), o.retryAfter);
        if (o.accepted == 0) {
            if (ep == Endpoint::Otlp && o.total == 0)
                return reply(ep, respond, 200, replyBody(ep, 0, 0, {}, nullptr));
            const Error none = o.total == 0
                                   ? makeError(ErrorCode::BadRequest, "the body holds no events")
                                   : makeError(o.common.value_or(ErrorCode::BadRequest),
                                               "no valid event in the request");
            return reply(ep, respond, service::httpStatus(none.code),
                         replyBody(ep, 0, o.rejected, o.errors, o.total == 0 ? &none : nullptr));
        }
        reply(ep, respond, ep == Endpoint::Native ? 202 : 200,
              replyBody(ep, o.accepted, o.rejected, o.errors, nullptr));
    }

    // OTLP/HTTP protobuf: 200 with an ExportLogsServiceResponse (partial_success when records
    // were rejected), errors as a google.rpc.Status with the status of the table.
    void answerProtobuf(const http::Responder &respond, const IngestOutcome &o)
    {
        constexpr std::string_view type = "application/x-protobuf";
        const auto ep = Endpoint::Otlp;
        if (o.error)
            return reply(ep, respond, service::httpStatus(o.error->code),
                         otlp::statusProtobuf(o.error->code, o.error->message), o.retryAfter, type);
        if (o.accepted == 0 && o.total > 0) {
            const ErrorCode code = o.common.value_or(ErrorCode::BadRequest);
            return reply(ep, respond, service::httpStatus(code),
                         otlp::statusProtobuf(code, "no valid log record in the request: " +
                                                        otlp::outcomeMessage(o)),
                         {}, type);
        }
        reply(ep, respond, 200, otlp::exportResponse(o).SerializeAsString(), {}, type);
    }

    void process(Endpoint ep, http::Request &req, const http::Responder &respond,
                 std::int64_t receivedNs, Result<Identity> id)
    {
        const bool protobuf = wantsProtobuf(ep, req);
        if (!id)
            return refuse(ep, protobuf, respond, id.error());
        const std::string type = mediaType(req.header("content-type"));
        const std::string_view proto = ep == Endpoint::Native ? protocol::Native
                                       : protobuf             ? protocol::OtlpHttpProtobuf
                                                              : protocol::OtlpHttpJson;
        IngestRequest in = begin(
            proto, *id,
            [this, ep, protobuf, respond](IngestOutcome o) { answer(ep, protobuf, respond, o); },
            req.header("idempotency-key"));
        if (!in)
            return;

        auto encoding = parseContentEncoding(req.header("content-encoding"));
        if (!encoding)
            return in.finish(encoding.error());
        std::optional<BodyFormat> format;
        if (ep == Endpoint::Native) {
            auto f = parseNativeContentType(req.header("content-type"));
            if (!f)
                return in.finish(f.error());
            format = *f;
        } else if (!protobuf && type != "application/json") {
            return in.finish(makeError(ErrorCode::BadEncoding,
                                       "unsupported Content-Type \"" + type +
                                           "\" (OTLP/HTTP needs application/x-protobuf or "
                                           "application/json)"));
        }
        auto body = decompress(std::move(req.body), *encoding, opt.maxDecodedBodyBytes);
        if (!body)
            return in.finish(body.error());
        bytesDecoded.inc(body->size());

        // NDJSON events are produced as soon as each is encoded (the broker's linger starts while
        // the rest of the body is still being decoded); other bodies once decoded.
        if (ep == Endpoint::Native) {
            EncodedEvents &spare = spareEncoded();
            in.finish(decodeNativeBatch(*body, *format, decoder(), receivedNs, opt.batchLimits,
                                        in.check(), EventOutput::Encoded, std::move(spare),
                                        in.sink()),
                      &spare);
            // librdkafka copied every message: the buffers serve this thread's next request.
            if (spare.bytes.capacity() > kKeptEncodedBytes)
                spare = EncodedEvents();
            return;
        }
        in.finish(protobuf ? decodeOtlpProtobuf(*body, receivedNs, opt.eventLimits, opt.batchLimits,
                                                in.check())
                           : decodeOtlpJson(*body, receivedNs, opt.eventLimits, opt.batchLimits,
                                            in.check()));
    }

    // Per-request delivery accounting: the outcome goes out when the last report arrives, or
    // as a refusal when the ack timeout passes first (whichever comes first answers). It is the
    // delivery sink of all its messages, so a report costs no allocation and no lookup.
    struct Pending final : kafka::DeliverySink
    {
        Impl *impl = nullptr;
        ProtocolMetrics *metrics = nullptr;
        IngestDone done;
        std::atomic<std::int64_t> remaining{1}; // 1 = the producing loop itself
        std::atomic<int> refs{2};               // the delivery side and the deadline timer
        std::atomic<bool> responded{false};
        std::atomic<bool> failed{false};
        std::mutex errorMutex;
        Error error;
        std::size_t accepted = 0;
        std::size_t rejected = 0;
        std::vector<EventError> errors;
        std::optional<ErrorCode> common;
        Clock::time_point started;

        void fail(const Error &e)
        {
            std::lock_guard lock(errorMutex);
            if (!failed.exchange(true))
                error = e;
        }

        void delivered(std::int32_t, std::int64_t, const Error *e) override
        {
            if (e)
                fail(*e);
            finishOne(this);
        }
    };

    // Deadlines of pending requests (one thread; entries hold a reference).
    std::mutex deadlineMutex;
    std::condition_variable deadlineCv;
    std::multimap<Clock::time_point, Pending *> deadlines;
    bool stopDeadlines = false;
    std::thread deadlineThread;

    static void release(Pending *p)
    {
        if (p->refs.fetch_sub(1) == 1)
            delete p;
    }

    // Drops one message reference; the last one settles the request.
    static void finishOne(Pending *p)
    {
        if (p->remaining.fetch_sub(1) != 1)
            return;
        p->impl->settle(*p);
        release(p);
    }

    void runDeadlines()
    {
        std::unique_lock lock(deadlineMutex);
        for (;;) {
            if (deadlines.empty()) {
                if (stopDeadlines)
                    return;
                deadlineCv.wait(lock);
                continue;
            }
            const auto first = deadlines.begin()->first;
            if (!stopDeadlines && Clock::now() < first) {
                deadlineCv.wait_until(lock, first);
                continue;
            }
            Pending *p = deadlines.begin()->second;
            deadlines.erase(deadlines.begin());
            lock.unlock();
            expire(*p);
            release(p);
            lock.lock();
        }
    }

    // Every delivery report of the request is in.
    void settle(Pending &p)
    {
        pendingRequests.fetch_sub(1);
        pendingGauge.add(-1);
        produceLatency.observe(std::chrono::duration<double>(Clock::now() - p.started).count());
        if (p.responded.exchange(true))
            return; // the deadline answered already
        if (!p.failed) {
            p.metrics->accepted.inc(p.accepted);
            IngestOutcome o;
            o.total = p.accepted + p.rejected;
            o.accepted = p.accepted;
            o.rejected = p.rejected;
            o.errors = std::move(p.errors);
            o.common = p.common;
            return deliver(*p.metrics, p.done, std::move(o));
        }
        Error e;
        {
            std::lock_guard lock(p.errorMutex);
            e = p.error;
        }
        refuseUnacked(p, e);
    }

    // The ack timeout passed.
    void expire(Pending &p)
    {
        if (p.responded.exchange(true))
            return;
        refuseUnacked(p, makeError(ErrorCode::Timeout, "no acknowledgement within " +
                                                           std::to_string(opt.ackTimeout.count()) +
                                                           " ms"));
    }

    void refuseUnacked(Pending &p, const Error &e)
    {
        p.metrics->failed.inc(p.accepted);
        // Only back-pressure is 429; anything else Kafka did (timeouts, unknown topic, a
        // broken producer) is "not acknowledged in time" for the client: 503.
        const bool overloaded = e.code == ErrorCode::Overloaded;
        IngestOutcome o;
        o.error = makeError(
            overloaded ? ErrorCode::Overloaded : ErrorCode::Unavailable,
            (overloaded ? std::string("the Kafka producer queue is full")
                        : "Kafka did not acknowledge every event in time (" + e.message + ")") +
                "; nothing was accepted. Retry the whole request: some of its events may "
                "still be written, so a retry can duplicate them (at-least-once)");
        o.total = p.accepted + p.rejected;
        o.rejected = o.total;
        o.errors = std::move(p.errors);
        o.retryAfter = opt.retryAfter;
        deliver(*p.metrics, p.done, std::move(o));
        const auto now = nowNs();
        if (now - lastErrorLogNs.load() > 5'000'000'000LL) {
            lastErrorLogNs = now;
            jlog::warn("kafka did not acknowledge a request",
                       {{"code", QString::fromUtf8(e.codeName().data(),
                                                   static_cast<qsizetype>(e.codeName().size()))},
                        {"error", QString::fromStdString(e.message)}});
        }
    }

    // One admitted request (IngestRequest's state): produces its accepted events. The Pending
    // is created at the first event, its deadline armed by finish() once the request's counts
    // are final.
    struct Producing final : IngestRequest::State
    {
        Producing(Impl &i, ProtocolMetrics &m, const Identity &w, IngestDone d)
            : impl(i), metrics(m), who(w), done(std::move(d))
        {
            scope = [app = who.app](LogEvent &ev) -> std::optional<Error> {
                if (!app)
                    return std::nullopt;
                if (ev.app.empty())
                    ev.app = *app;
                else if (ev.app != *app)
                    return makeError(ErrorCode::Forbidden,
                                     "this credential may only send events for app \"" + *app +
                                         "\", not \"" + ev.app + "\"");
                return std::nullopt;
            };
        }

        Impl &impl;
        ProtocolMetrics &metrics;
        Identity who;
        IngestDone done; // moved to the Pending once there is one
        EventCheck scope;
        Pending *pending = nullptr;
        kafka::Headers headers;
        std::string idempotencyKey;    // "" = none
        std::size_t producedCount = 0; // events handed to produce(), queued or not
        bool stopped = false;          // a produce failed: the request is lost, queue no more

        const EventCheck &check() const override { return scope; }
        std::size_t produced() const override { return producedCount; }

        void produce(std::string_view key, std::string_view value) override
        {
            ++producedCount;
            if (!pending)
                start();
            if (stopped)
                return;
            pending->remaining.fetch_add(1);
            if (!idempotencyKey.empty())
                headers.back().value = std::to_string(producedCount - 1);
            auto r = impl.producer->produceTo(impl.topic, key, value, headers, pending);
            if (!r) {
                pending->remaining.fetch_sub(1);
                pending->fail(r.error());
                stopped = true;
            }
        }

        void start()
        {
            // Owned by its references (the delivery side and the deadline timer); the delivery
            // side lets go when this loop and every produced message are done with it.
            pending = new Pending();
            pending->impl = &impl;
            pending->metrics = &metrics;
            pending->done = std::move(done);
            pending->started = Clock::now();
            impl.pendingRequests.fetch_add(1);
            impl.pendingGauge.add(1);
            headers = impl.headersTemplate;
            headers.push_back({std::string(kafka::idempotency::kScope), who.id});
            if (!idempotencyKey.empty()) {
                headers.push_back({std::string(kafka::idempotency::kKey), idempotencyKey});
                headers.push_back({std::string(kafka::idempotency::kIndex), std::string()});
            }
        }

        void finish(Result<DecodedBatch> batch, EncodedEvents *reuse) override
        {
            finished = true;
            if (!batch) {
                // Never with events produced by the decoders here (decodeNativeBatch counts
                // them first); should it happen, the request waits for their reports and is
                // refused as not acknowledged.
                if (pending) {
                    pending->fail(batch.error());
                    return arm(0, 0, {}, std::nullopt);
                }
                IngestOutcome o;
                o.error = std::move(batch).error();
                return deliver(metrics, done, std::move(o));
            }
            metrics.rejected.inc(batch->rejected);
            const std::size_t accepted = batch->accepted();
            if (accepted == 0 && !pending) {
                IngestOutcome o;
                o.total = batch->total;
                o.rejected = batch->rejected;
                o.errors = std::move(batch->errors);
                o.common = batch->common;
                return deliver(metrics, done, std::move(o));
            }
            // Events not produced yet: the rest of the encoded buffer, then the LogEvents.
            for (const LogEvent &ev : batch->events)
                batch->encoded.append(ev);
            for (std::size_t i = producedCount; i < batch->encoded.size(); ++i)
                produce(batch->encoded.key(i), batch->encoded.value(i));
            arm(accepted, batch->rejected, std::move(batch->errors), batch->common);
            if (reuse) {
                batch->encoded.clear();
                *reuse = std::move(batch->encoded);
            }
        }

        // The request's counts are final: the deadline runs from the first produce, and the
        // outcome waits for the last delivery report.
        void arm(std::size_t accepted, std::size_t rejected, std::vector<EventError> errors,
                 std::optional<ErrorCode> common)
        {
            if (!pending)
                return;
            Pending *p = pending;
            pending = nullptr;
            p->accepted = accepted;
            p->rejected = rejected;
            p->errors = std::move(errors);
            p->common = common;
            {
                std::lock_guard lock(impl.deadlineMutex);
                impl.deadlines.emplace(p->started + impl.opt.ackTimeout, p);
            }
            impl.deadlineCv.notify_one();
            finishOne(p);
        }
    };
};

IngestRequest::IngestRequest(std::unique_ptr<State> state) : state_(std::move(state)) {}
IngestRequest::IngestRequest(IngestRequest &&) noexcept = default;
IngestRequest &IngestRequest::operator=(IngestRequest &&other) noexcept
{
    if (this != &other) {
        if (state_ && !state_->finished)
            state_->finish(makeError(ErrorCode::Internal, "ingestion request abandoned"), nullptr);
        state_ = std::move(other.state_);
    }
    return *this;
}

IngestRequest::~IngestRequest()
{
    if (state_ && !state_->finished)
        state_->finish(makeError(ErrorCode::Internal, "ingestion request abandoned"), nullptr);
}

const EventCheck &IngestRequest::check() const
{
    return state_->check();
}

void IngestRequest::produce(std::string_view key, std::string_view value)
{
    state_->produce(key, value);
}

EncodedSink IngestRequest::sink()
{
    return [state = state_.get()](const EncodedEvents &events) {
        const std::size_t i = events.size() - 1;
        state->produce(events.key(i), events.value(i));
    };
}

std::size_t IngestRequest::produced() const
{
    return state_->produced();
}

void IngestRequest::finish(Result<DecodedBatch> batch, EncodedEvents *reuse)
{
    if (!state_ || state_->finished)
        return;
    state_->finish(std::move(batch), reuse);
}

Result<std::string_view> parseIdempotencyKey(std::string_view header, std::size_t maxBytes)
{
    std::string_view key = header;
    if (key.size() >= 2 && key.front() == '"' && key.back() == '"')
        key = key.substr(1, key.size() - 2);
    if (key.empty() || key.size() > maxBytes)
        return makeError(ErrorCode::BadRequest, "Idempotency-Key must hold 1 to " +
                                                    std::to_string(maxBytes) + " bytes (got " +
                                                    std::to_string(key.size()) + ")");
    for (const char c : key)
        if (c < 0x21 || c > 0x7E || c == '"' || c == '\\')
            return makeError(ErrorCode::BadRequest,
                             "Idempotency-Key may hold only visible ASCII characters other than "
                             "'\"' and '\\' (e.g. a UUID, optionally as a quoted string)");
    return key;
}

void Ingest::submit(std::string_view protocol, const Identity &who, std::vector<LogEvent> events,
                    IngestDone done)
{
    IngestRequest in = begin(protocol, who, std::move(done));
    if (!in)
        return;
    const IngestSettings &s = settings();
    if (events.size() > s.batch.maxEvents)
        return in.finish(
            makeError(ErrorCode::TooMany,
                      "more than " + std::to_string(s.batch.maxEvents) + " events in one request"));
    DecodedBatch batch;
    batch.total = events.size();
    const std::int64_t now = nowNs();
    for (std::size_t i = 0; i < events.size(); ++i) {
        LogEvent &ev = events[i];
        if (ev.id.empty())
            ev.id = newEventId();
        if (ev.receivedNs == 0)
            ev.receivedNs = now;
        if (ev.tsNs == 0)
            ev.tsNs = ev.receivedNs;
        if (auto err = in.check()(ev)) {
            batch.reject(i, std::move(*err), s.batch.maxErrors);
            continue;
        }
        batch.encoded.append(ev);
        if (batch.encoded.value(batch.encoded.size() - 1).size() > s.event.maxEventBytes) {
            batch.encoded.dropLast();
            batch.reject(i,
                         makeError(ErrorCode::TooLarge, "the event is over the limit of " +
                                                            std::to_string(s.event.maxEventBytes) +
                                                            " bytes"),
                         s.batch.maxErrors);
        }
    }
    in.finish(std::move(batch));
}

Collector::Collector(CollectorOptions options) : Collector(options, KeyLookup{}) {}

Collector::Collector(CollectorOptions options, KeyLookup lookup) : d(std::make_unique<Impl>())
{
    d->opt = std::move(options);
    d->ingestSettings = {d->opt.eventLimits, d->opt.batchLimits, d->opt.maxDecodedBodyBytes};
    d->lookup = lookup ? std::move(lookup) : postgresLookup(d->opt.pgDsn);
}

Collector::~Collector()
{
    stop();
}

Result<void> Collector::start()
{
    auto &o = d->opt;
    kafka::ProducerOptions po;
    po.config = {
        {"bootstrap.servers", o.kafkaBootstrap},
        {"client.id", "idl-collector"},
        {"message.timeout.ms", std::to_string(std::max<long long>(1, o.ackTimeout.count()))},
        {"queue.buffering.max.messages",
         std::to_string(std::max<std::size_t>(o.queueHighWater * 2, o.queueHighWater + 100'000))},
        {"batch.num.messages", "10000"},
        {"reconnect.backoff.max.ms", "1000"}, // back within 1 s of the broker (see probeOnce)
        {"log_level", "3"}};
    for (const auto &[k, v] : o.kafkaConfig)
        po.config[k] = v;
    po.config["acks"] = "all";
    po.config["enable.idempotence"] = "true";
    po.onError = [this](const Error &e) {
        const auto now = nowNs();
        if (now - d->lastErrorLogNs.load() > 5'000'000'000LL) {
            d->lastErrorLogNs = now;
            jlog::warn("kafka producer error", {{"error", QString::fromStdString(e.message)}});
        }
    };
    auto producer = kafka::Producer::create(std::move(po));
    if (!producer)
        return producer.error();
    d->producer = std::move(*producer);
    auto topic = d->producer->topic(o.topic);
    if (!topic)
        return topic.error();
    d->topic = std::move(*topic);
    d->headersTemplate = {{"idl-collector", o.collectorId}};

    d->auth = std::make_unique<Authenticator>(o.auth, d->lookup);
    d->limiter = std::make_unique<auth::RateLimiter>(o.rateLimitPerSecond, o.rateLimitBurst);

    d->server = std::make_unique<http::Server>(o.http);
    // Credentials are checked from the headers, before the body is read: a request without a
    // valid key (or certificate) is refused at once and its body never read; the identity
    // found reaches the handler in the request's context (no second check).
    const auto credentialsFirst = [this](Endpoint ep) {
        return [this, ep](http::Request &head,
                          std::function<void(std::optional<http::Response>)> proceed) {
            d->auth->authenticate(head, [this, ep, proceed, &head](Result<Identity> id) {
                if (id) { // the handler takes the identity from the request
                    head.context = std::move(id).value();
                    return proceed(std::nullopt);
                }
                d->refuse(
                    ep, Impl::wantsProtobuf(ep, head),
                    [proceed](http::Response r) { proceed(std::move(r)); }, id.error());
            });
        };
    };
    d->server->route(
        "POST", "/api/v1/logs",
        [this](http::Request &&r, http::Responder resp) {
            d->handle(Endpoint::Native, std::move(r), std::move(resp));
        },
        0, credentialsFirst(Endpoint::Native));
    d->server->route(
        "POST", "/v1/logs",
        [this](http::Request &&r, http::Responder resp) {
            d->handle(Endpoint::Otlp, std::move(r), std::move(resp));
        },
        0, credentialsFirst(Endpoint::Otlp));
    // Elasticsearch bulk API and Loki push API (shipper_routes.cpp, docs/ingest.md).
    addShipperRoutes(*d->server, *d, *d->auth, o.collectorId);
    service::addOpsRoutes(
        *d->server, [this] { return d->reason(); }, o.metricsToken);

    d->probeOnce();
    d->queueDepthGauge.set(0);
    if (auto r = d->server->start(); !r) {
        d->server.reset();
        return r;
    }
    if (!o.syslog.listeners.empty()) {
        d->syslogListeners = std::make_unique<syslog::Listeners>(
            o.syslog,
            // Syslog batches enter like any request; a refusal (rate limit, full queue, Kafka
            // not ready or not acknowledging) is retried by the listener.
            [this](syslog::Transport t, const Identity &who, std::vector<LogEvent> events,
                   std::function<void(syslog::BatchOutcome)> done) {
                d->submit(syslog::protocolName(t), who, std::move(events),
                          [done = std::move(done)](IngestOutcome out) {
                              syslog::BatchOutcome b;
                              if (out.error) {
                                  const ErrorCode c = out.error->code;
                                  b.retry = c == ErrorCode::RateLimited ||
                                            c == ErrorCode::Overloaded ||
                                            c == ErrorCode::Unavailable || c == ErrorCode::Timeout;
                                  b.retryAfter = out.retryAfter;
                              }
                              b.accepted = out.accepted;
                              b.rejected = out.rejected;
                              done(b);
                          });
            },
            // A client certificate maps to an app as on HTTP (auth.client-cert-apps).
            [this](const http::PeerCertificate &cert) -> Result<Identity> {
                http::Request r;
                r.clientCertificate = cert;
                std::optional<Result<Identity>> out;
                d->auth->authenticate(r, [&out](Result<Identity> id) { out = std::move(id); });
                if (!out)
                    return makeError(ErrorCode::Internal, "certificate check did not answer");
                return std::move(*out);
            });
        if (auto r = d->syslogListeners->start(); !r) {
            d->syslogListeners.reset();
            d->server->stop();
            d->server.reset();
            return r;
        }
    }
    if (o.grpcPort >= 0) {
        OtlpGrpcOptions g;
        g.address = o.grpcAddress.empty() ? o.http.address : o.grpcAddress;
        g.port = o.grpcPort;
        g.maxConcurrent = o.grpcMaxConcurrent;
        g.maxMessageBytes = o.http.maxBodyBytes;
        g.tlsCertFile = o.http.tlsCertFile;
        g.tlsKeyFile = o.http.tlsKeyFile;
        g.tlsClientCaFile = o.http.tlsClientCaFile;
        g.tlsRequireClientCert = o.http.tlsRequireClientCert;
        d->grpc = std::make_unique<OtlpGrpcServer>(std::move(g), *d->auth, *d);
        if (auto r = d->grpc->start(); !r) {
            d->grpc.reset();
            if (d->syslogListeners) {
                d->syslogListeners->stop();
                d->syslogListeners.reset();
            }
            d->server->stop();
            d->server.reset();
            return r;
        }
    }
    // Every protocol this collector serves exports its counters from the start (at 0), so
    // rates and alerts over them exist before the first request of that protocol.
    for (const std::string_view p :
         {protocol::Native, protocol::OtlpHttpJson, protocol::OtlpHttpProtobuf, protocol::EsBulk,
          protocol::LokiJson, protocol::LokiProtobuf})
        d->metricsFor(p);
    if (d->grpc)
        d->metricsFor(protocol::OtlpGrpc);
    for (const syslog::ListenerSpec &l : o.syslog.listeners)
        d->metricsFor(syslog::protocolName(l.transport));
    d->stopProbe = false;
    d->probe = std::thread([this] { d->runProbe(); });
    d->stopDeadlines = false;
    d->deadlineThread = std::thread([this] { d->runDeadlines(); });
    jlog::info("collector listening", {{"port", static_cast<int>(d->server->port())},
                                       {"tls", d->server->tls()},
                                       {"grpc_port", static_cast<int>(grpcPort())},
                                       {"topic", QString::fromStdString(o.topic)},
                                       {"ready", d->kafkaReady.load()}});
    return {};
}

void Collector::stop()
{
    // Syslog connections stop being read; their batches already produced are awaited below
    // like HTTP requests.
    if (d->syslogListeners)
        d->syslogListeners->stop();
    // gRPC calls waiting for Kafka are answered before the server goes (its Wait()).
    if (d->grpc) {
        d->grpc->stop();
        d->grpc.reset();
    }
    if (d->server) {
        d->server->stop();
        d->server.reset();
    }
    // Key lookups still waiting are answered (503) before Kafka goes away.
    d->auth.reset();
    if (d->producer) {
        // Requests already produced get their real outcome if Kafka acks within the timeout.
        const auto deadline = Clock::now() + d->opt.ackTimeout + std::chrono::seconds(1);
        while (d->pendingRequests.load() > 0 && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (d->probe.joinable()) {
        {
            std::lock_guard lock(d->probeMutex);
            d->stopProbe = true;
        }
        d->probeCv.notify_all();
        d->probe.join();
    }
    // Requests still waiting are answered now (503), then late reports only settle counts.
    if (d->deadlineThread.joinable()) {
        {
            std::lock_guard lock(d->deadlineMutex);
            d->stopDeadlines = true;
        }
        d->deadlineCv.notify_all();
        d->deadlineThread.join();
    }
    d->producer.reset();
    d->admin.reset();
    d->syslogListeners.reset();
}

std::vector<std::uint16_t> Collector::syslogPorts() const
{
    return d->syslogListeners ? d->syslogListeners->ports() : std::vector<std::uint16_t>{};
}

syslog::ListenerStats Collector::syslogStats() const
{
    return d->syslogListeners ? d->syslogListeners->stats() : syslog::ListenerStats{};
}

std::uint16_t Collector::port() const
{
    return d->server ? d->server->port() : 0;
}

std::uint16_t Collector::grpcPort() const
{
    return d->grpc ? d->grpc->port() : 0;
}

std::string Collector::notReadyReason() const
{
    return d->reason();
}

Ingest &Collector::ingest()
{
    return *d;
}

int Collector::queueDepth() const
{
    return d->producer ? d->producer->outstanding() : 0;
}

} // namespace idl::collector
