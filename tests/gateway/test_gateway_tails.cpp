// Live tails at scale (issue 15, findings 2 and 5), against a private PostgreSQL and a local
// Kafka broker (tests/support), over real WebSockets:
// - many tails with different filters and app scopes get exactly their events;
// - tails started with `since` (history from PostgreSQL in short transactions) or `resume`
//   (Kafka positions) while events stream in get every event exactly once across the
//   hand-off from their catch-up reader to the gateway's shared consumer;
// - the gateway's thread count stays flat as tails are added (one shared consumer, not
//   librdkafka's threads per tail);
// - a tail whose client stops reading during a long history does not stall ingestion when
//   the writer's retention runs (creating and detaching partitions of `logs`).
#undef QT_NO_CAST_FROM_ASCII
#include "gateway_test_util.h"
#include "idl/gateway/gateway.h"
#include "idl/gateway/tokens.h"
#include "idl/kafka/producer.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/writer/retention.h"
#include "idl_test_servers.h"

#include <QDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <random>
#include <set>
#include <thread>

using namespace gwtest;
using idl::Level;
using idl::gateway::Role;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kDay = 86400 * kSecond;

int threadCount()
{
    return static_cast<int>(QDir(QStringLiteral("/proc/self/task"))
                                .entryList(QDir::Dirs | QDir::NoDotAndDotDot)
                                .size());
}

// Collects the events of tail `id` from a client's inbox: ids with their delivery counts.
struct TailLog
{
    std::map<std::string, int> got;
    QJsonObject positions;
    bool started = false;
    QString error;
    int historyFramesAfterLive = 0;
    bool sawLive = false;
    void pump(Client &c, const QString &id)
    {
        for (auto it = c.inbox.begin(); it != c.inbox.end();) {
            if ((*it)["id"].toString() != id) {
                ++it;
                continue;
            }
            const QString type = (*it)["type"].toString();
            if (type == QLatin1String("tail.started")) {
                started = true;
            } else if (type == QLatin1String("tail.events")) {
                const bool live = (*it)["phase"].toString() == QLatin1String("live");
                if (live)
                    sawLive = true;
                else if (sawLive)
                    ++historyFramesAfterLive;
                for (const auto &ev : (*it)["events"].toArray())
                    ++got[ev.toObject()["id"].toString().toStdString()];
                positions = (*it)["positions"].toObject();
            } else if (type == QLatin1String("error")) {
                error = (*it)["message"].toString();
            }
            it = c.inbox.erase(it);
        }
    }
};

} // namespace

class GatewayTails : public QObject
{
    Q_OBJECT

    std::string m_dsn;
    std::string m_bootstrap;
    std::optional<idl::pg::Connection> m_db;
    std::unique_ptr<idl::kafka::Producer> m_producer;
    std::string m_viewer, m_scoped;

    idl::gateway::GatewayOptions options(const std::string &topic) const
    {
        idl::gateway::GatewayOptions o;
        o.wsPort = 0;
        o.httpPort = 0;
        o.pgDsn = m_dsn;
        o.kafkaBootstrap = m_bootstrap;
        o.kafkaTopic = topic;
        o.ratePerSecond = 100000;
        o.rateBurst = 100000;
        o.maxSessions = 2000;
        o.maxSessionsPerToken = 2000;
        o.maxTailsTotal = 2000;
        return o;
    }

