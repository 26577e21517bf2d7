// The collector end to end against a real PostgreSQL (api_keys) and a real Kafka broker: every
// acknowledged event is in the raw topic exactly once and nothing of a refused request is;
// per-event errors keep the valid rest; limits; the auth matrix including mTLS with
// certificates made by the openssl CLI; OTLP JSON from the real OpenTelemetry Python SDK;
// rate limits; metrics; and a broker outage (429/503, never 202) with recovery.
#include "collector_fixture.h"
#include "collector_test_util.h"
#include "idl_test_servers.h"
#include "otlp_spec_examples.h"

#include "idl/collector/collector.h"
#include "idl/collector/key_store.h"
#include "idl/core/json_codec.h"
#include "idl/kafka/consumer.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"

#include <QDir>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonArray>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>
#include <thread>

using namespace idl;
using namespace idl::collector;
using namespace idl::collectortest;

namespace {

QByteArray ndjson(const QByteArray &marker, int count, const QByteArray &app = {})
{
    QByteArray out;
    for (int i = 0; i < count; ++i) {
        out += "{\"message\":\"" + marker + "-" + QByteArray::number(i) + "\"";
        if (!app.isEmpty())
            out += ",\"app\":\"" + app + "\"";
        out += ",\"level\":\"info\",\"n\":" + QByteArray::number(i) + "}\n";
    }
    return out;
}

HttpHeaders auth(const std::string &key, const QByteArray &type = "application/x-ndjson")
{
    return {{"Authorization", "Bearer " + QByteArray::fromStdString(key)}, {"Content-Type", type}};
}

// Runs a shell script; returns its output, or fails the test.
QByteArray sh(const QString &script, const QString &dir)
{
    QProcess p;
    p.setWorkingDirectory(dir);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("/bin/sh"), {QStringLiteral("-ec"), script});
    p.waitForFinished(60'000);
    if (p.exitCode() != 0)
        qWarning("script failed: %s", p.readAll().constData());
    return p.exitCode() == 0 ? p.readAll() : QByteArray();
}

} // namespace

class TestCollectorIntegration : public QObject
{
    Q_OBJECT

    std::string m_dsn;
    std::string m_bootstrap;
    std::string m_topic;
    NewApiKey m_anyKey, m_shopKey, m_revokedKey;
    std::unique_ptr<Collector> m_collector;
    std::unique_ptr<HttpClient> m_client;
    std::set<std::string> m_acked;              // messages of events answered as accepted
    std::set<std::string> m_refused;            // messages of events in refused requests
    std::unique_ptr<TopicReader> m_topicReader; // everything read from the topic so far
    QTemporaryDir m_certs;

    CollectorOptions baseOptions()
    {
        CollectorOptions o;
        o.http.port = 0;
        o.http.address = "127.0.0.1";
        o.pgDsn = m_dsn;
        o.kafkaBootstrap = m_bootstrap;
        o.topic = m_topic;
        o.createTopic = false;
        o.ackTimeout = std::chrono::milliseconds(4000);
        o.auth.cacheTtl = std::chrono::milliseconds(1000);
        o.rateLimitPerSecond = 0;
        o.batchLimits.maxEvents = 2000;
        o.collectorId = "test-collector";
        o.metricsToken = "metrics-secret";
        return o;
    }

    // Records every message of `body`'s events under acked or refused, by the reply.
    void account(const HttpReply &r, const QByteArray &marker, int count)
    {
        for (int i = 0; i < count; ++i) {
            const std::string m = marker.toStdString() + "-" + std::to_string(i);
            (r.status == 202 || r.status == 200 ? m_acked : m_refused).insert(m);
        }
    }

