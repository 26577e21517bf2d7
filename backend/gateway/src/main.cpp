// idl-gateway: the query gateway (WebSocket API, HTTP query API, ops endpoints).
#include "idl/core/config.h"
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
    idl::gateway::Gateway gateway(idl::gateway::optionsFromConfig(config));
    if (auto r = gateway.start(); !r) {
        std::fprintf(stderr, "idl-gateway: %s\n", r.error().message.c_str());
        return 1;
    }
    std::fprintf(stderr, "idl-gateway: WebSocket on port %u, HTTP on port %u\n",
                 unsigned(gateway.wsPort()), unsigned(gateway.httpPort()));
    idl::service::quitOnSignals();
    const int rc = app.exec();
    gateway.stop();
    return rc;
}
