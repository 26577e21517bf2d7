#pragma once

// An in-process stand-in for idl-gateway speaking protocol v1 (docs/protocol.md) over a real
// QWebSocketServer on 127.0.0.1: hello/auth, query with keyset cursors over an in-memory
// data set, aggregate, export in chunks, tail.start/stop with frames pushed by the test,
// saved.*, cancel. Lets the console's models be tested (and benchmarked) without the stack.
// Lives in the thread that creates it (the benchmark runs it in its own thread).

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QSet>
#include <QUuid>
#include <QWebSocket>
#include <QWebSocketServer>

#include <algorithm>
#include <vector>

namespace idl::console::testing {

// One stored event of the fake data set.
struct FakeEvent
{
    qint64 ts = 0;
    QString id;
    QString level;
    QString app;
    QString host;
    QString message;
    QJsonObject attrs;

    QJsonObject toJson() const
    {
        return QJsonObject{{QStringLiteral("id"), id},
                           {QStringLiteral("ts"), QString::number(ts)},
                           {QStringLiteral("time"), QStringLiteral("t%1").arg(ts)},
                           {QStringLiteral("received"), QString::number(ts + 1000)},
                           {QStringLiteral("level"), level},
                           {QStringLiteral("app"), app},
                           {QStringLiteral("host"), host},
                           {QStringLiteral("message"), message},
                           {QStringLiteral("attrs"), attrs}};
    }
};

class FakeGateway : public QObject
{
    Q_OBJECT
public:
    QString token = QStringLiteral("idt_test_secret");
    std::vector<FakeEvent> events; // any order; sorted on use
    int queriesSeen = 0;
    int tailStarts = 0;
    QJsonObject lastTailStart;
    QJsonObject lastQuery;
    QList<QJsonObject> saved;
    QStringList exportChunks; // when set, `export` replays these (id placeholder "@ID@")
    qint64 exportRowCount = 0;

    explicit FakeGateway(QObject *parent = nullptr)
        : QObject(parent),
          m_server(QStringLiteral("fake-gateway"), QWebSocketServer::NonSecureMode, this)
    {
        connect(&m_server, &QWebSocketServer::newConnection, this, &FakeGateway::onNew);
    }

    ~FakeGateway() override
    {
        // Sockets outlive the members below while the server tears them down.
        for (QWebSocket *c : std::as_const(m_clients))
            c->disconnect(this);
        m_server.close();
    }

    bool listen(quint16 port = 0) { return m_server.listen(QHostAddress::LocalHost, port); }
    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(port())); }
    int connectionCount() const { return static_cast<int>(m_clients.size()); }

    // Sends a tail frame to every active tail.
    void pushTail(const QJsonArray &rows, qint64 dropped = 0, qint64 offset = 0)
    {
        for (auto it = m_tails.begin(); it != m_tails.end(); ++it) {
            send(it.key(), QJsonObject{{QStringLiteral("type"), QStringLiteral("tail.events")},
                                       {QStringLiteral("id"), it.value()},
                                       {QStringLiteral("phase"), QStringLiteral("live")},
                                       {QStringLiteral("events"), rows},
                                       {QStringLiteral("dropped"), dropped},
                                       {QStringLiteral("dropped_total"), dropped},
                                       {QStringLiteral("positions"),
                                        QJsonObject{{QStringLiteral("0"), offset}}}});
        }
    }
    // Same, with a pre-serialised frame body (benchmark: no JSON work on this side).
    void pushTailText(const QString &textWithoutId)
    {
        for (auto it = m_tails.begin(); it != m_tails.end(); ++it) {
            QString t = textWithoutId;
            t.replace(QStringLiteral("\"@ID@\""), QStringLiteral("\"%1\"").arg(it.value()));
            it.key()->sendTextMessage(t);
        }
    }
    int activeTails() const { return static_cast<int>(m_tails.size()); }

    // Closes every connection (as a restarting gateway would).
    void dropAll()
    {
        const auto clients = m_clients;
        m_tails.clear();
        for (QWebSocket *c : clients)
            c->abort();
    }

