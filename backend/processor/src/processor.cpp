#include "idl/processor/processor.h"

#include "idl/core/timestamp.h"
#include "idl/kafka/admin.h"
#include "idl/kafka/consumer.h"
#include "idl/kafka/group_watcher.h"
#include "idl/kafka/idempotency.h"
#include "idl/kafka/producer.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/processor/envelope.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace idl::processor {

namespace {

using Clock = std::chrono::steady_clock;
using TopicPart = std::pair<std::string, std::int32_t>;

std::int64_t nowMs()
{
    return nowNs() / 1'000'000;
}

std::optional<std::int64_t> toInt(std::optional<std::string_view> text)
{
    if (!text)
        return std::nullopt;
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || p != text->data() + text->size())
        return std::nullopt;
    return v;
}

QVariant qv(std::string_view s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

// Counts of one open transaction; published only when it commits.
struct BatchCounts
{
    std::uint64_t consumedRaw = 0;
    std::uint64_t consumedRetry = 0;
    std::uint64_t produced = 0;
    std::uint64_t retried = 0;
    std::uint64_t redacted = 0;
    std::map<std::size_t, std::uint64_t> droppedByRule;
    std::map<ErrorCode, std::uint64_t> deadByCode;
};

} // namespace

struct Processor::Impl
{
    ProcessorOptions opt;
    std::shared_ptr<const Redactor> redactor;
    std::shared_ptr<const Sampler> sampler;
    std::unique_ptr<Pipeline> pipeline;
    std::unique_ptr<kafka::Consumer> consumer;
    kafka::ConsumerOptions consumerOptions; // to replace a fenced consumer
    std::unique_ptr<kafka::Producer> producer;
    std::thread worker;
    // watchGroup: the group's committed offsets on the raw topic (kafka::GroupWatcher).
    std::unique_ptr<kafka::GroupWatcher> watcher;
    std::atomic<bool> stopFlag{false};
    std::atomic<bool> running{false};
    mutable std::mutex mutex; // guards totals, notReady, the readiness state below
    ProcessorStats totals;
    std::string notReady = "not started";
    std::optional<Clock::time_point> commitFailingSince; // first failed commit since a success
    std::string lastCommitError;
    std::optional<Clock::time_point> unassignedSince = Clock::now();
    std::map<std::int32_t, Clock::time_point> rawHeldSince; // raw partitions held, since when
    std::mt19937_64 rng{std::random_device{}()};

    // ---- worker-thread state ----
    bool txnOpen = false;
    Clock::time_point txnStarted;
    int batchCount = 0;
    std::size_t batchBytes = 0;
    Clock::time_point lastCommitStart{};
    Clock::duration commitInterval{}; // the current, load-adaptive interval (commitAllowedAt)
    std::map<TopicPart, std::int64_t> nextOffsets;  // offsets to commit with this batch
    std::map<TopicPart, std::int64_t> startOffsets; // where to rewind on abort
    std::map<TopicPart, std::int64_t> paused;       // retry partitions waiting: due (ms)
    std::map<TopicPart, std::int64_t> positions;    // next offset to read, for lag
    BatchCounts batch;
    PipelineStats published; // pipeline stats already exported (committed batches)
    std::string out;
    std::string payload; // the redacted copy of a record for the retry / dead-letter topic
    Clock::time_point lastLagUpdate;
    bool fatal = false;

    // ---- metrics ----
    metrics::Registry &reg = metrics::Registry::global();
    metrics::Counter &mConsumedRaw;
    metrics::Counter &mConsumedRetry;
    metrics::Counter &mProduced;
    metrics::Counter &mRetried;
    metrics::Counter &mCommits;
    metrics::Counter &mAborts;
    metrics::Counter &mRejoins;
    metrics::Histogram &mBatchSeconds;
    std::map<TopicPart, metrics::Gauge *> lagGauges;

