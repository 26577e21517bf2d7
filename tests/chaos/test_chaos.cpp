// Chaos suite (issue 15): a whole stack (`idl-stack up`: real PostgreSQL and Kafka, every
// service, supervised) under steady load from idl-loadgen, and in turn:
//   kill -9 the collector, a processor, the writer, the gateway (idl-stack restarts each with
//   the same command line, as compose's `restart: unless-stopped` would);
//   pg_ctl restart -m immediate (a crash: WAL recovery);
//   kill -9 the Kafka broker (idl-stack restarts it on the same ports);
//   PostgreSQL unreachable for 30 s: every PostgreSQL process SIGSTOPped, then SIGCONTed. A
//   stopped server's kernel still completes TCP handshakes, so clients connect and then hear
//   nothing, as behind a dead network path, which is harder than a refused connection (that
//   case is the restart's downtime above): it shows whether every client has a timeout.
// After each fault: idl-check finds every acknowledged event stored exactly once; a live tail
// (a WebSocket client of its own thread that resumes with the positions of the last frame, as
// docs/protocol.md says) has received every event the database holds for that phase, once;
// and the seconds of refused ingestion seen by the load generator (requests without a 2xx
// answer) are printed. A last check reads every phase's ledger at once (late duplicates).
//
// CI (label chaos): ~300 events/s, 4 s of steady load around each fault. Longer:
// IDL_CHAOS_LONG=1 (3000 events/s, 30 s of steady load; the `bench_chaos` test, label bench).
#undef QT_NO_CAST_FROM_ASCII

#include "idl_test_stack.h"
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTime>
#include <QTimer>
#include <QWebSocket>

#include "tail_client.h"

#include <csignal>
#include <functional>
#include <grp.h>
#include <map>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

using idl::testsupport::binPath;
using idl::testsupport::lastJsonLine;
using idl::testsupport::StackProcess;
using idl::testsupport::TailClient;
using idl::testsupport::waitFor;

namespace {

// Load and timing of one run: CI's short version, or IDL_CHAOS_LONG's.
struct Settings
{
    int rate = 300;      // events/s
    int batch = 30;      // events per request (2 connections: 10 requests/s)
    int steadyMs = 4000; // steady load before each fault, and without refusals after it
    int pgPauseMs = 30'000;

    static Settings fromEnvironment()
    {
        Settings s;
        if (qEnvironmentVariableIntValue("IDL_CHAOS_LONG") > 0) {
            s.rate = 3000;
            s.batch = 100;
            s.steadyMs = 30'000;
        }
        return s;
    }
};

// ---- one phase ------------------------------------------------------------------------------

struct PhaseResult
{
    QString fault;
    double refusedS = -1;
    QJsonArray refusals;
    double ackMaxMs = 0;
    qint64 accepted = 0, uncertain = 0, errorRequests = 0;
    QJsonObject statuses;
    qint64 recoveryMs = -1; // fault injected -> the stack says it is back (new pid, SIGCONT, ...)
    int restarted = 0;      // service processes that were replaced during the phase
    QStringList deaths;     // idl-stack's log lines about services that died
    qint64 lost = -1, duplicated = -1, unexpected = -1;
    qint64 stored = 0, tailMissing = -1, tailDuplicated = -1, tailExtra = -1;
    int tailReconnects = 0;
    qint64 phaseMs = 0;
};

} // namespace

class TestChaos : public QObject
{
    Q_OBJECT

    Settings m_set = Settings::fromEnvironment();
    QTemporaryDir m_tmp;
    QString m_dir = m_tmp.filePath(QStringLiteral("stack"));
    StackProcess m_stack{m_dir, m_tmp.filePath(QStringLiteral("stack.out"))};
    QString m_dsn;
    QThread m_tailThread;
    TailClient *m_tail = nullptr;
    std::vector<PhaseResult> m_results;
    QStringList m_ledgers;
    QList<qint64> m_stopped; // SIGSTOPped PostgreSQL processes, continued in any case
    QElapsedTimer m_total;

