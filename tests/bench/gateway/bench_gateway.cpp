// Gateway benchmark: request latency through the WebSocket vs the same SQL run directly, on
// IDL_BENCH_ROWS generated rows (default 10M over the last 25 h); text search on today's open
// partition (IDL_BENCH_OPEN_ROWS, default 3M) against the statements used before; and
// live-tail latency (producer ack on the events topic -> tail.events frame received) at 1K
// and 10K events/s. One part alone: bench_gateway openPartition (QtTest function names).
#undef QT_NO_CAST_FROM_ASCII
#include "gateway_test_util.h"
#include "idl/gateway/gateway.h"
#include "idl/gateway/tokens.h"
#include "idl/gateway/wire.h"
#include "idl/kafka/producer.h"
#include "idl/pg/connection.h"
#include "idl/query/parser.h"
#include "idl/query/sql.h"
#include "idl_test_servers.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

using namespace gwtest;

namespace {

struct Stats
{
    double p50 = 0, p95 = 0, p99 = 0;
};

Stats stats(std::vector<double> v)
{
    Stats s;
    if (v.empty())
        return s;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
    };
    s.p50 = at(0.50);
    s.p95 = at(0.95);
    s.p99 = at(0.99);
    return s;
}

double ms(qint64 ns)
{
    return static_cast<double>(ns) / 1e6;
}

} // namespace

class BenchGateway : public QObject
{
    Q_OBJECT
    std::string m_dsn, m_topic, m_bootstrap, m_token;
    std::unique_ptr<idl::gateway::Gateway> m_gw;
    std::optional<idl::pg::Connection> m_db;

private Q_SLOTS:
    void initTestCase()
    {
        auto dsn = idl::testsupport::freshDatabase("gwbench");
        IDL_VERIFY_OK(dsn);
        m_dsn = *dsn;
        auto topic = idl::testsupport::freshTopic("gwbench", 4);
        IDL_VERIFY_OK(topic);
        m_topic = *topic;
        m_bootstrap = (*idl::testsupport::kafka())->bootstrap().toStdString();
        idl::gateway::GatewayOptions o;
        o.wsPort = 0;
        o.httpPort = 0;
        o.pgDsn = m_dsn;
        o.kafkaBootstrap = m_bootstrap;
        o.kafkaTopic = m_topic;
        o.ratePerSecond = 100000;
        o.rateBurst = 100000;
        m_gw = std::make_unique<idl::gateway::Gateway>(o);
        IDL_VERIFY_OK(m_gw->start());
        auto db = idl::pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(db);
        m_db.emplace(std::move(db).value());
        auto t = idl::gateway::tokens::create(*m_db, "bench", idl::gateway::Role::Viewer, {});
        IDL_VERIFY_OK(t);
        m_token = t->token;
    }

