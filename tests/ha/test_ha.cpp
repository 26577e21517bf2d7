// Availability suite (issue 18): `idl-stack up --ha` (three Kafka brokers, PostgreSQL primary and
// hot standby, two of each service behind HAProxy) under steady load from idl-loadgen through
// HAProxy, with client retries as OTLP/HTTP exporters do them (Retry-After honoured), while,
// one at a time:
//   a Kafka broker is killed (-9) and restarted by idl-stack;
//   each collector in turn is killed (-9);
//   each gateway in turn is killed (-9) while a live tail and exports run through HAProxy;
//   the PostgreSQL primary is killed (-9) and idl-stack promotes the standby.
// Per fault it prints: seconds of refused ingestion (requests without a 2xx answer), seconds
// during which queries through HAProxy failed, requests answered 2xx out of all sent (each
// attempt counts) and batches finally acknowledged out of all (the exporter's view), and
// idl-check's verdict (0 acknowledged events lost, 0 duplicated); the tail must have every
// stored event once. The whole run's share of 2xx answers is compared with the 99.9 % goal.
//
// Labels ha and bench (not in CI's normal run: about 6 minutes and three JVMs). Length:
// IDL_HA_STEADY_S (default 30) seconds of steady load before and after each fault. The load
// generator sends an Idempotency-Key per batch (the same on its retries), so a resent batch is
// stored once and idl-check must find 0 duplicates; IDL_HA_IDEMPOTENCY_KEYS=0 sends none (then
// duplicates are allowed up to the events resent after an unknown outcome).
#undef QT_NO_CAST_FROM_ASCII

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QUrlQuery>
#include <QWebSocket>

#include "idl_test_stack.h"
#include "tail_client.h"

#include <csignal>
#include <functional>
#include <unistd.h>

using idl::testsupport::binPath;
using idl::testsupport::lastJsonLine;
using idl::testsupport::StackProcess;
using idl::testsupport::TailClient;
using idl::testsupport::waitFor;

namespace {

// Success/failure samples folded into windows of failure: from a failed sample to the next
// successful one.
struct Windows
{
    double openedAt = -1;
    double total = 0;
    int failures = 0, samples = 0;
    void add(double atS, bool ok)
    {
        ++samples;
        if (!ok) {
            ++failures;
            if (openedAt < 0)
                openedAt = atS;
        } else if (openedAt >= 0) {
            total += atS - openedAt;
            openedAt = -1;
        }
    }
    double seconds(double nowS) const { return total + (openedAt >= 0 ? nowS - openedAt : 0); }
};

// Exports through HAProxy, one after another: each `export` of every stored row; a connection
// that drops cuts the running export, which is then run again on a new connection.
class ExportLoop : public QObject
{
    Q_OBJECT
public:
    ExportLoop(QUrl url, QString token) : m_url(std::move(url)), m_token(std::move(token)) {}
    int completed = 0, cut = 0, errors = 0;
    bool cutThenCompleted = false; // an export completed after one was cut

public Q_SLOTS:
    void begin()
    {
        m_ws = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
        connect(m_ws, &QWebSocket::connected, this, [this] {
            send({{"type", "hello"},
                  {"id", "hello"},
                  {"versions", QJsonArray{1}},
                  {"client", "test_ha"},
                  {"token", m_token}});
        });
        connect(m_ws, &QWebSocket::disconnected, this, [this] {
            if (m_running) {
                ++cut;
                m_pendingCut = true;
            }
            m_running = false;
            if (!m_ended)
                QTimer::singleShot(250, this, [this] { m_ws->open(m_url); });
        });
        connect(m_ws, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
            const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
            const QString type = m.value(QStringLiteral("type")).toString();
            if (type == u"hello" || type == u"done") {
                if (type == u"done") {
                    ++completed;
                    if (m_pendingCut)
                        cutThenCompleted = true;
                    m_pendingCut = false;
                }
                start();
            } else if (type == u"error") {
                ++errors;
                m_running = false;
                QTimer::singleShot(500, this, [this] { start(); });
            }
        });
        m_ws->open(m_url);
    }
    void end()
    {
        m_ended = true;
        if (m_ws) {
            m_ws->disconnect(this);
            m_ws->close();
        }
    }

private:
    void send(const QJsonObject &o)
    {
        m_ws->sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
    }
    void start()
    {
        if (m_ended || m_ws->state() != QAbstractSocket::ConnectedState)
            return;
        m_running = true;
        send({{"type", "export"},
              {"id", QStringLiteral("x%1").arg(++m_serial)},
              {"q", ""},
              {"from", "2000-01-01T00:00:00Z"},
              {"to", "2100-01-01T00:00:00Z"},
              {"columns", QJsonArray{"id", "message"}},
              {"chunk", 1000}});
    }
    QUrl m_url;
    QString m_token;
    QWebSocket *m_ws = nullptr;
    int m_serial = 0;
    bool m_running = false, m_pendingCut = false, m_ended = false;
};