    explicit Impl(ProcessorOptions o)
        : opt(std::move(o)), mConsumedRaw(reg.counter("idl_processor_consumed_total",
                                                      "Records consumed (committed transactions)",
                                                      {{"source", "raw"}})),
          mConsumedRetry(reg.counter("idl_processor_consumed_total",
                                     "Records consumed (committed transactions)",
                                     {{"source", "retry"}})),
          mProduced(reg.counter("idl_processor_produced_total",
                                "Normalized events written to the events topic")),
          mRetried(reg.counter("idl_processor_retried_total", "Records sent to the retry topic")),
          mCommits(reg.counter("idl_processor_transactions_total", "Kafka transactions",
                               {{"result", "commit"}})),
          mAborts(reg.counter("idl_processor_transactions_total", "Kafka transactions",
                              {{"result", "abort"}})),
          mRejoins(reg.counter("idl_processor_rejoins_total",
                               "Consumers replaced after a fatal consumer error (fenced static "
                               "member)")),
          mBatchSeconds(reg.histogram("idl_processor_batch_seconds",
                                      "Time from the first record of a batch to its commit"))
    {}

    void setNotReady(std::string why)
    {
        std::lock_guard lock(mutex);
        notReady = std::move(why);
    }

    void die(const Error &e)
    {
        fatal = true;
        stopFlag = true;
        jlog::error("processor stopped on a fatal error", {{"error", qv(e.message)}});
        setNotReady("fatal: " + e.message);
        if (opt.onFatal)
            opt.onFatal(e);
    }

    // ---- transactions ----

    void ensureTxn()
    {
        if (txnOpen)
            return;
        if (auto r = producer->beginTransaction(); !r) {
            die(r.error());
            return;
        }
        txnOpen = true;
        txnStarted = Clock::now();
        batchCount = 0;
        batchBytes = 0;
    }

    void resetBatch()
    {
        txnOpen = false;
        batchCount = 0;
        batchBytes = 0;
        nextOffsets.clear();
        startOffsets.clear();
        batch = {};
    }

    // Aborts the open transaction and rewinds every partition it read from.
    void abortBatch(const Error &why, bool rewind)
    {
        jlog::warn("aborting transaction", {{"error", qv(why.message)}});
        if (auto r = producer->abortTransaction(std::chrono::seconds(30)); !r) {
            if (producer->fatalError()) {
                die(r.error());
                return;
            }
        }
        mAborts.inc();
        {
            std::lock_guard lock(mutex);
            ++totals.aborts;
        }
        if (rewind) {
            for (const auto &[tp, offset] : startOffsets) {
                if (auto r =
                        consumer->seek({tp.first, tp.second, offset}, std::chrono::seconds(10));
                    !r)
                    jlog::warn("rewind failed", {{"error", qv(r.error().message)}});
                positions[tp] = offset;
            }
            std::vector<kafka::TopicPartition> resume;
            for (const auto &[tp, due] : paused)
                resume.push_back({tp.first, tp.second, -1001});
            if (!resume.empty())
                (void)consumer->resume(resume);
            paused.clear();
        }
        // Counts of the aborted batch are discarded: its records will be processed again.
        published = pipeline->stats();
        resetBatch();
    }

    void commitFailed(const Error &e)
    {
        std::lock_guard lock(mutex);
        if (!commitFailingSince)
            commitFailingSince = Clock::now();
        lastCommitError = e.message;
    }

    bool commitBatch()
    {
        if (!txnOpen)
            return true;
        lastCommitStart = Clock::now();
        std::vector<kafka::TopicPartition> offsets;
        offsets.reserve(nextOffsets.size());
        for (const auto &[tp, offset] : nextOffsets)
            offsets.push_back({tp.first, tp.second, offset});
        if (auto r =
                producer->sendOffsetsToTransaction(offsets, *consumer, std::chrono::seconds(30));
            !r) {
            commitFailed(r.error());
            if (producer->fatalError())
                die(r.error());
            else
                abortBatch(r.error(), true);
            return false;
        }
        if (auto r = producer->commitTransaction(std::chrono::seconds(60)); !r) {
            commitFailed(r.error());
            if (producer->fatalError())
                die(r.error());
            else
                abortBatch(r.error(), true);
            return false;
        }
        const auto committed = Clock::now();
        commitInterval =
            std::clamp<Clock::duration>((committed - lastCommitStart) * opt.batchIntervalFactor,
                                        opt.batchMinInterval, opt.batchMaxInterval);
        mBatchSeconds.observe(std::chrono::duration<double>(committed - txnStarted).count());
        {
            std::lock_guard lock(mutex);
            commitFailingSince.reset();
        }
        publish();
        resetBatch();
        return true;
    }

