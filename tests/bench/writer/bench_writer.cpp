// Benchmark: events per second from Kafka into PostgreSQL through idl-writer, against raw
// COPY of the same rows into the same schema (same indexes) in the same run; peak RSS of
// the writer. Rows: IDL_BENCH_ROWS (default 1,000,000); IDL_BENCH_SPREAD_S: event-time spread.
// The same rows are also written with an Idempotency-Key on every event (the processor's
// headers: key id, one key per request of 30 events, index), the cost of issue 18's dedupe;
// IDL_BENCH_KEYS_ONLY=1 runs only the defaults with and without keys (plus raw COPY).
// Prints one table.
#include "../../writer/writer_test_util.h"
#include "idl_test_servers.h"

#include "idl/core/json_codec.h"
#include "idl/kafka/idempotency.h"
#include "idl/schema/migrations.h"
#include "idl/writer/copy_encoder.h"

#include <QCoreApplication>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <cstdio>
#include <random>
#include <thread>

using namespace idl;
using namespace idl::writertest;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string &what)
{
    std::fprintf(stderr, "bench_writer: %s\n", what.c_str());
    std::exit(1);
}

std::string migrated(const char *prefix)
{
    auto dsn = testsupport::freshDatabase(prefix);
    if (!dsn)
        die(dsn.error().message);
    auto c = pg::Connection::connect(*dsn);
    if (!c || !schema::migrate(*c))
        die("migrate failed");
    return *dsn;
}

