#pragma once

#include "idl/protocol/requests.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTimer>
#include <QUrl>

#include <optional>

class QWebSocket;

namespace idl::console {

// An error reply of the gateway (protocol section 6), or a connection problem seen by the
// client (code "unavailable" for a lost or refused connection, "unauthenticated" for a
// rejected token). Unknown codes are to be treated like "internal".
struct GatewayError
{
    QString code;
    QString message;
    qint64 position = -1;     // query_syntax: byte offset into the query text
    qint64 retryAfterMs = -1; // rate_limited: when to retry

    // "message (code)" for status lines.
    QString text() const;
    // Built from an `error` message.
    static GatewayError fromJson(const QJsonObject &o);
};

// Where and how to reach a gateway. The token is the secret (never written to settings).
struct ConnectionSettings
{
    ConnectionSettings() = default;
    ConnectionSettings(QUrl url_, QString token_, QString caFile_ = {},
                       QString clientCertFile_ = {}, QString clientKeyFile_ = {})
        : url(std::move(url_)), token(std::move(token_)), caFile(std::move(caFile_)),
          clientCertFile(std::move(clientCertFile_)), clientKeyFile(std::move(clientKeyFile_))
    {}

    QUrl url;               // ws://host:port/ws or wss://…
    QString token;          // idt_… bearer token
    QString caFile;         // PEM bundle of extra trusted CAs (wss)
    QString clientCertFile; // PEM client certificate (mutual TLS), optional
    QString clientKeyFile;  // PEM private key of the client certificate
};

// What the gateway said about itself and the identity in its `hello` reply.
struct ServerInfo
{
    int version = 0;
    QString server;
    QString user;
    QString role;
    std::optional<QStringList> apps; // nullopt: every app
    QJsonObject limits;
};

// One request in flight. Owned by the GatewayClient and deleted (deleteLater) after it
// finished or failed; keep a QPointer if you keep it. Lives in the client's thread.
class GatewayReply : public QObject
{
    Q_OBJECT
public:
    const QString &id() const { return m_id; }
    // The request's type ("query", "tail.start", ...).
    QString type() const { return m_request.value(QLatin1String("type")).toString(); }
    const QJsonObject &request() const { return m_request; }
    bool isFinished() const { return m_finished; }
    // Deliver `rows` and `tail.events` as UTF-8 text (rawMessage) instead of parsed objects,
    // for consumers with a faster parser.
    void setRawRows(bool raw) { m_rawRows = raw; }

Q_SIGNALS:
    // A message that does not end the request: rows, tail.started, tail.events.
    void message(const QJsonObject &msg);
    // A `rows` or `tail.events` message as UTF-8 JSON padded for simdjson (setRawRows).
    void rawMessage(const QByteArray &utf8);
    // The final message: done, aggregate.result, top.result, ok, saved.result, ...
    void finished(const QJsonObject &msg);
    // An `error` reply, or the connection was lost while the request was in flight.
    void failed(const idl::console::GatewayError &error);

private:
    friend class GatewayClient;
    GatewayReply(QString id, QJsonObject request, QObject *parent);

    QString m_id;
    QJsonObject m_request;
    bool m_finished = false;
    bool m_sent = false;
    bool m_rawRows = false;
};

// Client of the gateway WebSocket protocol v1 (docs/protocol.md). Opens one WebSocket,
// negotiates the version and authenticates in `hello`, assigns request ids, routes replies to
// their GatewayReply, queues requests while (re)connecting or over the server's in-flight
// limit, keeps the connection alive with pings, and reconnects with exponential back-off
// (with jitter) when the connection drops. A rejected token stops reconnecting.
// Lives in one thread (the one that created it); not thread-safe.
class GatewayClient : public QObject
{
    Q_OBJECT
public:
    // Connection state; Connected means authenticated and ready for requests.
    enum class State { Disconnected, Connecting, Connected, WaitingToReconnect };
    Q_ENUM(State)

    explicit GatewayClient(QObject *parent = nullptr);
    ~GatewayClient() override;

    // Connects (or reconnects with new settings). Requests may be sent right away: they
    // wait until the connection is ready.
    void open(const ConnectionSettings &settings);
    // Closes the connection and stops reconnecting; in-flight requests fail.
    void close();

    State state() const { return m_state; }
    bool isConnected() const { return m_state == State::Connected; }
    const ServerInfo &serverInfo() const { return m_info; }
    const ConnectionSettings &settings() const { return m_settings; }
    // The last connection-level error (empty code when none).
    const GatewayError &lastError() const { return m_lastError; }

    // Sends a request; `id` is assigned here. Never null. Signals of the reply are emitted
    // from the event loop, never from inside send().
    GatewayReply *send(QJsonObject request);
    // Sends a typed request of the protocol (its one encoding).
    GatewayReply *send(const protocol::Request &request) { return send(protocol::toJson(request)); }
    // Stops a request: `tail.stop` for tails, `cancel` otherwise. The reply emits nothing
    // more and is deleted.
    void cancel(GatewayReply *reply);

    // Back-off between reconnect attempts: initial, doubled per attempt up to max, ±20 %.
    void setReconnectDelays(int initialMs, int maxMs);
    // The delay the next reconnect attempt will wait (without jitter).
    int nextReconnectDelayMs() const;
    // Attempts since the last successful connection.
    int reconnectAttempts() const { return m_attempt; }
    // Interval of keep-alive pings while connected (default 60 s).
    void setPingInterval(int ms);
    // Requests currently sent and not answered (queries, exports, aggregates, tops, tails).
    int inFlight() const { return m_inFlight; }

Q_SIGNALS:
    void stateChanged(idl::console::GatewayClient::State state);
    // Authenticated and ready (first connection or a reconnection).
    void connected();
    // The connection dropped or could not be made; a reconnect is scheduled in delayMs
    // (-1: no reconnect, e.g. after a rejected token).
    void connectionLost(const idl::console::GatewayError &error, int delayMs);
    // A message the server sent on its own, not as a reply (no id): `alert.state`.
    void pushed(const QJsonObject &msg);

private:
    void connectNow();
    void setState(State s);
    void onSocketConnected();
    void onSocketDisconnected();
    void onTextMessage(const QString &text);
    void handleHello(const QJsonObject &msg);
    void sendNow(GatewayReply *reply);
    void sendJson(const QJsonObject &o);
    void flushQueue();
    void failAll(const GatewayError &error);
    void finishReply(GatewayReply *reply);
    void dropSocket();
    bool countsAsInFlight(const GatewayReply *reply) const;
    int maxInFlight() const;

    ConnectionSettings m_settings;
    QWebSocket *m_socket = nullptr;
    State m_state = State::Disconnected;
    ServerInfo m_info;
    GatewayError m_lastError;
    GatewayError m_helloError;
    QString m_helloId;
    bool m_wantOpen = false;
    bool m_fatal = false;
    quint64 m_nextId = 1;
    QHash<QString, GatewayReply *> m_replies; // by id: sent or queued
    QList<GatewayReply *> m_queue;            // not yet sent, in order
    int m_inFlight = 0;
    int m_attempt = 0;
    int m_initialDelayMs = 500;
    int m_maxDelayMs = 30'000;
    QTimer m_reconnectTimer;
    QTimer m_pingTimer;
};

} // namespace idl::console

Q_DECLARE_METATYPE(idl::console::GatewayError)
