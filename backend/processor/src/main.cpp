// idl-processor: consumes the raw topic in a consumer group, normalizes/enriches/redacts
// events and writes them to the events topic exactly once (Kafka transactions); transient
// failures go through the retry topic, poison records to the DLQ.
#include "idl/core/json_log.h"
#include "idl/processor/processor.h"
#include "idl/processor/settings.h"
#include "idl/service/http_server.h"
#include "idl/service/lifecycle.h"
#include "idl/service/ops.h"

#include <QCoreApplication>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace idl;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    jlog::init("idl-processor");
    Config config(QStringLiteral("idl-processor"),
                  QStringLiteral("Kafka raw -> events processor (normalize, enrich, redact, "
                                 "retry, DLQ; exactly once per hop)"));
    processor::declareSettings(config);
    if (auto r = config.load(QCoreApplication::arguments()); !r) {
        std::fprintf(stderr, "idl-processor: %s\n", r.error().message.c_str());
        return 2;
    }
    if (config.helpRequested()) {
        std::fputs(config.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    if (config.versionRequested()) {
        std::puts("idl-processor " IDL_VERSION);
        return 0;
    }
    auto options = processor::optionsFromConfig(config);
    if (!options) {
        std::fprintf(stderr, "idl-processor: %s\n", options.error().message.c_str());
        return 2;
    }
    int exitCode = 0;
    options->onFatal = [&exitCode](const Error &) {
        exitCode = 1;
        QMetaObject::invokeMethod(QCoreApplication::instance(), &QCoreApplication::quit,
                                  Qt::QueuedConnection);
    };

    http::ServerOptions ops;
    ops.address = config.string(QStringLiteral("http.address")).toStdString();
    ops.port = static_cast<std::uint16_t>(config.integer(QStringLiteral("http.port")));
    ops.threads = 1;
    http::Server server(ops);
    // Several group members per process: while one commits its transaction (a few broker
    // round trips) another transforms and produces.
    std::vector<std::unique_ptr<processor::Processor>> members;
    const auto count = config.integer(QStringLiteral("consumers"));
    for (qint64 i = 0; i < count; ++i) {
        processor::ProcessorOptions o = *options;
        if (i > 0)
            o.instanceId += "-" + std::to_string(i);
        members.push_back(std::make_unique<processor::Processor>(std::move(o)));
    }
    service::addOpsRoutes(
        server, [&members] { return idl::service::firstNotReady(members); },
        config.string(QStringLiteral("metrics.token")).toStdString());

    service::Lifecycle life;
    life.add(
        "ops-http", [&server] { return server.start(); }, [&server] { server.stop(); });
    for (std::size_t i = 0; i < members.size(); ++i) {
        processor::Processor &p = *members[i];
        life.add(
            "processor-" + std::to_string(i), [&p] { return p.start(); }, [&p] { p.stop(); });
    }
    if (auto r = life.startAll(); !r) {
        jlog::error("start failed", {{"error", QString::fromStdString(r.error().message)}});
        return 1;
    }
    jlog::info("ops listener", {{"port", static_cast<int>(server.port())}});
    service::quitOnSignals();
    app.exec();
    life.stopAll();
    return exitCode;
}
