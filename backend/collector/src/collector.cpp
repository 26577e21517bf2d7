#include "idl/collector/collector.h"

#include "idl/collector/key_store.h"
#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/kafka/admin.h"
#include "idl/kafka/producer.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/service/auth/rate_limiter.h"
#include "idl/service/ops.h"
#include "idl/service/status.h"

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

struct Collector::Impl
{
    CollectorOptions opt;
    KeyLookup lookup;
    std::unique_ptr<Authenticator> auth;
    std::unique_ptr<auth::RateLimiter> limiter;
    std::unique_ptr<kafka::Producer> producer;
    std::unique_ptr<kafka::Admin> admin;
    std::unique_ptr<http::Server> server;
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
    metrics::Counter &eventsAccepted =
        reg.counter("idl_collector_events_accepted_total",
                    "Events acknowledged by Kafka and answered as accepted");
    metrics::Counter &eventsRejected = reg.counter("idl_collector_events_rejected_total",
                                                   "Events rejected as invalid or not allowed");
    metrics::Counter &eventsFailed =
        reg.counter("idl_collector_events_failed_total",
                    "Valid events of requests answered 429/503 because Kafka did not ack");
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

    void reply(Endpoint ep, const http::Responder &respond, int status, std::string body,
               bool retryAfter = false)
    {
        http::Response r;
        r.status = status;
        r.body = std::move(body);
        if (retryAfter || status == 429 || status == 503) {
            const auto secs = (opt.retryAfter.count() + 999) / 1000;
            r.headers.emplace_back("Retry-After", std::to_string(std::max<long long>(1, secs)));
        }
        if (status == 401)
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"idl-collector\"");
        countRequest(ep, status);
        respond(std::move(r));
    }

    void refuse(Endpoint ep, const http::Responder &respond, const Error &error,
                std::size_t rejected = 0, const std::vector<EventError> &errors = {})
    {
        reply(ep, respond, service::httpStatus(error.code),
              replyBody(ep, 0, rejected, errors, &error));
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

    void process(Endpoint ep, http::Request &req, const http::Responder &respond,
                 std::int64_t receivedNs, Result<Identity> id)
    {
        if (!id)
            return refuse(ep, respond, id.error());
        const Identity &who = *id;
        if (auto wait = limiter->take(who.id)) {
            http::Response r;
            r.status = 429;
            const Error e = makeError(ErrorCode::RateLimited,
                                      "request rate limit of this key exceeded; retry later");
            r.body = replyBody(ep, 0, 0, {}, &e);
            r.headers.emplace_back("Retry-After", std::to_string((*wait + 999) / 1000));
            countRequest(ep, 429);
            return respond(std::move(r));
        }
        if (!kafkaReady)
            return refuse(ep, respond,
                          makeError(ErrorCode::Unavailable, "Kafka is unavailable: " + reason()));
        const int depth = producer->outstanding();
        queueDepthGauge.set(depth);
        if (static_cast<std::size_t>(depth) > opt.queueHighWater)
            return refuse(
                ep, respond,
                makeError(ErrorCode::Overloaded, "the Kafka producer queue is full; retry later"));

        auto encoding = parseContentEncoding(req.header("content-encoding"));
        if (!encoding)
            return refuse(ep, respond, encoding.error());
        std::optional<BodyFormat> format;
        if (ep == Endpoint::Native) {
            auto f = parseNativeContentType(req.header("content-type"));
            if (!f)
                return refuse(ep, respond, f.error());
            format = *f;
        } else {
            const std::string type = mediaType(req.header("content-type"));
            if (type == "application/x-protobuf" || type == "application/protobuf")
                return refuse(ep, respond,
                              makeError(ErrorCode::BadEncoding,
                                        "OTLP protobuf is not supported: configure the exporter "
                                        "for JSON (OTLP/HTTP with application/json)"));
            if (type != "application/json")
                return refuse(ep, respond,
                              makeError(ErrorCode::BadEncoding,
                                        "unsupported Content-Type \"" + type +
                                            "\" (OTLP/HTTP JSON needs application/json)"));
        }
        auto body = decompress(std::move(req.body), *encoding, opt.maxDecodedBodyBytes);
        if (!body)
            return refuse(ep, respond, body.error());
        bytesDecoded.inc(body->size());

        const EventCheck check = [&who](LogEvent &ev) -> std::optional<Error> {
            if (!who.app)
                return std::nullopt;
            if (ev.app.empty())
                ev.app = *who.app;
            else if (ev.app != *who.app)
                return makeError(ErrorCode::Forbidden,
                                 "this credential may only send events for app \"" + *who.app +
                                     "\", not \"" + ev.app + "\"");
            return std::nullopt;
        };
        // NDJSON events are produced as soon as each is encoded (the broker's linger starts while
        // the rest of the body is still being decoded); other bodies once decoded.
        Producing out{*this, ep, respond, who};
        const EncodedSink produceNow = [&out](const EncodedEvents &events) {
            const std::size_t i = events.size() - 1;
            out.produce(events.key(i), events.value(i));
        };
        auto batch =
            ep == Endpoint::Native
                ? decodeNativeBatch(*body, *format, decoder(), receivedNs, opt.batchLimits, check,
                                    EventOutput::Encoded, std::move(spareEncoded()), produceNow)
                : decodeOtlpJson(*body, receivedNs, opt.eventLimits, opt.batchLimits, check);
        if (!batch) {
            // Never with events produced (decodeNativeBatch counts them first); should it
            // happen, the request waits for their reports and is refused as not acknowledged.
            if (out.pending) {
                out.pending->fail(batch.error());
                return out.finish(0, 0, {});
            }
            return refuse(ep, respond, batch.error());
        }
        eventsRejected.inc(batch->rejected);
        if (batch->accepted() == 0) {
            if (ep == Endpoint::Otlp && batch->total == 0)
                return reply(ep, respond, 200, replyBody(ep, 0, 0, {}, nullptr));
            const Error none = batch->total == 0
                                   ? makeError(ErrorCode::BadRequest, "the body holds no events")
                                   : makeError(batch->common.value_or(ErrorCode::BadRequest),
                                               "no valid event in the request");
            return reply(ep, respond, service::httpStatus(none.code),
                         replyBody(ep, 0, batch->rejected, batch->errors,
                                   batch->total == 0 ? &none : nullptr));
        }
        // Events of the OTLP endpoint arrive as LogEvents; native ones not produced yet (a JSON
        // body) are in the encoded buffer.
        const std::size_t accepted = batch->accepted();
        for (const LogEvent &ev : batch->events)
            batch->encoded.append(ev);
        for (std::size_t i = out.produced; i < batch->encoded.size(); ++i)
            out.produce(batch->encoded.key(i), batch->encoded.value(i));
        out.finish(accepted, batch->rejected, std::move(batch->errors));
        // librdkafka copied every message: the buffers serve this thread's next request.
        if (batch->encoded.bytes.capacity() <= kKeptEncodedBytes)
            spareEncoded() = std::move(batch->encoded);
    }

    // Per-request delivery accounting: the reply goes out when the last report arrives, or
    // as 503 when the ack timeout passes first (whichever comes first answers). It is the
    // delivery sink of all its messages, so a report costs no allocation and no lookup.
    struct Pending final : kafka::DeliverySink
    {
        Impl *impl = nullptr;
        Endpoint ep = Endpoint::Native;
        http::Responder respond;
        std::atomic<std::int64_t> remaining{1}; // 1 = the producing loop itself
        std::atomic<int> refs{2};               // the delivery side and the deadline timer
        std::atomic<bool> responded{false};
        std::atomic<bool> failed{false};
        std::mutex errorMutex;
        Error error;
        std::size_t accepted = 0;
        std::size_t rejected = 0;
        std::vector<EventError> errors;
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
            eventsAccepted.inc(p.accepted);
            reply(p.ep, p.respond, p.ep == Endpoint::Native ? 202 : 200,
                  replyBody(p.ep, p.accepted, p.rejected, p.errors, nullptr));
            return;
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
        eventsFailed.inc(p.accepted);
        // Only back-pressure is 429; anything else Kafka did (timeouts, unknown topic, a
        // broken producer) is "not acknowledged in time" for the client: 503.
        const bool overloaded = e.code == ErrorCode::Overloaded;
        const Error out = makeError(
            overloaded ? ErrorCode::Overloaded : ErrorCode::Unavailable,
            (overloaded ? std::string("the Kafka producer queue is full")
                        : "Kafka did not acknowledge every event in time (" + e.message + ")") +
                "; nothing was accepted. Retry the whole request: some of its events may "
                "still be written, so a retry can duplicate them (at-least-once)");
        reply(p.ep, p.respond, service::httpStatus(out.code),
              replyBody(p.ep, 0, p.accepted + p.rejected, p.errors, &out));
        const auto now = nowNs();
        if (now - lastErrorLogNs.load() > 5'000'000'000LL) {
            lastErrorLogNs = now;
            jlog::warn("kafka did not acknowledge a request",
                       {{"code", QString::fromUtf8(e.codeName().data(),
                                                   static_cast<qsizetype>(e.codeName().size()))},
                        {"error", QString::fromStdString(e.message)}});
        }
    }

    // Produces the accepted events of one request: the Pending is created at the first event,
    // its deadline armed by finish() once the request's counts are final.
    struct Producing
    {
        Producing(Impl &i, Endpoint e, const http::Responder &r, const Identity &w)
            : impl(i), ep(e), respond(r), who(w)
        {}

        Impl &impl;
        Endpoint ep;
        const http::Responder &respond;
        const Identity &who;
        Pending *pending = nullptr;
        kafka::Headers headers;
        std::size_t produced = 0; // events handed to produce(), queued or not
        bool stopped = false;     // a produce failed: the request is lost, queue no more

        void produce(std::string_view key, std::string_view value)
        {
            ++produced;
            if (!pending)
                start();
            if (stopped)
                return;
            pending->remaining.fetch_add(1);
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
            pending->ep = ep;
            pending->respond = respond;
            pending->started = Clock::now();
            impl.pendingRequests.fetch_add(1);
            impl.pendingGauge.add(1);
            headers = impl.headersTemplate;
            headers.push_back({"idl-key-id", who.id});
        }

        // The request is decoded: its counts are final, the deadline runs from the first
        // produce, and the reply waits for the last delivery report.
        void finish(std::size_t accepted, std::size_t rejected, std::vector<EventError> errors)
        {
            if (!pending)
                return;
            Pending *p = pending;
            pending = nullptr;
            p->accepted = accepted;
            p->rejected = rejected;
            p->errors = std::move(errors);
            {
                std::lock_guard lock(impl.deadlineMutex);
                impl.deadlines.emplace(p->started + impl.opt.ackTimeout, p);
            }
            impl.deadlineCv.notify_one();
            finishOne(p);
        }
    };
};

