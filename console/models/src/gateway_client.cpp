#include "idl/console/gateway_client.h"

#include "fast_json.h"
#include "idl/net/low_delay.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QWebSocket>

namespace idl::console {

namespace {

// Messages that end a request (anything else with the request's id is an intermediate one).
bool isFinalType(const QString &type)
{
    return type != u"rows" && type != u"tail.started" && type != u"tail.events" &&
           type != u"progress";
}

GatewayError connectionError(QString message)
{
    return GatewayError{QStringLiteral("unavailable"), std::move(message)};
}

} // namespace

QString GatewayError::text() const
{
    if (code.isEmpty())
        return message;
    return QStringLiteral("%1 (%2)").arg(message, code);
}

GatewayError GatewayError::fromJson(const QJsonObject &o)
{
    GatewayError e;
    e.code = o.value(QLatin1String("code")).toString(QStringLiteral("internal"));
    e.message = o.value(QLatin1String("message")).toString();
    e.position = o.value(QLatin1String("position")).toInteger(-1);
    e.retryAfterMs = o.value(QLatin1String("retry_after_ms")).toInteger(-1);
    return e;
}

GatewayReply::GatewayReply(QString id, QJsonObject request, QObject *parent)
    : QObject(parent), m_id(std::move(id)), m_request(std::move(request))
{}

GatewayClient::GatewayClient(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<idl::console::GatewayError>();
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &GatewayClient::connectNow);
    m_pingTimer.setInterval(60'000);
    connect(&m_pingTimer, &QTimer::timeout, this, [this] {
        if (m_state == State::Connected)
            send(protocol::Ping{});
    });
}

GatewayClient::~GatewayClient()
{
    m_wantOpen = false;
    dropSocket();
}

void GatewayClient::open(const ConnectionSettings &settings)
{
    m_settings = settings;
    m_wantOpen = true;
    m_fatal = false;
    m_attempt = 0;
    m_lastError = {};
    m_reconnectTimer.stop();
    if (m_socket) {
        dropSocket();
        failAll(connectionError(QStringLiteral("reconnecting with new settings")));
    }
    connectNow();
}

void GatewayClient::close()
{
    m_wantOpen = false;
    m_reconnectTimer.stop();
    m_pingTimer.stop();
    dropSocket();
    failAll(connectionError(QStringLiteral("connection closed")));
    setState(State::Disconnected);
}

void GatewayClient::setReconnectDelays(int initialMs, int maxMs)
{
    m_initialDelayMs = qMax(1, initialMs);
    m_maxDelayMs = qMax(m_initialDelayMs, maxMs);
}

int GatewayClient::nextReconnectDelayMs() const
{
    qint64 d = m_initialDelayMs;
    for (int i = 0; i < m_attempt && d < m_maxDelayMs; ++i)
        d *= 2;
    return static_cast<int>(qMin<qint64>(d, m_maxDelayMs));
}

void GatewayClient::setPingInterval(int ms)
{
    m_pingTimer.setInterval(ms);
}

void GatewayClient::setState(State s)
{
    if (m_state == s)
        return;
    m_state = s;
    Q_EMIT stateChanged(s);
}

void GatewayClient::dropSocket()
{
    if (!m_socket)
        return;
    QWebSocket *s = m_socket;
    m_socket = nullptr;
    s->disconnect(this);
    s->abort();
    s->deleteLater();
}

void GatewayClient::connectNow()
{
    if (!m_wantOpen)
        return;
    dropSocket();
    m_info = {};
    m_helloId.clear();
    m_helloError = {};
    setState(State::Connecting);

    m_socket =
        new QWebSocket(QStringLiteral("idl-console"), QWebSocketProtocol::VersionLatest, this);
    m_socket->setMaxAllowedIncomingMessageSize(256 * 1024 * 1024);
    connect(m_socket, &QWebSocket::connected, this, &GatewayClient::onSocketConnected);
    connect(m_socket, &QWebSocket::disconnected, this, &GatewayClient::onSocketDisconnected);
    connect(m_socket, &QWebSocket::textMessageReceived, this, &GatewayClient::onTextMessage);
    connect(m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            [this](QAbstractSocket::SocketError) {
                if (m_socket)
                    m_lastError = connectionError(m_socket->errorString());
            });
#ifndef QT_NO_SSL
    connect(m_socket, &QWebSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        QStringList texts;
        for (const auto &e : errors)
            texts << e.errorString();
        m_lastError = connectionError(QStringLiteral("TLS: ") + texts.join(QStringLiteral("; ")));
    });
    if (m_settings.url.scheme() == u"wss") {
        QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
        if (!m_settings.caFile.isEmpty()) {
            const auto cas = QSslCertificate::fromPath(m_settings.caFile, QSsl::Pem);
            if (cas.isEmpty())
                m_lastError = connectionError(
                    QStringLiteral("no certificate in CA file %1").arg(m_settings.caFile));
            conf.addCaCertificates(cas);
        }
        if (!m_settings.clientCertFile.isEmpty()) {
            const auto certs = QSslCertificate::fromPath(m_settings.clientCertFile, QSsl::Pem);
            if (!certs.isEmpty())
                conf.setLocalCertificate(certs.first());
            QFile keyFile(m_settings.clientKeyFile);
            if (keyFile.open(QIODevice::ReadOnly)) {
                const QByteArray pem = keyFile.readAll();
                QSslKey key(pem, QSsl::Rsa, QSsl::Pem);
                if (key.isNull())
                    key = QSslKey(pem, QSsl::Ec, QSsl::Pem);
                conf.setPrivateKey(key);
            }
        }
        m_socket->setSslConfiguration(conf);
    }
#endif
    m_socket->open(m_settings.url);
}

