// Gateway integration tests over a real WebSocket, with a private PostgreSQL and a local
// Kafka broker (tests/support): protocol round trips, the RBAC matrix, the gapless tail seam,
// a slow client, cancellation of database work, the HTTP query API and the idle timeout.
// Test code builds many JSON literals: allow const char* -> QString here only.
#undef QT_NO_CAST_FROM_ASCII
#include "gateway_test_util.h"
#include "idl/gateway/gateway.h"
#include "idl/gateway/tokens.h"
#include "idl/kafka/producer.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl_test_servers.h"

#include <QElapsedTimer>
#include <QFile>
#include <QHostAddress>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSet>
#include <QSslConfiguration>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <memory>
#include <set>
#include <tuple>

using namespace gwtest;
using idl::Level;
using idl::gateway::Role;

namespace {
constexpr std::int64_t kMin = 60'000'000'000;
constexpr int kPartitions = 2;
} // namespace

class GatewayIntegration : public QObject
{
    Q_OBJECT

    std::string m_dsn;
    std::string m_topic;
    std::string m_bootstrap;
    std::unique_ptr<idl::gateway::Gateway> m_gw;
    std::optional<idl::pg::Connection> m_db;
    std::unique_ptr<idl::kafka::Producer> m_producer;
    std::map<int, std::int64_t> m_produced; // per partition: events produced so far
    std::string m_admin, m_viewer, m_editor, m_scoped;
    std::int64_t m_base = 0; // time of the stored test rows
    std::vector<idl::LogEvent> m_stored;

    // Options of a second gateway on the same database and topic (tests that change limits).
    idl::gateway::GatewayOptions ownGatewayOptions() const
    {
        idl::gateway::GatewayOptions o;
        o.wsPort = 0;
        o.httpPort = 0;
        o.pgDsn = m_dsn;
        o.kafkaBootstrap = m_bootstrap;
        o.kafkaTopic = m_topic;
        return o;
    }

    std::string token(const std::string &name, Role role, std::vector<std::string> apps = {})
    {
        auto t = idl::gateway::tokens::create(*m_db, name, role, apps);
        return t ? t->token : std::string();
    }

    // Produces events round robin over the partitions and tracks the next offsets.
    void produceEvents(const std::vector<idl::LogEvent> &events)
    {
        int i = 0;
        for (const auto &e : events) {
            const int p = static_cast<int>((m_produced[0] + m_produced[1]) % kPartitions);
            const std::string v = idl::encodeEvent(e);
            QVERIFY(m_producer->produce(m_topic, e.app, v, {}, {}, p).ok());
            ++m_produced[p];
            ++i;
        }
        QVERIFY(m_producer->flush(std::chrono::seconds(30)).ok());
    }

