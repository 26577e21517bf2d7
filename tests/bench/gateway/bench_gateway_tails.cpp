// Live tails at scale (issue 15, finding 5): 1,000 concurrent tails on one `idl-gateway`
// process, with the clients in this process over real WebSockets (loopback) and a steady
// load produced into the events topic. Prints the gateway's threads and RSS (from
// /proc/PID/status) and the tail latency p50/p99 of the 1,000 tails against a single tail
// measured in the same run under the same load.
//
// Latency = the event's send time (written into its message by the producer thread) -> the
// `tail.events` frame containing it parsed by the client; it includes the Kafka ack, the
// gateway's shared consumer, filtering, the frame and the client's JSON parsing.
//
// Environment: IDL_BENCH_TAILS (default 1000), IDL_BENCH_RATE events/s (default 500, spread
// over 50 apps; tail i follows app b<i % 50>, so each event goes to TAILS/50 tails),
// IDL_BENCH_SECONDS per phase (default 20).
#undef QT_NO_CAST_FROM_ASCII
#include "gateway_test_util.h"
#include "idl/gateway/tokens.h"
#include "idl/kafka/producer.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"
#include "idl_test_servers.h"

#include <QFile>
#include <QProcess>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include <unistd.h>

using namespace gwtest;

namespace {

int envInt(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v > 0 ? v : fallback;
}

// Threads and resident MiB of a process.
std::pair<int, double> procStatus(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return {-1, -1};
    int threads = -1;
    double rss = -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("Threads:"))
            threads = line.mid(8).trimmed().toInt();
        else if (line.startsWith("VmRSS:"))
            rss = line.mid(6).trimmed().split(' ').front().toDouble() / 1024.0;
    }
    return {threads, rss};
}

