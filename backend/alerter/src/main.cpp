// idl-alerter: evaluates alert rules on the logs and sends their notifications.
#include "idl/alerter/alerter.h"
#include "idl/alerter/alerter_config.h"
#include "idl/observability/json_log.h"
#include "idl/service/run_main.h"

using namespace idl;

namespace {

Result<void> build(service::Runtime &rt)
{
    auto read = alerter::optionsFromConfig(rt.config());
    if (!read)
        return read.error();
    const auto &settings = rt.make<alerter::AlerterSettings>(std::move(*read));
    auto &a = rt.make<alerter::Alerter>(settings.alerter);
    rt.add(
        "alerter", [&a] { return a.start(); }, [&a] { a.stop(); });
    auto &ops = rt.addOps(
        settings.httpAddress, static_cast<std::uint16_t>(settings.httpPort),
        [&a] { return a.notReadyReason(); }, settings.metricsToken);
    rt.onStarted([&ops] { jlog::info("idl-alerter started", {{"ops_port", int(ops.port())}}); });
    return {};
}

} // namespace

int main(int argc, char **argv)
{
    return service::runMain(
        argc, argv,
        {.name = "idl-alerter",
         .summary = QStringLiteral("Evaluates alert rules on the logs and sends their "
                                   "notifications (webhook, Slack)"),
         .declareSettings = alerter::declareSettings,
         .build = build});
}