// Raw COPY of every row in 256 KiB chunks, one transaction; partitions created first.
// withoutTsBtree: the schema without migration 011's b-tree on ts (what it costs ingest).
double rawCopy(const std::vector<LogEvent> &events, pg::CopyFormat format,
               bool withoutTsBtree = false)
{
    const std::string dsn = migrated("bench_raw");
    auto c = pg::Connection::connect(dsn);
    if (!c)
        die(c.error().message);
    if (withoutTsBtree)
        if (auto r = c->exec("DROP INDEX logs_ts"); !r) // and every partition's, attached to it
            die(r.error().message);
    std::vector<std::string> chunks(1);
    writer::appendCopyHeader(chunks.back(), format);
    for (const auto &e : events) {
        if (chunks.back().size() > 256 * 1024)
            chunks.emplace_back();
        writer::appendCopyRow(chunks.back(), e, format);
    }
    writer::appendCopyTrailer(chunks.back(), format);
    for (const auto &e : {events.front(), events.back()})
        (void)c->query("SELECT idl_ensure_log_partition($1)", {std::to_string(e.tsNs)});
    (void)c->query("SELECT idl_ensure_log_partition($1)",
                   {std::to_string(nowNs() - 3600LL * 1'000'000'000)});
    const auto t0 = Clock::now();
    if (auto r = c->begin(); !r)
        die(r.error().message);
    auto n = c->copyIn(writer::logsCopySql(format), chunks, format);
    if (!n)
        die(n.error().message);
    if (auto r = c->commit(); !r)
        die(r.error().message);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return double(*n) / s;
}

long long peakRssKiB(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').front().toLongLong();
    return -1;
}

struct WriterRun
{
    double rowsPerSecond = 0;
    long long peakRssKiB = 0;
};

WriterRun runWriter(const std::string &bootstrap, const std::string &topic, long long total,
                    const QStringList &extra)
{
    const std::string dsn = migrated("bench_writer");
    QProcess writer;
    QTemporaryDir logs;
    writer.setStandardErrorFile(logs.filePath(QStringLiteral("writer.log")));
    QStringList args{QStringLiteral("--kafka.bootstrap"),
                     QString::fromStdString(bootstrap),
                     QStringLiteral("--kafka.topic"),
                     QString::fromStdString(topic),
                     QStringLiteral("--kafka.group"),
                     QString::fromStdString(testsupport::uniqueName("bench")),
                     QStringLiteral("--pg.dsn"),
                     QString::fromStdString(dsn),
                     QStringLiteral("--retention.interval"),
                     QStringLiteral("0"),
                     QStringLiteral("--http.port"),
                     QStringLiteral("0")};
    writer.start(qEnvironmentVariable("IDL_BIN_DIR") + QStringLiteral("/idl-writer"), args + extra);
    if (!writer.waitForStarted())
        die("idl-writer did not start");
    auto c = pg::Connection::connect(dsn);
    if (!c)
        die(c.error().message);
    long long first = -1;
    Clock::time_point t0, t1;
    const auto deadline = Clock::now() + std::chrono::minutes(5);
    WriterRun run;
    for (;;) {
        // The offsets table is tiny: polling it costs PostgreSQL nothing.
        const long long n = scalar(*c, "SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets");
        const auto now = Clock::now();
        if (n > 0 && first < 0) {
            first = n;
            t0 = now;
        }
        if (n >= total) {
            t1 = now;
            break;
        }
        if (now > deadline)
            die("the writer did not finish in 5 minutes");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    run.peakRssKiB = peakRssKiB(writer.processId());
    writer.terminate();
    writer.waitForFinished(20000);
    if (scalar(*c, "SELECT count(*) FROM logs") != total)
        die("row count differs from events produced");
    run.rowsPerSecond = double(total - first) / std::chrono::duration<double>(t1 - t0).count();
    return run;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const long long total = qEnvironmentVariableIsSet("IDL_BENCH_ROWS")
                                ? qEnvironmentVariable("IDL_BENCH_ROWS").toLongLong()
                                : 1'000'000;
    auto kafka = testsupport::kafka();
    if (!kafka)
        die(kafka.error().message);
    auto pg = testsupport::postgres();
    if (!pg)
        die(pg.error().message);
    const std::string bootstrap = (*kafka)->bootstrap().toStdString();
    auto topic = testsupport::freshTopic("bench", 4);
    if (!topic)
        die(topic.error().message);

    // Event times spread over the last IDL_BENCH_SPREAD_S seconds (default an hour: about as
    // many rollup keys as rows per batch, the costly case; live traffic spreads over seconds).
    const std::int64_t spreadNs = (qEnvironmentVariableIsSet("IDL_BENCH_SPREAD_S")
                                       ? qEnvironmentVariable("IDL_BENCH_SPREAD_S").toLongLong()
                                       : 3600LL) *
                                  1'000'000'000;
    std::mt19937_64 rng(1);
    std::vector<LogEvent> events;
    events.reserve(static_cast<std::size_t>(total));
    std::size_t bytes = 0;
    for (long long i = 0; i < total; ++i) {
        events.push_back(randomEvent(rng, spreadNs));
        bytes += encodeEvent(events.back()).size();
    }
    {
        auto producer = makeProducer(bootstrap);
        const auto t0 = Clock::now();
        for (const auto &e : events)
            if (!produceOne(*producer, *topic, e.id, encodeEvent(e)))
                die("produce failed");
        if (!producer->flush(std::chrono::seconds(120)))
            die("flush failed");
        std::printf("produced %lld events (%.0f bytes avg) in %.1f s\n", total,
                    double(bytes) / double(total),
                    std::chrono::duration<double>(Clock::now() - t0).count());
    }

    // The same events, each with the Idempotency-Key headers the processor forwards: requests
    // of 30 events (idl-loadgen's batch in test_ha), one key each.
    auto keyedTopic = testsupport::freshTopic("bench_keyed", 4);
    if (!keyedTopic)
        die(keyedTopic.error().message);
    {
        auto producer = makeProducer(bootstrap);
        for (std::size_t i = 0; i < events.size(); ++i) {
            const kafka::Headers h{
                {std::string(kafka::idempotency::kScope), "bench-key"},
                {std::string(kafka::idempotency::kKey), "bench-request-" + std::to_string(i / 30)},
                {std::string(kafka::idempotency::kIndex), std::to_string(i % 30)}};
            if (!produceOne(*producer, *keyedTopic, events[i].id, encodeEvent(events[i]), nullptr,
                            h))
                die("produce failed");
        }
        if (!producer->flush(std::chrono::seconds(120)))
            die("flush failed");
    }
    const bool keysOnly = qEnvironmentVariableIntValue("IDL_BENCH_KEYS_ONLY") != 0;

    // First, so that it is not the one that finds the caches warm.
    const double rawNoTs = rawCopy(events, pg::CopyFormat::Binary, true);
    const double rawText = rawCopy(events, pg::CopyFormat::Text);
    const double rawBinary = rawCopy(events, pg::CopyFormat::Binary);
    const WriterRun binary = runWriter(bootstrap, *topic, total, {});
    const WriterRun keyed = runWriter(bootstrap, *keyedTopic, total, {});
    WriterRun one, small, text;
    if (!keysOnly) {
        one = runWriter(bootstrap, *topic, total,
                        {QStringLiteral("--writer.consumers"), QStringLiteral("1")});
        small = runWriter(bootstrap, *topic, total,
                          {QStringLiteral("--batch.max-events"), QStringLiteral("20000")});
        text = runWriter(bootstrap, *topic, total,
                         {QStringLiteral("--copy.format"), QStringLiteral("text")});
    }
    const double baseline = std::max(rawText, rawBinary);
    std::printf("\n%-52s %12s %10s %12s\n", "run (same schema: BRIN ts + btree app,ts)", "rows/s",
                "% of raw", "peak RSS");
    std::printf("%-52s %12.0f %9.0f%% %12s\n", "raw COPY text, one transaction", rawText,
                100 * rawText / baseline, "-");
    std::printf("%-52s %12.0f %9.0f%% %12s\n", "raw COPY binary, one transaction", rawBinary,
                100 * rawBinary / baseline, "-");
    std::printf("%-52s %12.0f %9.0f%% %12s\n", "raw COPY binary, without the ts b-tree", rawNoTs,
                100 * rawNoTs / baseline, "-");
    auto line = [&](const char *name, const WriterRun &r) {
        std::printf("%-52s %12.0f %9.0f%% %9.1f MiB\n", name, r.rowsPerSecond,
                    100 * r.rowsPerSecond / baseline, double(r.peakRssKiB) / 1024);
    };
    line("idl-writer defaults (binary, batch 50000, 2 consumers)", binary);
    line("idl-writer defaults, every event with an Idempotency-Key", keyed);
    if (!keysOnly) {
        line("idl-writer, 1 consumer", one);
        line("idl-writer, batch 20000", small);
        line("idl-writer, text COPY", text);
    }
    std::printf("Idempotency-Key on every event: %.0f%% of the same run's writer without keys\n",
                100 * keyed.rowsPerSecond / binary.rowsPerSecond);
    std::printf("\nrows: %lld; Kafka broker, PostgreSQL, writer and this process on one machine "
                "(%u cores)\n",
                total, std::thread::hardware_concurrency());
    const bool ok = binary.rowsPerSecond >= 100000 && binary.rowsPerSecond >= 0.7 * baseline;
    std::printf("target (>= 100000 rows/s and >= 70%% of raw COPY): %s\n", ok ? "met" : "NOT met");
    return 0;
}
