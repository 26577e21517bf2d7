#include "idl/writer/writer_config.h"

#include <algorithm>

namespace idl::writer {

void declareSettings(Config &c)
{
    c.addString(QStringLiteral("kafka.bootstrap"), QStringLiteral("127.0.0.1:9092"),
                QStringLiteral("Kafka bootstrap servers (host:port, comma-separated)"));
    c.addString(QStringLiteral("kafka.topic"), QStringLiteral("idl.logs.events"),
                QStringLiteral("Topic of normalized events to store"));
    c.addString(QStringLiteral("kafka.group"), QStringLiteral("idl-writer"),
                QStringLiteral("Consumer group; also the key of the offsets stored in PostgreSQL"));
    c.addString(QStringLiteral("kafka.dlq-topic"), QStringLiteral("idl.logs.dlq"),
                QStringLiteral("Dead-letter topic for events PostgreSQL cannot store"));
    c.addString(QStringLiteral("kafka.instance-id"), QString(),
                QStringLiteral("Static group membership id (group.instance.id): a restarted "
                               "writer takes its partitions back without a rebalance"));
    c.addDuration(QStringLiteral("kafka.session-timeout"), QStringLiteral("10s"),
                  QStringLiteral("How long the group waits for a silent writer before it "
                                 "moves its partitions (session.timeout.ms)"));
    c.addDuration(QStringLiteral("kafka.stall-timeout"), QStringLiteral("60s"),
                  QStringLiteral("/readyz fails when a partition of kafka.topic held by this "
                                 "process this long, or (while it has held none this long) any "
                                 "partition, has had its committed offset stand still behind the "
                                 "end this long (its consumer stopped consuming or storing)"));
    c.addSecret(QStringLiteral("pg.dsn"), QStringLiteral("dbname=idl"),
                QStringLiteral("PostgreSQL connection string (libpq keywords or URI)"));
    c.addInt(QStringLiteral("writer.consumers"), 2,
             QStringLiteral("Consumer-group members in this process, each with its own batches "
                            "and PostgreSQL connection (stores run in parallel; see "
                            "docs/benchmarks.md)"),
             1, 64);
    c.addBool(QStringLiteral("pg.migrate"), true,
              QStringLiteral("Apply the schema migrations at start (under an advisory lock)"));
    c.addInt(QStringLiteral("batch.max-events"), 50000,
             QStringLiteral("Store a batch once it has this many events (a batch is stored as "
                            "soon as nothing more is ready; this and the bounds below cap it "
                            "under load)"),
             1, 1'000'000);
    c.addDuration(QStringLiteral("batch.min-interval"), QStringLiteral("10ms"),
                  QStringLiteral("At most one batch stored per this interval (an event reaching "
                                 "an idle writer is stored at once; under load this bounds the "
                                 "rate of PostgreSQL transactions)"));
    c.addInt(QStringLiteral("batch.interval-factor"), 2,
             QStringLiteral("Load-adaptive store interval: the next batch is stored at the "
                            "earliest this many times the last store's duration after the "
                            "last one started (slow stores under load mean fewer, larger "
                            "transactions), within batch.min-interval .. batch.max-interval; "
                            "0 = always batch.min-interval"),
             0, 100);
    c.addDuration(QStringLiteral("batch.max-interval"), QStringLiteral("50ms"),
                  QStringLiteral("Upper bound of the load-adaptive store interval"));
    c.addDuration(QStringLiteral("batch.max-time"), QStringLiteral("200ms"),
                  QStringLiteral("Store a batch at the latest this long after its first event "
                                 "(an upper bound: an idle writer stores at once)"));
    c.addSize(QStringLiteral("batch.max-bytes"), QStringLiteral("16MiB"),
              QStringLiteral("Store a batch once its events total this many bytes"));
    c.addString(QStringLiteral("copy.format"), QStringLiteral("binary"),
                QStringLiteral("COPY format: binary or text (see docs/benchmarks.md)"));
    c.addDuration(QStringLiteral("retry.initial"), QStringLiteral("100ms"),
                  QStringLiteral("First back-off after a database failure (doubles, jittered)"));
    c.addDuration(QStringLiteral("retry.max"), QStringLiteral("5s"),
                  QStringLiteral("Longest back-off between attempts"));
    c.addDuration(QStringLiteral("events.max-future"), QStringLiteral("1h"),
                  QStringLiteral("Event times further ahead than this are clamped to the "
                                 "receive time (original kept in attrs idl.original_ts)"));
    c.addBool(QStringLiteral("events.dead-letter-expired"), true,
              QStringLiteral("Dead-letter events already older than retention.default"));
    c.addDuration(QStringLiteral("retention.default"), QStringLiteral("30d"),
                  QStringLiteral("Time to live of apps without a row in retention_policies"));
    c.addDuration(QStringLiteral("retention.idempotency-keys"), QStringLiteral("24h"),
                  QStringLiteral("How long an Idempotency-Key is remembered: a request resent "
                                 "with the same key within it is stored once"));
    c.addDuration(QStringLiteral("retention.interval"), QStringLiteral("10m"),
                  QStringLiteral("How often retention runs (0: never in this process)"));
    c.addDuration(QStringLiteral("retention.lock-timeout"), QStringLiteral("5s"),
                  QStringLiteral("Longest wait of retention for a lock (partitions are detached "
                                 "concurrently; a run that times out continues on the next)"));
    c.addDuration(QStringLiteral("retention.idle-in-transaction-timeout"), QStringLiteral("1m"),
                  QStringLiteral("PostgreSQL ends retention's session if it sits idle inside a "
                                 "transaction this long (a safety net)"));
    c.addDuration(QStringLiteral("maintenance.closed-after"), QStringLiteral("10m"),
                  QStringLiteral("A daily partition counts as closed this long after its day "
                                 "ended; retention then builds its search indexes"));
    c.addDuration(QStringLiteral("maintenance.statistics-interval"), QStringLiteral("30s"),
                  QStringLiteral("How often the open partitions' planner statistics are checked "
                                 "between retention runs; one whose rows more than doubled since "
                                 "its last ANALYZE is analyzed (0: only with each run)"));
    c.addInt(QStringLiteral("maintenance.index-partitions"), 2,
             QStringLiteral("Closed partitions indexed per retention run (0: none)"), 0, 1000);
    c.addInt(QStringLiteral("retention.delete-batch"), 10000,
             QStringLiteral("Rows per DELETE for per-app TTLs"), 100, 10'000'000);
    c.addInt(QStringLiteral("retention.max-deletes"), 5'000'000,
             QStringLiteral("Rows one retention run deletes at most (the rest waits)"), 1,
             1'000'000'000'000);
    c.addInt(QStringLiteral("partitions.ahead-days"), 2,
             QStringLiteral("Daily partitions created ahead of today"), 0, 366);
    c.addString(QStringLiteral("http.address"), QStringLiteral("127.0.0.1"),
                QStringLiteral("Address of the ops endpoints (/healthz, /readyz, /metrics)"));
    c.addInt(QStringLiteral("http.port"), 9102,
             QStringLiteral("Port of the ops endpoints (0: any free port)"), 0, 65535);
    c.addSecret(QStringLiteral("metrics.token"), QString(),
                QStringLiteral("Bearer token required by /metrics (empty: none)"));
}

Result<WriterSettings> optionsFromConfig(const Config &c)
{
    WriterSettings s;
    WriterOptions &w = s.writer;
    w.kafkaBootstrap = c.string(QStringLiteral("kafka.bootstrap")).toStdString();
    w.topic = c.string(QStringLiteral("kafka.topic")).toStdString();
    w.group = c.string(QStringLiteral("kafka.group")).toStdString();
    w.dlqTopic = c.string(QStringLiteral("kafka.dlq-topic")).toStdString();
    if (const QString id = c.string(QStringLiteral("kafka.instance-id")); !id.isEmpty())
        w.kafkaConsumerExtra["group.instance.id"] = id.toStdString();
    w.kafkaConsumerExtra["session.timeout.ms"] =
        std::to_string(c.duration(QStringLiteral("kafka.session-timeout")).count());
    s.stallTimeout = c.duration(QStringLiteral("kafka.stall-timeout"));
    if (s.stallTimeout.count() <= 0)
        return makeError(ErrorCode::BadField, "kafka.stall-timeout must be > 0");
    w.pgDsn = c.string(QStringLiteral("pg.dsn")).toStdString();
    w.migrate = c.boolean(QStringLiteral("pg.migrate"));
    s.consumers = static_cast<int>(c.integer(QStringLiteral("writer.consumers")));
    w.batchMaxEvents = static_cast<int>(c.integer(QStringLiteral("batch.max-events")));
    w.batchMinInterval = c.duration(QStringLiteral("batch.min-interval"));
    w.batchMaxInterval =
        std::max(w.batchMinInterval, c.duration(QStringLiteral("batch.max-interval")));
    w.batchIntervalFactor = static_cast<int>(c.integer(QStringLiteral("batch.interval-factor")));
    w.batchMaxTime = c.duration(QStringLiteral("batch.max-time"));
    w.batchMaxBytes = c.bytes(QStringLiteral("batch.max-bytes"));
    const QString format = c.string(QStringLiteral("copy.format"));
    if (format == u"binary")
        w.copyFormat = pg::CopyFormat::Binary;
    else if (format == u"text")
        w.copyFormat = pg::CopyFormat::Text;
    else
        return makeError(ErrorCode::BadField, "copy.format must be binary or text");
    w.retryInitial = c.duration(QStringLiteral("retry.initial"));
    w.retryMax = c.duration(QStringLiteral("retry.max"));
    if (w.retryInitial.count() <= 0 || w.retryMax < w.retryInitial)
        return makeError(ErrorCode::BadField, "retry.initial must be > 0 and <= retry.max");
    w.maxFutureNs = c.duration(QStringLiteral("events.max-future")).count() * 1'000'000LL;
    const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(
        c.duration(QStringLiteral("retention.default")));
    if (ttl.count() <= 0)
        return makeError(ErrorCode::BadField, "retention.default must be at least 1s");
    if (c.boolean(QStringLiteral("events.dead-letter-expired")))
        w.maxEventAge = ttl;
    s.retention.defaultTtl = ttl;
    s.retention.deleteBatchRows = c.integer(QStringLiteral("retention.delete-batch"));
    s.retention.maxDeletedPerRun = c.integer(QStringLiteral("retention.max-deletes"));
    s.retention.lockTimeout = c.duration(QStringLiteral("retention.lock-timeout"));
    s.retention.idleInTransactionTimeout =
        c.duration(QStringLiteral("retention.idle-in-transaction-timeout"));
    s.retention.partitionsAheadDays =
        static_cast<int>(c.integer(QStringLiteral("partitions.ahead-days")));
    s.retentionInterval = c.duration(QStringLiteral("retention.interval"));
    s.retention.idempotencyKeyTtl = std::chrono::duration_cast<std::chrono::seconds>(
        c.duration(QStringLiteral("retention.idempotency-keys")));
    if (s.retention.idempotencyKeyTtl.count() <= 0)
        return makeError(ErrorCode::BadField, "retention.idempotency-keys must be at least 1s");
    s.retention.closedAfter = std::chrono::duration_cast<std::chrono::seconds>(
        c.duration(QStringLiteral("maintenance.closed-after")));
    s.retention.statisticsInterval = c.duration(QStringLiteral("maintenance.statistics-interval"));
    s.retention.closedIndexPerRun =
        static_cast<int>(c.integer(QStringLiteral("maintenance.index-partitions")));
    s.httpAddress = c.string(QStringLiteral("http.address")).toStdString();
    s.httpPort = static_cast<int>(c.integer(QStringLiteral("http.port")));
    s.metricsToken = c.string(QStringLiteral("metrics.token")).toStdString();
    return s;
}

} // namespace idl::writer
