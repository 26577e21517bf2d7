// OTLP in protobuf, end to end against real PostgreSQL (api_keys) and Kafka: OTLP/HTTP with
// application/x-protobuf (plain and gzip) and OTLP/gRPC (LogsService/Export), with the real
// OpenTelemetry Python SDK's protobuf exporters (opentelemetry-exporter-otlp-proto-http and
// -proto-grpc, unchanged) and with hand-made requests for the error paths: malformed protobuf
// gets a google.rpc.Status and loses nothing else, invalid records give partial_success,
// credentials are checked (401 / UNAUTHENTICATED) and the app scope of a key holds. Back-
// pressure as the exporters read it: RESOURCE_EXHAUSTED (rate limit) and UNAVAILABLE (Kafka
// down) with a retry delay, which the SDK's gRPC exporter waits before it retries and delivers.
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

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <csignal>
#include <future>
#include <map>
#include <set>

using namespace idl;
using namespace idl::collector;
using namespace idl::collectortest;

namespace {

namespace v1 = opentelemetry::proto;
using ExportRequest = v1::collector::logs::v1::ExportLogsServiceRequest;
using ExportResponse = v1::collector::logs::v1::ExportLogsServiceResponse;
using LogsService = v1::collector::logs::v1::LogsService;

// A request of `count` records "<marker>-<i>" from service `app`; the records listed in `bad`
// get a trace id of the wrong length (rejected with bad_field).
ExportRequest request(const std::string &marker, int count, const std::string &app = "otlp-app",
                      std::set<int> bad = {})
{
    ExportRequest req;
    auto *rl = req.add_resource_logs();
    auto *attr = rl->mutable_resource()->add_attributes();
    attr->set_key("service.name");
    attr->mutable_value()->set_string_value(app);
    auto *host = rl->mutable_resource()->add_attributes();
    host->set_key("host.name");
    host->mutable_value()->set_string_value("pb-host");
    auto *sl = rl->add_scope_logs();
    sl->mutable_scope()->set_name("pb.scope");
    for (int i = 0; i < count; ++i) {
        auto *rec = sl->add_log_records();
        rec->set_time_unix_nano(1'700'000'000'000'000'000ULL + static_cast<unsigned>(i));
        rec->set_severity_number(v1::logs::v1::SEVERITY_NUMBER_ERROR);
        rec->mutable_body()->set_string_value(marker + "-" + std::to_string(i));
        rec->set_trace_id(bad.count(i) ? std::string("abc") : std::string(16, '\x11'));
        auto *a = rec->add_attributes();
        a->set_key("n");
        a->mutable_value()->set_int_value(i);
    }
    return req;
}

HttpHeaders headers(const std::string &key, const QByteArray &encoding = {})
{
    HttpHeaders h{{"Content-Type", "application/x-protobuf"}};
    if (!key.empty())
        h.push_back({"Authorization", "Bearer " + QByteArray::fromStdString(key)});
    if (!encoding.isEmpty())
        h.push_back({"Content-Encoding", encoding});
    return h;
}

QByteArray bytes(const ExportRequest &r)
{
    return QByteArray::fromStdString(r.SerializeAsString());
}

} // namespace

class TestCollectorOtlp : public QObject
{
    Q_OBJECT

    CollectorServers m_servers; // database, topic, API keys
    std::unique_ptr<Collector> m_collector;
    std::unique_ptr<HttpClient> m_client;
    std::unique_ptr<TopicReader> m_topicReader; // everything read from the topic so far
    std::set<std::string> m_refused;            // messages of events that must never arrive

