// idl-gateway: the query gateway (WebSocket API, HTTP query API, ops endpoints).
#include "idl/gateway/gateway.h"
#include "idl/observability/json_log.h"
#include "idl/service/run_main.h"

using namespace idl;

int main(int argc, char **argv)
{
    return service::runMain(
        argc, argv,
        {.name = "idl-gateway",
         .summary = QStringLiteral("Query gateway: WebSocket API, live tail, HTTP query API"),
         .declareSettings = gateway::declareSettings,
         .build = [](service::Runtime &rt) -> Result<void> {
             auto &gw = rt.make<gateway::Gateway>(gateway::optionsFromConfig(rt.config()));
             rt.add(
                 "gateway", [&gw] { return gw.start(); },
                 [&gw] {
                     gw.stop();
                     jlog::info("stopped");
                 });
             rt.onStarted([&gw] {
                 jlog::info("listening",
                            {{"ws_port", int(gw.wsPort())}, {"http_port", int(gw.httpPort())}});
             });
             return {};
         }});
}
