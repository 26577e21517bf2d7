#pragma once

#undef QT_NO_CAST_FROM_ASCII

// Helpers for the gateway tests: a WebSocket client that waits for replies, rows written the
// way the writer writes them (rows, rollups and Kafka offsets in one transaction), and
// canonical events produced to the events topic.

#include "idl/core/json_codec.h"
#include "idl/core/log_event.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"
#include "idl/kafka/producer.h"
#include "idl/pg/connection.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpSocket>
#include <QWebSocket>

#include <chrono>
#include <functional>
#include <map>
#include <vector>

namespace gwtest {

using idl::nowNs;
// Runs the event loop until pred() holds or the timeout passes.
inline bool waitUntil(const std::function<bool()> &pred, int timeoutMs = 10000)
{
    QElapsedTimer t;
    t.start();
    while (!pred()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    }
    return true;
}

// A protocol client over a real QWebSocket.
class Client
{
public:
    Client()
    {
        QObject::connect(&ws, &QWebSocket::textMessageReceived, &ws, [this](const QString &t) {
            inbox.push_back(QJsonDocument::fromJson(t.toUtf8()).object());
        });
    }
    bool open(quint16 port)
    {
        ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(port)));
        return waitUntil([&] { return ws.state() == QAbstractSocket::ConnectedState; });
    }
    void send(QJsonObject o)
    {
        ws.sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
    }
    // Waits for the next message with this id (and type, if given) and removes it.
    QJsonObject next(const QString &id, const QString &type = {}, int timeoutMs = 10000)
    {
        QJsonObject found;
        waitUntil(
            [&] {
                for (auto it = inbox.begin(); it != inbox.end(); ++it) {
                    if ((*it)[QStringLiteral("id")].toString() == id &&
                        (type.isEmpty() || (*it)[QStringLiteral("type")].toString() == type)) {
                        found = *it;
                        inbox.erase(it);
                        return true;
                    }
                }
                return false;
            },
            timeoutMs);
        return found;
    }
    // Sends a request and returns its single reply.
    QJsonObject call(QJsonObject o, int timeoutMs = 10000)
    {
        const QString id = o[QStringLiteral("id")].toString();
        send(std::move(o));
        return next(id, {}, timeoutMs);
    }
    // Sends a streaming request; returns every message up to done/error (inclusive).
    std::vector<QJsonObject> stream(QJsonObject o, int timeoutMs = 20000)
    {
        const QString id = o[QStringLiteral("id")].toString();
        send(std::move(o));
        std::vector<QJsonObject> out;
        for (;;) {
            QJsonObject m = next(id, {}, timeoutMs);
            if (m.isEmpty())
                break;
            out.push_back(m);
            const QString t = m[QStringLiteral("type")].toString();
            if (t == QLatin1String("done") || t == QLatin1String("error") ||
                t.endsWith(QLatin1String(".result")))
                break;
        }
        return out;
    }
    // Rows of a stream.
    static std::vector<QJsonObject> rows(const std::vector<QJsonObject> &msgs)
    {
        std::vector<QJsonObject> out;
        for (const auto &m : msgs) {
            for (const auto &r : m[QStringLiteral("rows")].toArray())
                out.push_back(r.toObject());
        }
        return out;
    }
    bool authenticate(const std::string &token)
    {
        QJsonObject r = call({{"type", "hello"},
                              {"id", "h"},
                              {"versions", QJsonArray{1}},
                              {"client", "test"},
                              {"token", QString::fromStdString(token)}});
        return r[QStringLiteral("authenticated")].toBool();
    }

    QWebSocket ws;
    std::vector<QJsonObject> inbox;
};

// A WebSocket client that stops reading: a raw TCP socket that does the handshake, sends
// masked text frames (RFC 6455 5.2) and keeps at most 4 KiB of what the server sends, so the
// kernel buffers and then the server's fill up.
class StalledClient
{
public:
    bool open(quint16 port)
    {
        sock.connectToHost(QStringLiteral("127.0.0.1"), port);
        if (!sock.waitForConnected(5000))
            return false;
        sock.setReadBufferSize(4096);
        sock.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: c3RhbGxlZC1jbGllbnQtMQ==\r\n\r\n");
        QByteArray response;
        if (!waitUntil([&] {
                response += sock.read(4096 - response.size());
                return response.contains("\r\n\r\n");
            }))
            return false;
        return response.startsWith("HTTP/1.1 101");
    }
    void send(const QJsonObject &o)
    {
        const QByteArray payload = QJsonDocument(o).toJson(QJsonDocument::Compact);
        QByteArray f;
        f.append(char(0x81));
        if (payload.size() < 126) {
            f.append(char(0x80 | payload.size()));
        } else {
            f.append(char(0x80 | 126));
            f.append(char((payload.size() >> 8) & 0xff));
            f.append(char(payload.size() & 0xff));
        }
        const char mask[4] = {0x12, 0x34, 0x56, 0x78};
        f.append(mask, 4);
        for (int i = 0; i < payload.size(); ++i)
            f.append(char(payload[i] ^ mask[i % 4]));
        sock.write(f);
        sock.waitForBytesWritten(5000);
    }
    QTcpSocket sock;
};