    // Reads the topic until `want` records of these messages have arrived or it stays quiet.
    void drain(const std::set<std::string> &want, int quietMs = 2500, int maxMs = 30'000)
    {
        const std::string error = m_topicReader->drain(want, quietMs, maxMs);
        QVERIFY2(error.empty(), error.c_str());
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto servers = collectorServers("collector", 4);
        IDL_VERIFY_OK(servers);
        m_dsn = servers->dsn;
        m_bootstrap = servers->bootstrap;
        m_topic = servers->topic;
        auto db = pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(db);
        auto revoked = createKey(*db, "revoked", std::nullopt);
        IDL_VERIFY_OK(revoked);
        m_anyKey = servers->anyKey;
        m_shopKey = servers->shopKey;
        m_revokedKey = *revoked;
        IDL_VERIFY_OK(revokeKey(*db, m_revokedKey.prefix));
        // Only hashes are stored.
        auto stored = db->query("SELECT count(*) FROM api_keys WHERE position($1 in "
                                "encode(key_hash, 'escape')) > 0",
                                {m_anyKey.key});
        IDL_VERIFY_OK(stored);
        QCOMPARE(stored->value(0, 0), std::string_view("0"));

        m_collector = std::make_unique<Collector>(baseOptions());
        IDL_VERIFY_OK(m_collector->start());
        QCOMPARE(m_collector->notReadyReason(), std::string());
        m_client = std::make_unique<HttpClient>(m_collector->port());

        auto reader = TopicReader::open(m_bootstrap, m_topic, 4);
        IDL_VERIFY_OK(reader);
        m_topicReader = std::move(*reader);
    }

    void opsEndpoints()
    {
        QCOMPARE(m_client->get("/healthz").status, 200);
        QCOMPARE(m_client->get("/readyz").status, 200);
        QCOMPARE(m_client->get("/metrics").status, 401);
    }

    void acceptsEveryFormat()
    {
        // NDJSON, JSON array, single object, gzip and zstd; X-API-Key and Bearer.
        auto r = m_client->post("/api/v1/logs", ndjson("nd", 50, "web"), auth(m_anyKey.key));
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json().value(QStringLiteral("accepted")).toInt(), 50);
        QCOMPARE(r.json().value(QStringLiteral("rejected")).toInt(), 0);
        account(r, "nd", 50);

        QByteArray arr = "[";
        for (int i = 0; i < 20; ++i)
            arr += QByteArray(i ? "," : "") + "{\"msg\":\"arr-" + QByteArray::number(i) +
                   "\",\"app\":\"api\"}";
        arr += "]";
        r = m_client->post("/api/v1/logs", arr,
                           {{"X-API-Key", QByteArray::fromStdString(m_anyKey.key)},
                            {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json().value(QStringLiteral("accepted")).toInt(), 20);
        account(r, "arr", 20);

        r = m_client->post("/api/v1/logs", "{\"message\":\"one-0\",\"app\":\"api\"}",
                           auth(m_anyKey.key, "application/json"));
        QCOMPARE(r.status, 202);
        account(r, "one", 1);

        auto h = auth(m_anyKey.key);
        h.emplace_back("Content-Encoding", "gzip");
        const QByteArray gz = ndjson("gz", 300, "web");
        r = m_client->post("/api/v1/logs", QByteArray::fromStdString(gzip(gz.toStdString())), h);
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json().value(QStringLiteral("accepted")).toInt(), 300);
        account(r, "gz", 300);

        h = auth(m_anyKey.key);
        h.emplace_back("Content-Encoding", "zstd");
        r = m_client->post("/api/v1/logs",
                           QByteArray::fromStdString(zstd(ndjson("zs", 30, "web").toStdString())),
                           h);
        QCOMPARE(r.status, 202);
        account(r, "zs", 30);
    }

    void partialBatchKeepsValidEvents()
    {
        QByteArray body = "{\"message\":\"part-0\",\"app\":\"web\"}\n"
                          "{\"message\":\"broken\"\n"
                          "{\"message\":\"bad \xff utf8\"}\n";
        body += "{\"message\":\"" + QByteArray(300 * 1024, 'x') + "\"}\n";
        body += "{\"message\":\"part-1\",\"app\":\"web\",\"ts\":\"yesterday\"}\n";
        body += "{\"message\":\"part-1\",\"app\":\"web\"}\n";
        auto r = m_client->post("/api/v1/logs", body, auth(m_anyKey.key));
        QCOMPARE(r.status, 202);
        const QJsonObject j = r.json();
        QCOMPARE(j.value(QStringLiteral("accepted")).toInt(), 2);
        QCOMPARE(j.value(QStringLiteral("rejected")).toInt(), 4);
        const QJsonArray errors = j.value(QStringLiteral("errors")).toArray();
        QCOMPARE(errors.size(), 4);
        const std::pair<int, const char *> expected[] = {
            {1, "bad_json"}, {2, "invalid_utf8"}, {3, "too_large"}, {4, "bad_timestamp"}};
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(errors[i].toObject().value(QStringLiteral("index")).toInt(),
                     expected[i].first);
            QCOMPARE(errors[i].toObject().value(QStringLiteral("code")).toString(),
                     QString::fromUtf8(expected[i].second));
        }
        account(r, "part", 2);

        // Nothing valid: 400 with every error listed, nothing stored.
        r = m_client->post("/api/v1/logs", "nope\n{\"no\":\"message\"}\n", auth(m_anyKey.key));
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value(QStringLiteral("accepted")).toInt(), 0);
        QCOMPARE(r.json().value(QStringLiteral("errors")).toArray().size(), 2);
    }

    void limitsAndContentTypes()
    {
        // Wrong content type and encoding: 415; the events in them are not stored.
        QByteArray body = ndjson("ctype", 3, "web");
        auto r = m_client->post("/api/v1/logs", body, auth(m_anyKey.key, "text/plain"));
        QCOMPARE(r.status, 415);
        QCOMPARE(r.json()
                     .value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("code"))
                     .toString(),
                 QStringLiteral("bad_encoding"));
        account(r, "ctype", 3);
        auto h = auth(m_anyKey.key);
        h.emplace_back("Content-Encoding", "br");
        r = m_client->post("/api/v1/logs", ndjson("enc", 3, "web"), h);
        QCOMPARE(r.status, 415);
        account(r, "enc", 3);

        // A gzip bomb (256 MiB of zeros after a valid line) stops at the 5 MiB limit: 413.
        std::string bomb = gzip(ndjson("bomb", 3, "web").toStdString()) + gzipZeros(256 << 20);
        h = auth(m_anyKey.key);
        h.emplace_back("Content-Encoding", "gzip");
        r = m_client->post("/api/v1/logs", QByteArray::fromStdString(bomb), h);
        QCOMPARE(r.status, 413);
        QCOMPARE(r.json()
                     .value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("code"))
                     .toString(),
                 QStringLiteral("too_large"));
        account(r, "bomb", 3);

        // A body over 5 MiB as sent: 413 from the header alone, before the body is sent.
        HttpClient big(m_collector->port());
        r = big.raw("POST /api/v1/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    QByteArray::fromStdString(m_anyKey.key) +
                    "\r\nContent-Type: application/x-ndjson\r\nExpect: 100-continue\r\n"
                    "Content-Length: " +
                    QByteArray::number(6 << 20) + "\r\n\r\n");
        QCOMPARE(r.status, 413);

        // Too many events in one request: 413, none stored.
        r = m_client->post("/api/v1/logs", ndjson("many", 2001, "web"), auth(m_anyKey.key));
        QCOMPARE(r.status, 413);
        QCOMPARE(r.json()
                     .value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("code"))
                     .toString(),
                 QStringLiteral("too_many"));
        account(r, "many", 2001);

        // Every event oversized: 413.
        r = m_client->post("/api/v1/logs",
                           "{\"message\":\"" + QByteArray(300 * 1024, 'y') + "\"}\n",
                           auth(m_anyKey.key));
        QCOMPARE(r.status, 413);

        // An endless chunked body is cut off at the limit.
        HttpClient chunked(m_collector->port());
        QByteArray head = "POST /api/v1/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          QByteArray::fromStdString(m_anyKey.key) +
                          "\r\nContent-Type: application/x-ndjson\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n";
        QByteArray chunk =
            QByteArray::number(1 << 20, 16) + "\r\n" + QByteArray(1 << 20, ' ') + "\r\n";
        r = chunked.stream(head, chunk, 1000); // 1 GiB if nothing stopped it
        // The server answers 413 and closes; when it closes while the client is still
        // sending, the kernel's reset can swallow the reply, so a close counts too.
        QVERIFY2(r.status == 413 || (r.status == 0 && r.error.contains(QStringLiteral("closed"))),
                 qPrintable(QString::number(r.status) + u' ' + r.error));
        QVERIFY2(chunked.streamed() < (64 << 20), "the endless body was not cut off");
    }

    void authMatrix()
    {
        const QByteArray body = ndjson("auth", 2);
        auto r = m_client->post("/api/v1/logs", body, {{"Content-Type", "application/x-ndjson"}});
        QCOMPARE(r.status, 401);
        QVERIFY(!r.header("www-authenticate").isEmpty());
        account(r, "auth", 2);

        std::string wrong = m_anyKey.key;
        wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
        r = m_client->post("/api/v1/logs", ndjson("wrong", 2), auth(wrong));
        QCOMPARE(r.status, 401);
        account(r, "wrong", 2);
        r = m_client->post("/api/v1/logs", ndjson("garbage", 2), auth("not-a-key"));
        QCOMPARE(r.status, 401);
        account(r, "garbage", 2);
        r = m_client->post("/api/v1/logs", ndjson("revoked", 2), auth(m_revokedKey.key));
        QCOMPARE(r.status, 401);
        QVERIFY(r.json()
                    .value(QStringLiteral("error"))
                    .toObject()
                    .value(QStringLiteral("message"))
                    .toString()
                    .contains(QStringLiteral("revoked")));
        account(r, "revoked", 2);

        // A key bound to "shop": other apps are 403, no app means shop.
        r = m_client->post("/api/v1/logs", ndjson("bank", 2, "bank"), auth(m_shopKey.key));
        QCOMPARE(r.status, 403);
        QCOMPARE(r.json()
                     .value(QStringLiteral("errors"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("code"))
                     .toString(),
                 QStringLiteral("forbidden"));
        account(r, "bank", 2);
        r = m_client->post("/api/v1/logs", ndjson("shop", 2), auth(m_shopKey.key));
        QCOMPARE(r.status, 202);
        account(r, "shop", 2);
        r = m_client->post("/api/v1/logs", ndjson("shopnamed", 2, "shop"), auth(m_shopKey.key));
        QCOMPARE(r.status, 202);
        account(r, "shopnamed", 2);
    }

    void revocationWithinTtl()
    {
        auto db = pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(db);
        auto key = createKey(*db, "short-lived", std::nullopt);
        IDL_VERIFY_OK(key);
        auto r = m_client->post("/api/v1/logs", ndjson("live", 1, "web"), auth(key->key));
        QCOMPARE(r.status, 202);
        account(r, "live", 1);
        IDL_VERIFY_OK(revokeKey(*db, key->key));
        QElapsedTimer t;
        t.start();
        int status = 202;
        int n = 0;
        while (status == 202 && t.elapsed() < 5000) {
            const QByteArray marker = "ttl" + QByteArray::number(n++);
            r = m_client->post("/api/v1/logs", ndjson(marker, 1, "web"), auth(key->key));
            status = r.status;
            account(r, marker, 1);
            QTest::qWait(100);
        }
        QCOMPARE(status, 401);
        // TTL 1 s, plus one lookup (answered from the cache while it takes longer than
        // auth.refresh-wait) and the 100 ms between attempts, in a sanitizer build on a busy
        // machine.
        QVERIFY2(t.elapsed() < 3000, "revocation took much longer than the cache TTL");
    }

    void adminKeysCommand()
    {
        // idl-admin keys create | list | revoke against the same database.
        const QString admin = qEnvironmentVariable("IDL_BIN_DIR") + QStringLiteral("/idl-admin");
        QVERIFY2(QFile::exists(admin), "idl-admin not built");
        const auto run = [&](QStringList args) {
            QProcess p;
            p.start(admin,
                    QStringList{QStringLiteral("--pg.dsn"), QString::fromStdString(m_dsn)} + args);
            p.waitForFinished(30'000);
            QByteArray out = p.readAllStandardOutput();
            out += p.readAllStandardError();
            return std::make_pair(p.exitCode(), out);
        };
        QCOMPARE(run({QStringLiteral("migrate")}).first, 0);
        auto [rc, out] =
            run({QStringLiteral("keys"), QStringLiteral("create"), QStringLiteral("--name"),
                 QStringLiteral("cli-made"), QStringLiteral("--app"), QStringLiteral("cli")});
        QCOMPARE(rc, 0);
        const std::string key = out.trimmed().split('\n').last().trimmed().toStdString();
        const auto prefix = apiKeyPrefix(key);
        QVERIFY2(prefix.has_value(), out.constData());
        auto r = m_client->post("/api/v1/logs", ndjson("cli", 2), auth(key));
        QCOMPARE(r.status, 202);
        account(r, "cli", 2);
        auto [rcList, list] = run({QStringLiteral("keys"), QStringLiteral("list")});
        QCOMPARE(rcList, 0);
        QVERIFY(list.contains(QByteArray(prefix->data(), static_cast<qsizetype>(prefix->size()))));
        QVERIFY(list.contains("cli-made"));
        QVERIFY(!list.contains(QByteArray::fromStdString(key))); // never shown again
        QCOMPARE(run({QStringLiteral("keys"), QStringLiteral("revoke"),
                      QString::fromUtf8(prefix->data(), static_cast<qsizetype>(prefix->size()))})
                     .first,
                 0);
        auto [rcActive, active] = run({QStringLiteral("keys"), QStringLiteral("list")});
        QCOMPARE(rcActive, 0);
        QVERIFY(!active.contains("cli-made"));
        auto [rcAll, all] =
            run({QStringLiteral("keys"), QStringLiteral("list"), QStringLiteral("--all")});
        QCOMPARE(rcAll, 0);
        QVERIFY(all.contains("cli-made"));
        QVERIFY(
            run({QStringLiteral("keys"), QStringLiteral("revoke"), QStringLiteral("nosuchprefix")})
                .first != 0);
        QVERIFY(run({QStringLiteral("keys"), QStringLiteral("create")}).first !=
                0);         // --name needed
        QTest::qWait(1100); // the key cache TTL
        // The first request past the TTL refreshes the entry; a refresh slower than
        // auth.refresh-wait (a sanitizer build on a busy machine) is answered from the cache.
        QElapsedTimer t;
        t.start();
        int status = 202;
        for (int n = 0; status == 202 && t.elapsed() < 5000; ++n) {
            const QByteArray marker = "clirevoked" + QByteArray::number(n);
            r = m_client->post("/api/v1/logs", ndjson(marker, 1), auth(key));
            status = r.status;
            account(r, marker, 1);
            if (status == 202)
                QTest::qWait(100);
        }
        QCOMPARE(status, 401);
    }

    void otlpJson()
    {
        auto r =
            m_client->post("/v1/logs", kSpecLogsExample, auth(m_anyKey.key, "application/json"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(QStringLiteral("accepted")).toInt(), 1);
        QVERIFY(!r.json().contains(QStringLiteral("partialSuccess")));
        m_acked.insert("Example log record");
        // Protobuf is decoded (test_collector_otlp); a truncated message is a 400.
        r = m_client->post("/v1/logs", "\x0a\x02", auth(m_anyKey.key, "application/x-protobuf"));
        QCOMPARE(r.status, 400);
        r = m_client->post("/v1/logs", "{}", auth(m_anyKey.key, "text/plain"));
        QCOMPARE(r.status, 415);
        r = m_client->post("/v1/logs", "{\"resourceLogs\":[]}",
                           auth(m_anyKey.key, "application/json"));
        QCOMPARE(r.status, 200);
        r = m_client->post("/v1/logs", kSpecLogsExample, auth(m_shopKey.key, "application/json"));
        QCOMPARE(r.status, 403); // my.service is not shop
        QCOMPARE(r.json()
                     .value(QStringLiteral("partialSuccess"))
                     .toObject()
                     .value(QStringLiteral("rejectedLogRecords"))
                     .toString(),
                 QStringLiteral("1"));
    }

    void openTelemetrySdkExporter()
    {
        // The real SDK: opentelemetry-sdk with its OTLP/HTTP JSON log exporter, in a venv kept
        // in the cache folder (made here on first use; scripts/bootstrap may pre-create it).
        const QString cache = qEnvironmentVariable(
            "IDL_CACHE_DIR", QDir::homePath() + QStringLiteral("/.cache/instant-dev-logs"));
        const QString venv = cache + QStringLiteral("/otel-venv");
        const QString python = venv + QStringLiteral("/bin/python");
        if (!QFile::exists(python + QStringLiteral(".ok"))) {
            QDir().mkpath(cache);
            const QByteArray out = sh(
                QStringLiteral(
                    "python3 -m venv '%1' && '%1/bin/pip' install -q --disable-pip-version-check "
                    "'opentelemetry-sdk>=1.45,<2' 'opentelemetry-exporter-otlp-json-http' && "
                    "touch '%1/bin/python.ok' && echo ok")
                    .arg(venv),
                cache);
            QVERIFY2(out.contains("ok"), "could not install the OpenTelemetry SDK into a venv");
        }
        const QString script =
            qEnvironmentVariable("IDL_SOURCE_DIR", QStringLiteral(IDL_TEST_SOURCE_DIR)) +
            QStringLiteral("/tests/collector/otel_sdk_logs.py");
        QProcess p;
        p.start(python,
                {script, QStringLiteral("http://127.0.0.1:%1/v1/logs").arg(m_collector->port()),
                 QString::fromStdString(m_anyKey.key), QStringLiteral("otelsdk"),
                 QStringLiteral("25")});
        QVERIFY(p.waitForFinished(60'000));
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(p.exitCode() == 0, err.constData());
        const std::string traceId = p.readAllStandardOutput().trimmed().toStdString();
        QCOMPARE(traceId.size(), std::size_t(32));
        std::set<std::string> want;
        for (int i = 0; i < 25; ++i)
            want.insert("otelsdk record " + std::to_string(i));
        drain(want);
        int found = 0;
        for (const auto &rec : m_topicReader->records) {
            if (!want.count(rec.event.message))
                continue;
            ++found;
            QCOMPARE(rec.event.app, std::string("otel-py"));
            QCOMPARE(rec.event.host, std::string("sdk-host"));
            QCOMPARE(rec.event.level, Level::Warn);
            QCOMPARE(rec.event.traceId, traceId);
            QCOMPARE(rec.event.spanId.size(), std::size_t(16));
            QCOMPARE(rec.key, std::string("otel-py"));
            const auto attrs =
                QJsonDocument::fromJson(QByteArray::fromStdString(rec.event.attrsJson)).object();
            QVERIFY(attrs.contains(QStringLiteral("record.index")));
            QCOMPARE(attrs.value(QStringLiteral("telemetry.sdk.language")).toString(),
                     QStringLiteral("python"));
        }
        QCOMPARE(found, 25);
    }

    // Issue 15, finding 8: credentials are checked before the body is read. The client sends
    // the headers of a 1 MiB request and holds the body back: without a (valid) key the
    // answer comes at once; the old collector waited for the whole body (30 s read timeout).
    void credentialsAreCheckedBeforeTheBody()
    {
        const auto headersOnly = [&](const QByteArray &authLine, int waitMs) {
            QTcpSocket sock;
            sock.connectToHost(QHostAddress::LocalHost, m_collector->port());
            if (!sock.waitForConnected(5000))
                return QByteArray("no connection");
            sock.write("POST /api/v1/logs HTTP/1.1\r\nHost: localhost\r\n"
                       "Content-Type: application/x-ndjson\r\nContent-Length: 1048576\r\n" +
                       authLine + "\r\n");
            sock.flush();
            QElapsedTimer t;
            t.start();
            QByteArray got;
            while (t.elapsed() < waitMs && !got.contains("\r\n\r\n")) {
                sock.waitForReadyRead(50);
                got += sock.readAll();
            }
            return got.left(got.indexOf("\r\n"));
        };
        QCOMPARE(headersOnly({}, 3000), QByteArray("HTTP/1.1 401 Unauthorized"));
        QCOMPARE(headersOnly("Authorization: Bearer idk_aaaaaaaaaaaa_notarealsecret\r\n", 3000),
                 QByteArray("HTTP/1.1 401 Unauthorized"));
        // A valid key: the server waits for the body, as it should.
        QCOMPARE(
            headersOnly("Authorization: Bearer " + QByteArray::fromStdString(m_anyKey.key) + "\r\n",
                        1500),
            QByteArray());
    }

    void mutualTls()
    {
        QVERIFY(m_certs.isValid());
        const QString d = m_certs.path();
        const QByteArray ok = sh(
            QStringLiteral(
                "gen() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                "  -keyout $1.key -out $1.crt -days 2 -subj /CN=$1 2>/dev/null; }\n"
                "leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                "  -keyout $1.key -out $1.csr -subj /CN=$2 2>/dev/null;"
                "  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > $1.ext;"
                "  openssl x509 -req -in $1.csr -CA $3.crt -CAkey $3.key -CAcreateserial "
                "  -out $1.crt -days 2 -extfile $1.ext 2>/dev/null; }\n"
                "gen ca; gen otherca\n"
                "leaf server localhost ca\n"
                "leaf client shop-svc ca\n"
                "leaf stranger stranger ca\n"
                "leaf forged shop-svc otherca\n"
                "echo ok"),
            d);
        QVERIFY(ok.contains("ok"));

        CollectorOptions o = baseOptions();
        o.http.tlsCertFile = QString(d + QStringLiteral("/server.crt")).toStdString();
        o.http.tlsKeyFile = QString(d + QStringLiteral("/server.key")).toStdString();
        o.http.tlsClientCaFile = QString(d + QStringLiteral("/ca.crt")).toStdString();
        o.auth.certApps = parseCertApps("shop-svc=shop").value();
        Collector tlsCollector(o);
        IDL_VERIFY_OK(tlsCollector.start());
        const quint16 port = tlsCollector.port();
        const auto tls = [&](const QString &who) {
            ClientTls t{d + QStringLiteral("/ca.crt"), {}, {}};
            if (!who.isEmpty()) {
                t.certFile = d + QStringLiteral("/%1.crt").arg(who);
                t.keyFile = d + QStringLiteral("/%1.key").arg(who);
            }
            return t;
        };
        const HttpHeaders type{{"Content-Type", "application/x-ndjson"}};

        // A verified certificate stands in for a key; its CN maps to app "shop".
        HttpClient client(port, tls(QStringLiteral("client")));
        auto r = client.post("/api/v1/logs", ndjson("mtls", 3), type);
        QCOMPARE(r.status, 202);
        account(r, "mtls", 3);
        r = client.post("/api/v1/logs", ndjson("mtlsbank", 2, "bank"), type);
        QCOMPARE(r.status, 403);
        account(r, "mtlsbank", 2);

        // Verified but not mapped: needs a key.
        HttpClient stranger(port, tls(QStringLiteral("stranger")));
        r = stranger.post("/api/v1/logs", ndjson("stranger", 1), type);
        QCOMPARE(r.status, 401);
        account(r, "stranger", 1);

        // A certificate from another CA (same CN) is refused in the handshake.
        HttpClient forged(port, tls(QStringLiteral("forged")));
        r = forged.post("/api/v1/logs", ndjson("forged", 2), type);
        QCOMPARE(r.status, 0);
        account(r, "forged", 2);

        // TLS without a client certificate: a key still works, nothing else does.
        HttpClient anonymous(port, tls({}));
        r = anonymous.post("/api/v1/logs", ndjson("tlsnokey", 1), type);
        QCOMPARE(r.status, 401);
        account(r, "tlsnokey", 1);
        r = anonymous.post("/api/v1/logs", ndjson("tlskey", 1, "web"), auth(m_anyKey.key));
        QCOMPARE(r.status, 202);
        account(r, "tlskey", 1);

        // Issue 15, finding 8: a TLS 1.2 client with a certificate resumes its session (the
        // server needs a session id context for that once it verifies client certificates;
        // without one OpenSSL aborts every resumption with "session id context
        // uninitialized").
        const QByteArray resumed = sh(
            QStringLiteral("c() { openssl s_client -connect 127.0.0.1:%1 -tls1_2 -CAfile ca.crt "
                           "  -cert client.crt -key client.key \"$@\" </dev/null 2>&1; }\n"
                           "c -sess_out sess.pem | grep -q 'Verify return code: 0'\n"
                           "c -sess_in sess.pem | grep -E '^(Reused|New),|alert|error' | head -3")
                .arg(port),
            d);
        QVERIFY2(resumed.startsWith("Reused, TLSv1.2"), resumed.constData());

        // Plain HTTP to the TLS listener gets no HTTP answer at all.
        HttpClient plain(port);
        r = plain.post("/api/v1/logs", ndjson("plain", 1, "web"), auth(m_anyKey.key), 5000);
        QCOMPARE(r.status, 0);
        account(r, "plain", 1);
    }

    void rateLimitPerKey()
    {
        CollectorOptions o = baseOptions();
        o.rateLimitPerSecond = 0.2; // one token per 5 s: the test never sees a refill
        o.rateLimitBurst = 2;
        Collector limited(o);
        IDL_VERIFY_OK(limited.start());
        HttpClient c(limited.port());
        int accepted = 0, limitedCount = 0;
        for (int i = 0; i < 4; ++i) {
            const QByteArray marker = "rate" + QByteArray::number(i);
            auto r = c.post("/api/v1/logs", ndjson(marker, 1, "web"), auth(m_anyKey.key));
            account(r, marker, 1);
            if (r.status == 202)
                ++accepted;
            if (r.status == 429) {
                ++limitedCount;
                QVERIFY(r.header("retry-after").toInt() >= 1);
                QCOMPARE(r.json()
                             .value(QStringLiteral("error"))
                             .toObject()
                             .value(QStringLiteral("code"))
                             .toString(),
                         QStringLiteral("rate_limited"));
            }
        }
        QCOMPARE(accepted, 2);
        QCOMPARE(limitedCount, 2);
        // Another key has its own bucket.
        auto r = c.post("/api/v1/logs", ndjson("rateother", 1, "shop"), auth(m_shopKey.key));
        QCOMPARE(r.status, 202);
        account(r, "rateother", 1);
    }

    void metricsReport()
    {
        auto r = m_client->get("/metrics", {{"Authorization", "Bearer metrics-secret"}});
        QCOMPARE(r.status, 200);
        for (const char *needle :
             {"idl_collector_requests_total{endpoint=\"native\",code=\"202\"}",
              "idl_collector_requests_total{endpoint=\"native\",code=\"401\"}",
              "idl_collector_requests_total{endpoint=\"otlp\",code=\"200\"}",
              "idl_collector_events_accepted_total", "idl_collector_events_rejected_total",
              "idl_collector_bytes_received_total{form=\"wire\"}",
              "idl_collector_produce_latency_seconds_bucket", "idl_collector_kafka_queue_depth"})
            QVERIFY2(r.body.contains(needle), needle);
    }

    void everyAckedEventExactlyOnceNothingRefused()
    {
        drain(m_acked);
        for (const auto &m : m_acked)
            QVERIFY2(m_topicReader->countOf(m) == 1, ("acked event not exactly once: " + m + " x" +
                                                      std::to_string(m_topicReader->countOf(m)))
                                                         .c_str());
        for (const auto &m : m_refused)
            QVERIFY2(m_topicReader->countOf(m) == 0, ("refused event in Kafka: " + m).c_str());
        std::set<std::string> ids;
        for (const auto &rec : m_topicReader->records) {
            QVERIFY(ids.insert(rec.event.id).second);
            QCOMPARE(rec.key, rec.event.app);
            QCOMPARE(rec.headers.count("idl-collector"), std::size_t(1));
            QVERIFY(!rec.headers.at("idl-key-id").empty());
            QVERIFY(rec.event.receivedNs > 0);
        }
        for (const auto &rec : m_topicReader->records)
            if (rec.event.message.starts_with("shop-"))
                QCOMPARE(rec.headers.at("idl-key-id"), m_shopKey.prefix);
            else if (rec.event.message.starts_with("mtls-"))
                QCOMPARE(rec.headers.at("idl-key-id"), std::string("cert:shop-svc"));
    }

    void queueHighWaterIs429()
    {
        // Events wait 1 s in the producer (linger), so a second request finds the queue full.
        CollectorOptions o = baseOptions();
        o.queueHighWater = 100;
        o.kafkaConfig["linger.ms"] = "1000";
        Collector busy(o);
        IDL_VERIFY_OK(busy.start());
        HttpClient first(busy.port());
        HttpClient second(busy.port());
        const QByteArray big = ndjson("hw", 500, "web");
        QByteArray req = "POST /api/v1/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                         QByteArray::fromStdString(m_anyKey.key) +
                         "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
                         QByteArray::number(big.size()) + "\r\n\r\n" + big;
        QElapsedTimer t;
        t.start();
        // The first request's reply comes only after the linger; ask meanwhile.
        int firstStatus = 0;
        std::thread firstRequest([&] { firstStatus = first.raw(req, 20'000).status; });
        while (busy.queueDepth() < 500 && t.elapsed() < 5000)
            QTest::qWait(5);
        auto r = second.post("/api/v1/logs", ndjson("hw2", 1, "web"), auth(m_anyKey.key));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("retry-after"), QByteArray("1"));
        QCOMPARE(r.json()
                     .value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("code"))
                     .toString(),
                 QStringLiteral("overloaded"));
        account(r, "hw2", 1);
        firstRequest.join();
        QCOMPARE(firstStatus, 202);
        account(HttpReply{202, {}, {}, {}}, "hw", 500);
    }

    void notAckedInTimeIs503()
    {
        // A topic that does not exist (and is not created): Kafka never acknowledges.
        CollectorOptions o = baseOptions();
        o.topic = testsupport::uniqueName("missing");
        o.ackTimeout = std::chrono::milliseconds(1500);
        Collector lost(o);
        IDL_VERIFY_OK(lost.start());
        HttpClient c(lost.port());
        QElapsedTimer t;
        t.start();
        auto r = c.post("/api/v1/logs", ndjson("lost", 3, "web"), auth(m_anyKey.key));
        QCOMPARE(r.status, 503);
        QVERIFY(t.elapsed() < 5000);
        QVERIFY(!r.header("retry-after").isEmpty());
        const QJsonObject j = r.json();
        QCOMPARE(j.value(QStringLiteral("accepted")).toInt(), 0);
        QCOMPARE(j.value(QStringLiteral("rejected")).toInt(), 3);
        QCOMPARE(
            j.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
            QStringLiteral("unavailable"));
    }

    // Last: stops the shared broker.
    void brokerOutageNeverAcks()
    {
        auto broker = testsupport::kafka();
        IDL_VERIFY_OK(broker);
        (*broker)->stop();
        QElapsedTimer t;
        t.start();
        std::map<int, int> statuses;
        int n = 0;
        bool notReady = false;
        while (t.elapsed() < 9000) {
            const QByteArray marker = "down" + QByteArray::number(n++);
            QElapsedTimer one;
            one.start();
            auto r = m_client->post("/api/v1/logs", ndjson(marker, 5, "web"), auth(m_anyKey.key));
            QVERIFY2(one.elapsed() < 4000 + 1500, "the reply took longer than the ack timeout");
            ++statuses[r.status];
            QVERIFY2(r.status == 429 || r.status == 503,
                     ("broker down but got " + std::to_string(r.status)).c_str());
            if (r.status == 503)
                QVERIFY(!r.header("retry-after").isEmpty());
            QCOMPARE(r.json().value(QStringLiteral("accepted")).toInt(), 0);
            notReady = notReady || m_client->get("/readyz").status == 503;
            QTest::qWait(20);
        }
        QVERIFY(notReady);
        qInfo("broker down: %d requests, statuses 429:%d 503:%d", n, statuses[429], statuses[503]);

        IDL_VERIFY_OK((*broker)->start());
        t.restart();
        int status = 0;
        n = 0;
        std::set<std::string> after;
        while (status != 202 && t.elapsed() < 60'000) {
            const QByteArray marker = "back" + QByteArray::number(n++);
            auto r = m_client->post("/api/v1/logs", ndjson(marker, 5, "web"), auth(m_anyKey.key));
            status = r.status;
            if (status == 202)
                for (int i = 0; i < 5; ++i)
                    after.insert(marker.toStdString() + "-" + std::to_string(i));
            else
                QTest::qWait(500);
        }
        QCOMPARE(status, 202);
        qInfo("recovered %lld ms after the broker restarted", static_cast<long long>(t.elapsed()));
        drain(after);
        for (const auto &m : after)
            QCOMPARE(m_topicReader->countOf(m), 1);
    }

    // Issue 15 finding 4: thousands of well-formed fake keys sent at once (one connection
    // each, every one a different unknown prefix) while a real key's cache entry has expired.
    // The real key must be accepted no later than 250 ms after a request with a key that is
    // still cached, sent at the same moment (the server's I/O backlog of 8000 requests is the
    // same for both; the difference is the time spent waiting for the key lookup), and within
    // 3 s in all. Every fake request must be answered (401, 429 or 503), none waits in an
    // unbounded queue.
    void fakeKeyFloodDoesNotDelayRealKeys()
    {
        CollectorOptions o = baseOptions();
        o.auth.cacheTtl = std::chrono::milliseconds(3000);
        o.http.maxConnections = 16'000;
        Collector c(o);
        IDL_VERIFY_OK(c.start());
        HttpClient client(c.port());
        auto r = client.post("/api/v1/logs", ndjson("flood-warm", 1), auth(m_anyKey.key));
        QCOMPARE(r.status, 202);
        account(r, "flood-warm", 1);
        QElapsedTimer sinceWarm;
        sinceWarm.start();

        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(c.port());
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const auto connectOne = [&addr] {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            if (fd >= 0 &&
                ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) != 0) {
                ::close(fd);
                return -1;
            }
            return fd;
        };
        const auto request = [](const std::string &key, const QByteArray &body) -> QByteArray {
            return "POST /api/v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/x-ndjson\r\nX-API-Key: " +
                   QByteArray::fromStdString(key) +
                   "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        };
        const auto sendAll = [](int fd, const QByteArray &bytes) {
            return ::send(fd, bytes.constData(), static_cast<std::size_t>(bytes.size()), 0) ==
                   static_cast<ssize_t>(bytes.size());
        };
        // Reads the status of the reply on fd (0 when the connection closed without one).
        const auto status = [](int fd) {
            char buf[64] = {};
            const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
            return n >= 12 && std::string_view(buf, 9) == "HTTP/1.1 " ? std::atoi(buf + 9) : 0;
        };

        constexpr int kFakes = 8000;
        const QByteArray fakeBody = ndjson("flood-fake", 1) + QByteArray(4096, ' ');
        std::vector<int> fds;
        std::vector<QByteArray> requests;
        fds.reserve(kFakes);
        requests.reserve(kFakes);
        for (int i = 0; i < kFakes; ++i) {
            fds.push_back(connectOne());
            QVERIFY2(fds.back() >= 0, strerror(errno));
            requests.push_back(request(generateApiKey().key, fakeBody));
        }
        const int realFd = connectOne();
        const int cachedFd = connectOne();
        QVERIFY(realFd >= 0 && cachedFd >= 0);
        // The real key's entry expires; the other key is looked up now and stays cached.
        QTest::qWait(static_cast<int>(std::max<qint64>(0, 3100 - sinceWarm.elapsed())));
        r = client.post("/api/v1/logs", ndjson("flood-shop", 1), auth(m_shopKey.key));
        QCOMPARE(r.status, 202);
        account(r, "flood-shop", 1);

        // All at once: every connection is open, the requests go out back to back.
        QElapsedTimer flood;
        flood.start();
        for (std::size_t i = 0; i < fds.size(); ++i)
            QVERIFY(sendAll(fds[i], requests[i]));
        const qint64 floodMs = flood.elapsed();
        QElapsedTimer t;
        t.start();
        QVERIFY(sendAll(realFd, request(m_anyKey.key, ndjson("flood-real", 1))));
        QVERIFY(sendAll(cachedFd, request(m_shopKey.key, ndjson("flood-cached", 1))));
        qint64 realMs = -1, cachedMs = -1;
        int realStatus = 0, cachedStatus = 0;
        while ((realMs < 0 || cachedMs < 0) && t.elapsed() < 30'000) {
            pollfd two[2] = {{realFd, POLLIN, 0}, {cachedFd, POLLIN, 0}};
            if (::poll(two, 2, 100) <= 0)
                continue;
            if (realMs < 0 && (two[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                realStatus = status(realFd);
                realMs = t.elapsed();
            }
            if (cachedMs < 0 && (two[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                cachedStatus = status(cachedFd);
                cachedMs = t.elapsed();
            }
        }
        ::close(realFd);
        ::close(cachedFd);
        const HttpReply real{realStatus, {}, {}, {}};
        account(real, "flood-real", 1);
        const HttpReply cached{cachedStatus, {}, {}, {}};
        account(cached, "flood-cached", 1);

        // Every fake request gets an answer, none is left waiting.
        std::map<int, int> statuses;
        std::vector<bool> done(fds.size(), false);
        std::size_t answered = 0;
        QElapsedTimer wait;
        wait.start();
        while (answered < fds.size() && wait.elapsed() < 60'000) {
            std::vector<pollfd> pfds;
            std::vector<std::size_t> index;
            for (std::size_t i = 0; i < fds.size(); ++i)
                if (!done[i]) {
                    pfds.push_back({fds[i], POLLIN, 0});
                    index.push_back(i);
                }
            if (::poll(pfds.data(), pfds.size(), 200) <= 0)
                continue;
            for (std::size_t k = 0; k < pfds.size(); ++k) {
                if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                ++statuses[status(pfds[k].fd)];
                done[index[k]] = true;
                ++answered;
            }
        }
        const qint64 allMs = wait.elapsed();
        for (const int fd : fds)
            ::close(fd);
        QString summary;
        for (const auto &[code, n] : statuses)
            summary += QStringLiteral(" %1x%2").arg(code).arg(n);
        qInfo("flood of %d fake keys sent in %lld ms; then the expired real key got %d in %lld "
              "ms, the cached key %d in %lld ms; fakes answered:%s (%zu of %d) within %lld ms "
              "more",
              kFakes, static_cast<long long>(floodMs), realStatus, static_cast<long long>(realMs),
              cachedStatus, static_cast<long long>(cachedMs), qPrintable(summary), answered, kFakes,
              static_cast<long long>(allMs));
        QCOMPARE(cachedStatus, 202);
        QCOMPARE(realStatus, 202);
        // The wait for the key lookup itself: what the real key took beyond the cached one. By
        // design up to auth.refresh-wait (200 ms: then the cached entry answers), plus slack for
        // a sanitizer build on a busy machine; serial lookups behind 8,000 fakes take seconds.
        QVERIFY2(realMs - cachedMs < 700, "the real key waited behind the fake ones");
        // And in all (the server's backlog of 8000 requests included; generous for a loaded
        // machine).
        QVERIFY2(realMs < 3000, "the real key was not answered in time");
        QCOMPARE(answered, fds.size());
        for (const auto &[code, n] : statuses)
            QVERIFY2(code == 401 || code == 429 || code == 503, qPrintable(summary));
    }

    void cleanupTestCase()
    {
        m_collector.reset();
        m_topicReader.reset();
    }
};

QTEST_GUILESS_MAIN(TestCollectorIntegration)
#include "test_collector_integration.moc"
