// idl-gateway: the query gateway (WebSocket API, HTTP query API, ops endpoints).
#include "idl/core/config.h"
#include "idl/core/json_log.h"
#include "idl/gateway/gateway.h"
#include "idl/service/lifecycle.h"

#include <QCoreApplication>

#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    idl::Config config(QStringLiteral("idl-gateway"),
                       QStringLiteral("Query gateway: WebSocket API, live tail, HTTP query API"));
    idl::gateway::declareSettings(config);
    if (auto r = config.load(app.arguments()); !r) {
        std::fprintf(stderr, "idl-gateway: %s\n", r.error().message.c_str());
        return 2;
    }
    if (config.helpRequested()) {
        std::fputs(config.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    if (config.versionRequested()) {
        std::puts("idl-gateway " IDL_VERSION);
        return 0;
    }
    idl::jlog::init("idl-gateway");
    idl::gateway::Gateway gateway(idl::gateway::optionsFromConfig(config));
    if (auto r = gateway.start(); !r) {
        idl::jlog::error("start failed", {{"error", QString::fromStdString(r.error().message)}});
        return 1;
    }
    idl::jlog::info("listening",
                    {{"ws_port", int(gateway.wsPort())}, {"http_port", int(gateway.httpPort())}});
    idl::service::quitOnSignals();
    const int rc = app.exec();
    gateway.stop();
    idl::jlog::info("stopped");
    return rc;
}
