#pragma once

#include "idl/core/result.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QProcessEnvironment>
#include <QString>

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <vector>

class QProcess;
class QTimer;

namespace idl::localcluster {
class PostgresServer;
class KafkaBroker;
struct KafkaOptions;
} // namespace idl::localcluster

namespace idl::service {
class Lifecycle;
}

namespace idl::stack {

class ServiceProcess;
class DemoTraffic;

// Settings of one local cluster.
struct StackOptions
{
    QString dataDir;    // everything lives here; data survives a restart
    QString binDir;     // where idl-collector, idl-writer, ... are
    bool demo = false;  // run synthetic traffic against the collector
    int demoRate = 200; // demo events per second
    quint16 collectorPort = 7080;
    quint16 gatewayPort = 7081;
    // OTLP/gRPC port of the collector (0: any free port; a busy default port falls back to a
    // free one, named in stack.json's otlp_grpc).
    quint16 otlpGrpcPort = 4317;
    quint16 postgresPort = 0; // 0: reuse the last one if free, else a free port
    quint16 kafkaPort = 0;
    int partitions = 4;
    // The collector's syslog listeners (0: any free port), each mapping to syslogApp; the TLS
    // one serves a self-signed certificate for localhost (DATA_DIR/tls/syslog.crt).
    quint16 syslogTcpPort = 5514;
    quint16 syslogTlsPort = 6514;
    quint16 syslogUdpPort = 5514;
    QString syslogApp = QStringLiteral("syslog");
    // Supervise: restart a service or the Kafka broker that dies (like `restart:
    // unless-stopped` in compose), with a back-off for one that keeps dying.
    bool restart = true;
    // High availability (docs/operations.md, "High availability"): three Kafka brokers (KRaft,
    // replication factor 3, min.insync.replicas 2), a PostgreSQL primary with a streaming
    // hot standby that idl-stack promotes when the primary dies, two of each service and
    // HAProxy in front of the collectors and gateways (on the ports above). No syslog.
    bool ha = false;
    QString haproxy = QStringLiteral("haproxy"); // the HAProxy program (PATH or a path)
};

// A whole local cluster: private PostgreSQL, single-node Kafka, topics, schema, every
// backend service present in binDir, credentials, and DATA_DIR/stack.json describing it.
// Parts start in order and stop in reverse. Once up, a service or the Kafka broker that dies
// is started again (same command line, environment and ports) and stack.json gets its new
// pid; PostgreSQL is left to pg_ctl. With options.ha (stack_ha.cpp): three brokers, a
// PostgreSQL standby promoted when the primary's postmaster is gone, two of each service
// behind HAProxy. Main thread; needs a running QCoreApplication loop between up() and down().
class Stack : public QObject
{
    Q_OBJECT
public:
    explicit Stack(StackOptions options, QObject *parent = nullptr);
    ~Stack() override;

    Result<void> up();
    void down();
    // Human-readable summary printed after up().
    QString summary() const;