void GatewayClient::onSocketConnected()
{
    // Requests and acks leave at once (no Nagle wait behind an unacknowledged segment).
    if (m_socket)
        idl::net::setLowDelay(*m_socket);
    m_helloId = QStringLiteral("h%1").arg(m_nextId++);
    protocol::Hello hello;
    hello.client = "idl-console/" IDL_VERSION;
    hello.token = m_settings.token.toStdString();
    QJsonObject msg = protocol::toJson(hello);
    msg.insert(QStringLiteral("id"), m_helloId);
    sendJson(msg);
}

void GatewayClient::onSocketDisconnected()
{
    if (!m_socket)
        return;
    const auto code = m_socket->closeCode();
    const QString reason = m_socket->closeReason();
    dropSocket();
    m_pingTimer.stop();
    if (m_fatal || code == QWebSocketProtocol::CloseCodeProtocolError || int(code) == 4003)
        m_wantOpen = false;
    GatewayError err;
    if (m_fatal) {
        err = m_lastError;
    } else if (m_state == State::Connected) {
        err = connectionError(
            reason.isEmpty()
                ? QStringLiteral("connection to %1 lost").arg(m_settings.url.toString())
                : QStringLiteral("connection closed: %1").arg(reason));
    } else if (!m_lastError.code.isEmpty()) {
        err = m_lastError;
    } else {
        err =
            connectionError(QStringLiteral("cannot connect to %1").arg(m_settings.url.toString()));
    }
    m_lastError = err;
    failAll(err);
    if (m_wantOpen) {
        const int base = nextReconnectDelayMs();
        const double jitter = 0.8 + 0.4 * QRandomGenerator::global()->generateDouble();
        const int delay = qMax(1, static_cast<int>(base * jitter));
        ++m_attempt;
        setState(State::WaitingToReconnect);
        m_reconnectTimer.start(delay);
        Q_EMIT connectionLost(err, delay);
    } else {
        setState(State::Disconnected);
        Q_EMIT connectionLost(err, -1);
    }
}

void GatewayClient::handleHello(const QJsonObject &msg)
{
    const QString type = msg.value(QLatin1String("type")).toString();
    if (type == u"error") {
        m_helloError = GatewayError::fromJson(msg);
        if (m_helloError.code != u"unauthenticated") {
            // No common version or a malformed hello: retrying will not help.
            m_fatal = true;
            m_lastError = m_helloError;
            if (m_socket)
                m_socket->close();
        }
        return;
    }
    if (type != u"hello")
        return;
    m_helloId.clear();
    if (!msg.value(QLatin1String("authenticated")).toBool()) {
        m_fatal = true;
        m_lastError = m_helloError.code.isEmpty()
                          ? GatewayError{QStringLiteral("unauthenticated"),
                                         m_settings.token.isEmpty()
                                             ? QStringLiteral("no token for this profile")
                                             : QStringLiteral("invalid credentials")}
                          : m_helloError;
        if (m_socket)
            m_socket->close();
        return;
    }
    m_info.version = msg.value(QLatin1String("version")).toInt();
    m_info.server = msg.value(QLatin1String("server")).toString();
    m_info.user = msg.value(QLatin1String("user")).toString();
    m_info.role = msg.value(QLatin1String("role")).toString();
    const QJsonValue apps = msg.value(QLatin1String("apps"));
    if (apps.isArray()) {
        QStringList list;
        for (const auto &a : apps.toArray())
            list << a.toString();
        m_info.apps = list;
    }
    m_info.limits = msg.value(QLatin1String("limits")).toObject();
    m_attempt = 0;
    m_lastError = {};
    m_inFlight = 0;
    setState(State::Connected);
    m_pingTimer.start();
    Q_EMIT connected();
    flushQueue();
}