Collector::Collector(CollectorOptions options) : Collector(options, KeyLookup{}) {}

Collector::Collector(CollectorOptions options, KeyLookup lookup) : d(std::make_unique<Impl>())
{
    d->opt = std::move(options);
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
                    ep, [proceed](http::Response r) { proceed(std::move(r)); }, id.error());
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
    service::addOpsRoutes(
        *d->server, [this] { return d->reason(); }, o.metricsToken);

    d->probeOnce();
    d->queueDepthGauge.set(0);
    if (auto r = d->server->start(); !r) {
        d->server.reset();
        return r;
    }
    d->stopProbe = false;
    d->probe = std::thread([this] { d->runProbe(); });
    d->stopDeadlines = false;
    d->deadlineThread = std::thread([this] { d->runDeadlines(); });
    jlog::info("collector listening", {{"port", static_cast<int>(d->server->port())},
                                       {"tls", d->server->tls()},
                                       {"topic", QString::fromStdString(o.topic)},
                                       {"ready", d->kafkaReady.load()}});
    return {};
}

void Collector::stop()
{
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
}

std::uint16_t Collector::port() const
{
    return d->server ? d->server->port() : 0;
}

std::string Collector::notReadyReason() const
{
    return d->reason();
}

int Collector::queueDepth() const
{
    return d->producer ? d->producer->outstanding() : 0;
}

} // namespace idl::collector