    // A topic of its own for a test, and a producer that tracks the offsets it assigns.
    struct Topic
    {
        std::string name;
        int partitions = 0;
        std::map<int, std::int64_t> next; // per partition: offsets assigned so far
        std::int64_t count = 0;
    };
    Topic topic(const std::string &prefix, int partitions)
    {
        auto t = idl::testsupport::freshTopic(prefix, partitions);
        if (!t)
            return {};
        Topic out{*t, partitions, {}, 0};
        for (int p = 0; p < partitions; ++p)
            out.next[p] = 0;
        return out;
    }
    // Produces round robin; returns (partition, offset) of each event. A fresh topic written
    // by one non-transactional producer has consecutive offsets.
    std::vector<std::pair<int, std::int64_t>> produce(Topic &t,
                                                      const std::vector<idl::LogEvent> &events)
    {
        std::vector<std::pair<int, std::int64_t>> where;
        for (const auto &e : events) {
            const int p = static_cast<int>(t.count++ % t.partitions);
            const std::string v = idl::encodeEvent(e);
            if (!m_producer->produce(t.name, e.app, v, {}, {}, p).ok())
                return {};
            where.emplace_back(p, t.next[p]++);
        }
        if (!m_producer->flush(std::chrono::seconds(30)).ok())
            return {};
        return where;
    }

    static QJsonObject positionsJson(const std::map<int, std::int64_t> &m)
    {
        QJsonObject o;
        for (const auto &[p, off] : m)
            o.insert(QString::number(p), qint64(off));
        return o;
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto dsn = idl::testsupport::freshDatabase("gwtails");
        IDL_VERIFY_OK(dsn);
        m_dsn = *dsn;
        auto kafka = idl::testsupport::kafka();
        IDL_VERIFY_OK(kafka);
        m_bootstrap = (*kafka)->bootstrap().toStdString();
        {
            // The gateway applies the migrations; a first one here so tokens can be made.
            idl::gateway::GatewayOptions o = options("unused");
            idl::gateway::Gateway gw(o);
            IDL_VERIFY_OK(gw.start());
            gw.stop();
        }
        auto db = idl::pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(db);
        m_db.emplace(std::move(db).value());
        auto v = idl::gateway::tokens::create(*m_db, "vera", Role::Viewer, {});
        IDL_VERIFY_OK(v);
        m_viewer = v->token;
        auto s = idl::gateway::tokens::create(*m_db, "scoped", Role::Viewer, {"fa"});
        IDL_VERIFY_OK(s);
        m_scoped = s->token;
        idl::kafka::ProducerOptions po;
        po.config = {{"bootstrap.servers", m_bootstrap}, {"linger.ms", "1"}};
        auto p = idl::kafka::Producer::create(std::move(po));
        IDL_VERIFY_OK(p);
        m_producer = std::move(p).value();
    }