    // A tail client that stops reading while `total` events of ~1 KB for `app` arrive, then
    // reads everything the gateway still sends.
    struct SlowTail
    {
        std::int64_t received = 0, droppedSum = 0, droppedTotal = 0, bytes = 0;
    };
    void slowTail(quint16 port, const QString &app, int total, SlowTail &out)
    {
        QTcpSocket sock;
        sock.connectToHost(QStringLiteral("127.0.0.1"), port);
        QVERIFY(sock.waitForConnected(5000));
        sock.write(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QByteArray in;
        QVERIFY(waitUntil([&] {
            in += sock.readAll();
            return in.contains("\r\n\r\n");
        }));
        in = in.mid(in.indexOf("\r\n\r\n") + 4);
        auto frame = [&](const QByteArray &payload) {
            QByteArray f;
            f.append(char(0x81));
            if (payload.size() < 126) {
                f.append(char(0x80 | payload.size()));
            } else {
                f.append(char(0x80 | 126));
                f.append(char(payload.size() >> 8));
                f.append(char(payload.size() & 0xff));
            }
            f.append(QByteArray(4, '\0')); // zero mask: payload unchanged
            f.append(payload);
            sock.write(f);
        };
        frame(QJsonDocument(QJsonObject{{"type", "hello"},
                                        {"id", "h"},
                                        {"versions", QJsonArray{1}},
                                        {"token", QString::fromStdString(m_viewer)}})
                  .toJson(QJsonDocument::Compact));
        frame(QJsonDocument(QJsonObject{{"type", "tail.start"},
                                        {"id", "t"},
                                        {"q", QString(QStringLiteral("app:") + app)}})
                  .toJson(QJsonDocument::Compact));
        // Parses complete server frames (unmasked, possibly fragmented) out of `in`.
        std::vector<QJsonObject> msgs;
        QByteArray partial;
        auto parse = [&] {
            for (;;) {
                if (in.size() < 2)
                    return;
                const unsigned char b0 = static_cast<unsigned char>(in[0]);
                quint64 len = static_cast<unsigned char>(in[1]) & 0x7f;
                int hdr = 2;
                if (len == 126) {
                    if (in.size() < 4)
                        return;
                    len = (quint64(static_cast<unsigned char>(in[2])) << 8) |
                          static_cast<unsigned char>(in[3]);
                    hdr = 4;
                } else if (len == 127) {
                    if (in.size() < 10)
                        return;
                    len = 0;
                    for (int i = 2; i < 10; ++i)
                        len = (len << 8) | static_cast<unsigned char>(in[i]);
                    hdr = 10;
                }
                if (quint64(in.size()) < hdr + len)
                    return;
                partial += in.mid(hdr, static_cast<qsizetype>(len));
                in.remove(0, hdr + static_cast<qsizetype>(len));
                if (b0 & 0x80) {
                    if ((b0 & 0x0f) != 0x9 && (b0 & 0x0f) != 0xA && (b0 & 0x0f) != 0x8)
                        msgs.push_back(QJsonDocument::fromJson(partial).object());
                    partial.clear();
                }
            }
        };
        const bool started = waitUntil([&] {
            in += sock.readAll();
            parse();
            for (auto &m : msgs)
                if (m["type"].toString() == QLatin1String("tail.started"))
                    return true;
            return false;
        });
        for (auto &m : msgs)
            qInfo("%s", QJsonDocument(m).toJson(QJsonDocument::Compact).constData());
        QVERIFY(started);

        // Stop reading: Qt keeps at most 4 KiB, the kernel buffers fill, then the server.
        sock.setReadBufferSize(4096);
        std::vector<idl::LogEvent> flood;
        const std::string pad(900, 'x');
        for (int i = 0; i < total; ++i)
            flood.push_back(
                makeEvent(nowNs(), app.toStdString(), Level::Info, pad + std::to_string(i)));
        // The gateway consumes everything meanwhile: 3 s, and under a sanitizer build on a busy
        // machine longer, until the process's tail counters (every event offered to a tail is
        // queued or dropped; other tails of this process count too) grew by the flood and
        // stopped moving.
        auto &reg = idl::metrics::Registry::global();
        auto &queued = reg.counter("idl_gateway_tail_events_total",
                                   "Live-tail events queued for clients (after filtering)");
        auto &dropped = reg.counter("idl_gateway_tail_dropped_total",
                                    "Live-tail events dropped because a client was slow");
        const std::uint64_t offeredBefore = queued.value() + dropped.value();
        produceEvents(flood);
        QTest::qWait(3000);
        std::uint64_t offered = 0;
        QElapsedTimer still;
        still.start();
        QVERIFY(waitUntil(
            [&] {
                const std::uint64_t now = queued.value() + dropped.value() - offeredBefore;
                if (now != offered) {
                    offered = now;
                    still.restart();
                }
                return offered >= static_cast<std::uint64_t>(total) && still.elapsed() >= 1000;
            },
            30000));

        sock.setReadBufferSize(0);
        std::int64_t received = 0;
        std::int64_t droppedSum = 0;
        std::int64_t droppedTotal = 0;
        std::int64_t bytes = 0;
        QVERIFY(waitUntil(
            [&] {
                const QByteArray chunk = sock.readAll();
                bytes += chunk.size();
                in += chunk;
                parse();
                for (auto &m : msgs) {
                    if (m["type"].toString() != QLatin1String("tail.events"))
                        continue;
                    received += m["events"].toArray().size();
                    droppedSum += m["dropped"].toInteger();
                    droppedTotal = m["dropped_total"].toInteger();
                }
                msgs.clear();
                return received + droppedSum == total;
            },
            30000));
        qInfo("slow client: %lld delivered, %lld dropped (reported), %lld bytes read",
              (long long)received, (long long)droppedSum, (long long)bytes);
        out = SlowTail{received, droppedSum, droppedTotal, bytes};
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto dsn = idl::testsupport::freshDatabase("gw");
        IDL_VERIFY_OK(dsn);
        m_dsn = *dsn;
        auto topic = idl::testsupport::freshTopic("gwevents", kPartitions);
        IDL_VERIFY_OK(topic);
        m_topic = *topic;
        m_bootstrap = (*idl::testsupport::kafka())->bootstrap().toStdString();
        m_produced = {{0, 0}, {1, 0}};

        idl::gateway::GatewayOptions o = ownGatewayOptions();
        o.ratePerSecond = 1000;
        o.rateBurst = 1000;
        o.tailQueue = 200; // rbacMatrix replays exactly this many history rows before live ones
        o.maxPendingBytes = 64 * 1024;
        m_gw = std::make_unique<idl::gateway::Gateway>(o);
        IDL_VERIFY_OK(m_gw->start());

        auto db = idl::pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(db);
        m_db.emplace(std::move(db).value());
        m_admin = token("root", Role::Admin);
        m_viewer = token("vera", Role::Viewer);
        m_editor = token("eddie", Role::Editor);
        m_scoped = token("scoped", Role::Viewer, {"checkout"});
        QVERIFY(!m_scoped.empty());

        // 300 stored rows over the last hour: checkout (error/info), billing (warn).
        m_base = nowNs() - nowNs() % kMin - 50 * kMin;
        for (int i = 0; i < 300; ++i) {
            const std::string app = i % 3 == 2 ? "billing" : "checkout";
            const Level lv = i % 3 == 0 ? Level::Error : (i % 3 == 1 ? Level::Info : Level::Warn);
            m_stored.push_back(
                makeEvent(m_base + i * 10'000'000'000LL, app, lv,
                          "request " + std::to_string(i) + (i % 10 == 0 ? " timed out" : " ok"),
                          "web-" + std::to_string(i % 4)));
        }
        IDL_VERIFY_OK(writeLikeWriter(*m_db, m_stored));

        idl::kafka::ProducerOptions po;
        po.config = {{"bootstrap.servers", m_bootstrap}};
        auto p = idl::kafka::Producer::create(std::move(po));
        IDL_VERIFY_OK(p);
        m_producer = std::move(p).value();
    }

    void protocolRoundTrip()
    {
        Client c;
        QVERIFY(c.open(m_gw->wsPort()));
        QJsonObject h = c.call({{"type", "hello"}, {"id", "1"}, {"versions", QJsonArray{1}}});
        QCOMPARE(h["type"].toString(), QStringLiteral("hello"));
        QCOMPARE(h["version"].toInt(), 1);
        QCOMPARE(h["authenticated"].toBool(), false);
        QJsonObject e = c.call({{"type", "query"}, {"id", "2"}});
        QCOMPARE(e["code"].toString(), QStringLiteral("unauthenticated"));

        // Failed logins say nothing about which part was wrong.
        std::string wrongSecret = m_viewer;
        wrongSecret.back() = wrongSecret.back() == 'a' ? 'b' : 'a';
        std::string unknownPrefix = m_viewer;
        unknownPrefix[5] = unknownPrefix[5] == 'a' ? 'b' : 'a';
        QSet<QString> messages;
        for (const std::string &t : {wrongSecret, unknownPrefix, std::string("garbage")}) {
            QJsonObject r =
                c.call({{"type", "auth"}, {"id", "a"}, {"token", QString::fromStdString(t)}});
            QCOMPARE(r["code"].toString(), QStringLiteral("unauthenticated"));
            messages.insert(r["message"].toString());
        }
        QCOMPARE(messages.size(), 1);
        QJsonObject ok =
            c.call({{"type", "auth"}, {"id", "a2"}, {"token", QString::fromStdString(m_viewer)}});
        QCOMPARE(ok["type"].toString(), QStringLiteral("auth.ok"));
        QCOMPARE(ok["role"].toString(), QStringLiteral("viewer"));
        QCOMPARE(c.call({{"type", "ping"}, {"id", "p"}})["type"].toString(),
                 QStringLiteral("pong"));

        // Paging: 100 checkout errors in 3-row pages of 2-row chunks, then follow cursors.
        auto msgs = c.stream({{"type", "query"},
                              {"id", "q"},
                              {"q", "app:checkout level:error"},
                              {"from", "-2h"},
                              {"limit", 3},
                              {"chunk", 2}});
        QCOMPARE(msgs.size(), size_t(3));
        QCOMPARE(msgs[0]["seq"].toInt(), 0);
        QCOMPARE(msgs[1]["seq"].toInt(), 1);
        QCOMPARE(msgs[2]["type"].toString(), QStringLiteral("done"));
        QCOMPARE(msgs[2]["count"].toInt(), 3);
        auto first = Client::rows(msgs);
        QCOMPARE(first.front()["level"].toString(), QStringLiteral("error"));
        QVERIFY(first.front()["ts"].toString().toLongLong() >
                first.back()["ts"].toString().toLongLong());
        QVERIFY(first.front()["time"].toString().endsWith(QLatin1Char('Z')));
        QSet<QString> seen;
        QString cursor = msgs[2]["cursor"].toString();
        for (const auto &r : first)
            seen.insert(r["id"].toString());
        int pages = 1;
        while (!cursor.isEmpty()) {
            auto m = c.stream({{"type", "query"},
                               {"id", "q"},
                               {"q", "app:checkout level:error"},
                               {"from", "-2h"},
                               {"limit", 40},
                               {"cursor", cursor}});
            QVERIFY(!m.empty());
            QCOMPARE(m.back()["type"].toString(), QStringLiteral("done"));
            for (const auto &r : Client::rows(m))
                seen.insert(r["id"].toString());
            cursor = m.back()["cursor"].toString();
            ++pages;
        }
        QCOMPARE(seen.size(), 100);
        QCOMPARE(pages, 4);

        // A parse error carries a position.
        QJsonObject se =
            c.call({{"type", "query"}, {"id", "s"}, {"q", "app:checkout AND (level:error"}});
        QCOMPARE(se["code"].toString(), QStringLiteral("query_syntax"));
        QVERIFY(se.contains("position"));
        QCOMPARE(c.call({{"type", "query"}, {"id", "t"}, {"from", "yesterday"}})["code"].toString(),
                 QStringLiteral("bad_timestamp"));
        QCOMPARE(c.call({{"type", "nope"}, {"id", "u"}})["code"].toString(),
                 QStringLiteral("bad_request"));

        // Aggregate from rollups and from raw rows agree.
        QJsonObject ag =
            c.call({{"type", "aggregate"}, {"id", "ag"}, {"q", "app:checkout"}, {"from", "-2h"}});
        QCOMPARE(ag["type"].toString(), QStringLiteral("aggregate.result"));
        QCOMPARE(ag["source"].toString(), QStringLiteral("rollup"));
        QCOMPARE(ag["total"].toInt(), 200);
        QJsonObject ag2 = c.call(
            {{"type", "aggregate"}, {"id", "ag2"}, {"q", "app:checkout timed"}, {"from", "-2h"}});
        QCOMPARE(ag2["source"].toString(), QStringLiteral("raw"));
        QCOMPARE(ag2["total"].toInt(), 20);
        qint64 sum = 0;
        for (const auto &b : ag["buckets"].toArray())
            sum += b.toObject()["counts"].toObject()["error"].toInt();
        QCOMPARE(sum, qint64(100));
        QJsonObject top =
            c.call({{"type", "top"}, {"id", "tp"}, {"field", "app"}, {"from", "-2h"}});
        QCOMPARE(top["items"].toArray().size(), 2);
        QCOMPARE(top["items"].toArray()[0].toObject()["value"].toString(),
                 QStringLiteral("checkout"));
        QCOMPARE(top["items"].toArray()[0].toObject()["count"].toInt(), 200);

        // Export streams every row, with progress and the chosen columns.
        auto ex = c.stream({{"type", "export"},
                            {"id", "x"},
                            {"from", "-2h"},
                            {"chunk", 64},
                            {"columns", QJsonArray{"time", "app", "message"}}});
        QCOMPARE(ex.back()["type"].toString(), QStringLiteral("done"));
        QCOMPARE(ex.back()["count"].toInt(), 300);
        auto exRows = Client::rows(ex);
        QCOMPARE(exRows.size(), size_t(300));
        QCOMPARE(exRows[0].keys().size(), 3);
        QVERIFY(ex[ex.size() - 2]["progress"].toObject()["fraction"].toDouble() > 0.5);

        // Saved queries.
        QJsonObject put = c.call(
            {{"type", "saved.put"},
             {"id", "sp"},
             {"saved", QJsonObject{{"name", "mine"}, {"q", "level:error"}, {"from", "-1h"}}}});
        QCOMPARE(put["type"].toString(), QStringLiteral("saved.result"));
        const QString uuid = put["saved"].toObject()["uuid"].toString();
        QCOMPARE(put["saved"].toObject()["owner"].toString(), QStringLiteral("vera"));
        QJsonObject got = c.call({{"type", "saved.get"}, {"id", "sg"}, {"uuid", uuid}});
        QCOMPARE(got["saved"].toObject()["q"].toString(), QStringLiteral("level:error"));
        QJsonObject list = c.call({{"type", "saved.list"}, {"id", "sl"}});
        QCOMPARE(list["items"].toArray().size(), 1);
        QCOMPARE(
            c.call({{"type", "saved.delete"}, {"id", "sd"}, {"uuid", uuid}})["type"].toString(),
            QStringLiteral("ok"));
        QCOMPARE(c.call({{"type", "saved.get"}, {"id", "sg2"}, {"uuid", uuid}})["code"].toString(),
                 QStringLiteral("not_found"));
    }

    void rbacMatrix()
    {
        Client s;
        QVERIFY(s.open(m_gw->wsPort()));
        QVERIFY(s.authenticate(m_scoped));
        // Query: the scope wins over the query text.
        QCOMPARE(
            Client::rows(
                s.stream({{"type", "query"}, {"id", "1"}, {"q", "app:billing"}, {"from", "-2h"}}))
                .size(),
            size_t(0));
        auto all = Client::rows(
            s.stream({{"type", "query"}, {"id", "2"}, {"from", "-2h"}, {"limit", 1000}}));
        QCOMPARE(all.size(), size_t(200));
        for (const auto &r : all)
            QCOMPARE(r["app"].toString(), QStringLiteral("checkout"));
        auto orq = Client::rows(s.stream({{"type", "query"},
                                          {"id", "3"},
                                          {"q", "app:billing OR NOT app:checkout"},
                                          {"from", "-2h"}}));
        QCOMPARE(orq.size(), size_t(0));
        // Aggregate and top never name or count another app.
        QJsonObject ag =
            s.call({{"type", "aggregate"}, {"id", "4"}, {"split", "app"}, {"from", "-2h"}});
        QCOMPARE(ag["keys"].toArray(), QJsonArray{"checkout"});
        QCOMPARE(ag["total"].toInt(), 200);
        QJsonObject agRaw = s.call(
            {{"type", "aggregate"}, {"id", "4b"}, {"q", "ok"}, {"split", "app"}, {"from", "-2h"}});
        QCOMPARE(agRaw["keys"].toArray(), QJsonArray{"checkout"});
        QJsonObject top = s.call({{"type", "top"}, {"id", "5"}, {"field", "app"}, {"from", "-2h"}});
        QCOMPARE(top["items"].toArray().size(), 1);
        QJsonObject hosts =
            s.call({{"type", "top"}, {"id", "5b"}, {"field", "host"}, {"from", "-2h"}});
        qint64 hostSum = 0;
        for (const auto &i : hosts["items"].toArray())
            hostSum += i.toObject()["count"].toInt();
        QCOMPARE(hostSum, qint64(200));
        // Export.
        auto ex = Client::rows(s.stream({{"type", "export"}, {"id", "6"}, {"from", "-2h"}}));
        QCOMPARE(ex.size(), size_t(200));
        for (const auto &r : ex)
            QCOMPARE(r["app"].toString(), QStringLiteral("checkout"));
        // Tail, history and live.
        s.send({{"type", "tail.start"}, {"id", "7"}, {"since", "-2h"}});
        QCOMPARE(s.next("7", "tail.started")["type"].toString(), QStringLiteral("tail.started"));
        std::vector<idl::LogEvent> live{
            makeEvent(nowNs(), "billing", Level::Error, "secret billing"),
            makeEvent(nowNs(), "checkout", Level::Error, "visible")};
        produceEvents(live);
        int history = 0;
        bool sawLive = false;
        QVERIFY(waitUntil(
            [&] {
                for (auto it = s.inbox.begin(); it != s.inbox.end();) {
                    if ((*it)["id"].toString() == QLatin1String("7")) {
                        for (const auto &ev : (*it)["events"].toArray()) {
                            if (ev.toObject()["app"].toString() != QLatin1String("checkout"))
                                history = -100000; // must never happen
                            if ((*it)["phase"].toString() == QLatin1String("history"))
                                ++history;
                            else
                                sawLive = sawLive || ev.toObject()["message"].toString() ==
                                                         QLatin1String("visible");
                        }
                        it = s.inbox.erase(it);
                    } else {
                        ++it;
                    }
                }
                return sawLive && history >= 200;
            },
            30000)); // generous: CI machines are shared
        QCOMPARE(history, 200);
        s.call({{"type", "tail.stop"}, {"id", "8"}, {"target", "7"}});

        // Viewer: private saved queries yes; shared and admin objects no.
        Client v;
        QVERIFY(v.open(m_gw->wsPort()));
        QVERIFY(v.authenticate(m_viewer));
        QCOMPARE(
            v.call({{"type", "saved.put"},
                    {"id", "1"},
                    {"saved", QJsonObject{{"name", "s"}, {"q", ""}, {"shared", true}}}})["code"]
                .toString(),
            QStringLiteral("forbidden"));
        QCOMPARE(v.call({{"type", "tokens.list"}, {"id", "2"}})["code"].toString(),
                 QStringLiteral("forbidden"));
        QCOMPARE(
            v.call(
                 {{"type", "tokens.create"}, {"id", "3"}, {"name", "x"}, {"role", "admin"}})["code"]
                .toString(),
            QStringLiteral("forbidden"));
        // Editor shares a query; the viewer sees it but can neither change nor delete it.
        Client e;
        QVERIFY(e.open(m_gw->wsPort()));
        QVERIFY(e.authenticate(m_editor));
        QJsonObject shared = e.call(
            {{"type", "saved.put"},
             {"id", "1"},
             {"saved", QJsonObject{{"name", "team"}, {"q", "level:error"}, {"shared", true}}}});
        QCOMPARE(shared["type"].toString(), QStringLiteral("saved.result"));
        const QString uuid = shared["saved"].toObject()["uuid"].toString();
        QCOMPARE(e.call({{"type", "tokens.list"}, {"id", "2"}})["code"].toString(),
                 QStringLiteral("forbidden"));
        QCOMPARE(v.call({{"type", "saved.get"}, {"id", "4"}, {"uuid", uuid}})["type"].toString(),
                 QStringLiteral("saved.result"));
        QCOMPARE(v.call({{"type", "saved.put"},
                         {"id", "5"},
                         {"saved",
                          QJsonObject{{"uuid", uuid}, {"name", "mine now"}, {"q", ""}}}})["code"]
                     .toString(),
                 QStringLiteral("forbidden"));
        QCOMPARE(v.call({{"type", "saved.delete"}, {"id", "6"}, {"uuid", uuid}})["code"].toString(),
                 QStringLiteral("forbidden"));
        // A private query of the viewer is invisible to the editor.
        QJsonObject priv = v.call(
            {{"type", "saved.put"}, {"id", "7"}, {"saved", QJsonObject{{"name", "p"}, {"q", ""}}}});
        QCOMPARE(e.call({{"type", "saved.get"},
                         {"id", "8"},
                         {"uuid", priv["saved"].toObject()["uuid"].toString()}})["code"]
                     .toString(),
                 QStringLiteral("not_found"));
        // Admin manages tokens; a revoked token stops working.
        Client a;
        QVERIFY(a.open(m_gw->wsPort()));
        QVERIFY(a.authenticate(m_admin));
        QJsonObject created =
            a.call({{"type", "tokens.create"}, {"id", "1"}, {"name", "ci"}, {"role", "viewer"}});
        QCOMPARE(created["type"].toString(), QStringLiteral("tokens.created"));
        QCOMPARE(a.call({{"type", "tokens.revoke"},
                         {"id", "2"},
                         {"prefix", created["prefix"].toString()}})["type"]
                     .toString(),
                 QStringLiteral("ok"));
        Client r;
        QVERIFY(r.open(m_gw->wsPort()));
        QVERIFY(!r.authenticate(created["token"].toString().toStdString()));
    }

    // Issue 15, finding 3: an admin scoped to some apps manages tokens only within its scope,
    // and a shared saved query is seen only by tokens whose scope covers it.
    void scopedAdminStaysInScope()
    {
        const std::string scopedAdmin = token("checkout-admin", Role::Admin, {"checkout"});
        const std::string other = token("unscoped-victim", Role::Viewer);
        Client a;
        QVERIFY(a.open(m_gw->wsPort()));
        QVERIFY(a.authenticate(scopedAdmin));

        // A token created without apps gets the admin's scope, never "every app".
        QJsonObject created = a.call(
            {{"type", "tokens.create"}, {"id", "c1"}, {"name", "ci-scoped"}, {"role", "viewer"}});
        QCOMPARE(created["type"].toString(), QStringLiteral("tokens.created"));
        auto all = idl::gateway::tokens::list(*m_db);
        IDL_VERIFY_OK(all);
        const auto rec = std::find_if(all->begin(), all->end(), [&](const auto &t) {
            return t.prefix == created["prefix"].toString().toStdString();
        });
        QVERIFY(rec != all->end());
        QCOMPARE(rec->apps, std::vector<std::string>{"checkout"});
        // Wider apps are refused.
        QCOMPARE(a.call({{"type", "tokens.create"},
                         {"id", "c2"},
                         {"name", "wide"},
                         {"apps", QJsonArray{"checkout", "billing"}}})["code"]
                     .toString(),
                 QStringLiteral("forbidden"));
        // The list holds only tokens within the scope.
        QJsonObject list = a.call({{"type", "tokens.list"}, {"id", "l"}});
        QCOMPARE(list["type"].toString(), QStringLiteral("tokens.list.result"));
        QVERIFY(!list["items"].toArray().isEmpty());
        for (const auto &v : list["items"].toArray()) {
            const QJsonArray apps = v.toObject()["apps"].toArray();
            QVERIFY2(apps == QJsonArray{"checkout"},
                     qPrintable(v.toObject()["name"].toString() + " is outside the scope"));
        }
        // A token outside the scope cannot be revoked (and is not even named).
        auto otherRec = std::find_if(all->begin(), all->end(),
                                     [&](const auto &t) { return t.name == "unscoped-victim"; });
        QVERIFY(otherRec != all->end());
        QCOMPARE(a.call({{"type", "tokens.revoke"},
                         {"id", "r"},
                         {"prefix", QString::fromStdString(otherRec->prefix)}})["code"]
                     .toString(),
                 QStringLiteral("not_found"));
        Client o;
        QVERIFY(o.open(m_gw->wsPort()));
        QVERIFY(o.authenticate(other));

        // Shared saved queries: one saved by a billing editor is not shown to a checkout viewer,
        // but is to an unscoped one.
        const std::string billingEditor = token("billing-editor", Role::Editor, {"billing"});
        Client e;
        QVERIFY(e.open(m_gw->wsPort()));
        QVERIFY(e.authenticate(billingEditor));
        QJsonObject put = e.call(
            {{"type", "saved.put"},
             {"id", "sp"},
             {"saved",
              QJsonObject{{"name", "billing secrets"}, {"q", "app:billing"}, {"shared", true}}}});
        QCOMPARE(put["type"].toString(), QStringLiteral("saved.result"));
        const QString uuid = put["saved"].toObject()["uuid"].toString();
        Client sc;
        QVERIFY(sc.open(m_gw->wsPort()));
        QVERIFY(sc.authenticate(m_scoped));
        for (const auto &v : sc.call({{"type", "saved.list"}, {"id", "sl"}})["items"].toArray())
            QVERIFY(v.toObject()["uuid"].toString() != uuid);
        QCOMPARE(sc.call({{"type", "saved.get"}, {"id", "sg"}, {"uuid", uuid}})["code"].toString(),
                 QStringLiteral("not_found"));
        QCOMPARE(o.call({{"type", "saved.get"}, {"id", "og"}, {"uuid", uuid}})["type"].toString(),
                 QStringLiteral("saved.result"));
        QCOMPARE(
            e.call({{"type", "saved.delete"}, {"id", "sd"}, {"uuid", uuid}})["type"].toString(),
            QStringLiteral("ok"));
    }

    // Events before, at and after the seam are delivered exactly once; resume continues
    // exactly where the last frame ended.
    void tailSeam()
    {
        const std::int64_t since = nowNs() - 30'000'000'000LL;
        // A: stored by the "writer" (rows + offsets in one transaction), some older than since.
        std::vector<idl::LogEvent> a, b, c, d;
        for (int i = 0; i < 40; ++i)
            a.push_back(makeEvent(since + (i < 10 ? -5'000'000'000LL : i * 100'000'000LL), "seam",
                                  Level::Info, "a" + std::to_string(i)));
        // B: in Kafka but not stored yet.
        for (int i = 0; i < 30; ++i)
            b.push_back(makeEvent(since + (i < 5 ? -1'000'000'000LL : 5'000'000'000LL + i), "seam",
                                  Level::Info, "b" + std::to_string(i)));
        produceEvents(a);
        const auto afterA = m_produced;
        IDL_VERIFY_OK(writeLikeWriter(*m_db, a, m_topic, afterA));
        produceEvents(b);

        Client t;
        QVERIFY(t.open(m_gw->wsPort()));
        QVERIFY(t.authenticate(m_viewer));
        t.send({{"type", "tail.start"},
                {"id", "t"},
                {"q", "app:seam"},
                {"since", QString::number(since)}});
        QJsonObject started = t.next("t", "tail.started");
        QCOMPARE(started["positions"].toObject()["0"].toInt(), int(afterA.at(0)));
        QCOMPARE(started["positions"].toObject()["1"].toInt(), int(afterA.at(1)));
        // The writer catches up while the tail runs; C arrives live.
        IDL_VERIFY_OK(writeLikeWriter(*m_db, b, m_topic, m_produced));
        for (int i = 0; i < 25; ++i)
            c.push_back(makeEvent(nowNs(), "seam", Level::Warn, "c" + std::to_string(i)));
        produceEvents(c);

        std::map<QString, int> got;
        QJsonObject lastPositions;
        std::set<std::string> expected;
        for (const auto *set : {&a, &b, &c})
            for (const auto &e : *set)
                if (e.tsNs >= since)
                    expected.insert(e.id);
        auto pump = [&](Client &cl, const QString &id) {
            for (auto it = cl.inbox.begin(); it != cl.inbox.end();) {
                if ((*it)["id"].toString() == id &&
                    (*it)["type"].toString() == QLatin1String("tail.events")) {
                    for (const auto &ev : (*it)["events"].toArray())
                        ++got[ev.toObject()["id"].toString()];
                    lastPositions = (*it)["positions"].toObject();
                    it = cl.inbox.erase(it);
                } else {
                    ++it;
                }
            }
        };
        QVERIFY(waitUntil(
            [&] {
                pump(t, QStringLiteral("t"));
                return got.size() >= expected.size();
            },
            20000));
        QTest::qWait(500);
        pump(t, QStringLiteral("t"));
        QCOMPARE(got.size(), expected.size());
        for (const auto &[id, n] : got) {
            QVERIFY2(expected.count(id.toStdString()), qPrintable(id));
            QCOMPARE(n, 1);
        }
        QCOMPARE(lastPositions["0"].toInt() + lastPositions["1"].toInt(),
                 int(m_produced[0] + m_produced[1]));
        t.call({{"type", "tail.stop"}, {"id", "s"}, {"target", "t"}});

        // Resume on a new connection from the last positions: exactly the events since.
        for (int i = 0; i < 15; ++i)
            d.push_back(makeEvent(nowNs(), "seam", Level::Info, "d" + std::to_string(i)));
        produceEvents(d);
        Client r;
        QVERIFY(r.open(m_gw->wsPort()));
        QVERIFY(r.authenticate(m_viewer));
        got.clear();
        r.send({{"type", "tail.start"},
                {"id", "r"},
                {"q", "app:seam"},
                {"resume", QJsonObject{{"positions", lastPositions}}}});
        QVERIFY(waitUntil(
            [&] {
                pump(r, QStringLiteral("r"));
                return got.size() >= d.size();
            },
            20000));
        QTest::qWait(300);
        pump(r, QStringLiteral("r"));
        QCOMPARE(got.size(), d.size());
        for (const auto &e : d)
            QCOMPARE(got[QString::fromStdString(e.id)], 1);
    }

    // A client that stops reading: the server keeps memory bounded (queue + pending bytes)
    // and reports exactly how many events the client missed.
    void slowClient()
    {
        SlowTail t;
        slowTail(m_gw->wsPort(), QStringLiteral("flood"), 20000, t);
        QVERIFY(t.droppedSum > 0);
        QCOMPARE(t.droppedTotal, t.droppedSum);
        // What reached the client is bounded: far below the ~19 MB produced.
        QVERIFY(t.bytes < 12 * 1024 * 1024);
    }

    // Issue 15, finding 5: a tail's queue is bounded in bytes too, not only in events
    // (10000 events of any size could hold gigabytes).
    void tailQueueIsBoundedInBytes()
    {
        idl::gateway::GatewayOptions o = ownGatewayOptions();
        o.tailQueue = 10000;
        o.tailQueueBytes = 64 * 1024;
        o.maxPendingBytes = 64 * 1024;
        idl::gateway::Gateway gw(o);
        IDL_VERIFY_OK(gw.start());
        SlowTail t;
        slowTail(gw.wsPort(), QStringLiteral("floodbytes"), 8000, t);
        // By count alone the queue would have kept all 8000 (~7.5 MB): with the byte bound it
        // keeps ~64 KiB (~70 events) while the client does not read.
        QVERIFY(t.droppedSum > 0);
        QVERIFY2(t.received < 2000, qPrintable(QString::number(t.received)));
        gw.stop();
    }

    // cancel stops the statement in PostgreSQL, not just the stream.
    void cancellationStopsDatabaseWork()
    {
        auto locker = idl::pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(locker);
        IDL_VERIFY_OK(locker->exec("BEGIN; LOCK TABLE logs IN ACCESS EXCLUSIVE MODE"));
        Client c;
        QVERIFY(c.open(m_gw->wsPort()));
        QVERIFY(c.authenticate(m_viewer));
        c.send({{"type", "query"}, {"id", "slow"}, {"q", "timed"}, {"from", "-2h"}});
        auto waiting = [&] {
            auto r = m_db->query("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                 "'idl-gateway' AND state = 'active' AND query LIKE '%FROM logs%'");
            return r ? std::string(r->value(0, 0)) : std::string("?");
        };
        QVERIFY(waitUntil([&] { return waiting() == "1"; }, 10000));
        QCOMPARE(c.call({{"type", "cancel"}, {"id", "c"}, {"target", "slow"}})["type"].toString(),
                 QStringLiteral("ok"));
        // The target ended with "cancelled" (the server sends it before the ok).
        bool cancelled = false;
        for (const auto &m : c.inbox)
            cancelled = cancelled || (m["id"].toString() == QLatin1String("slow") &&
                                      m["code"].toString() == QLatin1String("cancelled"));
        QVERIFY(cancelled);
        QVERIFY(waitUntil([&] { return waiting() == "0"; }, 5000));
        IDL_VERIFY_OK(locker->exec("ROLLBACK"));
        // The connection still works afterwards.
        auto after =
            c.stream({{"type", "query"}, {"id", "again"}, {"q", "timed"}, {"from", "-2h"}});
        QCOMPARE(after.back()["type"].toString(), QStringLiteral("done"));
    }

    void httpQueryApi()
    {
        QNetworkAccessManager nam;
        auto get = [&](const QString &path, const std::string &tok, QByteArray *body,
                       QByteArray *next = nullptr) {
            QNetworkRequest req(
                QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_gw->httpPort()).arg(path)));
            if (!tok.empty())
                req.setRawHeader("Authorization", "Bearer " + QByteArray::fromStdString(tok));
            QNetworkReply *r = nam.get(req);
            waitUntil([&] { return r->isFinished(); });
            *body = r->readAll();
            if (next)
                *next = r->rawHeader("X-Idl-Next-Cursor");
            const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            r->deleteLater();
            return status;
        };
        QByteArray body, next;
        QCOMPARE(get(QStringLiteral("/healthz"), {}, &body), 200);
        QCOMPARE(get(QStringLiteral("/readyz"), {}, &body), 200);
        QCOMPARE(get(QStringLiteral("/metrics"), {}, &body), 200);
        QVERIFY(body.contains("idl_gateway_sessions"));
        QCOMPARE(get(QStringLiteral("/api/v1/query?q=level:error"), {}, &body), 401);
        QCOMPARE(get(QStringLiteral("/api/v1/query?q=level:error"), "idt_bad", &body), 401);
        QCOMPARE(get(QStringLiteral("/api/v1/query?q=app:billing&from=-2h&limit=7"), m_viewer,
                     &body, &next),
                 200);
        QCOMPARE(body.count('\n'), 7);
        QVERIFY(!next.isEmpty());
        QCOMPARE(get(QStringLiteral("/api/v1/query?q=app:billing&from=-2h&limit=1000&format=csv"),
                     m_viewer, &body),
                 200);
        QCOMPARE(body.count('\n'), 101); // header + 100 rows
        QVERIFY(body.startsWith("id,ts,time"));
        // Form encoding as curl -G --data-urlencode sends it: '+' is a space, %2B a plus.
        QByteArray plusBody;
        QCOMPARE(get(QStringLiteral("/api/v1/query?q=app%3Abilling+level%3A%3E%3Dtrace&from=-2h"
                                    "&limit=1000"),
                     m_viewer, &plusBody),
                 200);
        QCOMPARE(plusBody.count('\n'), 100);
        QCOMPARE(get(QStringLiteral("/api/v1/query?q=app:billing&from=-2h"), m_scoped, &body), 200);
        QCOMPARE(body.size(), 0);
        QCOMPARE(get(QStringLiteral("/api/v1/query?q=(&from=-2h"), m_viewer, &body), 400);
        QVERIFY(body.contains("query_syntax"));

        // Issue 15, finding 7: a message that a spreadsheet would run comes out as text.
        IDL_VERIFY_OK(writeLikeWriter(
            *m_db, {makeEvent(nowNs() - 5 * kMin, "csvinject", Level::Error,
                              "=HYPERLINK(\"http://evil.example\",\"click\")", "-2+3")}));
        QCOMPARE(get(QStringLiteral("/api/v1/query?q=app:csvinject&from=-1h&format=csv"), m_viewer,
                     &body),
                 200);
        QVERIFY2(body.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
                 body.constData());
        QVERIFY2(body.contains(",\"'-2+3\","), body.constData());
        QVERIFY(!body.contains(",=HYPERLINK"));
    }

    void limitsAndTimeouts()
    {
        idl::gateway::GatewayOptions o = ownGatewayOptions();
        o.idleTimeout = std::chrono::milliseconds(1500);
        o.authTimeout = std::chrono::milliseconds(400);
        o.revalidateInterval = std::chrono::milliseconds(300);
        o.queryTimeout = std::chrono::milliseconds(500);
        o.ratePerSecond = 2;
        o.rateBurst = 5;
        idl::gateway::Gateway gw(o);
        IDL_VERIFY_OK(gw.start());
        // Per-token rate limit (shared by the token's connections), with a retry hint.
        const std::string limited = token("limited", Role::Viewer);
        Client r1, r2;
        QVERIFY(r1.open(gw.wsPort()));
        QVERIFY(r2.open(gw.wsPort()));
        QVERIFY(r1.authenticate(limited));
        QVERIFY(r2.authenticate(limited));
        int okCount = 0;
        QJsonObject limitedReply;
        for (int i = 0; i < 8; ++i) {
            QJsonObject rep =
                (i % 2 ? r1 : r2).call({{"type", "saved.list"}, {"id", QString::number(i)}});
            if (rep["type"].toString() == QLatin1String("saved.list.result"))
                ++okCount;
            else
                limitedReply = rep;
        }
        QCOMPARE(okCount, 5);
        QCOMPARE(limitedReply["code"].toString(), QStringLiteral("rate_limited"));
        QVERIFY(limitedReply["retry_after_ms"].toInt() > 0);

        // Statement timeout: a query stuck behind a lock ends with "timeout".
        {
            auto locker = idl::pg::Connection::connect(m_dsn);
            IDL_VERIFY_OK(locker);
            IDL_VERIFY_OK(locker->exec("BEGIN; LOCK TABLE logs IN ACCESS EXCLUSIVE MODE"));
            Client q;
            QVERIFY(q.open(gw.wsPort()));
            QVERIFY(q.authenticate(m_viewer));
            QJsonObject rep = q.call({{"type", "query"}, {"id", "q"}, {"from", "-2h"}});
            QCOMPARE(rep["code"].toString(), QStringLiteral("timeout"));
            IDL_VERIFY_OK(locker->exec("ROLLBACK"));
        }

        // A revoked token's open connection is closed.
        const std::string doomed = token("doomed", Role::Viewer);
        Client dc;
        QVERIFY(dc.open(gw.wsPort()));
        QVERIFY(dc.authenticate(doomed));
        IDL_VERIFY_OK(idl::gateway::tokens::revoke(*m_db, doomed.substr(4, 12)));
        QVERIFY(
            waitUntil([&] { return dc.ws.state() == QAbstractSocket::UnconnectedState; }, 5000));
        QCOMPARE(int(dc.ws.closeCode()), 1008);

        Client idle;
        QVERIFY(idle.open(gw.wsPort()));
        QVERIFY(idle.authenticate(m_viewer));
        QVERIFY(
            waitUntil([&] { return idle.ws.state() == QAbstractSocket::UnconnectedState; }, 5000));
        QCOMPARE(int(idle.ws.closeCode()), 4001);
        Client anon;
        QVERIFY(anon.open(gw.wsPort()));
        QVERIFY(
            waitUntil([&] { return anon.ws.state() == QAbstractSocket::UnconnectedState; }, 5000));
        QCOMPARE(int(anon.ws.closeCode()), 4002);
    }

    // idl-admin tokens create | list | revoke, end to end through the WebSocket.
    void adminTokensCommand()
    {
        const QString bin = qEnvironmentVariable("IDL_BIN_DIR") + QStringLiteral("/idl-admin");
        if (!QFile::exists(bin))
            QSKIP("idl-admin not built");
        auto run = [&](QStringList args) {
            QProcess p;
            p.start(bin,
                    QStringList{QStringLiteral("--pg.dsn"), QString::fromStdString(m_dsn)} + args);
            p.waitForFinished(30000);
            return std::make_pair(p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()));
        };
        auto [rc, out] = run({"tokens", "create", "--name", "cli", "--role", "editor", "--apps",
                              "checkout,billing"});
        QCOMPARE(rc, 0);
        const QString tok = out.trimmed().split(QLatin1Char('\n')).last();
        Client c;
        QVERIFY(c.open(m_gw->wsPort()));
        QJsonObject h =
            c.call({{"type", "hello"}, {"id", "h"}, {"versions", QJsonArray{1}}, {"token", tok}});
        QCOMPARE(h["role"].toString(), QStringLiteral("editor"));
        QCOMPARE(h["apps"].toArray(), (QJsonArray{"checkout", "billing"}));
        auto [rc2, list] = run({"tokens", "list"});
        QCOMPARE(rc2, 0);
        const QString prefix = tok.mid(4, 12);
        QVERIFY(list.contains(prefix));
        QVERIFY(!list.contains(tok)); // the secret is never shown again
        QCOMPARE(run({"tokens", "revoke", prefix}).first, 0);
        Client d;
        QVERIFY(d.open(m_gw->wsPort()));
        QVERIFY(!d.authenticate(tok.toStdString()));
        QCOMPARE(run({"tokens", "revoke", prefix}).first, 1);
    }

