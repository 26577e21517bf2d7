#include "session.h"

#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/gateway/wire.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/query/evaluator.h"
#include "idl/query/parser.h"
#include "idl/query/sql.h"
#include "tail.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QUuid>
#include <QWebSocket>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>
#include <thread>

namespace idl::gateway {
namespace {

using Clock = std::chrono::steady_clock;

metrics::Counter &requestCounter(const std::string &type)
{
    return metrics::Registry::global().counter("idl_gateway_requests_total",
                                               "WebSocket requests by type", {{"type", type}});
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

std::string str(const QJsonObject &o, const char *key, const char *def = "")
{
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isString() ? v.toString().toStdString() : std::string(def);
}

// Reads an integer argument; nullopt (with error set) when present but invalid.
Result<std::int64_t> intArg(const QJsonObject &o, const char *key, std::int64_t def,
                            std::int64_t min, std::int64_t max)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return def;
    if (!v.isDouble())
        return makeError(ErrorCode::BadField, std::string(key) + " must be a number");
    const double d = v.toDouble();
    if (d != static_cast<double>(static_cast<std::int64_t>(d)) || d < static_cast<double>(min) ||
        d > static_cast<double>(max))
        return makeError(ErrorCode::BadField, std::string(key) + " must be an integer in " +
                                                  std::to_string(min) + ".." + std::to_string(max));
    return static_cast<std::int64_t>(d);
}

struct Range
{
    std::int64_t from = 0;
    std::int64_t to = 0;
};

Result<Range> rangeArg(const QJsonObject &o, std::int64_t now)
{
    for (const char *k : {"from", "to"}) {
        const QJsonValue v = o.value(QLatin1String(k));
        if (!v.isUndefined() && !v.isNull() && !v.isString())
            return makeError(ErrorCode::BadField, std::string(k) + " must be a string");
    }
    auto f = parseTimeArg(str(o, "from", "-15m"), now);
    if (!f)
        return f.error();
    auto t = parseTimeArg(str(o, "to", "now"), now);
    if (!t)
        return t.error();
    if (*f >= *t)
        return makeError(ErrorCode::BadRequest, "from must be before to");
    return Range{*f, *t};
}

Result<query::Node> parseQ(const QJsonObject &o)
{
    const QJsonValue v = o.value(QLatin1String("q"));
    if (!v.isUndefined() && !v.isNull() && !v.isString())
        return makeError(ErrorCode::BadField, "q must be a string");
    const QByteArray q = v.toString().toUtf8();
    return query::parse(std::string_view(q.constData(), static_cast<std::size_t>(q.size())));
}

std::int64_t toInt(std::string_view s)
{
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

// Writes the envelope start: {"type":..,"id":..
void begin(JsonWriter &w, std::string_view type, std::string_view id)
{
    w.beginObject();
    w.key("type");
    w.value(type);
    w.key("id");
    w.value(id);
}

void appendApps(JsonWriter &w, const std::vector<std::string> &apps)
{
    if (apps.empty()) {
        w.null();
        return;
    }
    w.beginArray();
    for (const auto &a : apps)
        w.value(a);
    w.endArray();
}

std::string savedSelect()
{
    return "SELECT uuid, name, query, range_from, range_to, shared, owner, "
           "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
           "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
           "FROM saved_queries ";
}

// SQL condition: a saved query row is visible to me: mine, or shared within my app scope.
// $<user> = my user, $<apps> = my apps as a text[] literal (NULL: unscoped, sees every one).
std::string savedVisible(int user, int apps)
{
    const std::string u = "$" + std::to_string(user), a = "$" + std::to_string(apps);
    return "(owner = " + u + " OR (shared AND (" + a + "::text[] IS NULL OR (apps IS NOT NULL " +
           "AND cardinality(apps) > 0 AND apps <@ " + a + "::text[]))))";
}

pg::Param scopeParam(const std::vector<std::string> &apps)
{
    return apps.empty() ? pg::Param() : pg::Param(toPgArray(apps));
}

// A token (or saved query) with `apps` lies within `scope` (empty scope: every app).
bool withinScope(const std::vector<std::string> &apps, const std::vector<std::string> &scope)
{
    if (scope.empty())
        return true;
    if (apps.empty())
        return false; // unscoped: wider than any scope
    return std::all_of(apps.begin(), apps.end(), [&](const std::string &a) {
        return std::find(scope.begin(), scope.end(), a) != scope.end();
    });
}

void appendSaved(JsonWriter &w, const pg::Rows &r, int i)
{
    w.beginObject();
    static const char *keys[] = {"uuid", "name", "q", "from", "to"};
    for (int c = 0; c < 5; ++c) {
        w.key(keys[c]);
        w.value(r.value(i, c));
    }
    w.key("shared");
    w.value(r.value(i, 5) == "t");
    w.key("owner");
    w.value(r.value(i, 6));
    w.key("created");
    w.value(r.value(i, 7));
    w.key("updated");
    w.value(r.value(i, 8));
    w.endObject();
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
    std::string out;
    JsonWriter w(out);
    w.beginObject();
    w.key("type");
    w.value("error");
    w.key("id");
    if (id.empty())
        w.null();
    else
        w.value(id);
    w.key("code");
    w.value(errorCodeName(e.code));
    w.key("message");
    w.value(e.message);
    if (e.position >= 0) {
        w.key("position");
        w.value(static_cast<std::int64_t>(e.position));
    }
    w.endObject();
    errorCounter(errorCodeName(e.code)).inc();
    sendJson(out);
}

void Session::sendOk(const std::string &id)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "ok", id);
    w.endObject();
    sendJson(out);
}

void Session::endRequest(const std::string &id)
{
    m_active.erase(id);
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
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject()) {
        sendError({}, makeError(ErrorCode::BadJson, "a message must be one JSON object"));
        return;
    }
    const QJsonObject msg = doc.object();
    const QJsonValue idv = msg.value(QLatin1String("id"));
    const std::string id = idv.isString() ? idv.toString().toStdString() : std::string();
    bool idOk = !id.empty() && id.size() <= 64;
    for (char c : id)
        idOk = idOk && c >= 0x20 && c < 0x7f;
    if (!idOk) {
        sendError({},
                  makeError(ErrorCode::BadRequest, "id must be 1..64 printable ASCII characters"));
        return;
    }
    const std::string type = str(msg, "type");
    if (type.empty()) {
        sendError(id, makeError(ErrorCode::BadRequest, "missing type"));
        return;
    }
    handle(type, id, msg);
}

