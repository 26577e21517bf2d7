// Peer benchmark (issue 17): the same generated events loaded into this project's stack
// (idl-stack up: collector -> Kafka -> processors -> writer -> PostgreSQL, gateway) and into
// VictoriaLogs (built from the Go module proxy into the bench's cache), each through its public
// ingest API, then the same five queries through each one's public query API (ours: the gateway's
// HTTP /api/v1/query and WebSocket `aggregate`; VictoriaLogs: /select/logsql/query and
// /select/logsql/hits), p50 of IDL_PEER_RUNS, plus ingest acked/s; one table with the ratios.
//
//   ctest -L bench -R bench_peer --output-on-failure -V
//   IDL_PEER_EVENTS (1000000)  IDL_PEER_CONNECTIONS (4)  IDL_PEER_BATCH (1000)  IDL_PEER_RUNS (5)
//   IDL_PEER_SETTLE_SECONDS (60): idle time after both have every event, before the queries
//   IDL_PEER_CLOSED=1: the 50 minutes end 10 minutes before today 00:00 UTC (a closed daily
//     partition: the writer's maintenance has built its search indexes), else they end now
//   IDL_PEER_CACHE (~/.cache/instant-dev-logs/peer): GOBIN/GOPATH/GOCACHE of the VictoriaLogs build
#include "idl/localcluster/process_util.h"
#include "idl/pg/connection.h"
#include "idl/service/http_client.h"
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
#include <QUrl>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <thread>
#include <utility>

using namespace idl;
namespace beast = boost::beast;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char *kVictoriaLogsVersion = "v1.52.1";
constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kWindowNs = 50 * 60 * kSecondNs;

// Stops idl-stack and VictoriaLogs once they run, so that no failure leaves them behind.
std::function<void()> g_cleanup;

[[noreturn]] void die(const std::string &what)
{
    std::fprintf(stderr, "bench_peer: %s\n", what.c_str());
    std::fflush(stderr);
    if (auto cleanup = std::exchange(g_cleanup, nullptr))
        cleanup();
    std::fflush(stderr);
    std::_Exit(2);
}

double loadAverage()
{
    double l[1] = {0};
    return ::getloadavg(l, 1) == 1 ? l[0] : -1;
}

long long envInt(const char *name, long long fallback)
{
    const QByteArray v = qgetenv(name);
    return v.isEmpty() ? fallback : v.toLongLong();
}

double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// ---- the events: event i is a pure function of i, so both systems get the same ones ----

std::uint64_t mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

const char *const kApps[10] = {"checkout", "payments", "search",    "catalog", "auth",
                               "cart",     "shipping", "inventory", "notify",  "frontend"};
const char *const kPaths[6] = {"/api/v1/items", "/api/v1/cart", "/api/v1/orders",
                               "/api/v1/users", "/healthz",     "/api/v1/search"};

struct Event
{
    std::int64_t ts = 0;
    const char *app = "";
    std::string host;
    const char *level = "info";
    std::string msg;
    int durationMs = 0;
    int status = 200;
    std::string user;
    std::string requestId;
};