    // Forty tails with ten different filters and two app scopes, on one gateway: each gets
    // exactly the events its filter and scope select, each once.
    void tailsGetExactlyTheirEvents()
    {
        Topic t = topic("fanout", 3);
        QVERIFY(!t.name.empty());
        idl::gateway::Gateway gw(options(t.name));
        IDL_VERIFY_OK(gw.start());

        struct Spec
        {
            bool scoped;
            QString q;
            std::function<bool(const idl::LogEvent &)> wants;
        };
        const std::vector<Spec> specs = {
            {false, "app:fa", [](const auto &e) { return e.app == "fa"; }},
            {false, "app:fb level:>=warn",
             [](const auto &e) { return e.app == "fb" && e.level >= Level::Warn; }},
            {false, "level:error", [](const auto &e) { return e.level == Level::Error; }},
            {false, "host:h2", [](const auto &e) { return e.host == "h2"; }},
            {false, "app:fc -host:h0",
             [](const auto &e) { return e.app == "fc" && e.host != "h0"; }},
            {false, "", [](const auto &) { return true; }},
            {true, "", [](const auto &e) { return e.app == "fa"; }},
            {true, "app:fb", [](const auto &) { return false; }},
            {true, "level:>=warn",
             [](const auto &e) { return e.app == "fa" && e.level >= Level::Warn; }},
            {false, "app:nothing", [](const auto &) { return false; }},
        };
        constexpr int kCopies = 4; // 40 tails on 20 connections
        std::vector<std::unique_ptr<Client>> clients;
        struct Tail
        {
            Client *client;
            QString id;
            const Spec *spec;
            TailLog log;
        };
        std::vector<Tail> tails;
        for (int c = 0; c < kCopies; ++c) {
            for (std::size_t s = 0; s < specs.size(); s += 2) {
                auto cl = std::make_unique<Client>();
                QVERIFY(cl->open(gw.wsPort()));
                QVERIFY(cl->authenticate(specs[s].scoped ? m_scoped : m_viewer));
                // The two specs of a connection share its token's scope.
                const std::size_t s2 = specs[s + 1].scoped == specs[s].scoped ? s + 1 : s;
                for (std::size_t k : {s, s2}) {
                    const QString id = QStringLiteral("t%1_%2").arg(c).arg(tails.size());
                    QJsonObject req{{"type", "tail.start"}, {"id", id}};
                    if (!specs[k].q.isEmpty())
                        req.insert("q", specs[k].q);
                    cl->send(req);
                    tails.push_back(Tail{cl.get(), id, &specs[k], {}});
                }
                clients.push_back(std::move(cl));
            }
        }
        QVERIFY(waitUntil([&] {
            for (auto &tl : tails)
                tl.log.pump(*tl.client, tl.id);
            return std::all_of(tails.begin(), tails.end(),
                               [](const Tail &x) { return x.log.started; });
        }));

        std::vector<idl::LogEvent> events;
        const char *apps[] = {"fa", "fb", "fc"};
        for (int i = 0; i < 600; ++i)
            events.push_back(makeEvent(nowNs(), apps[i % 3], static_cast<Level>(i % 6),
                                       "fan " + std::to_string(i),
                                       "h" + std::to_string((i / 3) % 3)));
        QVERIFY(!produce(t, events).empty());
        std::vector<std::set<std::string>> expected;
        for (auto &tl : tails) {
            std::set<std::string> want;
            for (const auto &e : events)
                if (tl.spec->wants(e))
                    want.insert(e.id);
            expected.push_back(std::move(want));
        }
        QVERIFY(waitUntil(
            [&] {
                bool all = true;
                for (std::size_t i = 0; i < tails.size(); ++i) {
                    tails[i].log.pump(*tails[i].client, tails[i].id);
                    all = all && tails[i].log.got.size() >= expected[i].size();
                }
                return all;
            },
            30000));
        QTest::qWait(500); // anything extra would arrive now
        for (std::size_t i = 0; i < tails.size(); ++i) {
            Tail &tl = tails[i];
            tl.log.pump(*tl.client, tl.id);
            QVERIFY2(tl.log.error.isEmpty(), qPrintable(tl.log.error));
            QVERIFY2(tl.log.got.size() == expected[i].size(),
                     qPrintable(QStringLiteral("%1 (%2): %3 events, expected %4")
                                    .arg(tl.id, tl.spec->q)
                                    .arg(tl.log.got.size())
                                    .arg(expected[i].size())));
            for (const auto &[id, n] : tl.log.got) {
                QVERIFY2(expected[i].count(id), id.c_str());
                QCOMPARE(n, 1);
            }
        }
        gw.stop();
    }