    // Sends SIGTERM to the stack running in dataDir (from its pid file) and waits for it.
    static Result<void> stopRunning(const QString &dataDir, int timeoutMs);

Q_SIGNALS:
    // A service died; the stack keeps going but reports it.
    void serviceFailed(const QString &name);

private:
    // Adds a service to the lifecycle; `args` is called when it starts. `url` (optional) is
    // where clients reach this copy (stack.json's members).
    void addService(const QString &name, std::function<QStringList()> args, quint16 opsPort,
                    const QString &url = {});
    // Adds a lifecycle part that starts one service (`start`: the process, or null when it is
    // not built) and stops it in reverse.
    void addServicePart(const QString &name, std::function<Result<ServiceProcess *>()> start);
    // Starts one service; null when it is not built. program: the executable (default: name
    // in binDir); secrets: whether it gets the dsn and metrics token.
    Result<ServiceProcess *> startService(const QString &name, QStringList args, quint16 opsPort,
                                          const QString &program = {}, bool secrets = true);
    // --ha parts (stack_ha.cpp): PostgreSQL primary + standby, the Kafka cluster, two of each
    // service, HAProxy; the failover watch; stack.json's HA members.
    void addHaDatabaseAndKafka(const QString &dataDir);
    void addHaServices();
    Result<void> writeHaproxyConfig() const;
    void checkPostgres();
    void insertHaJson(QJsonObject &o) const;
    // bootstrap.servers of every broker.
    QString kafkaBootstrap() const;
    // The dsn services get: the server's, or (--ha) both servers' with
    // target_session_attrs=read-write.
    QString serviceDsn() const;
    Result<void> ensureCredentials();
    Result<void> writeStackJson() const;
    Result<QString> runAdmin(const QStringList &args) const;
    // The stack's PostgreSQL password (kept in secrets.json, made on first use).
    QString postgresPassword();
    // The environment a service or idl-admin gets: the dsn and the metrics token.
    QProcessEnvironment secretEnvironment() const;
    bool startDemoLoadgen(quint16 collectorPort);
    QString bin(const QString &name) const;
    // Supervision (options.restart): a service that exited unexpectedly, the broker's watch.
    void scheduleRestart(ServiceProcess *service);
    void checkKafka();

    StackOptions m_opt;
    std::unique_ptr<localcluster::PostgresServer> m_pg;
    std::vector<std::unique_ptr<localcluster::KafkaBroker>> m_brokers; // 1, or 3 with --ha
    std::vector<localcluster::KafkaOptions> m_brokerOptions;           // --ha: how to restart each
    std::unique_ptr<localcluster::PostgresServer> m_pgStandby;         // --ha: the hot standby
    // --ha: the new standby being made after a failover (pg_basebackup, start), on a thread of
    // its own so the supervisor keeps watching every process meanwhile; m_pgStandby is empty
    // until it is done.
    std::unique_ptr<localcluster::PostgresServer> m_pgRebuild;
    std::future<Result<void>> m_pgRebuildTask;
    QList<quint16> m_pgPorts; // --ha: both servers' ports
    int m_pgFailures = 0;     // --ha: failed PostgreSQL restarts in a row
    qint64 m_pgRetryAt = 0;   // --ha: ms since epoch: no PostgreSQL restart before
    int m_failovers = 0;      // --ha: standby promotions
    QTimer *m_pgWatch = nullptr;
    quint16 m_lbOpsPort = 0;                 // --ha: HAProxy's /readyz (monitor-uri)
    quint16 m_lbGatewayHttp = 0;             // --ha: the gateways' HTTP API behind HAProxy
    std::map<quint16, QString> m_memberUrls; // ops port -> where clients reach that copy
    std::vector<std::unique_ptr<ServiceProcess>> m_services;
    std::unique_ptr<DemoTraffic> m_demo;
    std::unique_ptr<QProcess> m_demoLoadgen; // idl-loadgen as the demo source, when built
    QString m_ingestKey;
    QString m_adminToken;
    QString m_metricsToken;
    QString m_pgPassword;
    quint16 m_gatewayPortUsed = 0;
    quint16 m_gatewayHttpPort = 0; // gateway's HTTP API and ops endpoints
    bool m_syslog = false;         // the collector runs syslog listeners
    bool m_syslogTcpHa = false;    // --ha: syslog over TCP through HAProxy to both collectors
    bool m_up = false;
    bool m_supervising = false; // set once up() finished, cleared by down()
    std::map<const ServiceProcess *, int> m_crashStreak; // restarts since it last ran 30 s
    QTimer *m_kafkaWatch = nullptr;
    int m_kafkaFailures = 0;                    // failed restarts of a broker in a row
    qint64 m_kafkaRetryAt = 0;                  // ms since epoch: no restart attempt before
    std::unique_ptr<service::Lifecycle> m_life; // the parts of a running stack
};

} // namespace idl::stack
