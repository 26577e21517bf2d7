#include "session.h"

#include "handlers.h"
#include "idl/core/json_writer.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "tail.h"

#include <QPointer>
#include <QWebSocket>

#include <algorithm>
#include <chrono>
#include <thread>

namespace idl::gateway {
namespace {

using Clock = std::chrono::steady_clock;

metrics::Counter &requestCounter(std::string_view type)
{
    return metrics::Registry::global().counter(
        "idl_gateway_requests_total", "WebSocket requests by type", {{"type", std::string(type)}});
}
metrics::Counter &errorCounter(std::string_view code)
{
    return metrics::Registry::global().counter("idl_gateway_errors_total", "Error replies by code",
                                               {{"code", std::string(code)}});
}
metrics::Histogram &durationHistogram(const std::string &type)
{
    return metrics::Registry::global().histogram("idl_gateway_request_seconds",
                                                 "Time from request to its last reply",
                                                 metrics::latencyBuckets(), {{"type", type}});
}
metrics::Counter &authFailures()
{
    static auto &c = metrics::Registry::global().counter("idl_gateway_auth_failures_total",
                                                         "Failed authentications");
    return c;
}

// Requests that run until a final reply and count against ws.max_inflight.
bool isLongRunning(std::string_view type)
{
    return type == "query" || type == "export" || type == "aggregate" || type == "top" ||
           type == "tail.start" || type == "dlq.list" || type == "dlq.get" || type == "dlq.replay";
}

bool isKnownType(std::string_view type)
{
    const auto &types = protocol::requestTypes();
    return std::find(types.begin(), types.end(), type) != types.end();
}

std::atomic<int> g_openSessions{0};

} // namespace

int Session::openSessions()
{
    return g_openSessions.load();
}

Session::Session(Gateway::Impl *gateway, QWebSocket *socket)
    : m_gw(gateway), m_socket(socket), m_serial(gateway->nextSerial++)
{
    m_gw->live[m_serial] = this;
    socket->setParent(this);
    socket->setMaxAllowedIncomingMessageSize(static_cast<quint64>(m_gw->opt.maxMessageBytes));
    socket->setMaxAllowedIncomingFrameSize(static_cast<quint64>(m_gw->opt.maxMessageBytes));
    connect(socket, &QWebSocket::textMessageReceived, this, &Session::onText);
    connect(socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &) {
        sendError({}, makeError(ErrorCode::BadRequest, "binary messages are not supported"));
    });
    connect(socket, &QWebSocket::disconnected, this, &Session::onDisconnected);
    connect(socket, &QWebSocket::bytesWritten, this, [this](qint64) {
        m_flow->socket = m_socket->bytesToWrite();
        drainAllTails();
    });

    m_idle.setSingleShot(true);
    m_idle.setInterval(m_gw->opt.idleTimeout);
    connect(&m_idle, &QTimer::timeout, this,
            [this] { closeWith(4001, QStringLiteral("idle timeout")); });
    m_idle.start();
    m_authDeadline.setSingleShot(true);
    m_authDeadline.setInterval(m_gw->opt.authTimeout);
    connect(&m_authDeadline, &QTimer::timeout, this, [this] {
        if (!m_identity)
            closeWith(4002, QStringLiteral("auth timeout"));
    });
    m_authDeadline.start();
    m_tailTimer.setInterval(100);
    connect(&m_tailTimer, &QTimer::timeout, this, &Session::drainAllTails);
    m_revalidate.setInterval(m_gw->opt.revalidateInterval);
    connect(&m_revalidate, &QTimer::timeout, this, &Session::revalidate);
    m_gw->sessions.insert(this);
    ++g_openSessions;
}

Session::~Session()
{
    --g_openSessions;
    m_gw->sessions.remove(this);
    m_gw->live.erase(m_serial);
    for (auto &[id, a] : m_active) {
        if (a.state)
            a.state->cancel();
    }
    m_active.clear(); // joins tails
}

void Session::closeWith(int code, const QString &reason)
{
    if (m_closing)
        return;
    m_closing = true;
    for (auto &[id, a] : m_active) {
        if (a.state)
            a.state->cancel();
    }
    m_active.clear();
    m_socket->close(static_cast<QWebSocketProtocol::CloseCode>(code), reason);
}

void Session::onDisconnected()
{
    for (auto &[id, a] : m_active) {
        if (a.state)
            a.state->cancel();
    }
    m_closing = true;
    deleteLater();
}