// 10 apps x 7 hosts, 2 % error, 8 % warn, 5 % debug, the rest info; ~0.7 % of messages hold
// "connection reset"; duration_ms uniform in [0, 3000), so @duration_ms:>=2900 is ~3.3 %.
Event makeEvent(std::uint64_t i, std::int64_t fromNs, std::uint64_t total)
{
    Event e;
    const std::uint64_t r = mix(i), s = mix(i ^ 0x5bd1e995ULL);
    e.ts = fromNs +
           static_cast<std::int64_t>(static_cast<double>(i) * static_cast<double>(kWindowNs) /
                                     static_cast<double>(total)) +
           static_cast<std::int64_t>(r % 1000);
    const unsigned app = static_cast<unsigned>(r % 10);
    e.app = kApps[app];
    e.host = std::string(e.app) + "-" + std::to_string((r >> 8) % 7);
    const unsigned lv = static_cast<unsigned>((r >> 16) % 100);
    e.level = lv < 2 ? "error" : lv < 10 ? "warn" : lv < 15 ? "debug" : "info";
    e.durationMs = static_cast<int>((s >> 3) % 3000);
    e.user = "u-" + std::to_string((s >> 20) % 50000);
    char rid[17];
    std::snprintf(rid, sizeof rid, "%016llx", static_cast<unsigned long long>(mix(s)));
    e.requestId = rid;
    const char *path = kPaths[(s >> 40) % 6];
    const unsigned kind = static_cast<unsigned>((s >> 48) % 100);
    if (lv < 2) {
        e.status = 500;
        e.msg = kind < 35 ? "upstream connection reset by peer while calling " +
                                std::string(kApps[(app + 1) % 10]) + ":8080" + path
                          : "request failed: " + std::string(path) + " returned 500 after " +
                                std::to_string(e.durationMs) + " ms";
    } else if (lv < 10) {
        e.status = kind < 50 ? 429 : 404;
        e.msg = kind < 5 ? "retrying after connection reset from " + std::string(kApps[kind % 10])
                         : "slow request " + std::string(path) + " took " +
                               std::to_string(e.durationMs) + " ms, retry budget low";
    } else {
        e.msg = "GET " + std::string(path) + "/" + std::to_string((s >> 8) % 100000) + " 200 in " +
                std::to_string(e.durationMs) + " ms bytes=" + std::to_string((s >> 24) % 65536);
    }
    return e;
}

void appendJsonString(std::string &out, std::string_view s)
{
    out += '"';
    out += s; // generated text: no quotes, backslashes or control characters
    out += '"';
}

// This project's native NDJSON line.
void appendNative(std::string &out, const Event &e)
{
    out += "{\"ts\":" + std::to_string(e.ts) + ",\"app\":";
    appendJsonString(out, e.app);
    out += ",\"host\":";
    appendJsonString(out, e.host);
    out += ",\"level\":";
    appendJsonString(out, e.level);
    out += ",\"msg\":";
    appendJsonString(out, e.msg);
    out += ",\"attrs\":{\"duration_ms\":" + std::to_string(e.durationMs) +
           ",\"status\":" + std::to_string(e.status) + ",\"user\":";
    appendJsonString(out, e.user);
    out += ",\"request_id\":";
    appendJsonString(out, e.requestId);
    out += "}}\n";
}

std::string rfc3339(std::int64_t ns)
{
    const std::time_t secs = static_cast<std::time_t>(ns / kSecondNs);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(ns % kSecondNs));
    return buf;
}

// VictoriaLogs' JSON line: the same fields, attributes as top-level fields.
void appendVictoria(std::string &out, const Event &e)
{
    out += "{\"_time\":";
    appendJsonString(out, rfc3339(e.ts));
    out += ",\"app\":";
    appendJsonString(out, e.app);
    out += ",\"host\":";
    appendJsonString(out, e.host);
    out += ",\"level\":";
    appendJsonString(out, e.level);
    out += ",\"_msg\":";
    appendJsonString(out, e.msg);
    out += ",\"duration_ms\":" + std::to_string(e.durationMs) +
           ",\"status\":" + std::to_string(e.status) + ",\"user\":";
    appendJsonString(out, e.user);
    out += ",\"request_id\":";
    appendJsonString(out, e.requestId);
    out += "}\n";
}

// ---- HTTP / WebSocket clients over real sockets ----

struct HttpGet
{
    asio::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer; // kept across replies: a read may take bytes of the next one
    std::string host, port;

    HttpGet(std::string h, std::string p) : host(std::move(h)), port(std::move(p)) { connect(); }
    void connect()
    {
        asio::ip::tcp::resolver resolver(io);
        stream.connect(resolver.resolve(host, port));
    }
    // GET target; returns (status, body). Reconnects once when the server closed keep-alive.
    std::pair<int, std::string> get(const std::string &target, const std::string &auth = {})
    {
        for (int attempt = 0;; ++attempt) {
            try {
                beast::http::request<beast::http::empty_body> req{beast::http::verb::get, target,
                                                                  11};
                req.set(beast::http::field::host, host);
                if (!auth.empty())
                    req.set(beast::http::field::authorization, auth);
                beast::http::write(stream, req);
                beast::http::response_parser<beast::http::string_body> parser;
                parser.body_limit(512ULL << 20);
                beast::http::read(stream, buffer, parser);
                auto res = parser.release();
                if (!res.keep_alive()) {
                    beast::error_code ec;
                    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
                    stream.close();
                    buffer.clear();
                    connect();
                }
                return {static_cast<int>(res.result_int()), std::move(res.body())};
            } catch (const std::exception &e) {
                if (attempt > 0)
                    die("GET " + target + ": " + e.what());
                stream.close();
                buffer.clear();
                connect();
            }
        }
    }
};

