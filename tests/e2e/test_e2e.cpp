// The whole pipeline as a user runs it: `idl-stack up` (real PostgreSQL and Kafka, collector,
// processors, writer), two load generators for ~15 s (native NDJSON with bursts, OTLP JSON),
// then idl-check must find every acknowledged event in PostgreSQL exactly once. The checker
// itself is shown to catch a deleted row and a duplicated row.
#include "idl_test_process.h"
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

QString binPath(const QString &name)
{
    return QDir(qEnvironmentVariable("IDL_BIN_DIR")).filePath(name);
}

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

QJsonObject lastJsonLine(const QByteArray &out)
{
    const auto lines = out.trimmed().split('\n');
    return QJsonDocument::fromJson(lines.last()).object();
}

} // namespace

class TestE2e : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QProcess m_stack;
    QString m_dir;
    QString m_stackJson;
    QString m_dsn;

    int psql(const QString &sql)
    {
        QProcess p;
        p.start(QStringLiteral("psql"),
                {m_dsn, QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"),
                 QStringLiteral("-tAc"), sql});
        p.waitForFinished(30'000);
        return p.exitCode();
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
        m_dir = m_tmp.filePath(QStringLiteral("stack"));
        m_stackJson = QDir(m_dir).filePath(QStringLiteral("stack.json"));
        m_stack.setProgram(binPath(QStringLiteral("idl-stack")));
        m_stack.setArguments({QStringLiteral("up"), QStringLiteral("--data-dir"), m_dir,
                              QStringLiteral("--collector-port"), QStringLiteral("0"),
                              QStringLiteral("--gateway-port"), QStringLiteral("0")});
        m_stack.setProcessChannelMode(QProcess::MergedChannels);
        m_stack.setStandardOutputFile(m_tmp.filePath(QStringLiteral("stack.out")));
        QElapsedTimer t;
        t.start();
        idl::testsupport::endWithTest(m_stack);
        m_stack.start();
        QVERIFY(m_stack.waitForStarted());
        while (t.elapsed() < 120'000 && m_stack.state() == QProcess::Running &&
               !(QFile::exists(m_stackJson) &&
                 !QFile::exists(QDir(m_dir).filePath(QStringLiteral(".starting")))))
            QTest::qWait(200);
        QFile f(m_stackJson);
        if (!f.open(QIODevice::ReadOnly)) {
            QFile out(m_tmp.filePath(QStringLiteral("stack.out")));
            (void)out.open(QIODevice::ReadOnly);
            QFAIL(QByteArray("idl-stack did not come up:\n" + out.readAll()).constData());
        }
        m_dsn = QJsonDocument::fromJson(f.readAll())
                    .object()
                    .value(QStringLiteral("postgres_dsn"))
                    .toString();
        qInfo() << "stack up in" << t.elapsed() << "ms";
    }

    void cleanupTestCase()
    {
        if (m_stack.state() == QProcess::NotRunning)
            return;
        QProcess d;
        d.start(binPath(QStringLiteral("idl-stack")),
                {QStringLiteral("down"), QStringLiteral("--data-dir"), m_dir});
        d.waitForFinished(60'000);
        if (!m_stack.waitForFinished(30'000)) {
            m_stack.kill();
            m_stack.waitForFinished();
        }
    }

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
