#include "idl/localcluster/postgres_server.h"

#include "idl/pg/connection.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>

#include <csignal>

#ifndef _WIN32
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace idl::localcluster {

namespace {

// PostgreSQL refuses to run as root; then its tools run as this user instead.
struct RunAs
{
    bool active = false;
    uid_t uid = 0;
    gid_t gid = 0;
    QString name;
};

RunAs runAs()
{
    RunAs r;
#ifndef _WIN32
    if (::geteuid() != 0)
        return r;
    for (const char *candidate : {"postgres", "nobody"}) {
        if (const passwd *pw = ::getpwnam(candidate)) {
            r.active = true;
            r.uid = pw->pw_uid;
            r.gid = pw->pw_gid;
            r.name = QString::fromLatin1(candidate);
            break;
        }
    }
#endif
    return r;
}

QString readTail(const QString &path, qint64 bytes = 2000)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    if (f.size() > bytes)
        f.seek(f.size() - bytes);
    return QString::fromUtf8(f.readAll()).trimmed();
}

Result<QString> findBinDir()
{
    const auto hasInitdb = [](const QString &dir) {
        return !dir.isEmpty() && QFileInfo(dir + QStringLiteral("/initdb")).isExecutable();
    };
    if (const QString env = qEnvironmentVariable("IDL_PG_BINDIR"); hasInitdb(env))
        return env;
    QProcess config;
    config.start(QStringLiteral("pg_config"), {QStringLiteral("--bindir")});
    if (config.waitForFinished(5000) && config.exitCode() == 0) {
        const QString dir = QString::fromLocal8Bit(config.readAllStandardOutput()).trimmed();
        if (hasInitdb(dir))
            return dir;
    }
    for (const char *dir : {"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
                            "/usr/lib/postgresql/17/bin", "/usr/local/bin", "/usr/bin"}) {
        if (hasInitdb(QString::fromLatin1(dir)))
            return QString::fromLatin1(dir);
    }
    return makeError(ErrorCode::NotFound,
                     "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql "
                     "(scripts/bootstrap) or set IDL_PG_BINDIR");
}

bool validName(const QString &name)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]{0,62}$"));
    return re.match(name).hasMatch();
}

} // namespace

namespace {
PostgresOptions optionsFor(QString dataDir, quint16 port)
{
    PostgresOptions o;
    o.dataDir = std::move(dataDir);
    o.port = port;
    return o;
}
} // namespace

PostgresServer::PostgresServer(QString dataDir, quint16 port)
    : PostgresServer(optionsFor(std::move(dataDir), port))
{}

PostgresServer::PostgresServer(PostgresOptions options) : m_opt(std::move(options))
{
    m_opt.dataDir = QDir(m_opt.dataDir).absolutePath();
}

PostgresServer::~PostgresServer()
{
    stop();
}

QString PostgresServer::multiHostDsn(const QList<quint16> &ports) const
{
    QStringList hosts, portList;
    for (const quint16 p : ports) {
        hosts << QStringLiteral("127.0.0.1");
        portList << QString::number(p);
    }
    QString dsn = this->dsn();
    dsn.replace(QStringLiteral("host=127.0.0.1 port=%1 ").arg(m_port),
                QStringLiteral("host=%1 port=%2 ").arg(hosts.join(u','), portList.join(u',')));
    // A dead host costs at most connect_timeout before the next one is tried.
    return dsn + QStringLiteral(" target_session_attrs=read-write connect_timeout=3");
}

QString PostgresServer::dsn(const QString &database) const
{
    QString dsn = QStringLiteral("host=127.0.0.1 port=%1 dbname=%2 user=%3")
                      .arg(m_port)
                      .arg(database, m_opt.user);
    if (!m_opt.password.isEmpty()) {
        QString quoted = m_opt.password;
        quoted.replace(QLatin1Char('\\'), QStringLiteral("\\\\"));
        quoted.replace(QLatin1Char('\''), QStringLiteral("\\'"));
        dsn += QStringLiteral(" password='%1'").arg(quoted);
    }
    return dsn;
}

