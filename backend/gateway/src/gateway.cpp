#include "idl/gateway/gateway.h"

#include "alert_listener.h"
#include "gateway_impl.h"
#include "handlers.h"
#include "idl/core/config.h"
#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/gateway/wire.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"
#include "idl/service/http_server.h"
#include "idl/service/ops.h"
#include "idl/service/status.h"
#include "session.h"
#include "tail.h"

#include <QFile>
#include <QHostAddress>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>

#include <QWebSocket>
#include <QWebSocketServer>

#include <algorithm>

namespace idl::gateway {

void Gateway::Impl::submit(std::function<void()> fn)
{
    workers.start(std::move(fn));
}

void Gateway::Impl::submitAuth(std::function<void()> fn)
{
    authWorkers.start(std::move(fn));
}

void Gateway::Impl::post(std::uint64_t serial, std::function<void(Session *)> fn)
{
    QMetaObject::invokeMethod(
        home,
        [this, serial, fn = std::move(fn)] {
            auto it = live.find(serial);
            if (it != live.end())
                fn(it->second);
        },
        Qt::QueuedConnection);
}

void Gateway::Impl::wakeTail(std::uint64_t serial, const std::string &id)
{
    {
        std::lock_guard lock(m_wokenMutex);
        m_woken.emplace_back(serial, id);
        if (m_woken.size() > 1)
            return; // a drain is already on its way
    }
    QMetaObject::invokeMethod(
        home,
        [this] {
            std::vector<std::pair<std::uint64_t, std::string>> batch;
            {
                std::lock_guard lock(m_wokenMutex);
                batch.swap(m_woken);
            }
            for (const auto &[s, tail] : batch) {
                auto it = live.find(s);
                if (it != live.end())
                    it->second->drainTail(tail);
            }
        },
        Qt::QueuedConnection);
}

void declareSettings(Config &c)
{
    c.addString(QStringLiteral("ws.address"), QStringLiteral("127.0.0.1"),
                QStringLiteral("Address the WebSocket listener binds to"));
    c.addInt(QStringLiteral("ws.port"), 8090, QStringLiteral("WebSocket port (0: any free port)"),
             0, 65535);
    c.addString(QStringLiteral("http.address"), QStringLiteral("127.0.0.1"),
                QStringLiteral("Address of the HTTP listener (ops endpoints and /api/v1/query)"));
    c.addInt(QStringLiteral("http.port"), 8091, QStringLiteral("HTTP port (0: any free port)"), 0,
             65535);
    c.addSecret(QStringLiteral("pg.dsn"), QString(),
                QStringLiteral("PostgreSQL connection string (libpq keyword/value or URI)"));
    c.addSecret(QStringLiteral("pg.read-dsn"), QString(),
                QStringLiteral("Connection string for read-only requests (queries, exports, "
                               "charts), e.g. pg.dsn's hosts with "
                               "target_session_attrs=prefer-standby; empty: pg.dsn"));
    c.addString(QStringLiteral("kafka.bootstrap"), QStringLiteral("127.0.0.1:9092"),
                QStringLiteral("Kafka bootstrap servers"));
    c.addString(QStringLiteral("kafka.topic"), QStringLiteral("idl.logs.events"),
                QStringLiteral("Events topic the live tail follows"));
    c.addString(QStringLiteral("kafka.raw-topic"), QStringLiteral("idl.logs.raw"),
                QStringLiteral("Raw topic: where dlq.replay sends dead letters back"));
    c.addString(QStringLiteral("kafka.dlq-topic"), QStringLiteral("idl.logs.dlq"),
                QStringLiteral("Dead-letter topic that dlq.list/get/replay read"));
    c.addInt(QStringLiteral("dlq.scan"), 10000,
             QStringLiteral("dlq.list reads the newest this many dead letters per partition"), 1,
             10000000);
    c.addString(QStringLiteral("writer.group"), QStringLiteral("idl-writer"),
                QStringLiteral("Consumer group whose offsets the writer stores in kafka_offsets"));
    c.addString(QStringLiteral("alerts.channel"), QStringLiteral("idl_alerts"),
                QStringLiteral("PostgreSQL channel of idl-alerter's state changes (its "
                               "notify.channel), pushed to sessions as alert.state"));
    c.addSecret(QStringLiteral("metrics.token"), QString(),
                QStringLiteral("Bearer token required by /metrics (empty: open)"));
    c.addString(QStringLiteral("tls.cert"), QString(),
                QStringLiteral("PEM certificate: serve wss:// and https:// only"));
    c.addString(QStringLiteral("tls.key"), QString(),
                QStringLiteral("PEM private key for tls.cert"));
    c.addInt(QStringLiteral("db.pool"), 4, QStringLiteral("PostgreSQL connections for requests"), 1,
             256);
    c.addInt(QStringLiteral("db.auth_pool"), 2,
             QStringLiteral("PostgreSQL connections for token checks only, so logins never wait "
                            "behind queries"),
             1, 64);
    c.addDuration(QStringLiteral("db.acquire_timeout"), QStringLiteral("5s"),
                  QStringLiteral("Longest wait for a free database connection (then the request "
                                 "fails with overloaded)"));
    c.addDuration(QStringLiteral("query.timeout"), QStringLiteral("30s"),
                  QStringLiteral("Statement timeout of every query"));
    c.addDuration(QStringLiteral("db.lock_timeout"), QStringLiteral("5s"),
                  QStringLiteral("Longest wait of any gateway statement for a lock (then the "
                                 "request fails instead of queueing others behind it)"));
    c.addDuration(QStringLiteral("db.idle_in_transaction_timeout"), QStringLiteral("10s"),
                  QStringLiteral("PostgreSQL ends a gateway session idle inside a transaction "
                                 "for this long (none is, by design: a safety net)"));
    c.addDuration(QStringLiteral("ws.idle_timeout"), QStringLiteral("5m"),
                  QStringLiteral("Close connections that send nothing for this long"));
    c.addDuration(QStringLiteral("ws.auth_timeout"), QStringLiteral("10s"),
                  QStringLiteral("Close connections not authenticated within this time"));
    c.addSize(QStringLiteral("ws.max_message"), QStringLiteral("1MiB"),
              QStringLiteral("Largest message a client may send"));
    c.addInt(QStringLiteral("ws.max_inflight"), 8,
             QStringLiteral("Requests in flight per connection"), 1, 1000);
    c.addSize(QStringLiteral("ws.max_pending"), QStringLiteral("4MiB"),
              QStringLiteral("Unsent bytes per connection before tails drop and exports wait"));
    c.addInt(QStringLiteral("tail.max_per_connection"), 2,
             QStringLiteral("Live tails per connection"), 1, 64);
    c.addInt(QStringLiteral("ws.max_sessions"), 1000,
             QStringLiteral("WebSocket sessions on this gateway (more are closed with 4004)"), 1,
             1000000);
    c.addInt(QStringLiteral("ws.max_sessions_per_token"), 50,
             QStringLiteral("Sessions one token may have open at once"), 1, 1000000);
    c.addInt(QStringLiteral("tail.max_total"), 200,
             QStringLiteral("Live tails on this gateway, all connections together"), 1, 1000000);
    c.addSize(QStringLiteral("tail.queue_bytes"), QStringLiteral("8MiB"),
              QStringLiteral("Bytes of queued events per live tail before dropping"));
    c.addInt(QStringLiteral("tail.queue"), 10000,
             QStringLiteral("Events queued per live tail before dropping"), 10, 10000000);
    c.addInt(QStringLiteral("auth.rate"), 50, QStringLiteral("Requests per second per token"), 1,
             1000000);
    c.addInt(QStringLiteral("auth.burst"), 100, QStringLiteral("Request burst per token"), 1,
             1000000);
}

GatewayOptions optionsFromConfig(const Config &c)
{
    GatewayOptions o;
    o.wsAddress = c.string(QStringLiteral("ws.address")).toStdString();
    o.wsPort = static_cast<std::uint16_t>(c.integer(QStringLiteral("ws.port")));
    o.httpAddress = c.string(QStringLiteral("http.address")).toStdString();
    o.httpPort = static_cast<std::uint16_t>(c.integer(QStringLiteral("http.port")));
    o.pgDsn = c.string(QStringLiteral("pg.dsn")).toStdString();
    o.pgReadDsn = c.string(QStringLiteral("pg.read-dsn")).toStdString();
    o.kafkaBootstrap = c.string(QStringLiteral("kafka.bootstrap")).toStdString();
    o.kafkaTopic = c.string(QStringLiteral("kafka.topic")).toStdString();
    o.writerGroup = c.string(QStringLiteral("writer.group")).toStdString();
    o.alertsChannel = c.string(QStringLiteral("alerts.channel")).toStdString();
    o.kafkaRawTopic = c.string(QStringLiteral("kafka.raw-topic")).toStdString();
    o.kafkaDlqTopic = c.string(QStringLiteral("kafka.dlq-topic")).toStdString();
    o.dlqScanWindow = c.integer(QStringLiteral("dlq.scan"));
    o.metricsToken = c.string(QStringLiteral("metrics.token")).toStdString();
    o.tlsCertFile = c.string(QStringLiteral("tls.cert")).toStdString();
    o.tlsKeyFile = c.string(QStringLiteral("tls.key")).toStdString();
    o.dbPoolSize = static_cast<int>(c.integer(QStringLiteral("db.pool")));
    o.authPoolSize = static_cast<int>(c.integer(QStringLiteral("db.auth_pool")));
    o.dbAcquireTimeout = c.duration(QStringLiteral("db.acquire_timeout"));
    o.queryTimeout = c.duration(QStringLiteral("query.timeout"));
    o.dbLockTimeout = c.duration(QStringLiteral("db.lock_timeout"));
    o.dbIdleInTransactionTimeout = c.duration(QStringLiteral("db.idle_in_transaction_timeout"));
    o.idleTimeout = c.duration(QStringLiteral("ws.idle_timeout"));
    o.authTimeout = c.duration(QStringLiteral("ws.auth_timeout"));
    o.maxMessageBytes = c.bytes(QStringLiteral("ws.max_message"));
    o.maxInflight = static_cast<int>(c.integer(QStringLiteral("ws.max_inflight")));
    o.maxPendingBytes = c.bytes(QStringLiteral("ws.max_pending"));
    o.maxTails = static_cast<int>(c.integer(QStringLiteral("tail.max_per_connection")));
    o.tailQueue = static_cast<std::size_t>(c.integer(QStringLiteral("tail.queue")));
    o.tailQueueBytes = c.bytes(QStringLiteral("tail.queue_bytes"));
    o.maxSessions = static_cast<int>(c.integer(QStringLiteral("ws.max_sessions")));
    o.maxSessionsPerToken =
        static_cast<int>(c.integer(QStringLiteral("ws.max_sessions_per_token")));
    o.maxTailsTotal = static_cast<int>(c.integer(QStringLiteral("tail.max_total")));
    o.ratePerSecond = static_cast<double>(c.integer(QStringLiteral("auth.rate")));
    o.rateBurst = static_cast<double>(c.integer(QStringLiteral("auth.burst")));
    return o;
}

namespace {

http::Response httpError(const Error &e)
{
    const int status = service::httpStatus(e.code);
    auto r = http::errorResponse(status, errorCodeName(e.code), e.message);
    if (status == 401)
        r.headers.push_back({"WWW-Authenticate", "Bearer"});
    return r;
}

// GET /api/v1/query: runs on a worker thread. The URL parameters are decoded as the
// WebSocket `query` request (the same rules and errors) and read by the same page reader.
http::Response httpQuery(Gateway::Impl *gw, const http::Request &req)
{
    const std::string_view auth = req.header("authorization");
    if (auth.substr(0, 7) != "Bearer ")
        return httpError(makeError(ErrorCode::Unauthenticated, "invalid credentials"));
    Result<Identity> id = makeError(ErrorCode::Unavailable, "database unavailable");
    {
        auto authLease = gw->authPool->acquire();
        if (!authLease)
            return httpError(authLease.error());
        id = tokens::authenticate(**authLease, auth.substr(7));
    }
    if (!id)
        return httpError(id.error());
    if (auto wait = gw->rate->take(id->prefix)) {
        auto r = httpError(makeError(ErrorCode::RateLimited, "too many requests"));
        r.headers.push_back({"Retry-After", std::to_string((*wait + 999) / 1000)});
        return r;
    }
    // Form encoding (curl -G --data-urlencode, HTML forms) writes a space as '+'; a literal
    // plus arrives as %2B. QUrlQuery does not know that convention.
    std::string rawQuery = req.query;
    std::replace(rawQuery.begin(), rawQuery.end(), '+', ' ');
    const QUrlQuery qq(QString::fromStdString(rawQuery));
    protocol::Envelope envelope;
    envelope.type = "query";
    QString format = QStringLiteral("ndjson");
    for (const auto &[key, value] : qq.queryItems(QUrl::FullyDecoded)) {
        if (key == u"format") {
            format = value;
        } else if (key == u"limit" || key == u"chunk") {
            // Numbers in the URL are text; a non-number stays text and fails as in JSON.
            bool ok = false;
            const qlonglong n = value.toLongLong(&ok);
            envelope.body.insert(key, ok ? QJsonValue(n) : QJsonValue(value));
        } else {
            envelope.body.insert(key, value);
        }
    }
    if (!envelope.body.contains(QLatin1String("limit")))
        envelope.body.insert(QStringLiteral("limit"), 1000);
    if (format != u"ndjson" && format != u"csv")
        return httpError(makeError(ErrorCode::BadField, "format must be ndjson or csv"));
    auto request = protocol::decodeRequest(envelope);
    if (!request)
        return httpError(request.error());
    auto plan = planPage(std::get<protocol::Query>(*request), id->apps, nowNs());
    if (!plan)
        return httpError(plan.error());
    auto lease = gw->poolFor(DbTarget::ReadOnly).acquire();
    if (!lease)
        return httpError(lease.error());
    http::Response resp;
    const bool csv = format == u"csv";
    resp.contentType = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
    if (csv)
        resp.body = csvHeader();
    auto page = readPage(**lease, *plan, nullptr, [&](const pg::Rows &rows, int begin, int end) {
        for (int i = begin; i < end; ++i) {
            if (csv) {
                appendRowCsv(resp.body, rows, i);
            } else {
                appendRowJson(resp.body, rows, i);
                resp.body.push_back('\n');
            }
        }
    });
    if (!page)
        return httpError(page.error());
    if (!page->cursor.empty())
        resp.headers.push_back({"X-Idl-Next-Cursor", page->cursor});
    return resp;
}

} // namespace

Gateway::Gateway(GatewayOptions options, QObject *parent)
    : QObject(parent), d(std::make_unique<Impl>())
{
    d->opt = std::move(options);
    d->home = this;
    d->rate = std::make_unique<RateLimiter>(d->opt.ratePerSecond, d->opt.rateBurst);
    const DbLimits limits{d->opt.queryTimeout, d->opt.dbLockTimeout,
                          d->opt.dbIdleInTransactionTimeout};
    d->pool =
        std::make_unique<DbPool>(d->opt.pgDsn, d->opt.dbPoolSize, limits, d->opt.dbAcquireTimeout);
    d->authPool = std::make_unique<DbPool>(d->opt.pgDsn, d->opt.authPoolSize, limits,
                                           d->opt.dbAcquireTimeout);
    if (!d->opt.pgReadDsn.empty() && d->opt.pgReadDsn != d->opt.pgDsn)
        d->readPool = std::make_unique<DbPool>(d->opt.pgReadDsn, d->opt.dbPoolSize, limits,
                                               d->opt.dbAcquireTimeout);
    d->workers.setMaxThreadCount(d->opt.dbPoolSize + 2);
    d->authWorkers.setMaxThreadCount(d->opt.authPoolSize);
}

Gateway::~Gateway()
{
    stop();
}

Result<void> Gateway::start()
{
    {
        auto conn = pg::Connection::connect(d->opt.pgDsn);
        if (!conn)
            return conn.error();
        auto m = schema::migrate(*conn);
        if (!m)
            return m.error();
    }
    // The one consumer of the events topic for every live tail (it waits for Kafka by
    // itself; tails started meanwhile wait for it).
    d->hub = std::make_shared<TailHub>(d->opt.kafkaBootstrap, d->opt.kafkaTopic);
    d->hub->start();
    // alert.state: every change idl-alerter publishes goes, on the main thread, to each
    // authenticated session allowed to see its rule (with the session's current identity).
    Impl *gw = d.get();
    d->alertListener =
        std::make_unique<AlertListener>(d->opt.pgDsn, d->opt.alertsChannel, [gw](alerts::Change c) {
            QMetaObject::invokeMethod(
                gw->home,
                [gw, c = std::move(c)] {
                    const std::string message = protocol::alertStateMessage(c.change);
                    for (const auto &[serial, session] : gw->live) {
                        if (session->authenticated() &&
                            alerts::visibleTo(session->identity(), c.owner, c.shared, c.apps))
                            session->sendJson(message);
                    }
                },
                Qt::QueuedConnection);
        });
    d->alertListener->start();
    const bool tls = !d->opt.tlsCertFile.empty();
    // The gateway accepts the TCP (or TLS) connections itself and hands them to the WebSocket
    // server, so that every socket gets TCP_NODELAY before its first byte: QWebSocket has no
    // accessor for its socket, and without it the last segment of every larger reply waited
    // ~40 ms for the client's delayed ACK.
    if (tls) {
        QFile cf(QString::fromStdString(d->opt.tlsCertFile));
        QFile kf(QString::fromStdString(d->opt.tlsKeyFile));
        if (!cf.open(QIODevice::ReadOnly) || !kf.open(QIODevice::ReadOnly))
            return makeError(ErrorCode::Unavailable, "cannot read tls.cert / tls.key");
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.setLocalCertificate(QSslCertificate(cf.readAll(), QSsl::Pem));
        ssl.setPrivateKey(QSslKey(kf.readAll(), QSsl::Rsa, QSsl::Pem));
        if (ssl.privateKey().isNull()) {
            kf.seek(0);
            ssl.setPrivateKey(QSslKey(kf.readAll(), QSsl::Ec, QSsl::Pem));
        }
        ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
        auto *server = new QSslServer(this);
        server->setSslConfiguration(ssl);
        server->setHandshakeTimeout(10000);
        d->listener = server;
    } else {
        d->listener = new QTcpServer(this);
    }
    d->ws =
        new QWebSocketServer(QStringLiteral("idl-gateway"), QWebSocketServer::NonSecureMode, this);
    d->ws->setHandshakeTimeout(std::chrono::milliseconds(10000));
    // Ready connections (after the TLS handshake, with TLS) go to the WebSocket handshake.
    connect(d->listener, &QTcpServer::pendingConnectionAvailable, this, [this] {
        while (QTcpSocket *s = d->listener->nextPendingConnection()) {
            s->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            d->ws->handleConnection(s);
        }
    });
    connect(d->ws, &QWebSocketServer::newConnection, this, [this] {
        while (QWebSocket *s = d->ws->nextPendingConnection()) {
            if (s->requestUrl().path() != QLatin1String("/ws")) {
                s->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("use /ws"));
                s->deleteLater();
                continue;
            }
            if (static_cast<int>(d->sessions.size()) >= d->opt.maxSessions) {
                // 4004: the gateway is at its session limit (docs/protocol.md).
                s->close(static_cast<QWebSocketProtocol::CloseCode>(4004),
                         QStringLiteral("too many sessions on this gateway"));
                s->deleteLater();
                continue;
            }
            new Session(d.get(), s);
        }
    });
    if (!d->listener->listen(QHostAddress(QString::fromStdString(d->opt.wsAddress)), d->opt.wsPort))
        return makeError(ErrorCode::Unavailable, "cannot listen on WebSocket port: " +
                                                     d->listener->errorString().toStdString());