    void queries()
    {
        const long long rows = qEnvironmentVariableIsSet("IDL_BENCH_ROWS")
                                   ? qEnvironmentVariable("IDL_BENCH_ROWS").toLongLong()
                                   : 10'000'000LL;
        const std::int64_t hour = 3'600'000'000'000LL;
        const std::int64_t end = nowNs();
        const std::int64_t span = 25 * hour;
        for (std::int64_t t = end - span; t < end + 86'400'000'000'000LL;
             t += 86'400'000'000'000LL / 2)
            IDL_VERIFY_OK(
                m_db->query("SELECT idl_ensure_log_partition($1::bigint)", {std::to_string(t)}));
        IDL_VERIFY_OK(
            m_db->query("SELECT idl_ensure_log_partition($1::bigint)", {std::to_string(end)}));
        QElapsedTimer gen;
        gen.start();
        const long long chunk = 1'000'000;
        for (long long from = 0; from < rows; from += chunk) {
            const long long to = std::min(rows, from + chunk);
            // 10 apps, 10 hosts; 0.01% fatal, 2% error, 8% warn; 0.1% "connection reset".
            IDL_VERIFY_OK(m_db->query(
                "INSERT INTO logs (id, ts, received, level, app, host, message, attrs) "
                "SELECT gen_random_uuid(), t, t, "
                "CASE WHEN (g / 10) % 10000 = 3 THEN 5 WHEN (g / 10) % 100 < 2 THEN 4 "
                "WHEN (g / 10) % 100 < 10 THEN 3 "
                "ELSE 2 END, "
                "'app-' || (g % 10), 'host-' || ((g / 7) % 10), "
                "CASE WHEN (g / 3) % 1000 = 7 THEN 'upstream connection reset by peer id=' || g "
                "ELSE 'GET /api/items/' || (g % 9973) || ' 200 in ' || (g % 500) || 'ms' END, "
                "'{\"status\":200}'::jsonb "
                "FROM (SELECT g, $1::bigint - (g * ($2::bigint / $3::bigint)) AS t "
                "      FROM generate_series($4::bigint, $5::bigint - 1) AS g) s",
                {std::to_string(end), std::to_string(span), std::to_string(rows),
                 std::to_string(from), std::to_string(to)}));
        }
        IDL_VERIFY_OK(
            m_db->query("INSERT INTO log_rollup_minute (bucket, app, host, level, count) "
                        "SELECT ts - ts % 60000000000, app, host, level, count(*) FROM logs "
                        "GROUP BY 1, 2, 3, 4"));
        // What autovacuum does after a bulk insert; it also summarizes the new BRIN ranges
        // (unsummarized ranges always match, so a range scan would read every new page).
        IDL_VERIFY_OK(m_db->exec("VACUUM ANALYZE logs"));
        IDL_VERIFY_OK(m_db->exec("VACUUM ANALYZE log_rollup_minute"));
        std::printf("generated %lld rows (+ rollups, VACUUM ANALYZE) in %.1f s\n", rows,
                    gen.elapsed() / 1000.0);

        Client c;
        QVERIFY(c.open(m_gw->wsPort()));
        QVERIFY(c.authenticate(m_token));

        struct Case
        {
            const char *name;
            QJsonObject request;
            int runs;
            double targetMs;
        };
        const std::vector<Case> cases = {
            {"first page: app:app-7 level:>=warn, 24 h, 100 rows",
             {{"type", "query"}, {"q", "app:app-7 level:>=warn"}, {"from", "-24h"}, {"limit", 100}},
             30,
             50},
            {"24 h histogram by level (rollups)",
             {{"type", "aggregate"}, {"q", ""}, {"from", "-24h"}},
             20,
             200},
            {"24 h histogram, app:app-3 level:error (rollups)",
             {{"type", "aggregate"}, {"q", "app:app-3 level:error"}, {"from", "-24h"}},
             20,
             200},
            {"substring \"connection reset\", 1 h, first 100",
             {{"type", "query"}, {"q", "\"connection reset\""}, {"from", "-1h"}, {"limit", 100}},
             20,
             300},
            {"substring \"connection reset\", 24 h, first 100",
             {{"type", "query"}, {"q", "\"connection reset\""}, {"from", "-24h"}, {"limit", 100}},
             20,
             0},
            {"substring, no match, 1 h (full scan of the hour)",
             {{"type", "query"}, {"q", "\"no such needle\""}, {"from", "-1h"}, {"limit", 100}},
             5,
             300},
            {"substring, no match, 24 h (full scan)",
             {{"type", "query"}, {"q", "\"no such needle\""}, {"from", "-24h"}, {"limit", 100}},
             3,
             0},
        };
        std::printf("\n| request | gateway p50 ms | gateway p95 ms | direct SQL p50 ms | direct "
                    "SQL p95 ms | target |\n"
                    "| --- | ---: | ---: | ---: | ---: | --- |\n");
        int id = 0;
        for (const auto &cs : cases) {
            // The same SQL, built the way the gateway builds it, run directly.
            const auto ast = idl::query::parse(cs.request["q"].toString().toStdString());
            QVERIFY(ast.ok());
            std::vector<double> gw, direct;
            for (int i = 0; i < cs.runs; ++i) {
                QJsonObject req = cs.request;
                req["id"] = QString::number(++id);
                QElapsedTimer t;
                t.start();
                auto msgs = c.stream(req, 600000);
                gw.push_back(ms(t.nsecsElapsed()));
                QVERIFY(!msgs.empty());
                const QString type = msgs.back()["type"].toString();
                QVERIFY2(type == QLatin1String("done") || type == QLatin1String("aggregate.result"),
                         qPrintable(QJsonDocument(msgs.back()).toJson()));

                const std::int64_t now = nowNs();
                idl::query::CompiledQuery q;
                const std::int64_t from =
                    *idl::protocol::parseTimeArg(cs.request["from"].toString().toStdString(), now);
                if (cs.request["type"].toString() == QLatin1String("aggregate")) {
                    idl::query::AggregateOptions ao;
                    ao.bucketNs = idl::gateway::chooseBucketNs(from, now);
                    ao.fromNs = from - from % ao.bucketNs;
                    ao.toNs = now - now % ao.bucketNs + ao.bucketNs;
                    q = *idl::query::buildAggregate(*ast, ao);
                } else {
                    idl::query::QueryOptions qo;
                    qo.fromNs = from;
                    qo.toNs = now;
                    qo.limit = cs.request["limit"].toInt() + 1;
                    q = *idl::query::buildQuery(*ast, qo);
                }
                if (i == 0 && qEnvironmentVariableIsSet("IDL_BENCH_EXPLAIN")) {
                    auto plan = m_db->query("EXPLAIN (ANALYZE, BUFFERS) " + q.sql,
                                            idl::pg::Params(q.params.begin(), q.params.end()));
                    for (int k = 0; plan && k < plan->rowCount(); ++k)
                        std::printf("    %s\n", std::string(plan->value(k, 0)).c_str());
                }
                QElapsedTimer d;
                d.start();
                auto r = m_db->query(q.sql, idl::pg::Params(q.params.begin(), q.params.end()));
                direct.push_back(ms(d.nsecsElapsed()));
                IDL_VERIFY_OK(r);
            }
            const Stats g = stats(gw), s = stats(direct);
            char target[64] = "-";
            if (cs.targetMs > 0)
                std::snprintf(target, sizeof target, "p50 < %.0f ms: %s", cs.targetMs,
                              g.p50 < cs.targetMs ? "met" : "NOT met");
            std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %s |\n", cs.name, g.p50, g.p95, s.p50,
                        s.p95, target);
            std::fflush(stdout);
        }
    }

    // Text search on today's open partition (docs/benchmarks.md, "open partition"): rows in
    // time order over the last 50 minutes (or since midnight UTC if that is shorter), all in
    // today's partition. Each request through the gateway (readPage: bounded looks, then full
    // reads) against, in the same run on the same data, the one statement the gateway ran
    // before for a range up to an hour, with the gateway's session settings, and the same
    // statement with index scans off: the parallel scan the planner chose before the open
    // partition had a ts b-tree (migration 011); and the gateway's two statements alone: the
    // first bounded look, the full read (QueryOptions::fullSort).
    // IDL_BENCH_OPEN_ROWS (default 3M), IDL_BENCH_OPEN_RUNS (at most that many runs a request).
    void openPartition()
    {
        const long long rows = qEnvironmentVariableIsSet("IDL_BENCH_OPEN_ROWS")
                                   ? qEnvironmentVariable("IDL_BENCH_OPEN_ROWS").toLongLong()
                                   : 3'000'000LL;
        auto dsn = idl::testsupport::freshDatabase("gwopen");
        IDL_VERIFY_OK(dsn);
        idl::gateway::GatewayOptions o;
        o.wsPort = 0;
        o.httpPort = 0;
        o.pgDsn = *dsn;
        o.kafkaBootstrap = m_bootstrap;
        o.kafkaTopic = m_topic;
        o.ratePerSecond = 100000;
        o.rateBurst = 100000;
        o.queryTimeout = std::chrono::minutes(10);
        idl::gateway::Gateway gw(o);
        IDL_VERIFY_OK(gw.start());
        auto conn = idl::pg::Connection::connect(*dsn);
        IDL_VERIFY_OK(conn);
        idl::pg::Connection &db = *conn;
        auto token = idl::gateway::tokens::create(db, "bench", idl::gateway::Role::Viewer, {});
        IDL_VERIFY_OK(token);

        constexpr std::int64_t kDay = 86'400'000'000'000LL;
        const std::int64_t end = nowNs();
        const std::int64_t start =
            std::max<std::int64_t>(end - end % kDay, end - 50 * 60'000'000'000LL);
        IDL_VERIFY_OK(
            db.query("SELECT idl_ensure_log_partition($1::bigint)", {std::to_string(end)}));
        QElapsedTimer gen;
        gen.start();
        const long long chunk = 1'000'000;
        for (long long from = 0; from < rows; from += chunk) {
            // 10 apps, 2 % errors in each; "connection reset" 0.7 %, "upstream timeout" 0.05 %,
            // "rare-needle" 0.001 %; @duration_ms 0..2999.
            IDL_VERIFY_OK(db.query(
                "INSERT INTO logs (id, ts, received, level, app, host, message, attrs) "
                "SELECT gen_random_uuid(), t, t, CASE WHEN (g / 10) % 50 = 0 THEN 4 ELSE 2 END, "
                "'app-' || (g % 10), 'host-' || ((g / 7) % 10), "
                "CASE WHEN g % 143 = 7 THEN 'upstream connection reset by peer id=' || g "
                "WHEN g % 2000 = 11 THEN 'upstream timeout after 30 s id=' || g "
                "WHEN g % 100000 = 13 THEN 'rare-needle seen id=' || g "
                "ELSE 'GET /api/items/' || (g % 9973) || ' 200 in ' || (g % 500) || 'ms' END, "
                "jsonb_build_object('duration_ms', g % 3000) "
                "FROM (SELECT g, $1::bigint + g * (($2::bigint - $1::bigint) / $3::bigint) AS t "
                "      FROM generate_series($4::bigint, $5::bigint - 1) AS g) s",
                {std::to_string(start), std::to_string(end), std::to_string(rows),
                 std::to_string(from), std::to_string(std::min(rows, from + chunk))}));
        }
        IDL_VERIFY_OK(db.exec("VACUUM ANALYZE logs"));
        // The gateway's session settings (db_pool.cpp), for the direct statements.
        IDL_VERIFY_OK(db.exec("SET random_page_cost = 1.1"));
        IDL_VERIFY_OK(db.exec("SET jit = off"));
        double load[3] = {-1, -1, -1};
        ::getloadavg(load, 3);
        std::printf("\nopen partition: %lld rows over %.0f min in time order (+ VACUUM ANALYZE) "
                    "in %.1f s, load average %.1f\n",
                    rows, static_cast<double>(end - start) / 60e9, gen.elapsed() / 1000.0, load[0]);

        Client c;
        QVERIFY(c.open(gw.wsPort()));
        QVERIFY(c.authenticate(token->token));
        struct Case
        {
            const char *name;
            const char *q;
            int runs;
            std::int64_t rangeNs = 0; // 0: the rows' 50 minutes
        };
        const std::vector<Case> cases = {
            {"substring, no match", "\"no such needle\"", 5},
            {"substring, no match, last 6 h (gateway: windows of 15 min, 1 h, 4 h)",
             "\"no such needle\"", 5, 6 * 3'600'000'000'000LL},
            {"substring in 0.001 % (fewer than the page)", "\"rare-needle\"", 5},
            {"substring in 0.05 %, first 100", "\"upstream timeout\"", 9},
            {"substring in 0.7 %, first 100", "\"connection reset\"", 15},
            {"attribute @duration_ms:>=2990 (0.33 %), first 100", "@duration_ms:>=2990", 15},
            {"app:app-3 level:error, first 100 (no text: unchanged path)", "app:app-3 level:error",
             15},
        };
        std::printf("\n| request (limit 100) | gateway p50 ms | page reader before, direct "
                    "p50 ms | the same, index scans off (before 011) p50 ms | first look alone "
                    "p50 ms | full read alone (ts + 0) p50 ms | rows | load |\n"
                    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        // The gateway's page reader before this change, for a page of 100: one statement up to
        // an hour, else windows from the newest end (15 min or 1/32 of the range, then x4)
        // until the page is full.
        const auto readBefore = [&](const idl::query::Node &ast, idl::query::QueryOptions wo) {
            const std::int64_t lo = wo.fromNs;
            std::int64_t hi = wo.toNs;
            std::int64_t width = hi - lo <= 3'600'000'000'000LL
                                     ? hi - lo
                                     : std::max<std::int64_t>(900'000'000'000LL, (hi - lo) / 32);
            std::int64_t found = 0;
            while (lo < hi && found <= 100) {
                wo.fromNs = std::max(lo, hi - width);
                wo.toNs = hi;
                wo.limit = 101 - found;
                const auto w = idl::query::buildQuery(ast, wo);
                auto r = w ? db.query(w->sql, idl::pg::Params(w->params.begin(), w->params.end()))
                           : idl::Result<idl::pg::Rows>(w.error());
                if (!r)
                    return false;
                found += r->rowCount();
                hi = wo.fromNs;
                width *= 4;
            }
            return true;
        };
        int id = 0;
        for (const auto &cs : cases) {
            const auto ast = idl::query::parse(cs.q);
            QVERIFY(ast.ok());
            idl::query::QueryOptions qo;
            qo.fromNs = cs.rangeNs > 0 ? end - cs.rangeNs : start;
            qo.toNs = end + 1;
            qo.limit = 101;
            const auto q = idl::query::buildQuery(*ast, qo);
            QVERIFY(q.ok());
            const idl::pg::Params params(q->params.begin(), q->params.end());
            auto plan = db.query("EXPLAIN " + q->sql, params);
            IDL_VERIFY_OK(plan);
            for (int k = 0; k < plan->rowCount(); ++k) {
                const std::string line(plan->value(k, 0));
                if (line.find("Scan") != std::string::npos) {
                    std::printf("  one statement, %s: %s\n", cs.name,
                                line.substr(line.find_first_not_of(" ->")).c_str());
                    break;
                }
            }
            idl::query::QueryOptions lo = qo;
            lo.lookRows = 40'000;
            const auto look = idl::query::buildQuery(*ast, lo);
            QVERIFY(look.ok());
            const idl::pg::Params lookParams(look->params.begin(), look->params.end());
            idl::query::QueryOptions fo = qo;
            fo.fullSort = true;
            const auto full = idl::query::buildQuery(*ast, fo);
            QVERIFY(full.ok());
            const idl::pg::Params fullParams(full->params.begin(), full->params.end());
            // The five measurements of a run, in an order that rotates from run to run.
            std::vector<double> times[5];
            long long count = -1;
            const std::function<bool()> measure[5] = {
                [&] {
                    // Waits in the event loop, not in Client::stream's polling loop, which
                    // keeps one of the two cores busy while PostgreSQL's workers scan.
                    const QString rid = QString::number(++id);
                    QJsonObject done;
                    QEventLoop loop;
                    QObject::connect(&c.ws, &QWebSocket::textMessageReceived, &loop, [&] {
                        for (const auto &m : c.inbox) {
                            if (m["id"].toString() == rid && (m["type"] == QLatin1String("done") ||
                                                              m["type"] == QLatin1String("error")))
                                done = m;
                        }
                        if (!done.isEmpty())
                            loop.quit();
                    });
                    QTimer::singleShot(600000, &loop, &QEventLoop::quit);
                    c.send({{"type", "query"},
                            {"id", rid},
                            {"q", cs.q},
                            {"from", QString::number(qo.fromNs)},
                            {"to", QString::number(qo.toNs)},
                            {"limit", 100}});
                    loop.exec();
                    c.inbox.clear();
                    if (done["type"] != QLatin1String("done"))
                        return false;
                    count = done["count"].toInteger();
                    return true;
                },
                [&] { return readBefore(*ast, qo); },
                [&] {
                    return db.exec("SET enable_indexscan = off").ok() && readBefore(*ast, qo) &&
                           db.exec("RESET enable_indexscan").ok();
                },
                [&] { return db.query(look->sql, lookParams).ok(); },
                [&] { return db.query(full->sql, fullParams).ok(); },
            };
            const int runs =
                qEnvironmentVariableIsSet("IDL_BENCH_OPEN_RUNS")
                    ? std::min(cs.runs, qEnvironmentVariableIntValue("IDL_BENCH_OPEN_RUNS"))
                    : cs.runs;
            for (int i = 0; i < runs; ++i) {
                for (int k = 0; k < 5; ++k) {
                    const int m = (i + k) % 5;
                    QElapsedTimer t;
                    t.start();
                    QVERIFY2(measure[m](), cs.name);
                    times[m].push_back(ms(t.nsecsElapsed()));
                }
            }
            ::getloadavg(load, 3);
            std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %lld | %.1f |\n", cs.name,
                        stats(times[0]).p50, stats(times[1]).p50, stats(times[2]).p50,
                        stats(times[3]).p50, stats(times[4]).p50, count, load[0]);
            std::fflush(stdout);
        }
        gw.stop();
    }

    void tailLatency()
    {
        idl::kafka::ProducerOptions po;
        po.config = {{"bootstrap.servers", m_bootstrap}, {"linger.ms", "1"}};
        auto producer = idl::kafka::Producer::create(std::move(po));
        IDL_VERIFY_OK(producer);
        std::printf("\n| live tail rate | events | p50 ms | p95 ms | p99 ms | dropped | target p99 "
                    "< 100 ms |\n"
                    "| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (int rate : {1000, 10000}) {
            Client c;
            QVERIFY(c.open(m_gw->wsPort()));
            QVERIFY(c.authenticate(m_token));
            c.send({{"type", "tail.start"}, {"id", "t"}, {"q", "app:lat"}});
            QVERIFY(!c.next("t", "tail.started").isEmpty());
            // Warm-up: the consumer's first fetch (metadata, leader lookup) is not measured.
            for (int i = 0; i < 100; ++i) {
                auto w = makeEvent(nowNs(), "lat", idl::Level::Info, "warm-up");
                (void)(*producer)->produce(m_topic, w.id, idl::encodeEvent(w));
                if (waitUntil([&] { return !c.inbox.empty(); }, 100))
                    break;
            }
            waitUntil([] { return false; }, 300);
            c.inbox.clear();
            std::map<std::string, qint64> sent;
            std::vector<double> lat;
            qint64 dropped = 0;
            auto drain = [&] {
                const qint64 now = nowNs();
                for (auto &m : c.inbox) {
                    dropped += m["dropped"].toInteger();
                    for (const auto &e : m["events"].toArray()) {
                        auto it = sent.find(e.toObject()["id"].toString().toStdString());
                        if (it != sent.end())
                            lat.push_back(ms(now - it->second));
                    }
                }
                c.inbox.clear();
            };
            const int seconds = 10;
            const int total = rate * seconds;
            QElapsedTimer clock;
            clock.start();
            int produced = 0;
            while (produced < total) {
                const qint64 due = clock.nsecsElapsed() * rate / 1'000'000'000;
                while (produced < due && produced < total) {
                    auto e = makeEvent(nowNs(), "lat", idl::Level::Info,
                                       "latency probe " + std::to_string(produced));
                    const std::string v = idl::encodeEvent(e);
                    sent[e.id] = nowNs();
                    (void)(*producer)->produce(m_topic, e.id, v);
                    ++produced;
                }
                QCoreApplication::processEvents(QEventLoop::AllEvents, 1);
                drain();
                // Sleep instead of spinning: the broker, PostgreSQL and the gateway's threads
                // share the two cores with this loop.
                if (clock.nsecsElapsed() * rate / 1'000'000'000 <= produced)
                    QThread::usleep(500);
            }
            waitUntil(
                [&] {
                    drain();
                    return lat.size() + dropped >= size_t(total);
                },
                15000);
            const Stats s = stats(lat);
            std::printf("| %d events/s | %zu | %.1f | %.1f | %.1f | %lld | %s |\n", rate,
                        lat.size(), s.p50, s.p95, s.p99, (long long)dropped,
                        s.p99 < 100 ? "met" : "NOT met");
            std::fflush(stdout);
            c.call({{"type", "tail.stop"}, {"id", "s"}, {"target", "t"}});
        }
    }

    void cleanupTestCase()
    {
        if (m_gw)
            m_gw->stop();
    }
};

int main(int argc, char **argv)
{
    // Generating 10M rows takes longer than QtTest's default 5 minutes per function.
    qputenv("QTEST_FUNCTION_TIMEOUT", "3600000");
    QCoreApplication app(argc, argv);
    BenchGateway bench;
    return QTest::qExec(&bench, argc, argv);
}
#include "bench_gateway.moc"