void Session::sendJson(const std::string &json)
{
    if (m_closing)
        return;
    m_socket->sendTextMessage(QString::fromUtf8(json.data(), static_cast<qsizetype>(json.size())));
    m_flow->socket = m_socket->bytesToWrite();
}

void Session::sendError(const std::string &id, const Error &e)
{
    errorCounter(errorCodeName(e.code)).inc();
    sendJson(protocol::errorMessage(id, e));
}

Session::Ended Session::endRequest(const std::string &id)
{
    auto it = m_active.find(id);
    if (it == m_active.end())
        return Ended::None;
    if (it->second.state)
        it->second.state->cancel();
    const Ended what = it->second.tail ? Ended::Tail : Ended::Job;
    m_active.erase(it); // a tail is joined here
    return what;
}

void Session::deliver(const std::shared_ptr<RequestState> &state, const std::string &id,
                      const std::string &json, bool final, std::int64_t postedBytes)
{
    m_flow->posted -= postedBytes;
    auto it = m_active.find(id);
    if (it == m_active.end() || it->second.state != state)
        return; // cancelled or finished: nothing more for this id
    sendJson(json);
    if (final)
        m_active.erase(it);
}

void Session::onText(const QString &text)
{
    if (m_closing)
        return;
    m_idle.start();
    if (m_authPending) {
        // Requests pipelined behind hello/auth run once the token check has finished.
        if (m_backlog.size() < 64)
            m_backlog.push_back(text);
        else
            sendError({}, makeError(ErrorCode::Overloaded, "too many messages during auth"));
        return;
    }
    std::string id;
    auto envelope = protocol::decodeEnvelope(text.toUtf8(), &id);
    if (!envelope)
        return sendError(id, envelope.error());
    handle(std::move(envelope).value());
}

void Session::handle(protocol::Envelope &&envelope)
{
    const std::string &id = envelope.id;
    const std::string &type = envelope.type;
    if (!isKnownType(type))
        return sendError(id, makeError(ErrorCode::BadRequest, "unknown type " + type));
    requestCounter(type).inc();
    // Connection-level requests: keep-alive and authentication.
    if (type == "ping" || type == "hello" || type == "auth") {
        auto request = protocol::decodeRequest(envelope);
        if (!request)
            return sendError(id, request.error());
        if (type == "ping")
            return sendJson(protocol::pongMessage(id));
        if (type == "hello")
            return doHello(id, std::get<protocol::Hello>(*request));
        return doAuth(id, std::get<protocol::Auth>(*request).token, false);
    }
    if (!m_identity)
        return sendError(id, makeError(ErrorCode::Unauthenticated, "authenticate first"));
    if (auto wait = m_gw->rate->take(m_identity->prefix)) {
        errorCounter("rate_limited").inc();
        return sendJson(protocol::errorMessage(
            id, makeError(ErrorCode::RateLimited, "too many requests"), *wait));
    }
    if (m_active.count(id))
        return sendError(id, makeError(ErrorCode::BadRequest, "id is already in flight"));
    if (isLongRunning(type) && static_cast<int>(m_active.size()) >= m_gw->opt.maxInflight)
        return sendError(id, makeError(ErrorCode::Overloaded, "too many requests in flight"));
    auto request = protocol::decodeRequest(envelope);
    if (!request)
        return sendError(id, request.error());
    handlers::dispatch(*this, id, *request);
}

protocol::Identity Session::wireIdentity() const
{
    return protocol::Identity{m_identity->user, std::string(roleName(m_identity->role)),
                              m_identity->apps};
}

void Session::doHello(const std::string &id, const protocol::Hello &hello)
{
    if (std::find(hello.versions.begin(), hello.versions.end(), protocol::kVersion) ==
        hello.versions.end()) {
        sendError(id, makeError(ErrorCode::BadRequest, "no common protocol version (server: 1)"));
        closeWith(1002, QStringLiteral("no common protocol version"));
        return;
    }
    if (!hello.token.empty())
        return doAuth(id, hello.token, true);
    sendHello(id);
}