    // Reads the topic until every message in `want` has arrived and it stays quiet.
    void drain(const std::set<std::string> &want, int maxMs = 30'000)
    {
        const std::string error = m_topicReader->drain(want, 1500, maxMs);
        QVERIFY2(error.empty(), error.c_str());
    }

    std::unique_ptr<LogsService::Stub> stub()
    {
        return LogsService::NewStub(
            grpc::CreateChannel("127.0.0.1:" + std::to_string(m_collector->grpcPort()),
                                grpc::InsecureChannelCredentials()));
    }

    // A collector on free ports (HTTP and gRPC) that writes to the test's topic.
    CollectorOptions options() const
    {
        CollectorOptions o;
        o.http.port = 0;
        o.http.address = "127.0.0.1";
        o.grpcPort = 0;
        o.pgDsn = m_servers.dsn;
        o.kafkaBootstrap = m_servers.bootstrap;
        o.topic = m_servers.topic;
        o.createTopic = false;
        o.rateLimitPerSecond = 0;
        return o;
    }

    // One Export call; `trailers` (when given) receives the server's trailing metadata.
    grpc::Status exportVia(LogsService::Stub &s, const ExportRequest &req, ExportResponse &resp,
                           const std::string &metadataName, const std::string &metadataValue,
                           std::map<std::string, std::string> *trailers = nullptr)
    {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        if (!metadataName.empty())
            ctx.AddMetadata(metadataName, metadataValue);
        const grpc::Status st = s.Export(&ctx, req, &resp);
        if (trailers)
            for (const auto &[k, v] : ctx.GetServerTrailingMetadata())
                (*trailers)[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
        return st;
    }

    // The retry delay of a refused call, as both places OTLP exporters read it: a RetryInfo in
    // the google.rpc.Status details (grpc-status-details-bin: Go, Java, the Collector) and the
    // google.rpc.retryinfo-bin trailer (the Python SDK); they must agree. -1 when one is missing.
    static double retryDelaySeconds(const grpc::Status &st,
                                    const std::map<std::string, std::string> &trailers)
    {
        google::rpc::Status details;
        google::rpc::RetryInfo fromDetails, fromTrailer;
        if (!details.ParseFromString(st.error_details()) || details.details_size() != 1 ||
            !details.details(0).UnpackTo(&fromDetails))
            return -1;
        const auto it = trailers.find("google.rpc.retryinfo-bin");
        if (it == trailers.end() || !fromTrailer.ParseFromString(it->second) ||
            fromTrailer.retry_delay().seconds() != fromDetails.retry_delay().seconds() ||
            fromTrailer.retry_delay().nanos() != fromDetails.retry_delay().nanos())
            return -1;
        return static_cast<double>(fromDetails.retry_delay().seconds()) +
               fromDetails.retry_delay().nanos() / 1e9;
    }

    // The delays the SDK's exporters logged before retrying ("... retrying in 4.98s.").
    static std::vector<double> sdkRetryDelays(const QByteArray &stderrText)
    {
        std::vector<double> out;
        static const QRegularExpression re(QStringLiteral("retrying in ([0-9.]+)s"));
        for (auto it = re.globalMatch(QString::fromUtf8(stderrText)); it.hasNext();)
            out.push_back(it.next().captured(1).toDouble());
        return out;
    }

    QStringList sdkArgs(const QString &endpoint, const QString &marker, int count,
                        const QString &kind) const
    {
        return {testsupport::sourceDir() + "/tests/collector/otel_sdk_logs.py",
                endpoint,
                QString::fromStdString(m_servers.anyKey.key),
                marker,
                QString::number(count),
                kind};
    }

    // Runs tests/collector/otel_sdk_logs.py with one exporter in the protobuf exporters' venv
    // (testsupport::pythonVenv). Returns the trace id the SDK used; its stderr in `err`.
    QString runSdk(const QString &endpoint, const QString &marker, int count, const QString &kind,
                   QByteArray *err = nullptr)
    {
        QString error;
        const QString python =
            testsupport::pythonVenv("otel-proto-venv", "otel-proto-requirements.txt", &error);
        if (python.isEmpty()) {
            qWarning("%s", qPrintable(error));
            return {};
        }
        const auto r =
            testsupport::runProcess(python, sdkArgs(endpoint, marker, count, kind), {}, 120'000);
        if (err)
            *err = r.err;
        if (r.code != 0) {
            qWarning("%s exporter failed: %s", qPrintable(kind), r.err.constData());
            return {};
        }
        return QString::fromLatin1(r.out.trimmed());
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto servers = collectorServers("otlp", 2);
        IDL_VERIFY_OK(servers);
        m_servers = *servers;

        CollectorOptions o = options();
        o.collectorId = "otlp-test";
        m_collector = std::make_unique<Collector>(o);
        IDL_VERIFY_OK(m_collector->start());
        QVERIFY(m_collector->grpcPort() > 0);
        // The gRPC port is this collector's alone: a second one on it fails to start (gRPC's
        // default SO_REUSEPORT let it bind too and take part of the connections).
        {
            CollectorOptions twin = options();
            twin.grpcPort = m_collector->grpcPort();
            Collector second(twin);
            auto r = second.start();
            QVERIFY(!r.ok());
            QVERIFY2(r.error().message.find("cannot listen for OTLP/gRPC") != std::string::npos,
                     r.error().message.c_str());
        }
        m_client = std::make_unique<HttpClient>(m_collector->port());

        auto reader = TopicReader::open(m_servers.bootstrap, m_servers.topic, 2);
        IDL_VERIFY_OK(reader);
        m_topicReader = std::move(*reader);
    }

    void httpProtobuf()
    {
        // Plain and gzip: 200 with an empty ExportLogsServiceResponse, in protobuf.
        auto r = m_client->post("/v1/logs", bytes(request("pb", 5)), headers(m_servers.anyKey.key));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("content-type"), QByteArray("application/x-protobuf"));
        ExportResponse resp;
        QVERIFY(resp.ParseFromArray(r.body.constData(), static_cast<int>(r.body.size())));
        QVERIFY(!resp.has_partial_success());
        r = m_client->post("/v1/logs",
                           QByteArray::fromStdString(gzip(request("pbgz", 4).SerializeAsString())),
                           headers(m_servers.anyKey.key, "gzip"));
        QCOMPARE(r.status, 200);

        // Partial success: the two records with a bad trace id are rejected, the rest kept.
        r = m_client->post("/v1/logs", bytes(request("pbpart", 5, "otlp-app", {1, 3})),
                           headers(m_servers.anyKey.key));
        QCOMPARE(r.status, 200);
        QVERIFY(resp.ParseFromArray(r.body.constData(), static_cast<int>(r.body.size())));
        QCOMPARE(resp.partial_success().rejected_log_records(), std::int64_t(2));
        QVERIFY2(QString::fromStdString(resp.partial_success().error_message())
                     .contains(QStringLiteral("traceId")),
                 resp.partial_success().error_message().c_str());
        m_refused.insert({"pbpart-1", "pbpart-3"});

        // Malformed protobuf: 400 with a google.rpc.Status saying so; nothing of it is kept
        // and the connection serves the next request.
        QByteArray broken = bytes(request("pbbroken", 3));
        broken.chop(5);
        r = m_client->post("/v1/logs", broken, headers(m_servers.anyKey.key));
        QCOMPARE(r.status, 400);
        google::rpc::Status status;
        QVERIFY(status.ParseFromArray(r.body.constData(), static_cast<int>(r.body.size())));
        QCOMPARE(status.code(), 3); // INVALID_ARGUMENT
        QVERIFY2(QString::fromStdString(status.message()).contains(QStringLiteral("protobuf")),
                 status.message().c_str());
        for (int i = 0; i < 3; ++i)
            m_refused.insert("pbbroken-" + std::to_string(i));
        QCOMPARE(m_client->post("/v1/logs", "{}", headers(m_servers.anyKey.key)).status, 400);

        // Credentials: none -> 401, a Status in protobuf; a key bound to another app -> 403.
        r = m_client->post("/v1/logs", bytes(request("pbnokey", 2)), headers({}));
        QCOMPARE(r.status, 401);
        QVERIFY(status.ParseFromArray(r.body.constData(), static_cast<int>(r.body.size())));
        QCOMPARE(status.code(), 16); // UNAUTHENTICATED
        r = m_client->post("/v1/logs", bytes(request("pbshop", 2)), headers(m_servers.shopKey.key));
        QCOMPARE(r.status, 403);
        m_refused.insert({"pbnokey-0", "pbnokey-1", "pbshop-0", "pbshop-1"});

        std::set<std::string> want;
        for (int i = 0; i < 5; ++i)
            want.insert("pb-" + std::to_string(i));
        for (int i = 0; i < 4; ++i)
            want.insert("pbgz-" + std::to_string(i));
        for (int i : {0, 2, 4})
            want.insert("pbpart-" + std::to_string(i));
        drain(want);
        for (const auto &m : want)
            QCOMPARE(m_topicReader->countOf(m), 1);
        for (const auto &[key, e, headers] : m_topicReader->records)
            if (e.message == "pb-0") {
                QCOMPARE(e.app, std::string("otlp-app"));
                QCOMPARE(e.host, std::string("pb-host"));
                QCOMPARE(e.level, Level::Error);
                QCOMPARE(e.traceId, std::string(32, '1'));
                QCOMPARE(e.tsNs, std::int64_t(1'700'000'000'000'000'000));
            }
    }

    void grpcExport()
    {
        auto s = stub();
        ExportResponse resp;
        // The authorization metadata in the forms the HTTP header takes, and x-api-key.
        auto st =
            exportVia(*s, request("g", 3), resp, "authorization", "Bearer " + m_servers.anyKey.key);
        QVERIFY2(st.ok(), st.error_message().c_str());
        QVERIFY(!resp.has_partial_success());
        st = exportVia(*s, request("gkey", 2), resp, "x-api-key", m_servers.anyKey.key);
        QVERIFY2(st.ok(), st.error_message().c_str());
        // Partial success.
        st = exportVia(*s, request("gpart", 4, "otlp-app", {0}), resp, "authorization",
                       "Bearer " + m_servers.anyKey.key);
        QVERIFY(st.ok());
        QCOMPARE(resp.partial_success().rejected_log_records(), std::int64_t(1));
        m_refused.insert("gpart-0");
        // No valid record: INVALID_ARGUMENT; another app than the key's: PERMISSION_DENIED.
        st = exportVia(*s, request("gbad", 2, "otlp-app", {0, 1}), resp, "authorization",
                       "Bearer " + m_servers.anyKey.key);
        QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        st = exportVia(*s, request("gshop", 1), resp, "authorization",
                       "Bearer " + m_servers.shopKey.key);
        QCOMPARE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        // Credentials.
        st = exportVia(*s, request("gnokey", 1), resp, {}, {});
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        st = exportVia(*s, request("gwrong", 1), resp, "authorization", "Bearer idl_nope_nope");
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        m_refused.insert({"gbad-0", "gbad-1", "gshop-0", "gnokey-0", "gwrong-0"});

        std::set<std::string> want{"g-0",    "g-1",     "g-2",     "gkey-0",
                                   "gkey-1", "gpart-1", "gpart-2", "gpart-3"};
        drain(want);
        for (const auto &m : want)
            QCOMPARE(m_topicReader->countOf(m), 1);
    }

    // The OpenTelemetry Python SDK with its protobuf exporters, unchanged.
    void sdkProtobufExporters()
    {
        const QString http =
            runSdk(QStringLiteral("http://127.0.0.1:%1/v1/logs").arg(m_collector->port()),
                   QStringLiteral("sdkpb"), 20, QStringLiteral("proto-http"));
        QCOMPARE(http.size(), 32);
        const QString grpcTrace =
            runSdk(QStringLiteral("127.0.0.1:%1").arg(m_collector->grpcPort()),
                   QStringLiteral("sdkgrpc"), 20, QStringLiteral("grpc"));
        QCOMPARE(grpcTrace.size(), 32);
        std::set<std::string> want;
        for (int i = 0; i < 20; ++i) {
            want.insert("sdkpb record " + std::to_string(i));
            want.insert("sdkgrpc record " + std::to_string(i));
        }
        drain(want);
        int found = 0;
        for (const auto &[key, e, headers] : m_topicReader->records) {
            if (!want.count(e.message))
                continue;
            ++found;
            QCOMPARE(e.app, std::string("otel-py"));
            QCOMPARE(e.host, std::string("sdk-host"));
            QCOMPARE(e.level, Level::Warn);
            QCOMPARE(QString::fromStdString(e.traceId),
                     e.message.starts_with("sdkpb") ? http : grpcTrace);
            QCOMPARE(e.spanId.size(), std::size_t(16));
            const auto attrs =
                QJsonDocument::fromJson(QByteArray::fromStdString(e.attrsJson)).object();
            QVERIFY(attrs.contains(QStringLiteral("record.index")));
            QCOMPARE(attrs.value(QStringLiteral("telemetry.sdk.language")).toString(),
                     QStringLiteral("python"));
        }
        QCOMPARE(found, 40);
    }

    // The protocol-neutral entry as a non-HTTP front end uses it (ingest.h): app scope, the
    // per-event size limit, and the outcome only after Kafka acknowledged the accepted events.
    void ingestEntrySubmit()
    {
        std::vector<LogEvent> events(4);
        for (std::size_t i = 0; i < events.size(); ++i) {
            events[i].tsNs = 1'700'000'000'000'000'000;
            events[i].message = "submit-" + std::to_string(i);
        }
        events[1].app = "bank";                    // not the key's app
        events[2].message.append(300 * 1024, 'x'); // over ingest.max-event (256 KiB)
        events[2].message = "submit-2" + events[2].message.substr(8);
        std::promise<IngestOutcome> promise;
        const Identity shopOnly{"test-shop", std::string("shop"), "shop identity"};
        m_collector->ingest().submit("test_submit", shopOnly, events,
                                     [&](IngestOutcome o) { promise.set_value(std::move(o)); });
        auto future = promise.get_future();
        QVERIFY(future.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
        const IngestOutcome o = future.get();
        QVERIFY(!o.error);
        QCOMPARE(o.total, std::size_t(4));
        QCOMPARE(o.accepted, std::size_t(2));
        QCOMPARE(o.rejected, std::size_t(2));
        QCOMPARE(o.errors.at(0).index, std::size_t(1));
        QCOMPARE(o.errors.at(0).error.code, ErrorCode::Forbidden);
        QCOMPARE(o.errors.at(1).index, std::size_t(2));
        QCOMPARE(o.errors.at(1).error.code, ErrorCode::TooLarge);
        m_refused.insert("submit-1");
        drain({"submit-0", "submit-3"});
        for (const auto &[key, e, headers] : m_topicReader->records)
            if (e.message == "submit-0")
                QCOMPARE(e.app, std::string("shop")); // the identity's app filled in
    }

    // TLS and mTLS as on HTTP: the collector's tls.* settings serve gRPC too; a verified client
    // certificate mapped to an app stands in for a key.
    void grpcMutualTls()
    {
        QTemporaryDir certs;
        QVERIFY(certs.isValid());
        const QString d = certs.path();
        QProcess gen;
        gen.setWorkingDirectory(d);
        gen.setProcessChannelMode(QProcess::MergedChannels);
        gen.start(
            QStringLiteral("/bin/sh"),
            {QStringLiteral("-ec"),
             QStringLiteral(
                 "gen() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                 "-nodes -keyout $1.key -out $1.crt -days 2 -subj /CN=$1 2>/dev/null; }\n"
                 "leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                 "  -keyout $1.key -out $1.csr -subj /CN=$2 2>/dev/null;"
                 "  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > $1.ext;"
                 "  openssl x509 -req -in $1.csr -CA $3.crt -CAkey $3.key -CAcreateserial "
                 "  -out $1.crt -days 2 -extfile $1.ext 2>/dev/null; }\n"
                 "gen ca; gen otherca\n"
                 "leaf server localhost ca\n"
                 "leaf client shop-svc ca\n"
                 "leaf forged shop-svc otherca\n")});
        QVERIFY(gen.waitForFinished(60'000));
        QVERIFY2(gen.exitCode() == 0, gen.readAll().constData());
        const auto file = [&](const QString &name) {
            QFile f(d + "/" + name);
            return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
        };

        CollectorOptions o = options();
        o.http.tlsCertFile = QString(d + "/server.crt").toStdString();
        o.http.tlsKeyFile = QString(d + "/server.key").toStdString();
        o.http.tlsClientCaFile = QString(d + "/ca.crt").toStdString();
        o.auth.certApps = parseCertApps("shop-svc=shop").value();
        Collector tlsCollector(o);
        IDL_VERIFY_OK(tlsCollector.start());
        const std::string target = "localhost:" + std::to_string(tlsCollector.grpcPort());
        const auto channel = [&](const QString &who) {
            grpc::SslCredentialsOptions ssl;
            ssl.pem_root_certs = file(QStringLiteral("ca.crt"));
            if (!who.isEmpty()) {
                ssl.pem_private_key = file(who + ".key");
                ssl.pem_cert_chain = file(who + ".crt");
            }
            return LogsService::NewStub(grpc::CreateChannel(target, grpc::SslCredentials(ssl)));
        };
        ExportResponse resp;
        // The certificate of CN shop-svc is app "shop".
        auto client = channel(QStringLiteral("client"));
        auto st = exportVia(*client, request("gtls", 2, "shop"), resp, {}, {});
        QVERIFY2(st.ok(), st.error_message().c_str());
        st = exportVia(*client, request("gtlsbank", 1, "bank"), resp, {}, {});
        QCOMPARE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        // TLS without a certificate: the API key decides.
        auto anonymous = channel({});
        st = exportVia(*anonymous, request("gtlsnokey", 1), resp, {}, {});
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        st = exportVia(*anonymous, request("gtlskey", 1), resp, "authorization",
                       "Bearer " + m_servers.anyKey.key);
        QVERIFY2(st.ok(), st.error_message().c_str());
        // A certificate from another CA fails the handshake; so does plaintext.
        auto forged = channel(QStringLiteral("forged"));
        st = exportVia(*forged, request("gtlsforged", 1, "shop"), resp, {}, {});
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAVAILABLE);
        auto plain =
            LogsService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
        st = exportVia(*plain, request("gtlsplain", 1), resp, "authorization",
                       "Bearer " + m_servers.anyKey.key);
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAVAILABLE);
        m_refused.insert({"gtlsbank-0", "gtlsnokey-0", "gtlsforged-0", "gtlsplain-0"});
        drain({"gtls-0", "gtls-1", "gtlskey-0"});
        tlsCollector.stop();
    }

    // Back-pressure as OTLP exporters understand it: 429 + Retry-After with a Status body over
    // HTTP, RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail over gRPC (exporters retry
    // RESOURCE_EXHAUSTED only when it carries one).
    void rateLimitTellsWhenToRetry()
    {
        CollectorOptions o = options();
        o.rateLimitPerSecond = 0.05; // one request, then the next token after 20 s
        o.rateLimitBurst = 1;
        Collector limited(o);
        IDL_VERIFY_OK(limited.start());
        HttpClient http(limited.port());
        auto r = http.post("/v1/logs", bytes(request("rl", 1)), headers(m_servers.anyKey.key));
        QCOMPARE(r.status, 200);
        r = http.post("/v1/logs", bytes(request("rlhttp", 1)), headers(m_servers.anyKey.key));
        QCOMPARE(r.status, 429);
        QVERIFY(r.header("retry-after").toInt() >= 1);
        google::rpc::Status status;
        QVERIFY(status.ParseFromArray(r.body.constData(), static_cast<int>(r.body.size())));
        QCOMPARE(status.code(), 8); // RESOURCE_EXHAUSTED

        auto s = LogsService::NewStub(grpc::CreateChannel(
            "127.0.0.1:" + std::to_string(limited.grpcPort()), grpc::InsecureChannelCredentials()));
        ExportResponse resp;
        std::map<std::string, std::string> trailers;
        const auto st = exportVia(*s, request("rlgrpc", 1), resp, "authorization",
                                  "Bearer " + m_servers.anyKey.key, &trailers);
        QCOMPARE(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
        QVERIFY2(retryDelaySeconds(st, trailers) >= 1, "RetryInfo in the details and the trailer");
        m_refused.insert({"rlhttp-0", "rlgrpc-0"});
        drain({"rl-0"});
        limited.stop();
    }

    // Each of the SDK's protobuf exporters, unchanged, against its own collector with a per-key
    // rate limit of one request per 8 s: its batch of 600 records is two Export calls (512 +
    // 88); the second is refused (RESOURCE_EXHAUSTED with RetryInfo / 429 with Retry-After)
    // with the limiter's delay of 8 s less the first call's time; the exporter waits that long
    // before it retries (its own first back-off would be 0.8-1.2 s; the gRPC exporter reads the
    // delay from the google.rpc.retryinfo-bin trailer only) and delivers every record exactly
    // once.
    void sdkRetriesAfterTheRetryDelay()
    {
        qputenv("IDL_OTEL_TIMEOUT", "60"); // an export may wait 8 s between its attempts
        const auto unset = qScopeGuard([] { qunsetenv("IDL_OTEL_TIMEOUT"); });
        const int count = 600;
        for (const QString kind : {"grpc", "proto-http"}) {
            CollectorOptions o = options();
            o.rateLimitPerSecond = 0.125;
            o.rateLimitBurst = 1;
            Collector limited(o);
            IDL_VERIFY_OK(limited.start());
            const QString endpoint =
                kind == "grpc" ? QString("127.0.0.1:%1").arg(limited.grpcPort())
                               : QString("http://127.0.0.1:%1/v1/logs").arg(limited.port());
            QByteArray err;
            const QString trace = runSdk(endpoint, "sdkretry" + kind, count, kind, &err);
            QVERIFY2(trace.size() == 32, err.constData());
            const auto delays = sdkRetryDelays(err);
            QVERIFY2(!delays.empty(), err.constData()); // it was refused, and retried
            QVERIFY2(err.contains(kind == "grpc" ? "RESOURCE_EXHAUSTED" : "Too Many Requests"),
                     err.constData());
            // The first wait is the collector's (8 s less the first call's time, which would
            // have to take over 5 s to fail this), not the exporter's own back-off.
            QVERIFY2(delays.front() > 2.5, err.constData());
            std::set<std::string> want;
            for (int i = 0; i < count; ++i)
                want.insert("sdkretry" + kind.toStdString() + " record " + std::to_string(i));
            drain(want);
            for (const auto &m : want)
                QVERIFY2(m_topicReader->countOf(m) == 1, m.c_str());
            limited.stop();
        }
    }

    void nothingRefusedArrived()
    {
        drain({}, 3000);
        for (const auto &m : m_refused)
            QVERIFY2(m_topicReader->countOf(m) == 0, m.c_str());
    }

    // While Kafka does not answer (the shared broker's JVM stopped with SIGSTOP: a hung broker,
    // resumed at once with SIGCONT), Export answers UNAVAILABLE with the collector's retry
    // delay (collector.retry-after, here 5 s). The SDK's gRPC exporter, started during the
    // outage, waits that delay between attempts and delivers every record exactly once after
    // the broker answers again (it gives up after 6 attempts: 25 s at 5 s apart).
    void grpcUnavailableUntilKafkaAnswersThenTheExporterDelivers()
    {
        CollectorOptions o = options();
        o.retryAfter = std::chrono::milliseconds(5000);
        Collector c(o);
        IDL_VERIFY_OK(c.start());
        QTRY_VERIFY_WITH_TIMEOUT(c.notReadyReason().empty(), 30'000);

        auto broker = testsupport::kafka();
        IDL_VERIFY_OK(broker);
        const auto pid = static_cast<pid_t>((*broker)->pid());
        QVERIFY(pid > 0);
        QCOMPARE(::kill(pid, SIGSTOP), 0);
        const auto resume = qScopeGuard([pid] { ::kill(pid, SIGCONT); });
        QTRY_VERIFY_WITH_TIMEOUT(!c.notReadyReason().empty(), 30'000);
        auto s = LogsService::NewStub(grpc::CreateChannel(
            "127.0.0.1:" + std::to_string(c.grpcPort()), grpc::InsecureChannelCredentials()));
        ExportResponse resp;
        std::map<std::string, std::string> trailers;
        const auto st = exportVia(*s, request("kafkadown", 2), resp, "authorization",
                                  "Bearer " + m_servers.anyKey.key, &trailers);
        QCOMPARE(st.error_code(), grpc::StatusCode::UNAVAILABLE);
        QCOMPARE(retryDelaySeconds(st, trailers), 5.0);
        m_refused.insert({"kafkadown-0", "kafkadown-1"});

        QString error;
        const QString python =
            testsupport::pythonVenv("otel-proto-venv", "otel-proto-requirements.txt", &error);
        QVERIFY2(!python.isEmpty(), qPrintable(error));
        QProcess sdk;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("IDL_OTEL_TIMEOUT", "120");
        sdk.setProcessEnvironment(env);
        sdk.start(python,
                  sdkArgs(QString("127.0.0.1:%1").arg(c.grpcPort()), "sdkoutage", 10, "grpc"));
        QVERIFY(sdk.waitForStarted(10'000));
        QByteArray err;
        QElapsedTimer t;
        t.start();
        while (!err.contains("retrying in") && t.elapsed() < 60'000 &&
               sdk.state() == QProcess::Running) {
            sdk.waitForReadyRead(200);
            err += sdk.readAllStandardError();
        }
        QVERIFY2(err.contains("UNAVAILABLE") && err.contains("retrying in 5.00s"), err.constData());
        QCOMPARE(::kill(pid, SIGCONT), 0);
        QTRY_VERIFY_WITH_TIMEOUT(c.notReadyReason().empty(), 15'000);
        qInfo("Kafka answered again %lld ms after the exporter's first refusal",
              static_cast<long long>(t.elapsed()));
        QVERIFY(sdk.waitForFinished(120'000));
        err += sdk.readAllStandardError();
        QVERIFY2(sdk.exitCode() == 0, err.constData());
        QCOMPARE(sdk.readAllStandardOutput().trimmed().size(), 32);
        std::set<std::string> want;
        for (int i = 0; i < 10; ++i)
            want.insert("sdkoutage record " + std::to_string(i));
        drain(want);
        for (const auto &m : want)
            QVERIFY2(m_topicReader->countOf(m) == 1, m.c_str());
        for (const auto &m : m_refused)
            QVERIFY2(m_topicReader->countOf(m) == 0, m.c_str());
        c.stop();
    }

    void cleanupTestCase()
    {
        m_topicReader.reset();
        m_client.reset();
        if (m_collector)
            m_collector->stop();
    }
};

QTEST_GUILESS_MAIN(TestCollectorOtlp)
#include "test_collector_otlp.moc"
