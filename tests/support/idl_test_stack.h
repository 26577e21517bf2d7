#pragma once

// `idl-stack up` as the tests and benchmarks run it: the real command in the foreground as a
// child of the test (it goes down with the test, idl_test_process.h), its output in a file,
// ready once stack.json is written and `.starting` is gone; `down()` runs `idl-stack down`.
// One place for what test_chaos, test_ha, test_e2e, test_stack, test_alerter_stack,
// test_console_stack and the end-to-end and peer benchmarks need of a running stack: its
// stack.json, the pids of its services, killing one (idl-stack restarts it), the lines of its
// output that say a service died.
//
//   idl::testsupport::StackProcess stack(tmp.filePath("stack"), tmp.filePath("stack.out"));
//   if (const QString why = stack.up({"--collector-port", "0"}); !why.isEmpty()) QFAIL(...);
//   const QJsonObject s = stack.json();

#include "idl_test_process.h"

#include <QCoreApplication>
#include <QDebug>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <functional>

namespace idl::testsupport {

// A binary of this build (IDL_BIN_DIR, set by the tests' CMake lists).
inline QString binPath(const QString &name)
{
    return QDir(qEnvironmentVariable("IDL_BIN_DIR")).filePath(name);
}

// The last line of a process's output as a JSON object (idl-loadgen --json, idl-check --json).
inline QJsonObject lastJsonLine(const QByteArray &out)
{
    const auto lines = out.trimmed().split('\n');
    return QJsonDocument::fromJson(lines.last()).object();
}

// Waits ms while this thread's events are processed (QTest::qWait without QtTest).
inline void processEventsFor(int ms)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
        const int left = ms - static_cast<int>(t.elapsed());
        QCoreApplication::processEvents(QEventLoop::AllEvents, left);
        QThread::msleep(static_cast<unsigned long>(std::clamp(left, 0, 10)));
    }
}

// True once pred() is; false after timeoutMs. Polls every stepMs, events processed meanwhile.
inline bool waitFor(const std::function<bool()> &pred, int timeoutMs, int stepMs = 100)
{
    QElapsedTimer t;
    t.start();
    while (!pred()) {
        if (t.elapsed() > timeoutMs)
            return false;
        processEventsFor(stepMs);
    }
    return true;
}

