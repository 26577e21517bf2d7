// idl-stack as a user runs it: `up` in the foreground brings everything up in under 60 s and
// writes a correct stack.json, and starts a service that dies again; `down` from another process
// stops it and leaves no process; a second `up` on the same folder keeps the data and the
// credentials.
#include "idl_test_stack.h"
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>
#include <QUrlQuery>

#include <csignal>
#include <sys/types.h>
#include <unistd.h>

using idl::testsupport::binPath;

namespace {

// PIDs of processes whose command line mentions the folder (postgres, java, services).
QList<qint64> processesUsing(const QString &dir)
{
    QList<qint64> pids;
    const auto entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &e : entries) {
        bool ok = false;
        const qint64 pid = e.toLongLong(&ok);
        if (!ok || pid == QCoreApplication::applicationPid())
            continue;
        QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        QByteArray cmd = f.readAll();
        cmd.replace('\0', ' ');
        if (cmd.contains(dir.toUtf8()))
            pids << pid;
    }
    return pids;
}

int httpStatus(QNetworkAccessManager &nam, QNetworkRequest req, const QByteArray &body = {},
               QByteArray *reply = nullptr)
{
    req.setTransferTimeout(10'000);
    QNetworkReply *r = body.isNull() ? nam.get(req) : nam.post(req, body);
    QSignalSpy done(r, &QNetworkReply::finished);
    done.wait(15'000);
    if (reply)
        *reply = r->readAll();
    const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r->deleteLater();
    return status;
}

} // namespace

class TestStack : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    idl::testsupport::StackProcess m_stack{m_tmp.filePath(QStringLiteral("stack")),
                                           m_tmp.filePath(QStringLiteral("stack.out"))};

    QJsonObject up(qint64 *elapsedMs)
    {
        const QString why = m_stack.up({QStringLiteral("--collector-port"), QStringLiteral("0"),
                                        QStringLiteral("--gateway-port"), QStringLiteral("0"),
                                        QStringLiteral("--syslog-tcp-port"), QStringLiteral("0"),
                                        QStringLiteral("--syslog-tls-port"), QStringLiteral("0"),
                                        QStringLiteral("--syslog-udp-port"), QStringLiteral("0"),
                                        QStringLiteral("--otlp-grpc-port"), QStringLiteral("0"),
                                        QStringLiteral("--demo"), QStringLiteral("--demo-rate"),
                                        QStringLiteral("50")},
                                       90'000);
        *elapsedMs = m_stack.upMs();
        if (!why.isEmpty()) {
            qWarning().noquote() << why;
            return {};
        }
        return m_stack.json();
    }

    void down()
    {
        const QString dir = m_tmp.filePath(QStringLiteral("stack"));
        QVERIFY2(m_stack.down(120'000), m_stack.downError().constData());
        QElapsedTimer t;
        t.start();
        while (!processesUsing(dir).isEmpty() && t.elapsed() < 10'000)
            QTest::qWait(200);
        QVERIFY2(processesUsing(dir).isEmpty(), "idl-stack down left processes behind");
        QVERIFY(!QFile::exists(QDir(dir).filePath(QStringLiteral("stack.json"))));
    }

    // stack.json names the three syslog listeners; a message sent to each (TLS trusting the
    // stack's certificate) is stored under their app and found through the gateway.
    void syslogListenersReachStorage(const QJsonObject &s, QNetworkAccessManager &nam)
    {
        const auto port = [&](const char *name) {
            const QJsonObject l = s.value(QLatin1String(name)).toObject();
            [&] {
                QCOMPARE(l.value(QStringLiteral("app")).toString(), QStringLiteral("syslog"));
            }();
            return static_cast<quint16>(
                l.value(QStringLiteral("address")).toString().section(u':', 1).toUInt());
        };
        const quint16 tcp = port("syslog_tcp"), tls = port("syslog_tls"), udp = port("syslog_udp");
        QVERIFY(tcp && tls && udp);
        const QString marker =
            QStringLiteral("stack-syslog-%1").arg(QDateTime::currentMSecsSinceEpoch());
        QTcpSocket t;
        t.connectToHost(QStringLiteral("127.0.0.1"), tcp);
        QVERIFY(t.waitForConnected(5000));
        t.write(QStringLiteral("<13>1 - h1 app1 - - - %1 tcp\n").arg(marker).toUtf8());
        QVERIFY(t.waitForBytesWritten(5000));
        QSslSocket e;
        QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
        conf.setCaCertificates(QSslCertificate::fromPath(s.value(QStringLiteral("syslog_tls"))
                                                             .toObject()
                                                             .value(QStringLiteral("ca_file"))
                                                             .toString()));
        e.setSslConfiguration(conf);
        e.connectToHostEncrypted(QStringLiteral("127.0.0.1"), tls, QStringLiteral("localhost"));
        QVERIFY2(e.waitForEncrypted(10'000), qPrintable(e.errorString()));
        e.write(QStringLiteral("<13>1 - h1 app1 - - - %1 tls\n").arg(marker).toUtf8());
        QVERIFY(e.waitForBytesWritten(5000));
        QUdpSocket u;
        u.writeDatagram(QStringLiteral("<13>1 - h1 app1 - - - %1 udp").arg(marker).toUtf8(),
                        QHostAddress::LocalHost, udp);

        const QString api = s.value(QStringLiteral("gateway_http_url")).toString();
        if (api.isEmpty())
            return;
        QByteArray rows;
        for (int i = 0; i < 150; ++i) {
            QUrl url(api + QStringLiteral("/api/v1/query"));
            QUrlQuery q;
            q.addQueryItem(QStringLiteral("q"), QStringLiteral("app:syslog"));
            q.addQueryItem(QStringLiteral("from"), QStringLiteral("-1d"));
            url.setQuery(q);
            QNetworkRequest req(url);
            req.setRawHeader("Authorization",
                             "Bearer " +
                                 s.value(QStringLiteral("admin_token")).toString().toUtf8());
            httpStatus(nam, req, QByteArray(), &rows);
            if (rows.count(marker.toUtf8()) >= 3)
                break;
            QTest::qWait(200);
        }
        for (const char *via : {" tcp", " tls", " udp"})
            QVERIFY2(rows.contains(QByteArray(marker.toUtf8() + via)), rows.constData());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(QFile::exists(binPath(QStringLiteral("idl-stack"))));
        // As root, PostgreSQL runs as user postgres, which must be able to enter the folder.
        QFile::setPermissions(m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                                QFileDevice::ExeOther);
    }

    void cleanupTestCase() { m_stack.down(); }

    void upWritesStackJsonAndDownStopsEverything()
    {
        qint64 ms = 0;
        const QJsonObject s = up(&ms);
        QVERIFY2(!s.isEmpty(), "stack.json was not written");
        qInfo() << "idl-stack up took" << ms << "ms";
        QVERIFY2(ms < 60'000, "idl-stack up must finish in under 60 s");
        for (const char *key : {"collector_url", "gateway_url", "ingest_api_key", "admin_token",
                                "postgres_dsn", "kafka_bootstrap", "otlp_grpc"})
            QVERIFY2(s.contains(QLatin1String(key)), key);
        // The collector's OTLP/gRPC listener is where stack.json says.
        const QStringList grpc = s.value(QStringLiteral("otlp_grpc")).toString().split(u':');
        QCOMPARE(grpc.size(), 2);
        if (QFile::exists(binPath(QStringLiteral("idl-collector")))) {
            QTcpSocket probe;
            probe.connectToHost(grpc[0], static_cast<quint16>(grpc[1].toUInt()));
            if (!probe.waitForConnected(5000)) {
                // What the collector said about its listeners, and who else holds the port.
                QFile log(m_tmp.filePath(QStringLiteral("stack/logs/idl-collector.log")));
                QByteArray said = probe.errorString().toUtf8() + "\n";
                if (log.open(QIODevice::ReadOnly))
                    said += "collector log:\n" + log.readAll().right(4000) + "\n";
                else
                    said += "no collector log at " + log.fileName().toUtf8() + "\n";
                QProcess ss;
                ss.start(QStringLiteral("ss"), {QStringLiteral("-tanp")});
                ss.waitForFinished(5000);
                for (const QByteArray &line : ss.readAll().split('\n'))
                    if (line.contains(QByteArray(":" + grpc[1].toUtf8() + " ")))
                        said += line + "\n";
                const QByteArray why =
                    "nothing listens on otlp_grpc " + grpc.join(u':').toUtf8() + ": " + said;
                QFAIL(why.constData());
            }
        }
        QVERIFY(
            s.value(QStringLiteral("postgres_dsn")).toString().contains(QStringLiteral("port=")));
        QVERIFY(s.value(QStringLiteral("kafka_bootstrap"))
                    .toString()
                    .startsWith(QStringLiteral("127.0.0.1:")));

        // The servers behind it are real and reachable: PostgreSQL answers through psql.
        QProcess psql;
        psql.start(QStringLiteral("psql"), {s.value(QStringLiteral("postgres_dsn")).toString(),
                                            QStringLiteral("-tAc"), QStringLiteral("select 1")});
        QVERIFY(psql.waitForFinished(20'000));
        QCOMPARE(psql.readAllStandardOutput().trimmed(), QByteArray("1"));

        const QString collector = s.value(QStringLiteral("collector_url")).toString();
        if (!collector.isEmpty() && QFile::exists(binPath(QStringLiteral("idl-collector")))) {
            QNetworkAccessManager nam;
            QNetworkRequest req(QUrl(collector + QStringLiteral("/api/v1/logs")));
            req.setHeader(QNetworkRequest::ContentTypeHeader,
                          QByteArrayLiteral("application/json"));
            req.setRawHeader("Authorization",
                             "Bearer " +
                                 s.value(QStringLiteral("ingest_api_key")).toString().toUtf8());
            QByteArray body;
            QCOMPARE(
                httpStatus(nam, req, R"({"app":"stack-test","level":"info","msg":"hello"})", &body),
                202);
            QNetworkRequest noKey(QUrl(collector + QStringLiteral("/api/v1/logs")));
            noKey.setHeader(QNetworkRequest::ContentTypeHeader,
                            QByteArrayLiteral("application/json"));
            QCOMPARE(httpStatus(nam, noKey, R"({"msg":"x"})"), 401);
            syslogListenersReachStorage(s, nam);

            // Supervision: a collector killed with SIGKILL is started again, stack.json gets
            // its new pid, and it takes logs again.
            const QString dir = m_tmp.filePath(QStringLiteral("stack"));
            const auto collectorPid = [&]() -> qint64 {
                QFile f(QDir(dir).filePath(QStringLiteral("stack.json")));
                if (!f.open(QIODevice::ReadOnly))
                    return 0;
                const QJsonObject services = QJsonDocument::fromJson(f.readAll())
                                                 .object()
                                                 .value(QStringLiteral("services"))
                                                 .toObject();
                for (auto it = services.begin(); it != services.end(); ++it)
                    if (it.key().startsWith(QStringLiteral("idl-collector#")))
                        return it.value().toInteger();
                return 0;
            };
            const qint64 before = collectorPid();
            QVERIFY(before > 0);
            QCOMPARE(::kill(static_cast<pid_t>(before), SIGKILL), 0);
            QElapsedTimer t;
            t.start();
            while (t.elapsed() < 30'000 && (collectorPid() == before || collectorPid() == 0))
                QTest::qWait(100);
            const qint64 after = collectorPid();
            QVERIFY2(after > 0 && after != before, "the killed collector was started again");
            QCOMPARE(::kill(static_cast<pid_t>(after), 0), 0);
            int status = 0;
            while (t.elapsed() < 60'000 &&
                   (status = httpStatus(nam, req, R"({"app":"stack-test","msg":"again"})")) != 202)
                QTest::qWait(200);
            QCOMPARE(status, 202);
        }
        const qint64 kafkaPid = s.value(QStringLiteral("kafka_pid")).toInteger();
        QVERIFY2(kafkaPid > 0 && ::kill(static_cast<pid_t>(kafkaPid), 0) == 0,
                 "stack.json has the broker's pid");
        down();
    }

    // Issue 15, finding 8: no secret on a command line (any local user reads them in ps), and
    // the stack's PostgreSQL wants its password (it trusted every local user before).
    void secretsStayOffCommandLinesAndPostgresWantsItsPassword()
    {
        qint64 ms = 0;
        const QJsonObject s = up(&ms);
        QVERIFY2(!s.isEmpty(), "stack.json was not written");
        const QString token = s.value(QStringLiteral("metrics_token")).toString();
        const QString dsn = s.value(QStringLiteral("postgres_dsn")).toString();
        static const QRegularExpression pw(QStringLiteral(" password='([^']*)'"));
        const QString password = pw.match(dsn).captured(1);
        QVERIFY2(token.size() >= 32, "stack.json has the metrics token");
        QVERIFY2(password.size() >= 32, qPrintable(QStringLiteral("no password in ") + dsn));

        int services = 0;
        const auto entries =
            QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString &e : entries) {
            QFile f(QStringLiteral("/proc/%1/cmdline").arg(e));
            if (!f.open(QIODevice::ReadOnly))
                continue;
            QByteArray cmd = f.readAll();
            cmd.replace('\0', ' ');
            services += cmd.contains("idl-collector") || cmd.contains("idl-gateway") ? 1 : 0;
            QVERIFY2(!cmd.contains(token.toUtf8()),
                     qPrintable(QStringLiteral("the metrics token is on a command line: ") +
                                QString::fromUtf8(cmd.left(120))));
            QVERIFY2(!cmd.contains(password.toUtf8()),
                     qPrintable(QStringLiteral("the database password is on a command line: ") +
                                QString::fromUtf8(cmd.left(120))));
        }
        QVERIFY2(services >= 2, "the services were found"); // the check looked at them

        // Without the password PostgreSQL refuses, over TCP and the local socket; with it,
        // it answers.
        QString noPassword = dsn;
        noPassword.remove(pw);
        QProcess psql;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("PGPASSWORD"));
        psql.setProcessEnvironment(env);
        psql.start(QStringLiteral("psql"), {QStringLiteral("-w"), noPassword,
                                            QStringLiteral("-tAc"), QStringLiteral("select 1")});
        QVERIFY(psql.waitForFinished(20'000));
        QVERIFY2(psql.exitCode() != 0, "PostgreSQL let a client in without the password");
        QVERIFY2(psql.readAllStandardError().contains("password"), "refused for the password");
        static const QRegularExpression portRe(QStringLiteral("port=(\\d+)"));
        const QString socketDir =
            QFileInfo(m_tmp.filePath(QStringLiteral("stack/postgres"))).canonicalFilePath();
        psql.start(QStringLiteral("psql"),
                   {QStringLiteral("-w"), QStringLiteral("-h"), socketDir, QStringLiteral("-p"),
                    portRe.match(dsn).captured(1), QStringLiteral("-U"), QStringLiteral("idl"),
                    QStringLiteral("-d"), QStringLiteral("idl"), QStringLiteral("-tAc"),
                    QStringLiteral("select 1")});
        QVERIFY(psql.waitForFinished(20'000));
        QVERIFY2(psql.exitCode() != 0, "PostgreSQL let a local-socket client in without it");
        QVERIFY2(psql.readAllStandardError().contains("password"), "socket: refused for it");
        psql.start(QStringLiteral("psql"),
                   {dsn, QStringLiteral("-tAc"), QStringLiteral("select 1")});
        QVERIFY(psql.waitForFinished(20'000));
        QCOMPARE(psql.readAllStandardOutput().trimmed(), QByteArray("1"));
        down();
    }

    void secondUpKeepsDataAndCredentials()
    {
        const QString dir = m_tmp.filePath(QStringLiteral("stack"));
        qint64 ms = 0;
        QJsonObject first = up(&ms);
        QVERIFY(!first.isEmpty());
        const QString dsn = first.value(QStringLiteral("postgres_dsn")).toString();
        QProcess psql;
        psql.start(QStringLiteral("psql"),
                   {dsn, QStringLiteral("-tAc"),
                    QStringLiteral("create table if not exists stack_probe(x int); "
                                   "insert into stack_probe values (42)")});
        QVERIFY(psql.waitForFinished(20'000));
        QCOMPARE(psql.exitCode(), 0);
        down();

        QJsonObject second = up(&ms);
        QVERIFY(!second.isEmpty());
        QCOMPARE(second.value(QStringLiteral("ingest_api_key")),
                 first.value(QStringLiteral("ingest_api_key")));
        psql.start(QStringLiteral("psql"),
                   {second.value(QStringLiteral("postgres_dsn")).toString(), QStringLiteral("-tAc"),
                    QStringLiteral("select sum(x) from stack_probe")});
        QVERIFY(psql.waitForFinished(20'000));
        QCOMPARE(psql.readAllStandardOutput().trimmed(), QByteArray("42"));
        down();
        Q_UNUSED(dir);
    }

    void upOnARunningFolderIsRefused()
    {
        qint64 ms = 0;
        QVERIFY(!up(&ms).isEmpty());
        QProcess again;
        again.start(binPath(QStringLiteral("idl-stack")),
                    {QStringLiteral("up"), QStringLiteral("--data-dir"),
                     m_tmp.filePath(QStringLiteral("stack"))});
        QVERIFY(again.waitForFinished(30'000));
        QVERIFY(again.exitCode() != 0);
        QVERIFY(again.readAllStandardError().contains("already running"));
        down();
    }

    void killedStackLeavesNoProcess()
    {
        qint64 ms = 0;
        QVERIFY(!up(&ms).isEmpty());
        const QString dir = m_tmp.filePath(QStringLiteral("stack"));
        ::kill(static_cast<pid_t>(m_stack.process().processId()), SIGKILL);
        QVERIFY(m_stack.process().waitForFinished(10'000));
        QElapsedTimer t;
        t.start();
        while (!processesUsing(dir).isEmpty() && t.elapsed() < 15'000)
            QTest::qWait(250);
        QVERIFY2(processesUsing(dir).isEmpty(), "servers outlived a SIGKILLed idl-stack");
    }
};

QTEST_GUILESS_MAIN(TestStack)
#include "test_stack.moc"