void Session::handle(const std::string &type, const std::string &id, const QJsonObject &msg)
{
    static const std::set<std::string> kKnown = {
        "hello",     "auth",         "ping",        "query",         "aggregate",    "top",
        "export",    "tail.start",   "tail.stop",   "cancel",        "saved.list",   "saved.get",
        "saved.put", "saved.delete", "tokens.list", "tokens.create", "tokens.revoke"};
    if (!kKnown.count(type)) {
        sendError(id, makeError(ErrorCode::BadRequest, "unknown type " + type));
        return;
    }
    requestCounter(type).inc();
    if (type == "ping") {
        std::string out;
        JsonWriter w(out);
        begin(w, "pong", id);
        w.endObject();
        sendJson(out);
        return;
    }
    if (type == "hello") {
        doHello(id, msg);
        return;
    }
    if (type == "auth") {
        doAuth(id, str(msg, "token"), false);
        return;
    }
    if (!m_identity) {
        sendError(id, makeError(ErrorCode::Unauthenticated, "authenticate first"));
        return;
    }
    if (auto wait = m_gw->rate->take(m_identity->prefix)) {
        Error e = makeError(ErrorCode::RateLimited, "too many requests");
        std::string out;
        JsonWriter w(out);
        begin(w, "error", id);
        w.key("code");
        w.value("rate_limited");
        w.key("message");
        w.value(e.message);
        w.key("retry_after_ms");
        w.value(*wait);
        w.endObject();
        errorCounter("rate_limited").inc();
        sendJson(out);
        return;
    }
    if (m_active.count(id)) {
        sendError(id, makeError(ErrorCode::BadRequest, "id is already in flight"));
        return;
    }
    const bool longRunning = type == "query" || type == "export" || type == "aggregate" ||
                             type == "top" || type == "tail.start";
    if (longRunning && static_cast<int>(m_active.size()) >= m_gw->opt.maxInflight) {
        sendError(id, makeError(ErrorCode::Overloaded, "too many requests in flight"));
        return;
    }
    if (type == "query" || type == "export")
        doQuery(id, msg, type == "export");
    else if (type == "aggregate")
        doAggregate(id, msg);
    else if (type == "top")
        doTop(id, msg);
    else if (type == "tail.start")
        doTailStart(id, msg);
    else if (type == "tail.stop" || type == "cancel") {
        const std::string target = str(msg, "target");
        auto it = m_active.find(target);
        if (it != m_active.end() && (type == "cancel" || it->second.tail)) {
            if (it->second.state)
                it->second.state->cancel();
            const bool isTail = static_cast<bool>(it->second.tail);
            m_active.erase(it); // a tail is joined here
            if (type == "cancel" || !isTail)
                sendError(target, makeError(ErrorCode::Cancelled, "cancelled by the client"));
        }
        sendOk(id);
    } else if (type.rfind("saved.", 0) == 0)
        doSaved(type, id, msg);
    else if (type.rfind("tokens.", 0) == 0)
        doTokens(type, id, msg);
}

