// idl-writer: stores the events topic in PostgreSQL exactly once; applies retention.
#include "idl/observability/json_log.h"
#include "idl/service/ops.h"
#include "idl/service/run_main.h"
#include "idl/writer/retention.h"
#include "idl/writer/writer.h"
#include "idl/writer/writer_config.h"

#include <string>
#include <vector>

using namespace idl;

namespace {

Result<void> build(service::Runtime &rt)
{
    auto read = writer::optionsFromConfig(rt.config());
    if (!read)
        return read.error();
    const auto &settings = rt.make<writer::WriterSettings>(std::move(*read));
    // Several group members in one process: each stores its own partitions' batches on its
    // own PostgreSQL connection, so COPYs of different partitions run side by side.
    std::vector<writer::Writer *> writers;
    for (int i = 0; i < settings.consumers; ++i) {
        writer::WriterOptions options = settings.writer;
        options.member = i;
        writer::Writer &w = rt.make<writer::Writer>(std::move(options));
        writers.push_back(&w);
        rt.add(
            "writer-" + std::to_string(i), [&w] { return w.start(); }, [&w] { w.stop(); });
    }
    auto &retention = rt.make<writer::RetentionWorker>(settings.writer.pgDsn, settings.retention,
                                                       settings.retentionInterval);
    rt.add(
        "retention",
        [&]() -> Result<void> {
            if (settings.retentionInterval.count() > 0)
                retention.start();
            return {};
        },
        [&retention] { retention.stop(); });
    // One watcher of the group's committed offsets per process: lag of every partition, and
    // /readyz fails on a partition that stands still (writer::groupNotReady).
    auto &watcher = rt.make<kafka::GroupWatcher>(
        writer::groupWatcherOptions(settings.writer, settings.stallTimeout));
    rt.add(
        "group-watcher", [&watcher] { return watcher.start(); }, [&watcher] { watcher.stop(); });
    auto &ops = rt.addOps(
        settings.httpAddress, static_cast<std::uint16_t>(settings.httpPort),
        [writers, &watcher, stall = settings.stallTimeout] {
            return writer::groupNotReady(writers, &watcher, stall);
        },
        settings.metricsToken);
    rt.onStarted([&ops] { jlog::info("idl-writer started", {{"ops_port", int(ops.port())}}); });
    return {};
}

} // namespace

int main(int argc, char **argv)
{
    return service::runMain(
        argc, argv,
        {.name = "idl-writer",
         .summary = QStringLiteral("Stores log events from Kafka in PostgreSQL exactly once, "
                                   "with rollups and retention"),
         .declareSettings = writer::declareSettings,
         .build = build});
}