void Session::sendHello(const std::string &id)
{
    const auto &o = m_gw->opt;
    protocol::Limits limits;
    limits.maxMessageBytes = o.maxMessageBytes;
    limits.maxInflight = o.maxInflight;
    limits.maxTails = o.maxTails;
    limits.idleTimeoutMs = static_cast<std::int64_t>(o.idleTimeout.count());
    limits.ratePerSecond = o.ratePerSecond;
    limits.rateBurst = o.rateBurst;
    const protocol::Identity who = m_identity ? wireIdentity() : protocol::Identity{};
    sendJson(protocol::helloMessage(id, "idl-gateway/" IDL_VERSION, m_identity ? &who : nullptr,
                                    limits));
}

void Session::doAuth(const std::string &id, const std::string &token, bool hello)
{
    Gateway::Impl *gw = m_gw;
    const std::uint64_t serial = m_serial;
    m_authPending = true;
    gw->submitAuth([gw, serial, id, token, hello] {
        Result<Identity> r = makeError(ErrorCode::Unavailable, "database unavailable");
        if (auto lease = gw->authPool->acquire(); !lease)
            r = lease.error();
        else
            r = tokens::authenticate(**lease, token);
        gw->post(serial, [id, token, hello, r = std::move(r)](Session *s) mutable {
            QPointer<Session> self(s);
            if (s->m_closing)
                return;
            s->m_authPending = false;
            // Replays the messages that waited for this check (after its reply).
            QTimer::singleShot(0, s, [self] {
                if (!self)
                    return;
                const std::vector<QString> backlog = std::move(self->m_backlog);
                self->m_backlog.clear();
                for (const QString &t : backlog) {
                    if (self->m_closing || self->m_authPending) {
                        self->m_backlog.push_back(t);
                        continue;
                    }
                    self->onText(t);
                }
            });
            if (!r) {
                if (r.error().code == ErrorCode::Unauthenticated) {
                    authFailures().inc();
                    ++s->m_failedLogins;
                    jlog::warn("authentication failed",
                               {{"peer", s->m_socket->peerAddress().toString()}});
                }
                s->sendError(id, r.error());
                if (s->m_failedLogins >= 5) {
                    s->closeWith(4003, QStringLiteral("too many failed logins"));
                    return;
                }
                if (!hello)
                    return;
            } else {
                int sameToken = 0;
                for (const Session *o : s->m_gw->sessions)
                    sameToken += o != s && o->m_identity && o->m_identity->prefix == r->prefix;
                if (sameToken >= s->m_gw->opt.maxSessionsPerToken) {
                    s->sendError(
                        id, makeError(ErrorCode::Overloaded, "too many sessions for this token"));
                    s->closeWith(4004, QStringLiteral("too many sessions for this token"));
                    return;
                }
                s->m_identity = std::move(r).value();
                s->m_token = token;
                s->m_authDeadline.stop();
                s->m_revalidate.start();
                if (!hello)
                    return s->sendJson(protocol::authOkMessage(id, s->wireIdentity()));
            }
            s->sendHello(id); // the hello reply after the token check
        });
    });
}

void Session::revalidate()
{
    if (!m_identity || m_token.empty())
        return;
    Gateway::Impl *gw = m_gw;
    const std::uint64_t serial = m_serial;
    const std::string token = m_token;
    gw->submitAuth([gw, serial, token] {
        auto lease = gw->authPool->acquire();
        if (!lease)
            return; // database down or busy: keep the session, check again later
        auto r = tokens::authenticate(**lease, token);
        if (r || r.error().code != ErrorCode::Unauthenticated)
            return;
        gw->post(serial, [](Session *s) {
            jlog::info("closing a session whose token was revoked",
                       {{"prefix", QString::fromStdString(s->m_identity->prefix)}});
            s->closeWith(1008, QStringLiteral("token revoked"));
        });
    });
}