    // The shared consumer does not decode events whose app (the topic's key) no attached
    // tail can want, and the tails still get exactly their events.
    void eventsNoTailCanWantAreNotDecoded()
    {
        Topic t = topic("undecoded", 2);
        QVERIFY(!t.name.empty());
        idl::gateway::Gateway gw(options(t.name));
        IDL_VERIFY_OK(gw.start());
        auto &undecoded =
            idl::metrics::Registry::global().counter("idl_gateway_tail_undecoded_total", "");
        Client a, b;
        QVERIFY(a.open(gw.wsPort()) && a.authenticate(m_viewer));
        QVERIFY(b.open(gw.wsPort()) && b.authenticate(m_scoped)); // scope: app fa
        a.send(QJsonObject{{"type", "tail.start"}, {"id", "a"}, {"q", "app:fa OR app:fb"}});
        b.send(QJsonObject{{"type", "tail.start"}, {"id", "b"}, {"q", "level:error"}});
        TailLog la, lb;
        QVERIFY(waitUntil([&] {
            la.pump(a, "a");
            lb.pump(b, "b");
            return la.started && lb.started;
        }));
        std::vector<idl::LogEvent> events;
        const char *apps[] = {"fa", "fb", "fc", "fd"};
        for (int i = 0; i < 400; ++i)
            events.push_back(makeEvent(nowNs(), apps[i % 4], static_cast<Level>(i % 6),
                                       "skip " + std::to_string(i), "h0"));
        const auto before = undecoded.value();
        QVERIFY(!produce(t, events).empty());
        std::set<std::string> wantA, wantB;
        for (const auto &e : events) {
            if (e.app == "fa" || e.app == "fb")
                wantA.insert(e.id);
            if (e.app == "fa" && e.level == Level::Error)
                wantB.insert(e.id);
        }
        QVERIFY(waitUntil(
            [&] {
                la.pump(a, "a");
                lb.pump(b, "b");
                return la.got.size() >= wantA.size() && lb.got.size() >= wantB.size() &&
                       undecoded.value() - before >= 200;
            },
            30000));
        QTest::qWait(300);
        la.pump(a, "a");
        lb.pump(b, "b");
        QVERIFY2(la.error.isEmpty() && lb.error.isEmpty(), qPrintable(la.error + lb.error));
        QCOMPARE(la.got.size(), wantA.size());
        QCOMPARE(lb.got.size(), wantB.size());
        for (const auto &[id, n] : la.got)
            QVERIFY2(wantA.count(id) && n == 1, id.c_str());
        for (const auto &[id, n] : lb.got)
            QVERIFY2(wantB.count(id) && n == 1, id.c_str());
        // fc and fd: 200 events nobody can want, never decoded.
        QCOMPARE(undecoded.value() - before, std::uint64_t(200));
        gw.stop();
    }