void GatewayClient::onTextMessage(const QString &text)
{
    QByteArray utf8 = text.toUtf8();
    fastjson::pad(utf8);
    QString id;
    QString type;
    if (!fastjson::peekIdType(utf8, &id, &type))
        return;
    GatewayReply *reply = m_replies.value(id);
    if (reply && reply->m_sent && reply->m_rawRows && (type == u"rows" || type == u"tail.events")) {
        Q_EMIT reply->rawMessage(utf8);
        return;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(utf8);
    if (!doc.isObject())
        return;
    const QJsonObject msg = doc.object();
    if (!m_helloId.isEmpty() && id == m_helloId) {
        handleHello(msg);
        return;
    }
    if (id.isEmpty() && type != u"error") {
        Q_EMIT pushed(msg); // a server push (alert.state): no request of ours
        return;
    }
    if (!reply || !reply->m_sent)
        return; // cancelled or unknown
    if (type == u"error") {
        const GatewayError err = GatewayError::fromJson(msg);
        finishReply(reply);
        Q_EMIT reply->failed(err);
    } else if (isFinalType(type)) {
        finishReply(reply);
        Q_EMIT reply->finished(msg);
    } else {
        Q_EMIT reply->message(msg);
    }
}

bool GatewayClient::countsAsInFlight(const GatewayReply *reply) const
{
    const QString t = reply->type();
    return t == u"query" || t == u"aggregate" || t == u"top" || t == u"tail.start" ||
           t == u"export";
}

int GatewayClient::maxInFlight() const
{
    const int limit = m_info.limits.value(QLatin1String("max_inflight")).toInt(8);
    return qMax(1, limit);
}

GatewayReply *GatewayClient::send(QJsonObject request)
{
    const QString id = QStringLiteral("c%1").arg(m_nextId++);
    request.insert(QStringLiteral("id"), id);
    auto *reply = new GatewayReply(id, request, this);
    m_replies.insert(id, reply);
    if (!m_wantOpen) {
        // Fail from the event loop so callers can connect first.
        const GatewayError err = connectionError(QStringLiteral("not connected"));
        QTimer::singleShot(0, reply, [this, reply, err] {
            if (reply->m_finished)
                return;
            finishReply(reply);
            Q_EMIT reply->failed(err);
        });
        return reply;
    }
    m_queue.append(reply);
    if (m_state == State::Connected)
        QTimer::singleShot(0, this, &GatewayClient::flushQueue);
    return reply;
}

void GatewayClient::flushQueue()
{
    if (m_state != State::Connected)
        return;
    while (!m_queue.isEmpty()) {
        GatewayReply *next = m_queue.first();
        if (countsAsInFlight(next) && m_inFlight >= maxInFlight())
            break;
        m_queue.removeFirst();
        sendNow(next);
    }
    // Requests that do not count against the limit may pass the ones waiting for a slot.
    for (qsizetype i = 0; i < m_queue.size();) {
        if (!countsAsInFlight(m_queue[i])) {
            GatewayReply *r = m_queue.takeAt(i);
            sendNow(r);
        } else {
            ++i;
        }
    }
}

void GatewayClient::sendNow(GatewayReply *reply)
{
    reply->m_sent = true;
    if (countsAsInFlight(reply))
        ++m_inFlight;
    sendJson(reply->m_request);
}

void GatewayClient::sendJson(const QJsonObject &o)
{
    if (!m_socket)
        return;
    m_socket->sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
}

void GatewayClient::finishReply(GatewayReply *reply)
{
    if (reply->m_finished)
        return;
    reply->m_finished = true;
    m_replies.remove(reply->m_id);
    m_queue.removeOne(reply);
    if (reply->m_sent && countsAsInFlight(reply)) {
        m_inFlight = qMax(0, m_inFlight - 1);
        QTimer::singleShot(0, this, &GatewayClient::flushQueue);
    }
    reply->deleteLater();
}

void GatewayClient::cancel(GatewayReply *reply)
{
    if (!reply || reply->m_finished)
        return;
    const bool wasSent = reply->m_sent;
    const bool isTail = reply->type() == u"tail.start";
    finishReply(reply);
    if (!wasSent || m_state != State::Connected)
        return;
    if (isTail) {
        send(protocol::TailStop{reply->m_id.toStdString()});
    } else {
        send(protocol::Cancel{reply->m_id.toStdString()});
    }
}

void GatewayClient::failAll(const GatewayError &error)
{
    // Sent requests fail; queued ones wait for the next connection unless we stopped.
    const auto replies = m_replies.values();
    for (GatewayReply *r : replies) {
        if (!r->m_sent && m_wantOpen)
            continue;
        finishReply(r);
        Q_EMIT r->failed(error);
    }
    m_inFlight = 0;
}

} // namespace idl::console
