// idl-stack: runs a whole local cluster in the foreground, or stops a running one.
#include "idl/core/config.h"
#include "idl/observability/json_log.h"
#include "idl/service/lifecycle.h"
#include "idl/service/run_main.h"
#include "idl/stack/stack.h"

#include <QCoreApplication>
#include <QDir>
#include <QStandardPaths>
#include <QTextStream>
#include <QTimer>

#include <cstdio>
#ifndef _WIN32
#include <unistd.h>
#endif

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("instant-dev-logs"));
    QCoreApplication::setApplicationVersion(QStringLiteral(IDL_VERSION));
    idl::jlog::init("idl-stack");

    idl::Config cfg(QStringLiteral("idl-stack up|down"),
                    QStringLiteral("a whole local Instant Dev Logs cluster: private PostgreSQL, "
                                   "single-node Kafka and every backend service"));
    // As root, PostgreSQL runs as user postgres, which cannot enter root's home: use the
    // system's state folder instead.
#ifndef _WIN32
    const bool root = ::geteuid() == 0;
#else
    const bool root = false;
#endif
    const QString defaultDir =
        root ? QStringLiteral("/var/lib/instant-dev-logs/stack")
             : QDir(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation))
                   .filePath(QStringLiteral("instant-dev-logs/stack"));
    cfg.addString(QStringLiteral("data-dir"), defaultDir,
                  QStringLiteral("Folder for all data, logs and stack.json"));
    cfg.addBool(QStringLiteral("demo"), false,
                QStringLiteral("Send synthetic application logs to the collector"));
    cfg.addInt(QStringLiteral("demo-rate"), 200, QStringLiteral("Demo events per second"), 1,
               1'000'000);
    cfg.addInt(QStringLiteral("collector-port"), 7080,
               QStringLiteral("Collector HTTP port (0: any free port)"), 0, 65535);
    cfg.addInt(QStringLiteral("otlp-grpc-port"), 4317,
               QStringLiteral("Collector OTLP/gRPC port (0: any free port; when 4317 is taken, "
                              "a free one)"),
               0, 65535);
    cfg.addInt(QStringLiteral("gateway-port"), 7081,
               QStringLiteral("Gateway WebSocket port (0: any free port)"), 0, 65535);
    cfg.addInt(QStringLiteral("postgres-port"), 0,
               QStringLiteral("PostgreSQL port (0: previous or free)"), 0, 65535);
    cfg.addInt(QStringLiteral("kafka-port"), 0,
               QStringLiteral("Kafka broker port (0: previous or free)"), 0, 65535);
    cfg.addInt(QStringLiteral("syslog-tcp-port"), 5514,
               QStringLiteral("Collector syslog TCP port (0 or taken: any free port)"), 0, 65535);
    cfg.addInt(QStringLiteral("syslog-tls-port"), 6514,
               QStringLiteral("Collector syslog TLS port (0 or taken: any free port)"), 0, 65535);
    cfg.addInt(QStringLiteral("syslog-udp-port"), 5514,
               QStringLiteral("Collector syslog UDP port (0 or taken: any free port)"), 0, 65535);
    cfg.addString(QStringLiteral("syslog-app"), QStringLiteral("syslog"),
                  QStringLiteral("The app syslog messages map to"));
    cfg.addInt(QStringLiteral("partitions"), 4, QStringLiteral("Partitions per topic"), 1, 256);
    cfg.addBool(QStringLiteral("restart"), true,
                QStringLiteral("Restart a service or the Kafka broker that dies (same command "
                               "line and ports; back-off when it keeps dying)"));
    cfg.addBool(QStringLiteral("ha"), false,
                QStringLiteral("High availability: three Kafka brokers (replication factor 3), a "
                               "PostgreSQL hot standby promoted when the primary dies, two of "
                               "each service behind HAProxy on the collector and gateway ports"));
    cfg.addString(QStringLiteral("haproxy"), QStringLiteral("haproxy"),
                  QStringLiteral("The HAProxy program --ha runs (name on PATH or a path)"));
    cfg.addString(QStringLiteral("bin-dir"), QCoreApplication::applicationDirPath(),
                  QStringLiteral("Where the service executables are"));

    if (auto done = idl::service::loadCommandLine(cfg, QCoreApplication::arguments(), "idl-stack"))
        return *done;
    QTextStream out(stdout);
    const QString command = cfg.positional().value(0);
    const QString dataDir = QDir(cfg.string(QStringLiteral("data-dir"))).absolutePath();
    if (command == u"down") {
        auto r = idl::stack::Stack::stopRunning(dataDir, 90'000);
        if (!r) {
            std::fprintf(stderr, "idl-stack: %s\n", r.error().message.c_str());
            return 1;
        }
        out << "stopped the stack in " << dataDir << "\n";
        return 0;
    }
    if (command != u"up") {
        std::fprintf(stderr, "usage: idl-stack up|down [options]   (see --help)\n");
        return 2;
    }

    idl::stack::StackOptions opt;
    opt.dataDir = dataDir;
    opt.binDir = cfg.string(QStringLiteral("bin-dir"));
    opt.demo = cfg.boolean(QStringLiteral("demo"));
    opt.demoRate = static_cast<int>(cfg.integer(QStringLiteral("demo-rate")));
    opt.collectorPort = static_cast<quint16>(cfg.integer(QStringLiteral("collector-port")));
    opt.otlpGrpcPort = static_cast<quint16>(cfg.integer(QStringLiteral("otlp-grpc-port")));
    opt.gatewayPort = static_cast<quint16>(cfg.integer(QStringLiteral("gateway-port")));
    opt.postgresPort = static_cast<quint16>(cfg.integer(QStringLiteral("postgres-port")));
    opt.kafkaPort = static_cast<quint16>(cfg.integer(QStringLiteral("kafka-port")));
    opt.partitions = static_cast<int>(cfg.integer(QStringLiteral("partitions")));
    opt.syslogTcpPort = static_cast<quint16>(cfg.integer(QStringLiteral("syslog-tcp-port")));
    opt.syslogTlsPort = static_cast<quint16>(cfg.integer(QStringLiteral("syslog-tls-port")));
    opt.syslogUdpPort = static_cast<quint16>(cfg.integer(QStringLiteral("syslog-udp-port")));
    opt.syslogApp = cfg.string(QStringLiteral("syslog-app"));
    opt.restart = cfg.boolean(QStringLiteral("restart"));
    opt.ha = cfg.boolean(QStringLiteral("ha"));
    opt.haproxy = cfg.string(QStringLiteral("haproxy"));

    idl::service::quitOnSignals();
    idl::stack::Stack stack(opt);
    int rc = 0;
    QTimer::singleShot(0, &app, [&] {
        if (auto r = stack.up(); !r) {
            std::fprintf(stderr, "idl-stack: %s\n", r.error().message.c_str());
            rc = 1;
            QCoreApplication::quit();
            return;
        }
        out << stack.summary();
        out.flush();
    });
    app.exec();
    stack.down();
    return rc;
}
