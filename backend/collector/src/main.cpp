// idl-collector: parses the settings and runs the collector until SIGINT/SIGTERM.
#include "idl/collector/collector.h"
#include "idl/service/run_main.h"

using namespace idl;

int main(int argc, char **argv)
{
    return service::runMain(
        argc, argv,
        {.name = "idl-collector",
         .summary = QStringLiteral("Receives logs over HTTP(S) and writes them to Kafka"),
         .declareSettings = collector::declareSettings,
         .build = [](service::Runtime &rt) -> Result<void> {
             auto options = collector::optionsFromConfig(rt.config());
             if (!options)
                 return options.error();
             auto &c = rt.make<collector::Collector>(std::move(*options));
             rt.add(
                 "collector", [&c] { return c.start(); }, [&c] { c.stop(); });
             return {};
         }});
}
