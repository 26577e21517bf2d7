#include "idl/localcluster/kafka_broker.h"

#include "idl/kafka/admin.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUuid>

#include <algorithm>

#ifndef _WIN32
#include <unistd.h>
#endif

namespace idl::localcluster {

namespace {

QString readTail(const QString &path, qint64 bytes = 3000)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    if (f.size() > bytes)
        f.seek(f.size() - bytes);
    return QString::fromUtf8(f.readAll()).trimmed();
}

Result<QString> findJava()
{
    if (const QString home = qEnvironmentVariable("JAVA_HOME"); !home.isEmpty()) {
        const QString java = home + QStringLiteral("/bin/java");
        if (QFileInfo(java).isExecutable())
            return java;
    }
    const QString java = QStandardPaths::findExecutable(QStringLiteral("java"));
    if (java.isEmpty())
        return makeError(ErrorCode::NotFound,
                         "java not found: install a Java 17+ runtime (scripts/bootstrap)");
    return java;
}

} // namespace

// A Kafka cluster id: 16 random bytes in URL-safe base64 without padding, never starting with
// '-' (what StorageTool random-uuid prints), without spending a JVM start on it.
QString KafkaBroker::newClusterId()
{
    for (;;) {
        const QString id = QString::fromLatin1(QUuid::createUuid().toRfc4122().toBase64(
            QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
        if (!id.startsWith(QLatin1Char('-')))
            return id;
    }
}

namespace {
KafkaOptions optionsFor(QString dataDir, quint16 brokerPort)
{
    KafkaOptions o;
    o.dataDir = std::move(dataDir);
    o.brokerPort = brokerPort;
    return o;
}
} // namespace

KafkaBroker::KafkaBroker(QString dataDir, quint16 brokerPort)
    : KafkaBroker(optionsFor(std::move(dataDir), brokerPort))
{}

KafkaBroker::KafkaBroker(KafkaOptions options) : m_opt(std::move(options))
{
    m_opt.dataDir = QDir(m_opt.dataDir).absolutePath();
}

KafkaBroker::~KafkaBroker()
{
    stop();
}

QString KafkaBroker::bootstrap() const
{
    return QStringLiteral("127.0.0.1:%1").arg(m_brokerPort);
}

qint64 KafkaBroker::pid() const
{
    return isRunning() ? m_process->processId() : 0;
}

bool KafkaBroker::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning &&
           !m_process->waitForFinished(0);
}

QString KafkaBroker::logTail() const
{
    return readTail(m_opt.dataDir + QStringLiteral("/server.log")) + QLatin1Char('\n') +
           readTail(m_opt.dataDir + QStringLiteral("/stdout.log"));
}

Result<void> KafkaBroker::choosePorts()
{
    if (m_reserved) {
        m_reserved = false; // used by this launch only: a restart checks its ports again
        return {};
    }
    quint16 previousBroker = 0;
    quint16 previousController = 0;
    if (QFile f(m_opt.dataDir + QStringLiteral("/server.properties"));
        f.open(QIODevice::ReadOnly)) {
        const QString text = QString::fromUtf8(f.readAll());
        static const QRegularExpression broker(
            QStringLiteral("^listeners=.*PLAINTEXT://[^:,]+:(\\d+)"),
            QRegularExpression::MultilineOption);
        static const QRegularExpression controller(
            QStringLiteral("^listeners=.*CONTROLLER://[^:,]+:(\\d+)"),
            QRegularExpression::MultilineOption);
        if (const auto m = broker.match(text); m.hasMatch())
            previousBroker = static_cast<quint16>(m.captured(1).toUInt());
        if (const auto m = controller.match(text); m.hasMatch())
            previousController = static_cast<quint16>(m.captured(1).toUInt());
    }
    const auto pick = [](quint16 wanted, quint16 previous, quint16 avoid) -> quint16 {
        if (wanted)
            return wanted;
        if (previous != avoid && isTcpPortFree(previous))
            return previous;
        for (int i = 0; i < 20; ++i) {
            if (const quint16 p = freeTcpPort(); p && p != avoid)
                return p;
        }
        return 0;
    };
    m_brokerPort = pick(m_opt.brokerPort, previousBroker, 0);
    m_controllerPort = pick(m_opt.controllerPort, previousController, m_brokerPort);
    if (!m_brokerPort || !m_controllerPort || m_brokerPort == m_controllerPort)
        return makeError(ErrorCode::Unavailable, "no free TCP ports for Kafka");
    return {};
}

Result<void> KafkaBroker::writeConfig() const
{
    const QString dir = m_opt.dataDir;
    const bool cluster = !m_opt.quorumVoters.isEmpty();
    const int rf = std::max(1, m_opt.replicationFactor);
    const int minIsr = std::max(1, m_opt.minInsyncReplicas);
    QString props =
        QStringLiteral("# Written by Instant Dev Logs on each start: %6.\n"
                       "process.roles=broker,controller\n"
                       "node.id=%7\n"
                       "%8\n"
                       "listeners=PLAINTEXT://127.0.0.1:%1,CONTROLLER://127.0.0.1:%2\n"
                       "advertised.listeners=PLAINTEXT://127.0.0.1:%1\n"
                       "controller.listener.names=CONTROLLER\n"
                       "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
                       "inter.broker.listener.name=PLAINTEXT\n"
                       "log.dirs=%3/data\n"
                       "num.partitions=%4\n"
                       "auto.create.topics.enable=%5\n")
            .arg(m_brokerPort)
            .arg(m_controllerPort)
            .arg(dir)
            .arg(m_opt.numPartitions)
            .arg(m_opt.autoCreateTopics ? QStringLiteral("true") : QStringLiteral("false"))
            .arg(cluster ? QStringLiteral("one node of a KRaft cluster")
                         : QStringLiteral("single-node KRaft"))
            .arg(m_opt.nodeId)
            .arg(cluster ? QStringLiteral("controller.quorum.voters=") + m_opt.quorumVoters
                         : QStringLiteral("controller.quorum.bootstrap.servers=127.0.0.1:%1")
                               .arg(m_controllerPort));
    props += QStringLiteral("offsets.topic.replication.factor=%1\n"
                            "offsets.topic.num.partitions=8\n"
                            "transaction.state.log.replication.factor=%1\n"
                            "transaction.state.log.min.isr=%2\n"
                            "transaction.state.log.num.partitions=8\n"
                            "share.coordinator.state.topic.replication.factor=%1\n"
                            "share.coordinator.state.topic.min.isr=%2\n"
                            "default.replication.factor=%1\n"
                            "min.insync.replicas=%2\n"
                            "group.initial.rebalance.delay.ms=0\n")
                 .arg(rf)
                 .arg(minIsr);
    if (cluster)
        // A node that died is fenced (its partitions get new leaders) after 6 s instead of 9.
        props += QStringLiteral("broker.session.timeout.ms=6000\n"
                                "broker.heartbeat.interval.ms=1500\n"
                                "unclean.leader.election.enable=false\n");
    const QString log4j = QStringLiteral("status = warn\n"
                                         "appender.file.type = File\n"
                                         "appender.file.name = FILE\n"
                                         "appender.file.fileName = %1/server.log\n"
                                         "appender.file.append = true\n"
                                         "appender.file.layout.type = PatternLayout\n"
                                         "appender.file.layout.pattern = [%d] %p %m (%c)%n\n"
                                         "rootLogger.level = INFO\n"
                                         "rootLogger.appenderRef.file.ref = FILE\n")
                              .arg(dir);
    for (const auto &[name, text] : {std::pair{QStringLiteral("server.properties"), props},
                                     std::pair{QStringLiteral("log4j2.properties"), log4j}}) {
        QFile f(dir + QLatin1Char('/') + name);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(text.toUtf8()) < 0)
            return makeError(ErrorCode::Unavailable, "cannot write " + f.fileName().toStdString());
    }
    return {};
}