std::string enc(const std::string &s)
{
    return QUrl::toPercentEncoding(QString::fromStdString(s)).toStdString();
}

int countLines(const std::string &body)
{
    return static_cast<int>(std::count(body.begin(), body.end(), '\n'));
}

// ---- processes ----

// The VictoriaLogs binary in the cache; built with `go install` when absent.
QString victoriaLogsBinary()
{
    QString cache = qEnvironmentVariable("IDL_PEER_CACHE");
    if (cache.isEmpty())
        cache = QDir::homePath() + QStringLiteral("/.cache/instant-dev-logs/peer");
    QDir().mkpath(cache);
    const QString bin = cache + QStringLiteral("/bin/victoria-logs");
    const QString stamp = cache + QStringLiteral("/bin/victoria-logs.version");
    QFile sf(stamp);
    if (QFile::exists(bin) && sf.open(QIODevice::ReadOnly) &&
        sf.readAll().trimmed() == kVictoriaLogsVersion)
        return bin;
    std::printf("building VictoriaLogs %s with go install into %s (nice 19) ...\n",
                kVictoriaLogsVersion, qPrintable(cache));
    std::fflush(stdout);
    QProcess go;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GOBIN"), cache + QStringLiteral("/bin"));
    env.insert(QStringLiteral("GOPATH"), cache + QStringLiteral("/gopath"));
    env.insert(QStringLiteral("GOCACHE"), cache + QStringLiteral("/gocache"));
    env.insert(QStringLiteral("GOFLAGS"), QStringLiteral("-modcacherw"));
    go.setProcessEnvironment(env);
    go.setProcessChannelMode(QProcess::MergedChannels);
    go.start(QStringLiteral("nice"),
             {QStringLiteral("-n"), QStringLiteral("19"), QStringLiteral("go"),
              QStringLiteral("install"),
              QStringLiteral("github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@") +
                  QLatin1String(kVictoriaLogsVersion)});
    if (!go.waitForStarted(10'000))
        die("cannot run go (is Go on PATH?)");
    go.waitForFinished(3'600'000);
    const QByteArray out = go.readAll();
    if (go.exitStatus() != QProcess::NormalExit || go.exitCode() != 0 || !QFile::exists(bin))
        die("go install of VictoriaLogs failed:\n" + out.toStdString());
    QFile w(stamp);
    if (w.open(QIODevice::WriteOnly))
        w.write(kVictoriaLogsVersion);
    return bin;
}

struct Timing
{
    double p50 = 0;
    long long rows = 0; // rows (or counted events) of the last answer
};

Timing measure(int runs, const std::function<long long()> &once)
{
    once(); // warm-up, not counted
    std::vector<double> t;
    long long rows = 0;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        rows = once();
        t.push_back(msSince(t0));
    }
    std::sort(t.begin(), t.end());
    return {t[t.size() / 2], rows};
}

struct IngestResult
{
    double seconds = 0;
    long long retries = 0;
};

// Sends events [0, total) in batches of `batch` over `connections` keep-alive connections.
IngestResult ingest(const std::string &host, const std::string &port, const std::string &target,
                    const std::string &contentType, const std::string &auth, int connections,
                    long long total, int batch, std::int64_t fromNs,
                    void (*append)(std::string &, const Event &))
{
    std::atomic<long long> next{0}, retries{0};
    std::vector<std::thread> threads;
    const auto t0 = Clock::now();
    for (int c = 0; c < connections; ++c) {
        threads.emplace_back([&] {
            try {
                http::Client client(host, port, std::chrono::seconds(120));
                std::string body;
                for (;;) {
                    const long long first = next.fetch_add(batch);
                    if (first >= total)
                        return;
                    const long long last = std::min(total, first + batch);
                    body.clear();
                    for (long long i = first; i < last; ++i)
                        append(body, makeEvent(static_cast<std::uint64_t>(i), fromNs,
                                               static_cast<std::uint64_t>(total)));
                    for (int attempt = 0;; ++attempt) {
                        auto r = client.post(target, contentType, auth, body);
                        if (r && r->status >= 200 && r->status < 300)
                            break;
                        if (attempt > 50)
                            die("ingest " + target + " failed: " +
                                (r ? std::to_string(r->status) + " " + r->body
                                   : r.error().message));
                        ++retries;
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    }
                }
            } catch (const std::exception &e) {
                die("ingest " + target + ": " + e.what());
            }
        });
    }
    for (auto &t : threads)
        t.join();
    return {msSince(t0) / 1000.0, retries.load()};
}

} // namespace