    QByteArray psql(const QString &sql)
    {
        QProcess p;
        p.start(QStringLiteral("psql"),
                {m_dsn, QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"),
                 QStringLiteral("-tAc"), sql});
        p.waitForFinished(60'000);
        return p.readAllStandardOutput();
    }

    qint64 killKafka()
    {
        const qint64 victim = m_stack.json().value(QStringLiteral("kafka_pid")).toInteger();
        if (victim <= 0)
            return -1;
        QElapsedTimer t;
        t.start();
        ::kill(static_cast<pid_t>(victim), SIGKILL);
        const bool back = waitFor(
            [&] {
                const qint64 now = m_stack.json().value(QStringLiteral("kafka_pid")).toInteger();
                return now > 0 && now != victim;
            },
            300'000, 100);
        return back ? t.elapsed() : -1;
    }

    static QString pgCtl()
    {
        QStringList dirs;
        if (const QString env = qEnvironmentVariable("IDL_PG_BINDIR"); !env.isEmpty())
            dirs << env;
        QProcess config;
        config.start(QStringLiteral("pg_config"), {QStringLiteral("--bindir")});
        if (config.waitForFinished(5000))
            dirs << QString::fromLocal8Bit(config.readAllStandardOutput()).trimmed();
        dirs << QStringLiteral("/usr/lib/postgresql/15/bin")
             << QStringLiteral("/usr/lib/postgresql/16/bin")
             << QStringLiteral("/usr/lib/postgresql/17/bin");
        for (const QString &d : dirs)
            if (QFileInfo(d + QStringLiteral("/pg_ctl")).isExecutable())
                return d + QStringLiteral("/pg_ctl");
        return {};
    }

    // pg_ctl restart -m immediate, run as the owner of the data folder (postgres when the
    // stack runs as root). Returns ms until pg_ctl said the server is up again.
    qint64 restartPostgresImmediate()
    {
        const QString pgdata = QDir(m_dir).filePath(QStringLiteral("postgres"));
        struct stat st
        {
        };
        if (::stat(QFile::encodeName(pgdata).constData(), &st) != 0)
            return -1;
        QProcess p;
        p.setProgram(pgCtl());
        p.setArguments({QStringLiteral("restart"), QStringLiteral("-m"),
                        QStringLiteral("immediate"), QStringLiteral("-w"), QStringLiteral("-t"),
                        QStringLiteral("60"), QStringLiteral("-D"), pgdata, QStringLiteral("-l"),
                        pgdata + QStringLiteral("/server.log")});
        p.setProcessChannelMode(QProcess::MergedChannels);
        const uid_t uid = st.st_uid;
        const gid_t gid = st.st_gid;
        p.setChildProcessModifier([uid, gid] {
            if (::geteuid() != uid) {
                if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
                    ::_exit(126);
            }
        });
        QElapsedTimer t;
        t.start();
        p.start();
        if (!p.waitForFinished(90'000) || p.exitCode() != 0) {
            qWarning().noquote() << "pg_ctl restart failed:" << p.readAll();
            return -1;
        }
        return t.elapsed();
    }

    // Every process of the stack's PostgreSQL: the postmaster and its children.
    QList<qint64> postgresProcesses() const
    {
        QFile f(QDir(m_dir).filePath(QStringLiteral("postgres/postmaster.pid")));
        if (!f.open(QIODevice::ReadOnly))
            return {};
        const qint64 postmaster = f.readLine().trimmed().toLongLong();
        QList<qint64> out{postmaster};
        const auto entries =
            QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString &e : entries) {
            QFile stat(QStringLiteral("/proc/%1/stat").arg(e));
            if (!stat.open(QIODevice::ReadOnly))
                continue;
            const QByteArray line = stat.readAll();
            const auto fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
            if (fields.size() > 1 && fields[1].toLongLong() == postmaster)
                out << e.toLongLong();
        }
        return out;
    }

    void continuePostgres()
    {
        for (const qint64 pid : std::as_const(m_stopped))
            ::kill(static_cast<pid_t>(pid), SIGCONT);
        m_stopped.clear();
    }

    // SIGSTOP the postmaster first (no new backends), then its children; SIGCONT after ms.
    qint64 pausePostgres(int ms)
    {
        const QList<qint64> pids = postgresProcesses();
        if (pids.isEmpty() || pids.first() <= 0)
            return -1;
        for (const qint64 pid : pids)
            if (::kill(static_cast<pid_t>(pid), SIGSTOP) == 0)
                m_stopped << pid;
        qInfo() << "SIGSTOPped" << m_stopped.size() << "PostgreSQL processes for" << ms << "ms";
        QTest::qWait(ms);
        continuePostgres();
        return ms;
    }

    // One fault under load; see the file comment.
    PhaseResult runPhase(const QString &fault, const std::function<qint64()> &inject)
    {
        PhaseResult r;
        r.fault = fault;
        QElapsedTimer phase;
        phase.start();
        const QString gen = QStringLiteral("chaos-%1-%2")
                                .arg(m_results.size() + 1)
                                .arg(fault.toLower().replace(QRegularExpression("[^a-z0-9]+"),
                                                             QStringLiteral("-")));
        const QString ledger = m_tmp.filePath(gen + QStringLiteral(".acked"));
        m_ledgers << ledger;
        const int connectsBefore = m_tail->stats().connects;
        const QList<qint64> pidsBefore = m_stack.allPids();
        const qint64 logFrom = m_stack.outputSize();

        QProcess load;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("IDL_KEY"),
                   m_stack.json().value(QStringLiteral("ingest_api_key")).toString());
        load.setProcessEnvironment(env);
        // Progress: one JSON report a second on stderr.
        struct Sample
        {
            qint64 ms;
            qint64 accepted;
            qint64 errors;
        };
        std::vector<Sample> samples;
        QElapsedTimer clock;
        QByteArray partial;
        connect(&load, &QProcess::readyReadStandardError, this, [&] {
            partial += load.readAllStandardError();
            qsizetype nl;
            while ((nl = partial.indexOf('\n')) >= 0) {
                const QJsonObject o = QJsonDocument::fromJson(partial.left(nl)).object();
                partial.remove(0, nl + 1);
                if (!o.isEmpty())
                    samples.push_back({clock.elapsed(),
                                       o.value(QStringLiteral("accepted")).toInteger(),
                                       o.value(QStringLiteral("error_requests")).toInteger()});
            }
        });
        clock.start();
        load.start(binPath(QStringLiteral("idl-loadgen")),
                   {QStringLiteral("--url"),
                    m_stack.json().value(QStringLiteral("collector_url")).toString(),
                    QStringLiteral("--generator"), gen, QStringLiteral("--rate"),
                    QString::number(m_set.rate), QStringLiteral("--batch"),
                    QString::number(m_set.batch), QStringLiteral("--connections"),
                    QStringLiteral("2"), QStringLiteral("--duration"), QStringLiteral("0"),
                    QStringLiteral("--acked-file"), ledger, QStringLiteral("--json"),
                    QStringLiteral("--progress")});
        if (!load.waitForStarted()) {
            qWarning() << "idl-loadgen did not start";
            return r;
        }
        // Steady before the fault: events are acknowledged.
        waitFor([&] { return !samples.empty() && samples.back().accepted > 0; }, 30'000);
        QTest::qWait(m_set.steadyMs);
        qInfo().noquote() << fault << ": fault";
        r.recoveryMs = inject();
        const qint64 injectedDone = clock.elapsed();
        qInfo().noquote() << fault << ": back after" << r.recoveryMs << "ms";
        // Recovered: for steadyMs no new failed request and events acknowledged.
        const bool recovered = waitFor(
            [&] {
                if (samples.empty() || clock.elapsed() - injectedDone < m_set.steadyMs)
                    return false;
                const Sample &last = samples.back();
                for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
                    if (last.ms - it->ms >= m_set.steadyMs)
                        return it->errors == last.errors && last.accepted > it->accepted;
                }
                return false;
            },
            180'000, 200);
        if (!recovered)
            qWarning().noquote() << fault << ": ingestion did not recover within 180 s";
        load.terminate(); // SIGTERM: the report and the ledger are written
        if (!load.waitForFinished(60'000)) {
            load.kill();
            load.waitForFinished();
        }
        const QJsonObject rep = lastJsonLine(load.readAllStandardOutput());
        r.refusedS = rep.value(QStringLiteral("refused_s")).toDouble(-1);
        r.refusals = rep.value(QStringLiteral("refusals")).toArray();
        r.ackMaxMs = rep.value(QStringLiteral("ack_max_ms")).toDouble();
        r.accepted = rep.value(QStringLiteral("accepted")).toInteger();
        r.uncertain = rep.value(QStringLiteral("uncertain")).toInteger();
        r.errorRequests = rep.value(QStringLiteral("error_requests")).toInteger();
        r.statuses = rep.value(QStringLiteral("statuses")).toObject();

        // Every acknowledged event stored exactly once.
        QProcess check;
        check.start(binPath(QStringLiteral("idl-check")),
                    {QStringLiteral("--pg.dsn"), m_dsn, QStringLiteral("--wait"),
                     QStringLiteral("120s"), QStringLiteral("--json"), ledger});
        waitFor([&] { return check.state() == QProcess::NotRunning; }, 240'000, 200);
        const QJsonObject verdict = lastJsonLine(check.readAllStandardOutput());
        if (verdict.isEmpty())
            qWarning().noquote() << "idl-check:" << check.readAllStandardError();
        r.lost = verdict.value(QStringLiteral("lost")).toInteger(-1);
        r.duplicated = verdict.value(QStringLiteral("duplicated")).toInteger(-1);
        r.unexpected = verdict.value(QStringLiteral("unexpected")).toInteger(-1);
        if (!verdict.value(QStringLiteral("examples")).toArray().isEmpty())
            qWarning().noquote() << "idl-check examples:"
                                 << QJsonDocument(verdict).toJson(QJsonDocument::Compact);

        // The tail has every stored event of this phase, once (it follows the events topic,
        // which the writer stores from: nothing stored can be missing from it).
        const auto storedSeqs = [&] {
            std::vector<qint64> seqs;
            const QByteArray out =
                psql(QStringLiteral("SELECT attrs->>'loadgen.seq' FROM logs WHERE "
                                    "attrs->>'loadgen.id' = '%1'")
                         .arg(gen));
            for (const QByteArray &line : out.split('\n'))
                if (!line.trimmed().isEmpty())
                    seqs.push_back(line.trimmed().toLongLong());
            return seqs;
        };
        std::vector<qint64> stored = storedSeqs();
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
        {
            const std::vector<quint8> seen = m_tail->seen(gen);
            std::vector<bool> isStored(seen.size(), false);
            for (const qint64 s : stored)
                if (static_cast<std::size_t>(s) < isStored.size())
                    isStored[static_cast<std::size_t>(s)] = true;
            r.tailDuplicated = 0;
            r.tailExtra = 0;
            for (std::size_t s = 0; s < seen.size(); ++s) {
                r.tailDuplicated += seen[s] > 1 ? seen[s] - 1 : 0;
                r.tailExtra += seen[s] > 0 && !isStored[s];
            }
        }
        if (r.tailExtra > 0) {
            // Tailed (so on the events topic, committed) but not stored: give the writer time.
            QTest::qWait(10'000);
            stored = storedSeqs();
            r.stored = static_cast<qint64>(stored.size());
            const std::vector<quint8> seen = m_tail->seen(gen);
            std::vector<bool> isStored(seen.size(), false);
            for (const qint64 s : stored)
                if (static_cast<std::size_t>(s) < isStored.size())
                    isStored[static_cast<std::size_t>(s)] = true;
            r.tailExtra = 0;
            for (std::size_t s = 0; s < seen.size(); ++s)
                r.tailExtra += seen[s] > 0 && !isStored[s];
        }
        r.tailReconnects = m_tail->stats().connects - connectsBefore;
        for (const qint64 pid : pidsBefore)
            r.restarted += m_stack.allPids().contains(pid) ? 0 : 1;
        r.deaths = m_stack.deathsSince(logFrom);
        r.phaseMs = phase.elapsed();
        print(r);
        m_results.push_back(r);
        return r;
    }

    static void print(const PhaseResult &r)
    {
        qInfo().noquote()
            << QStringLiteral(
                   "CHAOS %1: refused %2 s %3, ack max %4 ms, accepted %5, "
                   "uncertain %6, statuses %7, back after %8 ms | idl-check lost %9 "
                   "duplicated %10 unexpected %11 | tail: stored %12 missing %13 "
                   "duplicated %14 not-stored %15, reconnects %16 | services replaced %17 | "
                   "phase %18 s")
                   .arg(r.fault)
                   .arg(r.refusedS, 0, 'f', 2)
                   .arg(QString::fromUtf8(QJsonDocument(r.refusals).toJson(QJsonDocument::Compact)))
                   .arg(r.ackMaxMs, 0, 'f', 0)
                   .arg(r.accepted)
                   .arg(r.uncertain)
                   .arg(QString::fromUtf8(QJsonDocument(r.statuses).toJson(QJsonDocument::Compact)))
                   .arg(r.recoveryMs)
                   .arg(r.lost)
                   .arg(r.duplicated)
                   .arg(r.unexpected)
                   .arg(r.stored)
                   .arg(r.tailMissing)
                   .arg(r.tailDuplicated)
                   .arg(r.tailExtra)
                   .arg(r.tailReconnects)
                   .arg(r.restarted)
                   .arg(static_cast<double>(r.phaseMs) / 1000.0, 0, 'f', 1);
        for (const QString &d : r.deaths)
            qInfo().noquote() << "  idl-stack:" << d;
    }

    // killed: how many service processes the fault itself replaces (kill -9 of one: 1).
    void verify(const PhaseResult &r, int killed = 0)
    {
        const TailClient::Stats ts = m_tail->stats();
        if (r.tailMissing != 0 || r.tailDuplicated != 0)
            qWarning().noquote() << "tail log:" << ts.notes.join(QStringLiteral("\n  "));
        QVERIFY2(r.recoveryMs >= 0, "the fault was injected and the stack came back");
        QVERIFY2(r.accepted > 0, "events were acknowledged");
        QCOMPARE(r.lost, qint64(0));
        QCOMPARE(r.duplicated, qint64(0));
        QCOMPARE(r.unexpected, qint64(0));
        QVERIFY2(r.stored >= r.accepted, "the database holds at least the acknowledged events");
        QCOMPARE(r.tailMissing, qint64(0));
        QCOMPARE(r.tailDuplicated, qint64(0));
        QCOMPARE(r.tailExtra, qint64(0));
        QCOMPARE(ts.dropped, qint64(0));
        QVERIFY2(r.refusedS >= 0, "the load generator reported refused seconds");
        // No other service died of the fault (the supervisor would hide it otherwise).
        QVERIFY2(r.restarted == killed, qPrintable(r.deaths.join(u'\n')));
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_total.start();
        for (const char *b : {"idl-stack", "idl-loadgen", "idl-check", "idl-collector",
                              "idl-processor", "idl-writer", "idl-gateway", "idl-admin"})
            QVERIFY2(QFile::exists(binPath(QLatin1String(b))), b);
        QVERIFY2(!pgCtl().isEmpty(), "pg_ctl not found");
        // As root, PostgreSQL runs as user postgres, which must be able to enter the folder.
        QFile::setPermissions(m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                                QFileDevice::ExeOther);
        if (const QString why = m_stack.up({QStringLiteral("--collector-port"), QStringLiteral("0"),
                                            QStringLiteral("--gateway-port"), QStringLiteral("0")});
            !why.isEmpty())
            QFAIL(qPrintable(why));
        const QJsonObject s = m_stack.json();
        m_dsn = s.value(QStringLiteral("postgres_dsn")).toString();
        qInfo() << "stack up after" << m_total.elapsed() << "ms; settings: rate" << m_set.rate
                << "batch" << m_set.batch << "steady" << m_set.steadyMs << "ms";

        m_tail = new TailClient(QUrl(s.value(QStringLiteral("gateway_url")).toString()),
                                s.value(QStringLiteral("admin_token")).toString());
        m_tail->moveToThread(&m_tailThread);
        connect(&m_tailThread, &QThread::finished, m_tail, &QObject::deleteLater);
        m_tailThread.start();
        QMetaObject::invokeMethod(m_tail, &TailClient::begin, Qt::QueuedConnection);
        QVERIFY2(waitFor([&] { return m_tail->following(); }, 30'000),
                 qPrintable(m_tail->stats().notes.join(u'\n')));
    }

    void cleanupTestCase()
    {
        continuePostgres();
        if (m_tail) {
            QMetaObject::invokeMethod(m_tail, &TailClient::end, Qt::BlockingQueuedConnection);
            m_tailThread.quit();
            m_tailThread.wait(10'000);
        }
        // The table for docs/operations.md. back after: the stack started the killed service
        // again (new pid), the broker answered again, pg_ctl said the server is up, or SIGCONT.
        // beyond: refused seconds after that (clients reconnecting, a service starting).
        qInfo().noquote() << "\n| fault | refused ingestion (s) | back after (s) | refused beyond "
                             "(s) | longest ack (ms) | lost | duplicated | tail gap | tail "
                             "reconnects |";
        qInfo().noquote() << "| --- | --- | --- | --- | --- | --- | --- | --- | --- |";
        for (const PhaseResult &r : m_results) {
            const double back = static_cast<double>(r.recoveryMs) / 1000.0;
            const double beyond = r.refusedS > 0 ? std::max(0.0, r.refusedS - back) : 0.0;
            qInfo().noquote() << QStringLiteral("| %1 | %2 | %3 | %4 | %5 | %6 | %7 | %8 | %9 |")
                                     .arg(r.fault)
                                     .arg(r.refusedS, 0, 'f', 1)
                                     .arg(back, 0, 'f', 1)
                                     .arg(beyond, 0, 'f', 1)
                                     .arg(r.ackMaxMs, 0, 'f', 0)
                                     .arg(r.lost)
                                     .arg(r.duplicated)
                                     .arg(r.tailMissing)
                                     .arg(r.tailReconnects);
        }
        qInfo() << "chaos suite total" << m_total.elapsed() / 1000 << "s";
        m_stack.down();
    }

    void collectorKilled()
    {
        const PhaseResult r = runPhase(QStringLiteral("kill -9 collector"), [&] {
            return m_stack.killService(QStringLiteral("idl-collector"));
        });
        verify(r, 1);
        // The collector was down: some requests failed, and the generator measured it.
        QVERIFY2(r.errorRequests > 0 && r.refusedS > 0, "a killed collector refuses requests");
    }

    void processorKilled()
    {
        verify(runPhase(QStringLiteral("kill -9 processor"),
                        [&] { return m_stack.killService(QStringLiteral("idl-processor")); }),
               1);
    }

    void writerKilled()
    {
        verify(runPhase(QStringLiteral("kill -9 writer"),
                        [&] { return m_stack.killService(QStringLiteral("idl-writer")); }),
               1);
    }

    void gatewayKilled()
    {
        const PhaseResult r = runPhase(QStringLiteral("kill -9 gateway"), [&] {
            return m_stack.killService(QStringLiteral("idl-gateway"));
        });
        verify(r, 1);
        QVERIFY2(r.tailReconnects >= 1, "the tail reconnected to the new gateway");
    }

    void postgresRestartedImmediate()
    {
        verify(runPhase(QStringLiteral("pg_ctl restart -m immediate"),
                        [&] { return restartPostgresImmediate(); }));
    }

    void kafkaKilled()
    {
        verify(runPhase(QStringLiteral("kill -9 Kafka broker"), [&] { return killKafka(); }));
    }

    void postgresUnreachable()
    {
        verify(runPhase(
            QStringLiteral("PostgreSQL unreachable %1 s (SIGSTOP)").arg(m_set.pgPauseMs / 1000),
            [&] { return pausePostgres(m_set.pgPauseMs); }));
    }

    // Every phase's ledger at once, after all faults: nothing was stored twice late.
    void everyLedgerStillHolds()
    {
        QVERIFY(!m_ledgers.isEmpty());
        QProcess check;
        check.start(binPath(QStringLiteral("idl-check")),
                    QStringList{QStringLiteral("--pg.dsn"), m_dsn, QStringLiteral("--wait"),
                                QStringLiteral("60s"), QStringLiteral("--json")} +
                        m_ledgers);
        waitFor([&] { return check.state() == QProcess::NotRunning; }, 180'000, 200);
        const QByteArray out = check.readAllStandardOutput();
        qInfo().noquote() << "idl-check over every phase:" << out.trimmed();
        const QJsonObject v = lastJsonLine(out);
        QCOMPARE(v.value(QStringLiteral("lost")).toInteger(-1), qint64(0));
        QCOMPARE(v.value(QStringLiteral("duplicated")).toInteger(-1), qint64(0));
        QCOMPARE(v.value(QStringLiteral("unexpected")).toInteger(-1), qint64(0));
        QCOMPARE(check.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestChaos)
#include "test_chaos.moc"