qint64 PostgresServer::pid() const
{
    if (!m_running)
        return 0;
    QFile f(m_opt.dataDir + QStringLiteral("/postmaster.pid"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    return f.readLine().trimmed().toLongLong();
}

Result<QString> PostgresServer::run(const QString &tool, const QStringList &args, int timeoutMs,
                                    const QString &outputFile,
                                    const QProcessEnvironment &environment) const
{
    QProcess p;
    if (!environment.isEmpty())
        p.setProcessEnvironment(environment);
    p.setProgram(m_binDir + QLatin1Char('/') + tool);
    p.setArguments(args);
    p.setStandardInputFile(QProcess::nullDevice());
    if (outputFile.isEmpty()) {
        p.setProcessChannelMode(QProcess::MergedChannels);
    } else {
        // A file, not a pipe: pg_ctl's background postmaster must not hold our pipe open.
        p.setStandardOutputFile(outputFile, QIODevice::Append);
        p.setStandardErrorFile(outputFile, QIODevice::Append);
    }
#ifndef _WIN32
    const RunAs as = runAs();
    if (as.active) {
        p.setChildProcessModifier([as] {
            if (::setgroups(1, &as.gid) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0)
                ::_exit(126);
        });
    }
#endif
    p.start();
    if (!p.waitForStarted(10'000))
        return makeError(ErrorCode::Unavailable, "cannot start " + tool.toStdString() + ": " +
                                                     p.errorString().toStdString());
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
        return makeError(ErrorCode::Timeout, tool.toStdString() + " did not finish in time");
    }
    const QString output = outputFile.isEmpty()
                               ? QString::fromLocal8Bit(p.readAllStandardOutput()).trimmed()
                               : readTail(outputFile);
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return makeError(ErrorCode::Unavailable,
                         tool.toStdString() + " " + args.join(QLatin1Char(' ')).toStdString() +
                             " failed (exit " + std::to_string(p.exitCode()) +
                             "): " + output.toStdString());
    return output;
}

Result<void> PostgresServer::initdbIfNeeded()
{
    const QString dir = m_opt.dataDir;
    if (!QDir().mkpath(dir))
        return makeError(ErrorCode::Unavailable, "cannot create " + dir.toStdString());
    if (QFileInfo::exists(dir + QStringLiteral("/PG_VERSION")))
        return {};
    if (!QDir(dir).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden))
        return makeError(ErrorCode::Conflict,
                         dir.toStdString() + " is neither empty nor a PostgreSQL data folder");
#ifndef _WIN32
    const RunAs as = runAs();
    if (as.active) {
        const QByteArray path = QFile::encodeName(dir);
        if (::chown(path.constData(), as.uid, as.gid) != 0)
            return makeError(ErrorCode::Unavailable, "cannot chown " + dir.toStdString());
        for (QDir up(dir); up.cdUp() && !up.isRoot();) {
            struct stat st
            {
            };
            if (::stat(QFile::encodeName(up.absolutePath()).constData(), &st) == 0 &&
                !(st.st_mode & S_IXOTH) && st.st_uid != as.uid)
                return makeError(ErrorCode::Unavailable,
                                 "running as root, so PostgreSQL runs as user " +
                                     as.name.toStdString() + ", which cannot reach " +
                                     dir.toStdString() + ": allow it through " +
                                     up.absolutePath().toStdString() + " (chmod o+x)");
        }
    }
#endif
    if (m_opt.standbyOf) {
        // A copy of the primary (its settings, pg_hba.conf and password included) that starts
        // as its standby (-R: standby.signal and primary_conninfo). The password goes through
        // the environment, never the command line.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (!m_opt.password.isEmpty())
            env.insert(QStringLiteral("PGPASSWORD"), m_opt.password);
        if (auto r = run(QStringLiteral("pg_basebackup"),
                         {QStringLiteral("-D"), dir, QStringLiteral("-h"),
                          QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                          QString::number(m_opt.standbyOf), QStringLiteral("-U"), m_opt.user,
                          QStringLiteral("-X"), QStringLiteral("stream"), QStringLiteral("-R"),
                          QStringLiteral("-c"), QStringLiteral("fast"), QStringLiteral("-w")},
                         600'000, {}, env);
            !r)
            return r.error();
        // The copy has the primary's logs and lock file; PostgreSQL wants its folder 0700.
        for (const char *f : {"postmaster.pid", "server.log", "pg_ctl.log"})
            QFile::remove(dir + QLatin1Char('/') + QLatin1String(f));
        QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                       QFileDevice::ExeOwner);
        return {};
    }
    if (auto r = run(QStringLiteral("initdb"),
                     {QStringLiteral("-D"), dir, QStringLiteral("-U"), m_opt.user,
                      QStringLiteral("--auth=trust"), QStringLiteral("-E"), QStringLiteral("UTF8"),
                      QStringLiteral("--no-locale")},
                     180'000);
        !r)
        return r.error();
    QFile conf(dir + QStringLiteral("/postgresql.conf"));
    if (!conf.open(QIODevice::Append))
        return makeError(ErrorCode::Unavailable, "cannot append to postgresql.conf");
    conf.write("\n# Instant Dev Logs: port and socket of this private cluster\n"
               "include_if_exists = 'idl_local.conf'\n");
    return {};
}

Result<void> PostgresServer::writeLocalConf()
{
    const QString path = m_opt.dataDir + QStringLiteral("/idl_local.conf");
    quint16 previous = 0;
    if (QFile old(path); old.open(QIODevice::ReadOnly)) {
        static const QRegularExpression re(QStringLiteral("^port\\s*=\\s*(\\d+)"),
                                           QRegularExpression::MultilineOption);
        if (const auto m = re.match(QString::fromUtf8(old.readAll())); m.hasMatch())
            previous = static_cast<quint16>(m.captured(1).toUInt());
    }
    m_port = m_opt.port ? m_opt.port : (isTcpPortFree(previous) ? previous : freeTcpPort());
    if (m_port == 0)
        return makeError(ErrorCode::Unavailable, "no free TCP port for PostgreSQL");
    const QString socketDir = QFileInfo(m_opt.dataDir).canonicalFilePath();
    if (socketDir.toUtf8().size() > 90)
        return makeError(ErrorCode::BadRequest,
                         "PostgreSQL data folder path too long for a unix socket: " +
                             socketDir.toStdString());
    QString quoted = socketDir;
    quoted.replace(QLatin1Char('\''), QStringLiteral("''"));
    QFile conf(path);
    if (!conf.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return makeError(ErrorCode::Unavailable, "cannot write " + path.toStdString());
    conf.write(QStringLiteral("# Written by Instant Dev Logs on each start.\n"
                              "port = %1\n"
                              "listen_addresses = '127.0.0.1'\n"
                              "unix_socket_directories = '%2'\n")
                   .arg(m_port)
                   .arg(quoted)
                   .toUtf8());
    if (m_opt.replicated || m_opt.standbyOf)
        conf.write("# Streaming replication (primary and hot standby)\n"
                   "wal_keep_size = '512MB'\n"
                   "wal_log_hints = on\n"
                   "hot_standby = on\n");
    return {};
}

Result<void> PostgresServer::start()
{
    if (m_running)
        return {};
    if (m_binDir.isEmpty()) {
        auto dir = findBinDir();
        if (!dir)
            return dir.error();
        m_binDir = *dir;
    }
    if (auto r = initdbIfNeeded(); !r)
        return r;
    const QString dir = QFileInfo(m_opt.dataDir).canonicalFilePath();
    if (QFile pidFile(dir + QStringLiteral("/postmaster.pid")); pidFile.open(QIODevice::ReadOnly)) {
        const qint64 other = pidFile.readLine().trimmed().toLongLong();
        const QString cwd = QFileInfo(QStringLiteral("/proc/%1/cwd").arg(other)).symLinkTarget();
        if (other > 0 && ::kill(static_cast<pid_t>(other), 0) == 0 && cwd == dir)
            return makeError(ErrorCode::Conflict, "a PostgreSQL server already runs in " +
                                                      dir.toStdString() + " (pid " +
                                                      std::to_string(other) + ")");
    }
    if (auto r = writeLocalConf(); !r)
        return r;

    // If this process dies, stop the server (immediate) and, for tests, delete its folder.
    QString script =
        QStringLiteral("d=%1\n"
                       "for i in 1 2 3; do [ -f \"$d/postmaster.pid\" ] && break; sleep 1; done\n"
                       "p=$(head -n1 \"$d/postmaster.pid\" 2>/dev/null)\n"
                       "if [ -n \"$p\" ] && [ \"$(readlink /proc/$p/cwd)\" = \"$d\" ]; then\n"
                       "  kill -QUIT \"$p\" 2>/dev/null; i=0\n"
                       "  while kill -0 \"$p\" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; "
                       "i=$((i+1)); done\n"
                       "  kill -KILL \"$p\" 2>/dev/null\n"
                       "fi\n")
            .arg(shellQuote(dir));
    if (m_opt.removeDataWhenOwnerDies)
        script += QStringLiteral("sleep 0.5; rm -rf \"$d\"\n");
    if (auto r = m_watchdog.arm(script); !r)
        return r;

    const QStringList args{QStringLiteral("start"), QStringLiteral("-w"),
                           QStringLiteral("-t"),    QString::number(m_opt.startTimeoutSeconds),
                           QStringLiteral("-D"),    dir,
                           QStringLiteral("-l"),    dir + QStringLiteral("/server.log")};
    if (auto r = run(QStringLiteral("pg_ctl"), args, (m_opt.startTimeoutSeconds + 10) * 1000,
                     dir + QStringLiteral("/pg_ctl.log"));
        !r) {
        m_watchdog.disarm();
        return makeError(r.error().code,
                         r.error().message + "\nserver.log: " +
                             readTail(dir + QStringLiteral("/server.log")).toStdString());
    }
    m_running = true;
    if (auto r = ensureDatabase(m_opt.database); !r) {
        stop();
        return r;
    }
    if (auto r = requirePassword(); !r) {
        stop();
        return r;
    }
    return {};
}

Result<void> PostgresServer::requirePassword()
{
    if (m_opt.password.isEmpty())
        return {};
    const QString path = m_opt.dataDir + QStringLiteral("/pg_hba.conf");
    QFile hba(path);
    if (!hba.open(QIODevice::ReadOnly))
        return makeError(ErrorCode::Unavailable, "cannot read " + path.toStdString());
    QStringList lines = QString::fromUtf8(hba.readAll()).split(QLatin1Char('\n'));
    hba.close();
    static const QRegularExpression trust(QStringLiteral("\\btrust\\b"));
    bool trusting = false;
    for (QString &line : lines) {
        if (line.trimmed().startsWith(QLatin1Char('#')) || !line.contains(trust))
            continue;
        line.replace(trust, QStringLiteral("scram-sha-256"));
        trusting = true;
    }
    if (!trusting)
        return {}; // already password-only (the password was set then)
    // Still trusting: set the password over a trusted connection, then require it.
    auto conn = pg::Connection::connect(dsn(QStringLiteral("postgres")).toStdString());
    if (!conn)
        return conn.error();
    QString literal = m_opt.password;
    literal.replace(QLatin1Char('\''), QStringLiteral("''"));
    QString role = m_opt.user;
    role.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    if (auto r = conn->exec(
            QStringLiteral("ALTER ROLE \"%1\" PASSWORD '%2'").arg(role, literal).toStdString());
        !r)
        return r;
    if (!hba.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return makeError(ErrorCode::Unavailable, "cannot write " + path.toStdString());
    hba.write(lines.join(QLatin1Char('\n')).toUtf8());
    hba.close();
    auto r = run(QStringLiteral("pg_ctl"),
                 {QStringLiteral("reload"), QStringLiteral("-D"),
                  QFileInfo(m_opt.dataDir).canonicalFilePath()},
                 30'000);
    if (!r)
        return r.error();
    return {};
}

void PostgresServer::stop()
{
    if (!m_running)
        return;
    const QString dir = m_opt.dataDir;
    const QString log = dir + QStringLiteral("/pg_ctl.log");
    auto r = run(QStringLiteral("pg_ctl"),
                 {QStringLiteral("stop"), QStringLiteral("-m"), QStringLiteral("fast"),
                  QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("60"),
                  QStringLiteral("-D"), dir},
                 70'000, log);
    if (!r) {
        (void)run(QStringLiteral("pg_ctl"),
                  {QStringLiteral("stop"), QStringLiteral("-m"), QStringLiteral("immediate"),
                   QStringLiteral("-w"), QStringLiteral("-D"), dir},
                  70'000, log);
    }
    m_running = false;
    m_watchdog.disarm();
}

Result<void> PostgresServer::restartImmediate()
{
    if (!m_running)
        return makeError(ErrorCode::Unavailable, "PostgreSQL is not running");
    const QString dir = m_opt.dataDir;
    auto r =
        run(QStringLiteral("pg_ctl"),
            {QStringLiteral("restart"), QStringLiteral("-m"), QStringLiteral("immediate"),
             QStringLiteral("-w"), QStringLiteral("-t"), QString::number(m_opt.startTimeoutSeconds),
             QStringLiteral("-D"), dir, QStringLiteral("-l"), dir + QStringLiteral("/server.log")},
            (m_opt.startTimeoutSeconds + 10) * 1000, dir + QStringLiteral("/pg_ctl.log"));
    if (!r) {
        m_running = QFileInfo::exists(dir + QStringLiteral("/postmaster.pid"));
        return r.error();
    }
    return {};
}

Result<void> PostgresServer::promote()
{
    if (!m_running)
        return makeError(ErrorCode::Unavailable, "PostgreSQL is not running");
    auto r = run(QStringLiteral("pg_ctl"),
                 {QStringLiteral("promote"), QStringLiteral("-w"), QStringLiteral("-t"),
                  QString::number(m_opt.startTimeoutSeconds), QStringLiteral("-D"),
                  QFileInfo(m_opt.dataDir).canonicalFilePath()},
                 (m_opt.startTimeoutSeconds + 10) * 1000);
    if (!r)
        return r.error();
    m_opt.standbyOf = 0;
    return {};
}

bool PostgresServer::postmasterAlive() const
{
    return processAlive(pid());
}

Result<QString> PostgresServer::createDatabase(const QString &name)
{
    if (auto r = ensureDatabase(name); !r)
        return r.error();
    return dsn(name);
}

Result<void> PostgresServer::ensureDatabase(const QString &name)
{
    if (!validName(name))
        return makeError(ErrorCode::BadRequest, "invalid database name: " + name.toStdString());
    auto conn = pg::Connection::connect(dsn(QStringLiteral("postgres")).toStdString());
    if (!conn)
        return conn.error();
    auto exists = conn->query("SELECT 1 FROM pg_database WHERE datname = $1", {name.toStdString()});
    if (!exists)
        return exists.error();
    if (exists->rowCount() > 0)
        return {};
    // Identifiers cannot be parameters; the name was validated above.
    auto created = conn->exec("CREATE DATABASE \"" + name.toStdString() + "\"");
    if (!created && pg::sqlState(created.error()) != "42P04")
        return created;
    return {};
}

} // namespace idl::localcluster