struct PhaseResult
{
    QString fault;
    qint64 recoveryMs = -1;
    double refusedS = -1, queryFailedS = 0;
    int queryFailures = 0, querySamples = 0;
    qint64 requests = 0, requests2xx = 0, batches = 0, batchesOk = 0, retries = 0, resent = 0;
    qint64 accepted = 0;
    QJsonObject statuses;
    qint64 lost = -1, duplicated = -1, unexpected = -1;
    qint64 stored = 0, tailMissing = -1, tailDuplicated = -1;
    int tailReconnects = 0;
};

} // namespace

class TestHa : public QObject
{
    Q_OBJECT

    bool m_idempotencyKeys = !qEnvironmentVariableIsSet("IDL_HA_IDEMPOTENCY_KEYS") ||
                             qEnvironmentVariableIntValue("IDL_HA_IDEMPOTENCY_KEYS") != 0;
    int m_steadyMs = 1000 * (qEnvironmentVariableIsSet("IDL_HA_STEADY_S")
                                 ? qEnvironmentVariableIntValue("IDL_HA_STEADY_S")
                                 : 30);
    QTemporaryDir m_tmp;
    QString m_dir = m_tmp.filePath(QStringLiteral("stack"));
    StackProcess m_stack{m_dir, m_tmp.filePath(QStringLiteral("stack.out"))};
    QString m_dsn;
    QThread m_clientThread;
    TailClient *m_tail = nullptr;
    ExportLoop *m_export = nullptr;
    QNetworkAccessManager m_nam;
    QTimer m_probe;
    QElapsedTimer m_clock; // the query prober's clock
    Windows m_queries;
    std::vector<PhaseResult> m_results;

    QJsonObject stackJson() const { return m_stack.json(); }
    QJsonObject topology() const
    {
        return stackJson().value(QStringLiteral("ha_topology")).toObject();
    }
    QList<qint64> pidsOf(const QString &service) const
    {
        QList<qint64> pids;
        for (const auto &v : topology().value(QStringLiteral("members")).toArray())
            if (v.toObject().value(QStringLiteral("name")).toString() == service)
                pids << v.toObject().value(QStringLiteral("pid")).toInteger();
        return pids;
    }

    // kill -9 one copy of a service; ms until stack.json lists its replacement.
    qint64 killService(const QString &service, int index)
    {
        const QList<qint64> before = pidsOf(service);
        if (before.size() <= index)
            return -1;
        return idl::testsupport::killAndAwaitReplacement(before.at(index),
                                                         [&] { return pidsOf(service); });
    }