private:
    void onNew()
    {
        while (QWebSocket *ws = m_server.nextPendingConnection()) {
            m_clients.append(ws);
            connect(ws, &QWebSocket::textMessageReceived, this,
                    [this, ws](const QString &t) { onText(ws, t); });
            connect(ws, &QWebSocket::disconnected, this, [this, ws] {
                m_clients.removeOne(ws);
                m_tails.remove(ws);
                m_authed.remove(ws);
                ws->deleteLater();
            });
        }
    }

    static void send(QWebSocket *ws, const QJsonObject &o)
    {
        ws->sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
    }
    static void error(QWebSocket *ws, const QString &id, const QString &code, const QString &msg,
                      qint64 position = -1)
    {
        QJsonObject o{{QStringLiteral("type"), QStringLiteral("error")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("code"), code},
                      {QStringLiteral("message"), msg}};
        if (position >= 0)
            o.insert(QStringLiteral("position"), position);
        send(ws, o);
    }

    std::vector<FakeEvent> matching(const QJsonObject &req, bool asc) const
    {
        const qint64 from = req.value(QLatin1String("from")).toString().toLongLong();
        const QString toText = req.value(QLatin1String("to")).toString();
        const qint64 to = toText.isEmpty() ? LLONG_MAX : toText.toLongLong();
        const QString q = req.value(QLatin1String("q")).toString();
        std::vector<FakeEvent> out;
        for (const auto &e : events) {
            if (e.ts < from || e.ts >= to)
                continue;
            if (q.startsWith(u"level:") && e.level != q.mid(6))
                continue;
            if (q.startsWith(u"app:") && e.app != q.mid(4))
                continue;
            out.push_back(e);
        }
        std::sort(out.begin(), out.end(), [asc](const FakeEvent &a, const FakeEvent &b) {
            const auto ka = std::make_pair(a.ts, a.id);
            const auto kb = std::make_pair(b.ts, b.id);
            return asc ? ka < kb : kb < ka;
        });
        return out;
    }

    void onText(QWebSocket *ws, const QString &text)
    {
        const QJsonObject req = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = req.value(QLatin1String("type")).toString();
        const QString id = req.value(QLatin1String("id")).toString();
        if (type == u"hello") {
            const bool ok = req.value(QLatin1String("token")).toString() == token;
            if (!ok)
                error(ws, id, QStringLiteral("unauthenticated"),
                      QStringLiteral("invalid credentials"));
            else
                m_authed.insert(ws);
            QJsonObject reply{{QStringLiteral("type"), QStringLiteral("hello")},
                              {QStringLiteral("id"), id},
                              {QStringLiteral("version"), 1},
                              {QStringLiteral("server"), QStringLiteral("fake-gateway/1")},
                              {QStringLiteral("authenticated"), ok}};
            if (ok) {
                reply.insert(QStringLiteral("user"), QStringLiteral("tester"));
                reply.insert(QStringLiteral("role"), QStringLiteral("admin"));
                reply.insert(QStringLiteral("apps"), QJsonValue::Null);
                reply.insert(QStringLiteral("limits"),
                             QJsonObject{{QStringLiteral("max_inflight"), 8}});
            }
            send(ws, reply);
            return;
        }
        if (!m_authed.contains(ws)) {
            error(ws, id, QStringLiteral("unauthenticated"), QStringLiteral("invalid credentials"));
            return;
        }
        if (type == u"ping") {
            send(ws,
                 {{QStringLiteral("type"), QStringLiteral("pong")}, {QStringLiteral("id"), id}});
        } else if (type == u"query") {
            ++queriesSeen;
            lastQuery = req;
            const QString q = req.value(QLatin1String("q")).toString();
            if (q.contains(u'('))
                return error(ws, id, QStringLiteral("query_syntax"), QStringLiteral("expected ')'"),
                             q.indexOf(u'('));
            const bool asc = req.value(QLatin1String("order")).toString() == u"asc";
            const auto all = matching(req, asc);
            const int limit = req.value(QLatin1String("limit")).toInt(500);
            const int chunk = req.value(QLatin1String("chunk")).toInt(500);
            const qsizetype start = req.value(QLatin1String("cursor")).toString().toLongLong();
            qsizetype i = start;
            int seq = 0;
            QJsonArray rows;
            while (i < static_cast<qsizetype>(all.size()) && i - start < limit) {
                rows.append(all[static_cast<size_t>(i)].toJson());
                ++i;
                if (rows.size() == chunk) {
                    send(ws, {{QStringLiteral("type"), QStringLiteral("rows")},
                              {QStringLiteral("id"), id},
                              {QStringLiteral("seq"), seq++},
                              {QStringLiteral("rows"), rows}});
                    rows = {};
                }
            }
            if (!rows.isEmpty())
                send(ws, {{QStringLiteral("type"), QStringLiteral("rows")},
                          {QStringLiteral("id"), id},
                          {QStringLiteral("seq"), seq++},
                          {QStringLiteral("rows"), rows}});
            const bool more = i < static_cast<qsizetype>(all.size());
            send(ws,
                 {{QStringLiteral("type"), QStringLiteral("done")},
                  {QStringLiteral("id"), id},
                  {QStringLiteral("count"), static_cast<qint64>(i - start)},
                  {QStringLiteral("cursor"), more ? QJsonValue(QString::number(i)) : QJsonValue()},
                  {QStringLiteral("elapsed_ms"), 1}});
        } else if (type == u"export" && !exportChunks.isEmpty()) {
            // Benchmark replay: pre-serialised `rows` messages, then `done`.
            const QString quotedId = QStringLiteral("\"%1\"").arg(id);
            for (QString chunk : std::as_const(exportChunks))
                ws->sendTextMessage(chunk.replace(QStringLiteral("\"@ID@\""), quotedId));
            send(ws, {{QStringLiteral("type"), QStringLiteral("done")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("count"), exportRowCount},
                      {QStringLiteral("cursor"), QJsonValue()},
                      {QStringLiteral("elapsed_ms"), 1}});
        } else if (type == u"export") {
            const bool asc = req.value(QLatin1String("order")).toString() != u"desc";
            const auto all = matching(req, asc);
            const int chunk = req.value(QLatin1String("chunk")).toInt(2000);
            QStringList cols;
            for (const auto &c : req.value(QLatin1String("columns")).toArray())
                cols << c.toString();
            QJsonArray rows;
            int seq = 0;
            for (size_t i = 0; i < all.size(); ++i) {
                const QJsonObject full = all[i].toJson();
                QJsonObject row;
                for (const auto &c : cols)
                    if (full.contains(c))
                        row.insert(c, full.value(c));
                rows.append(row);
                if (rows.size() == chunk || i + 1 == all.size()) {
                    send(ws, {{QStringLiteral("type"), QStringLiteral("rows")},
                              {QStringLiteral("id"), id},
                              {QStringLiteral("seq"), seq++},
                              {QStringLiteral("rows"), rows},
                              {QStringLiteral("progress"),
                               QJsonObject{{QStringLiteral("rows"), static_cast<qint64>(i + 1)},
                                           {QStringLiteral("fraction"),
                                            double(i + 1) / double(all.size())}}}});
                    rows = {};
                }
            }
            send(ws, {{QStringLiteral("type"), QStringLiteral("done")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("count"), static_cast<qint64>(all.size())},
                      {QStringLiteral("cursor"), QJsonValue()},
                      {QStringLiteral("elapsed_ms"), 1}});
        } else if (type == u"aggregate") {
            send(ws, {{QStringLiteral("type"), QStringLiteral("aggregate.result")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("bucket_ms"), 60000},
                      {QStringLiteral("from"), req.value(QLatin1String("from"))},
                      {QStringLiteral("to"), req.value(QLatin1String("to"))},
                      {QStringLiteral("keys"),
                       QJsonArray{QStringLiteral("info"), QStringLiteral("error")}},
                      {QStringLiteral("buckets"),
                       QJsonArray{QJsonObject{
                           {QStringLiteral("t"), QStringLiteral("60000000000")},
                           {QStringLiteral("counts"), QJsonObject{{QStringLiteral("info"), 3},
                                                                  {QStringLiteral("error"), 1}}}}}},
                      {QStringLiteral("total"), 4}});
        } else if (type == u"top") {
            const QString field = req.value(QLatin1String("field")).toString();
            QMap<QString, qint64> counts;
            for (const auto &e : events)
                counts[field == u"host" ? e.host : e.app] += 1;
            QJsonArray items;
            for (auto it = counts.begin(); it != counts.end(); ++it)
                items.append(QJsonObject{{QStringLiteral("value"), it.key()},
                                         {QStringLiteral("count"), it.value()}});
            send(ws, {{QStringLiteral("type"), QStringLiteral("top.result")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("field"), field},
                      {QStringLiteral("items"), items}});
        } else if (type == u"tail.start") {
            ++tailStarts;
            lastTailStart = req;
            m_tails.insert(ws, id);
            send(ws, {{QStringLiteral("type"), QStringLiteral("tail.started")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("history"), false},
                      {QStringLiteral("positions"), QJsonObject{{QStringLiteral("0"), 0}}}});
        } else if (type == u"tail.stop" || type == u"cancel") {
            const QString target = req.value(QLatin1String("target")).toString();
            if (m_tails.value(ws) == target)
                m_tails.remove(ws);
            send(ws, {{QStringLiteral("type"), QStringLiteral("ok")}, {QStringLiteral("id"), id}});
        } else if (type == u"saved.list") {
            QJsonArray items;
            for (const auto &s : saved)
                items.append(s);
            send(ws, {{QStringLiteral("type"), QStringLiteral("saved.list.result")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("items"), items}});
        } else if (type == u"saved.put") {
            QJsonObject s = req.value(QLatin1String("saved")).toObject();
            if (!s.contains(QLatin1String("uuid")))
                s.insert(QStringLiteral("uuid"),
                         QUuid::createUuid().toString(QUuid::WithoutBraces));
            s.insert(QStringLiteral("owner"), QStringLiteral("tester"));
            bool replaced = false;
            for (auto &x : saved) {
                if (x.value(QLatin1String("uuid")) == s.value(QLatin1String("uuid"))) {
                    x = s;
                    replaced = true;
                }
            }
            if (!replaced)
                saved.append(s);
            send(ws, {{QStringLiteral("type"), QStringLiteral("saved.result")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("saved"), s}});
        } else if (type == u"saved.delete") {
            const QString uuid = req.value(QLatin1String("uuid")).toString();
            saved.erase(std::remove_if(saved.begin(), saved.end(),
                                       [&](const QJsonObject &x) {
                                           return x.value(QLatin1String("uuid")).toString() == uuid;
                                       }),
                        saved.end());
            send(ws, {{QStringLiteral("type"), QStringLiteral("ok")}, {QStringLiteral("id"), id}});
        } else {
            error(ws, id, QStringLiteral("bad_request"), QStringLiteral("unknown type"));
        }
    }

    QWebSocketServer m_server;
    QList<QWebSocket *> m_clients;
    QMap<QWebSocket *, QString> m_tails;
    QSet<QWebSocket *> m_authed;
};

} // namespace idl::console::testing