    // Tails started with `since` (history from PostgreSQL, read in pages of 50 rows while the
    // "writer" stores more, some into time ranges the history has already passed) or with
    // `resume` (from Kafka positions, old and recent) while events stream in: every tail gets
    // every event it asked for exactly once across its catch-up and the hand-off to the
    // shared consumer.
    void sinceAndResumeUnderLoadAreExact()
    {
        Topic t = topic("handoff", 3);
        QVERIFY(!t.name.empty());
        idl::gateway::GatewayOptions o = options(t.name);
        o.tailHistoryPage = 50;
        idl::gateway::Gateway gw(o);
        IDL_VERIFY_OK(gw.start());

        const std::int64_t t0 = nowNs();
        std::mt19937_64 rng(15);
        struct Produced
        {
            std::string id;
            int partition;
            std::int64_t offset;
        };
        std::vector<Produced> all;
        // Produced but not stored yet, in order; the "writer" stores all but the newest batch.
        std::vector<std::pair<std::vector<idl::LogEvent>, std::map<int, std::int64_t>>> unstored;
        int batchNo = 0;
        auto step = [&](bool storeEverything) {
            std::vector<idl::LogEvent> batch;
            for (int i = 0; i < 20; ++i)
                batch.push_back(makeEvent(t0 - static_cast<std::int64_t>(rng() % 300) * kSecond,
                                          "ho", Level::Info,
                                          "b" + std::to_string(batchNo) + "." + std::to_string(i)));
            ++batchNo;
            auto where = produce(t, batch);
            QVERIFY(where.size() == batch.size());
            for (std::size_t i = 0; i < batch.size(); ++i)
                all.push_back({batch[i].id, where[i].first, where[i].second});
            unstored.emplace_back(std::move(batch), t.next);
            while (unstored.size() > (storeEverything ? 0u : 2u)) {
                IDL_VERIFY_OK(writeLikeWriter(*m_db, unstored.front().first, t.name,
                                              unstored.front().second));
                unstored.erase(unstored.begin());
            }
        };
        auto load = [&](int ms) {
            QElapsedTimer e;
            e.start();
            while (e.elapsed() < ms) {
                step(false);
                if (QTest::currentTestFailed())
                    return;
                QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
                QThread::msleep(5);
            }
        };

        auto &reg = idl::metrics::Registry::global();
        auto &late = reg.counter("idl_gateway_tail_late_history_total", "");
        auto &hubAhead = reg.counter("idl_gateway_tail_handoffs_total", "", {{"hub", "ahead"}});
        auto &hubLevel = reg.counter("idl_gateway_tail_handoffs_total", "", {{"hub", "level"}});
        const auto late0 = late.value(), ahead0 = hubAhead.value(), level0 = hubLevel.value();

        load(1500);
        QVERIFY(!QTest::currentTestFailed());
        const std::map<int, std::int64_t> early = t.next; // positions after the first 1.5 s

        struct Tail
        {
            std::unique_ptr<Client> client;
            std::optional<std::map<int, std::int64_t>> resume; // else since t0 - 1 h
            TailLog log;
        };
        std::vector<Tail> tails;
        auto startTail = [&](std::optional<std::map<int, std::int64_t>> resume) {
            Tail tl{std::make_unique<Client>(), resume, {}};
            QVERIFY(tl.client->open(gw.wsPort()));
            QVERIFY(tl.client->authenticate(m_viewer));
            QJsonObject req{{"type", "tail.start"}, {"id", "t"}, {"q", "app:ho"}};
            if (resume)
                req.insert("resume", QJsonObject{{"positions", positionsJson(*resume)}});
            else
                req.insert("since", QString::number(t0 - 3600 * kSecond));
            tl.client->send(req);
            tails.push_back(std::move(tl));
        };
        // Staggered starts while the load goes on: since, resume from the start of the topic,
        // from 1.5 s ago and from "now".
        for (int round = 0; round < 3; ++round) {
            startTail(std::nullopt);
            startTail(std::map<int, std::int64_t>{{0, 0}, {1, 0}, {2, 0}});
            startTail(early);
            startTail(t.next);
            load(400);
            QVERIFY(!QTest::currentTestFailed());
        }
        load(2000);
        QVERIFY(!QTest::currentTestFailed());
        step(true); // the writer catches up
        QVERIFY(!QTest::currentTestFailed());

        std::vector<std::set<std::string>> expected;
        for (auto &tl : tails) {
            std::set<std::string> want;
            for (const auto &p : all)
                if (!tl.resume || p.offset >= tl.resume->at(p.partition))
                    want.insert(p.id);
            expected.push_back(std::move(want));
        }
        QVERIFY(waitUntil(
            [&] {
                bool done = true;
                for (std::size_t i = 0; i < tails.size(); ++i) {
                    tails[i].log.pump(*tails[i].client, QStringLiteral("t"));
                    done = done && tails[i].log.got.size() >= expected[i].size();
                }
                return done;
            },
            60000));
        QTest::qWait(700);
        for (std::size_t i = 0; i < tails.size(); ++i) {
            Tail &tl = tails[i];
            tl.log.pump(*tl.client, QStringLiteral("t"));
            const QString what = tl.resume ? QStringLiteral("resume tail %1").arg(i)
                                           : QStringLiteral("since tail %1").arg(i);
            QVERIFY2(tl.log.error.isEmpty(), qPrintable(what + ": " + tl.log.error));
            int missing = 0, extra = 0, twice = 0;
            for (const auto &id : expected[i])
                missing += tl.log.got.count(id) ? 0 : 1;
            for (const auto &[id, n] : tl.log.got) {
                extra += expected[i].count(id) ? 0 : 1;
                twice += n > 1 ? 1 : 0;
            }
            QVERIFY2(missing == 0 && extra == 0 && twice == 0,
                     qPrintable(QStringLiteral("%1: %2 missing, %3 extra, %4 twice of %5")
                                    .arg(what)
                                    .arg(missing)
                                    .arg(extra)
                                    .arg(twice)
                                    .arg(expected[i].size())));
            QCOMPARE(tl.log.historyFramesAfterLive, 0);
            // The last positions are the end of the topic: a resume from them is exact.
            QCOMPARE(tl.log.positions, positionsJson(t.next));
        }
        qInfo("%zu tails, %zu events produced, every one delivered exactly once; late history "
              "rows %llu; hand-offs with the shared consumer ahead %llu, level %llu",
              tails.size(), all.size(), (unsigned long long)(late.value() - late0),
              (unsigned long long)(hubAhead.value() - ahead0),
              (unsigned long long)(hubLevel.value() - level0));
        // The paths this test is about were taken: the catch-up readers handed off while
        // the shared consumer was ahead of them.
        QVERIFY(hubAhead.value() > ahead0);
        gw.stop();
    }

