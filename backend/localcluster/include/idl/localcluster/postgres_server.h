#pragma once

#include "idl/core/result.h"
#include "idl/localcluster/process_util.h"

#include <QList>
#include <QProcessEnvironment>
#include <QString>

namespace idl::localcluster {

// Settings of a private PostgreSQL cluster.
struct PostgresOptions
{
    QString dataDir;                          // created and initdb'ed when empty
    quint16 port = 0;                         // 0: last run's port if free, else a free one
    QString database = QStringLiteral("idl"); // created when absent
    QString user = QStringLiteral("idl");     // superuser made by initdb
    // Empty: trust (the tests' private servers). Set: the user gets this password and every
    // connection, local socket or TCP, needs it (scram-sha-256); a cluster made with trust
    // before is switched over on start. The dsn then carries the password.
    QString password;
    int startTimeoutSeconds = 60;
    bool removeDataWhenOwnerDies = false; // tests: the watchdog also deletes dataDir
    // Streaming replication (docs/operations.md, "High availability"). A primary keeps WAL for
    // a standby that falls behind (wal_keep_size) and logs hint bits (wal_log_hints, so a
    // stopped primary could be pg_rewind'ed). standbyOf != 0: an empty dataDir is filled by
    // pg_basebackup -R from the primary on 127.0.0.1:standbyOf (same user and password), and
    // the server runs as its hot standby until promote().
    bool replicated = false;
    quint16 standbyOf = 0;
};

// A private PostgreSQL 15 cluster: initdb into dataDir (once), pg_ctl start on 127.0.0.1 with
// the unix socket inside dataDir, database `idl`. Data survives stop/start. A watchdog stops
// the server (immediate) if the owning process dies. When run as root, the server runs as
// the `postgres` (or `nobody`) user, which must be able to reach dataDir. Blocking calls;
// use from one thread. The destructor stops the server.
class PostgresServer
{
public:
    explicit PostgresServer(QString dataDir, quint16 port = 0);
    explicit PostgresServer(PostgresOptions options);
    ~PostgresServer();
    PostgresServer(const PostgresServer &) = delete;
    PostgresServer &operator=(const PostgresServer &) = delete;

    // initdb if needed, start, wait until it accepts connections, create the database.
    Result<void> start();
    // pg_ctl stop -m fast; idempotent.
    void stop();
    // pg_ctl restart -m immediate (crash-like: recovery replays WAL); same port.
    Result<void> restartImmediate();
    // A hot standby becomes a primary (pg_ctl promote -w): it stops following its primary and
    // accepts writes.
    Result<void> promote();
    // True while the postmaster recorded in dataDir/postmaster.pid is alive (false after it was
    // killed, even though this object still thinks it runs).
    bool postmasterAlive() const;
    // True while this object has a running server.
    bool isRunning() const { return m_running; }

    // "host=127.0.0.1 port=N dbname=idl user=idl".
    QString dsn() const { return dsn(m_opt.database); }
    // The same for another database of this cluster.
    QString dsn(const QString &database) const;
    // One connection string for several servers of one replicated cluster (this one's database,
    // user and password): libpq tries them in order and keeps the one that accepts writes
    // (target_session_attrs=read-write), so clients follow a failover by reconnecting.
    QString multiHostDsn(const QList<quint16> &ports) const;
    // Creates a database (if absent) and returns its dsn; names are [A-Za-z0-9_].
    Result<QString> createDatabase(const QString &name);
    quint16 port() const { return m_port; }
    const QString &dataDir() const { return m_opt.dataDir; }
    // Pid of the postmaster, or 0.
    qint64 pid() const;

private:
    // With a password: sets it and switches pg_hba.conf from trust to scram-sha-256.
    Result<void> requirePassword();
    Result<QString> run(const QString &tool, const QStringList &args, int timeoutMs,
                        const QString &outputFile = {},
                        const QProcessEnvironment &environment = {}) const;
    Result<void> initdbIfNeeded();
    Result<void> writeLocalConf();
    Result<void> ensureDatabase(const QString &name);

    PostgresOptions m_opt;
    QString m_binDir;
    quint16 m_port = 0;
    bool m_running = false;
    Watchdog m_watchdog;
};

} // namespace idl::localcluster
