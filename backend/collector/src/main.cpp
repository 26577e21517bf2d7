// idl-collector: parses the settings and runs the collector until SIGINT/SIGTERM.
#include "idl/collector/collector.h"
#include "idl/core/config.h"
#include "idl/core/json_log.h"
#include "idl/service/lifecycle.h"

#include <QCoreApplication>

#include <cstdio>

using namespace idl;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    Config config(QStringLiteral("idl-collector"),
                  QStringLiteral("Receives logs over HTTP(S) and writes them to Kafka"));
    collector::declareSettings(config);
    if (auto r = config.load(QCoreApplication::arguments()); !r) {
        std::fprintf(stderr, "idl-collector: %s\n", r.error().message.c_str());
        return 2;
    }
    if (config.helpRequested()) {
        std::fputs(config.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    if (config.versionRequested()) {
        std::puts("idl-collector " IDL_VERSION);
        return 0;
    }
    jlog::init("idl-collector");
    auto options = collector::optionsFromConfig(config);
    if (!options) {
        std::fprintf(stderr, "idl-collector: %s\n", options.error().message.c_str());
        return 2;
    }
    collector::Collector collector(std::move(*options));
    service::Lifecycle lifecycle;
    lifecycle.add(
        "collector", [&] { return collector.start(); }, [&] { collector.stop(); });
    if (auto r = lifecycle.startAll(); !r) {
        jlog::error("collector failed to start",
                    {{"error", QString::fromStdString(r.error().message)}});
        return 1;
    }
    service::quitOnSignals();
    const int rc = QCoreApplication::exec();
    lifecycle.stopAll();
    return rc;
}