void Session::doHello(const std::string &id, const QJsonObject &msg)
{
    const QJsonArray versions = msg.value(QLatin1String("versions")).toArray();
    bool v1 = false;
    for (const auto &v : versions)
        v1 = v1 || v.toInt() == 1;
    if (!v1) {
        sendError(id, makeError(ErrorCode::BadRequest, "no common protocol version (server: 1)"));
        closeWith(1002, QStringLiteral("no common protocol version"));
        return;
    }
    m_helloDone = true;
    const std::string token = str(msg, "token");
    if (!token.empty()) {
        doAuth(id, token, true);
        return;
    }
    std::string out;
    JsonWriter w(out);
    begin(w, "hello", id);
    w.key("version");
    w.value(1);
    w.key("server");
    w.value("idl-gateway/" IDL_VERSION);
    w.key("authenticated");
    w.value(m_identity.has_value());
    if (m_identity) {
        w.key("user");
        w.value(m_identity->user);
        w.key("role");
        w.value(roleName(m_identity->role));
        w.key("apps");
        appendApps(w, m_identity->apps);
    }
    const auto &o = m_gw->opt;
    w.key("limits");
    w.beginObject();
    w.key("max_message_bytes");
    w.value(static_cast<std::int64_t>(o.maxMessageBytes));
    w.key("max_page");
    w.value(10000);
    w.key("max_chunk");
    w.value(5000);
    w.key("max_inflight");
    w.value(o.maxInflight);
    w.key("max_tails");
    w.value(o.maxTails);
    w.key("idle_timeout_ms");
    w.value(static_cast<std::int64_t>(o.idleTimeout.count()));
    w.key("rate_per_s");
    w.value(o.ratePerSecond);
    w.key("rate_burst");
    w.value(o.rateBurst);
    w.endObject();
    w.endObject();
    sendJson(out);
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
                s->m_identity = std::move(r).value();
                s->m_token = token;
                s->m_authDeadline.stop();
                s->m_revalidate.start();
                if (!hello) {
                    std::string out;
                    JsonWriter w(out);
                    begin(w, "auth.ok", id);
                    w.key("user");
                    w.value(s->m_identity->user);
                    w.key("role");
                    w.value(roleName(s->m_identity->role));
                    w.key("apps");
                    appendApps(w, s->m_identity->apps);
                    w.endObject();
                    s->sendJson(out);
                    return;
                }
            }
            // hello reply after the token check
            QJsonObject none;
            none.insert(QStringLiteral("versions"), QJsonArray{1});
            s->doHello(id, none);
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

