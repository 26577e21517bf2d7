#pragma once

// Test fixture: a private PostgreSQL and a local Kafka broker shared by every test of one
// test process, started on first use (one call each) and stopped when the QCoreApplication
// goes away. Their folders are temporary. If the process is killed, a watchdog per server
// stops it and deletes its folder; SIGINT/SIGTERM stop them at once.
//
//   auto pg = idl::testsupport::postgres();   IDL_VERIFY_OK(pg);   (*pg)->dsn()
//   auto kafka = idl::testsupport::kafka();   IDL_VERIFY_OK(kafka); (*kafka)->bootstrap()
//
// Link the test with idl::localcluster (and idl::pg / idl::kafka to talk to them).

#include "idl/core/result.h"
#include "idl/localcluster/kafka_broker.h"
#include "idl/localcluster/postgres_server.h"

#include <QCoreApplication>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <csignal>
#include <memory>
#include <optional>
#include <signal.h>
#include <string>

// QVERIFY that a Result is ok, printing its error message otherwise.
#define IDL_VERIFY_OK(result)                                                                      \
    do {                                                                                           \
        const auto &idlResult_ = (result);                                                         \
        QVERIFY2(idlResult_.ok(), idlResult_.ok() ? "" : idlResult_.error().message.c_str());      \
    } while (false)

namespace idl::testsupport {

namespace detail {

struct Servers
{
    std::unique_ptr<QTemporaryDir> pgDir;
    std::unique_ptr<QTemporaryDir> kafkaDir;
    std::unique_ptr<localcluster::PostgresServer> pg;
    std::unique_ptr<localcluster::KafkaBroker> kafka;
    std::optional<Error> pgError;
    std::optional<Error> kafkaError;
};

inline Servers &servers()
{
    static Servers s;
    return s;
}

inline volatile std::sig_atomic_t g_postmasterPid = 0;
inline volatile std::sig_atomic_t g_javaPid = 0;

inline void onFatalSignal(int sig)
{
    // Async-signal-safe: signal the servers directly, then die as the signal asks.
    if (g_postmasterPid > 0)
        ::kill(static_cast<pid_t>(g_postmasterPid), SIGQUIT);
    if (g_javaPid > 0)
        ::kill(static_cast<pid_t>(g_javaPid), SIGKILL);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

inline void shutdown()
{
    Servers &s = servers();
    g_javaPid = 0;
    g_postmasterPid = 0;
    s.kafka.reset();
    s.pg.reset();
    s.kafkaDir.reset();
    s.pgDir.reset();
}

inline void installOnce()
{
    static const bool installed = [] {
        qAddPostRoutine(&shutdown);
        std::signal(SIGINT, &onFatalSignal);
        std::signal(SIGTERM, &onFatalSignal);
        return true;
    }();
    (void)installed;
}

// A temporary folder that a server running as another user (root → postgres) can enter.
inline Result<std::unique_ptr<QTemporaryDir>> makeDir(const char *name)
{
    auto dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/idl-") +
                                               QLatin1String(name) + QStringLiteral("-XXXXXX"));
    if (!dir->isValid())
        return makeError(ErrorCode::Internal, "cannot create a temporary folder");
    QFile::setPermissions(dir->path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                           QFileDevice::ExeOwner | QFileDevice::ReadGroup |
                                           QFileDevice::ExeGroup | QFileDevice::ReadOther |
                                           QFileDevice::ExeOther);
    return dir;
}

} // namespace detail

// The shared private PostgreSQL (database "idl", user "idl"), started on first call.
inline Result<localcluster::PostgresServer *> postgres()
{
    detail::installOnce();
    auto &s = detail::servers();
    if (s.pg) {
        detail::g_postmasterPid = static_cast<std::sig_atomic_t>(s.pg->pid()); // after restarts
        return s.pg.get();
    }
    if (s.pgError)
        return *s.pgError;
    auto dir = detail::makeDir("pg");
    if (!dir) {
        s.pgError = dir.error();
        return *s.pgError;
    }
    localcluster::PostgresOptions options;
    options.dataDir = (*dir)->path();
    options.removeDataWhenOwnerDies = true;
    auto server = std::make_unique<localcluster::PostgresServer>(options);
    if (auto r = server->start(); !r) {
        s.pgError = r.error();
        return *s.pgError;
    }
    s.pgDir = std::move(*dir);
    s.pg = std::move(server);
    detail::g_postmasterPid = static_cast<std::sig_atomic_t>(s.pg->pid());
    return s.pg.get();
}

// The shared local Kafka broker (4 partitions by default, no auto-created topics).
inline Result<localcluster::KafkaBroker *> kafka()
{
    detail::installOnce();
    auto &s = detail::servers();
    if (s.kafka)
        return s.kafka.get();
    if (s.kafkaError)
        return *s.kafkaError;
    auto dir = detail::makeDir("kafka");
    if (!dir) {
        s.kafkaError = dir.error();
        return *s.kafkaError;
    }
    localcluster::KafkaOptions options;
    options.dataDir = (*dir)->path();
    options.removeDataWhenOwnerDies = true;
    auto broker = std::make_unique<localcluster::KafkaBroker>(options);
    if (auto r = broker->start(); !r) {
        s.kafkaError = r.error();
        return *s.kafkaError;
    }
    s.kafkaDir = std::move(*dir);
    s.kafka = std::move(broker);
    detail::g_javaPid = static_cast<std::sig_atomic_t>(s.kafka->pid());
    return s.kafka.get();
}

// A name no other test of this run uses, e.g. "orders_3f2a9c1d".
inline std::string uniqueName(const std::string &prefix)
{
    return prefix + "_" + QUuid::createUuid().toString(QUuid::Id128).left(12).toStdString();
}

// A new empty database in the shared PostgreSQL; returns its DSN.
inline Result<std::string> freshDatabase(const std::string &prefix = "test")
{
    auto pg = postgres();
    if (!pg)
        return pg.error();
    auto dsn = (*pg)->createDatabase(QString::fromStdString(uniqueName(prefix)));
    if (!dsn)
        return dsn.error();
    return dsn->toStdString();
}

// A new topic in the shared broker, ready (leaders elected); returns its name.
inline Result<std::string> freshTopic(const std::string &prefix = "test", int partitions = 4)
{
    auto broker = kafka();
    if (!broker)
        return broker.error();
    const std::string name = uniqueName(prefix);
    if (auto r = (*broker)->createTopics({QString::fromStdString(name)}, partitions); !r)
        return r.error();
    return name;
}

} // namespace idl::testsupport
