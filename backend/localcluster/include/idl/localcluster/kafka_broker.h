#pragma once

#include "idl/core/result.h"
#include "idl/localcluster/process_util.h"

#include <QProcess>
#include <QString>
#include <QStringList>

#include <chrono>
#include <memory>

namespace idl::localcluster {

// Settings of a local KRaft broker+controller: a single node, or one node of a cluster.
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
    // One node of a multi-node cluster (static quorum): its id, every controller
    // ("1@127.0.0.1:PORT,2@..."), and the cluster id its storage is formatted with (the same
    // on every node; newClusterId()). Empty quorumVoters: a standalone single node.
    int nodeId = 1;
    QString quorumVoters;
    QString clusterId;
    // Replication of the internal topics (offsets, transactions) and topics' defaults:
    // default.replication.factor and min.insync.replicas (with acks=all, a write needs that
    // many in-sync copies).
    int replicationFactor = 1;
    int minInsyncReplicas = 1;
    QStringList jvmOptions; // extra JVM flags (e.g. a cheaper GC for small clusters)
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
    // The two halves of start(), for a multi-node cluster whose nodes answer only once a
    // quorum of controllers runs: launch() every node, then waitReady() each.
    Result<void> launch();
    Result<void> waitReady(int timeoutSeconds);
    // Picks the broker and controller ports (start() does it too): a cluster needs every
    // node's controller port before any node's config is written.
    // The next launch() uses them; later launches pick again (the last ports if still free).
    Result<void> reservePorts()
    {
        m_reserved = false;
        auto r = choosePorts();
        m_reserved = r.ok();
        return r;
    }
    // A fresh cluster id (what kafka-storage random-uuid prints).
    static QString newClusterId();
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
    bool m_reserved = false; // reservePorts() chose the ports of the next launch()
    std::unique_ptr<QProcess> m_process;
    Watchdog m_watchdog;
};

} // namespace idl::localcluster