    // Exports the counts of a committed batch.
    void publish()
    {
        mCommits.inc();
        mConsumedRaw.inc(batch.consumedRaw);
        mConsumedRetry.inc(batch.consumedRetry);
        mProduced.inc(batch.produced);
        mRetried.inc(batch.retried);
        std::uint64_t dropped = 0;
        for (const auto &[rule, n] : batch.droppedByRule) {
            reg.counter("idl_processor_dropped_total",
                        "Events dropped by a sample/drop rule (never silent)",
                        {{"rule", opt.sampling.at(rule).text}})
                .inc(n);
            dropped += n;
        }
        std::uint64_t dead = 0;
        for (const auto &[code, n] : batch.deadByCode) {
            reg.counter("idl_processor_dead_lettered_total", "Records sent to the DLQ",
                        {{"code", std::string(errorCodeName(code))}})
                .inc(n);
            dead += n;
        }
        const PipelineStats &now = pipeline->stats();
        std::uint64_t redacted = 0;
        for (std::size_t i = 0; i < now.redactedByRule.size(); ++i) {
            const std::uint64_t before =
                i < published.redactedByRule.size() ? published.redactedByRule[i] : 0;
            if (now.redactedByRule[i] > before) {
                reg.counter("idl_processor_redacted_total", "Secrets replaced, per rule",
                            {{"rule", redactor->rule(i).name}})
                    .inc(now.redactedByRule[i] - before);
                redacted += now.redactedByRule[i] - before;
            }
        }
        const auto normalized = [&](const char *kind, std::uint64_t nowV, std::uint64_t before) {
            if (nowV > before)
                reg.counter("idl_processor_normalized_total",
                            "Events changed by normalization (marked on the event), per kind",
                            {{"kind", kind}})
                    .inc(nowV - before);
        };
        normalized("value_truncated", now.valuesTruncated, published.valuesTruncated);
        normalized("message_truncated", now.messagesTruncated, published.messagesTruncated);
        normalized("attr_dropped", now.attrsDropped, published.attrsDropped);
        normalized("attr_flattened", now.attrsFlattened, published.attrsFlattened);
        normalized("future_timestamp", now.futureTimestamps, published.futureTimestamps);
        normalized("missing_timestamp", now.missingTimestamps, published.missingTimestamps);
        normalized("default_app", now.defaultedApp, published.defaultedApp);
        normalized("default_host", now.defaultedHost, published.defaultedHost);
        normalized("bad_trace_id", now.badTraceIds, published.badTraceIds);
        normalized("native_format", now.nativeFormat, published.nativeFormat);
        if (now.redactionFailures > published.redactionFailures)
            reg.counter("idl_processor_redaction_failures_total",
                        "Values replaced whole because the redaction matcher failed "
                        "(fail closed)")
                .inc(now.redactionFailures - published.redactionFailures);
        published = now;
        std::lock_guard lock(mutex);
        totals.consumed += batch.consumedRaw + batch.consumedRetry;
        totals.produced += batch.produced;
        totals.dropped += dropped;
        totals.retried += batch.retried;
        totals.deadLettered += dead;
        totals.redacted += redacted;
        ++totals.transactions;
    }

    // ---- producing ----

