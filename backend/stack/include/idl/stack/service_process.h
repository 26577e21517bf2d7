#pragma once

#include "idl/core/result.h"

#include <QElapsedTimer>
#include <QObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>

namespace idl::stack {

// One backend service run as a child process: its output goes to a log file, it dies with
// the stack (PR_SET_PDEATHSIG on Linux), and it is ready once GET /readyz on its ops port
// answers 200. Lives on the main thread.
class ServiceProcess : public QObject
{
    Q_OBJECT
public:
    ServiceProcess(QString name, QString program, QStringList arguments, quint16 opsPort,
                   QString logFile, QObject *parent = nullptr);
    ~ServiceProcess() override;

    // Secrets (the database dsn, the metrics token) go to the process through its
    // environment, never its command line (which any local user can read in ps).
    void setSecretEnvironment(const QProcessEnvironment &environment)
    {
        m_process.setProcessEnvironment(environment);
    }
    // Starts the process and waits (running the event loop) until it is ready.
    Result<void> start(int readyTimeoutMs);
    // Starts the process again with the same program, arguments and environment, without
    // waiting for it to be ready (the supervisor's restart after a crash).
    Result<void> launch();
    // Milliseconds since the process was last started.
    qint64 uptimeMs() const { return m_started.isValid() ? m_started.elapsed() : 0; }
    // SIGTERM, then SIGKILL after graceMs.
    void stop(int graceMs = 10'000);
    bool running() const;
    const QString &name() const { return m_name; }
    quint16 opsPort() const { return m_opsPort; }
    qint64 pid() const;

Q_SIGNALS:
    // The process ended without being asked to.
    void exitedUnexpectedly(const QString &name, int exitCode);

private:
    // The last lines of the service's log, for an error that names why it stopped.
    std::string logTail() const;
    QString m_name;
    QString m_program;
    QStringList m_arguments;
    quint16 m_opsPort;
    QString m_logFile;
    QProcess m_process;
    QElapsedTimer m_started;
    bool m_stopping = false;
};

// True when GET http://127.0.0.1:port/readyz answers 200 within timeoutMs.
bool probeReady(quint16 port, int timeoutMs);

} // namespace idl::stack
