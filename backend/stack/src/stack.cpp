#include "idl/stack/stack.h"

#include "idl/service/lifecycle.h"

#include "idl/kafka/admin.h"
#include "idl/localcluster/kafka_broker.h"
#include "idl/localcluster/postgres_server.h"
#include "idl/localcluster/process_util.h"
#include "idl/observability/json_log.h"
#include "idl/service/auth/secret.h"
#include "idl/stack/demo_traffic.h"
#include "idl/stack/service_process.h"
#include "self_signed.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSaveFile>
#include <QTcpServer>
#include <QThread>
#include <QTimer>
#include <QUdpSocket>

#include <algorithm>
#include <csignal>
#ifndef _WIN32
#include <sys/types.h>
#include <unistd.h>
#endif
#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace idl::stack {

namespace {

constexpr int kReadyTimeoutMs = 60'000;

Result<void> writeFilePrivate(const QString &path, const QByteArray &data)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return makeError(ErrorCode::Internal, "cannot write " + path.toStdString());
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(data);
    if (!f.commit())
        return makeError(ErrorCode::Internal, "cannot write " + path.toStdString());
    return {};
}

using localcluster::processAlive;

} // namespace

Stack::Stack(StackOptions options, QObject *parent) : QObject(parent), m_opt(std::move(options)) {}

Stack::~Stack()
{
    down();
}

QString Stack::bin(const QString &name) const
{
    const QString path = QDir(m_opt.binDir).filePath(name);
    return QFileInfo(path).isExecutable() ? path : QString();
}

QString Stack::postgresPassword()
{
    // Made once per data folder and kept in secrets.json (0600) with the other secrets.
    const QString path = QDir(m_opt.dataDir).filePath(QStringLiteral("secrets.json"));
    if (QFile f(path); f.open(QIODevice::ReadOnly))
        m_pgPassword = QJsonDocument::fromJson(f.readAll())
                           .object()
                           .value(QStringLiteral("postgres_password"))
                           .toString();
    if (m_pgPassword.isEmpty())
        m_pgPassword = QString::fromStdString(auth::randomText(32, auth::kLowerHex));
    return m_pgPassword;
}

QProcessEnvironment Stack::secretEnvironment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("IDL_PG_DSN"), serviceDsn());
    // --ha: the gateways' read-only requests prefer the hot standby (pg.read-dsn).
    if (m_opt.ha && m_pgPorts.size() > 1)
        env.insert(QStringLiteral("IDL_PG_READ_DSN"),
                   serviceDsn().replace(QStringLiteral("target_session_attrs=read-write"),
                                        QStringLiteral("target_session_attrs=prefer-standby")));
    if (!m_metricsToken.isEmpty())
        env.insert(QStringLiteral("IDL_METRICS_TOKEN"), m_metricsToken);
    return env;
}

