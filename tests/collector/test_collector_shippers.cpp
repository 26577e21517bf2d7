// The collector's Elasticsearch bulk API and Loki push API end to end, against a real
// PostgreSQL (api_keys) and a real Kafka broker, with real clients unchanged: the official
// Elasticsearch Python client (start-up checks, helpers.bulk, ApiKey and Basic credentials)
// and winston-loki (JSON, and protobuf + snappy); a protobuf + snappy body built with the
// libraries; malformed NDJSON and bad label strings that lose nothing else; auth failures in
// each protocol's format; metrics per protocol. Accepted events are read back from the topic.
#undef QT_NO_CAST_FROM_ASCII
#include "collector_fixture.h"
#include "collector_test_util.h"
#include "idl_test_servers.h"
#include "real_clients.h"

#include "idl/collector/collector.h"
#include "idl/collector/key_store.h"
#include "idl/core/json_codec.h"
#include "idl/kafka/consumer.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"
#include "proto/loki_push.pb.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

#include <snappy.h>

#include <map>
#include <set>

using namespace idl;
using namespace idl::collector;
using namespace idl::collectortest;

namespace {

QByteArray b64(const std::string &s)
{
    return QByteArray::fromStdString(s).toBase64();
}

} // namespace

class TestCollectorShippers : public QObject
{
    Q_OBJECT

    CollectorServers m_servers; // database, topic, API keys
    std::unique_ptr<Collector> m_collector;
    std::unique_ptr<HttpClient> m_client;
    std::unique_ptr<TopicReader> m_topicReader; // everything read from the topic so far

    HttpHeaders apiKey(const std::string &key, const QByteArray &type = "application/x-ndjson")
    {
        return {{"Authorization", "ApiKey " + b64("test:" + key)}, {"Content-Type", type}};
    }

    // Reads the topic until every message in `want` arrived (`copies` times) and it stayed
    // quiet a while.
    void drain(const std::set<std::string> &want, int quietMs = 2000, int maxMs = 30'000,
               int copies = 1)
    {
        const std::string error = m_topicReader->drain(want, quietMs, maxMs, copies);
        QVERIFY2(error.empty(), error.c_str());
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto servers = collectorServers("shippers", 2);
        IDL_VERIFY_OK(servers);
        m_servers = *servers;

        CollectorOptions o;
        o.http.port = 0;
        o.http.address = "127.0.0.1";
        o.pgDsn = m_servers.dsn;
        o.kafkaBootstrap = m_servers.bootstrap;
        o.topic = m_servers.topic;
        o.createTopic = false;
        o.ackTimeout = std::chrono::milliseconds(4000);
        o.rateLimitPerSecond = 0;
        o.batchLimits.maxEvents = 500;
        o.collectorId = "shippers-test";
        o.metricsToken = "metrics-secret";
        m_collector = std::make_unique<Collector>(o);
        IDL_VERIFY_OK(m_collector->start());
        m_client = std::make_unique<HttpClient>(m_collector->port());

        auto reader = TopicReader::open(m_servers.bootstrap, m_servers.topic, 2);
        IDL_VERIFY_OK(reader);
        m_topicReader = std::move(*reader);
    }

