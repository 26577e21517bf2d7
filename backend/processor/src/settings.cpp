#include "idl/processor/settings.h"

#include <QFile>
#include <QSysInfo>

#include <algorithm>

namespace idl::processor {

namespace {

QString s(const char *text)
{
    return QString::fromUtf8(text);
}

Result<double> toDouble(const Config &c, const char *name)
{
    bool ok = false;
    const double v = c.string(s(name)).toDouble(&ok);
    if (!ok)
        return makeError(ErrorCode::BadField, std::string(name) + ": not a number");
    return v;
}

} // namespace

void declareSettings(Config &c)
{
    c.addString(s("kafka.bootstrap"), s("127.0.0.1:9092"), s("Kafka bootstrap servers"));
    c.addString(s("http.address"), s("127.0.0.1"), s("Address of the ops listener"));
    c.addInt(s("http.port"), 9102, s("Ops port: /healthz, /readyz, /metrics (0 = any free)"), 0,
             65535);
    c.addSecret(s("metrics.token"), QString(),
                s("Bearer token required for /metrics (empty = open)"));
    c.addString(s("pg.dsn"), QString(), s("Accepted for symmetry with other services; unused"));
    c.addString(s("instance.id"), QSysInfo::machineHostName(),
                s("Unique per running instance: the transactional.id is "
                  "idl-processor-<instance.id>; a restarted instance with the same id fences "
                  "its predecessor"));
    c.addInt(s("consumers"), 2,
             s("Group members in this process, each with its own consumer, transactional "
               "producer (idl-processor-<instance.id>-<n> for n >= 1) and worker thread, so one "
               "member's transaction commit overlaps another's work"),
             1, 64);
    c.addString(s("group.id"), s("idl-processor"), s("Kafka consumer group"));
    c.addString(s("topic.raw"), s("idl.logs.raw"), s("Input topic (written by the collector)"));
    c.addString(s("topic.events"), s("idl.logs.events"), s("Output topic (canonical v1 events)"));
    c.addString(s("topic.retry"), s("idl.logs.retry"), s("Retry topic (transient failures)"));
    c.addString(s("topic.dlq"), s("idl.logs.dlq"), s("Dead-letter topic"));
    c.addString(s("kafka.compression"), s("lz4"),
                s("Producer compression of the events, retry and dead-letter records: none, "
                  "gzip, lz4, zstd, snappy"));
    c.addInt(s("batch.max-events"), 10000,
             s("Records per transaction at most (a transaction commits as soon as no more "
               "input is ready, or when a bound is hit)"),
             1, 1'000'000);
    c.addSize(s("batch.max-bytes"), s("16MiB"), s("Input bytes per transaction at most"));
    c.addDuration(s("batch.min-interval"), s("10ms"),
                  s("At most one commit per this interval (an event reaching an idle processor "
                    "is committed at once; under load this bounds the transaction rate)"));
    c.addInt(s("batch.interval-factor"), 2,
             s("Load-adaptive commit interval: the next commit starts at the earliest this many "
               "times the last commit's duration after it (slow commits under load mean fewer, "
               "larger transactions), within batch.min-interval .. batch.max-interval; 0 = "
               "always batch.min-interval"),
             0, 100);
    c.addDuration(s("batch.max-interval"), s("50ms"),
                  s("Upper bound of the load-adaptive commit interval"));
    c.addDuration(s("batch.max-wait"), s("100ms"),
                  s("A transaction stays open at most this (an upper bound under load; an idle "
                    "processor commits at once)"));
    c.addDuration(s("kafka.transaction-timeout"), s("60s"),
                  s("transaction.timeout.ms: how long a crashed instance's open transaction "
                    "can block read_committed readers"));
    c.addDuration(s("kafka.session-timeout"), s("10s"),
                  s("Consumer group session timeout (how fast a dead member is noticed)"));
    c.addDuration(s("kafka.stall-timeout"), s("60s"),
                  s("/readyz fails when this process's commits have failed for this long, or "
                    "when a raw partition's committed offset stood still behind the end this "
                    "long while this process held it that long, or held no partition at all "
                    "(no member consumes it)"));
    c.addBool(s("kafka.static-membership"), true,
              s("Join the group with group.instance.id = the transactional.id, so a restarted "
                "instance gets its partitions back without a rebalance"));
    c.addDuration(s("retry.base"), s("200ms"), s("First retry delay"));
    c.addString(s("retry.factor"), s("2"), s("Delay multiplier per retry (>= 1)"));
    c.addDuration(s("retry.cap"), s("30s"), s("Largest retry delay"));
    c.addInt(s("retry.max-attempts"), 5, s("Retries before an event is dead-lettered"), 0, 1000);
    c.addString(s("retry.jitter"), s("0.2"),
                s("Jitter fraction: the delay is drawn from [d*(1-jitter), d]"));
    c.addSize(s("limits.max-event-bytes"), s("256KiB"),
              s("Larger raw records are dead-lettered (too_large)"));
    c.addSize(s("limits.max-message-bytes"), s("128KiB"), s("Longer messages are truncated"));
    c.addInt(s("limits.max-attr-depth"), 8,
             s("Attribute values nested deeper are kept as their JSON text"), 1, 64);
    c.addInt(s("limits.max-attr-keys"), 256, s("Attribute keys kept per event (all levels)"), 1,
             1'000'000);
    c.addSize(s("limits.max-value-bytes"), s("16KiB"), s("Longer attribute strings are truncated"));
    c.addDuration(s("limits.max-future-skew"), s("1h"),
                  s("Event times further ahead of the receive time are replaced by it"));
    c.addString(s("default.app"), s("unknown"), s("App for events without one (and no key)"));
    c.addString(s("default.host"), s("unknown"), s("Host for events without one"));
    c.addString(s("redact.builtin"), s("all"),
                s("Built-in redaction rules: all, or a list of bearer, url_password, "
                  "kv_password, card, secret_keys (empty = none)"));
    c.addString(s("redact.rules"), QString(),
                s("File of extra redaction rules, one JSON object per line (see "
                  "docs/processor.md)"));
    c.addString(s("sample.rules"), QString(),
                s("Drop/sample rules, e.g. \"app=web level<=debug keep=0.1; level=trace "
                  "keep=0\""));
    c.addString(s("test.transient-marker"), QString(),
                s("TEST ONLY: messages containing <marker><N> fail transiently N times"));
}

Result<ProcessorOptions> optionsFromConfig(const Config &c)
{
    ProcessorOptions o;
    o.bootstrap = c.string(s("kafka.bootstrap")).toStdString();
    o.instanceId = c.string(s("instance.id")).toStdString();
    if (o.instanceId.empty())
        return makeError(ErrorCode::BadField, "instance.id must not be empty");
    o.groupId = c.string(s("group.id")).toStdString();
    o.rawTopic = c.string(s("topic.raw")).toStdString();
    o.eventsTopic = c.string(s("topic.events")).toStdString();
    o.retryTopic = c.string(s("topic.retry")).toStdString();
    o.dlqTopic = c.string(s("topic.dlq")).toStdString();
    o.producerExtra["compression.codec"] = c.string(s("kafka.compression")).toStdString();
    o.batchMaxEvents = static_cast<int>(c.integer(s("batch.max-events")));
    o.batchMaxBytes = static_cast<std::size_t>(c.bytes(s("batch.max-bytes")));
    o.batchMaxWait = c.duration(s("batch.max-wait"));
    o.batchMinInterval = c.duration(s("batch.min-interval"));
    o.batchMaxInterval = std::max(o.batchMinInterval, c.duration(s("batch.max-interval")));
    o.batchIntervalFactor = static_cast<int>(c.integer(s("batch.interval-factor")));
    o.transactionTimeout = c.duration(s("kafka.transaction-timeout"));
    o.sessionTimeout = c.duration(s("kafka.session-timeout"));
    o.staticMembership = c.boolean(s("kafka.static-membership"));
    o.stallTimeout = c.duration(s("kafka.stall-timeout"));

    o.backoff.base = c.duration(s("retry.base"));
    o.backoff.cap = c.duration(s("retry.cap"));
    o.backoff.maxAttempts = static_cast<int>(c.integer(s("retry.max-attempts")));
    auto factor = toDouble(c, "retry.factor");
    if (!factor)
        return factor.error();
    o.backoff.factor = *factor;
    auto jitter = toDouble(c, "retry.jitter");
    if (!jitter)
        return jitter.error();
    o.backoff.jitter = *jitter;
    if (auto r = o.backoff.validate(); !r)
        return r.error();

    PipelineOptions &p = o.pipeline;
    p.maxEventBytes = static_cast<std::size_t>(c.bytes(s("limits.max-event-bytes")));
    p.maxMessageBytes = static_cast<std::size_t>(c.bytes(s("limits.max-message-bytes")));
    p.maxAttrDepth = static_cast<std::size_t>(c.integer(s("limits.max-attr-depth")));
    p.maxAttrKeys = static_cast<std::size_t>(c.integer(s("limits.max-attr-keys")));
    p.maxValueBytes = static_cast<std::size_t>(c.bytes(s("limits.max-value-bytes")));
    p.maxFutureSkewNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            c.duration(s("limits.max-future-skew")))
                            .count();
    p.defaultApp = c.string(s("default.app")).toStdString();
    p.defaultHost = c.string(s("default.host")).toStdString();
    p.transientMarker = c.string(s("test.transient-marker")).toStdString();

    auto builtin = selectBuiltinRules(c.string(s("redact.builtin")).toStdString());
    if (!builtin)
        return builtin.error();
    o.redaction = std::move(builtin).value();
    if (const QString path = c.string(s("redact.rules")); !path.isEmpty()) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            return makeError(ErrorCode::NotFound,
                             "redact.rules: cannot read " + path.toStdString());
        const QByteArray text = f.readAll();
        auto extra = parseRedactionRules(std::string_view(text.constData(), text.size()));
        if (!extra)
            return extra.error();
        for (RedactionRule &r : *extra)
            o.redaction.push_back(std::move(r));
    }
    auto sampling = parseSampleRules(c.string(s("sample.rules")).toStdString());
    if (!sampling)
        return sampling.error();
    o.sampling = std::move(sampling).value();
    return o;
}

} // namespace idl::processor