void Session::runJob(const std::string &id, const std::string &type, Job fn, DbTarget target)
{
    auto state = std::make_shared<RequestState>();
    m_active[id] = Active{type, state, nullptr};
    Gateway::Impl *gw = m_gw;
    const std::uint64_t serial = m_serial;
    auto flow = m_flow;
    const auto started = Clock::now();
    const std::int64_t maxPending = gw->opt.maxPendingBytes;
    DbPool *pool = &gw->poolFor(target);
    gw->submit([gw, pool, serial, flow, state, id, type, fn = std::move(fn), started, maxPending] {
        auto post = [&](std::string json, bool final) {
            const auto n = static_cast<std::int64_t>(json.size());
            flow->posted += n;
            gw->post(serial, [state, id, json = std::move(json), final, n](Session *s) {
                s->deliver(state, id, json, final, n);
            });
        };
        const auto fail = [&](Error e) {
            if (state->cancelled())
                e = makeError(ErrorCode::Cancelled, "cancelled by the client");
            errorCounter(errorCodeName(e.code)).inc();
            post(protocol::errorMessage(id, e), true);
        };
        if (state->cancelled())
            return;
        // The job's connection: borrowed from the pool, and handed back to it while the job
        // waits for the client, so a client that does not read never holds a connection (each
        // of the job's statements is its own transaction, so nothing spans the wait).
        std::optional<DbPool::Lease> lease;
        if (auto l = pool->acquire(); !l)
            return fail(l.error());
        else
            lease.emplace(std::move(l).value());
        pg::Connection db = lease->take();
        std::optional<Error> reacquireError;
        const Emit emit = [&](std::string json, bool final) {
            // Flow control: wait while the client has not taken what was already produced.
            if (!final && flow->pending() > maxPending && !state->cancelled() && lease) {
                lease->giveBack(std::move(db));
                lease.reset();
                // A sleeping job lets another one use a worker thread meanwhile.
                gw->workers.releaseThread();
                while (flow->pending() > maxPending && !state->cancelled())
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                gw->workers.reserveThread();
                if (auto l = pool->acquire(); l) {
                    lease.emplace(std::move(l).value());
                    db = lease->take();
                } else {
                    reacquireError = l.error(); // the next statement fails; reported below
                }
            }
            post(std::move(json), final);
        };
        Result<void> r = fn(db, emit, state);
        if (lease)
            lease->giveBack(std::move(db));
        lease.reset();
        if (!r)
            fail(reacquireError ? *reacquireError : r.error());
        durationHistogram(type).observe(
            std::chrono::duration<double>(Clock::now() - started).count());
    });
}

int Session::tailCount() const
{
    return static_cast<int>(std::count_if(m_active.begin(), m_active.end(),
                                          [](const auto &a) { return a.second.tail != nullptr; }));
}

bool Session::isTail(const std::string &id) const
{
    auto it = m_active.find(id);
    return it != m_active.end() && it->second.tail;
}

void Session::startTail(const std::string &id, TailOptions options)
{
    Gateway::Impl *gw = m_gw;
    const std::uint64_t serial = m_serial;
    auto tail = std::make_unique<TailSubscription>(std::move(options),
                                                   [gw, serial, id] { gw->wakeTail(serial, id); });
    TailSubscription *raw = tail.get();
    Active a;
    a.type = "tail";
    a.tail = std::move(tail);
    m_active[id] = std::move(a);
    raw->start();
    m_tailTimer.start();
}

void Session::drainAllTails()
{
    std::vector<std::string> ids;
    for (const auto &[k, a] : m_active) {
        if (a.tail)
            ids.push_back(k);
    }
    for (const auto &k : ids)
        drainTail(k);
    if (ids.empty())
        m_tailTimer.stop();
}

void Session::drainTail(const std::string &id)
{
    auto it = m_active.find(id);
    if (it == m_active.end() || !it->second.tail || m_closing)
        return;
    Active &a = it->second;
    if (!a.tail->started())
        return;
    if (!a.startedSent) {
        a.startedSent = true;
        sendJson(protocol::tailStartedMessage(id, m_gw->opt.kafkaTopic, a.tail->startPositions(),
                                              a.tail->truncated()));
    }
    for (int frames = 0; frames < 16; ++frames) {
        if (m_socket->bytesToWrite() > m_gw->opt.maxPendingBytes)
            return; // the client is slow: the queue fills and live events are dropped
        TailSubscription::Batch b = a.tail->take(500);
        if (b.items.empty() && b.dropped == 0) {
            if (b.error) {
                Error e = *b.error;
                m_active.erase(it);
                sendError(id, e);
            }
            return;
        }
        a.droppedTotal += b.dropped;
        std::string out;
        out.reserve(256 + b.items.size() * 256);
        protocol::beginTailEvents(out, id, b.history);
        for (std::size_t i = 0; i < b.items.size(); ++i) {
            if (i)
                out.push_back(',');
            out.append(*b.items[i].json);
        }
        protocol::endTailEvents(out, b.dropped, a.droppedTotal, b.positions);
        sendJson(out);
        if (b.error) {
            Error e = *b.error;
            m_active.erase(it);
            sendError(id, e);
            return;
        }
    }
}

} // namespace idl::gateway