    // Issue 15, finding 5: each tail used to run its own Kafka consumer and thread (five
    // threads per tail). 200 tails now add no thread to the gateway.
    void threadCountStaysFlat()
    {
        Topic t = topic("threads", 2);
        QVERIFY(!t.name.empty());
        idl::gateway::Gateway gw(options(t.name));
        IDL_VERIFY_OK(gw.start());
        Client first;
        QVERIFY(first.open(gw.wsPort()) && first.authenticate(m_viewer));
        first.send({{"type", "tail.start"}, {"id", "t"}, {"q", "app:th0"}});
        TailLog firstLog;
        QVERIFY(waitUntil([&] {
            firstLog.pump(first, "t");
            return firstLog.started;
        }));
        QTest::qWait(1000);
        const int before = threadCount();

        std::vector<std::unique_ptr<Client>> clients;
        std::vector<TailLog> logs(200);
        for (int c = 0; c < 100; ++c) {
            auto cl = std::make_unique<Client>();
            QVERIFY(cl->open(gw.wsPort()));
            QVERIFY(cl->authenticate(m_viewer));
            for (int k = 0; k < 2; ++k)
                cl->send({{"type", "tail.start"},
                          {"id", QStringLiteral("t%1").arg(k)},
                          {"q", QStringLiteral("app:th%1").arg((2 * c + k) % 10)}});
            clients.push_back(std::move(cl));
        }
        QVERIFY(waitUntil(
            [&] {
                bool all = true;
                for (int i = 0; i < 200; ++i) {
                    logs[i].pump(*clients[i / 2], QStringLiteral("t%1").arg(i % 2));
                    all = all && logs[i].started;
                }
                return all;
            },
            60000));
        std::vector<idl::LogEvent> events;
        for (int i = 0; i < 100; ++i)
            events.push_back(makeEvent(nowNs(), "th" + std::to_string(i % 10), Level::Info, "x"));
        QVERIFY(!produce(t, events).empty());
        QVERIFY(waitUntil(
            [&] {
                bool all = true;
                for (int i = 0; i < 200; ++i) {
                    logs[i].pump(*clients[i / 2], QStringLiteral("t%1").arg(i % 2));
                    all = all && logs[i].got.size() == 10;
                }
                return all;
            },
            30000));
        QTest::qWait(1000);
        const int after = threadCount();
        qInfo("threads of the test process (in-process gateway): %d with 1 tail, %d with 201",
              before, after);
        QVERIFY2(after - before < 20,
                 qPrintable(QStringLiteral("%1 threads more for 200 tails").arg(after - before)));
        gw.stop();
    }

