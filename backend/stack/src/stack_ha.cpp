// `idl-stack up --ha`: the redundant topology (docs/operations.md, "High availability").
#include "idl/stack/stack.h"

#include "idl/localcluster/kafka_broker.h"
#include "idl/localcluster/postgres_server.h"
#include "idl/localcluster/process_util.h"
#include "idl/observability/json_log.h"
#include "idl/service/lifecycle.h"
#include "idl/stack/service_process.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QSaveFile>
#include <QStandardPaths>

namespace idl::stack {

namespace {

constexpr int kBrokers = 3;
// Three JVMs share the machine with PostgreSQL and the services: small heaps, a serial GC and
// fewer JIT threads.
const QStringList kSmallJvm{QStringLiteral("-XX:+UseSerialGC"),
                            QStringLiteral("-XX:CICompilerCount=2")};

bool isStandbyDir(const QString &dir)
{
    return QFileInfo::exists(dir + QStringLiteral("/standby.signal"));
}

bool isClusterDir(const QString &dir)
{
    return QFileInfo::exists(dir + QStringLiteral("/PG_VERSION"));
}

} // namespace

void Stack::addHaDatabaseAndKafka(const QString &dataDir)
{
    const QDir dir(dataDir);
    m_life->add(
        "postgres primary and standby",
        [this, dir]() -> Result<void> {
            // Node a is DATA_DIR/postgres (the plain stack's), node b DATA_DIR/postgres-b. The
            // primary is the one without standby.signal (a lives on after a failover as b's
            // standby); a copy that is neither (both promoted: diverged) is made again from
            // the primary.
            const QString a = dir.filePath(QStringLiteral("postgres"));
            const QString b = dir.filePath(QStringLiteral("postgres-b"));
            const bool bIsPrimary =
                isClusterDir(b) && !isStandbyDir(b) && (!isClusterDir(a) || isStandbyDir(a));
            const QString primaryDir = bIsPrimary ? b : a;
            const QString standbyDir = bIsPrimary ? a : b;
            if (isClusterDir(standbyDir) && !isStandbyDir(standbyDir)) {
                jlog::warn("both PostgreSQL copies are primaries: making the standby again",
                           {{"primary", primaryDir}, {"removed", standbyDir}});
                QDir(standbyDir).removeRecursively();
            }
            localcluster::PostgresOptions po;
            po.dataDir = primaryDir;
            po.port = m_opt.postgresPort;
            po.password = postgresPassword();
            po.replicated = true;
            m_pg = std::make_unique<localcluster::PostgresServer>(po);
            jlog::info("starting PostgreSQL primary", {{"data_dir", primaryDir}});
            if (auto r = m_pg->start(); !r)
                return r;
            localcluster::PostgresOptions so = po;
            so.dataDir = standbyDir;
            so.port = 0;
            so.standbyOf = m_pg->port();
            m_pgStandby = std::make_unique<localcluster::PostgresServer>(so);
            jlog::info("starting PostgreSQL standby", {{"data_dir", standbyDir}});
            if (auto r = m_pgStandby->start(); !r)
                return r;
            // Services keep this order for good: after a failover the list still names both.
            m_pgPorts = {m_pg->port(), m_pgStandby->port()};
            return {};
        },
        [this] {
            if (m_pgRebuildTask.valid())
                m_pgRebuildTask.wait();
            if (m_pgRebuild)
                m_pgRebuild->stop();
            if (m_pgStandby)
                m_pgStandby->stop();
            if (m_pg)
                m_pg->stop();
        });
    m_life->add(
        "kafka cluster",
        [this, dir]() -> Result<void> {
            // Every node's ports first: each node's config names every controller.
            QString clusterId;
            if (QFile f(dir.filePath(QStringLiteral("kafka-cluster.id")));
                f.open(QIODevice::ReadOnly))
                clusterId = QString::fromLatin1(f.readAll()).trimmed();
            if (clusterId.isEmpty()) {
                clusterId = localcluster::KafkaBroker::newClusterId();
                QSaveFile f(dir.filePath(QStringLiteral("kafka-cluster.id")));
                if (!f.open(QIODevice::WriteOnly) || f.write(clusterId.toLatin1()) < 0 ||
                    !f.commit())
                    return makeError(ErrorCode::Internal, "cannot write kafka-cluster.id");
            }
            QStringList voters;
            for (int i = 0; i < kBrokers; ++i) {
                localcluster::KafkaOptions ko;
                ko.dataDir = dir.filePath(QStringLiteral("kafka-%1").arg(i + 1));
                ko.nodeId = i + 1;
                ko.clusterId = clusterId;
                ko.replicationFactor = kBrokers;
                ko.minInsyncReplicas = 2;
                ko.heap = QStringLiteral("384m");
                ko.jvmOptions = kSmallJvm;
                ko.startTimeoutSeconds = 300;
                if (!QDir().mkpath(ko.dataDir))
                    return makeError(ErrorCode::Internal,
                                     "cannot create " + ko.dataDir.toStdString());
                auto broker = std::make_unique<localcluster::KafkaBroker>(ko);
                if (auto r = broker->reservePorts(); !r)
                    return r;
                ko.brokerPort = broker->port();
                ko.controllerPort = broker->controllerPort();
                voters << QStringLiteral("%1@127.0.0.1:%2").arg(i + 1).arg(ko.controllerPort);
                m_brokerOptions.push_back(ko);
                m_brokers.push_back(std::move(broker));
            }
            for (int i = 0; i < kBrokers; ++i) {
                m_brokerOptions[static_cast<std::size_t>(i)].quorumVoters = voters.join(u',');
                m_brokers[static_cast<std::size_t>(i)] =
                    std::make_unique<localcluster::KafkaBroker>(
                        m_brokerOptions[static_cast<std::size_t>(i)]);
            }
            jlog::info("starting the Kafka cluster", {{"voters", voters.join(u',')}});
            for (auto &b : m_brokers)
                if (auto r = b->launch(); !r)
                    return r;
            for (auto &b : m_brokers)
                if (auto r = b->waitReady(300); !r)
                    return r;
            return {};
        },
        [this] {
            for (auto &b : m_brokers)
                b->stop();
        });
}

void Stack::addHaServices()
{
    // Ports are picked when each part starts, not here: a port picked a minute early (before
    // PostgreSQL and three brokers started) can meanwhile be the local port of one of the many
    // outgoing connections the cluster opens (seen: a gateway's WebSocket port taken).
    const auto freePort = [] { return localcluster::freeTcpPort(); };
    const auto portOr = [](quint16 wanted) {
        return wanted && localcluster::isTcpPortFree(wanted) ? wanted : localcluster::freeTcpPort();
    };
    struct Ports
    {
        std::vector<std::pair<quint16, quint16>> collectors, gateways; // (http, grpc) / (ws, http)
        std::vector<quint16> syslogTcp; // each collector's syslog TCP listener
    };
    auto ports = std::make_shared<Ports>();
    // One service copy: `args(opsPort)` gives its arguments and may pick and record more ports.
    const auto add = [this](const QString &name, std::function<QStringList(quint16)> args) {
        addServicePart(name, [this, name, args = std::move(args)] {
            const quint16 ops = localcluster::freeTcpPort();
            return startService(name, args(ops), ops);
        });
    };
    const auto kafkaArgs = [this](quint16 ops) {
        return QStringList{QStringLiteral("--kafka.bootstrap"), kafkaBootstrap(),
                           QStringLiteral("--http.port"), QString::number(ops)};
    };
    // Consumers before producers, as in the plain stack. Two of each in their groups.
    for (int i = 0; i < 2; ++i)
        add(QStringLiteral("idl-writer"), kafkaArgs);
    for (int i = 0; i < 2; ++i)
        add(QStringLiteral("idl-processor"), [kafkaArgs, i](quint16 ops) {
            return kafkaArgs(ops) +
                   QStringList{QStringLiteral("--instance.id"), QStringLiteral("p%1").arg(i)};
        });
    if (!bin(QStringLiteral("idl-alerter")).isEmpty())
        // One alerter (two would share the rules without double notifications, docs/alerts.md;
        // one saves CPU here); supervised like the rest.
        add(QStringLiteral("idl-alerter"), [](quint16 ops) {
            return QStringList{QStringLiteral("--http.port"), QString::number(ops)};
        });
    const bool gateway = !bin(QStringLiteral("idl-gateway")).isEmpty();
    if (gateway)
        for (int i = 0; i < 2; ++i)
            add(QStringLiteral("idl-gateway"), [this, kafkaArgs, ports, freePort](quint16 ops) {
                const quint16 ws = freePort();
                ports->gateways.push_back({ws, ops});
                m_memberUrls[ops] = QStringLiteral("ws://127.0.0.1:%1/ws").arg(ws);
                return kafkaArgs(ops) +
                       QStringList{QStringLiteral("--ws.port"), QString::number(ws)};
            });
    for (int i = 0; i < 2; ++i)
        add(QStringLiteral("idl-collector"), [this, kafkaArgs, ports, freePort](quint16 ops) {
            const quint16 grpc = freePort();
            const quint16 syslogTcp = freePort();
            ports->collectors.push_back({ops, grpc});
            ports->syslogTcp.push_back(syslogTcp);
            m_memberUrls[ops] = QStringLiteral("http://127.0.0.1:%1").arg(ops);
            return kafkaArgs(ops) +
                   QStringList{QStringLiteral("--http.address"), QStringLiteral("127.0.0.1"),
                               QStringLiteral("--otlp.grpc-port"), QString::number(grpc),
                               // Syslog over TCP only: HAProxy balances it (UDP it cannot, and
                               // TLS would need the certificate on HAProxy).
                               QStringLiteral("--syslog.listeners"),
                               QStringLiteral("tcp:%1=%2").arg(syslogTcp).arg(m_opt.syslogApp),
                               // A broker's death moves its partitions' leaders after
                               // broker.session.timeout.ms (6 s) plus an election: wait that
                               // out rather than answer 503 (the client's retry of a 503 may
                               // store the events twice).
                               QStringLiteral("--kafka.ack-timeout"), QStringLiteral("20s")};
        });
    m_syslog = false;
    m_syslogTcpHa = true;

    const QString cfgPath = QDir(m_opt.dataDir).filePath(QStringLiteral("haproxy.cfg"));
    const QString program =
        m_opt.haproxy.contains(u'/')
            ? m_opt.haproxy
            : QStandardPaths::findExecutable(
                  m_opt.haproxy, {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/local/sbin")});
    const QString haproxy =
        program.isEmpty() ? QStandardPaths::findExecutable(m_opt.haproxy) : program;
    addServicePart(
        QStringLiteral("haproxy"),
        [this, cfgPath, haproxy, ports, portOr, freePort, gateway]() -> Result<ServiceProcess *> {
            if (haproxy.isEmpty())
                return makeError(ErrorCode::NotFound,
                                 "--ha needs HAProxy: install the haproxy package "
                                 "(scripts/bootstrap) or pass --haproxy PATH");
            m_opt.collectorPort = portOr(m_opt.collectorPort);
            m_opt.otlpGrpcPort = portOr(m_opt.otlpGrpcPort);
            m_opt.syslogTcpPort = portOr(m_opt.syslogTcpPort);
            if (gateway) {
                m_gatewayPortUsed = portOr(m_opt.gatewayPort);
                m_gatewayHttpPort = freePort();
            }
            m_lbOpsPort = freePort();
            // Health checks on every copy's /readyz each second (down after 2 failures, up
            // after 2 successes); a request whose connection fails goes to the other copy.
            QString cfg = QStringLiteral("# Written by idl-stack --ha on each start.\n"
                                         "global\n"
                                         "    maxconn 4096\n"
                                         "defaults\n"
                                         "    mode http\n"
                                         "    timeout connect 2s\n"
                                         "    timeout client 120s\n"
                                         "    timeout server 120s\n"
                                         "    timeout tunnel 1h\n"
                                         "    timeout http-request 30s\n"
                                         "    retries 3\n"
                                         "    option redispatch\n"
                                         "    default-server inter 1s fall 2 rise 2\n"
                                         "frontend ops\n"
                                         "    bind 127.0.0.1:%1\n"
                                         "    monitor-uri /readyz\n"
                                         "frontend collector_http\n"
                                         "    bind 127.0.0.1:%2\n"
                                         "    default_backend collectors_http\n"
                                         "backend collectors_http\n"
                                         "    option httpchk GET /readyz\n"
                                         "    http-check expect status 200\n")
                              .arg(m_lbOpsPort)
                              .arg(m_opt.collectorPort);
            for (std::size_t i = 0; i < ports->collectors.size(); ++i)
                cfg += QStringLiteral("    server c%1 127.0.0.1:%2 check\n")
                           .arg(i + 1)
                           .arg(ports->collectors[i].first);
            // A TCP frontend balancing over one listener of each collector, each checked on
            // its collector's /readyz. `timeout`: the idle timeout of both sides ("" = 120 s).
            const auto tcpToCollectors = [&](const QString &name, quint16 port,
                                             const std::vector<quint16> &listeners,
                                             const QString &timeout) {
                const auto idle = [&timeout](const char *side) {
                    return timeout.isEmpty() ? QString()
                                             : QStringLiteral("    timeout %1 %2\n")
                                                   .arg(QLatin1String(side), timeout);
                };
                cfg += QStringLiteral("frontend %1\n    mode tcp\n").arg(name) + idle("client") +
                       QStringLiteral("    bind 127.0.0.1:%1\n"
                                      "    default_backend collectors_%2\n"
                                      "backend collectors_%2\n"
                                      "    mode tcp\n")
                           .arg(port)
                           .arg(name) +
                       idle("server") +
                       QStringLiteral("    option httpchk GET /readyz\n"
                                      "    http-check expect status 200\n");
                for (std::size_t i = 0; i < listeners.size(); ++i)
                    cfg += QStringLiteral("    server c%1 127.0.0.1:%2 check port %3\n")
                               .arg(i + 1)
                               .arg(listeners[i])
                               .arg(ports->collectors[i].first);
            };
            std::vector<quint16> grpcPorts;
            for (const auto &c : ports->collectors)
                grpcPorts.push_back(c.second);
            tcpToCollectors(QStringLiteral("otlp_grpc"), m_opt.otlpGrpcPort, grpcPorts, {});
            // Syslog connections live long: idle timeouts of an hour, like tunnels.
            tcpToCollectors(QStringLiteral("syslog_tcp"), m_opt.syslogTcpPort, ports->syslogTcp,
                            QStringLiteral("1h"));
            if (!ports->gateways.empty()) {
                cfg += QStringLiteral("frontend gateway_ws\n"
                                      "    bind 127.0.0.1:%1\n"
                                      "    default_backend gateways_ws\n"
                                      "backend gateways_ws\n"
                                      "    balance leastconn\n"
                                      "    option httpchk GET /readyz\n"
                                      "    http-check expect status 200\n")
                           .arg(m_gatewayPortUsed);
                for (std::size_t i = 0; i < ports->gateways.size(); ++i)
                    cfg += QStringLiteral("    server g%1 127.0.0.1:%2 check port %3\n")
                               .arg(i + 1)
                               .arg(ports->gateways[i].first)
                               .arg(ports->gateways[i].second);
                cfg += QStringLiteral("frontend gateway_http\n"
                                      "    bind 127.0.0.1:%1\n"
                                      "    default_backend gateways_http\n"
                                      "backend gateways_http\n"
                                      "    option httpchk GET /readyz\n"
                                      "    http-check expect status 200\n")
                           .arg(m_gatewayHttpPort);
                for (std::size_t i = 0; i < ports->gateways.size(); ++i)
                    cfg += QStringLiteral("    server g%1 127.0.0.1:%2 check\n")
                               .arg(i + 1)
                               .arg(ports->gateways[i].second);
            }
            QSaveFile f(cfgPath);
            if (!f.open(QIODevice::WriteOnly) || f.write(cfg.toUtf8()) < 0 || !f.commit())
                return makeError(ErrorCode::Internal, "cannot write " + cfgPath.toStdString());
            // -db: foreground, so the supervisor sees it exit and restarts it.
            return startService(QStringLiteral("haproxy"),
                                {QStringLiteral("-db"), QStringLiteral("-f"), cfgPath}, m_lbOpsPort,
                                haproxy, false);
        });
}

void Stack::checkPostgres()
{
    if (m_pgRebuildTask.valid()) {
        // A new standby is being made: nothing else to do for PostgreSQL until it is done (a
        // primary that dies meanwhile has no standby to promote; it is seen after).
        if (m_pgRebuildTask.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
            return;
        const Result<void> r = m_pgRebuildTask.get();
        m_pgStandby = std::move(m_pgRebuild);
        if (!r)
            jlog::error("cannot make the new standby",
                        {{"error", QString::fromStdString(r.error().message)}});
        else
            jlog::info("new standby follows the new primary",
                       {{"standby_port", m_pgStandby->port()}, {"primary_port", m_pg->port()}});
        if (auto w = writeStackJson(); !w)
            jlog::error("cannot rewrite stack.json",
                        {{"error", QString::fromStdString(w.error().message)}});
    }
    if (!m_supervising || !m_pg || !m_pgStandby ||
        QDateTime::currentMSecsSinceEpoch() < m_pgRetryAt)
        return;
    const auto restartInPlace = [this](std::unique_ptr<localcluster::PostgresServer> &server,
                                       const QString &role) {
        localcluster::PostgresOptions o;
        o.dataDir = server->dataDir();
        o.port = server->port();
        o.password = m_pgPassword;
        o.replicated = true;
        o.standbyOf = &server == &m_pgStandby ? m_pg->port() : 0; // used when its copy is gone
        server.reset();
        server = std::make_unique<localcluster::PostgresServer>(o);
        jlog::warn("PostgreSQL died, restarting it", {{"role", role}, {"port", o.port}});
        if (auto r = server->start(); !r) {
            // Back-off for a server that cannot start (the watch runs every second).
            ++m_pgFailures;
            const int delayMs = std::min(30'000, 1000 << std::min(m_pgFailures, 5));
            m_pgRetryAt = QDateTime::currentMSecsSinceEpoch() + delayMs;
            jlog::error("cannot restart PostgreSQL",
                        {{"role", role},
                         {"error", QString::fromStdString(r.error().message)},
                         {"retry_in_ms", delayMs}});
            return;
        }
        m_pgFailures = 0;
        if (auto r = writeStackJson(); !r)
            jlog::error("cannot rewrite stack.json",
                        {{"error", QString::fromStdString(r.error().message)}});
    };
    if (m_pg->postmasterAlive()) {
        if (!m_pgStandby->postmasterAlive())
            restartInPlace(m_pgStandby, QStringLiteral("standby"));
        return;
    }
    if (!m_pgStandby->postmasterAlive()) {
        // Both gone: the primary comes back in place (nothing to promote).
        restartInPlace(m_pg, QStringLiteral("primary"));
        return;
    }
    // The primary's postmaster is gone and the standby runs: promote it. Clients' multi-host
    // dsn (target_session_attrs=read-write) finds it when they reconnect.
    jlog::warn("PostgreSQL primary died, promoting the standby",
               {{"primary_port", m_pg->port()}, {"standby_port", m_pgStandby->port()}});
    if (auto r = m_pgStandby->promote(); !r) {
        jlog::error("cannot promote the standby; restarting the primary",
                    {{"error", QString::fromStdString(r.error().message)}});
        restartInPlace(m_pg, QStringLiteral("primary"));
        return;
    }
    ++m_failovers;
    std::swap(m_pg, m_pgStandby);
    jlog::info("standby promoted", {{"primary_port", m_pg->port()}, {"failovers", m_failovers}});
    if (auto r = writeStackJson(); !r)
        jlog::error("cannot rewrite stack.json",
                    {{"error", QString::fromStdString(r.error().message)}});
    // The old primary's copy may hold writes the standby never got: it is made again from the
    // new primary (pg_basebackup) and follows it as the new standby.
    localcluster::PostgresOptions o;
    o.dataDir = m_pgStandby->dataDir();
    o.port = m_pgStandby->port();
    o.password = m_pgPassword;
    o.replicated = true;
    o.standbyOf = m_pg->port();
    m_pgStandby.reset();
    if (auto r = writeStackJson(); !r) // the promoted primary alone, while the copy is made
        jlog::error("cannot rewrite stack.json",
                    {{"error", QString::fromStdString(r.error().message)}});
    // Made on a thread of its own (a pg_basebackup takes seconds, more for a big database):
    // the supervisor goes on restarting services meanwhile, and picks the result up above.
    m_pgRebuild = std::make_unique<localcluster::PostgresServer>(o);
    m_pgRebuildTask = std::async(std::launch::async, [server = m_pgRebuild.get(), dir = o.dataDir] {
        // A postmaster killed with -9 leaves backends that exit on their own within moments;
        // its folder is replaced only once none of them holds it.
        QDir(dir).removeRecursively();
        return server->start();
    });
}

void Stack::insertHaJson(QJsonObject &o) const
{
    o.insert(QStringLiteral("ha"), true);
    QJsonObject lb;
    lb.insert(QStringLiteral("collector_url"),
              QStringLiteral("http://127.0.0.1:%1").arg(m_opt.collectorPort));
    lb.insert(QStringLiteral("otlp_grpc"), QStringLiteral("127.0.0.1:%1").arg(m_opt.otlpGrpcPort));
    if (m_gatewayPortUsed) {
        lb.insert(QStringLiteral("gateway_url"),
                  QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_gatewayPortUsed));
        lb.insert(QStringLiteral("gateway_http_url"),
                  QStringLiteral("http://127.0.0.1:%1").arg(m_gatewayHttpPort));
    }
    lb.insert(QStringLiteral("readyz"),
              QStringLiteral("http://127.0.0.1:%1/readyz").arg(m_lbOpsPort));
    lb.insert(QStringLiteral("config"),
              QDir(m_opt.dataDir).absoluteFilePath(QStringLiteral("haproxy.cfg")));
    QJsonArray brokers;
    for (std::size_t i = 0; i < m_brokers.size(); ++i) {
        QJsonObject b;
        b.insert(QStringLiteral("node_id"), static_cast<int>(i + 1));
        b.insert(QStringLiteral("address"), m_brokers[i]->bootstrap());
        b.insert(QStringLiteral("pid"), m_brokers[i]->pid());
        b.insert(QStringLiteral("data_dir"), m_brokers[i]->dataDir());
        brokers.append(b);
    }
    QJsonArray pg;
    for (const auto *server : {m_pg.get(), m_pgStandby.get()}) {
        if (!server)
            continue;
        QJsonObject p;
        p.insert(QStringLiteral("role"),
                 server == m_pg.get() ? QStringLiteral("primary") : QStringLiteral("standby"));
        p.insert(QStringLiteral("port"), server->port());
        p.insert(QStringLiteral("pid"), server->pid());
        p.insert(QStringLiteral("data_dir"), server->dataDir());
        pg.append(p);
    }
    QJsonArray members;
    for (const auto &s : m_services) {
        QJsonObject m;
        m.insert(QStringLiteral("name"), s->name());
        m.insert(QStringLiteral("pid"), s->pid());
        m.insert(QStringLiteral("ops_url"),
                 QStringLiteral("http://127.0.0.1:%1").arg(s->opsPort()));
        if (auto it = m_memberUrls.find(s->opsPort()); it != m_memberUrls.end())
            m.insert(QStringLiteral("url"), it->second);
        members.append(m);
    }
    QJsonObject ha;
    ha.insert(QStringLiteral("load_balancer"), lb);
    ha.insert(QStringLiteral("kafka_brokers"), brokers);
    ha.insert(QStringLiteral("postgres"), pg);
    ha.insert(QStringLiteral("failovers"), m_failovers);
    ha.insert(QStringLiteral("members"), members);
    o.insert(QStringLiteral("ha_topology"), ha);
}

} // namespace idl::stack