    void esStartUpProbes()
    {
        // Every Elasticsearch endpoint needs credentials, in Elasticsearch's error shape.
        auto r = m_client->get("/");
        QCOMPARE(r.status, 401);
        QCOMPARE(r.json().value("error").toObject().value("type").toString(),
                 QString("security_exception"));
        QVERIFY(r.header("www-authenticate").contains("ApiKey"));
        r = m_client->get("/", apiKey(m_servers.anyKey.key));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("x-elastic-product"), QByteArray("Elasticsearch"));
        QVERIFY(r.json().value("version").toObject().value("number").toString().startsWith("8."));
        QCOMPARE(m_client->request("HEAD", "/", {}, apiKey(m_servers.anyKey.key), 10'000).status,
                 200);
        for (const char *path : {"/_license", "/_xpack", "/_cluster/health",
                                 "/_index_template/filebeat-8.17.0", "/_ilm/policy/filebeat"}) {
            r = m_client->get(path, apiKey(m_servers.anyKey.key));
            QVERIFY2(r.status == 200 && r.json().size() > 0, path);
        }
        QCOMPARE(m_client
                     ->request("HEAD", "/_index_template/filebeat-8.17.0", {},
                               apiKey(m_servers.anyKey.key), 10'000)
                     .status,
                 200);
        r = m_client->request("PUT", "/_ilm/policy/filebeat", {}, apiKey(m_servers.anyKey.key),
                              10'000);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("acknowledged").toBool(), true);
        QCOMPARE(m_client->get("/_license").status, 401);
    }

    void esOfficialPythonClient()
    {
        // The official client (elasticsearch 8.19.3, pinned), in a venv kept in the cache
        // folder (testsupport::pythonVenv; scripts/bootstrap pre-creates it).
        QString error;
        const QString python =
            testsupport::pythonVenv("es-client-venv", "es-client-requirements.txt", &error);
        QVERIFY2(!python.isEmpty(), qPrintable(error));
        const auto r = testsupport::runProcess(
            python, {testsupport::sourceDir() + "/tests/collector/es_client_bulk.py",
                     QString("http://127.0.0.1:%1").arg(m_collector->port()),
                     QString::fromStdString(m_servers.anyKey.key), "espy", "30"});
        QVERIFY2(r.code == 0, QByteArray(r.out + r.err).constData());
        const QJsonObject report = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(report.value("bulk_ok").toInt(), 30);
        QCOMPARE(report.value("wrong_key").toInt(), 401);

        std::set<std::string> want{"espy-basic"};
        for (int i = 0; i < 30; ++i)
            want.insert("espy-" + std::to_string(i));
        drain(want);
        for (const auto &m : want)
            QCOMPARE(m_topicReader->countOf(m), 1); // every acknowledged document exactly once
        QCOMPARE(m_topicReader->countOf("espy-baddate"), 0);
        const TopicRecord *rec = m_topicReader->find("espy-7");
        QVERIFY(rec);
        QCOMPARE(rec->event.app, std::string("esclient")); // logs-esclient-default
        QCOMPARE(rec->key, std::string("esclient"));
        QCOMPARE(rec->event.host, std::string("es-host"));
        QCOMPARE(rec->event.level, Level::Warn);
        QCOMPARE(rec->headers.at("idl-key-id"), m_servers.anyKey.prefix);
        QCOMPARE(QJsonDocument::fromJson(QByteArray::fromStdString(rec->event.attrsJson))
                     .object()
                     .value("n")
                     .toInt(),
                 7);
        const TopicRecord *basic = m_topicReader->find("espy-basic");
        QVERIFY(basic);
        QCOMPARE(QJsonDocument::fromJson(QByteArray::fromStdString(basic->event.attrsJson))
                     .object()
                     .value("_id")
                     .toString(),
                 QString("doc-1"));
    }

    void esMalformedNdjsonLosesNothingElse()
    {
        const QByteArray body = "{\"index\":{}}\n{\"message\":\"esraw-0\"}\n"
                                "{\"index\":{}}\n{\"message\":\"esraw-broken\n"
                                "{\"indx\":{}}\n{\"message\":\"esraw-orphan\"}\n"
                                "{\"create\":{\"_index\":\"logs-other-default\"}}\n"
                                "{\"message\":\"esraw-1\",\"log.level\":\"error\"}\n"
                                "{\"delete\":{\"_id\":\"x\"}}\n"
                                "{\"index\":{}}\n[]\n"
                                "{\"index\":{}}\n{\"message\":\"esraw-2\"}";
        auto r = m_client->post("/logs-raw-default/_bulk", body, apiKey(m_servers.anyKey.key));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("x-elastic-product"), QByteArray("Elasticsearch"));
        const QJsonObject reply = r.json();
        QCOMPARE(reply.value("errors").toBool(), true);
        const QJsonArray items = reply.value("items").toArray();
        QCOMPARE(items.size(), 7);
        QList<int> statuses;
        for (const auto &item : items)
            statuses << item.toObject().begin().value().toObject().value("status").toInt();
        QCOMPARE(statuses, (QList<int>{201, 400, 400, 201, 400, 400, 201}));
        drain({"esraw-0", "esraw-1", "esraw-2"});
        QCOMPARE(m_topicReader->countOf("esraw-0"), 1);
        QCOMPARE(m_topicReader->countOf("esraw-1"), 1);
        QCOMPARE(m_topicReader->countOf("esraw-2"), 1);
        QCOMPARE(m_topicReader->countOf("esraw-orphan"), 0);
        QCOMPARE(m_topicReader->find("esraw-0")->event.app, std::string("raw"));
        QCOMPARE(m_topicReader->find("esraw-1")->event.app, std::string("other"));
        QCOMPARE(m_topicReader->find("esraw-1")->event.level, Level::Error);

        // Content type, gzip, request-level limits.
        r = m_client->post("/_bulk", body, apiKey(m_servers.anyKey.key, "text/plain"));
        QCOMPARE(r.status, 406);
        r = m_client->post(
            "/_bulk",
            QByteArray::fromStdString(
                gzip("{\"index\":{\"_index\":\"gz\"}}\n{\"message\":\"esgz\"}\n")),
            HttpHeaders{{"Authorization", "ApiKey " + b64("id:" + m_servers.anyKey.key)},
                        {"Content-Type", "application/json"},
                        {"Content-Encoding", "gzip"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("errors").toBool(), false);
        QByteArray many;
        for (int i = 0; i < 501; ++i)
            many += "{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"esmany\"}\n";
        r = m_client->post("/_bulk", many, apiKey(m_servers.anyKey.key));
        QCOMPARE(r.status, 413);
        QCOMPARE(r.json().value("status").toInt(), 413);
        r = m_client->post("/_bulk", "\n", apiKey(m_servers.anyKey.key));
        QCOMPARE(r.status, 400);
        drain({"esgz"});
        QCOMPARE(m_topicReader->countOf("esgz"), 1);
        QCOMPARE(m_topicReader->countOf("esmany"), 0);
    }

    void esAuthFailures()
    {
        const std::string wrong = "idl_" + m_servers.anyKey.prefix + "_" + std::string(40, 'x');
        auto r = m_client->post("/_bulk", "{\"index\":{}}\n{}\n",
                                HttpHeaders{{"Authorization", "ApiKey " + b64("id:" + wrong)},
                                            {"Content-Type", "application/x-ndjson"}});
        QCOMPARE(r.status, 401);
        QCOMPARE(r.json().value("status").toInt(), 401);
        r = m_client->post("/_bulk", "{\"index\":{}}\n{}\n",
                           HttpHeaders{{"Authorization", "Basic " + b64("elastic:" + wrong)},
                                       {"Content-Type", "application/x-ndjson"}});
        QCOMPARE(r.status, 401);
        // A key bound to "shop": its documents take "shop" (not the index's app); another
        // app named in the document is a 403 item, the rest is kept.
        r = m_client->post("/logs-web-default/_bulk",
                           "{\"index\":{}}\n{\"message\":\"esshop-0\"}\n"
                           "{\"index\":{}}\n{\"message\":\"esshop-1\",\"service.name\":\"pay\"}\n",
                           apiKey(m_servers.shopKey.key));
        QCOMPARE(r.status, 200);
        const QJsonArray items = r.json().value("items").toArray();
        QCOMPARE(items[0].toObject().value("index").toObject().value("status").toInt(), 201);
        const QJsonObject denied = items[1].toObject().value("index").toObject();
        QCOMPARE(denied.value("status").toInt(), 403);
        QCOMPARE(denied.value("error").toObject().value("type").toString(),
                 QString("security_exception"));
        drain({"esshop-0"});
        QCOMPARE(m_topicReader->find("esshop-0")->event.app, std::string("shop"));
        QCOMPARE(m_topicReader->countOf("esshop-1"), 0);
    }

    void lokiRealClientJsonAndProtobuf()
    {
        // winston-loki 6.1.7 (npm, pinned by tests/collector/loki-client/package-lock.json),
        // installed into the cache folder on first use (testsupport::lokiClientDir;
        // scripts/bootstrap pre-installs it); run from there, where node finds its modules.
        QString error;
        const QString dir = testsupport::lokiClientDir(&error);
        QVERIFY2(!dir.isEmpty(), qPrintable(error));
        const QString url = QString("http://127.0.0.1:%1").arg(m_collector->port());
        for (const QString mode : {"json", "protobuf"}) {
            const auto r = testsupport::runProcess("node",
                                                   {dir + "/push.js", url,
                                                    QString::fromStdString(m_servers.anyKey.key),
                                                    "loki" + mode, "20", mode},
                                                   dir);
            QVERIFY2(r.code == 0, QByteArray(mode.toUtf8() + ": " + r.out + r.err).constData());
        }
        std::set<std::string> prefixes;
        drain({}, 2500);
        for (const QString mode : {"json", "protobuf"}) {
            int found = 0;
            for (const auto &rec : m_topicReader->records) {
                if (rec.event.message.rfind("loki" + mode.toStdString() + "-", 0) != 0)
                    continue;
                ++found;
                QCOMPARE(rec.event.app, "winston-" + mode.toStdString());
                QCOMPARE(rec.event.host, std::string("node-host"));
                QCOMPARE(rec.event.level, Level::Warn);
                QVERIFY(QJsonDocument::fromJson(QByteArray::fromStdString(rec.event.attrsJson))
                            .object()
                            .contains("shard"));
            }
            QCOMPARE(found, 20);
        }
    }

    void lokiProtobufBuiltWithTheLibraries()
    {
        logproto::PushRequest req;
        auto *good = req.add_streams();
        good->set_labels("{service_name=\"pbapp\", host=\"pb-host\", level=\"error\"}");
        for (int i = 0; i < 3; ++i) {
            auto *e = good->add_entries();
            e->mutable_timestamp()->set_seconds(1714557600 + i);
            e->set_line("lokipb-" + std::to_string(i));
        }
        auto *bad = req.add_streams();
        bad->set_labels("{service_name=\"pbapp\", broken");
        bad->add_entries()->set_line("lokipb-lost");
        std::string raw, body;
        QVERIFY(req.SerializeToString(&raw));
        snappy::Compress(raw.data(), raw.size(), &body);
        const HttpHeaders headers{
            {"Authorization", "Bearer " + QByteArray::fromStdString(m_servers.anyKey.key)},
            {"Content-Type", "application/x-protobuf"},
            {"X-Scope-OrgID", "tenant-1"}};
        auto r = m_client->post("/loki/api/v1/push", QByteArray::fromStdString(body), headers);
        QCOMPARE(r.status, 400); // the bad stream is named; the good one is stored
        QVERIFY2(r.body.contains("stream '{service_name=\"pbapp\", broken'"), r.body.constData());
        drain({"lokipb-0", "lokipb-1", "lokipb-2"});
        for (int i = 0; i < 3; ++i)
            QCOMPARE(m_topicReader->countOf("lokipb-" + std::to_string(i)), 1);
        QCOMPARE(m_topicReader->countOf("lokipb-lost"), 0);
        const TopicRecord *rec = m_topicReader->find("lokipb-1");
        QCOMPARE(rec->event.app, std::string("pbapp"));
        QCOMPARE(rec->event.host, std::string("pb-host"));
        QCOMPARE(rec->event.level, Level::Error);
        QCOMPARE(rec->event.tsNs, std::int64_t(1714557601) * 1'000'000'000);

        // All valid: 204 without a body.
        req.mutable_streams()->DeleteSubrange(1, 1);
        req.mutable_streams(0)->mutable_entries(0)->set_line("lokipb-again");
        req.mutable_streams(0)->mutable_entries()->DeleteSubrange(1, 2);
        raw.clear();
        body.clear();
        QVERIFY(req.SerializeToString(&raw));
        snappy::Compress(raw.data(), raw.size(), &body);
        r = m_client->post("/loki/api/v1/push", QByteArray::fromStdString(body), headers);
        QCOMPARE(r.status, 204);
        QVERIFY(r.body.isEmpty());
        // Content-Encoding: snappy (as Prometheus-style senders label it) means the same body.
        HttpHeaders labelled = headers;
        labelled.emplace_back("Content-Encoding", "snappy");
        r = m_client->post("/loki/api/v1/push", QByteArray::fromStdString(body), labelled);
        QCOMPARE(r.status, 204);
        // Not snappy, not a PushRequest.
        r = m_client->post("/loki/api/v1/push", "\x01\x02garbage", headers);
        QCOMPARE(r.status, 400);
        drain({"lokipb-again"}, 2000, 30'000, 2);
        QCOMPARE(m_topicReader->countOf("lokipb-again"), 2);
    }

    void lokiJsonBadLabelsAndAuth()
    {
        const QByteArray body =
            "{\"streams\":[{\"stream\":{\"bad-label\":\"x\"},\"values\":[[\"1\",\"lokij-lost\"]]},"
            "\n"
            "            "
            "{\"stream\":{\"app\":\"lokij\"},\"values\":[[\"1714557600000000000\",\"lokij-0\"],["
            "\"later\",\"lokij-badts\"]]}]}";
        const QByteArray basic = "Basic " + b64("tenant:" + m_servers.anyKey.key);
        auto r = m_client->post(
            "/loki/api/v1/push", body,
            HttpHeaders{{"Authorization", basic}, {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 400);
        QVERIFY2(r.body.contains("bad-label"), r.body.constData());
        QVERIFY2(r.body.contains("entry 2"), r.body.constData());
        drain({"lokij-0"});
        QCOMPARE(m_topicReader->countOf("lokij-0"), 1);
        QCOMPARE(m_topicReader->countOf("lokij-lost"), 0);
        QCOMPARE(m_topicReader->countOf("lokij-badts"), 0);
        // Auth failures: text bodies, WWW-Authenticate Basic.
        r = m_client->post("/loki/api/v1/push", body,
                           HttpHeaders{{"Content-Type", "application/json"}});
        QCOMPARE(r.status, 401);
        QVERIFY(r.header("www-authenticate").startsWith("Basic"));
        QVERIFY(r.body.startsWith("unauthenticated"));
        r = m_client->post("/loki/api/v1/push", body,
                           HttpHeaders{{"Authorization", "Basic " + b64("t:idl_nope")},
                                       {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 401);
        r = m_client->post("/loki/api/v1/push", body,
                           HttpHeaders{{"Authorization", basic}, {"Content-Type", "text/plain"}});
        QCOMPARE(r.status, 415);
    }

    void rateLimitIs429WithRetryAfter()
    {
        // A collector with a per-key rate limit of one request (burst 1): the second request
        // of each protocol is refused before anything is produced, in that protocol's format.
        CollectorOptions o;
        o.http.address = "127.0.0.1";
        o.pgDsn = m_servers.dsn;
        o.kafkaBootstrap = m_servers.bootstrap;
        o.topic = m_servers.topic;
        o.createTopic = false;
        o.rateLimitPerSecond = 0.01;
        o.rateLimitBurst = 1;
        o.retryAfter = std::chrono::milliseconds(2000);
        Collector limited(o);
        IDL_VERIFY_OK(limited.start());
        HttpClient client(limited.port());
        const QByteArray bulk = "{\"index\":{\"_index\":\"rl\"}}\n{\"message\":\"esrl\"}\n";
        QCOMPARE(client.post("/_bulk", bulk, apiKey(m_servers.anyKey.key)).status, 200);
        auto r = client.post("/_bulk", bulk, apiKey(m_servers.anyKey.key));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.json().value("error").toObject().value("type").toString(),
                 QString("es_rejected_execution_exception"));
        QVERIFY(r.header("retry-after").toInt() >= 1);
        r = client.post(
            "/loki/api/v1/push",
            "{\"streams\":[{\"stream\":{\"app\":\"shop\"},\"values\":[[\"1\",\"lokirl\"]]}]}",
            HttpHeaders{
                {"Authorization", "Bearer " + QByteArray::fromStdString(m_servers.shopKey.key)},
                {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 204); // another key: its own bucket
        r = client.post(
            "/loki/api/v1/push",
            "{\"streams\":[{\"stream\":{\"app\":\"shop\"},\"values\":[[\"1\",\"lokirl\"]]}]}",
            HttpHeaders{
                {"Authorization", "Bearer " + QByteArray::fromStdString(m_servers.shopKey.key)},
                {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 429);
        QVERIFY(r.header("retry-after").toInt() >= 1);
        QVERIFY(r.body.startsWith("rate_limited"));
        limited.stop();
    }

    void metricsPerProtocol()
    {
        const auto r =
            m_client->get("/metrics", HttpHeaders{{"Authorization", "Bearer metrics-secret"}});
        QCOMPARE(r.status, 200);
        for (const char *p : {"es_bulk", "loki_json", "loki_protobuf"})
            QVERIFY2(r.body.contains(QByteArray("protocol=\"" + QByteArray(p) + "\"")), p);
    }

    void cleanupTestCase()
    {
        if (m_collector)
            m_collector->stop();
    }
};

QTEST_GUILESS_MAIN(TestCollectorShippers)
#include "test_collector_shippers.moc"