    // kill -9 broker `index`; ms until it answers again (its JVM restarted and a client gets
    // metadata from it).
    qint64 killBroker(int index)
    {
        const QJsonObject b =
            topology().value(QStringLiteral("kafka_brokers")).toArray().at(index).toObject();
        const qint64 victim = b.value(QStringLiteral("pid")).toInteger();
        if (victim <= 0)
            return -1;
        QElapsedTimer t;
        t.start();
        ::kill(static_cast<pid_t>(victim), SIGKILL);
        const bool back = waitFor(
            [&] {
                const qint64 now = topology()
                                       .value(QStringLiteral("kafka_brokers"))
                                       .toArray()
                                       .at(index)
                                       .toObject()
                                       .value(QStringLiteral("pid"))
                                       .toInteger();
                return now > 0 && now != victim;
            },
            300'000, 100);
        return back ? t.elapsed() : -1;
    }

    // kill -9 the PostgreSQL primary's postmaster; ms until idl-stack promoted the standby.
    qint64 killPrimary()
    {
        const int before = topology().value(QStringLiteral("failovers")).toInt();
        qint64 victim = 0;
        for (const auto &v : topology().value(QStringLiteral("postgres")).toArray())
            if (v.toObject().value(QStringLiteral("role")).toString() == u"primary")
                victim = v.toObject().value(QStringLiteral("pid")).toInteger();
        if (victim <= 0)
            return -1;
        QElapsedTimer t;
        t.start();
        ::kill(static_cast<pid_t>(victim), SIGKILL);
        const bool back =
            waitFor([&] { return topology().value(QStringLiteral("failovers")).toInt() > before; },
                    120'000, 100);
        return back ? t.elapsed() : -1;
    }

    QByteArray psql(const QString &sql)
    {
        QProcess p;
        p.start(QStringLiteral("psql"),
                {m_dsn, QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"),
                 QStringLiteral("-tAc"), sql});
        waitFor([&] { return p.state() == QProcess::NotRunning; }, 60'000, 50);
        return p.readAllStandardOutput();
    }

    void probeQuery()
    {
        const QString base = topology()
                                 .value(QStringLiteral("load_balancer"))
                                 .toObject()
                                 .value("gateway_http_url")
                                 .toString();
        QUrl url(base + QStringLiteral("/api/v1/query"));
        url.setQuery(QStringLiteral("limit=5"));
        QNetworkRequest req(url);
        req.setRawHeader("Authorization",
                         "Bearer " +
                             stackJson().value(QStringLiteral("admin_token")).toString().toUtf8());
        req.setTransferTimeout(5000);
        const double sentS = static_cast<double>(m_clock.elapsed()) / 1000.0;
        QNetworkReply *reply = m_nam.get(req);
        connect(reply, &QNetworkReply::finished, this, [this, reply, sentS] {
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            m_queries.add(sentS, status == 200);
            reply->deleteLater();
        });
    }

    PhaseResult runPhase(const QString &fault, const std::function<qint64()> &inject)
    {
        PhaseResult r;
        r.fault = fault;
        const QString gen = QStringLiteral("ha-%1-%2")
                                .arg(m_results.size() + 1)
                                .arg(fault.toLower().replace(QRegularExpression("[^a-z0-9]+"),
                                                             QStringLiteral("-")));
        const QString ledger = m_tmp.filePath(gen + QStringLiteral(".acked"));
        const int connectsBefore = m_tail->stats().connects;
        const Windows queriesBefore = m_queries;
        const double phaseStartS = static_cast<double>(m_clock.elapsed()) / 1000.0;

        QProcess load;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("IDL_KEY"),
                   stackJson().value(QStringLiteral("ingest_api_key")).toString());
        load.setProcessEnvironment(env);
        load.setStandardErrorFile(QProcess::nullDevice());
        QStringList args{QStringLiteral("--url"),
                         stackJson().value(QStringLiteral("collector_url")).toString(),
                         QStringLiteral("--generator"),
                         gen,
                         QStringLiteral("--rate"),
                         QStringLiteral("300"),
                         QStringLiteral("--batch"),
                         QStringLiteral("30"),
                         QStringLiteral("--connections"),
                         QStringLiteral("4"),
                         QStringLiteral("--retries"),
                         QStringLiteral("30"),
                         QStringLiteral("--retry-max-wait"),
                         QStringLiteral("5"),
                         QStringLiteral("--duration"),
                         QStringLiteral("0"),
                         QStringLiteral("--acked-file"),
                         ledger,
                         QStringLiteral("--json")};
        if (m_idempotencyKeys)
            args << QStringLiteral("--idempotency-keys");
        load.start(binPath(QStringLiteral("idl-loadgen")), args);
        if (!load.waitForStarted()) {
            qWarning() << "idl-loadgen did not start";
            return r;
        }
        QTest::qWait(m_steadyMs);
        qInfo().noquote() << fault << ": fault";
        r.recoveryMs = inject();
        qInfo().noquote() << fault << ": back after" << r.recoveryMs << "ms";
        QTest::qWait(m_steadyMs);
        load.terminate();
        waitFor([&] { return load.state() == QProcess::NotRunning; }, 120'000, 100);
        const QJsonObject rep = lastJsonLine(load.readAllStandardOutput());
        r.refusedS = rep.value(QStringLiteral("refused_s")).toDouble(-1);
        r.requests = rep.value(QStringLiteral("requests")).toInteger();
        r.requests2xx = r.requests - rep.value(QStringLiteral("error_requests")).toInteger();
        r.batches = rep.value(QStringLiteral("batches")).toInteger();
        r.batchesOk = rep.value(QStringLiteral("batches_ok")).toInteger();
        r.retries = rep.value(QStringLiteral("retries")).toInteger();
        r.resent = rep.value(QStringLiteral("resent_uncertain")).toInteger();
        r.accepted = rep.value(QStringLiteral("accepted")).toInteger();
        r.statuses = rep.value(QStringLiteral("statuses")).toObject();
        const double nowS = static_cast<double>(m_clock.elapsed()) / 1000.0;
        r.queryFailedS = m_queries.seconds(nowS) - queriesBefore.seconds(phaseStartS);
        r.queryFailures = m_queries.failures - queriesBefore.failures;
        r.querySamples = m_queries.samples - queriesBefore.samples;

        QProcess check;
        check.start(binPath(QStringLiteral("idl-check")),
                    {QStringLiteral("--pg.dsn"), m_dsn, QStringLiteral("--wait"),
                     QStringLiteral("120s"), QStringLiteral("--json"), ledger});
        waitFor([&] { return check.state() == QProcess::NotRunning; }, 240'000, 200);
        const QJsonObject verdict = lastJsonLine(check.readAllStandardOutput());
        r.lost = verdict.value(QStringLiteral("lost")).toInteger(-1);
        r.duplicated = verdict.value(QStringLiteral("duplicated")).toInteger(-1);
        r.unexpected = verdict.value(QStringLiteral("unexpected")).toInteger(-1);
        if (!verdict.value(QStringLiteral("examples")).toArray().isEmpty())
            qWarning().noquote() << "idl-check:"
                                 << QJsonDocument(verdict).toJson(QJsonDocument::Compact);

        // The tail has every stored event of this phase, once.
        std::vector<qint64> stored;
        for (const QByteArray &line :
             psql(QStringLiteral(
                      "SELECT attrs->>'loadgen.seq' FROM logs WHERE attrs->>'loadgen.id' = '%1'")
                      .arg(gen))
                 .split('\n'))
            if (!line.trimmed().isEmpty())
                stored.push_back(line.trimmed().toLongLong());
        r.stored = static_cast<qint64>(stored.size());
        const auto missing = [&] {
            const std::vector<quint8> seen = m_tail->seen(gen);
            qint64 n = 0;
            for (const qint64 s : stored)
                n += static_cast<std::size_t>(s) >= seen.size() ||
                     seen[static_cast<std::size_t>(s)] == 0;
            return n;
        };
        waitFor([&] { return missing() == 0; }, 60'000, 250);
        r.tailMissing = missing();
        r.tailDuplicated = 0;
        for (const quint8 c : m_tail->seen(gen))
            r.tailDuplicated += c > 1 ? c - 1 : 0;
        r.tailReconnects = m_tail->stats().connects - connectsBefore;
        print(r);
        m_results.push_back(r);
        return r;
    }

    static double pct(qint64 part, qint64 all)
    {
        return all ? 100.0 * static_cast<double>(part) / static_cast<double>(all) : 0.0;
    }

    static void print(const PhaseResult &r)
    {
        qInfo().noquote()
            << QStringLiteral("HA %1: back after %2 ms | ingestion refused %3 s | queries failed "
                              "%4 s (%5 of %6 probes) | requests 2xx %7/%8 (%9 %) | batches "
                              "acknowledged %10/%11 (%12 %), retries %13, statuses %14 | "
                              "idl-check lost %15 duplicated %16 unexpected %17 | tail: stored "
                              "%18 missing %19 duplicated %20 reconnects %21 | events resent "
                              "after an unknown outcome %22")
                   .arg(r.fault)
                   .arg(r.recoveryMs)
                   .arg(r.refusedS, 0, 'f', 2)
                   .arg(r.queryFailedS, 0, 'f', 2)
                   .arg(r.queryFailures)
                   .arg(r.querySamples)
                   .arg(r.requests2xx)
                   .arg(r.requests)
                   .arg(pct(r.requests2xx, r.requests), 0, 'f', 3)
                   .arg(r.batchesOk)
                   .arg(r.batches)
                   .arg(pct(r.batchesOk, r.batches), 0, 'f', 3)
                   .arg(r.retries)
                   .arg(QString::fromUtf8(QJsonDocument(r.statuses).toJson(QJsonDocument::Compact)))
                   .arg(r.lost)
                   .arg(r.duplicated)
                   .arg(r.unexpected)
                   .arg(r.stored)
                   .arg(r.tailMissing)
                   .arg(r.tailDuplicated)
                   .arg(r.tailReconnects)
                   .arg(r.resent);
    }

    void verify(const PhaseResult &r)
    {
        QVERIFY2(r.recoveryMs >= 0, "the fault was injected and the stack came back");
        QVERIFY2(r.accepted > 0, "events were acknowledged");
        QCOMPARE(r.lost, qint64(0));
        // A duplicate can only come from the client's own retry of a request whose first
        // attempt Kafka took (in part) but whose answer was lost: at most the resent events,
        // and none when every batch carries its Idempotency-Key. Anything beyond that would be
        // the platform's.
        QVERIFY2(r.duplicated >= 0 && r.duplicated <= (m_idempotencyKeys ? 0 : r.resent),
                 qPrintable(QStringLiteral("duplicated %1, resent after an unknown outcome %2")
                                .arg(r.duplicated)
                                .arg(r.resent)));
        QCOMPARE(r.unexpected, qint64(0));
        QCOMPARE(r.tailMissing, qint64(0));
        // The tail delivers each stored copy once: no duplicate of its own.
        QVERIFY2(r.tailDuplicated <= r.duplicated, "the tail duplicated nothing itself");
        // Every batch was finally acknowledged (retries ride the fault).
        QCOMPARE(r.batchesOk, r.batches);
    }

private Q_SLOTS:
    void initTestCase()
    {
        for (const char *b : {"idl-stack", "idl-loadgen", "idl-check", "idl-collector",
                              "idl-processor", "idl-writer", "idl-gateway", "idl-admin"})
            QVERIFY2(QFile::exists(binPath(QLatin1String(b))), b);
        QFile::setPermissions(m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                                QFileDevice::ExeOther);
        // Three JVMs, two PostgreSQL servers and eight services: up to 10 minutes on a busy box.
        if (const QString why = m_stack.up(
                {QStringLiteral("--ha"), QStringLiteral("--collector-port"), QStringLiteral("0"),
                 QStringLiteral("--gateway-port"), QStringLiteral("0"),
                 QStringLiteral("--otlp-grpc-port"), QStringLiteral("0")},
                600'000);
            !why.isEmpty())
            QFAIL(qPrintable(why));
        const QJsonObject s = stackJson();
        QVERIFY(s.value(QStringLiteral("ha")).toBool());
        QCOMPARE(topology().value(QStringLiteral("kafka_brokers")).toArray().size(), 3);
        QCOMPARE(topology().value(QStringLiteral("postgres")).toArray().size(), 2);
        QCOMPARE(pidsOf(QStringLiteral("idl-collector")).size(), 2);
        QCOMPARE(pidsOf(QStringLiteral("idl-gateway")).size(), 2);
        QCOMPARE(pidsOf(QStringLiteral("idl-writer")).size(), 2);
        QCOMPARE(pidsOf(QStringLiteral("idl-processor")).size(), 2);
        m_dsn = s.value(QStringLiteral("postgres_dsn")).toString();
        QVERIFY2(m_dsn.contains(QStringLiteral("target_session_attrs=read-write")),
                 qPrintable(m_dsn));
        qInfo() << "idl-stack --ha up after" << m_stack.upMs() << "ms; steady" << m_steadyMs
                << "ms";

        const QString token = s.value(QStringLiteral("admin_token")).toString();
        m_tail = new TailClient(QUrl(s.value(QStringLiteral("gateway_url")).toString()), token);
        m_export = new ExportLoop(QUrl(s.value(QStringLiteral("gateway_url")).toString()), token);
        m_tail->moveToThread(&m_clientThread);
        m_export->moveToThread(&m_clientThread);
        connect(&m_clientThread, &QThread::finished, m_tail, &QObject::deleteLater);
        connect(&m_clientThread, &QThread::finished, m_export, &QObject::deleteLater);
        m_clientThread.start();
        QMetaObject::invokeMethod(m_tail, &TailClient::begin, Qt::QueuedConnection);
        QVERIFY2(waitFor([&] { return m_tail->following(); }, 60'000),
                 qPrintable(m_tail->stats().notes.join(u'\n')));
        m_clock.start();
        connect(&m_probe, &QTimer::timeout, this, &TestHa::probeQuery);
        m_probe.start(500);
    }

    void cleanupTestCase()
    {
        m_probe.stop();
        if (m_tail) {
            QMetaObject::invokeMethod(m_tail, &TailClient::end, Qt::BlockingQueuedConnection);
            QMetaObject::invokeMethod(m_export, &ExportLoop::end, Qt::BlockingQueuedConnection);
            m_clientThread.quit();
            m_clientThread.wait(10'000);
        }
        qint64 requests = 0, ok = 0, batches = 0, batchesOk = 0;
        qInfo().noquote()
            << "\n| fault | back after (s) | ingestion refused (s) | queries failed (s) "
               "| requests 2xx / all | batches acknowledged / all | lost | duplicated |";
        qInfo().noquote() << "| --- | --- | --- | --- | --- | --- | --- | --- |";
        for (const PhaseResult &r : m_results) {
            requests += r.requests;
            ok += r.requests2xx;
            batches += r.batches;
            batchesOk += r.batchesOk;
            qInfo().noquote() << QStringLiteral(
                                     "| %1 | %2 | %3 | %4 | %5 / %6 | %7 / %8 | %9 | %10 |")
                                     .arg(r.fault)
                                     .arg(static_cast<double>(r.recoveryMs) / 1000.0, 0, 'f', 1)
                                     .arg(r.refusedS, 0, 'f', 1)
                                     .arg(r.queryFailedS, 0, 'f', 1)
                                     .arg(r.requests2xx)
                                     .arg(r.requests)
                                     .arg(r.batchesOk)
                                     .arg(r.batches)
                                     .arg(r.lost)
                                     .arg(r.duplicated);
        }
        qInfo().noquote() << QStringLiteral(
                                 "HA availability over the run: requests 2xx %1/%2 = %3 %, "
                                 "batches acknowledged %4/%5 = %6 % (goal >= 99.9 %)")
                                 .arg(ok)
                                 .arg(requests)
                                 .arg(pct(ok, requests), 0, 'f', 3)
                                 .arg(batchesOk)
                                 .arg(batches)
                                 .arg(pct(batchesOk, batches), 0, 'f', 3);
        m_stack.down(120'000);
    }

    void brokerKilled()
    {
        verify(runPhase(QStringLiteral("kill -9 Kafka broker"), [&] { return killBroker(1); }));
    }

    // Each collector in turn (two chances to catch requests in flight: their retries, with
    // the batch's Idempotency-Key, must not store anything twice).
    void collectorKilled()
    {
        verify(runPhase(QStringLiteral("kill -9 each collector"), [&] {
            const qint64 a = killService(QStringLiteral("idl-collector"), 0);
            QTest::qWait(5000); // HAProxy sees the new copy up (rise 2 x 1 s)
            const qint64 b = killService(QStringLiteral("idl-collector"), 1);
            return a < 0 || b < 0 ? -1 : a + b;
        }));
    }

    // Syslog over TCP through HAProxy (stack.json's syslog_tcp) reaches both collectors: each
    // `logger --tcp` run is a new connection, balanced round robin; every message is stored
    // once, and each collector's metrics count syslog_tcp events.
    void syslogTcpThroughTheLoadBalancer()
    {
        const QJsonObject s = stackJson();
        const QString address = s.value(QStringLiteral("syslog_tcp"))
                                    .toObject()
                                    .value(QStringLiteral("address"))
                                    .toString();
        QVERIFY2(!address.isEmpty(), "stack.json names syslog_tcp");
        const QString tag = QStringLiteral("ha-syslog-%1").arg(QDateTime::currentMSecsSinceEpoch());
        for (int i = 0; i < 6; ++i) {
            QProcess logger;
            logger.start(QStringLiteral("logger"),
                         {QStringLiteral("--tcp"), QStringLiteral("--rfc5424"),
                          QStringLiteral("--server"), address.section(u':', 0, 0),
                          QStringLiteral("--port"), address.section(u':', 1),
                          QStringLiteral("%1 %2").arg(tag).arg(i)});
            QVERIFY(logger.waitForFinished(30'000));
            QCOMPARE(logger.exitCode(), 0);
        }
        const QString count =
            QStringLiteral("SELECT count(*) FROM logs WHERE message LIKE '%1 %%'").arg(tag);
        waitFor([&] { return psql(count).trimmed() == "6"; }, 60'000, 500);
        QCOMPARE(psql(count).trimmed(), QByteArray("6"));
        int collectorsUsed = 0;
        for (const auto &v : topology().value(QStringLiteral("members")).toArray()) {
            const QJsonObject m = v.toObject();
            if (m.value(QStringLiteral("name")).toString() != u"idl-collector")
                continue;
            QNetworkRequest req(QUrl(m.value(QStringLiteral("ops_url")).toString() + "/metrics"));
            req.setRawHeader("Authorization",
                             "Bearer " +
                                 s.value(QStringLiteral("metrics_token")).toString().toUtf8());
            QNetworkReply *reply = m_nam.get(req);
            waitFor([&] { return reply->isFinished(); }, 10'000, 20);
            for (const QByteArray &line : reply->readAll().split('\n'))
                if (line.startsWith("idl_collector_events_accepted_total") &&
                    line.contains("syslog_tcp") && line.split(' ').last().toDouble() > 0)
                    ++collectorsUsed;
            reply->deleteLater();
        }
        QCOMPARE(collectorsUsed, 2);
    }

    void gatewaysKilledDuringTailAndExport()
    {
        QMetaObject::invokeMethod(m_export, &ExportLoop::begin, Qt::QueuedConnection);
        QVERIFY(waitFor([&] { return m_export->completed > 0; }, 60'000));
        const PhaseResult r = runPhase(QStringLiteral("kill -9 each gateway (tail, exports)"), [&] {
            const qint64 a = killService(QStringLiteral("idl-gateway"), 0);
            QTest::qWait(5000); // HAProxy sees the new copy up (rise 2 x 1 s)
            const qint64 b = killService(QStringLiteral("idl-gateway"), 1);
            return a < 0 || b < 0 ? -1 : a + b;
        });
        verify(r);
        QVERIFY2(r.tailReconnects >= 1, "the tail reconnected through HAProxy and resumed");
        qInfo() << "exports: completed" << m_export->completed << "cut" << m_export->cut << "errors"
                << m_export->errors;
        QVERIFY2(m_export->cut == 0 || m_export->cutThenCompleted,
                 "an export cut by the kill ran again to its end");
    }

    void postgresPrimaryKilled()
    {
        const PhaseResult r = runPhase(QStringLiteral("kill -9 PostgreSQL primary (failover)"),
                                       [&] { return killPrimary(); });
        verify(r);
        // Goal: queries unavailable for less than 30 s around a failover.
        QVERIFY2(r.queryFailedS < 30, qPrintable(QString::number(r.queryFailedS)));
        // The old primary's folder is made again as the new standby (off the supervisor's
        // thread): stack.json lists a primary and a standby again.
        const auto roles = [&] {
            QStringList out;
            for (const auto &v : topology().value(QStringLiteral("postgres")).toArray())
                out << v.toObject().value(QStringLiteral("role")).toString();
            out.sort();
            return out.join(u',');
        };
        waitFor([&] { return roles() == u"primary,standby"; }, 120'000, 500);
        QCOMPARE(roles(), QStringLiteral("primary,standby"));
    }
};

QTEST_GUILESS_MAIN(TestHa)
#include "test_ha.moc"
