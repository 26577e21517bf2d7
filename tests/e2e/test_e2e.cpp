// The whole pipeline as a user runs it: `idl-stack up` (real PostgreSQL and Kafka, collector,
// processors, writer), two load generators for ~15 s (native NDJSON with bursts, OTLP JSON),
// then idl-check must find every acknowledged event in PostgreSQL exactly once. The checker
// itself is shown to catch a deleted row and a duplicated row. On the same stack, every
// shipper path of docs/ingest.md with its real client, unchanged (the OpenTelemetry Python
// SDK's protobuf HTTP and gRPC exporters, the Elasticsearch Python client's bulk helper,
// winston-loki in JSON and protobuf + snappy, rsyslogd over TCP, TLS and UDP, logger over
// TCP), read back through the gateway's query API and counted exactly once per path.
#undef QT_NO_CAST_FROM_ASCII
#include "idl_test_stack.h"
#include "real_clients.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHostInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

#include <functional>
#include <map>
#include <set>

namespace testsupport = idl::testsupport;

using idl::testsupport::binPath;
using idl::testsupport::lastJsonLine;

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run run(const QString &program, const QStringList &args, int timeoutMs)
{
    QProcess p;
    p.start(binPath(program), args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace

class TestE2e : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_dir = m_tmp.filePath(QStringLiteral("stack"));
    idl::testsupport::StackProcess m_stack{m_dir, m_tmp.filePath(QStringLiteral("stack.out"))};
    QString m_stackJson = m_stack.jsonPath();
    QString m_dsn;
    QJsonObject m_info; // stack.json
    QNetworkAccessManager m_nam;

    // The rows of `q` over the last hour, through the gateway's HTTP query API with the stack's
    // admin token (one page: the callers' queries match a few hundred rows).
    QList<QJsonObject> gatewayQuery(const QString &q, QString *error)
    {
        QUrl url(m_info.value("gateway_http_url").toString() + "/api/v1/query");
        QUrlQuery params;
        params.addQueryItem("q", q);
        params.addQueryItem("from", "-1h");
        params.addQueryItem("limit", "10000");
        url.setQuery(params);
        QNetworkRequest req(url);
        req.setRawHeader("Authorization",
                         "Bearer " + m_info.value("admin_token").toString().toUtf8());
        req.setTransferTimeout(30'000);
        QNetworkReply *reply = m_nam.get(req);
        QSignalSpy done(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            done.wait(40'000);
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = reply->readAll();
        const bool more = reply->hasRawHeader("X-Idl-Next-Cursor");
        reply->deleteLater();
        QList<QJsonObject> rows;
        if (status != 200 || more) {
            *error = QString("query %1: HTTP %2%3 %4")
                         .arg(q)
                         .arg(status)
                         .arg(more ? " with a next page" : "")
                         .arg(QString::fromUtf8(body.left(300)));
            return rows;
        }
        for (const QByteArray &line : body.split('\n'))
            if (!line.trimmed().isEmpty())
                rows << QJsonDocument::fromJson(line).object();
        return rows;
    }

    // Runs `sql` with psql; its exit code, and what it printed (unaligned, tuples only) in out.
    int psql(const QString &sql, QString *out = nullptr)
    {
        QProcess p;
        p.start(QStringLiteral("psql"),
                {m_dsn, QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"),
                 QStringLiteral("-tAc"), sql});
        p.waitForFinished(30'000);
        if (out)
            *out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
        return p.exitCode();
    }

    // The first value of `sql`'s first row ("" when there is none).
    QString psqlValue(const QString &sql)
    {
        QString out;
        psql(sql, &out);
        return out;
    }

    // POSTs `body` (NDJSON) to the collector's native endpoint; the HTTP status.
    int postNative(const QByteArray &body, const QByteArray &idempotencyKey, QByteArray *reply)
    {
        QNetworkRequest req(QUrl(m_info.value("collector_url").toString() + "/api/v1/logs"));
        req.setRawHeader("Authorization",
                         "Bearer " + m_info.value("ingest_api_key").toString().toUtf8());
        req.setHeader(QNetworkRequest::ContentTypeHeader, "application/x-ndjson");
        if (!idempotencyKey.isEmpty())
            req.setRawHeader("Idempotency-Key", idempotencyKey);
        req.setTransferTimeout(30'000);
        QNetworkReply *r = m_nam.post(req, body);
        QSignalSpy done(r, &QNetworkReply::finished);
        if (!r->isFinished())
            done.wait(40'000);
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        *reply = r->readAll();
        r->deleteLater();
        return status;
    }

private Q_SLOTS:
    void initTestCase()
    {
        for (const char *b : {"idl-stack", "idl-loadgen", "idl-check", "idl-collector",
                              "idl-processor", "idl-writer"})
            QVERIFY2(QFile::exists(binPath(QLatin1String(b))), b);
        // As root, PostgreSQL runs as user postgres, which must be able to enter the folder.
        QFile::setPermissions(m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                                QFileDevice::ExeOther);
        const QString why = m_stack.up({QStringLiteral("--collector-port"), QStringLiteral("0"),
                                        QStringLiteral("--gateway-port"), QStringLiteral("0"),
                                        QStringLiteral("--otlp-grpc-port"), QStringLiteral("0"),
                                        QStringLiteral("--syslog-tcp-port"), QStringLiteral("0"),
                                        QStringLiteral("--syslog-tls-port"), QStringLiteral("0"),
                                        QStringLiteral("--syslog-udp-port"), QStringLiteral("0")});
        if (!why.isEmpty())
            QFAIL(qPrintable(why));
        m_info = m_stack.json();
        m_dsn = m_info.value(QStringLiteral("postgres_dsn")).toString();
        qInfo() << "stack up in" << m_stack.upMs() << "ms";
    }

    void cleanupTestCase() { m_stack.down(60'000); }

    void everyAcknowledgedEventIsStoredExactlyOnce()
    {
        const QString native = m_tmp.filePath(QStringLiteral("native.acked"));
        const QString otlp = m_tmp.filePath(QStringLiteral("otlp.acked"));
        const auto loadgen = [&](const QString &gen, const QString &format, const QString &rate,
                                 const QString &batch, const QString &profile,
                                 const QString &file) {
            auto *p = new QProcess(this);
            p->start(binPath(QStringLiteral("idl-loadgen")),
                     {QStringLiteral("--stack"), m_stackJson, QStringLiteral("--generator"), gen,
                      QStringLiteral("--format"), format, QStringLiteral("--rate"), rate,
                      QStringLiteral("--batch"), batch, QStringLiteral("--profile"), profile,
                      QStringLiteral("--connections"), QStringLiteral("2"),
                      QStringLiteral("--duration"), QStringLiteral("15s"),
                      QStringLiteral("--acked-file"), file, QStringLiteral("--json")});
            return p;
        };
        // Native with a burst of 4x the rate for 1 s every 5 s; OTLP steady.
        QProcess *a =
            loadgen(QStringLiteral("ci-native"), QStringLiteral("native"), QStringLiteral("1500"),
                    QStringLiteral("100"), QStringLiteral("burst:5:1:4"), native);
        QProcess *b =
            loadgen(QStringLiteral("ci-otlp"), QStringLiteral("otlp"), QStringLiteral("500"),
                    QStringLiteral("50"), QStringLiteral("steady"), otlp);
        QVERIFY(a->waitForFinished(60'000));
        QVERIFY(b->waitForFinished(60'000));
        const QByteArray aErr = a->readAllStandardError();
        const QByteArray bErr = b->readAllStandardError();
        const QByteArray aOut = a->readAllStandardOutput();
        const QByteArray bOut = b->readAllStandardOutput();
        // On failure: how it ended (a crash has no stderr) and its last report.
        const auto ended = [](QProcess *p, const QByteArray &err,
                              const QByteArray &out) -> QByteArray {
            return QByteArray(p->exitStatus() == QProcess::CrashExit ? "crashed" : "exit code ") +
                   QByteArray::number(p->exitCode()) + "\nstderr: " + err +
                   "\nstdout (end): " + out.right(2000);
        };
        QVERIFY2(a->exitStatus() == QProcess::NormalExit && a->exitCode() == 0,
                 ended(a, aErr, aOut).constData());
        QVERIFY2(b->exitStatus() == QProcess::NormalExit && b->exitCode() == 0,
                 ended(b, bErr, bOut).constData());
        const QJsonObject ra = lastJsonLine(aOut);
        const QJsonObject rb = lastJsonLine(bOut);
        qInfo().noquote() << "native:" << QJsonDocument(ra).toJson(QJsonDocument::Compact);
        qInfo().noquote() << "otlp:  " << QJsonDocument(rb).toJson(QJsonDocument::Compact);
        const qint64 accepted = ra.value(QStringLiteral("accepted")).toInteger() +
                                rb.value(QStringLiteral("accepted")).toInteger();
        // 15 s at 1500/s (+ bursts) and 500/s: well over 20000 events must have gone through.
        QVERIFY2(accepted > 20'000, qPrintable(QString::number(accepted)));
        QCOMPARE(ra.value(QStringLiteral("rejected")).toInteger(), 0);
        QCOMPARE(rb.value(QStringLiteral("rejected")).toInteger(), 0);

        const Run check = run(QStringLiteral("idl-check"),
                              {QStringLiteral("--stack"), m_stackJson, QStringLiteral("--wait"),
                               QStringLiteral("60s"), QStringLiteral("--json"), native, otlp},
                              120'000);
        qInfo().noquote() << "idl-check:" << check.out.trimmed() << check.err.trimmed();
        const QJsonObject verdict = lastJsonLine(check.out);
        QCOMPARE(verdict.value(QStringLiteral("lost")).toInteger(), 0);
        QCOMPARE(verdict.value(QStringLiteral("duplicated")).toInteger(), 0);
        QCOMPARE(verdict.value(QStringLiteral("unexpected")).toInteger(), 0);
        QCOMPARE(verdict.value(QStringLiteral("acked")).toInteger(), accepted);
        QCOMPARE(check.exitCode, 0);
    }

    // Idempotency-Key (docs/ingest.md): an acknowledged request sent again with the same key
    // (the client never saw the answer) is stored once, through collector, Kafka, processor
    // and writer; the same body under another key is a new request, stored again; a malformed
    // key is refused (400) and stores nothing. Events of one app share the raw and the events
    // partitions, so once the last request's (unkeyed) event is stored, every earlier one is.
    void idempotencyKeyStoresAResentRequestOnce()
    {
        const QString run = QString::number(QDateTime::currentMSecsSinceEpoch());
        const QString app = "idem-e2e-" + run;
        QByteArray body;
        for (int i = 0; i < 3; ++i)
            body += "{\"app\":\"" + app.toUtf8() + "\",\"message\":\"idempotent " +
                    QByteArray::number(i) + "\"}\n";
        const QByteArray key = "\"" + run.toUtf8() + "-a\""; // the draft's sf-string form
        QByteArray reply;
        QCOMPARE(postNative(body, key, &reply), 202);
        QCOMPARE(postNative(body, key, &reply), 202); // the resend: answered as before
        QCOMPARE(postNative(body, run.toUtf8() + "-b", &reply), 202);
        const QString count = "SELECT count(*) FROM logs WHERE app = '" + app + "'";
        // Stores one more event (unkeyed) and waits for it: then every earlier event of this
        // app is stored too.
        const auto settle = [&](const QByteArray &marker) {
            const QByteArray last =
                "{\"app\":\"" + app.toUtf8() + "\",\"message\":\"" + marker + "\"}\n";
            QByteArray r;
            QCOMPARE(postNative(last, {}, &r), 202);
            const QString stored = count + " AND message = '" + QString::fromUtf8(marker) + "'";
            QElapsedTimer t;
            t.start();
            while (t.elapsed() < 60'000 && psqlValue(stored) != QLatin1String("1"))
                QTest::qWait(200);
            QCOMPARE(psqlValue(stored), QStringLiteral("1"));
        };
        settle("last");
        // 3 events under key -a (sent twice) + 3 under key -b + the marker.
        QCOMPARE(psqlValue(count), QStringLiteral("7"));
        QCOMPARE(
            psqlValue("SELECT count(*) FROM ingest_idempotency WHERE key LIKE '" + run + "-%'"),
            QStringLiteral("6"));
        // Malformed keys: refused whole, nothing stored.
        QCOMPARE(postNative(body, "two words", &reply), 400);
        QVERIFY2(reply.contains("Idempotency-Key"), reply.constData());
        QCOMPARE(postNative(body, QByteArray(256, 'k'), &reply), 400);
        settle("last again");
        QCOMPARE(psqlValue(count), QStringLiteral("8"));
    }

    // Every shipper path of docs/ingest.md with its real client, unchanged, sent to the
    // addresses stack.json names; every event the client was told was accepted is read back
    // through the gateway's query API exactly once, with app/host/level/message/attributes
    // mapped as docs/ingest.md says, and idl-check counts the paths whose events carry the
    // loadgen identity. UDP syslog is fire-and-forget: what arrives is checked (at most once,
    // mapped), not that everything arrives.
    void everyShipperPathIsReadBackThroughTheGateway()
    {
        QElapsedTimer took;
        took.start();
        const QString run = QString("shp%1").arg(QDateTime::currentMSecsSinceEpoch());
        const QString key = m_info.value("ingest_api_key").toString();
        const QString collector = m_info.value("collector_url").toString();
        const QString grpc = m_info.value("otlp_grpc").toString();
        const QString src = testsupport::sourceDir();
        QVERIFY(!key.isEmpty() && !collector.isEmpty() && !grpc.isEmpty());
        QVERIFY(!m_info.value("gateway_http_url").toString().isEmpty());
        const auto syslogPort = [&](const char *name) {
            return m_info.value(QLatin1String(name))
                .toObject()
                .value("address")
                .toString()
                .section(':', 1);
        };
        QVERIFY(!syslogPort("syslog_tcp").isEmpty() && !syslogPort("syslog_tls").isEmpty() &&
                !syslogPort("syslog_udp").isEmpty());

        // Per path: the messages its client reported accepted and the check of one row.
        struct Path
        {
            std::vector<QString> sent;
            bool bestEffort = false; // UDP
            std::function<QString(const QJsonObject &row, const QJsonObject &attrs, int i)> check;
        };
        std::map<QString, Path> paths;
        std::map<QString, std::pair<QString, int>> byMessage; // message -> (path, i)
        const auto expect = [&](const QString &path, const QString &message, int i) {
            paths[path].sent.push_back(message);
            byMessage[message] = {path, i};
        };
        const auto field = [](const QJsonObject &row, const char *name) {
            return row.value(QLatin1String(name)).toString();
        };
        // "" when every field has its value, else what differs.
        const auto differences = [&](const QJsonObject &row,
                                     std::initializer_list<std::pair<const char *, QString>> want) {
            QString out;
            for (const auto &[name, value] : want)
                if (field(row, name) != value)
                    out += QString(" %1=%2 (want %3)").arg(name, field(row, name), value);
            return out;
        };
        QString error;

        // OpenTelemetry Python SDK: the protobuf HTTP exporter (gzip) and the gRPC exporter.
        const QString otel =
            testsupport::pythonVenv("otel-proto-venv", "otel-proto-requirements.txt", &error);
        QVERIFY2(!otel.isEmpty(), qPrintable(error));
        const int otelCount = 30;
        std::map<QString, QString> traceIds;
        for (const auto &[path, endpoint, kind] :
             {std::tuple{QString("otlphttp"), QString(collector + "/v1/logs"),
                         QString("proto-http")},
              std::tuple{QString("otlpgrpc"), grpc, QString("grpc")}}) {
            const QString marker = run + "-" + path;
            const auto r =
                testsupport::runProcess(otel,
                                        {src + "/tests/collector/otel_sdk_logs.py", endpoint, key,
                                         marker, QString::number(otelCount), kind, marker},
                                        {}, 120'000);
            QVERIFY2(r.code == 0, QByteArray(path.toUtf8() + ": " + r.out + r.err).constData());
            traceIds[path] = QString::fromLatin1(r.out.trimmed());
            QCOMPARE(traceIds[path].size(), 32);
            for (int i = 0; i < otelCount; ++i)
                expect(path, QString("%1 record %2").arg(marker).arg(i), i);
            const QString traceId = traceIds[path];
            paths[path].check = [&, traceId, marker](const QJsonObject &row, const QJsonObject &a,
                                                     int i) -> QString {
                QString d = differences(row, {{"app", "otel-py"},
                                              {"host", "sdk-host"},
                                              {"level", "warn"},
                                              {"trace_id", traceId}});
                if (a.value("record.index").toInt(-1) != i ||
                    a.value("loadgen.seq").toInt(-1) != i ||
                    a.value("loadgen.id").toString() != marker ||
                    a.value("telemetry.sdk.language").toString() != "python" ||
                    field(row, "span_id").size() != 16)
                    d += " attrs/span: " + QJsonDocument(a).toJson(QJsonDocument::Compact);
                return d;
            };
        }

        // The official Elasticsearch Python client: info/ping, helpers.bulk with ApiKey, one
        // document with Basic credentials, per-item errors (a bad date: never stored), a wrong
        // key.
        const QString es =
            testsupport::pythonVenv("es-client-venv", "es-client-requirements.txt", &error);
        QVERIFY2(!es.isEmpty(), qPrintable(error));
        const int esCount = 30;
        {
            const QString marker = run + "-es";
            const auto r =
                testsupport::runProcess(es,
                                        {src + "/tests/collector/es_client_bulk.py", collector, key,
                                         marker, QString::number(esCount), marker},
                                        {}, 120'000);
            QVERIFY2(r.code == 0, QByteArray(r.out + r.err).constData());
            const QJsonObject report = QJsonDocument::fromJson(r.out).object();
            QCOMPARE(report.value("bulk_ok").toInt(), esCount);
            QCOMPARE(report.value("mixed_ok").toInt(), 1);
            for (int i = 0; i < esCount; ++i)
                expect("es", QString("%1-%2").arg(marker).arg(i), i);
            expect("es", marker + "-basic", -1);
            paths["es"].check = [&, marker](const QJsonObject &row, const QJsonObject &a,
                                            int i) -> QString {
                if (i < 0) // Basic credentials, no level, host or time; _id kept as attribute
                    return differences(row, {{"app", "esclient"}, {"level", "info"}}) +
                           (a.value("_id").toString() == "doc-1" ? "" : " no _id attribute");
                QString d =
                    differences(row, {{"app", "esclient"}, {"host", "es-host"}, {"level", "warn"}});
                if (a.value("n").toInt(-1) != i || a.value("loadgen.seq").toInt(-1) != i ||
                    a.value("loadgen.id").toString() != marker)
                    d += " attrs: " + QJsonDocument(a).toJson(QJsonDocument::Compact);
                return d;
            };
        }

        // winston-loki (npm): JSON, and protobuf + snappy.
        const QString loki = testsupport::lokiClientDir(&error);
        QVERIFY2(!loki.isEmpty(), qPrintable(error));
        const int lokiCount = 20;
        for (const QString mode : {"json", "protobuf"}) {
            const QString path = "loki" + mode;
            const QString marker = run + "-" + path;
            const auto r = testsupport::runProcess(
                "node",
                {loki + "/push.js", collector, key, marker, QString::number(lokiCount), mode}, loki,
                120'000);
            QVERIFY2(r.code == 0, QByteArray(mode.toUtf8() + ": " + r.out + r.err).constData());
            // winston-loki's line: the message, then its metadata as JSON.
            for (int i = 0; i < lokiCount; ++i)
                expect(path, QString("%1-%2 {\"level\":\"warn\"}").arg(marker).arg(i), i);
            paths[path].check = [&, mode](const QJsonObject &row, const QJsonObject &a,
                                          int i) -> QString {
                QString d = differences(
                    row, {{"app", "winston-" + mode}, {"host", "node-host"}, {"level", "warn"}});
                if (a.value("shard").toString() != QString::number(i % 2))
                    d += " attrs: " + QJsonDocument(a).toJson(QJsonDocument::Compact);
                return d;
            };
        }

        // rsyslogd (its own config, fed through a private imuxsock socket by `logger -u`)
        // forwarding by program name over TCP (octet counting, RFC 5424), TLS (gtls, trusting
        // the stack's ca_file) and UDP (BSD format); `logger` straight to TCP and UDP.
        const QString d = m_tmp.filePath("rsyslog");
        QVERIFY(QDir().mkpath(d + "/work"));
        const QString conf =
            QString("global(workDirectory=\"%1/work\" DefaultNetstreamDriverCAFile=\"%2\")\n"
                    "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
                    "input(type=\"imuxsock\" Socket=\"%1/rsyslog.sock\" CreatePath=\"on\")\n"
                    "if $programname == 'shiptcp' then action(type=\"omfwd\" "
                    "target=\"127.0.0.1\" port=\"%3\" protocol=\"tcp\" "
                    "TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\")\n"
                    "if $programname == 'shiptls' then action(type=\"omfwd\" "
                    "target=\"127.0.0.1\" port=\"%4\" protocol=\"tcp\" StreamDriver=\"gtls\" "
                    "StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/name\" "
                    "StreamDriverPermittedPeers=\"localhost\" TCP_Framing=\"octet-counted\" "
                    "template=\"RSYSLOG_SyslogProtocol23Format\")\n"
                    "if $programname == 'shipudp' then action(type=\"omfwd\" "
                    "target=\"127.0.0.1\" port=\"%5\" protocol=\"udp\")\n")
                .arg(d, m_info.value("syslog_tls").toObject().value("ca_file").toString(),
                     syslogPort("syslog_tcp"), syslogPort("syslog_tls"), syslogPort("syslog_udp"));
        QFile cf(d + "/rsyslog.conf");
        QVERIFY(cf.open(QIODevice::WriteOnly));
        cf.write(conf.toUtf8());
        cf.close();
        QProcess rsyslogd; // killed when the test leaves, whatever happens
        rsyslogd.setProcessChannelMode(QProcess::MergedChannels);
        rsyslogd.start("rsyslogd", {"-n", "-f", d + "/rsyslog.conf", "-i", d + "/rsyslogd.pid"});
        QVERIFY(rsyslogd.waitForStarted(10'000));
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(d + "/rsyslog.sock"), 20'000);
        const int syslogCount = 10;
        const QString shortHost = QHostInfo::localHostName().section('.', 0, 0);
        const auto syslogCheck = [&](const QString &level, const QString &facility,
                                     const QString &tag) {
            return [&, level, facility, tag](const QJsonObject &row, const QJsonObject &a,
                                             int) -> QString {
                QString out = differences(row, {{"app", "syslog"}, {"level", level}});
                const QJsonObject s = a.value("syslog").toObject();
                if (s.value("facility").toString() != facility ||
                    s.value("appname").toString() != tag || s.contains("parse_error"))
                    out += " attrs: " + QJsonDocument(a).toJson(QJsonDocument::Compact);
                // rsyslog sends the short host name, logger the full one.
                if (!QHostInfo::localHostName().startsWith(field(row, "host")) ||
                    !field(row, "host").startsWith(shortHost))
                    out += " host " + field(row, "host");
                return out;
            };
        };
        for (const auto &[tag, path] : {std::pair{QString("shiptcp"), QString("rsyslogtcp")},
                                        std::pair{QString("shiptls"), QString("rsyslogtls")},
                                        std::pair{QString("shipudp"), QString("rsyslogudp")}}) {
            for (int i = 0; i < syslogCount; ++i) {
                const QString message = QString("%1-%2-%3").arg(run, path).arg(i);
                const auto r = testsupport::runProcess(
                    "logger",
                    {"-u", d + "/rsyslog.sock", "-t", tag, "-p", "local3.warning", message}, {},
                    30'000);
                QVERIFY2(r.code == 0, r.err.constData());
                expect(path, message, i);
            }
            paths[path].check = syslogCheck("warn", "local3", tag);
        }
        paths["rsyslogudp"].bestEffort = true;
        for (const auto &[path, args] :
             {std::pair{QString("loggertcp"), QStringList{"--port", syslogPort("syslog_tcp"),
                                                          "--tcp", "--rfc5424", "--octet-count"}},
              std::pair{QString("loggerudp"),
                        QStringList{"--port", syslogPort("syslog_udp"), "--udp", "--rfc5424"}}}) {
            for (int i = 0; i < syslogCount; ++i) {
                const QString message = QString("%1-%2-%3").arg(run, path).arg(i);
                const auto r = testsupport::runProcess(
                    "logger",
                    QStringList{"--server", "127.0.0.1", "-t", "shiplog", "-p", "user.err"} + args +
                        QStringList{message},
                    {}, 30'000);
                QVERIFY2(r.code == 0, r.err.constData());
                expect(path, message, i);
            }
            paths[path].check = syslogCheck("error", "user", "shiplog");
        }
        paths["loggerudp"].bestEffort = true;
        qInfo() << "clients done after" << took.elapsed() << "ms";

        // Read back through the gateway until every path's accepted events are there (UDP:
        // whatever came), then once more a little later, to count late duplicates too.
        QList<QJsonObject> rows;
        const auto complete = [&] {
            std::set<QString> seen;
            for (const auto &row : rows)
                seen.insert(field(row, "message"));
            for (const auto &[name, path] : paths)
                for (const auto &m : path.sent)
                    if (!path.bestEffort && !seen.count(m))
                        return false;
            return true;
        };
        QElapsedTimer wait;
        wait.start();
        do {
            QTest::qWait(500);
            rows = gatewayQuery(run, &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
        } while (!complete() && wait.elapsed() < 120'000);
        QTest::qWait(2000);
        rows = gatewayQuery(run, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        rsyslogd.terminate();
        rsyslogd.waitForFinished(10'000);

        std::map<QString, int> copies;
        QStringList unexpected, mapping;
        for (const auto &row : rows) {
            const QString message = field(row, "message");
            const auto it = byMessage.find(message);
            if (it == byMessage.end()) {
                unexpected << message;
                continue;
            }
            ++copies[message];
            const auto &[path, i] = it->second;
            const QString wrong = paths[path].check(row, row.value("attrs").toObject(), i);
            if (!wrong.isEmpty())
                mapping << path + " " + message + ":" + wrong;
        }
        QStringList summary;
        int lostTotal = 0, duplicatedTotal = 0;
        for (const auto &[name, path] : paths) {
            int stored = 0, lost = 0, duplicated = 0;
            for (const auto &m : path.sent) {
                const int n = copies[m];
                stored += n > 0;
                lost += n == 0;
                duplicated += std::max(0, n - 1);
            }
            summary << QString("%1: sent %2, stored %3, lost %4%5, duplicated %6")
                           .arg(name)
                           .arg(path.sent.size())
                           .arg(stored)
                           .arg(lost)
                           .arg(path.bestEffort ? " (UDP, best effort)" : "")
                           .arg(duplicated);
            duplicatedTotal += duplicated;
            if (!path.bestEffort)
                lostTotal += lost;
            else
                QVERIFY2(stored > 0, qPrintable(name + ": no datagram arrived at all"));
        }
        qInfo().noquote() << "through the gateway:\n  " + summary.join("\n  ");
        QVERIFY2(mapping.isEmpty(), qPrintable(mapping.mid(0, 10).join('\n')));
        QVERIFY2(unexpected.isEmpty(),
                 qPrintable("stored, never accepted: " + unexpected.join(", ")));
        QCOMPARE(lostTotal, 0);
        QCOMPARE(duplicatedTotal, 0);

        // idl-check over the paths whose events carry loadgen.id / loadgen.seq: the OTLP
        // exporters' log attributes and the Elasticsearch documents' fields.
        QStringList ledgers;
        qint64 acked = 0;
        for (const auto &[path, count] :
             {std::pair{QString("otlphttp"), otelCount}, std::pair{QString("otlpgrpc"), otelCount},
              std::pair{QString("es"), esCount}}) {
            const QString file = m_tmp.filePath(path + ".acked");
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QString("idl-loadgen-acked 1\ngenerator %1 %2\nacked %1 0 %3\n")
                        .arg(run + "-" + path)
                        .arg(count)
                        .arg(count - 1)
                        .toUtf8());
            ledgers << file;
            acked += count;
        }
        const Run check = ::run(
            "idl-check", QStringList{"--stack", m_stackJson, "--wait", "60s", "--json"} + ledgers,
            120'000);
        qInfo().noquote() << "idl-check:" << check.out.trimmed() << check.err.trimmed();
        const QJsonObject verdict = lastJsonLine(check.out);
        QCOMPARE(verdict.value("acked").toInteger(), acked);
        QCOMPARE(verdict.value("lost").toInteger(), 0);
        QCOMPARE(verdict.value("duplicated").toInteger(), 0);
        QCOMPARE(verdict.value("unexpected").toInteger(), 0);
        QCOMPARE(check.exitCode, 0);
        qInfo() << "shipper paths checked in" << took.elapsed() << "ms";
    }

    void checkerCatchesLossAndDuplicates()
    {
        const QString native = m_tmp.filePath(QStringLiteral("native.acked"));
        QVERIFY(QFile::exists(native));
        // One acknowledged event disappears, another is stored twice.
        QCOMPARE(psql(QStringLiteral("DELETE FROM logs WHERE attrs->>'loadgen.id' = 'ci-native' "
                                     "AND attrs->>'loadgen.seq' = '7'")),
                 0);
        QCOMPARE(psql(QStringLiteral("INSERT INTO logs SELECT * FROM logs WHERE "
                                     "attrs->>'loadgen.id' = 'ci-native' AND "
                                     "attrs->>'loadgen.seq' = '8'")),
                 0);
        const Run check =
            run(QStringLiteral("idl-check"),
                {QStringLiteral("--stack"), m_stackJson, QStringLiteral("--json"), native}, 60'000);
        const QJsonObject verdict = lastJsonLine(check.out);
        QCOMPARE(verdict.value(QStringLiteral("lost")).toInteger(), 1);
        QCOMPARE(verdict.value(QStringLiteral("duplicated")).toInteger(), 1);
        QCOMPARE(check.exitCode, 1);
    }
};

QTEST_GUILESS_MAIN(TestE2e)
#include "test_e2e.moc"