    // tls.cert + tls.key: the WebSocket speaks wss:// only.
    void secureWebSocket()
    {
        QTemporaryDir dir;
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                       "-days", "1", "-keyout", dir.filePath("key.pem"), "-out",
                       dir.filePath("cert.pem")});
        if (!openssl.waitForFinished(30000) || openssl.exitCode() != 0)
            QSKIP("openssl not available");
        idl::gateway::GatewayOptions o = ownGatewayOptions();
        o.tlsCertFile = dir.filePath("cert.pem").toStdString();
        o.tlsKeyFile = dir.filePath("key.pem").toStdString();
        idl::gateway::Gateway gw(o);
        IDL_VERIFY_OK(gw.start());
        Client plain;
        plain.ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(gw.wsPort())));
        QVERIFY(
            !waitUntil([&] { return plain.ws.state() == QAbstractSocket::ConnectedState; }, 2000));
        Client tls;
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.setCaCertificates(QSslCertificate::fromPath(dir.filePath("cert.pem")));
        tls.ws.setSslConfiguration(ssl);
        QObject::connect(&tls.ws, &QWebSocket::sslErrors, &tls.ws, [&](const QList<QSslError> &) {
            tls.ws.ignoreSslErrors(); // self-signed for 127.0.0.1 (CN=localhost)
        });
        tls.ws.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/ws").arg(gw.wsPort())));
        QVERIFY(waitUntil([&] { return tls.ws.state() == QAbstractSocket::ConnectedState; }));
        QVERIFY(tls.authenticate(m_viewer));
        auto rows = Client::rows(tls.stream(
            {{"type", "query"}, {"id", "q"}, {"q", "app:billing"}, {"from", "-2h"}, {"limit", 5}}));
        QCOMPARE(rows.size(), size_t(5));
    }

    // Issue 13: a reply of several TCP segments leaves at once. Against the real idl-gateway
    // in its own process (the test is only its client, over loopback), each 100-row page of
    // ~40 KB must arrive within its own elapsed_ms + 5 ms; without TCP_NODELAY the last
    // segment waited for the client's delayed ACK (~40 ms on Linux) on every page.
    void largePageArrivesAtOnce()
    {
        // 200 rows with ~400-byte messages, in their own app so no other test sees them.
        std::vector<idl::LogEvent> big;
        const std::int64_t t0 = nowNs() - 30 * kMin;
        for (int i = 0; i < 200; ++i)
            big.push_back(makeEvent(t0 + i * 1'000'000'000LL, "nagle", Level::Info,
                                    "page row " + std::to_string(i) + " " + std::string(380, 'x')));
        IDL_VERIFY_OK(writeLikeWriter(*m_db, big));

        GatewayProcess gwp; // killed when the test ends, also when a check fails
        const int port = gwp.start({{"IDL_PG_DSN", QString::fromStdString(m_dsn)},
                                    {"IDL_KAFKA_BOOTSTRAP", QString::fromStdString(m_bootstrap)},
                                    {"IDL_KAFKA_TOPIC", QString::fromStdString(m_topic)}});
        QVERIFY2(port > 0, gwp.log.constData());
        QProcess &gw = gwp.process;

        Client c;
        QVERIFY(c.open(static_cast<quint16>(port)));
        QVERIFY(c.authenticate(m_admin));
        QElapsedTimer clock;
        clock.start();
        qint64 doneAt = -1;
        QObject::connect(&c.ws, &QWebSocket::textMessageReceived, &c.ws, [&](const QString &t) {
            if (t.contains(QLatin1String("\"done\"")))
                doneAt = clock.nsecsElapsed();
        });
        std::vector<double> overMs; // arrival - elapsed_ms, per page
        qint64 pageBytes = 0;
        for (int i = 0; i < 15; ++i) {
            const QString id = QString("n%1").arg(i);
            doneAt = -1;
            const qint64 sent = clock.nsecsElapsed();
            auto msgs = c.stream({{"type", "query"},
                                  {"id", id},
                                  {"q", "app:nagle"},
                                  {"from", "-2h"},
                                  {"limit", 100}});
            QCOMPARE(msgs.back()["type"].toString(), QStringLiteral("done"));
            QCOMPARE(msgs.back()["count"].toInt(), 100);
            QVERIFY(doneAt > sent);
            if (i == 0) {
                for (const auto &m : msgs)
                    pageBytes += QJsonDocument(m).toJson(QJsonDocument::Compact).size();
                continue; // the first page warms the connection pool and the plan cache
            }
            const double arrivalMs = double(doneAt - sent) / 1e6;
            overMs.push_back(arrivalMs - msgs.back()["elapsed_ms"].toDouble());
        }
        std::sort(overMs.begin(), overMs.end());
        const double median = overMs[overMs.size() / 2];
        qInfo("100-row page: %lld bytes; arrival - elapsed_ms: min %.2f, median %.2f, max %.2f ms",
              pageBytes, overMs.front(), median, overMs.back());
        QVERIFY(pageBytes > 30000); // several TCP segments
        // The median page must arrive within its own server time + 5 ms (a Nagle stall adds
        // ~40 ms to every page, so the median cannot hide it; one slow page on a busy machine
        // may).
        QVERIFY2(median < 5.0, qPrintable(QString("median %1 ms over elapsed_ms").arg(median)));
        gw.terminate();
        QVERIFY(gw.waitForFinished(15000));
        QCOMPARE(gw.exitCode(), 0);
    }

    // Issue 15, finding 1: a viewer that never reads its exports must not freeze the gateway.
    // Four exports stall on one connection whose client reads nothing (a raw TCP socket that
    // did the WebSocket handshake and then stops reading), which used to keep all four pooled
    // connections (db.pool = 4) while waiting for the client, so logins, queries and HTTP
    // queries of everyone else waited forever. Now a stalled job gives its connection back and
    // token checks have their own connections.
    void stalledExportsDoNotFreezeTheGateway()
    {
        // 20,000 rows of ~1 KB in their own app: each export produces ~20 MB.
        const std::int64_t t0 = nowNs() - 40 * kMin;
        IDL_VERIFY_OK(
            m_db->query("SELECT idl_ensure_log_partition($1::bigint)", {std::to_string(t0)}));
        IDL_VERIFY_OK(m_db->query(
            "INSERT INTO logs (id, ts, received, level, app, host, message, attrs) "
            "SELECT gen_random_uuid(), $1::bigint + g * 1000, $1::bigint + g * 1000, 3, 'stall', "
            "'web-1', 'stalled export row ' || g || ' ' || repeat('y', 1000), '{}'::jsonb "
            "FROM generate_series(1, 20000) g",
            {std::to_string(t0)}));

        StalledClient stalled; // reads nothing after the handshake: the window closes
        QVERIFY(stalled.open(m_gw->wsPort()));
        QTcpSocket &raw = stalled.sock;
        stalled.send({{"type", "hello"},
                      {"id", "h"},
                      {"versions", QJsonArray{1}},
                      {"token", QString::fromStdString(m_viewer)}});
        for (int i = 0; i < 4; ++i)
            stalled.send({{"type", "export"},
                          {"id", QString("e%1").arg(i)},
                          {"q", "app:stall"},
                          {"from", "-2h"}});
        // Let the four exports start and fill every buffer up to the stalled client.
        waitUntil([] { return false; }, 2000);

        // Everyone else still logs in and queries, over WebSocket and HTTP.
        QElapsedTimer t;
        t.start();
        Client c;
        QVERIFY(c.open(m_gw->wsPort()));
        QJsonObject h = c.call({{"type", "hello"},
                                {"id", "h2"},
                                {"versions", QJsonArray{1}},
                                {"token", QString::fromStdString(m_admin)}},
                               4000);
        QVERIFY2(h["authenticated"].toBool(), "login froze behind four stalled exports");
        auto msgs = c.stream({{"type", "query"},
                              {"id", "q2"},
                              {"q", "app:checkout"},
                              {"from", "-2h"},
                              {"limit", 10}},
                             6000);
        QVERIFY(!msgs.empty());
        QCOMPARE(msgs.back()["type"].toString(), QStringLiteral("done"));
        QNetworkAccessManager nam;
        QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1/api/v1/query?q=app:billing"
                                                "&from=-2h&limit=3")
                                     .arg(m_gw->httpPort())));
        req.setRawHeader("Authorization", "Bearer " + QByteArray::fromStdString(m_viewer));
        QNetworkReply *r = nam.get(req);
        QVERIFY(waitUntil([&] { return r->isFinished(); }, 8000));
        QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        r->deleteLater();
        qInfo("login + query + HTTP query beside four stalled exports: %lld ms", t.elapsed());
        raw.abort();
        IDL_VERIFY_OK(m_db->query("DELETE FROM logs WHERE app = 'stall'"));
    }

    // Issue 15, finding 5 (part): sessions are capped per token and in total, live tails in
    // total, so unauthenticated or one token's load cannot take every connection.
    void sessionAndTailCapsHold()
    {
        idl::gateway::GatewayOptions o = ownGatewayOptions();
        o.maxSessions = 3;
        o.maxSessionsPerToken = 2;
        o.maxTailsTotal = 2;
        idl::gateway::Gateway gw(o);
        IDL_VERIFY_OK(gw.start());
        Client a1, a2, a3, b1, extra;
        QVERIFY(a1.open(gw.wsPort()) && a1.authenticate(m_viewer));
        QVERIFY(a2.open(gw.wsPort()) && a2.authenticate(m_viewer));
        QVERIFY(a3.open(gw.wsPort()));
        QVERIFY(!a3.authenticate(m_viewer)); // a third session of the same token
        QVERIFY(waitUntil([&] { return a3.ws.state() == QAbstractSocket::UnconnectedState; }));
        QCOMPARE(int(a3.ws.closeCode()), 4004);
        QVERIFY(b1.open(gw.wsPort()) && b1.authenticate(m_editor)); // another token: fine
        // The gateway is full (3 sessions): the next connection is closed at once.
        extra.ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(gw.wsPort())));
        QVERIFY(waitUntil([&] { return int(extra.ws.closeCode()) == 4004; }));
        // Two tails on the gateway in all: a third one (another connection) is refused.
        for (const char *id : {"t1", "t2"}) {
            a1.send({{"type", "tail.start"}, {"id", id}, {"q", "app:none"}});
            QCOMPARE(a1.next(id)["type"].toString(), QStringLiteral("tail.started"));
        }
        const QJsonObject refused = b1.call({{"type", "tail.start"}, {"id", "t3"}});
        QCOMPARE(refused["code"].toString(), QStringLiteral("overloaded"));
        QVERIFY(refused["message"].toString().contains(QStringLiteral("this gateway")));
        // Stopping one makes room.
        QCOMPARE(
            a1.call({{"type", "tail.stop"}, {"id", "s1"}, {"target", "t1"}})["type"].toString(),
            QStringLiteral("ok"));
        b1.send({{"type", "tail.start"}, {"id", "t4"}, {"q", "app:none"}});
        QCOMPARE(b1.next("t4")["type"].toString(), QStringLiteral("tail.started"));
        gw.stop();
    }

    // Text search on today's open partition (readPage: bounded looks at the newest 40,000 and
    // 400,000 rows, then full reads): the same rows in the same order as one ORDER BY over
    // every row, past the looks, on rows tied on ts at the edge of the first, across the start
    // of the day, with cursors, exactly-limit and fewer-than-limit pages, in both orders.
    void textSearchOnTheOpenPartition()
    {
        constexpr std::int64_t kDay = 86'400'000'000'000LL;
        const std::int64_t open = nowNs() - nowNs() % kDay;
        for (const std::int64_t t : {open - 1, open})
            IDL_VERIFY_OK(
                m_db->query("SELECT idl_ensure_log_partition($1::bigint)", {std::to_string(t)}));
        // Today: 60,002 rows in the first 15 ms of the day, four per microsecond, ids rising with
        // g: on a shared ts the last inserted ranks first in the page, while the walk of the ts
        // b-tree meets the first inserted first.
        //   alpha:   the newest 99 rows and the four rows g 20000-20003, which share the ts of
        //            the 40,000th newest row: the first look holds them all (WITH TIES; a plain
        //            LIMIT holds g 20000 and 20001 only), so its page ends with g 20003.
        //   beta:    exactly 100 rows, all older than the first look (none in it).
        //   gamma:   30 rows older than the first look, and 80 yesterday.
        //   delta:   20 rows in the first look, 200 older ones: the second look has the page.
        //   epsilon: 2 rows in the first look, 100 older ones: too rare for a second look.
        IDL_VERIFY_OK(m_db->query(
            "INSERT INTO logs (id, ts, received, level, app, host, message, attrs) "
            "SELECT lpad(to_hex(g), 32, '0')::uuid, $1::bigint + (g / 4) * 1000, "
            "$1::bigint, 2, 'opentext', 'web-1', 'row ' || g || concat("
            "CASE WHEN g >= 59903 OR g BETWEEN 20000 AND 20003 THEN ' alpha' END, "
            "CASE WHEN g < 9700 AND g % 97 = 5 THEN ' beta' END, "
            "CASE WHEN g < 9000 AND g % 300 = 7 THEN ' gamma' END, "
            "CASE WHEN (g >= 40000 AND g % 1000 = 500) OR (g < 8000 AND g % 40 = 9) "
            "THEN ' delta' END, "
            "CASE WHEN g IN (45000, 46000) OR (g < 8000 AND g % 80 = 17) THEN ' epsilon' END), "
            "'{}'::jsonb FROM generate_series(0, 60001) g",
            {std::to_string(open)}));
        IDL_VERIFY_OK(m_db->query(
            "INSERT INTO logs (id, ts, received, level, app, host, message, attrs) "
            "SELECT gen_random_uuid(), $1::bigint - k * 1000, $1::bigint, 2, 'opentext', "
            "'web-1', 'yesterday ' || k || ' gamma', '{}'::jsonb "
            "FROM generate_series(1, 80) k",
            {std::to_string(open)}));
        IDL_VERIFY_OK(m_db->exec("ANALYZE logs"));

        Client c;
        QVERIFY(c.open(m_gw->wsPort()));
        QVERIFY(c.authenticate(m_viewer));
        // Up to the last of these rows: newer rows of other tests stay out of the look.
        const QString from = QString::number(open - 60 * kMin);
        const QString to = QString::number(open + 15'000'001);
        int seq = 0;
        // Every page of `word` in `order`, `limit` rows each, against the whole ORDER BY.
        const auto check = [&](const char *word, const char *order, int limit,
                               const std::vector<int> &sizes) -> QString {
            const bool asc = std::string_view(order) == "asc";
            auto all =
                m_db->query(std::string("SELECT id FROM logs WHERE app = 'opentext' AND "
                                        "message LIKE '% ") +
                            word + "%' ORDER BY ts " + (asc ? "ASC, id ASC" : "DESC, id DESC"));
            if (!all)
                return QStringLiteral("reference: ") + QString::fromStdString(all.error().message);
            QStringList expected, got;
            for (int r = 0; r < all->rowCount(); ++r)
                expected << QString::fromUtf8(all->value(r, 0).data(), all->value(r, 0).size());
            std::vector<int> pageSizes;
            QString cursor;
            do {
                QJsonObject req{{"type", "query"},
                                {"id", QString::number(++seq)},
                                {"q", QString("app:opentext " + QString::fromLatin1(word))},
                                {"from", from},
                                {"to", to},
                                {"order", order},
                                {"limit", limit}};
                if (!cursor.isEmpty())
                    req["cursor"] = cursor;
                const auto msgs = c.stream(req, 60000);
                if (msgs.empty() || msgs.back()["type"].toString() != QLatin1String("done"))
                    return QStringLiteral("no done for ") + QString::fromLatin1(word);
                const auto rows = Client::rows(msgs);
                for (const auto &r : rows)
                    got << r["id"].toString();
                pageSizes.push_back(static_cast<int>(rows.size()));
                cursor = msgs.back()["cursor"].toString();
            } while (!cursor.isEmpty() && pageSizes.size() < 10);
            if (got != expected)
                return QString::fromLatin1(word) + " " + order + ": got " + got.join(',') +
                       "\nexpected " + expected.join(',');
            if (pageSizes != sizes) {
                QStringList s;
                for (int n : pageSizes)
                    s << QString::number(n);
                return QString::fromLatin1(word) + " " + order + ": pages of " + s.join(',');
            }
            return QString();
        };
        const std::vector<std::tuple<const char *, const char *, int, std::vector<int>>> cases = {
            {"alpha", "desc", 100, {100, 3}},       {"alpha", "asc", 100, {100, 3}},
            {"beta", "desc", 100, {100}},           {"beta", "desc", 99, {99, 1}},
            {"gamma", "desc", 100, {100, 10}},      {"gamma", "asc", 50, {50, 50, 10}},
            {"delta", "desc", 100, {100, 100, 20}}, {"epsilon", "desc", 100, {100, 2}},
        };
        for (const auto &[word, order, limit, sizes] : cases) {
            const QString failure = check(word, order, limit, sizes);
            QVERIFY2(failure.isEmpty(), qPrintable(failure));
        }
        // The look's page on alpha ends with the first of the four rows tied at its edge.
        auto last = m_db->query("SELECT message FROM logs WHERE app = 'opentext' AND message LIKE "
                                "'% alpha%' ORDER BY ts DESC, id DESC OFFSET 99 LIMIT 1");
        IDL_VERIFY_OK(last);
        QCOMPARE(std::string(last->value(0, 0)), std::string("row 20003 alpha"));
        IDL_VERIFY_OK(m_db->query("DELETE FROM logs WHERE app = 'opentext'"));
    }

    void cleanupTestCase()
    {
        m_producer.reset();
        if (m_gw)
            m_gw->stop();
        m_gw.reset();
    }
};

QTEST_GUILESS_MAIN(GatewayIntegration)
#include "test_gateway_integration.moc"