    // The Idempotency-Key headers of a raw record (idl/kafka/idempotency.h), for its processed
    // event; none (no allocation) for records of requests without the header.
    kafka::Headers keyedHeaders;
    const kafka::Headers &idempotencyHeaders(const kafka::Message &m)
    {
        keyedHeaders.clear();
        const auto key = m.header(kafka::idempotency::kKey);
        if (!key)
            return keyedHeaders;
        for (const std::string_view name :
             {kafka::idempotency::kScope, kafka::idempotency::kKey, kafka::idempotency::kIndex})
            if (auto v = m.header(name))
                keyedHeaders.push_back({std::string(name), std::string(*v)});
        return keyedHeaders;
    }

    bool send(const std::string &topic, std::optional<std::string_view> key, std::string_view value,
              const kafka::Headers &hdrs)
    {
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        for (;;) {
            auto r = producer->produce(topic, key, value, hdrs);
            if (r)
                return true;
            if (r.error().code == ErrorCode::Overloaded && Clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            abortBatch(r.error(), true);
            return false;
        }
    }

    // The original headers without the processor's envelope, plus a new envelope.
    kafka::Headers envelope(const kafka::Message &m, const Error &error, int attempts,
                            std::optional<std::int64_t> notBeforeMs, PayloadForm form)
    {
        kafka::Headers h;
        const bool fromRetry = m.topic() == opt.retryTopic;
        std::string srcTopic(m.topic());
        std::string srcPartition = std::to_string(m.partition());
        std::string srcOffset = std::to_string(m.offset());
        std::string firstSeen = std::to_string(nowNs());
        for (kafka::Header &header : m.headers()) {
            if (!headers::isEnvelope(header.key)) {
                h.push_back(std::move(header));
                continue;
            }
            if (!fromRetry || !header.value)
                continue;
            if (header.key == headers::kSourceTopic)
                srcTopic = *header.value;
            else if (header.key == headers::kSourcePartition)
                srcPartition = *header.value;
            else if (header.key == headers::kSourceOffset)
                srcOffset = *header.value;
            else if (header.key == headers::kFirstSeen)
                firstSeen = *header.value;
        }
        h.push_back({std::string(headers::kErrorCode), std::string(error.codeName())});
        // The message may quote the input (a bad level, a timestamp): redacted too.
        h.push_back({std::string(headers::kErrorMessage), pipeline->redactText(error.message)});
        h.push_back({std::string(headers::kSourceTopic), srcTopic});
        h.push_back({std::string(headers::kSourcePartition), srcPartition});
        h.push_back({std::string(headers::kSourceOffset), srcOffset});
        h.push_back({std::string(headers::kFirstSeen), firstSeen});
        h.push_back({std::string(headers::kAttempts), std::to_string(attempts)});
        if (notBeforeMs)
            h.push_back({std::string(headers::kNotBefore), std::to_string(*notBeforeMs)});
        else
            h.push_back({std::string(headers::kDeadAt), std::to_string(nowNs())});
        h.push_back({std::string(headers::kProcessor), opt.instanceId});
        if (form != PayloadForm::Original)
            h.push_back({std::string(headers::kPayload),
                         form == PayloadForm::Redacted ? "redacted" : "withheld"});
        return h;
    }

    // Writes a failed record to the retry or dead-letter topic: its key and headers, its value
    // redacted like an event (never the secret-bearing original), the envelope.
    bool sendFailed(const std::string &topic, const kafka::Message &m, const Error &error,
                    int attempts, std::optional<std::int64_t> notBeforeMs)
    {
        const PayloadForm form = pipeline->redactPayload(m.value(), payload);
        const std::string_view value = form == PayloadForm::Original ? m.value() : payload;
        return send(topic, m.key(), value, envelope(m, error, attempts, notBeforeMs, form));
    }

    bool deadLetter(const kafka::Message &m, const Error &error, int attempts)
    {
        ++batch.deadByCode[error.code];
        return sendFailed(opt.dlqTopic, m, error, attempts, std::nullopt);
    }

    // ---- per record ----

    void handle(const kafka::Message &m)
    {
        const TopicPart tp{std::string(m.topic()), m.partition()};
        const bool fromRetry = m.topic() == opt.retryTopic;
        int attempt = 0; // retries already made before this processing
        if (fromRetry) {
            attempt = static_cast<int>(toInt(m.header(headers::kAttempts)).value_or(1));
            const std::int64_t due = toInt(m.header(headers::kNotBefore)).value_or(0);
            if (due > nowMs()) {
                // Not due yet: park this partition (raw events keep flowing) and read the
                // record again once it is due.
                (void)consumer->pause({{tp.first, tp.second, -1001}});
                if (auto r =
                        consumer->seek({tp.first, tp.second, m.offset()}, std::chrono::seconds(10));
                    !r)
                    jlog::warn("seek on retry partition failed",
                               {{"error", qv(r.error().message)}});
                paused[tp] = due;
                positions[tp] = m.offset();
                return;
            }
        }
        ensureTxn();
        if (!txnOpen)
            return;
        startOffsets.try_emplace(tp, m.offset());
        nextOffsets[tp] = m.offset() + 1;
        positions[tp] = m.offset() + 1;
        ++batchCount;
        batchBytes += m.value().size();
        ++(fromRetry ? batch.consumedRetry : batch.consumedRaw);

        RecordInfo info;
        info.key = m.key();
        info.collector = m.header(headers::kCollector);
        info.keyId = m.header(headers::kKeyId);
        info.recordTimestampMs = fromRetry ? -1 : m.timestampMs();
        info.nowNs = nowNs();
        info.attempt = attempt;
        out.clear();
        const PipelineResult r = pipeline->process(m.value(), info, out);
        switch (r.outcome) {
        case Outcome::Produce:
            if (send(opt.eventsTopic, r.app, out, idempotencyHeaders(m)))
                ++batch.produced;
            return;
        case Outcome::Drop:
            ++batch.droppedByRule[r.dropRule];
            return;
        case Outcome::Poison:
            deadLetter(m, r.error, attempt + 1);
            return;
        case Outcome::Transient:
            if (opt.backoff.mayRetry(attempt)) {
                const int next = attempt + 1;
                const std::int64_t due = nowMs() + opt.backoff.delay(next, rng).count();
                if (sendFailed(opt.retryTopic, m, r.error, next, due))
                    ++batch.retried;
            } else {
                Error e = r.error;
                e.message =
                    "gave up after " + std::to_string(attempt + 1) + " attempts: " + e.message;
                deadLetter(m, e, attempt + 1);
            }
            return;
        }
    }

    void onRebalance(kafka::RebalanceKind kind, std::vector<kafka::TopicPartition> &parts)
    {
        if (kind == kafka::RebalanceKind::Assigned) {
            jlog::info("partitions assigned", {{"count", static_cast<int>(parts.size())}});
            return;
        }
        // Revoked: finish the batch now, while the partitions are still ours. Lost: another
        // member may own them already, so the batch is aborted (its records go to the new
        // owner from the last committed offsets).
        if (txnOpen) {
            if (kind == kafka::RebalanceKind::Revoked)
                commitBatch();
            else
                abortBatch(makeError(ErrorCode::Conflict, "partitions lost"), false);
        }
        std::vector<kafka::TopicPartition> resume;
        for (const kafka::TopicPartition &p : parts) {
            const TopicPart tp{p.topic, p.partition};
            if (paused.erase(tp))
                resume.push_back({p.topic, p.partition, -1001});
            positions.erase(tp);
            if (auto it = lagGauges.find(tp); it != lagGauges.end())
                it->second->set(0);
        }
        if (!resume.empty())
            (void)consumer->resume(resume);
        jlog::info(kind == kafka::RebalanceKind::Revoked ? "partitions revoked" : "partitions lost",
                   {{"count", static_cast<int>(parts.size())}});
    }

    void updateAssignment()
    {
        const std::vector<kafka::TopicPartition> assigned = consumer->assignment();
        std::lock_guard lock(mutex);
        const bool holds = !assigned.empty();
        if (holds && unassignedSince)
            unassignedSince.reset();
        else if (!holds && !unassignedSince)
            unassignedSince = Clock::now();
        std::map<std::int32_t, Clock::time_point> held;
        for (const kafka::TopicPartition &tp : assigned) {
            if (tp.topic != opt.rawTopic)
                continue;
            const auto it = rawHeldSince.find(tp.partition);
            held[tp.partition] = it != rawHeldSince.end() ? it->second : Clock::now();
        }
        rawHeldSince = std::move(held);
    }

    // A fatal consumer error (this static member was fenced by another consumer with the same
    // group.instance.id, e.g. after a broker crash): the consumer never consumes again, so it
    // is replaced by a new one that joins the group again (the producer is unaffected; a
    // fenced producer is fatal for the process, see die()).
    void rejoin(const Error &why)
    {
        jlog::warn("consumer failed, joining the group again", {{"error", qv(why.message)}});
        if (txnOpen)
            abortBatch(why, false); // the new member reads from the committed offsets
        if (fatal)
            return;
        positions.clear();
        paused.clear();
        for (auto &[tp, g] : lagGauges)
            g->set(0);
        consumer->close();
        consumer.reset();
        auto c = kafka::Consumer::create(consumerOptions);
        if (!c) {
            die(c.error());
            return;
        }
        consumer = std::move(c).value();
        if (auto r = consumer->subscribe({opt.rawTopic, opt.retryTopic}); !r) {
            die(r.error());
            return;
        }
        mRejoins.inc();
    }

    void updateLag()
    {
        for (const auto &[tp, position] : positions) {
            const auto [lo, hi] = consumer->cachedWatermarks(tp.first, tp.second);
            (void)lo;
            if (hi < 0)
                continue;
            metrics::Gauge *&g = lagGauges[tp];
            if (!g)
                g = &reg.gauge("idl_processor_lag", "Records behind the partition's end",
                               {{"topic", tp.first}, {"partition", std::to_string(tp.second)}});
            g->set(static_cast<double>(std::max<std::int64_t>(0, hi - position)));
        }
    }

    void resumeDue()
    {
        if (paused.empty())
            return;
        const std::int64_t now = nowMs();
        std::vector<kafka::TopicPartition> resume;
        for (auto it = paused.begin(); it != paused.end();) {
            if (it->second <= now) {
                resume.push_back({it->first.first, it->first.second, -1001});
                it = paused.erase(it);
            } else {
                ++it;
            }
        }
        if (!resume.empty())
            (void)consumer->resume(resume);
    }

    // When the next commit may start: at most one per commitInterval (batchMinInterval, or
    // batchIntervalFactor x the last commit's duration, up to batchMaxInterval).
    Clock::time_point commitAllowedAt() const
    {
        return lastCommitStart + std::max<Clock::duration>(commitInterval, opt.batchMinInterval);
    }

    std::chrono::milliseconds pollTimeout() const
    {
        // With a transaction open, what is ready joins it; once the commit interval allows,
        // an empty poll commits.
        if (txnOpen)
            return std::max(
                std::chrono::milliseconds(0),
                std::chrono::ceil<std::chrono::milliseconds>(commitAllowedAt() - Clock::now()));
        std::chrono::milliseconds t{100};
        if (!paused.empty()) {
            std::int64_t next = INT64_MAX;
            for (const auto &[tp, due] : paused)
                next = std::min(next, due);
            t = std::min(t, std::chrono::milliseconds(std::max<std::int64_t>(0, next - nowMs())));
        }
        return t;
    }

    void run()
    {
        while (!stopFlag.load(std::memory_order_relaxed)) {
            resumeDue();
            auto polled = consumer->poll(pollTimeout());
            if (fatal)
                break;
            bool drained = true; // nothing more is ready to join the open transaction
            if (!polled) {
                if (auto e = consumer->fatalError()) {
                    rejoin(*e);
                    if (fatal)
                        break;
                    continue;
                }
                jlog::warn("consume error", {{"error", qv(polled.error().message)}});
            } else if (polled->has_value()) {
                drained = false;
                handle(**polled);
                if (fatal)
                    break;
            }
            // Natural batching: commit as soon as the input is drained; the bounds only cap a
            // transaction under sustained load.
            if (txnOpen) {
                const auto now = Clock::now();
                if ((drained && now >= commitAllowedAt()) || batchCount >= opt.batchMaxEvents ||
                    batchBytes >= opt.batchMaxBytes || now - txnStarted >= opt.batchMaxWait)
                    commitBatch();
            }
            if (Clock::now() - lastLagUpdate >= std::chrono::seconds(1)) {
                if (auto e = consumer->fatalError()) {
                    rejoin(*e);
                    if (fatal)
                        break;
                }
                updateLag();
                updateAssignment();
                lastLagUpdate = Clock::now();
            }
        }
        if (!fatal)
            commitBatch();
        consumer->close();
        running = false;
    }
};

Processor::Processor(ProcessorOptions options) : d(std::make_unique<Impl>(std::move(options))) {}

Processor::~Processor()
{
    stop();
}

Result<void> Processor::start()
{
    ProcessorOptions &o = d->opt;
    if (auto r = o.backoff.validate(); !r)
        return r;
    auto redactor = Redactor::create(o.redaction);
    if (!redactor)
        return redactor.error();
    d->redactor = std::shared_ptr<const Redactor>(std::move(redactor).value());
    d->sampler = std::make_shared<const Sampler>(o.sampling);
    d->pipeline = std::make_unique<Pipeline>(o.pipeline, d->redactor, d->sampler);
    d->published = d->pipeline->stats();

    kafka::ProducerOptions po;
    po.config = o.producerExtra;
    po.config["bootstrap.servers"] = o.bootstrap;
    po.config["transactional.id"] = "idl-processor-" + o.instanceId;
    po.config["transaction.timeout.ms"] = std::to_string(o.transactionTimeout.count());
    po.config.try_emplace("linger.ms", "5");
    po.config.try_emplace("queue.buffering.max.messages", "500000");
    po.config.try_emplace("client.id", "idl-processor-" + o.instanceId);
    // Back within about a second of a restarted broker (librdkafka's default grows to 10 s).
    po.config.try_emplace("reconnect.backoff.max.ms", "1000");
    po.onError = [](const Error &e) { jlog::warn("kafka producer", {{"error", qv(e.message)}}); };
    auto producer = kafka::Producer::create(std::move(po));
    if (!producer)
        return producer.error();
    d->producer = std::move(producer).value();
    if (auto r = d->producer->initTransactions(std::chrono::seconds(60)); !r)
        return r;

    kafka::ConsumerOptions co;
    co.config = o.consumerExtra;
    co.config["bootstrap.servers"] = o.bootstrap;
    co.config["group.id"] = o.groupId;
    co.config["isolation.level"] = "read_committed";
    co.config["enable.auto.commit"] = "false";
    co.config["session.timeout.ms"] = std::to_string(o.sessionTimeout.count());
    co.config.try_emplace("heartbeat.interval.ms",
                          std::to_string(std::max<long long>(500, o.sessionTimeout.count() / 4)));
    co.config.try_emplace("client.id", "idl-processor-" + o.instanceId);
    co.config.try_emplace("reconnect.backoff.max.ms", "1000");
    if (o.staticMembership) // a restarted instance takes its partitions back without a rebalance
        co.config.try_emplace("group.instance.id", "idl-processor-" + o.instanceId);
    Impl *impl = d.get();
    co.onRebalance = [impl](kafka::RebalanceKind kind, std::vector<kafka::TopicPartition> &parts) {
        impl->onRebalance(kind, parts);
    };
    co.onError = [](const Error &e) { jlog::warn("kafka consumer", {{"error", qv(e.message)}}); };
    d->consumerOptions = co;
    auto consumer = kafka::Consumer::create(std::move(co));
    if (!consumer)
        return consumer.error();
    d->consumer = std::move(consumer).value();
    if (auto r = d->consumer->subscribe({o.rawTopic, o.retryTopic}); !r)
        return r;

    d->running = true;
    d->setNotReady({});
    d->worker = std::thread([impl] { impl->run(); });
    if (o.watchGroup) {
        // idl_processor_consumer_lag{topic,partition} counts every raw partition (also those
        // no member holds), idl_processor_stalled_partitions those that stand still.
        kafka::GroupWatcherOptions wo;
        wo.config = {{"bootstrap.servers", o.bootstrap},
                     {"group.id", o.groupId},
                     {"reconnect.backoff.max.ms", "1000"},
                     {"client.id", "idl-processor-" + o.instanceId + "-watch"}};
        wo.topic = o.rawTopic;
        wo.stallTimeout = o.stallTimeout;
        wo.stalledMetric = "idl_processor_stalled_partitions";
        wo.lagMetric = "idl_processor_consumer_lag";
        wo.topicMeaning = "raw topic";
        d->watcher = std::make_unique<kafka::GroupWatcher>(std::move(wo));
        if (auto r = d->watcher->start(); !r) {
            jlog::warn("group watcher disabled", {{"error", qv(r.error().message)}});
            d->watcher.reset();
        }
    }
    jlog::info("processor started", {{"instance", qv(o.instanceId)},
                                     {"group", qv(o.groupId)},
                                     {"raw", qv(o.rawTopic)},
                                     {"events", qv(o.eventsTopic)}});
    return {};
}

void Processor::stop()
{
    {
        std::lock_guard lock(d->mutex);
        d->stopFlag = true;
    }
    if (d->watcher)
        d->watcher->stop();
    if (d->worker.joinable())
        d->worker.join();
    d->consumer.reset();
    d->producer.reset();
}

std::string Processor::notReadyReason() const
{
    std::lock_guard lock(d->mutex);
    if (!d->notReady.empty())
        return d->notReady;
    if (d->commitFailingSince && Clock::now() - *d->commitFailingSince >= d->opt.stallTimeout)
        return "cannot commit for " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                  Clock::now() - *d->commitFailingSince)
                                  .count()) +
               " s: " + d->lastCommitError;
    return {};
}

