// idl-writer: stores the events topic in PostgreSQL exactly once; applies retention.
#include "idl/core/config.h"
#include "idl/core/json_log.h"
#include "idl/service/http_server.h"
#include "idl/service/lifecycle.h"
#include "idl/service/ops.h"
#include "idl/writer/retention.h"
#include "idl/writer/writer.h"
#include "idl/writer/writer_config.h"

#include <QCoreApplication>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    idl::Config config(QStringLiteral("idl-writer"),
                       QStringLiteral("Stores log events from Kafka in PostgreSQL exactly once, "
                                      "with rollups and retention"));
    idl::writer::declareSettings(config);
    if (auto r = config.load(QCoreApplication::arguments()); !r) {
        std::fprintf(stderr, "idl-writer: %s\n", r.error().message.c_str());
        return 2;
    }
    if (config.helpRequested()) {
        std::fputs(config.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    if (config.versionRequested()) {
        std::puts("idl-writer " IDL_VERSION);
        return 0;
    }
    auto settings = idl::writer::optionsFromConfig(config);
    if (!settings) {
        std::fprintf(stderr, "idl-writer: %s\n", settings.error().message.c_str());
        return 2;
    }
    idl::jlog::init("idl-writer");

    // Several group members in one process: each stores its own partitions' batches on its
    // own PostgreSQL connection, so COPYs of different partitions run side by side.
    std::vector<std::unique_ptr<idl::writer::Writer>> writers;
    for (int i = 0; i < settings->consumers; ++i) {
        idl::writer::WriterOptions options = settings->writer;
        options.member = i;
        writers.push_back(std::make_unique<idl::writer::Writer>(std::move(options)));
    }
    idl::writer::RetentionWorker retention(settings->writer.pgDsn, settings->retention,
                                           settings->retentionInterval);
    idl::http::ServerOptions httpOptions;
    httpOptions.address = settings->httpAddress;
    httpOptions.port = static_cast<std::uint16_t>(settings->httpPort);
    httpOptions.threads = 1;
    idl::http::Server http(httpOptions);
    idl::service::addOpsRoutes(
        http, [&writers] { return idl::service::firstNotReady(writers); }, settings->metricsToken);

    idl::service::Lifecycle lifecycle;
    for (std::size_t i = 0; i < writers.size(); ++i) {
        idl::writer::Writer &w = *writers[i];
        lifecycle.add(
            "writer-" + std::to_string(i), [&w] { return w.start(); }, [&w] { w.stop(); });
    }
    lifecycle.add(
        "retention",
        [&]() -> idl::Result<void> {
            if (settings->retentionInterval.count() > 0)
                retention.start();
            return {};
        },
        [&] { retention.stop(); });
    lifecycle.add(
        "ops-http", [&] { return http.start(); }, [&] { http.stop(); });
    if (auto r = lifecycle.startAll(); !r) {
        idl::jlog::error("start failed", {{"error", QString::fromStdString(r.error().message)}});
        return 1;
    }
    idl::jlog::info("idl-writer started", {{"ops_port", int(http.port())}});
    idl::service::quitOnSignals();
    const int rc = QCoreApplication::exec();
    lifecycle.stopAll();
    return rc;
}