// CPU seconds (user + system) a process (0: this one) has used so far.
double cpuSeconds(qint64 pid)
{
    QFile f(pid > 0 ? QStringLiteral("/proc/%1/stat").arg(pid) : QStringLiteral("/proc/self/stat"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray stat = f.readAll();
    // The fields after the command name (which may hold spaces) start after the last ')'.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return -1;
    return (fields[11].toDouble() + fields[12].toDouble()) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
}

double percentile(std::vector<double> v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
}

// One WebSocket connection with its tails; records the latency of every event it receives.
struct Conn
{
    QWebSocket ws;
    std::vector<double> *lat = nullptr;
    int started = 0;
    std::int64_t dropped = 0;
    explicit Conn(std::vector<double> *sink) : lat(sink)
    {
        QObject::connect(&ws, &QWebSocket::textMessageReceived, &ws, [this](const QString &t) {
            // A scan instead of a JSON parse: 1,000 tails in one client thread must not make
            // the client the bottleneck of what is measured.
            const std::int64_t now = idl::nowNs();
            if (t.startsWith(QLatin1String("{\"type\":\"tail.started\""))) {
                ++started;
                return;
            }
            if (!t.startsWith(QLatin1String("{\"type\":\"tail.events\"")))
                return;
            const QLatin1String key("\"message\":\"");
            for (qsizetype at = t.indexOf(key); at >= 0; at = t.indexOf(key, at + 1)) {
                const qsizetype from = at + key.size();
                const std::int64_t sent = t.mid(from, t.indexOf(u'"', from) - from).toLongLong();
                if (sent > 0 && lat)
                    lat->push_back(static_cast<double>(now - sent) / 1e6);
            }
            const qsizetype d = t.indexOf(QLatin1String("\"dropped\":"));
            if (d >= 0)
                dropped += t.mid(d + 10, 12).split(u',').front().toLongLong();
        });
    }
    void send(const QJsonObject &o)
    {
        ws.sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
    }
};

} // namespace

class BenchGatewayTails : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void thousandTails()
    {
        const int tails = envInt("IDL_BENCH_TAILS", 1000);
        const int rate = envInt("IDL_BENCH_RATE", 500);
        const int seconds = envInt("IDL_BENCH_SECONDS", 20);
        constexpr int kApps = 50;

        auto dsn = idl::testsupport::freshDatabase("gwtailbench");
        IDL_VERIFY_OK(dsn);
        auto topic = idl::testsupport::freshTopic("tailbench", 4);
        IDL_VERIFY_OK(topic);
        auto kafka = idl::testsupport::kafka();
        IDL_VERIFY_OK(kafka);
        const std::string bootstrap = (*kafka)->bootstrap().toStdString();
        std::string token;
        {
            auto db = idl::pg::Connection::connect(*dsn);
            IDL_VERIFY_OK(db);
            IDL_VERIFY_OK(idl::schema::migrate(*db));
            auto t = idl::gateway::tokens::create(*db, "bench", idl::gateway::Role::Viewer, {});
            IDL_VERIFY_OK(t);
            token = t->token;
        }

        GatewayProcess gwp;
        const int port = gwp.start({{"IDL_PG_DSN", QString::fromStdString(*dsn)},
                                    {"IDL_KAFKA_BOOTSTRAP", QString::fromStdString(bootstrap)},
                                    {"IDL_KAFKA_TOPIC", QString::fromStdString(*topic)},
                                    {"IDL_WS_MAX_SESSIONS", QString::number(tails + 10)},
                                    {"IDL_WS_MAX_SESSIONS_PER_TOKEN", QString::number(tails + 10)},
                                    {"IDL_TAIL_MAX_TOTAL", QString::number(tails + 10)},
                                    {"IDL_AUTH_RATE", "1000000"},
                                    {"IDL_AUTH_BURST", "1000000"}});
        QVERIFY2(port > 0, gwp.log.constData());
        QProcess &gw = gwp.process;
        const qint64 pid = gw.processId();
        QObject::connect(&gw, &QProcess::readyReadStandardError, &gw,
                         [&] { gw.readAllStandardError(); });
        const auto idle = procStatus(pid);

        // Steady load: `rate` events/s round robin over the apps, send time in the message.
        std::atomic<bool> loading{true};
        std::atomic<std::int64_t> produced{0};
        std::thread producer([&] {
            idl::kafka::ProducerOptions po;
            po.config = {{"bootstrap.servers", bootstrap}, {"linger.ms", "1"}};
            auto p = idl::kafka::Producer::create(std::move(po));
            if (!p)
                return;
            const auto t0 = std::chrono::steady_clock::now();
            std::int64_t n = 0;
            while (loading) {
                const auto due = std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - t0)
                                     .count() *
                                 rate / 1'000'000;
                while (n < due) {
                    idl::LogEvent e =
                        makeEvent(nowNs(), "b" + std::to_string(n % kApps), idl::Level::Info, "");
                    e.message = std::to_string(nowNs());
                    (void)(*p)->produce(*topic, e.id, idl::encodeEvent(e));
                    ++n;
                }
                (*p)->poll(std::chrono::milliseconds(0));
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
            (void)(*p)->flush(std::chrono::seconds(10));
            produced = n;
        });

        auto openAll = [&](std::vector<std::unique_ptr<Conn>> &conns, int count, int perConn,
                           std::vector<double> *sink) {
            for (int c = 0; c < count; ++c) {
                auto conn = std::make_unique<Conn>(sink);
                conn->ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(port)));
                conns.push_back(std::move(conn));
            }
            if (!waitUntil(
                    [&] {
                        return std::all_of(conns.begin(), conns.end(), [](const auto &c) {
                            return c->ws.state() == QAbstractSocket::ConnectedState;
                        });
                    },
                    60000))
                return false;
            int i = 0;
            for (auto &c : conns) {
                c->send({{"type", "hello"},
                         {"id", "h"},
                         {"versions", QJsonArray{1}},
                         {"token", QString::fromStdString(token)}});
                for (int k = 0; k < perConn; ++k, ++i)
                    c->send({{"type", "tail.start"},
                             {"id", QStringLiteral("t%1").arg(k)},
                             {"q", QStringLiteral("app:b%1").arg(i % kApps)}});
            }
            return waitUntil(
                [&] {
                    return std::all_of(conns.begin(), conns.end(),
                                       [&](const auto &c) { return c->started == perConn; });
                },
                120000);
        };
        auto run = [&](int ms) { // the event loop, without spinning (the cores are shared)
            QEventLoop loop;
            QTimer::singleShot(ms, &loop, &QEventLoop::quit);
            loop.exec();
        };

        // Phase 1: a single tail.
        std::vector<double> single, many;
        std::vector<std::unique_ptr<Conn>> one;
        QVERIFY(openAll(one, 1, 1, nullptr));
        run(2000); // warm-up
        one.front()->lat = &single;
        double gwCpu0 = cpuSeconds(pid), meCpu0 = cpuSeconds(0);
        run(seconds * 1000);
        const double gwCpuOne = (cpuSeconds(pid) - gwCpu0) / seconds;
        const double meCpuOne = (cpuSeconds(0) - meCpu0) / seconds;
        one.front()->lat = nullptr;
        const auto withOne = procStatus(pid);

        // Phase 2: `tails` more (two per connection), same load.
        std::vector<std::unique_ptr<Conn>> conns;
        QElapsedTimer setup;
        setup.start();
        QVERIFY(openAll(conns, tails / 2, 2, nullptr));
        const qint64 setupMs = setup.elapsed();
        run(2000);
        for (auto &c : conns)
            c->lat = &many;
        gwCpu0 = cpuSeconds(pid);
        meCpu0 = cpuSeconds(0);
        run(seconds * 1000);
        const double gwCpuMany = (cpuSeconds(pid) - gwCpu0) / seconds;
        const double meCpuMany = (cpuSeconds(0) - meCpu0) / seconds;
        for (auto &c : conns)
            c->lat = nullptr;
        const auto withMany = procStatus(pid);
        loading = false;
        producer.join();
        std::int64_t dropped = 0;
        for (auto &c : conns)
            dropped += c->dropped;

        std::printf("\n| gateway process | threads | RSS MiB | gateway CPU | client CPU |\n"
                    "| --- | ---: | ---: | ---: | ---: |\n"
                    "| idle (no tail) | %d | %.0f | | |\n| 1 tail | %d | %.0f | %.0f%% | %.0f%% |\n"
                    "| %d tails | %d | %.0f | %.0f%% | %.0f%% |\n",
                    idle.first, idle.second, withOne.first, withOne.second, gwCpuOne * 100,
                    meCpuOne * 100, tails + 1, withMany.first, withMany.second, gwCpuMany * 100,
                    meCpuMany * 100);
        std::printf("\n| tail latency (%d events/s, %d apps, %d s) | events | p50 ms | p99 ms |\n"
                    "| --- | ---: | ---: | ---: |\n"
                    "| 1 tail (same run, before) | %zu | %.1f | %.1f |\n"
                    "| %d tails together | %zu | %.1f | %.1f |\n",
                    rate, kApps, seconds, single.size(), percentile(single, 0.5),
                    percentile(single, 0.99), tails, many.size(), percentile(many, 0.5),
                    percentile(many, 0.99));
        std::printf("\n%d tails started in %lld ms; %lld events produced; %lld dropped; goals: "
                    "< 100 threads (%s), < 500 MiB (%s)\n",
                    tails, (long long)setupMs, (long long)produced.load(), (long long)dropped,
                    withMany.first < 100 ? "met" : "NOT met",
                    withMany.second < 500 ? "met" : "NOT met");
        std::fflush(stdout);
        QVERIFY(!single.empty());
        QVERIFY(!many.empty());
    }
};

QTEST_GUILESS_MAIN(BenchGatewayTails)
#include "bench_gateway_tails.moc"
