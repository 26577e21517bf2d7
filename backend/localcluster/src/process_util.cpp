#include "idl/localcluster/process_util.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QProcess>
#include <QTcpServer>

#include <csignal>
#include <mutex>
#include <unordered_set>

#ifndef _WIN32
#include <sys/types.h>
#include <unistd.h>
#endif

namespace idl::localcluster {

bool processAlive(qint64 pid)
{
#ifndef _WIN32
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0)
        return false;
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (stat.open(QIODevice::ReadOnly)) {
        const QByteArray line = stat.readAll();
        const auto close = line.lastIndexOf(')');
        if (close >= 0 && close + 2 < line.size() && line.at(close + 2) == 'Z')
            return false;
    }
    return true;
#else
    Q_UNUSED(pid);
    return false;
#endif
}

quint16 freeTcpPort()
{
    // The kernel may hand the same port to two binds to port 0 in a row once the first socket
    // is closed (seen: 2 of 2000 runs of 8 picks), and callers pick several ports before any
    // process binds them (idl-stack: two processors got one ops port, the second exited 1).
    // So a port is never handed out twice by this process.
    static std::mutex mutex;
    static std::unordered_set<quint16> given;
    for (int attempt = 0; attempt < 64; ++attempt) {
        QTcpServer server;
        if (!server.listen(QHostAddress::LocalHost, 0))
            return 0;
        const quint16 port = server.serverPort();
        server.close();
        const std::lock_guard lock(mutex);
        if (given.insert(port).second)
            return port;
    }
    return 0;
}

bool isTcpPortFree(quint16 port)
{
    if (port == 0)
        return false;
    QTcpServer server;
    const bool free = server.listen(QHostAddress::LocalHost, port);
    server.close();
    return free;
}

Result<QString> kafkaLibsDir()
{
    QString dir = qEnvironmentVariable("IDL_KAFKA_LIBS");
    if (dir.isEmpty()) {
        QString cache = qEnvironmentVariable("IDL_CACHE_DIR");
        if (cache.isEmpty()) {
            QString xdg = qEnvironmentVariable("XDG_CACHE_HOME");
            if (xdg.isEmpty())
                xdg = QDir::homePath() + QStringLiteral("/.cache");
            cache = xdg + QStringLiteral("/instant-dev-logs");
        }
        dir = cache + QStringLiteral("/kafka/libs");
    }
    const QDir libs(dir);
    if (libs.entryList({QStringLiteral("kafka_*.jar")}, QDir::Files).isEmpty())
        return makeError(ErrorCode::NotFound,
                         "no Kafka broker jars in " + dir.toStdString() +
                             ": run scripts/bootstrap (or set IDL_KAFKA_LIBS)");
    return libs.absolutePath();
}

QString shellQuote(const QString &text)
{
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

Result<void> Watchdog::arm(const QString &onOwnerExitScript)
{
#ifdef _WIN32
    Q_UNUSED(onOwnerExitScript);
    return makeError(ErrorCode::Internal, "watchdog: not supported on Windows");
#else
    disarm();
    const QString owner = QString::number(::getpid());
    // A zombie owner still answers kill -0, so its /proc state is checked too.
    const QString script =
        QStringLiteral("while kill -0 %1 2>/dev/null && "
                       "! grep -qs '^State:[[:space:]]*Z' /proc/%1/status; do sleep 0.5; done\n")
            .arg(owner) +
        onOwnerExitScript;
    QProcess process;
    process.setProgram(QStringLiteral("setsid"));
    process.setArguments({QStringLiteral("sh"), QStringLiteral("-c"), script});
    process.setStandardInputFile(QProcess::nullDevice());
    process.setStandardOutputFile(QProcess::nullDevice());
    process.setStandardErrorFile(QProcess::nullDevice());
    qint64 pid = 0;
    if (!process.startDetached(&pid) || pid <= 0)
        return makeError(ErrorCode::Internal, "watchdog: cannot start setsid/sh");
    m_pid = pid;
    return {};
#endif
}

void Watchdog::disarm()
{
#ifndef _WIN32
    if (m_pid > 0)
        ::kill(static_cast<pid_t>(m_pid), SIGKILL);
#endif
    m_pid = 0;
}

} // namespace idl::localcluster