Result<QString> Stack::runAdmin(const QStringList &args) const
{
    const QString admin = bin(QStringLiteral("idl-admin"));
    if (admin.isEmpty())
        return makeError(ErrorCode::NotFound, "idl-admin not built");
    QProcess p;
    p.setProgram(admin);
    p.setArguments(args);
    p.setProcessEnvironment(secretEnvironment());
    p.start();
    if (!p.waitForFinished(60'000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return makeError(ErrorCode::Internal,
                         "idl-admin " + args.join(u' ').toStdString() +
                             " failed: " + p.readAllStandardError().toStdString());
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
}

Result<void> Stack::ensureCredentials()
{
    // Secrets are made once per data folder and kept there (0600); the database holds only
    // their hashes. A second start reuses them so profiles and scripts keep working.
    const QString path = QDir(m_opt.dataDir).filePath(QStringLiteral("secrets.json"));
    QJsonObject secrets;
    if (QFile f(path); f.open(QIODevice::ReadOnly))
        secrets = QJsonDocument::fromJson(f.readAll()).object();
    m_ingestKey = secrets.value(QStringLiteral("ingest_api_key")).toString();
    m_adminToken = secrets.value(QStringLiteral("admin_token")).toString();
    m_metricsToken = secrets.value(QStringLiteral("metrics_token")).toString();
    if (m_metricsToken.isEmpty())
        m_metricsToken = QString::fromStdString(auth::randomText(48, auth::kLowerHex)); // 192 bits
    if (m_ingestKey.isEmpty()) {
        auto key = runAdmin({QStringLiteral("keys"), QStringLiteral("create"),
                             QStringLiteral("--name"), QStringLiteral("idl-stack")});
        if (!key)
            return key.error();
        m_ingestKey = key->split(u'\n').last().trimmed();
    }
    if (m_adminToken.isEmpty() && !bin(QStringLiteral("idl-gateway")).isEmpty()) {
        auto token = runAdmin({QStringLiteral("tokens"), QStringLiteral("create"),
                               QStringLiteral("--name"), QStringLiteral("idl-stack-admin"),
                               QStringLiteral("--role"), QStringLiteral("admin")});
        if (!token)
            return token.error();
        m_adminToken = token->split(u'\n').last().trimmed();
    }
    secrets.insert(QStringLiteral("ingest_api_key"), m_ingestKey);
    secrets.insert(QStringLiteral("admin_token"), m_adminToken);
    secrets.insert(QStringLiteral("metrics_token"), m_metricsToken);
    secrets.insert(QStringLiteral("postgres_password"), m_pgPassword);
    return writeFilePrivate(path, QJsonDocument(secrets).toJson());
}

void Stack::addService(const QString &name, std::function<QStringList()> args, quint16 opsPort,
                       const QString &url)
{
    if (!url.isEmpty())
        m_memberUrls[opsPort] = url;
    addServicePart(name, [this, name, args = std::move(args), opsPort] {
        return startService(name, args(), opsPort);
    });
}

void Stack::addServicePart(const QString &name, std::function<Result<ServiceProcess *>()> start)
{
    auto started = std::make_shared<ServiceProcess *>(nullptr);
    m_life->add(
        name.toStdString(),
        [start = std::move(start), started]() -> Result<void> {
            auto svc = start();
            if (!svc)
                return svc.error();
            *started = *svc;
            return {};
        },
        [this, started] {
            if (!*started)
                return;
            (*started)->stop();
            m_crashStreak.erase(*started);
            std::erase_if(m_services, [&](const auto &p) { return p.get() == *started; });
        });
}

Result<ServiceProcess *> Stack::startService(const QString &name, QStringList args, quint16 opsPort,
                                             const QString &programPath, bool secrets)
{
    const QString program = programPath.isEmpty() ? bin(name) : programPath;
    if (program.isEmpty()) {
        jlog::info("service not built, skipped", {{"service", name}});
        return static_cast<ServiceProcess *>(nullptr);
    }
    auto svc = std::make_unique<ServiceProcess>(
        name, program, args, opsPort,
        QDir(m_opt.dataDir).filePath(QStringLiteral("logs/") + name + QStringLiteral(".log")));
    if (secrets)
        svc->setSecretEnvironment(secretEnvironment());
    connect(svc.get(), &ServiceProcess::exitedUnexpectedly, this,
            [this, s = svc.get()](const QString &n, int) {
                Q_EMIT serviceFailed(n);
                scheduleRestart(s);
            });
    jlog::info("starting service", {{"service", name}});
    if (auto r = svc->start(kReadyTimeoutMs); !r)
        return r.error();
    m_services.push_back(std::move(svc));
    return m_services.back().get();
}

Result<void> Stack::up()
{
    QDir dir(m_opt.dataDir);
    if (!dir.mkpath(QStringLiteral("logs")))
        return makeError(ErrorCode::Internal, "cannot create " + m_opt.dataDir.toStdString());
    const QString pidFile = dir.filePath(QStringLiteral("stack.pid"));
    if (QFile f(pidFile); f.open(QIODevice::ReadOnly)) {
        const qint64 other = f.readAll().trimmed().toLongLong();
#ifndef _WIN32
        if (processAlive(other))
            return makeError(ErrorCode::Conflict,
                             "a stack is already running in " + m_opt.dataDir.toStdString() +
                                 " (pid " + std::to_string(other) + "); use `idl-stack down`");
#endif
    }
    if (auto r = writeFilePrivate(pidFile, QByteArray::number(QCoreApplication::applicationPid()));
        !r)
        return r;
    QFile::remove(dir.filePath(QStringLiteral("stack.json")));
    if (QFile marker(dir.filePath(QStringLiteral(".starting"))); marker.open(QIODevice::WriteOnly))
        marker.write(QByteArray::number(QCoreApplication::applicationPid()));
    m_up = true;

    // Every part is started in order and stopped in reverse order by the one Lifecycle; a part
    // that fails to start stops the ones already started.
    m_life = std::make_unique<service::Lifecycle>();
    if (m_opt.ha) {
        addHaDatabaseAndKafka(dir.absolutePath());
    } else {
        m_life->add(
            "postgres",
            [this, dir]() -> Result<void> {
                localcluster::PostgresOptions po;
                po.dataDir = dir.filePath(QStringLiteral("postgres"));
                po.port = m_opt.postgresPort;
                po.password = postgresPassword();
                m_pg = std::make_unique<localcluster::PostgresServer>(po);
                jlog::info("starting PostgreSQL");
                return m_pg->start();
            },
            [this] { m_pg->stop(); });
        m_life->add(
            "kafka",
            [this, dir]() -> Result<void> {
                m_brokers.push_back(std::make_unique<localcluster::KafkaBroker>(
                    dir.filePath(QStringLiteral("kafka")), m_opt.kafkaPort));
                jlog::info("starting Kafka");
                return m_brokers.front()->start();
            },
            [this] {
                for (auto &b : m_brokers)
                    b->stop();
            });
    }
    m_life->add(
        "topics, schema and credentials",
        [this]() -> Result<void> {
            const std::vector<std::string> topics{"idl.logs.raw", "idl.logs.events",
                                                  "idl.logs.retry", "idl.logs.dlq"};
            auto admin =
                kafka::Admin::create({{"bootstrap.servers", kafkaBootstrap().toStdString()}});
            if (!admin)
                return admin.error();
            // --ha: three copies of every partition; with the brokers'
            // min.insync.replicas=2 an acks=all write survives one broker's loss.
            if (auto r = (*admin)->createTopics(topics, m_opt.partitions, m_opt.ha ? 3 : 1); !r)
                return r;
            if (auto r = (*admin)->waitForTopics(topics, std::chrono::seconds(30)); !r)
                return r;
            if (!bin(QStringLiteral("idl-admin")).isEmpty())
                if (auto r = runAdmin({QStringLiteral("migrate")}); !r)
                    return r.error();
            return ensureCredentials();
        },
        {});

    const auto freePort = [] { return localcluster::freeTcpPort(); };
    const quint16 collectorPort =
        m_opt.collectorPort ? m_opt.collectorPort : (m_opt.ha ? 0 : freePort());
    // Known once PostgreSQL and Kafka run.
    const auto common = [this] {
        return QStringList{QStringLiteral("--kafka.bootstrap"), kafkaBootstrap()};
    };
    const auto withOps = [common](quint16 ops, QStringList more = {}) {
        return [common, ops, more] {
            return common() + QStringList{QStringLiteral("--http.port"), QString::number(ops)} +
                   more;
        };
    };

    if (m_opt.ha) {
        addHaServices();
    } else {
        // Order matters: consumers before producers, so demo traffic flows end to end at once.
        const quint16 writerOps = freePort();
        addService(QStringLiteral("idl-writer"), withOps(writerOps), writerOps);
        for (int i = 0; i < 2; ++i) {
            const quint16 ops = freePort();
            addService(
                QStringLiteral("idl-processor"),
                withOps(ops, {QStringLiteral("--instance.id"), QStringLiteral("p%1").arg(i)}), ops);
        }
        if (!bin(QStringLiteral("idl-alerter")).isEmpty()) {
            // Alert rules on the logs (docs/alerts.md); PostgreSQL only, no Kafka.
            const quint16 alerterOps = freePort();
            addService(
                QStringLiteral("idl-alerter"),
                [alerterOps] {
                    return QStringList{QStringLiteral("--http.port"), QString::number(alerterOps)};
                },
                alerterOps);
        }
        if (!bin(QStringLiteral("idl-gateway")).isEmpty()) {
            m_gatewayPortUsed = m_opt.gatewayPort ? m_opt.gatewayPort : freePort();
            m_gatewayHttpPort = freePort();
            addService(QStringLiteral("idl-gateway"),
                       withOps(m_gatewayHttpPort,
                               {QStringLiteral("--ws.port"), QString::number(m_gatewayPortUsed)}),
                       m_gatewayHttpPort);
        }
        // Syslog listeners (docs/ingest.md): TCP, TLS with the stack's self-signed certificate,
        // UDP; ports that are taken (e.g. by a second stack) fall back to free ones (so does
        // OTLP/gRPC's).
        const auto portOr = [](quint16 wanted, bool udp) {
            if (wanted && (udp ? QUdpSocket().bind(QHostAddress::LocalHost, wanted)
                               : localcluster::isTcpPortFree(wanted)))
                return wanted;
            return localcluster::freeTcpPort();
        };
        m_opt.syslogTcpPort = portOr(m_opt.syslogTcpPort, false);
        m_opt.syslogTlsPort = portOr(m_opt.syslogTlsPort, false);
        m_opt.syslogUdpPort = portOr(m_opt.syslogUdpPort, true);
        const QString tlsDir = dir.filePath(QStringLiteral("tls"));
        m_syslog = dir.mkpath(QStringLiteral("tls")) &&
                   ensureSelfSignedCertificate(tlsDir + QStringLiteral("/syslog.crt"),
                                               tlsDir + QStringLiteral("/syslog.key"))
                       .ok();
        if (!m_syslog)
            jlog::warn("no syslog certificate: the collector runs without syslog listeners");
        // OTLP/gRPC: the usual 4317 unless something else (an OpenTelemetry Collector) has it.
        const quint16 grpcPort = portOr(m_opt.otlpGrpcPort, false);
        QStringList collectorArgs{QStringLiteral("--http.address"), QStringLiteral("127.0.0.1"),
                                  QStringLiteral("--otlp.grpc-port"), QString::number(grpcPort)};
        if (m_syslog)
            collectorArgs << QStringLiteral("--syslog.listeners")
                          << QStringLiteral("tcp:%1=%4,tls:%2=%4,udp:%3=%4")
                                 .arg(m_opt.syslogTcpPort)
                                 .arg(m_opt.syslogTlsPort)
                                 .arg(m_opt.syslogUdpPort)
                                 .arg(m_opt.syslogApp)
                          << QStringLiteral("--syslog.tls-cert")
                          << tlsDir + QStringLiteral("/syslog.crt")
                          << QStringLiteral("--syslog.tls-key")
                          << tlsDir + QStringLiteral("/syslog.key");
        addService(QStringLiteral("idl-collector"), withOps(collectorPort, collectorArgs),
                   collectorPort);
        m_opt.collectorPort = collectorPort;
        m_opt.otlpGrpcPort = grpcPort;
    }

    if (m_opt.demo && !bin(QStringLiteral("idl-collector")).isEmpty())
        m_life->add(
            "demo traffic",
            [this]() -> Result<void> {
                // the collector, or (--ha) HAProxy in front of both
                const quint16 port = m_opt.collectorPort;
                if (!startDemoLoadgen(port)) {
                    m_demo = std::make_unique<DemoTraffic>(
                        QUrl(QStringLiteral("http://127.0.0.1:%1/api/v1/logs").arg(port)),
                        m_ingestKey.toUtf8(), m_opt.demoRate);
                    m_demo->start();
                }
                return {};
            },
            [this] {
                if (m_demo)
                    m_demo->stop();
                m_demo.reset();
                if (m_demoLoadgen) {
                    m_demoLoadgen->terminate();
                    if (!m_demoLoadgen->waitForFinished(10'000))
                        m_demoLoadgen->kill();
                    m_demoLoadgen->waitForFinished(5'000);
                    m_demoLoadgen.reset();
                }
            });
    m_life->add(
        "stack.json", [this] { return writeStackJson(); },
        [dir] { QFile::remove(dir.filePath(QStringLiteral("stack.json"))); });
    if (auto r = m_life->startAll(); !r)
        return r;
    QFile::remove(dir.filePath(QStringLiteral(".starting")));
    if (m_opt.restart) {
        m_supervising = true;
        m_kafkaWatch = new QTimer(this);
        connect(m_kafkaWatch, &QTimer::timeout, this, &Stack::checkKafka);
        m_kafkaWatch->start(1000);
        if (m_opt.ha) {
            m_pgWatch = new QTimer(this);
            connect(m_pgWatch, &QTimer::timeout, this, &Stack::checkPostgres);
            m_pgWatch->start(1000);
        }
    }
    return {};
}

void Stack::scheduleRestart(ServiceProcess *service)
{
    if (!m_supervising)
        return;
    // A service that ran for 30 s is restarted at once (after 200 ms); one that keeps dying
    // waits twice as long each time, up to 30 s.
    int &streak = m_crashStreak[service];
    if (service->uptimeMs() >= 30'000)
        streak = 0;
    const int delayMs = std::min(30'000, 200 << std::min(streak, 8));
    ++streak;
    jlog::warn("service died, restarting it",
               {{"service", service->name()}, {"delay_ms", delayMs}, {"restarts", streak}});
    QTimer::singleShot(delayMs, this, [this, service] {
        const bool known = std::any_of(m_services.begin(), m_services.end(),
                                       [&](const auto &p) { return p.get() == service; });
        if (!m_supervising || !known || service->running())
            return;
        if (auto r = service->launch(); !r) {
            jlog::error("cannot restart service",
                        {{"service", service->name()},
                         {"error", QString::fromStdString(r.error().message)}});
            scheduleRestart(service);
            return;
        }
        jlog::info("service restarted", {{"service", service->name()}, {"pid", service->pid()}});
        if (auto r = writeStackJson(); !r)
            jlog::error("cannot rewrite stack.json",
                        {{"error", QString::fromStdString(r.error().message)}});
    });
}

void Stack::checkKafka()
{
    if (!m_supervising || QDateTime::currentMSecsSinceEpoch() < m_kafkaRetryAt)
        return;
    for (std::size_t i = 0; i < m_brokers.size(); ++i) {
        auto &broker = m_brokers[i];
        if (broker->isRunning())
            continue;
        // The same ports (every service's bootstrap.servers names them), node id and quorum.
        localcluster::KafkaOptions ko =
            i < m_brokerOptions.size() ? m_brokerOptions[i] : localcluster::KafkaOptions{};
        ko.dataDir = broker->dataDir();
        ko.brokerPort = broker->port();
        ko.controllerPort = broker->controllerPort();
        // After a crash the broker first recovers its logs, which takes minutes on a busy
        // machine; stopping it at a short timeout only makes the next start recover again (a
        // loop seen with 60 s under load: five starts, 5.5 minutes). A single broker is
        // waited for (blocked); a cluster member is launched and watched (the others serve).
        ko.startTimeoutSeconds = 300;
        jlog::warn("Kafka broker died, restarting it", {{"port", ko.brokerPort}});
        broker = std::make_unique<localcluster::KafkaBroker>(ko);
        if (auto r = m_opt.ha ? broker->launch() : broker->start(); !r) {
            ++m_kafkaFailures;
            const int delayMs = std::min(30'000, 1000 << std::min(m_kafkaFailures, 5));
            m_kafkaRetryAt = QDateTime::currentMSecsSinceEpoch() + delayMs;
            jlog::error(
                "cannot restart the Kafka broker",
                {{"error", QString::fromStdString(r.error().message)}, {"retry_in_ms", delayMs}});
            return;
        }
        m_kafkaFailures = 0;
        jlog::info("Kafka broker restarted", {{"port", ko.brokerPort}, {"pid", broker->pid()}});
        if (auto r = writeStackJson(); !r)
            jlog::error("cannot rewrite stack.json",
                        {{"error", QString::fromStdString(r.error().message)}});
    }
}

QString Stack::kafkaBootstrap() const
{
    QStringList list;
    for (const auto &b : m_brokers)
        list << b->bootstrap();
    return list.join(u',');
}

QString Stack::serviceDsn() const
{
    return m_opt.ha && m_pgPorts.size() > 1 ? m_pg->multiHostDsn(m_pgPorts) : m_pg->dsn();
}

bool Stack::startDemoLoadgen(quint16 collectorPort)
{
    // idl-loadgen (backend/loadgen) is the demo source when it is built; the small built-in
    // generator (DemoTraffic) is the fallback.
    const QString program = bin(QStringLiteral("idl-loadgen"));
    if (program.isEmpty())
        return false;
    auto p = std::make_unique<QProcess>();
    p->setProgram(program);
    p->setArguments(
        {QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:%1").arg(collectorPort),
         QStringLiteral("--rate"), QString::number(m_opt.demoRate), QStringLiteral("--duration"),
         QStringLiteral("0"), QStringLiteral("--batch"),
         QString::number(std::max(1, m_opt.demoRate / 4)), QStringLiteral("--connections"),
         QStringLiteral("1"), QStringLiteral("--payload-bytes"), QStringLiteral("32"),
         QStringLiteral("--generator"),
         QStringLiteral("demo-%1").arg(QCoreApplication::applicationPid())});
    // The key goes through the environment, not the command line (visible in ps).
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("IDL_KEY"), m_ingestKey);
    p->setProcessEnvironment(env);
    p->setProcessChannelMode(QProcess::MergedChannels);
    p->setStandardOutputFile(QDir(m_opt.dataDir).filePath(QStringLiteral("logs/idl-loadgen.log")),
                             QIODevice::Append);
#ifdef __linux__
    p->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#endif
    p->start();
    if (!p->waitForStarted(10'000)) {
        jlog::warn("idl-loadgen did not start; using the built-in demo traffic");
        return false;
    }
    jlog::info("demo traffic from idl-loadgen", {{"rate", m_opt.demoRate}});
    m_demoLoadgen = std::move(p);
    return true;
}

Result<void> Stack::writeStackJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("version"), 1);
    o.insert(QStringLiteral("name"), QStringLiteral("local"));
    o.insert(QStringLiteral("collector_url"),
             QStringLiteral("http://127.0.0.1:%1").arg(m_opt.collectorPort));
    o.insert(QStringLiteral("otlp_grpc"), QStringLiteral("127.0.0.1:%1").arg(m_opt.otlpGrpcPort));
    o.insert(QStringLiteral("gateway_url"),
             m_gatewayPortUsed ? QStringLiteral("ws://127.0.0.1:%1/ws").arg(m_gatewayPortUsed)
                               : QString());
    o.insert(QStringLiteral("gateway_http_url"),
             m_gatewayHttpPort ? QStringLiteral("http://127.0.0.1:%1").arg(m_gatewayHttpPort)
                               : QString());
    if (m_syslog) {
        // host:port and the app each syslog listener maps its messages to.
        const auto listener = [this](quint16 port) {
            QJsonObject l;
            l.insert(QStringLiteral("address"), QStringLiteral("127.0.0.1:%1").arg(port));
            l.insert(QStringLiteral("app"), m_opt.syslogApp);
            return l;
        };
        o.insert(QStringLiteral("syslog_tcp"), listener(m_opt.syslogTcpPort));
        QJsonObject tls = listener(m_opt.syslogTlsPort);
        tls.insert(QStringLiteral("ca_file"),
                   QDir(m_opt.dataDir).absoluteFilePath(QStringLiteral("tls/syslog.crt")));
        o.insert(QStringLiteral("syslog_tls"), tls);
        o.insert(QStringLiteral("syslog_udp"), listener(m_opt.syslogUdpPort));
    } else if (m_syslogTcpHa) {
        o.insert(QStringLiteral("syslog_tcp"),
                 QJsonObject{{QStringLiteral("address"),
                              QStringLiteral("127.0.0.1:%1").arg(m_opt.syslogTcpPort)},
                             {QStringLiteral("app"), m_opt.syslogApp}});
    }
    o.insert(QStringLiteral("ingest_api_key"), m_ingestKey);
    o.insert(QStringLiteral("admin_token"), m_adminToken);
    o.insert(QStringLiteral("metrics_token"), m_metricsToken);
    o.insert(QStringLiteral("postgres_dsn"), serviceDsn());
    o.insert(QStringLiteral("kafka_bootstrap"), kafkaBootstrap());
    o.insert(QStringLiteral("kafka_pid"), m_brokers.empty() ? 0 : m_brokers.front()->pid());
    o.insert(QStringLiteral("data_dir"), QDir(m_opt.dataDir).absolutePath());
    o.insert(QStringLiteral("pid"), QCoreApplication::applicationPid());
    QJsonObject services;
    for (const auto &s : m_services)
        services.insert(s->name() + QStringLiteral("#%1").arg(s->pid()), s->pid());
    o.insert(QStringLiteral("services"), services);
    if (m_opt.ha)
        insertHaJson(o);
    o.insert(QStringLiteral("demo"), m_opt.demo);
    return writeFilePrivate(QDir(m_opt.dataDir).filePath(QStringLiteral("stack.json")),
                            QJsonDocument(o).toJson());
}

QString Stack::summary() const
{
    QString s;
    s += QStringLiteral("Instant Dev Logs local stack is up (data: %1)\n").arg(m_opt.dataDir);
    s += QStringLiteral("  PostgreSQL   %1\n").arg(m_pg ? m_pg->dsn() : QString());
    s += QStringLiteral("  Kafka        %1\n").arg(kafkaBootstrap());
    if (m_pgStandby)
        s += QStringLiteral("  standby      PostgreSQL on port %1 (promoted if the primary dies)\n")
                 .arg(m_pgStandby->port());
    for (const auto &svc : m_services)
        s += QStringLiteral("  %1 pid %2\n").arg(svc->name(), -14).arg(svc->pid());
    s +=
        QStringLiteral("  collector    http://127.0.0.1:%1/api/v1/logs\n").arg(m_opt.collectorPort);
    s += QStringLiteral("  OTLP         http://127.0.0.1:%1/v1/logs, gRPC 127.0.0.1:%2\n")
             .arg(m_opt.collectorPort)
             .arg(m_opt.otlpGrpcPort);
    if (m_gatewayPortUsed)
        s += QStringLiteral("  gateway      ws://127.0.0.1:%1/ws\n").arg(m_gatewayPortUsed);
    if (m_syslog)
        s += QStringLiteral("  syslog       tcp 127.0.0.1:%1, tls 127.0.0.1:%2, udp 127.0.0.1:%3 "
                            "(app %4)\n")
                 .arg(m_opt.syslogTcpPort)
                 .arg(m_opt.syslogTlsPort)
                 .arg(m_opt.syslogUdpPort)
                 .arg(m_opt.syslogApp);
    else if (m_syslogTcpHa)
        s += QStringLiteral("  syslog       tcp 127.0.0.1:%1 (app %2)\n")
                 .arg(m_opt.syslogTcpPort)
                 .arg(m_opt.syslogApp);
    s += QStringLiteral("  credentials  %1/stack.json\n").arg(m_opt.dataDir);
    if (m_demo || m_demoLoadgen)
        s += QStringLiteral("  demo traffic %1 events/s (%2)\n")
                 .arg(m_opt.demoRate)
                 .arg(m_demoLoadgen ? QStringLiteral("idl-loadgen") : QStringLiteral("built-in"));
    s += QStringLiteral("Ctrl-C or `idl-stack down --data-dir %1` stops it.\n").arg(m_opt.dataDir);
    return s;
}

void Stack::down()
{
    if (!m_up)
        return;
    m_up = false;
    m_supervising = false;
    if (m_kafkaWatch)
        m_kafkaWatch->stop();
    if (m_pgWatch)
        m_pgWatch->stop();
    if (m_life)
        m_life->stopAll(); // every part that started, in reverse order
    QDir dir(m_opt.dataDir);
    QFile::remove(dir.filePath(QStringLiteral("stack.json")));
    QFile::remove(dir.filePath(QStringLiteral("stack.pid")));
    QFile::remove(dir.filePath(QStringLiteral(".starting")));
    jlog::info("stack stopped");
}

Result<void> Stack::stopRunning(const QString &dataDir, int timeoutMs)
{
    QFile f(QDir(dataDir).filePath(QStringLiteral("stack.pid")));
    if (!f.open(QIODevice::ReadOnly))
        return makeError(ErrorCode::NotFound, "no stack is running in " + dataDir.toStdString());
    const qint64 pid = f.readAll().trimmed().toLongLong();
#ifndef _WIN32
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), SIGTERM) != 0)
        return makeError(ErrorCode::NotFound, "no stack is running in " + dataDir.toStdString());
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (!processAlive(pid))
            return {};
        QThread::msleep(100);
    }
    return makeError(ErrorCode::Timeout,
                     "stack (pid " + std::to_string(pid) + ") did not stop in time");
#else
    Q_UNUSED(pid);
    Q_UNUSED(timeoutMs);
    return makeError(ErrorCode::Internal, "idl-stack down is not supported on this platform");
#endif
}

} // namespace idl::stack
