#pragma once

#include "idl/core/result.h"
#include "idl/localcluster/process_util.h"

#include <QProcess>
#include <QString>
#include <QStringList>

#include <chrono>
#include <memory>

namespace idl::localcluster {

// Settings of a local single-node KRaft broker.
struct KafkaOptions
{
    QString dataDir;               // server.properties, logs and data/ live here
    quint16 brokerPort = 0;        // 0: last run's port if free, else a free one
    quint16 controllerPort = 0;    // same rule
    int numPartitions = 4;         // default for topics created without a count
    bool autoCreateTopics = false; // topics are created explicitly (createTopics)
    QString heap = QStringLiteral("512m");
    // A restart on existing data recovers its logs first: over 60 s seen on a loaded box.
    int startTimeoutSeconds = 120;
    bool removeDataWhenOwnerDies = false; // tests: the watchdog also deletes dataDir
};

// A local Apache Kafka 4.x broker+controller (KRaft) run with the machine's Java from the
// jars that scripts/bootstrap fetched. Formats storage once; data survives stop/start (ports
// are kept when still free, else new ones are written). A watchdog SIGKILLs the JVM if the
// owning process dies. Blocking calls; use from one thread. The destructor stops the broker.
class KafkaBroker
{
public:
    explicit KafkaBroker(QString dataDir, quint16 brokerPort = 0);
    explicit KafkaBroker(KafkaOptions options);
    ~KafkaBroker();
    KafkaBroker(const KafkaBroker &) = delete;
    KafkaBroker &operator=(const KafkaBroker &) = delete;

    // Writes the config, formats storage if needed, starts the JVM and waits until a
    // librdkafka client gets metadata (Unavailable with the log's tail on failure).
    Result<void> start();
    // SIGTERM (controlled shutdown), SIGKILL after the grace period; idempotent.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(20));
    // SIGKILL now (crash tests); the data stays.
    void kill();
    // stop() then start(), keeping the data.
    Result<void> restart();
    // True while the JVM runs.
    bool isRunning() const;

    // "127.0.0.1:PORT" for bootstrap.servers.
    QString bootstrap() const;
    quint16 port() const { return m_brokerPort; }
    quint16 controllerPort() const { return m_controllerPort; }
    const QString &dataDir() const { return m_opt.dataDir; }
    // Pid of the JVM, or 0.
    qint64 pid() const;

    // Creates topics (existing ones are fine) and waits until they have leaders.
    // partitions <= 0 uses numPartitions.
    Result<void> createTopics(const QStringList &names, int partitions = 0,
                              int replicationFactor = 1);

private:
    Result<void> choosePorts();
    Result<void> writeConfig() const;
    Result<void> formatIfNeeded(const QString &java, const QString &libs);
    QString logTail() const;

    KafkaOptions m_opt;
    quint16 m_brokerPort = 0;
    quint16 m_controllerPort = 0;
    std::unique_ptr<QProcess> m_process;
    Watchdog m_watchdog;
};

} // namespace idl::localcluster