// kill -9 `victim`, one of the pids current() lists; ms until current() lists as many pids
// again without it (its supervisor started a replacement), -1 when not within timeoutMs.
inline qint64 killAndAwaitReplacement(qint64 victim, const std::function<QList<qint64>()> &current,
                                      int timeoutMs = 60'000)
{
    const auto count = current().size();
    QElapsedTimer t;
    t.start();
    ::kill(static_cast<pid_t>(victim), SIGKILL);
    const bool back = waitFor(
        [&] {
            const QList<qint64> now = current();
            return now.size() == count && !now.contains(victim);
        },
        timeoutMs, 50);
    return back ? t.elapsed() : -1;
}

class StackProcess
{
public:
    // dataDir: the stack's folder (--data-dir); outputFile: idl-stack's merged output.
    StackProcess(QString dataDir, QString outputFile)
        : m_dir(std::move(dataDir)), m_output(std::move(outputFile))
    {}
    ~StackProcess() { down(); }
    StackProcess(const StackProcess &) = delete;
    StackProcess &operator=(const StackProcess &) = delete;

    // `idl-stack up --data-dir DIR args...`; waits until the stack is up. Empty when it is,
    // else why not; idl-stack's whole output then goes to the test's log first (a service
    // that exits at start-up is named there with the end of its log; a QFAIL message would
    // cut it).
    QString up(const QStringList &args, int timeoutMs = 180'000,
               const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
    {
        QElapsedTimer t;
        t.start();
        m_process.setProgram(binPath(QStringLiteral("idl-stack")));
        m_process.setArguments(
            QStringList{QStringLiteral("up"), QStringLiteral("--data-dir"), m_dir} + args);
        m_process.setProcessEnvironment(env);
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.setStandardOutputFile(m_output);
        endWithTest(m_process);
        m_process.start();
        if (!m_process.waitForStarted())
            return QStringLiteral("cannot start idl-stack: ") + m_process.errorString();
        waitFor(
            [&] {
                return m_process.state() != QProcess::Running ||
                       (QFile::exists(jsonPath()) &&
                        !QFile::exists(QDir(m_dir).filePath(QStringLiteral(".starting"))));
            },
            timeoutMs, 200);
        m_upMs = t.elapsed();
        if (m_process.state() != QProcess::Running || json().isEmpty()) {
            qWarning().noquote() << "idl-stack output:\n" << output();
            return QStringLiteral("idl-stack did not come up in %1 ms (its output is above)")
                .arg(m_upMs);
        }
        return {};
    }

    // `idl-stack down`, then waits for `up` to end (killed after 30 s). False when either
    // failed; idempotent.
    bool down(int timeoutMs = 90'000)
    {
        if (m_process.state() == QProcess::NotRunning)
            return true;
        QProcess d;
        d.start(binPath(QStringLiteral("idl-stack")),
                {QStringLiteral("down"), QStringLiteral("--data-dir"), m_dir});
        const bool stopped = d.waitForFinished(timeoutMs) && d.exitCode() == 0;
        m_downError = stopped ? QByteArray() : d.readAll();
        if (!m_process.waitForFinished(30'000)) {
            m_process.kill();
            m_process.waitForFinished();
            return false;
        }
        return stopped && m_process.exitCode() == 0;
    }

    QProcess &process() { return m_process; }
    bool running() const { return m_process.state() == QProcess::Running; }
    const QString &dir() const { return m_dir; }
    QString jsonPath() const { return QDir(m_dir).filePath(QStringLiteral("stack.json")); }
    qint64 upMs() const { return m_upMs; }
    // What `idl-stack down` printed when it failed.
    const QByteArray &downError() const { return m_downError; }

    QJsonObject json() const
    {
        QFile f(jsonPath());
        if (!f.open(QIODevice::ReadOnly))
            return {};
        return QJsonDocument::fromJson(f.readAll()).object();
    }

    // idl-stack's output so far.
    QByteArray output() const
    {
        QFile f(m_output);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    qint64 outputSize() const { return QFileInfo(m_output).size(); }

    // Lines of idl-stack's output from byte `from` on that say a service died.
    QStringList deathsSince(qint64 from) const
    {
        QStringList out;
        QFile f(m_output);
        if (!f.open(QIODevice::ReadOnly) || !f.seek(from))
            return out;
        for (const QByteArray &line : f.readAll().split('\n'))
            if (line.contains("service exited") || line.contains("died"))
                out << QString::fromUtf8(line);
        return out;
    }

    // Pids of one service in stack.json ("idl-processor#123": 123, ...), sorted.
    QList<qint64> pidsOf(const QString &service) const
    {
        QList<qint64> pids;
        const QJsonObject s = json().value(QStringLiteral("services")).toObject();
        for (auto it = s.begin(); it != s.end(); ++it)
            if (it.key().section(u'#', 0, 0) == service)
                pids << it.value().toInteger();
        std::sort(pids.begin(), pids.end());
        return pids;
    }

    // Every service pid in stack.json.
    QList<qint64> allPids() const
    {
        QList<qint64> pids;
        const QJsonObject s = json().value(QStringLiteral("services")).toObject();
        for (auto it = s.begin(); it != s.end(); ++it)
            pids << it.value().toInteger();
        return pids;
    }

    // kill -9 instance `index` (by pid) of a service; idl-stack starts it again. Returns ms
    // until stack.json shows the replacement, -1 when it did not in timeoutMs.
    qint64 killService(const QString &service, int index = 0, int timeoutMs = 60'000) const
    {
        const QList<qint64> before = pidsOf(service);
        if (before.size() <= index)
            return -1;
        return killAndAwaitReplacement(
            before.at(index), [&] { return pidsOf(service); }, timeoutMs);
    }

private:
    QString m_dir;
    QString m_output;
    QProcess m_process;
    qint64 m_upMs = -1;
    QByteArray m_downError;
};

} // namespace idl::testsupport