int run();

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    try {
        return run();
    } catch (const std::exception &e) {
        die(std::string("exception: ") + e.what());
    }
}

int run()
{
    const long long total = envInt("IDL_PEER_EVENTS", 1'000'000);
    const int connections = static_cast<int>(envInt("IDL_PEER_CONNECTIONS", 4));
    const int batch = static_cast<int>(envInt("IDL_PEER_BATCH", 1000));
    const int runs = static_cast<int>(std::max(1LL, envInt("IDL_PEER_RUNS", 5)));
    const int settle = static_cast<int>(envInt("IDL_PEER_SETTLE_SECONDS", 60));
    const bool closed = envInt("IDL_PEER_CLOSED", 0) != 0;

    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const std::int64_t dayNs = 86400 * kSecondNs;
    const std::int64_t toNs = closed ? now - now % dayNs - 10 * 60 * kSecondNs : now;
    const std::int64_t fromNs = toNs - kWindowNs;
    const std::int64_t endNs = toNs + kSecondNs; // the queries' exclusive end

    {
        std::string sample;
        for (int i = 0; i < 10000; ++i)
            appendNative(sample, makeEvent(static_cast<std::uint64_t>(i) * 97, fromNs, 1'000'000));
        std::printf("events: %lld, %d connections, %d per request, ~%zu B each (native NDJSON), "
                    "window %s .. %s (%s)\n",
                    total, connections, batch, sample.size() / 10000, rfc3339(fromNs).c_str(),
                    rfc3339(toNs).c_str(), closed ? "closed day" : "ending now");
    }

    const QString vlBin = victoriaLogsBinary();
    QTemporaryDir tmp(QDir::tempPath() + QStringLiteral("/idl-bench-peer-XXXXXX"));
    QFile::setPermissions(tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                          QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                          QFileDevice::ExeOther);

    // VictoriaLogs on a free port with a private data folder.
    const quint16 vlPort = localcluster::freeTcpPort();
    QProcess vl;
    vl.setProcessChannelMode(QProcess::MergedChannels);
    vl.setStandardOutputFile(tmp.filePath(QStringLiteral("victoria-logs.out")));
    vl.start(vlBin, {QStringLiteral("-httpListenAddr=127.0.0.1:%1").arg(vlPort),
                     QStringLiteral("-storageDataPath=") + tmp.filePath(QStringLiteral("vl")),
                     QStringLiteral("-retentionPeriod=30d"), QStringLiteral("-loggerLevel=WARN")});
    const std::string vlHost = "127.0.0.1", vlPortText = std::to_string(vlPort);

    // This project's stack, as a user starts it; the collector's per-key request limit is lifted
    // so the collector is measured, not the limiter. IDL_RETENTION_INTERVAL makes the writer's
    // maintenance (which indexes closed partitions) run soon after the load.
    const QString dir = tmp.filePath(QStringLiteral("stack"));
    idl::testsupport::StackProcess stack(dir, tmp.filePath(QStringLiteral("stack.out")));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("IDL_AUTH_RATE_LIMIT"), QStringLiteral("0"));
    if (!env.contains(QStringLiteral("IDL_RETENTION_INTERVAL")))
        env.insert(QStringLiteral("IDL_RETENTION_INTERVAL"), QStringLiteral("20s"));
    g_cleanup = [&] {
        stack.down(120'000);
        vl.terminate();
        vl.waitForFinished(30'000);
    };
    if (const QString why = stack.up({QStringLiteral("--collector-port"), QStringLiteral("0"),
                                      QStringLiteral("--gateway-port"), QStringLiteral("0"),
                                      QStringLiteral("--otlp-grpc-port"), QStringLiteral("0"),
                                      QStringLiteral("--syslog-tcp-port"), QStringLiteral("0"),
                                      QStringLiteral("--syslog-tls-port"), QStringLiteral("0"),
                                      QStringLiteral("--syslog-udp-port"), QStringLiteral("0")},
                                     180'000, env);
        !why.isEmpty())
        die(why.toStdString());
    const QJsonObject stackJson = stack.json();
    const auto shutdown = g_cleanup;
    std::printf("stack up in %.1f s (load average %.1f)\n", stack.upMs() / 1000.0, loadAverage());
    for (int i = 0; i < 300; ++i) {
        http::Client probe(vlHost, vlPortText, std::chrono::seconds(2));
        auto r = probe.post("/health", "text/plain", {}, {});
        if (r && r->status == 200)
            break;
        if (vl.state() == QProcess::NotRunning || i == 299) {
            shutdown();
            die("VictoriaLogs did not come up: see " +
                tmp.filePath(QStringLiteral("victoria-logs.out")).toStdString());
        }
        QThread::msleep(100);
    }

    std::string ourHost, ourPort, gwHost, gwPort;
    if (auto u = http::parseUrl(
            stackJson.value(QStringLiteral("collector_url")).toString().toStdString())) {
        ourHost = u->host;
        ourPort = u->port;
    }
    const std::string ingestAuth =
        "Bearer " + stackJson.value(QStringLiteral("ingest_api_key")).toString().toStdString();
    const std::string token =
        stackJson.value(QStringLiteral("admin_token")).toString().toStdString();
    {
        const QString url =
            stackJson.value(QStringLiteral("gateway_url")).toString(); // ws://h:p/ws
        const QString hostPort = url.mid(5).section(u'/', 0, 0);
        gwHost = hostPort.section(u':', 0, 0).toStdString();
        gwPort = hostPort.section(u':', 1).toStdString();
    }
    const QString gwHttp = stackJson.value(QStringLiteral("gateway_http_url")).toString();
    std::string gwHttpHost = gwHost, gwHttpPort;
    if (auto u = http::parseUrl(gwHttp.toStdString())) {
        gwHttpHost = u->host;
        gwHttpPort = u->port;
    }
    if (gwHttpPort.empty()) {
        shutdown();
        die("stack.json has no gateway_http_url: " +
            QJsonDocument(stackJson).toJson(QJsonDocument::Compact).toStdString());
    }

    // ---- ingest: ours, then VictoriaLogs (one after the other, never side by side) ----
    const double loadBefore = loadAverage();
    const IngestResult ourIngest =
        ingest(ourHost, ourPort, "/api/v1/logs", "application/x-ndjson", ingestAuth, connections,
               total, batch, fromNs, appendNative);
    const auto ourWait0 = Clock::now();
    auto db = pg::Connection::connect(
        stackJson.value(QStringLiteral("postgres_dsn")).toString().toStdString());
    if (!db) {
        shutdown();
        die(db.error().message);
    }
    long long stored = 0;
    while (msSince(ourWait0) < 1'800'000) {
        auto r = db->query("SELECT count(*) FROM logs WHERE ts >= $1::bigint AND ts < $2::bigint",
                           {std::to_string(fromNs), std::to_string(endNs)});
        stored = r ? std::stoll(std::string(r->value(0, 0))) : 0;
        if (stored >= total)
            break;
        QThread::msleep(500);
    }
    const double ourStoredSeconds = msSince(ourWait0) / 1000.0;

    const IngestResult vlIngest =
        ingest(vlHost, vlPortText, "/insert/jsonline?_stream_fields=app,host",
               "application/stream+json", {}, connections, total, batch, fromNs, appendVictoria);
    HttpGet vlq(vlHost, vlPortText);
    const std::string vlRange =
        "&start=" + std::to_string(fromNs) + "&end=" + std::to_string(endNs);
    const auto vlWait0 = Clock::now();
    long long vlStored = 0;
    while (msSince(vlWait0) < 600'000) {
        auto [status, body] =
            vlq.get("/select/logsql/query?query=" + enc("* | stats count() as n") + vlRange);
        const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(body)).object();
        vlStored = o.value(QStringLiteral("n")).toString().toLongLong();
        if (status == 200 && vlStored >= total)
            break;
        QThread::msleep(500);
    }
    const double vlStoredSeconds = msSince(vlWait0) / 1000.0;
    std::printf("ingest: ours %.1f s (%lld retries), all %lld queryable %.1f s later; VictoriaLogs "
                "%.1f s (%lld retries), all %lld queryable %.1f s later (load average %.1f -> "
                "%.1f)\n",
                ourIngest.seconds, ourIngest.retries, stored, ourStoredSeconds, vlIngest.seconds,
                vlIngest.retries, vlStored, vlStoredSeconds, loadBefore, loadAverage());
    if (stored != total || vlStored != total) {
        shutdown();
        die("not every event arrived");
    }
    auto maintained = db->query("SELECT count(*) FROM schema_migrations WHERE version = 7");
    // IDL_MAINTENANCE_INDEX_PARTITIONS=0 (the writer's setting) measures a closed day without
    // its indexes.
    if (closed && maintained && maintained->value(0, 0) != "0" &&
        qgetenv("IDL_MAINTENANCE_INDEX_PARTITIONS") != "0") {
        // The maintenance indexes a partition once its day is over; wait for its indexes.
        const auto t0 = Clock::now();
        long long indexed = 0;
        while (msSince(t0) < 900'000) {
            auto r = db->query("SELECT count(*) FROM pg_indexes WHERE tablename = "
                               "(SELECT name FROM idl_log_partitions() WHERE from_ns <= $1::bigint "
                               "AND to_ns > $1::bigint) AND indexname LIKE '%_closed_%'",
                               {std::to_string(fromNs)});
            indexed = r ? std::stoll(std::string(r->value(0, 0))) : 0;
            if (indexed > 0)
                break;
            QThread::msleep(1000);
        }
        std::printf("closed-partition indexes present after %.1f s: %lld\n", msSince(t0) / 1000.0,
                    indexed);
    }
    std::printf("settling %d s (autovacuum, BRIN summaries, VictoriaLogs merges) ...\n", settle);
    std::fflush(stdout);
    QThread::sleep(static_cast<unsigned long>(settle));

    // ---- queries ----
    HttpGet ours(gwHttpHost, gwHttpPort);
    const std::string bearer = "Bearer " + token;
    const std::string ourRange = "&from=" + std::to_string(fromNs) + "&to=" + std::to_string(endNs);
    const auto ourPage = [&](const std::string &q) {
        return [&, q]() -> long long {
            auto [status, body] =
                ours.get("/api/v1/query?q=" + enc(q) + ourRange + "&limit=100", bearer);
            if (status != 200)
                die("gateway query " + q + ": " + std::to_string(status) + " " + body);
            return countLines(body);
        };
    };
    const auto vlPage = [&](const std::string &q) {
        return [&, q]() -> long long {
            auto [status, body] = vlq.get("/select/logsql/query?query=" +
                                          enc(q + " | sort by (_time desc) | limit 100") + vlRange);
            if (status != 200)
                die("VictoriaLogs query " + q + ": " + std::to_string(status) + " " + body);
            return countLines(body);
        };
    };
    // Our histogram: the WebSocket `aggregate` the console sends (default bucket, split by level).
    asio::io_context io;
    beast::websocket::stream<asio::ip::tcp::socket> ws(io);
    {
        asio::ip::tcp::resolver resolver(io);
        asio::connect(ws.next_layer(), resolver.resolve(gwHost, gwPort));
        ws.handshake(gwHost + ":" + gwPort, "/ws");
        ws.write(asio::buffer("{\"type\":\"hello\",\"id\":\"h\",\"versions\":[1],\"client\":"
                              "\"bench_peer\",\"token\":\"" +
                              token + "\"}"));
        beast::flat_buffer b;
        ws.read(b);
    }
    std::string histogramSource;
    long long histogramBuckets = 0;
    const auto ourHistogram = [&]() -> long long {
        ws.write(asio::buffer("{\"type\":\"aggregate\",\"id\":\"a\",\"q\":\"\",\"from\":\"" +
                              std::to_string(fromNs) + "\",\"to\":\"" + std::to_string(endNs) +
                              "\",\"split\":\"level\"}"));
        for (;;) {
            beast::flat_buffer b;
            ws.read(b);
            const QJsonObject o = QJsonDocument::fromJson(
                                      QByteArray::fromStdString(beast::buffers_to_string(b.data())))
                                      .object();
            const QString type = o.value(QStringLiteral("type")).toString();
            if (type == QStringLiteral("aggregate.result")) {
                histogramSource = o.value(QStringLiteral("source")).toString().toStdString();
                histogramBuckets = o.value(QStringLiteral("buckets")).toArray().size();
                return o.value(QStringLiteral("total")).toInteger();
            }
            if (type == QStringLiteral("error"))
                die("aggregate: " + QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString());
        }
    };
    const auto vlHistogram = [&]() -> long long {
        // The same buckets as ours: 30 s for a 50 min range (<= 120 buckets).
        auto [status, body] =
            vlq.get("/select/logsql/hits?query=" + enc("*") + vlRange + "&step=30s&field=level");
        if (status != 200)
            die("VictoriaLogs hits: " + std::to_string(status) + " " + body);
        long long sum = 0;
        for (const auto &h : QJsonDocument::fromJson(QByteArray::fromStdString(body))
                                 .object()
                                 .value(QStringLiteral("hits"))
                                 .toArray())
            sum += h.toObject().value(QStringLiteral("total")).toInteger();
        return sum;
    };

    struct Row
    {
        const char *name;
        Timing vl, ours;
    };
    std::vector<Row> rows;
    const double loadQueries = loadAverage();
    rows.push_back({"first page, `app:checkout level:error`, 100 rows",
                    measure(runs, vlPage("app:=checkout level:=error")),
                    measure(runs, ourPage("app:checkout level:error"))});
    rows.push_back({"histogram by level, whole range", measure(runs, vlHistogram),
                    measure(runs, ourHistogram)});
    rows.push_back({"substring `\"connection reset\"`, first 100",
                    measure(runs, vlPage("\"connection reset\"")),
                    measure(runs, ourPage("\"connection reset\""))});
    rows.push_back({"substring with no match, whole range",
                    measure(runs, vlPage("\"xylophone cascade\"")),
                    measure(runs, ourPage("\"xylophone cascade\""))});
    rows.push_back({"attribute `@duration_ms:>=2900`, first 100",
                    measure(runs, vlPage("duration_ms:>=2900")),
                    measure(runs, ourPage("@duration_ms:>=2900"))});

    std::printf("\nqueries: p50 of %d after one warm-up; load average %.1f before, %.1f after; "
                "our histogram: %lld buckets from %s\n\n",
                runs, loadQueries, loadAverage(), histogramBuckets, histogramSource.c_str());
    std::printf(
        "| query (%lld events%s) | VictoriaLogs | this project | ratio | rows (VL / ours) |\n"
        "| --- | ---: | ---: | ---: | --- |\n",
        total, closed ? ", closed day" : "");
    bool sameRows = true;
    for (const Row &r : rows) {
        std::printf("| %s | %.1f ms | %.1f ms | %.1fx | %lld / %lld |\n", r.name, r.vl.p50,
                    r.ours.p50, r.vl.p50 > 0 ? r.ours.p50 / r.vl.p50 : 0.0, r.vl.rows, r.ours.rows);
        sameRows = sameRows && r.vl.rows == r.ours.rows;
    }
    const double vlRate = static_cast<double>(total) / vlIngest.seconds;
    const double ourRate = static_cast<double>(total) / ourIngest.seconds;
    std::printf("| ingest, %d connections, acked/s | %.0fK | %.0fK | %.2fx | |\n", connections,
                vlRate / 1000, ourRate / 1000, ourRate / vlRate);
    std::fflush(stdout);
    g_cleanup = nullptr;
    shutdown();
    if (!sameRows) {
        std::fprintf(stderr, "bench_peer: the two systems returned different row counts\n");
        return 1;
    }
    return 0;
}
