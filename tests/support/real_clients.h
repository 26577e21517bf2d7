#pragma once

// The real outside clients that tests drive against the services, unchanged, and where they
// live: Python venvs made from the requirement files in scripts/ (the OpenTelemetry SDK's
// exporters, the official Elasticsearch client), winston-loki (npm) installed from
// tests/collector/loki-client's lock file and Debian's syslog-ng unpacked beside rsyslog,
// all in the cache folder. scripts/bootstrap
// installs them the same way; a test installs one on first use when bootstrap did not.
// Include it after `#undef QT_NO_CAST_FROM_ASCII`, before any Qt header.
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace idl::testsupport {

// A finished program: its exit code (-1 when it crashed or timed out), stdout and stderr.
struct ProcessRun
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

inline ProcessRun runProcess(const QString &program, const QStringList &args,
                             const QString &dir = {}, int timeoutMs = 300'000)
{
    QProcess p;
    if (!dir.isEmpty())
        p.setWorkingDirectory(dir);
    p.start(program, args);
    ProcessRun r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError() + "\n(timed out after " + QByteArray::number(timeoutMs) +
                " ms)";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

// Where scripts/bootstrap keeps the clients (IDL_CACHE_DIR, as it reads it).
inline QString clientCacheDir()
{
    return qEnvironmentVariable("IDL_CACHE_DIR", QDir::homePath() + "/.cache/instant-dev-logs");
}

// The source tree (ctest sets IDL_SOURCE_DIR; IDL_TEST_SOURCE_DIR when the test defines it).
inline QString sourceDir()
{
#ifdef IDL_TEST_SOURCE_DIR
    return qEnvironmentVariable("IDL_SOURCE_DIR", QStringLiteral(IDL_TEST_SOURCE_DIR));
#else
    return qEnvironmentVariable("IDL_SOURCE_DIR");
#endif
}

// The python of venv `name` (clientCacheDir()/name) with scripts/`requirements` installed,
// made (or remade, when the requirements changed) here; empty with `error` set on failure.
inline QString pythonVenv(const QString &name, const QString &requirements, QString *error)
{
    const QString venv = clientCacheDir() + "/" + name;
    const QString python = venv + "/bin/python";
    const QString reqs = sourceDir() + "/scripts/" + requirements;
    QFile want(reqs), have(venv + "/requirements.txt");
    if (!want.open(QIODevice::ReadOnly)) {
        *error = "cannot read " + reqs;
        return {};
    }
    const bool current = have.open(QIODevice::ReadOnly) && have.readAll() == want.readAll();
    if (current && QFile::exists(python + ".ok"))
        return python;
    QDir().mkpath(clientCacheDir());
    const ProcessRun made =
        runProcess("/bin/sh", {"-ec", QString("rm -rf '%1' && python3 -m venv '%1' && "
                                              "'%1/bin/pip' install -q --disable-pip-version-check "
                                              "-r '%2' && cp '%2' '%1/requirements.txt' && "
                                              "touch '%1/bin/python.ok'")
                                          .arg(venv, reqs)});
    if (made.code != 0) {
        *error = "could not make the venv " + venv + ": " + QString::fromUtf8(made.err);
        return {};
    }
    return python;
}

// A folder with winston-loki installed (npm ci from tests/collector/loki-client's lock file)
// and push.js beside it, where node finds its modules; empty with `error` set on failure.
inline QString lokiClientDir(QString *error)
{
    const QString dir = clientCacheDir() + "/loki-client";
    const QString src = sourceDir() + "/tests/collector/loki-client";
    const QString stamp = dir + "/node_modules/.idl-ok";
    QFile lock(src + "/package-lock.json"), have(dir + "/package-lock.json");
    if (!lock.open(QIODevice::ReadOnly)) {
        *error = "cannot read " + lock.fileName();
        return {};
    }
    const bool current = have.open(QIODevice::ReadOnly) && have.readAll() == lock.readAll();
    if (!current || !QFile::exists(stamp)) {
        const ProcessRun made = runProcess(
            "/bin/sh", {"-ec", QString("rm -rf '%1' && mkdir -p '%1' && cp '%2/package.json' "
                                       "'%2/package-lock.json' '%1/' && cd '%1' && npm ci "
                                       "--no-audit --no-fund --loglevel=error && touch '%3'")
                                   .arg(dir, src, stamp)});
        if (made.code != 0) {
            *error = "could not install winston-loki: " + QString::fromUtf8(made.out + made.err);
            return {};
        }
    }
    QFile::remove(dir + "/push.js");
    if (!QFile::copy(src + "/push.js", dir + "/push.js")) {
        *error = "cannot copy push.js into " + dir;
        return {};
    }
    return dir;
}

// syslog-ng from Debian's syslog-ng-core package, unpacked into clientCacheDir()/syslog-ng:
// it conflicts with rsyslog (both are the system-log-daemon), which the tests also run, so it
// is not installed; its libraries are (scripts/bootstrap). Run it as
// `LD_LIBRARY_PATH=<root>/usr/lib/syslog-ng <root>/usr/sbin/syslog-ng
//  --module-path=<root>/usr/lib/syslog-ng/<version> ...`. Returns <root>, empty with `error`
// set when it could not be had.
inline QString syslogNgRoot(QString *error)
{
    const QString root = clientCacheDir() + "/syslog-ng";
    if (QFile::exists(root + "/usr/sbin/syslog-ng"))
        return root;
    QDir().mkpath(clientCacheDir());
    const ProcessRun made =
        runProcess("/bin/sh", {"-ec", QString("t=$(mktemp -d) && cd \"$t\" && apt-get download -q "
                                              "syslog-ng-core && rm -rf '%1' && dpkg-deb -x "
                                              "syslog-ng-core_*.deb '%1' && rm -rf \"$t\"")
                                          .arg(root)});
    if (made.code != 0 || !QFile::exists(root + "/usr/sbin/syslog-ng")) {
        *error = "could not unpack syslog-ng-core (apt-get download): " +
                 QString::fromUtf8(made.out + made.err);
        return {};
    }
    return root;
}

} // namespace idl::testsupport