void Session::runJob(const std::string &id, const std::string &type,
                     std::function<Result<void>(pg::Connection &, const Emit &,
                                                const std::shared_ptr<RequestState> &)>
                         fn)
{
    auto state = std::make_shared<RequestState>();
    m_active[id] = Active{type, state, nullptr};
    Gateway::Impl *gw = m_gw;
    const std::uint64_t serial = m_serial;
    auto flow = m_flow;
    const auto started = Clock::now();
    const std::int64_t maxPending = gw->opt.maxPendingBytes;
    gw->submit([gw, serial, flow, state, id, type, fn = std::move(fn), started, maxPending] {
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
            std::string out;
            JsonWriter w(out);
            begin(w, "error", id);
            w.key("code");
            w.value(errorCodeName(e.code));
            w.key("message");
            w.value(e.message);
            if (e.position >= 0) {
                w.key("position");
                w.value(static_cast<std::int64_t>(e.position));
            }
            w.endObject();
            errorCounter(errorCodeName(e.code)).inc();
            post(std::move(out), true);
        };
        if (state->cancelled())
            return;
        // The job's connection: borrowed from the pool, and handed back to it while the job
        // waits for the client, so a client that does not read never holds a connection (each
        // of the job's statements is its own transaction, so nothing spans the wait).
        std::optional<DbPool::Lease> lease;
        if (auto l = gw->pool->acquire(); !l)
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
                if (auto l = gw->pool->acquire(); l) {
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

void Session::doQuery(const std::string &id, const QJsonObject &msg, bool exportMode)
{
    auto ast = parseQ(msg);
    if (!ast)
        return sendError(id, ast.error());
    auto range = rangeArg(msg, nowNs());
    if (!range)
        return sendError(id, range.error());
    const std::string order = str(msg, "order", exportMode ? "asc" : "desc");
    if (order != "asc" && order != "desc")
        return sendError(id, makeError(ErrorCode::BadField, "order must be asc or desc"));
    auto limit = intArg(msg, "limit", 500, 1, 10000);
    if (!limit)
        return sendError(id, limit.error());
    auto chunk = intArg(msg, "chunk", exportMode ? 2000 : 500, 1, 5000);
    if (!chunk)
        return sendError(id, chunk.error());
    unsigned columns = ColAll;
    if (exportMode && msg.value(QLatin1String("columns")).isArray()) {
        columns = 0;
        for (const auto &c : msg.value(QLatin1String("columns")).toArray()) {
            auto col = parseColumn(c.toString().toStdString());
            if (!col)
                return sendError(id, makeError(ErrorCode::BadRequest,
                                               "unknown column " + c.toString().toStdString()));
            columns |= *col;
        }
    }
    query::QueryOptions qo;
    qo.fromNs = range->from;
    qo.toNs = range->to;
    qo.order = order == "asc" ? query::SortOrder::Asc : query::SortOrder::Desc;
    qo.allowedApps = m_identity->apps;
    const QJsonValue cur = msg.value(QLatin1String("cursor"));
    if (cur.isString()) {
        auto c = decodeCursor(cur.toString().toStdString());
        if (!c)
            return sendError(id, c.error());
        qo.cursor = query::Cursor{c->first, c->second};
    }
    qo.limit = exportMode ? *chunk : *limit + 1;
    auto probe = query::buildQuery(*ast, qo);
    if (!probe)
        return sendError(id, probe.error());
    const std::int64_t pageLimit = *limit;
    const std::int64_t chunkRows = *chunk;
    const auto t0 = Clock::now();
    runJob(
        id, exportMode ? "export" : "query",
        [ast = std::move(ast).value(), qo, pageLimit, chunkRows, columns, exportMode, id,
         t0](pg::Connection &db, const Emit &emit,
             const std::shared_ptr<RequestState> &state) mutable -> Result<void> {
            std::int64_t count = 0;
            std::int64_t seq = 0;
            std::optional<std::string> nextCursor;
            auto chunkMsg = [&](const pg::Rows &rows, int begin, int end, bool progress) {
                std::string out;
                JsonWriter w(out);
                w.beginObject();
                w.key("type");
                w.value("rows");
                w.key("id");
                w.value(id);
                w.key("seq");
                w.value(seq++);
                w.key("rows");
                w.beginArray();
                for (int i = begin; i < end; ++i) {
                    if (i > begin)
                        out.push_back(',');
                    appendRowJson(out, rows, i, columns);
                }
                out.push_back(']');
                if (progress && end > begin) {
                    const std::int64_t ts = toInt(rows.value(end - 1, 1));
                    const double span = static_cast<double>(qo.toNs - qo.fromNs);
                    double frac = qo.order == query::SortOrder::Asc
                                      ? static_cast<double>(ts - qo.fromNs) / span
                                      : static_cast<double>(qo.toNs - ts) / span;
                    out.append(",\"progress\":{\"rows\":");
                    appendJsonInt(out, count);
                    out.append(",\"fraction\":");
                    appendJsonDouble(out, std::clamp(frac, 0.0, 1.0));
                    out.push_back('}');
                }
                out.push_back('}');
                emit(std::move(out), false);
            };
            auto run = [&](const query::QueryOptions &o) -> Result<pg::Rows> {
                auto q = query::buildQuery(ast, o);
                if (!q)
                    return q.error();
                state->attach(db);
                auto rows = db.query(q->sql, pg::Params(q->params.begin(), q->params.end()));
                state->detach();
                if (state->cancelled())
                    return makeError(ErrorCode::Cancelled, "cancelled by the client");
                return rows;
            };
            if (!exportMode) {
                // Over more than an hour, a page is read in time windows growing from the
                // starting end (15 min or 1/32 of the range, then x4), so a selective filter
                // stops as soon as the page is full instead of scanning the whole range (BRIN
                // keeps each window cheap). Up to an hour one statement is cheaper (measured
                // in docs/benchmarks.md).
                const bool desc = qo.order == query::SortOrder::Desc;
                std::int64_t lo = qo.fromNs;
                std::int64_t hi = qo.toNs;
                if (qo.cursor) {
                    if (desc)
                        hi = std::min(hi, qo.cursor->tsNs + 1);
                    else
                        lo = std::max(lo, qo.cursor->tsNs);
                }
                constexpr std::int64_t kHour = 3'600'000'000'000LL;
                std::int64_t width =
                    hi - lo <= kHour ? hi - lo : std::max<std::int64_t>(kHour / 4, (hi - lo) / 32);
                std::string lastTs, lastId;
                while (lo < hi) {
                    query::QueryOptions wo = qo;
                    if (desc)
                        wo.fromNs = hi - lo > width ? hi - width : lo;
                    else
                        wo.toNs = hi - lo > width ? lo + width : hi;
                    wo.fromNs = std::max(wo.fromNs, lo);
                    wo.toNs = std::min(wo.toNs, hi);
                    const std::int64_t remaining = pageLimit - count;
                    wo.limit = remaining + 1;
                    auto rows = run(wo);
                    if (!rows)
                        return rows.error();
                    const int n = rows->rowCount();
                    if (n > remaining) {
                        const int take = static_cast<int>(remaining);
                        for (int b = 0; b < take; b += static_cast<int>(chunkRows)) {
                            const int e = std::min<int>(take, b + static_cast<int>(chunkRows));
                            count += e - b;
                            chunkMsg(*rows, b, e, false);
                        }
                        if (take > 0)
                            nextCursor = encodeCursor(toInt(rows->value(take - 1, 1)),
                                                      rows->value(take - 1, 0));
                        else
                            nextCursor = encodeCursor(toInt(lastTs), lastId);
                        break;
                    }
                    for (int b = 0; b < n; b += static_cast<int>(chunkRows)) {
                        const int e = std::min<int>(n, b + static_cast<int>(chunkRows));
                        count += e - b;
                        chunkMsg(*rows, b, e, false);
                    }
                    if (n > 0) {
                        lastTs = rows->value(n - 1, 1);
                        lastId = rows->value(n - 1, 0);
                    }
                    if (desc)
                        hi = wo.fromNs;
                    else
                        lo = wo.toNs;
                    width = width > (std::int64_t(1) << 60) ? width : width * 4;
                }
            }
            while (exportMode) {
                auto rows = run(qo);
                if (!rows)
                    return rows.error();
                const int n = rows->rowCount();
                count += n;
                if (n > 0)
                    chunkMsg(*rows, 0, n, true);
                if (n < qo.limit)
                    break;
                qo.cursor =
                    query::Cursor{toInt(rows->value(n - 1, 1)), std::string(rows->value(n - 1, 0))};
            }
            std::string out;
            JsonWriter w(out);
            begin(w, "done", id);
            w.key("count");
            w.value(count);
            w.key("cursor");
            if (nextCursor)
                w.value(*nextCursor);
            else
                w.null();
            w.key("elapsed_ms");
            w.value(static_cast<std::int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
            w.endObject();
            emit(std::move(out), true);
            return {};
        });
}

void Session::doAggregate(const std::string &id, const QJsonObject &msg)
{
    auto ast = parseQ(msg);
    if (!ast)
        return sendError(id, ast.error());
    auto range = rangeArg(msg, nowNs());
    if (!range)
        return sendError(id, range.error());
    const std::string split = str(msg, "split", "level");
    if (split != "level" && split != "app")
        return sendError(id, makeError(ErrorCode::BadField, "split must be level or app"));
    auto bucketMs = intArg(msg, "bucket_ms", 0, 0, std::int64_t(1) << 40);
    if (!bucketMs)
        return sendError(id, bucketMs.error());
    auto maxSeries = intArg(msg, "max_series", 10, 1, 100);
    if (!maxSeries)
        return sendError(id, maxSeries.error());
    std::int64_t bucket =
        *bucketMs ? *bucketMs * 1'000'000 : chooseBucketNs(range->from, range->to);
    if (*bucketMs && *bucketMs < 1000)
        return sendError(id, makeError(ErrorCode::BadRequest, "bucket_ms must be >= 1000"));
    query::AggregateOptions ao;
    ao.fromNs = range->from - range->from % bucket;
    ao.toNs = range->to % bucket ? range->to - range->to % bucket + bucket : range->to;
    if ((ao.toNs - ao.fromNs) / bucket > 2000)
        return sendError(id, makeError(ErrorCode::BadRequest, "more than 2000 buckets"));
    ao.bucketNs = bucket;
    ao.split = split == "app" ? query::AggregateSplit::App : query::AggregateSplit::Level;
    ao.allowedApps = m_identity->apps;
    ao.maxBuckets = 2000;
    auto q = query::buildAggregate(*ast, ao);
    if (!q)
        return sendError(id, q.error());
    const std::int64_t series = *maxSeries;
    const auto t0 = Clock::now();
    runJob(
        id, "aggregate",
        [q = std::move(q).value(), ao, series, id,
         t0](pg::Connection &db, const Emit &emit,
             const std::shared_ptr<RequestState> &state) -> Result<void> {
            state->attach(db);
            auto rows = db.query(q.sql, pg::Params(q.params.begin(), q.params.end()));
            state->detach();
            if (!rows)
                return rows.error();
            const std::size_t nb = static_cast<std::size_t>((ao.toNs - ao.fromNs) / ao.bucketNs);
            std::vector<std::map<std::string, std::int64_t>> buckets(nb);
            std::map<std::string, std::int64_t> totals;
            std::int64_t total = 0;
            for (int i = 0; i < rows->rowCount(); ++i) {
                const std::int64_t b = toInt(rows->value(i, 0));
                const std::int64_t c = toInt(rows->value(i, 2));
                const auto idx = static_cast<std::size_t>((b - ao.fromNs) / ao.bucketNs);
                if (b < ao.fromNs || idx >= nb)
                    continue;
                buckets[idx][std::string(rows->value(i, 1))] += c;
                totals[std::string(rows->value(i, 1))] += c;
                total += c;
            }
            std::vector<std::string> keys;
            if (ao.split == query::AggregateSplit::Level) {
                keys = {"trace", "debug", "info", "warn", "error", "fatal"};
            } else {
                std::vector<std::pair<std::int64_t, std::string>> byCount;
                for (const auto &[k, c] : totals)
                    byCount.push_back({-c, k});
                std::sort(byCount.begin(), byCount.end());
                std::set<std::string> keep;
                for (const auto &[c, k] : byCount) {
                    if (static_cast<std::int64_t>(keys.size()) < series) {
                        keys.push_back(k);
                        keep.insert(k);
                    }
                }
                if (byCount.size() > keys.size()) {
                    keys.push_back("_other");
                    for (auto &b : buckets) {
                        std::int64_t other = 0;
                        for (auto it = b.begin(); it != b.end();) {
                            if (!keep.count(it->first)) {
                                other += it->second;
                                it = b.erase(it);
                            } else {
                                ++it;
                            }
                        }
                        if (other)
                            b["_other"] += other;
                    }
                }
            }
            std::string out;
            JsonWriter w(out);
            begin(w, "aggregate.result", id);
            w.key("bucket_ms");
            w.value(ao.bucketNs / 1'000'000);
            w.key("source");
            w.value(q.fromRollups ? "rollup" : "raw");
            w.key("from");
            w.value(std::to_string(ao.fromNs));
            w.key("to");
            w.value(std::to_string(ao.toNs));
            w.key("keys");
            w.beginArray();
            for (const auto &k : keys)
                w.value(k);
            w.endArray();
            w.key("buckets");
            w.beginArray();
            for (std::size_t i = 0; i < nb; ++i) {
                const std::int64_t t = ao.fromNs + static_cast<std::int64_t>(i) * ao.bucketNs;
                w.beginObject();
                w.key("t");
                w.value(std::to_string(t));
                w.key("time");
                w.value(formatRfc3339Nanos(t));
                w.key("counts");
                w.beginObject();
                for (const auto &[k, c] : buckets[i]) {
                    w.key(k);
                    w.value(c);
                }
                w.endObject();
                w.endObject();
            }
            w.endArray();
            w.key("total");
            w.value(total);
            w.key("elapsed_ms");
            w.value(static_cast<std::int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
            w.endObject();
            emit(std::move(out), true);
            return {};
        });
}

void Session::doTop(const std::string &id, const QJsonObject &msg)
{
    auto ast = parseQ(msg);
    if (!ast)
        return sendError(id, ast.error());
    auto range = rangeArg(msg, nowNs());
    if (!range)
        return sendError(id, range.error());
    const std::string field = str(msg, "field", "app");
    if (field != "app" && field != "host")
        return sendError(id, makeError(ErrorCode::BadField, "field must be app or host"));
    auto limit = intArg(msg, "limit", 10, 1, 100);
    if (!limit)
        return sendError(id, limit.error());
    query::TopNOptions to;
    to.fromNs = range->from;
    to.toNs = range->to;
    to.limit = *limit;
    to.allowedApps = m_identity->apps;
    auto q =
        query::buildTopN(field == "app" ? query::TopNField::App : query::TopNField::Host, *ast, to);
    if (!q)
        return sendError(id, q.error());
    const auto t0 = Clock::now();
    runJob(
        id, "top",
        [q = std::move(q).value(), field, id,
         t0](pg::Connection &db, const Emit &emit,
             const std::shared_ptr<RequestState> &state) -> Result<void> {
            state->attach(db);
            auto rows = db.query(q.sql, pg::Params(q.params.begin(), q.params.end()));
            state->detach();
            if (!rows)
                return rows.error();
            std::string out;
            JsonWriter w(out);
            begin(w, "top.result", id);
            w.key("field");
            w.value(field);
            w.key("source");
            w.value(q.fromRollups ? "rollup" : "raw");
            w.key("items");
            w.beginArray();
            for (int i = 0; i < rows->rowCount(); ++i) {
                w.beginObject();
                w.key("value");
                w.value(rows->value(i, 0));
                w.key("count");
                w.value(toInt(rows->value(i, 1)));
                w.endObject();
            }
            w.endArray();
            w.key("elapsed_ms");
            w.value(static_cast<std::int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
            w.endObject();
            emit(std::move(out), true);
            return {};
        });
}

void Session::doTailStart(const std::string &id, const QJsonObject &msg)
{
    int tails = 0;
    for (const auto &[k, a] : m_active)
        tails += a.tail ? 1 : 0;
    if (tails >= m_gw->opt.maxTails)
        return sendError(id, makeError(ErrorCode::Overloaded, "too many tails on this connection"));
    auto ast = parseQ(msg);
    if (!ast)
        return sendError(id, ast.error());
    auto matcher = query::Matcher::create(*ast);
    if (!matcher)
        return sendError(id, matcher.error());
    TailOptions to;
    to.bootstrap = m_gw->opt.kafkaBootstrap;
    to.topic = m_gw->opt.kafkaTopic;
    to.dsn = m_gw->opt.pgDsn;
    to.writerGroup = m_gw->opt.writerGroup;
    to.ast = *ast;
    to.matcher = std::move(matcher).value();
    to.apps = m_identity->apps;
    to.queueCapacity = m_gw->opt.tailQueue;
    to.statementTimeout = m_gw->opt.queryTimeout;
    const QJsonValue since = msg.value(QLatin1String("since"));
    if (since.isString()) {
        auto s = parseTimeArg(since.toString().toStdString(), nowNs());
        if (!s)
            return sendError(id, s.error());
        to.sinceNs = *s;
    }
    const QJsonValue resume = msg.value(QLatin1String("resume"));
    if (resume.isObject()) {
        const QJsonObject pos = resume.toObject().value(QLatin1String("positions")).toObject();
        std::map<std::int32_t, std::int64_t> m;
        for (auto it = pos.begin(); it != pos.end(); ++it) {
            bool ok = false;
            const int p = it.key().toInt(&ok);
            if (!ok || p < 0 || !it.value().isDouble() || it.value().toDouble() < 0)
                return sendError(id, makeError(ErrorCode::BadField, "malformed resume positions"));
            m[p] = static_cast<std::int64_t>(it.value().toDouble());
        }
        to.resume = std::move(m);
    }
    Gateway::Impl *gw = m_gw;
    const std::uint64_t serial = m_serial;
    auto tail = std::make_unique<TailSubscription>(std::move(to), [gw, serial, id] {
        gw->post(serial, [id](Session *s) { s->drainTail(id); });
    });
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
    auto writePositions = [](JsonWriter &w, const std::map<std::int32_t, std::int64_t> &pos) {
        w.beginObject();
        for (const auto &[p, o] : pos) {
            w.key(std::to_string(p));
            w.value(o);
        }
        w.endObject();
    };
    if (!a.startedSent) {
        a.startedSent = true;
        std::string out;
        JsonWriter w(out);
        begin(w, "tail.started", id);
        w.key("topic");
        w.value(m_gw->opt.kafkaTopic);
        w.key("positions");
        writePositions(w, a.tail->startPositions());
        if (a.tail->truncated()) {
            w.key("truncated");
            w.value(true);
        }
        w.endObject();
        sendJson(out);
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
        JsonWriter w(out);
        begin(w, "tail.events", id);
        w.key("phase");
        w.value(b.history ? "history" : "live");
        w.key("events");
        w.beginArray();
        for (std::size_t i = 0; i < b.items.size(); ++i) {
            if (i)
                out.push_back(',');
            out.append(b.items[i].json);
        }
        out.push_back(']');
        out.append(",\"dropped\":");
        appendJsonUInt(out, b.dropped);
        out.append(",\"dropped_total\":");
        appendJsonUInt(out, a.droppedTotal);
        out.append(",\"positions\":");
        {
            JsonWriter pw(out);
            writePositions(pw, b.positions);
        }
        out.push_back('}');
        sendJson(out);
        if (b.error) {
            Error e = *b.error;
            m_active.erase(it);
            sendError(id, e);
            return;
        }
    }
}

void Session::doSaved(const std::string &type, const std::string &id, const QJsonObject &msg)
{
    const Identity me = *m_identity;
    if (type == "saved.list") {
        return runJob(id, type,
                      [me, id](pg::Connection &db, const Emit &emit,
                               const std::shared_ptr<RequestState> &) -> Result<void> {
                          auto r = db.query(savedSelect() + "WHERE " + savedVisible(1, 2) +
                                                " ORDER BY name, uuid",
                                            {me.user, scopeParam(me.apps)});
                          if (!r)
                              return r.error();
                          std::string out;
                          JsonWriter w(out);
                          begin(w, "saved.list.result", id);
                          w.key("items");
                          w.beginArray();
                          for (int i = 0; i < r->rowCount(); ++i)
                              appendSaved(w, *r, i);
                          w.endArray();
                          w.endObject();
                          emit(std::move(out), true);
                          return {};
                      });
    }
    std::string uuid = type == "saved.put"
                           ? str(msg.value(QLatin1String("saved")).toObject(), "uuid")
                           : str(msg, "uuid");
    if (!uuid.empty() && QUuid::fromString(QString::fromStdString(uuid)).isNull())
        return sendError(id, makeError(ErrorCode::NotFound, "no such saved query"));
    if (type == "saved.get" || type == "saved.delete") {
        if (uuid.empty())
            return sendError(id, makeError(ErrorCode::MissingField, "uuid is required"));
        const bool del = type == "saved.delete";
        return runJob(
            id, type,
            [me, id, uuid, del](pg::Connection &db, const Emit &emit,
                                const std::shared_ptr<RequestState> &) -> Result<void> {
                auto r = db.query(savedSelect() + "WHERE uuid = $1::uuid AND " + savedVisible(2, 3),
                                  {uuid, me.user, scopeParam(me.apps)});
                if (!r)
                    return r.error();
                if (r->rowCount() == 0)
                    return makeError(ErrorCode::NotFound, "no such saved query");
                std::string out;
                JsonWriter w(out);
                if (del) {
                    const bool shared = r->value(0, 5) == "t";
                    if (shared && me.role < Role::Editor)
                        return makeError(ErrorCode::Forbidden,
                                         "deleting a shared query needs the editor role");
                    auto d = db.query("DELETE FROM saved_queries WHERE uuid = $1::uuid", {uuid});
                    if (!d)
                        return d.error();
                    begin(w, "ok", id);
                } else {
                    begin(w, "saved.result", id);
                    w.key("saved");
                    appendSaved(w, *r, 0);
                }
                w.endObject();
                emit(std::move(out), true);
                return {};
            });
    }
    // saved.put
    const QJsonObject s = msg.value(QLatin1String("saved")).toObject();
    const std::string name = str(s, "name");
    const std::string q = str(s, "q");
    const std::string from = str(s, "from", "-15m");
    const std::string to = str(s, "to", "now");
    const bool shared = s.value(QLatin1String("shared")).toBool(false);
    if (name.empty() || name.size() > 200)
        return sendError(id, makeError(ErrorCode::BadField, "name must be 1..200 characters"));
    if (auto p = query::parse(q); !p)
        return sendError(id, p.error());
    if (auto f = parseTimeArg(from, nowNs()); !f)
        return sendError(id, f.error());
    if (auto t = parseTimeArg(to, nowNs()); !t)
        return sendError(id, t.error());
    if (shared && me.role < Role::Editor)
        return sendError(id,
                         makeError(ErrorCode::Forbidden, "sharing a query needs the editor role"));
    runJob(id, type,
           [me, id, uuid, name, q, from, to,
            shared](pg::Connection &db, const Emit &emit,
                    const std::shared_ptr<RequestState> &) -> Result<void> {
               std::string key = uuid;
               if (key.empty()) {
                   key = QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
                   auto r =
                       db.query("INSERT INTO saved_queries (uuid, owner, name, query, "
                                "range_from, range_to, shared, apps) VALUES ($1::uuid, $2, $3, "
                                "$4, $5, $6, $7::boolean, $8::text[])",
                                {key, me.user, name, q, from, to,
                                 std::string(shared ? "true" : "false"), scopeParam(me.apps)});
                   if (!r)
                       return r.error();
               } else {
                   auto cur = db.query(std::string("SELECT owner, shared FROM saved_queries "
                                                   "WHERE uuid = $1::uuid AND ") +
                                           savedVisible(2, 3) + " FOR UPDATE",
                                       {key, me.user, scopeParam(me.apps)});
                   if (!cur)
                       return cur.error();
                   if (cur->rowCount() == 0)
                       return makeError(ErrorCode::NotFound, "no such saved query");
                   if (cur->value(0, 1) == "t" && me.role < Role::Editor)
                       return makeError(ErrorCode::Forbidden,
                                        "changing a shared query needs the editor role");
                   auto r =
                       db.query("UPDATE saved_queries SET name = $2, query = $3, "
                                "range_from = $4, range_to = $5, shared = $6::boolean, "
                                "updated_at = now() WHERE uuid = $1::uuid",
                                {key, name, q, from, to, std::string(shared ? "true" : "false")});
                   if (!r)
                       return r.error();
               }
               auto r = db.query(savedSelect() + "WHERE uuid = $1::uuid", {key});
               if (!r || r->rowCount() != 1)
                   return makeError(ErrorCode::Internal, "saved query vanished");
               std::string out;
               JsonWriter w(out);
               begin(w, "saved.result", id);
               w.key("saved");
               appendSaved(w, *r, 0);
               w.endObject();
               emit(std::move(out), true);
               return {};
           });
}

void Session::doTokens(const std::string &type, const std::string &id, const QJsonObject &msg)
{
    if (m_identity->role < Role::Admin)
        return sendError(id, makeError(ErrorCode::Forbidden, "tokens need the admin role"));
    // An admin scoped to some apps manages only the tokens within that scope.
    const std::vector<std::string> scope = m_identity->apps;
    if (type == "tokens.list") {
        return runJob(id, type,
                      [id, scope](pg::Connection &db, const Emit &emit,
                                  const std::shared_ptr<RequestState> &) -> Result<void> {
                          auto r = tokens::list(db);
                          if (!r)
                              return r.error();
                          std::erase_if(*r, [&](const TokenRecord &t) {
                              return !withinScope(t.apps, scope);
                          });
                          std::string out;
                          JsonWriter w(out);
                          begin(w, "tokens.list.result", id);
                          w.key("items");
                          w.beginArray();
                          for (const auto &t : *r) {
                              w.beginObject();
                              w.key("prefix");
                              w.value(t.prefix);
                              w.key("name");
                              w.value(t.name);
                              w.key("role");
                              w.value(roleName(t.role));
                              w.key("apps");
                              appendApps(w, t.apps);
                              w.key("created");
                              w.value(t.created);
                              w.key("revoked");
                              if (t.revoked)
                                  w.value(*t.revoked);
                              else
                                  w.null();
                              w.endObject();
                          }
                          w.endArray();
                          w.endObject();
                          emit(std::move(out), true);
                          return {};
                      });
    }
    if (type == "tokens.revoke") {
        const std::string prefix = str(msg, "prefix");
        return runJob(id, type,
                      [id, prefix, scope](pg::Connection &db, const Emit &emit,
                                          const std::shared_ptr<RequestState> &) -> Result<void> {
                          if (!scope.empty()) {
                              auto all = tokens::list(db);
                              if (!all)
                                  return all.error();
                              const bool mine =
                                  std::any_of(all->begin(), all->end(), [&](const TokenRecord &t) {
                                      return t.prefix == prefix && withinScope(t.apps, scope);
                                  });
                              if (!mine) // the same answer as for an unknown prefix
                                  return makeError(ErrorCode::NotFound,
                                                   "no active token with that prefix");
                          }
                          if (auto r = tokens::revoke(db, prefix); !r)
                              return r.error();
                          std::string out;
                          JsonWriter w(out);
                          begin(w, "ok", id);
                          w.endObject();
                          emit(std::move(out), true);
                          return {};
                      });
    }
    const std::string name = str(msg, "name");
    const auto role = parseRole(str(msg, "role", "viewer"));
    if (!role)
        return sendError(id,
                         makeError(ErrorCode::BadField, "role must be viewer, editor or admin"));
    std::vector<std::string> apps;
    for (const auto &a : msg.value(QLatin1String("apps")).toArray())
        apps.push_back(a.toString().toStdString());
    if (!scope.empty()) {
        if (apps.empty())
            apps = scope; // a scoped admin mints tokens within its own scope, never wider
        else if (!withinScope(apps, scope))
            return sendError(id,
                             makeError(ErrorCode::Forbidden, "apps outside your token's scope"));
    }
    runJob(id, type,
           [id, name, role, apps](pg::Connection &db, const Emit &emit,
                                  const std::shared_ptr<RequestState> &) -> Result<void> {
               auto r = tokens::create(db, name, *role, apps);
               if (!r)
                   return r.error();
               std::string out;
               JsonWriter w(out);
               begin(w, "tokens.created", id);
               w.key("prefix");
               w.value(r->prefix);
               w.key("token");
               w.value(r->token);
               w.endObject();
               emit(std::move(out), true);
               return {};
           });
}

} // namespace idl::gateway