std::chrono::milliseconds Processor::unassignedFor() const
{
    std::lock_guard lock(d->mutex);
    if (!d->unassignedSince)
        return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                 *d->unassignedSince);
}

kafka::StalledPartitions Processor::stalledPartitions() const
{
    return d->watcher ? d->watcher->stalled() : kafka::StalledPartitions{};
}

std::map<std::int32_t, std::chrono::milliseconds> Processor::rawPartitionsHeld() const
{
    std::lock_guard lock(d->mutex);
    std::map<std::int32_t, std::chrono::milliseconds> out;
    const auto now = Clock::now();
    for (const auto &[p, since] : d->rawHeldSince)
        out[p] = std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
    return out;
}

std::string groupNotReady(const std::vector<Processor *> &members,
                          std::chrono::milliseconds stallTimeout)
{
    kafka::StalledPartitions stalled;
    std::map<std::int32_t, std::chrono::milliseconds> held;
    std::chrono::milliseconds unassigned = std::chrono::milliseconds::max();
    for (const Processor *p : members) {
        if (std::string why = p->notReadyReason(); !why.empty())
            return why;
        if (stalled.empty())
            stalled = p->stalledPartitions();
        for (const auto &[partition, d] : p->rawPartitionsHeld())
            held[partition] = std::max(held[partition], d);
        unassigned = std::min(unassigned, p->unassignedFor());
    }
    if (members.empty())
        return {};
    return kafka::stallNotReady(stalled, held, unassigned, stallTimeout);
}

ProcessorStats Processor::stats() const
{
    std::lock_guard lock(d->mutex);
    return d->totals;
}

} // namespace idl::processor
