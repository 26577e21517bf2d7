// End-to-end benchmark: idl-stack up (private PostgreSQL, single-node Kafka, collector,
// processors, writer, gateway), then idl-loadgen in steps (IDL_E2E_STEPS, default
// 1000,25000,50000,100000,max and then 60% of the max the whole pipeline sustained) for
// IDL_E2E_STEP_SECONDS each (default 20), after a warm-up of IDL_E2E_WARMUP_SECONDS (default 20)
// as fast as possible that the table leaves out. For every step: acknowledged and written events/s,
// ingest
// -> queryable and ingest -> live-tail latency (marker events sent 10 times a second next to the
// load, polled in PostgreSQL every 10 ms and followed through the gateway's WebSocket tail), CPU
// seconds per component from /proc. In the same run, raw COPY of the same rows into a fresh
// database with the same schema. Ends with idl-check over everything the load generators had
// acknowledged; exits with its code.
#include "idl/loadgen/http_connection.h"
#include "idl/observability/json_log.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"
#include "idl_test_stack.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <libpq-fe.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

using namespace idl;
using Clock = std::chrono::steady_clock;
namespace beast = boost::beast;
namespace asio = boost::asio;

namespace {

[[noreturn]] void die(const std::string &what)
{
    std::fprintf(stderr, "bench_e2e: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(2);
}

std::int64_t wallNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

QString binPath(const char *name)
{
    return idl::testsupport::binPath(QLatin1String(name));
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return -1;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

// ---- CPU seconds per component, from /proc ----

struct ProcStat
{
    qint64 ppid = 0;
    double cpu = 0; // utime + stime, seconds
};

bool readStat(qint64 pid, ProcStat &out)
{
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray line = f.readAll();
    const auto close = line.lastIndexOf(')');
    if (close < 0)
        return false;
    const auto fields = line.mid(close + 2).split(' ');
    if (fields.size() < 13)
        return false;
    static const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    out.ppid = fields[1].toLongLong();
    out.cpu = static_cast<double>(fields[11].toLongLong() + fields[12].toLongLong()) / tick;
    return true;
}

QByteArray cmdline(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QByteArray c = f.readAll();
    c.replace('\0', ' ');
    return c;
}

// pid -> (component, cpu seconds) of every process of the stack right now.
std::map<qint64, std::pair<QString, double>> stackCpu(const QJsonObject &stack, const QString &dir)
{
    std::map<qint64, std::pair<QString, double>> out;
    const QJsonObject services = stack.value(QStringLiteral("services")).toObject();
    for (auto it = services.begin(); it != services.end(); ++it) {
        const qint64 pid = it.value().toInteger();
        ProcStat s;
        if (readStat(pid, s))
            out[pid] = {it.key().section(u'#', 0, 0).remove(QStringLiteral("idl-")), s.cpu};
    }
    qint64 postmaster = 0;
    if (QFile f(QDir(dir).filePath(QStringLiteral("postgres/postmaster.pid")));
        f.open(QIODevice::ReadOnly))
        postmaster = f.readLine().trimmed().toLongLong();
    const auto entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &e : entries) {
        bool ok = false;
        const qint64 pid = e.toLongLong(&ok);
        ProcStat s;
        if (!ok || out.count(pid) || !readStat(pid, s))
            continue;
        if (pid == postmaster || (postmaster && s.ppid == postmaster))
            out[pid] = {QStringLiteral("postgres"), s.cpu};
        else if (const QByteArray c = cmdline(pid);
                 c.contains("kafka.Kafka") && c.contains(dir.toUtf8()))
            out[pid] = {QStringLiteral("kafka"), s.cpu};
    }
    return out;
}

std::map<QString, double> cpuDelta(const std::map<qint64, std::pair<QString, double>> &before,
                                   const std::map<qint64, std::pair<QString, double>> &after)
{
    std::map<QString, double> d;
    for (const auto &[pid, v] : after) {
        const auto it = before.find(pid);
        d[v.first] += v.second - (it == before.end() ? 0.0 : it->second.second);
    }
    return d;
}

// ---- marker events: ingest -> queryable (PostgreSQL poll) and ingest -> live tail ----

class MarkerProbe
{
public:
    MarkerProbe(const QJsonObject &stack) : m_stack(stack) {}
    ~MarkerProbe() { stop(); }

    void start()
    {
        m_threads.emplace_back([this] { sendLoop(); });
        m_threads.emplace_back([this] { pollLoop(); });
        if (!m_stack.value(QStringLiteral("gateway_url")).toString().isEmpty())
            m_threads.emplace_back([this] { tailLoop(); });
        else
            m_tailNote = "gateway not built";
    }

    void stop()
    {
        if (m_stop.exchange(true))
            return;
        if (const int fd = m_wsFd.load(); fd >= 0)
            ::shutdown(fd, SHUT_RDWR);
        for (auto &t : m_threads)
            t.join();
        m_threads.clear();
    }

    std::int64_t nextId()
    {
        std::lock_guard lock(m_mutex);
        return static_cast<std::int64_t>(m_sent.size());
    }

    struct Latencies
    {
        std::vector<double> queryable, tail; // ms
        int sent = 0, notQueryable = 0, notTailed = 0;
    };

    Latencies latencies(std::int64_t from, std::int64_t to)
    {
        std::lock_guard lock(m_mutex);
        Latencies l;
        for (std::int64_t id = from; id < to && id < static_cast<std::int64_t>(m_sent.size());
             ++id) {
            const auto i = static_cast<std::size_t>(id);
            if (m_sent[i] <= 0)
                continue; // not acknowledged
            ++l.sent;
            if (m_seen[i] > 0)
                l.queryable.push_back(static_cast<double>(m_seen[i] - m_sent[i]) / 1e6);
            else
                ++l.notQueryable;
            if (m_tailed[i] > 0)
                l.tail.push_back(static_cast<double>(m_tailed[i] - m_sent[i]) / 1e6);
            else
                ++l.notTailed;
        }
        return l;
    }

    std::string tailNote()
    {
        std::lock_guard lock(m_mutex);
        return m_tailNote;
    }
    bool tailing() const { return m_tailReady.load(); }

private:
    void sendLoop()
    {
        std::string host, port;
        loadgen::splitHttpUrl(
            m_stack.value(QStringLiteral("collector_url")).toString().toStdString(), host, port);
        loadgen::HttpConnection conn(host, port);
        const std::string auth =
            "Bearer " + m_stack.value(QStringLiteral("ingest_api_key")).toString().toStdString();
        auto next = Clock::now();
        while (!m_stop.load()) {
            std::int64_t id;
            {
                std::lock_guard lock(m_mutex);
                id = static_cast<std::int64_t>(m_sent.size());
                m_sent.push_back(0);
                m_seen.push_back(0);
                m_tailed.push_back(0);
            }
            const std::int64_t t0 = wallNs();
            const std::string body =
                "{\"ts\":" + std::to_string(t0) +
                ",\"app\":\"e2e-marker\",\"host\":\"bench\",\"level\":\"info\","
                "\"msg\":\"e2e marker " +
                std::to_string(id) + "\",\"attrs\":{\"marker.id\":" + std::to_string(id) + "}}";
            auto r = conn.post("/api/v1/logs", "application/json", auth, body);
            if (r && r->status == 202) {
                std::lock_guard lock(m_mutex);
                m_sent[static_cast<std::size_t>(id)] = t0;
            }
            next += std::chrono::milliseconds(100);
            std::this_thread::sleep_until(next);
        }
    }

    void pollLoop()
    {
        auto conn = pg::Connection::connect(
            m_stack.value(QStringLiteral("postgres_dsn")).toString().toStdString());
        if (!conn)
            die("marker poll: " + conn.error().message);
        std::size_t firstUnseen = 0;
        while (!m_stop.load()) {
            std::int64_t since = 0;
            {
                std::lock_guard lock(m_mutex);
                while (firstUnseen < m_sent.size() && m_seen[firstUnseen] > 0)
                    ++firstUnseen;
                since = firstUnseen < m_sent.size() && m_sent[firstUnseen] > 0
                            ? m_sent[firstUnseen]
                            : wallNs() - 2'000'000'000;
                // Markers that were never acknowledged or are long gone do not hold the window.
                since = std::max(since, wallNs() - 60'000'000'000);
            }
            auto rows = conn->query("SELECT (attrs->>'marker.id')::bigint FROM logs "
                                    "WHERE app = 'e2e-marker' AND ts >= $1",
                                    {std::to_string(since - 1'000'000'000)});
            const std::int64_t now = wallNs();
            if (rows) {
                std::lock_guard lock(m_mutex);
                for (int i = 0; i < rows->rowCount(); ++i) {
                    const auto id =
                        static_cast<std::size_t>(std::stoll(std::string(rows->value(i, 0))));
                    if (id < m_seen.size() && m_seen[id] == 0)
                        m_seen[id] = now;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    void tailLoop()
    {
        const QString url = m_stack.value(QStringLiteral("gateway_url")).toString(); // ws://h:p/ws
        const QString rest = url.mid(5);
        const QString hostPort = rest.section(u'/', 0, 0);
        const std::string path = "/" + rest.section(u'/', 1).toStdString();
        const std::string host = hostPort.section(u':', 0, 0).toStdString();
        const std::string port = hostPort.section(u':', 1).toStdString();
        try {
            asio::io_context io;
            asio::ip::tcp::resolver resolver(io);
            beast::websocket::stream<asio::ip::tcp::socket> ws(io);
            asio::connect(ws.next_layer(), resolver.resolve(host, port));
            m_wsFd.store(ws.next_layer().native_handle());
            ws.handshake(host + ":" + port, path);
            const std::string token =
                m_stack.value(QStringLiteral("admin_token")).toString().toStdString();
            ws.write(asio::buffer("{\"type\":\"hello\",\"id\":\"h\",\"versions\":[1],\"client\":"
                                  "\"bench_e2e\",\"token\":\"" +
                                  token + "\"}"));
            ws.write(asio::buffer(
                std::string(R"({"type":"tail.start","id":"t","q":"app:e2e-marker"})")));
            while (!m_stop.load()) {
                beast::flat_buffer buffer;
                ws.read(buffer);
                const std::int64_t now = wallNs();
                const QJsonObject o =
                    QJsonDocument::fromJson(
                        QByteArray::fromStdString(beast::buffers_to_string(buffer.data())))
                        .object();
                const QString type = o.value(QStringLiteral("type")).toString();
                if (type == QStringLiteral("tail.started")) {
                    m_tailReady.store(true);
                } else if (type == QStringLiteral("error")) {
                    std::lock_guard lock(m_mutex);
                    m_tailNote = "gateway error: " +
                                 QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
                } else if (type == QStringLiteral("tail.events")) {
                    std::lock_guard lock(m_mutex);
                    for (const auto &e : o.value(QStringLiteral("events")).toArray()) {
                        const auto id =
                            static_cast<std::size_t>(e.toObject()
                                                         .value(QStringLiteral("attrs"))
                                                         .toObject()
                                                         .value(QStringLiteral("marker.id"))
                                                         .toInteger(-1));
                        if (id < m_tailed.size() && m_tailed[id] == 0)
                            m_tailed[id] = now;
                    }
                    m_tailDropped += o.value(QStringLiteral("dropped")).toInteger();
                }
            }
        } catch (const std::exception &e) {
            if (!m_stop.load()) {
                std::lock_guard lock(m_mutex);
                m_tailNote = std::string("tail connection failed: ") + e.what();
            }
        }
    }

    QJsonObject m_stack;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_wsFd{-1};
    std::atomic<bool> m_tailReady{false};
    std::mutex m_mutex;
    std::vector<std::int64_t> m_sent, m_seen, m_tailed; // ns, 0 = not (yet)
    std::int64_t m_tailDropped = 0;
    std::string m_tailNote;
    std::vector<std::thread> m_threads;
};

// Sum of the writer's stored next offsets on the events topic: events written so far.
long long writtenOffsets(pg::Connection &c)
{
    auto r = c.query("SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets WHERE topic = "
                     "'idl.logs.events'");
    return r ? std::stoll(std::string(r->value(0, 0))) : -1;
}

struct StepResult
{
    QString name;
    double target = 0;
    QJsonObject load;
    double loadSeconds = 0;
    double writtenPerSecond = 0; // during the load
    double sustainedWritten = 0; // everything of the step / (load + drain)
    double drainSeconds = 0;
    MarkerProbe::Latencies lat;
    std::map<QString, double> cpu;
};

QString dsnWithDatabase(QString dsn, const QString &db)
{
    const auto i = dsn.indexOf(QStringLiteral("dbname="));
    if (i < 0)
        return dsn + QStringLiteral(" dbname=") + db;
    const auto end = dsn.indexOf(u' ', i);
    return dsn.left(i) + QStringLiteral("dbname=") + db + (end < 0 ? QString() : dsn.mid(end));
}

// Raw COPY of n rows taken from logs (the rows the pipeline wrote) into a fresh database with
// the same migrations, one transaction. Returns rows/s of the COPY alone; *pgCpu gets the CPU
// seconds PostgreSQL's processes spent during it (read while the COPY's backend still lives).
double rawCopyRate(const QString &dsn, long long n, long long *copied, const QJsonObject &stack,
                   const QString &dir, double *pgCpu)
{
    auto src = pg::Connection::connect(dsn.toStdString());
    if (!src)
        die(src.error().message);
    (void)src->exec("DROP DATABASE IF EXISTS idl_copy_bench");
    if (auto r = src->exec("CREATE DATABASE idl_copy_bench"); !r)
        die(r.error().message);
    auto dst = pg::Connection::connect(
        dsnWithDatabase(dsn, QStringLiteral("idl_copy_bench")).toStdString());
    if (!dst)
        die(dst.error().message);
    if (auto m = schema::migrate(*dst); !m)
        die("migrate: " + m.error().message);
    const std::string cols =
        "id, ts, received, level, app, host, message, attrs, trace_id, span_id";
    const std::string out = "COPY (SELECT " + cols + " FROM logs WHERE app <> 'e2e-marker' LIMIT " +
                            std::to_string(n) + ") TO STDOUT";
    PGresult *res = PQexec(src->native(), out.c_str());
    if (PQresultStatus(res) != PGRES_COPY_OUT)
        die(std::string("COPY TO: ") + PQerrorMessage(src->native()));
    PQclear(res);
    std::vector<std::string> chunks(1);
    char *buf = nullptr;
    int len = 0;
    while ((len = PQgetCopyData(src->native(), &buf, 0)) > 0) {
        if (chunks.back().size() > 256 * 1024)
            chunks.emplace_back();
        chunks.back().append(buf, static_cast<std::size_t>(len));
        PQfreemem(buf);
    }
    while ((res = PQgetResult(src->native())))
        PQclear(res);
    // Partitions for every day the rows touch, as the writer makes sure of before it COPYs.
    (void)dst->query(
        "SELECT idl_ensure_log_partition(d) FROM generate_series($1::bigint, $2::bigint, "
        "86400000000000) d",
        {std::to_string(wallNs() - 2 * 86'400'000'000'000LL), std::to_string(wallNs())});
    const auto cpu0 = stackCpu(stack, dir);
    const auto t0 = Clock::now();
    if (auto r = dst->begin(); !r)
        die(r.error().message);
    auto rows = dst->copyIn("COPY logs (" + cols + ") FROM STDIN", chunks);
    if (!rows)
        die("COPY: " + rows.error().message);
    if (auto r = dst->commit(); !r)
        die(r.error().message);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    *pgCpu = cpuDelta(cpu0, stackCpu(stack, dir))[QStringLiteral("postgres")];
    *copied = *rows;
    return static_cast<double>(*rows) / secs;
}

double loadAverage()
{
    double l[1] = {0};
    return ::getloadavg(l, 1) == 1 ? l[0] : -1;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    jlog::init("bench_e2e", Level::Warn);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const int stepSeconds = qEnvironmentVariableIntValue("IDL_E2E_STEP_SECONDS") > 0
                                ? qEnvironmentVariableIntValue("IDL_E2E_STEP_SECONDS")
                                : 20;
    const QString stepsText =
        qEnvironmentVariable("IDL_E2E_STEPS", QStringLiteral("1000,25000,50000,100000,max"));
    const QString connections = qEnvironmentVariable("IDL_E2E_CONNECTIONS", QStringLiteral("4"));
    const QString batch = qEnvironmentVariable("IDL_E2E_BATCH", QStringLiteral("1000"));
    const long long copyRows = qEnvironmentVariableIntValue("IDL_E2E_COPY_ROWS") > 0
                                   ? qEnvironmentVariableIntValue("IDL_E2E_COPY_ROWS")
                                   : 1'000'000;

    QTemporaryDir tmp(QDir::tempPath() + QStringLiteral("/idl-bench-e2e-XXXXXX"));
    QFile::setPermissions(tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                          QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                          QFileDevice::ExeOther);
    const QString dir = tmp.filePath(QStringLiteral("stack"));
    const QString stackJsonPath = QDir(dir).filePath(QStringLiteral("stack.json"));

    // The stack, as a user starts it; the per-key request rate limit (100/s by default) is
    // lifted for the benchmark's key so the collector is measured, not the limiter.
    idl::testsupport::StackProcess stack(dir, tmp.filePath(QStringLiteral("stack.out")));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("IDL_AUTH_RATE_LIMIT"), QStringLiteral("0"));
    if (const QString why = stack.up({QStringLiteral("--collector-port"), QStringLiteral("0"),
                                      QStringLiteral("--gateway-port"), QStringLiteral("0")},
                                     180'000, env);
        !why.isEmpty())
        die(why.toStdString());
    const QJsonObject stackJson = stack.json();
    const QString dsn = stackJson.value(QStringLiteral("postgres_dsn")).toString();
    std::printf("stack up in %.1f s (load average %.1f)\n", stack.upMs() / 1000.0, loadAverage());
    const auto shutdown = [&] { stack.down(120'000); };

    auto pgc = pg::Connection::connect(dsn.toStdString());
    if (!pgc)
        die(pgc.error().message);
    MarkerProbe probe(stackJson);
    probe.start();
    for (int i = 0; i < 100 && !probe.tailing() && probe.tailNote().empty(); ++i)
        QThread::msleep(100);

    QStringList steps = stepsText.split(u',', Qt::SkipEmptyParts);
    // A warm-up step first, as fast as the stack goes (the broker's JIT compiles its hot
    // paths under load: a profile 15 s into a cold run still had 14 % of both cores in the C2
    // compiler), printed but left out of the table: the first seconds are no steady state.
    const int warmupSeconds =
        qEnvironmentVariable("IDL_E2E_WARMUP_SECONDS", QStringLiteral("20")).toInt();
    if (warmupSeconds > 0)
        steps.prepend(QStringLiteral("warm-up"));
    std::vector<StepResult> results;
    QStringList ackedFiles;
    double maxRate = 0;
    for (int si = 0; si < steps.size(); ++si) {
        StepResult sr;
        sr.name = steps[si].trimmed();
        const bool warmup = sr.name == QStringLiteral("warm-up");
        QString rate = sr.name == QStringLiteral("max") ? QStringLiteral("0") : sr.name;
        if (warmup)
            rate = QStringLiteral("0");
        if (sr.name == QStringLiteral("60%")) {
            rate = QString::number(static_cast<long long>(maxRate * 0.6));
            sr.name = QStringLiteral("60% of max (%1)").arg(rate);
        }
        sr.target = rate.toDouble();
        const QString gen = QStringLiteral("bench-s%1").arg(si);
        const QString acked = tmp.filePath(gen + QStringLiteral(".acked"));
        ackedFiles << acked;

        const long long off0 = writtenOffsets(*pgc);
        const auto cpu0 = stackCpu(stackJson, dir);
        const std::int64_t marker0 = probe.nextId();
        const auto t0 = Clock::now();
        QProcess lg;
        lg.start(binPath("idl-loadgen"),
                 {QStringLiteral("--stack"), stackJsonPath, QStringLiteral("--generator"), gen,
                  QStringLiteral("--rate"), rate, QStringLiteral("--duration"),
                  QStringLiteral("%1s").arg(warmup ? warmupSeconds : stepSeconds),
                  QStringLiteral("--connections"), connections, QStringLiteral("--batch"), batch,
                  QStringLiteral("--acked-file"), acked, QStringLiteral("--json")});
        if (!lg.waitForFinished((stepSeconds + 120) * 1000))
            die("idl-loadgen did not finish");
        sr.loadSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
        const long long off1 = writtenOffsets(*pgc);
        const std::int64_t marker1 = probe.nextId();
        sr.load = QJsonDocument::fromJson(lg.readAllStandardOutput().trimmed().split('\n').last())
                      .object();
        if (sr.load.isEmpty())
            die("idl-loadgen: " + lg.readAllStandardError().toStdString());
        const long long accepted = sr.load.value(QStringLiteral("accepted")).toInteger();
        const long long markers = marker1 - marker0;
        // Drain: wait until the writer has stored everything of this step.
        auto lastChange = Clock::now();
        long long last = off1;
        long long off2 = off1;
        while (off2 - off0 < accepted + markers &&
               Clock::now() - lastChange < std::chrono::seconds(20)) {
            QThread::msleep(100);
            off2 = writtenOffsets(*pgc);
            if (off2 != last) {
                last = off2;
                lastChange = Clock::now();
            }
        }
        const auto t2 = Clock::now();
        QThread::msleep(1000); // let the last markers reach the tail and the poller
        sr.drainSeconds = std::chrono::duration<double>(t2 - t0).count() - sr.loadSeconds;
        sr.cpu = cpuDelta(cpu0, stackCpu(stackJson, dir));
        sr.cpu[QStringLiteral("loadgen")] = sr.load.value(QStringLiteral("cpu_s")).toDouble();
        sr.writtenPerSecond = static_cast<double>(off1 - off0) / sr.loadSeconds;
        sr.sustainedWritten =
            static_cast<double>(off2 - off0) / std::chrono::duration<double>(t2 - t0).count();
        sr.lat = probe.latencies(marker0, marker1);
        // The maximum the whole pipeline sustains: acknowledged, and written including the drain.
        if (sr.target == 0 && !warmup)
            maxRate = std::min(sr.load.value(QStringLiteral("accepted_per_s")).toDouble(),
                               sr.sustainedWritten);
        std::printf("step %-22s acked %8.0f/s  written %8.0f/s (sustained %8.0f/s, drain %.1f s)  "
                    "queryable p99 %.0f ms  tail p99 %.0f ms  ack p99 %.0f ms  statuses %s  load "
                    "avg %.1f\n",
                    qPrintable(sr.name), sr.load.value(QStringLiteral("accepted_per_s")).toDouble(),
                    sr.writtenPerSecond, sr.sustainedWritten, sr.drainSeconds,
                    percentile(sr.lat.queryable, 0.99), percentile(sr.lat.tail, 0.99),
                    sr.load.value(QStringLiteral("ack_p99_ms")).toDouble(),
                    QJsonDocument(sr.load.value(QStringLiteral("statuses")).toObject())
                        .toJson(QJsonDocument::Compact)
                        .constData(),
                    loadAverage());
        if (sr.name == QStringLiteral("max") && si + 1 == steps.size() &&
            !stepsText.contains(QStringLiteral("60%")))
            steps << QStringLiteral("60%");
        if (!warmup)
            results.push_back(std::move(sr));
        QThread::msleep(2000);
    }
    probe.stop();

    long long copied = 0;
    // PostgreSQL's own CPU for the raw COPY (every process of the cluster: the backend, the WAL
    // writer, the checkpointer): the part of the per-event budget no pipeline change can remove.
    double copyPgCpu = 0;
    const double copyRate = rawCopyRate(dsn, copyRows, &copied, stackJson, dir, &copyPgCpu);

    // The table.
    std::printf(
        "\nEnd-to-end: %d s per step, %s connections x %s events/request, load average now %.1f\n",
        stepSeconds, qPrintable(connections), qPrintable(batch), loadAverage());
    std::printf("| step | acked ev/s | written ev/s (during load) | written ev/s (incl. drain) | "
                "queryable p50/p99 ms | live tail p50/p99 ms | ack p50/p99 ms | CPU s: collector / "
                "processor / writer / gateway / postgres / kafka / loadgen |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (const StepResult &r : results) {
        const auto cpu = [&](const char *k) {
            const auto it = r.cpu.find(QLatin1String(k));
            return it == r.cpu.end() ? 0.0 : it->second;
        };
        std::printf(
            "| %s | %.0f | %.0f | %.0f (drain %.1f s) | %.0f / %.0f%s | %.0f / %.0f%s | %.0f / "
            "%.0f "
            "| %.1f / %.1f / %.1f / %.1f / %.1f / %.1f / %.1f |\n",
            qPrintable(r.name), r.load.value(QStringLiteral("accepted_per_s")).toDouble(),
            r.writtenPerSecond, r.sustainedWritten, r.drainSeconds,
            percentile(r.lat.queryable, 0.5), percentile(r.lat.queryable, 0.99),
            r.lat.notQueryable ? qPrintable(QStringLiteral(" (%1 missing)").arg(r.lat.notQueryable))
                               : "",
            percentile(r.lat.tail, 0.5), percentile(r.lat.tail, 0.99),
            r.lat.notTailed ? qPrintable(QStringLiteral(" (%1 missing)").arg(r.lat.notTailed)) : "",
            r.load.value(QStringLiteral("ack_p50_ms")).toDouble(),
            r.load.value(QStringLiteral("ack_p99_ms")).toDouble(), cpu("collector"),
            cpu("processor"), cpu("writer"), cpu("gateway"), cpu("postgres"), cpu("kafka"),
            cpu("loadgen"));
    }
    double bestWritten = 0;
    for (const StepResult &r : results)
        bestWritten = std::max(bestWritten, r.sustainedWritten);
    std::printf("\nraw COPY of %lld of the same rows into the same schema (fresh database, one "
                "transaction): %.0f rows/s; best sustained written rate = %.0f%% of it\n",
                copied, copyRate, copyRate > 0 ? 100.0 * bestWritten / copyRate : 0.0);
    const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    std::printf("CPU budget: 100000 events/s on %u cores leaves %.1f CPU-us per event for every "
                "process on the machine; PostgreSQL spent %.1f CPU-us per row on the raw COPY "
                "alone (%.1f CPU-s for %lld rows)\n",
                cores, cores * 1e6 / 100000.0,
                copied > 0 ? copyPgCpu * 1e6 / static_cast<double>(copied) : 0.0, copyPgCpu,
                copied);
    if (!probe.tailNote().empty())
        std::printf("live tail: %s\n", probe.tailNote().c_str());
    std::printf(
        "markers: 10/s on their own connection, app e2e-marker; queryable = first 10 ms "
        "poll that sees the row minus send time; tail = gateway WebSocket frame arrival minus "
        "send time\n");

    // The verdict over everything every step acknowledged.
    QProcess check;
    check.start(binPath("idl-check"),
                QStringList{QStringLiteral("--stack"), stackJsonPath, QStringLiteral("--wait"),
                            QStringLiteral("120s")} +
                    ackedFiles);
    check.waitForFinished(600'000);
    std::printf("\nidl-check: %s%s", check.readAllStandardOutput().constData(),
                check.readAllStandardError().constData());
    const int code = check.exitStatus() == QProcess::NormalExit ? check.exitCode() : 2;
    shutdown();
    return code;
}
