// idl-processor: consumes the raw topic in a consumer group, normalizes/enriches/redacts
// events and writes them to the events topic exactly once (Kafka transactions); transient
// failures go through the retry topic, poison records to the DLQ.
#include "idl/observability/json_log.h"
#include "idl/processor/processor.h"
#include "idl/processor/settings.h"
#include "idl/service/ops.h"
#include "idl/service/run_main.h"

#include <string>
#include <vector>

using namespace idl;

namespace {

Result<void> build(service::Runtime &rt)
{
    const Config &config = rt.config();
    auto options = processor::optionsFromConfig(config);
    if (!options)
        return options.error();
    // A fatal error (say, the transactional id fenced) ends the process with exit code 1.
    options->onFatal = [&rt](const Error &) { rt.exit(1); };
    // Several group members per process: while one commits its transaction (a few broker
    // round trips) another transforms and produces.
    std::vector<processor::Processor *> members;
    const auto count = config.integer(QStringLiteral("consumers"));
    for (qint64 i = 0; i < count; ++i) {
        processor::ProcessorOptions o = *options;
        if (i > 0)
            o.instanceId += "-" + std::to_string(i);
        o.watchGroup = i == 0; // one watcher of the group's committed offsets per process
        members.push_back(&rt.make<processor::Processor>(std::move(o)));
    }
    auto &ops = rt.addOps(
        config.string(QStringLiteral("http.address")).toStdString(),
        static_cast<std::uint16_t>(config.integer(QStringLiteral("http.port"))),
        [members, stall = options->stallTimeout] {
            return processor::groupNotReady(members, stall);
        },
        config.string(QStringLiteral("metrics.token")).toStdString());
    for (std::size_t i = 0; i < members.size(); ++i) {
        processor::Processor &p = *members[i];
        rt.add(
            "processor-" + std::to_string(i), [&p] { return p.start(); }, [&p] { p.stop(); });
    }
    rt.onStarted([&ops] { jlog::info("ops listener", {{"port", static_cast<int>(ops.port())}}); });
    return {};
}

} // namespace

int main(int argc, char **argv)
{
    return service::runMain(
        argc, argv,
        {.name = "idl-processor",
         .summary = QStringLiteral("Kafka raw -> events processor (normalize, enrich, redact, "
                                   "retry, DLQ; exactly once per hop)"),
         .declareSettings = processor::declareSettings,
         .build = build});
}