    metrics::Registry::global().callbackGauge(
        "idl_gateway_sessions", "Open WebSocket sessions (all gateways of the process)",
        [] { return static_cast<double>(Session::openSessions()); });

    http::ServerOptions ho;
    ho.address = d->opt.httpAddress;
    ho.port = d->opt.httpPort;
    ho.tlsCertFile = d->opt.tlsCertFile;
    ho.tlsKeyFile = d->opt.tlsKeyFile;
    ho.serverName = "idl-gateway";
    d->http = std::make_unique<http::Server>(ho);
    Impl *impl = d.get();
    service::addOpsRoutes(
        *d->http, [impl] { return impl->pool->check(); }, d->opt.metricsToken);
    d->http->route("GET", "/api/v1/query", [impl](http::Request &&req, http::Responder respond) {
        auto shared = std::make_shared<http::Request>(std::move(req));
        impl->submit(
            [impl, shared, respond = std::move(respond)] { respond(httpQuery(impl, *shared)); });
    });
    if (auto r = d->http->start(); !r)
        return r;
    return {};
}

void Gateway::stop()
{
    if (d->alertListener)
        d->alertListener->stop();
    if (d->ws) {
        d->listener->close();
        d->ws->close();
        const auto sessions = d->sessions;
        for (Session *s : sessions)
            delete s;
    }
    if (d->hub)
        d->hub->stop();
    if (d->http)
        d->http->stop();
    d->workers.waitForDone();
    d->authWorkers.waitForDone();
    d->http.reset();
}

std::uint16_t Gateway::wsPort() const
{
    return d->listener ? d->listener->serverPort() : 0;
}

std::uint16_t Gateway::httpPort() const
{
    return d->http ? d->http->port() : 0;
}

bool Gateway::alertsListening() const
{
    return d->alertListener && d->alertListener->listening();
}

int Gateway::sessionCount() const
{
    return static_cast<int>(d->sessions.size());
}

} // namespace idl::gateway
