#pragma once

#include "idl/core/result.h"

#include <QString>
#include <QStringList>

namespace idl::localcluster {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, close), never one
// this process was handed before.
quint16 freeTcpPort();

// True when nothing listens on / holds 127.0.0.1:port right now.
bool isTcpPortFree(quint16 port);

// The folder with the Kafka broker's jars: $IDL_KAFKA_LIBS, else
// ${IDL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/instant-dev-logs}/kafka/libs. NotFound with
// a hint to run scripts/bootstrap when it holds no Kafka jar.
Result<QString> kafkaLibsDir();

// A detached shell (own session) that waits until process ownerPid is gone (or a zombie), then
// runs onOwnerExit. Lets servers die with their owner even when it is SIGKILLed. Disarmed
// (killed) by disarm() or the destructor. Not copyable; main-thread or any single thread.
class Watchdog
{
public:
    Watchdog() = default;
    ~Watchdog() { disarm(); }
    Watchdog(const Watchdog &) = delete;
    Watchdog &operator=(const Watchdog &) = delete;

    // Starts the watchdog for the current process; replaces one that is armed.
    Result<void> arm(const QString &onOwnerExitScript);
    // Stops the watchdog without running its script.
    void disarm();
    // Pid of the watchdog shell, or 0.
    qint64 pid() const { return m_pid; }

private:
    qint64 m_pid = 0;
};

// Whether the process exists and has not exited. A zombie (exited, not yet reaped by its
// parent) counts as gone.
bool processAlive(qint64 pid);

// Quotes text for a POSIX shell ('...').
QString shellQuote(const QString &text);

} // namespace idl::localcluster