// The real `idl-gateway` (IDL_BIN_DIR) as a child process, with `settings` (IDL_* variables)
// added to this process's environment and ports chosen by the system. Returns its WebSocket
// port, read from its "ws_port" log line, or 0 (then `log` says why). Kills it when destroyed.
struct GatewayProcess
{
    QProcess process;
    QByteArray log;
    ~GatewayProcess()
    {
        process.kill();
        process.waitForFinished(5000);
    }
    int start(const std::map<QString, QString> &settings)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("IDL_WS_PORT"), QStringLiteral("0"));
        env.insert(QStringLiteral("IDL_HTTP_PORT"), QStringLiteral("0"));
        for (const auto &[k, v] : settings)
            env.insert(k, v);
        process.setProcessEnvironment(env);
        process.setProcessChannelMode(QProcess::SeparateChannels);
        process.start(qEnvironmentVariable("IDL_BIN_DIR") + QStringLiteral("/idl-gateway"),
                      QStringList{});
        if (!process.waitForStarted(10000)) {
            log = process.errorString().toUtf8();
            return 0;
        }
        int port = 0;
        waitUntil(
            [&] {
                process.waitForReadyRead(10);
                log += process.readAllStandardError();
                for (const QByteArray &line : log.split('\n')) {
                    const QJsonObject o = QJsonDocument::fromJson(line).object();
                    if (o.contains(QStringLiteral("ws_port")))
                        port = o[QStringLiteral("ws_port")].toInt();
                }
                return port > 0 || process.state() != QProcess::Running;
            },
            30000);
        return port;
    }
};

inline idl::LogEvent makeEvent(std::int64_t ts, const std::string &app, idl::Level level,
                               const std::string &msg, const std::string &host = "web-1")
{
    idl::LogEvent e;
    e.id = idl::newEventId();
    e.tsNs = ts;
    e.receivedNs = ts;
    e.level = level;
    e.app = app;
    e.host = host;
    e.message = msg;
    e.attrsJson = "{}";
    return e;
}

inline std::string copyEscape(const std::string &s)
{
    std::string out;
    for (char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else
            out.push_back(c);
    }
    return out;
}

// Stores events as the writer does: rows + rollups + (optionally) the next Kafka offsets, in
// one transaction.
inline idl::Result<void> writeLikeWriter(idl::pg::Connection &db,
                                         const std::vector<idl::LogEvent> &events,
                                         const std::string &topic = {},
                                         const std::map<int, std::int64_t> &nextOffsets = {})
{
    if (auto r = db.begin(); !r)
        return r;
    std::string copy;
    std::map<std::tuple<std::int64_t, std::string, std::string, int>, std::int64_t> roll;
    std::map<std::tuple<std::int64_t, std::string, int>, std::int64_t> roll10;
    for (const auto &e : events) {
        if (auto r =
                db.query("SELECT idl_ensure_log_partition($1::bigint)", {std::to_string(e.tsNs)});
            !r)
            return r.error();
        copy += e.id + "\t" + std::to_string(e.tsNs) + "\t" + std::to_string(e.receivedNs) + "\t" +
                std::to_string(static_cast<int>(e.level)) + "\t" + copyEscape(e.app) + "\t" +
                copyEscape(e.host) + "\t" + copyEscape(e.message) + "\t" + copyEscape(e.attrsJson) +
                "\t\\N\t\\N\n";
        const std::int64_t minute = 60'000'000'000;
        ++roll[{e.tsNs - e.tsNs % minute, e.app, e.host, static_cast<int>(e.level)}];
        const std::int64_t tenSeconds = 10'000'000'000;
        ++roll10[{e.tsNs - e.tsNs % tenSeconds, e.app, static_cast<int>(e.level)}];
    }
    if (!events.empty()) {
        std::vector<std::string> chunks{copy};
        auto c = db.copyIn("COPY logs (id, ts, received, level, app, host, message, attrs, "
                           "trace_id, span_id) FROM STDIN",
                           chunks);
        if (!c)
            return c.error();
    }
    for (const auto &[k, n] : roll) {
        auto r = db.query("INSERT INTO log_rollup_minute (bucket, app, host, level, count) "
                          "VALUES ($1::bigint, $2, $3, $4::smallint, $5::bigint) ON CONFLICT "
                          "(bucket, app, host, level) DO UPDATE SET count = "
                          "log_rollup_minute.count + excluded.count",
                          {std::to_string(std::get<0>(k)), std::get<1>(k), std::get<2>(k),
                           std::to_string(std::get<3>(k)), std::to_string(n)});
        if (!r)
            return r.error();
    }
    for (const auto &[k, n] : roll10) {
        auto r = db.query("INSERT INTO log_rollup_10s (bucket, app, level, count) VALUES "
                          "($1::bigint, $2, $3::smallint, $4::bigint) ON CONFLICT (bucket, app, "
                          "level) DO UPDATE SET count = log_rollup_10s.count + excluded.count",
                          {std::to_string(std::get<0>(k)), std::get<1>(k),
                           std::to_string(std::get<2>(k)), std::to_string(n)});
        if (!r)
            return r.error();
    }
    for (const auto &[p, o] : nextOffsets) {
        auto r = db.query("INSERT INTO kafka_offsets (consumer_group, topic, partition, "
                          "next_offset) VALUES ('idl-writer', $1, $2::int, $3::bigint) ON "
                          "CONFLICT (consumer_group, topic, partition) DO UPDATE SET "
                          "next_offset = excluded.next_offset",
                          {topic, std::to_string(p), std::to_string(o)});
        if (!r)
            return r.error();
    }
    return db.commit();
}

// Produces events to the given partitions (round robin) and waits for the acks.
inline idl::Result<void> produce(idl::kafka::Producer &producer, const std::string &topic,
                                 const std::vector<idl::LogEvent> &events, int partitions)
{
    int i = 0;
    for (const auto &e : events) {
        const std::string v = idl::encodeEvent(e);
        for (;;) {
            auto r = producer.produce(topic, e.app, v, {}, {}, (i % partitions));
            if (r)
                break;
            if (r.error().code != idl::ErrorCode::Overloaded)
                return r;
            producer.poll(std::chrono::milliseconds(10));
        }
        ++i;
    }
    return producer.flush(std::chrono::seconds(30));
}

} // namespace gwtest