    // Issue 15, finding 2: a tail whose client stops reading during a long history used to
    // keep its REPEATABLE READ transaction (and its locks on `logs`) open while it waited;
    // retention's partition work then queued behind it and every COPY into `logs` queued
    // behind retention. Now the history is read in short transactions, nothing waits for a
    // client inside one, and retention bounds its lock waits.
    void stalledTailDoesNotStallIngestion()
    {
        Topic t = topic("stall", 2);
        QVERIFY(!t.name.empty());
        idl::gateway::GatewayOptions o = options(t.name);
        o.queryTimeout = std::chrono::seconds(25);
        idl::gateway::Gateway gw(o);
        IDL_VERIFY_OK(gw.start());

        // 20,000 rows of ~1 KB of history, and one old day that retention will drop.
        const std::int64_t now = nowNs();
        const std::int64_t h0 = now - 3600 * kSecond;
        for (std::int64_t ts : {h0, now - 40 * kDay})
            IDL_VERIFY_OK(
                m_db->query("SELECT idl_ensure_log_partition($1::bigint)", {std::to_string(ts)}));
        IDL_VERIFY_OK(m_db->query(
            "INSERT INTO logs (id, ts, received, level, app, host, message, attrs) "
            "SELECT gen_random_uuid(), $1::bigint + g * 1000, $1::bigint + g * 1000, 3, "
            "'stallh', 'web-1', 'history row ' || g || ' ' || repeat('y', 1000), '{}'::jsonb "
            "FROM generate_series(1, 20000) g",
            {std::to_string(h0)}));
        IDL_VERIFY_OK(writeLikeWriter(
            *m_db, {makeEvent(now - 40 * kDay, "stallh", Level::Info, "forty days old")}));

        StalledClient stalled;
        QVERIFY(stalled.open(gw.wsPort()));
        stalled.send({{"type", "hello"},
                      {"id", "h"},
                      {"versions", QJsonArray{1}},
                      {"token", QString::fromStdString(m_viewer)}});
        stalled.send({{"type", "tail.start"}, {"id", "t"}, {"q", "app:stallh"}, {"since", "-2h"}});
        waitUntil([] { return false; }, 2500); // the history fills every buffer up to the client

        // Retention runs "five days later": it creates that day's partitions and drops the
        // forty-day-old one.
        std::atomic<bool> retentionDone{false};
        idl::Result<idl::writer::RetentionReport> report =
            idl::makeError(idl::ErrorCode::Internal, "not run");
        std::thread retention([&] {
            auto c = idl::pg::Connection::connect(m_dsn);
            if (!c)
                return;
            idl::writer::RetentionOptions ro; // defaults: 30 days, lock timeout 5 s
            report = idl::writer::runRetention(*c, ro, now + 5 * kDay);
            retentionDone = true;
        });
        QTest::qWait(700);

        // Meanwhile the writer stores a batch: it must not wait behind the stalled tail.
        auto w = idl::pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(w);
        IDL_VERIFY_OK(w->exec("SET lock_timeout = '4s'"));
        QElapsedTimer e;
        e.start();
        std::vector<idl::LogEvent> fresh;
        for (int i = 0; i < 10; ++i)
            fresh.push_back(makeEvent(now, "fresh", Level::Info, "stored beside retention"));
        auto stored = writeLikeWriter(*w, fresh);
        const qint64 ms = e.elapsed();
        qInfo("COPY into logs beside retention and a stalled tail: %lld ms (%s)", ms,
              stored ? "ok" : stored.error().message.c_str());
        const bool copyOk = stored.ok();
        if (!copyOk)
            (void)w->exec("ROLLBACK");
        // Unblock everything before checking, so a failure leaves nothing waiting.
        stalled.sock.abort();
        retention.join();
        QVERIFY2(copyOk, "ingestion waited behind retention and a stalled tail");
        QVERIFY(ms < 3000);
        QVERIFY(retentionDone);
        IDL_VERIFY_OK(report);
        QCOMPARE(report->partitionsDropped, 1);
        gw.stop();
    }

    void cleanupTestCase() { m_producer.reset(); }
};

QTEST_GUILESS_MAIN(GatewayTails)
#include "test_gateway_tails.moc"
