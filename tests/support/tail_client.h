#pragma once

// A live tail for the fault suites (tests/chaos, tests/ha): a protocol client in its own thread
// that follows every event and reconnects and resumes as docs/protocol.md says. Include it in
// one test source; list this header in the test's SOURCES (moc).
#undef QT_NO_CAST_FROM_ASCII

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QStringList>
#include <QTime>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

#include <map>
#include <vector>

namespace idl::testsupport {

// Follows every event (`tail.start` with an empty filter, live from the end) and records the
// (loadgen.id, loadgen.seq) of each. When the connection drops it reconnects (back-off 0.25 s
// doubling to 4 s) and sends `tail.start` with `resume:{positions}` of the last frame received;
// a tail that ends in an `error` is started again the same way. Own thread, so that the test's
// blocking waits never make it a slow client.
class TailClient : public QObject
{
    Q_OBJECT
public:
    struct Stats
    {
        int connects = 0;   // WebSocket connections made
        int tailStarts = 0; // tail.started received
        int tailErrors = 0; // error replies to a tail
        qint64 events = 0;  // events received
        qint64 dropped = 0; // dropped_total reported by the server
        QStringList notes;  // errors and disconnects, for the log
    };

    TailClient(QUrl url, QString token) : m_url(std::move(url)), m_token(std::move(token)) {}

    // Thread-safe readers.
    Stats stats() const
    {
        QMutexLocker lock(&m_mutex);
        return m_stats;
    }
    // Times each sequence number of a generator was received (index: seq).
    std::vector<quint8> seen(const QString &generator) const
    {
        QMutexLocker lock(&m_mutex);
        auto it = m_seen.find(generator);
        return it == m_seen.end() ? std::vector<quint8>{} : it->second;
    }
    bool following() const
    {
        QMutexLocker lock(&m_mutex);
        return m_following;
    }

public Q_SLOTS:
    void begin()
    {
        m_ws = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
        m_retry = new QTimer(this);
        m_retry->setSingleShot(true);
        m_ping = new QTimer(this);
        connect(m_retry, &QTimer::timeout, this, [this] {
            if (m_ws->state() == QAbstractSocket::ConnectedState)
                startTail();
            else
                m_ws->open(m_url);
        });
        connect(m_ping, &QTimer::timeout, this, [this] {
            if (m_ws->state() == QAbstractSocket::ConnectedState)
                send({{"type", "ping"}, {"id", "ping"}});
        });
        m_ping->start(20'000); // an active tail does not count against the idle timeout
        connect(m_ws, &QWebSocket::connected, this, [this] {
            m_backoffMs = 250;
            note(QStringLiteral("connected"), true);
            send({{"type", "hello"},
                  {"id", "hello"},
                  {"versions", QJsonArray{1}},
                  {"client", "idl-fault-suite"},
                  {"token", m_token}});
        });
        connect(m_ws, &QWebSocket::disconnected, this, [this] {
            note(QStringLiteral("disconnected: ") + m_ws->closeReason() + QStringLiteral(" (") +
                 QString::number(m_ws->closeCode()) + QStringLiteral(")"));
            m_tailId.clear();
            m_retry->start(m_backoffMs);
            m_backoffMs = std::min(4000, m_backoffMs * 2);
        });
        connect(m_ws, &QWebSocket::textMessageReceived, this, &TailClient::onText);
        m_ws->open(m_url);
    }

    void end()
    {
        if (m_ws) {
            m_ws->disconnect(this);
            m_ws->close();
        }
        if (m_retry)
            m_retry->stop();
        if (m_ping)
            m_ping->stop();
    }

private:
    void send(const QJsonObject &o)
    {
        m_ws->sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
    }

    void note(const QString &text, bool connected = false)
    {
        QMutexLocker lock(&m_mutex);
        if (connected)
            ++m_stats.connects;
        m_stats.notes << QTime::currentTime().toString(QStringLiteral("HH:mm:ss.zzz ")) + text;
    }

    void startTail()
    {
        m_tailId = QStringLiteral("tail-%1").arg(++m_tailSerial);
        QJsonObject req{{"type", "tail.start"}, {"id", m_tailId}, {"q", ""}};
        if (!m_positions.isEmpty())
            req.insert(QStringLiteral("resume"), QJsonObject{{"positions", m_positions}});
        send(req);
    }

    void onText(const QString &text)
    {
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = m.value(QStringLiteral("type")).toString();
        const QString id = m.value(QStringLiteral("id")).toString();
        if (type == u"hello") {
            if (m.value(QStringLiteral("authenticated")).toBool())
                startTail();
            else
                note(QStringLiteral("hello not authenticated: ") + text);
            return;
        }
        if (id != m_tailId || m_tailId.isEmpty())
            return; // pong, or a late frame of a tail that was replaced
        if (type == u"tail.started") {
            // Without since/resume the start positions are where live begins.
            if (m_positions.isEmpty())
                m_positions = m.value(QStringLiteral("positions")).toObject();
            QMutexLocker lock(&m_mutex);
            ++m_stats.tailStarts;
            m_following = true;
            if (m.value(QStringLiteral("truncated")).toBool())
                m_stats.notes << QStringLiteral("tail.started says truncated");
        } else if (type == u"tail.events") {
            QMutexLocker lock(&m_mutex);
            for (const auto &v : m.value(QStringLiteral("events")).toArray()) {
                const QJsonObject attrs = v.toObject().value(QStringLiteral("attrs")).toObject();
                const QString gen = attrs.value(QStringLiteral("loadgen.id")).toString();
                const qint64 seq = attrs.value(QStringLiteral("loadgen.seq")).toInteger(-1);
                ++m_stats.events;
                if (gen.isEmpty() || seq < 0)
                    continue;
                auto &counts = m_seen[gen];
                if (counts.size() <= static_cast<std::size_t>(seq))
                    counts.resize(static_cast<std::size_t>(seq) + 1024, 0);
                if (counts[static_cast<std::size_t>(seq)] < 255)
                    ++counts[static_cast<std::size_t>(seq)];
            }
            m_stats.dropped += m.value(QStringLiteral("dropped")).toInteger();
            const QJsonObject pos = m.value(QStringLiteral("positions")).toObject();
            if (!pos.isEmpty())
                m_positions = pos;
        } else if (type == u"error") {
            note(QStringLiteral("tail error: ") + text);
            {
                QMutexLocker lock(&m_mutex);
                ++m_stats.tailErrors;
            }
            m_tailId.clear();
            m_retry->start(1000); // the same connection: start it again, resuming
        }
    }

    QUrl m_url;
    QString m_token;
    QWebSocket *m_ws = nullptr;
    QTimer *m_retry = nullptr;
    QTimer *m_ping = nullptr;
    int m_backoffMs = 250;
    int m_tailSerial = 0;
    QString m_tailId;
    QJsonObject m_positions; // of the last frame received: what a resume sends

    mutable QMutex m_mutex;
    Stats m_stats;
    std::map<QString, std::vector<quint8>> m_seen;
    bool m_following = false;
};

} // namespace idl::testsupport