Result<void> KafkaBroker::formatIfNeeded(const QString &java, const QString &libs)
{
    const QString dir = m_opt.dataDir;
    if (QFileInfo::exists(dir + QStringLiteral("/data/meta.properties")))
        return {};
    QProcess format;
    format.setProcessChannelMode(QProcess::MergedChannels);
    format.setStandardInputFile(QProcess::nullDevice());
    format.start(java,
                 QStringList{QStringLiteral("-Xmx256m"),
                             QStringLiteral("-Dlog4j2.configurationFile=") + dir +
                                 QStringLiteral("/log4j2.properties"),
                             QStringLiteral("-cp"), libs + QStringLiteral("/*"),
                             QStringLiteral("kafka.tools.StorageTool"), QStringLiteral("format")} +
                     (m_opt.quorumVoters.isEmpty() ? QStringList{QStringLiteral("--standalone")}
                                                   : QStringList{}) +
                     QStringList{QStringLiteral("-t"),
                                 m_opt.clusterId.isEmpty() ? newClusterId() : m_opt.clusterId,
                                 QStringLiteral("-c"), dir + QStringLiteral("/server.properties")});
    const bool finished = format.waitForFinished(180'000);
    const QString output = QString::fromUtf8(format.readAll()).trimmed();
    if (!finished || format.exitStatus() != QProcess::NormalExit || format.exitCode() != 0) {
        format.kill();
        format.waitForFinished(5000);
        return makeError(ErrorCode::Unavailable,
                         "kafka storage format failed: " + output.toStdString());
    }
    return {};
}

Result<void> KafkaBroker::start()
{
    if (isRunning())
        return {};
    if (auto r = launch(); !r)
        return r;
    return waitReady(m_opt.startTimeoutSeconds);
}

Result<void> KafkaBroker::launch()
{
    if (isRunning())
        return {};
    auto libs = kafkaLibsDir();
    if (!libs)
        return libs.error();
    auto java = findJava();
    if (!java)
        return java.error();
    const QString dir = m_opt.dataDir;
    if (!QDir().mkpath(dir))
        return makeError(ErrorCode::Unavailable, "cannot create " + dir.toStdString());
    if (auto r = choosePorts(); !r)
        return r;
    if (auto r = writeConfig(); !r)
        return r;
    if (auto r = formatIfNeeded(*java, *libs); !r)
        return r;

    const QString heap = m_opt.heap;
    const QString minHeap = heap == QStringLiteral("512m") ? QStringLiteral("256m") : heap;
    const QString properties = dir + QStringLiteral("/server.properties");
    m_process = std::make_unique<QProcess>();
    m_process->setProgram(*java);
    m_process->setArguments(QStringList{QStringLiteral("-Xmx") + heap,
                                        QStringLiteral("-Xms") + minHeap,
                                        QStringLiteral("-XX:+ExitOnOutOfMemoryError"),
                                        QStringLiteral("-Djava.awt.headless=true")} +
                            m_opt.jvmOptions +
                            QStringList{QStringLiteral("-Dlog4j2.configurationFile=") + dir +
                                            QStringLiteral("/log4j2.properties"),
                                        QStringLiteral("-cp"), *libs + QStringLiteral("/*"),
                                        QStringLiteral("kafka.Kafka"), properties});
    m_process->setStandardInputFile(QProcess::nullDevice());
    m_process->setStandardOutputFile(dir + QStringLiteral("/stdout.log"), QIODevice::Append);
    m_process->setStandardErrorFile(dir + QStringLiteral("/stdout.log"), QIODevice::Append);
#ifndef _WIN32
    // Own session: a Ctrl+C meant for the owner does not reach the JVM; the owner stops it.
    m_process->setChildProcessModifier([] { ::setsid(); });
#endif
    m_process->start();
    if (!m_process->waitForStarted(30'000)) {
        const std::string why = m_process->errorString().toStdString();
        m_process.reset();
        return makeError(ErrorCode::Unavailable, "cannot start java: " + why);
    }
    const qint64 javaPid = m_process->processId();
    QString script = QStringLiteral("d=%1\np=%2\n"
                                    "if grep -qasF -- \"$d/server.properties\" /proc/$p/cmdline; "
                                    "then kill -KILL \"$p\"; fi\n")
                         .arg(shellQuote(dir))
                         .arg(javaPid);
    if (m_opt.removeDataWhenOwnerDies)
        script += QStringLiteral("sleep 0.5; rm -rf \"$d\"\n");
    if (auto r = m_watchdog.arm(script); !r) {
        kill();
        return r;
    }
    return {};
}

Result<void> KafkaBroker::waitReady(int timeoutSeconds)
{
    if (!m_process)
        return makeError(ErrorCode::Unavailable, "Kafka broker not launched");
    auto admin = kafka::Admin::create({{"bootstrap.servers", bootstrap().toStdString()},
                                       {"log_level", "0"},
                                       {"reconnect.backoff.max.ms", "500"}});
    if (!admin) {
        stop();
        return admin.error();
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!isRunning()) {
            const int code = m_process ? m_process->exitCode() : -1;
            m_process.reset();
            m_watchdog.disarm();
            return makeError(ErrorCode::Unavailable, "Kafka broker exited during start (code " +
                                                         std::to_string(code) + "):\n" +
                                                         logTail().toStdString());
        }
        if ((*admin)->waitForMetadata(std::chrono::milliseconds(1000)))
            return {};
    }
    const std::string tail = logTail().toStdString();
    stop();
    return makeError(ErrorCode::Timeout, "Kafka broker did not answer within " +
                                             std::to_string(timeoutSeconds) + " s:\n" + tail);
}

void KafkaBroker::stop(std::chrono::milliseconds grace)
{
    if (m_process) {
        if (isRunning()) {
            m_process->terminate();
            if (!m_process->waitForFinished(static_cast<int>(grace.count()))) {
                m_process->kill();
                m_process->waitForFinished(10'000);
            }
        }
        m_process.reset();
    }
    m_watchdog.disarm();
}

void KafkaBroker::kill()
{
    if (m_process) {
        m_process->kill();
        m_process->waitForFinished(10'000);
        m_process.reset();
    }
    m_watchdog.disarm();
}

Result<void> KafkaBroker::restart()
{
    stop();
    return start();
}

Result<void> KafkaBroker::createTopics(const QStringList &names, int partitions,
                                       int replicationFactor)
{
    auto admin = kafka::Admin::create({{"bootstrap.servers", bootstrap().toStdString()}});
    if (!admin)
        return admin.error();
    std::vector<std::string> topics;
    for (const QString &n : names)
        topics.push_back(n.toStdString());
    return (*admin)->createTopics(topics, partitions > 0 ? partitions : m_opt.numPartitions,
                                  replicationFactor);
}

} // namespace idl::localcluster
