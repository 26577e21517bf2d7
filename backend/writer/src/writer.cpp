#include "idl/writer/writer.h"

#include "idl/core/json_codec.h"
#include "idl/core/timestamp.h"
#include "idl/kafka/consumer.h"
#include "idl/kafka/idempotency.h"
#include "idl/kafka/producer.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/schema/migrations.h"
#include "idl/writer/batch_store.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace idl::writer {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kOffsetBeginning = -2; // RD_KAFKA_OFFSET_BEGINNING

QString q(std::string_view s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

// One event PostgreSQL must not (or did not) get, on its way to the dead-letter topic.
struct DeadLetter
{
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::optional<std::string> key;
    std::string value;
    ErrorCode code = ErrorCode::Internal;
    std::string reason;
};

// Per assigned partition: the offset stored in PostgreSQL (the fence) and the next offset
// this writer expects to read (older messages are stale duplicates after a seek).
struct PartitionState
{
    std::int64_t stored = -1;   // -1: none stored
    std::int64_t position = -1; // -1: accept whatever comes first
};

// Events read but not yet stored, with where they came from.
struct Batch
{
    std::vector<LogEvent> events;
    std::vector<std::int32_t> eventPartition;
    std::vector<std::int64_t> eventOffset;
    std::vector<KeyedEvent> keyed; // the events sent with an Idempotency-Key (usually none)
    std::vector<DeadLetter> dead;
    std::map<std::int32_t, std::int64_t> nextOffset;
    std::int64_t bytes = 0;
    Clock::time_point firstAt;

    bool empty() const { return nextOffset.empty(); }
    std::size_t count() const { return events.size() + dead.size(); }
    void clear()
    {
        events.clear();
        eventPartition.clear();
        eventOffset.clear();
        keyed.clear();
        dead.clear();
        nextOffset.clear();
        bytes = 0;
    }
    // Forgets everything read from these partitions.
    void drop(const std::set<std::int32_t> &partitions)
    {
        std::size_t out = 0;
        std::vector<std::size_t> moved(events.size(), SIZE_MAX); // old position -> new
        for (std::size_t i = 0; i < events.size(); ++i) {
            if (partitions.count(eventPartition[i]))
                continue;
            moved[i] = out;
            if (out != i) {
                events[out] = std::move(events[i]);
                eventPartition[out] = eventPartition[i];
                eventOffset[out] = eventOffset[i];
            }
            ++out;
        }
        events.resize(out);
        eventPartition.resize(out);
        eventOffset.resize(out);
        std::erase_if(keyed, [&](const KeyedEvent &k) { return moved[k.event] == SIZE_MAX; });
        for (KeyedEvent &k : keyed)
            k.event = moved[k.event];
        std::erase_if(dead, [&](const DeadLetter &d) { return partitions.count(d.partition); });
        for (const auto p : partitions)
            nextOffset.erase(p);
    }
};

} // namespace

struct Writer::Impl
{
    explicit Impl(WriterOptions o) : opt(std::move(o)), rng(std::random_device{}()) {}

    WriterOptions opt;
    std::thread thread;
    std::atomic<bool> stopping{false};
    mutable std::mutex mutex;
    std::string notReady = "starting";
    // Guarded by mutex: the partitions held (since when), or since when none.
    std::map<std::int32_t, Clock::time_point> heldSince;
    std::optional<Clock::time_point> unassignedSince = Clock::now();

    std::atomic<std::uint64_t> rowsWritten{0}, batches{0}, deadLettered{0}, sanitized{0},
        dbErrors{0}, fenced{0};

    // Worker thread only.
    std::unique_ptr<kafka::Consumer> consumer;
    kafka::ConsumerOptions consumerOptions; // to replace a fenced consumer
    std::unique_ptr<kafka::Producer> producer;
    std::unique_ptr<BatchStore> store;
    std::map<std::int32_t, PartitionState> parts;
    Batch batch;
    // The batch before `batch`, stored by a task on another thread (one attempt) while this
    // thread reads and decodes the next one. At most one; its result is applied here.
    Batch inflight;
    std::future<Result<StoreReport>> inflightTask;
    std::vector<OffsetAdvance> inflightOffsets;
    bool paused = false;
    bool inFlush = false;
    std::mt19937_64 rng;
    std::string sourceKey;

    metrics::Registry &reg = metrics::Registry::global();
    metrics::Counter &mRows =
        reg.counter("idl_writer_rows_written_total", "Events stored in PostgreSQL");
    metrics::Counter &mBatches = reg.counter("idl_writer_batches_total", "Batches committed");
    metrics::Counter &mDuplicates =
        reg.counter("idl_writer_idempotent_duplicates_total",
                    "Events not stored because their Idempotency-Key and index were stored before");
    metrics::Histogram &mBatchSize =
        reg.histogram("idl_writer_batch_events", "Events per committed batch",
                      {10, 100, 500, 1000, 2000, 5000, 10000, 20000, 50000});
    metrics::Histogram &mBatchSeconds =
        reg.histogram("idl_writer_batch_seconds", "Time to store one batch (transaction)");
    metrics::Histogram &mCopySeconds =
        reg.histogram("idl_writer_copy_seconds", "Time spent in COPY per batch");
    metrics::Histogram &mBatchAge = reg.histogram(
        "idl_writer_batch_latency_seconds", "From the first event read to its batch committed");
    metrics::Counter &mDbErrors =
        reg.counter("idl_writer_db_errors_total", "Failed attempts to store a batch");
    metrics::Counter &mFenced = reg.counter(
        "idl_writer_fenced_total", "Batches discarded because the stored offsets had moved");
    metrics::Counter &mRejoins =
        reg.counter("idl_writer_rejoins_total",
                    "Consumers replaced after a fatal consumer error (fenced static member)");
    metrics::Counter &mSanitized =
        reg.counter("idl_writer_sanitized_total", "Events stored after repairs (NUL, UTF-8, ...)");
    // Gauges are per group member (several run in one process); sum() them for the process.
    const metrics::Labels memberLabel{{"consumer", std::to_string(opt.member)}};
    metrics::Gauge &mPaused = reg.gauge(
        "idl_writer_paused", "1 while consumption is paused (PostgreSQL unavailable)", memberLabel);
    metrics::Gauge &mLag =
        reg.gauge("idl_writer_lag_events",
                  "Events in assigned partitions not yet stored (after a batch)", memberLabel);
    metrics::Gauge &mAssigned = reg.gauge("idl_writer_assigned_partitions",
                                          "Partitions assigned to this group member", memberLabel);

    void setNotReady(std::string reason)
    {
        std::lock_guard lock(mutex);
        notReady = std::move(reason);
    }

    // After parts changed (worker thread): what partitionsHeld() and unassignedFor() report.
    void publishAssignment()
    {
        const auto now = Clock::now();
        std::lock_guard lock(mutex);
        std::map<std::int32_t, Clock::time_point> held;
        for (const auto &[p, st] : parts) {
            const auto it = heldSince.find(p);
            held[p] = it != heldSince.end() ? it->second : now;
        }
        heldSince = std::move(held);
        if (heldSince.empty() && !unassignedSince)
            unassignedSince = now;
        else if (!heldSince.empty())
            unassignedSince.reset();
    }

    void countDead(ErrorCode code, std::uint64_t n = 1)
    {
        deadLettered += n;
        reg.counter("idl_writer_dead_lettered_total", "Events sent to the dead-letter topic",
                    {{"reason", std::string(errorCodeName(code))}})
            .inc(n);
    }

    std::vector<kafka::TopicPartition> assignedList() const
    {
        std::vector<kafka::TopicPartition> out;
        for (const auto &[p, st] : parts)
            out.push_back({opt.topic, p, -1001});
        return out;
    }

    void pause()
    {
        if (paused || !consumer)
            return;
        if (auto r = consumer->pause(assignedList()); !r)
            jlog::warn("pausing partitions failed", {{"error", q(r.error().message)}});
        paused = true;
        mPaused.set(1);
    }

    void resume()
    {
        if (!paused || !consumer)
            return;
        if (auto r = consumer->resume(assignedList()); !r)
            jlog::warn("resuming partitions failed", {{"error", q(r.error().message)}});
        paused = false;
        mPaused.set(0);
    }

    // Exponential back-off with "equal jitter": half fixed, half random. While waiting the
    // consumer keeps polling (its partitions paused) so the group membership stays alive.
    void backoff(int attempt)
    {
        const auto base = std::min<long long>(opt.retryMax.count(), opt.retryInitial.count()
                                                                        << std::min(attempt, 16));
        std::uniform_int_distribution<long long> jitter(0, std::max<long long>(1, base / 2));
        const auto until = Clock::now() + std::chrono::milliseconds(base / 2 + jitter(rng));
        while (!stopping && Clock::now() < until) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            const auto slice =
                std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
            if (consumer && !inRebalance) {
                auto m = consumer->poll(slice);
                if (m && *m)
                    onMessage(**m);
            } else {
                std::this_thread::sleep_for(slice);
            }
        }
    }
    bool inRebalance = false;

    bool connectAndMigrate()
    {
        for (int attempt = 0; !stopping; ++attempt) {
            auto r = store->ensureConnected();
            if (r && opt.migrate) {
                auto m = schema::migrate(store->connection());
                if (!m)
                    r = m.error();
            }
            if (r)
                return true;
            dbErrors++;
            mDbErrors.inc();
            setNotReady("postgres unavailable: " + r.error().message);
            if (attempt == 0 || attempt % 20 == 0)
                jlog::warn("postgres unavailable, retrying", {{"error", q(r.error().message)}});
            store->disconnect();
            backoff(attempt);
        }
        return false;
    }

    Result<std::map<std::int32_t, std::int64_t>> loadOffsetsRetrying()
    {
        for (int attempt = 0;; ++attempt) {
            auto r = store->loadOffsets(opt.topic);
            if (r || stopping)
                return r;
            dbErrors++;
            mDbErrors.inc();
            setNotReady("postgres unavailable: " + r.error().message);
            store->disconnect();
            backoff(attempt);
        }
    }

    void onRebalance(kafka::RebalanceKind kind, std::vector<kafka::TopicPartition> &tps)
    {
        inRebalance = true;
        // The store is this thread's again; a batch in flight is committed or not first.
        if (!inFlush)
            collect(/*once=*/true);
        if (kind == kafka::RebalanceKind::Assigned) {
            auto stored = loadOffsetsRetrying();
            for (auto &tp : tps) {
                PartitionState st;
                if (stored) {
                    auto it = stored->find(tp.partition);
                    if (it != stored->end()) {
                        st.stored = it->second;
                        st.position = it->second;
                    }
                }
                tp.offset = st.stored >= 0 ? st.stored : kOffsetBeginning;
                parts[tp.partition] = st;
            }
            paused = false;
            mPaused.set(0);
            if (stored)
                setNotReady({});
            jlog::info("partitions assigned", {{"count", int(tps.size())}});
        } else {
            std::set<std::int32_t> gone;
            for (const auto &tp : tps)
                gone.insert(tp.partition);
            // Store what was read from them if that works at once; otherwise whoever gets
            // them next re-reads it from the stored offsets.
            // (Only after the batch before it: its fences are that batch's new offsets.)
            if (!inFlush && inflight.empty() && !batch.empty())
                flush(batch, /*once=*/true);
            inflight.drop(gone);
            batch.drop(gone);
            for (const auto p : gone)
                parts.erase(p);
            paused = false;
            mPaused.set(0);
            jlog::info(kind == kafka::RebalanceKind::Lost ? "partitions lost"
                                                          : "partitions revoked",
                       {{"count", int(tps.size())}});
        }
        mAssigned.set(double(parts.size()));
        publishAssignment();
        inRebalance = false;
    }

    // The event about to be appended was sent with an Idempotency-Key: its identity goes
    // with the batch (an index that is not a number leaves the event unkeyed, stored).
    void keep(const kafka::Message &m, std::string_view key)
    {
        const auto index = m.header(kafka::idempotency::kIndex);
        std::int32_t i = -1;
        if (index)
            std::from_chars(index->data(), index->data() + index->size(), i);
        if (i < 0)
            return;
        batch.keyed.push_back({batch.events.size(),
                               std::string(m.header(kafka::idempotency::kScope).value_or("")),
                               std::string(key), i});
    }

    void onMessage(const kafka::Message &m)
    {
        auto it = parts.find(m.partition());
        if (it == parts.end() || m.topic() != opt.topic)
            return;
        PartitionState &st = it->second;
        if (st.position >= 0 && m.offset() < st.position)
            return; // read again after a seek: already in this batch or stored
        st.position = m.offset() + 1;
        if (batch.empty())
            batch.firstAt = Clock::now();
        batch.nextOffset[m.partition()] = m.offset() + 1;
        const std::string_view value = m.value();
        batch.bytes += static_cast<std::int64_t>(value.size());

        sourceKey.assign(opt.topic);
        sourceKey += '/';
        sourceKey += std::to_string(m.partition());
        sourceKey += '/';
        sourceKey += std::to_string(m.offset());
        SanitizePolicy policy;
        const std::int64_t now = nowNs();
        policy.maxFutureNs = opt.maxFutureNs;
        if (opt.maxEventAge.count() > 0)
            policy.oldestAcceptedNs =
                now - std::chrono::duration_cast<std::chrono::nanoseconds>(opt.maxEventAge).count();
        unsigned fixes = 0;
        auto event = prepareEvent(value, sourceKey, policy, now, fixes);
        if (event) {
            if (fixes != FixNone) {
                sanitized++;
                mSanitized.inc();
                jlog::debug("event repaired",
                            {{"fixes", q(fixNames(fixes))}, {"source", q(sourceKey)}});
            }
            if (auto key = m.header(kafka::idempotency::kKey))
                keep(m, *key);
            batch.events.push_back(std::move(event).value());
            batch.eventPartition.push_back(m.partition());
            batch.eventOffset.push_back(m.offset());
            return;
        }
        DeadLetter d;
        d.partition = m.partition();
        d.offset = m.offset();
        if (auto k = m.key())
            d.key = std::string(*k);
        d.value.assign(value);
        d.code = event.error().code;
        d.reason = event.error().message;
        batch.dead.push_back(std::move(d));
    }

    // Produces the dead letters of this batch (headers as the processor's DLQ envelope, see
    // idl/processor/envelope.h, plus idl-stage=writer) (and the rows PostgreSQL refused) and waits
    // for Kafka to acknowledge them, so that the offsets are never stored past an event that went
    // nowhere.
    Result<void> sendDeadLetters(const Batch &batch, std::span<const RejectedRow> rejected)
    {
        if (batch.dead.empty() && rejected.empty())
            return {};
        auto failures = std::make_shared<std::atomic<int>>(0);
        auto lastError = std::make_shared<std::string>();
        auto mu = std::make_shared<std::mutex>();
        auto onDelivery = [failures, lastError, mu](const kafka::DeliveryReport &report) {
            if (!report.ok()) {
                ++*failures;
                std::lock_guard lock(*mu);
                *lastError = report.error->message;
            }
        };
        auto send = [&](const DeadLetter &d) -> Result<void> {
            kafka::Headers headers{
                {"idl-error-code", std::string(errorCodeName(d.code))},
                {"idl-error-message", d.reason},
                {"idl-source-topic", opt.topic},
                {"idl-source-partition", std::to_string(d.partition)},
                {"idl-source-offset", std::to_string(d.offset)},
                {"idl-stage", std::string("writer")},
                {"idl-dead-at", std::to_string(nowNs())},
            };
            for (int attempt = 0;; ++attempt) {
                auto r = producer->produce(
                    opt.dlqTopic, d.key ? std::optional<std::string_view>(*d.key) : std::nullopt,
                    d.value, headers, onDelivery);
                if (r || r.error().code != ErrorCode::Overloaded || attempt > 100)
                    return r;
                producer->poll(std::chrono::milliseconds(10));
            }
        };
        for (const DeadLetter &d : batch.dead)
            if (auto r = send(d); !r)
                return r;
        for (const RejectedRow &row : rejected) {
            DeadLetter d;
            d.partition = batch.eventPartition[row.index];
            d.offset = batch.eventOffset[row.index];
            d.value = encodeEvent(batch.events[row.index]);
            d.code = ErrorCode::BadField;
            d.reason = "rejected by PostgreSQL: " + row.reason;
            if (auto r = send(d); !r)
                return r;
        }
        if (auto r = producer->flush(std::chrono::seconds(15)); !r)
            return r;
        if (*failures > 0) {
            std::lock_guard lock(*mu);
            return makeError(ErrorCode::Unavailable,
                             "dead-letter topic: " + std::to_string(failures->load()) +
                                 " messages not acknowledged: " + *lastError);
        }
        for (const DeadLetter &d : batch.dead)
            countDead(d.code);
        if (!rejected.empty())
            countDead(ErrorCode::BadField, rejected.size());
        return {};
    }

    void updateLag()
    {
        double lag = 0;
        for (const auto &[p, st] : parts) {
            const auto [low, high] = consumer->cachedWatermarks(opt.topic, p);
            const std::int64_t from = st.stored >= 0 ? st.stored : low;
            if (high >= 0 && from >= 0 && high > from)
                lag += double(high - from);
        }
        mLag.set(lag);
    }

    // Reloads the stored offsets, forgets the batch and seeks every partition to them.
    void resync()
    {
        batch.clear();
        inflight.clear();
        auto stored = loadOffsetsRetrying();
        if (!stored)
            return;
        for (auto &[p, st] : parts) {
            auto it = stored->find(p);
            st.stored = it != stored->end() ? it->second : -1;
            st.position = st.stored;
            const std::int64_t to = st.stored >= 0 ? st.stored : kOffsetBeginning;
            if (auto r = consumer->seek({opt.topic, p, to}, std::chrono::seconds(10)); !r)
                jlog::warn("seek failed", {{"partition", p}, {"error", q(r.error().message)}});
        }
        resume();
    }

    std::vector<OffsetAdvance> offsetsOf(const Batch &b) const
    {
        std::vector<OffsetAdvance> offsets;
        for (const auto &[p, next] : b.nextOffset) {
            const auto it = parts.find(p);
            offsets.push_back({opt.topic, p, it != parts.end() ? it->second.stored : -1, next});
        }
        return offsets;
    }

    // After a batch is committed: counters and readiness (any thread).
    void countStored(const Batch &b, const StoreReport &r)
    {
        const auto n = static_cast<std::uint64_t>(r.rows);
        rowsWritten += n;
        batches++;
        mRows.inc(n);
        if (r.duplicates > 0)
            mDuplicates.inc(static_cast<std::uint64_t>(r.duplicates));
        mBatches.inc();
        mBatchSize.observe(double(b.count()));
        mBatchSeconds.observe(std::chrono::duration<double>(r.totalTime).count());
        mCopySeconds.observe(std::chrono::duration<double>(r.copyTime).count());
        mBatchAge.observe(std::chrono::duration<double>(Clock::now() - b.firstAt).count());
        setNotReady({});
    }

    // After a batch is committed: the fences move, Kafka hears of it (worker thread only).
    void advance(const std::vector<OffsetAdvance> &offsets)
    {
        for (const auto &o : offsets)
            if (auto it = parts.find(o.partition); it != parts.end())
                it->second.stored = o.newNext;
        std::vector<kafka::TopicPartition> commits;
        for (const auto &o : offsets)
            commits.push_back({o.topic, o.partition, o.newNext});
        // Informational only (lag tools); PostgreSQL holds the offsets that count.
        (void)consumer->commit(commits, /*async=*/true);
        updateLag();
        resume();
    }

    // Stores b (worker thread, store not in use elsewhere); retries (paused, with back-off)
    // until it is stored, the partitions are gone, or the writer stops. once: a single
    // attempt (during a rebalance).
    void flush(Batch &b, bool once = false)
    {
        inFlush = true;
        for (int attempt = 0; !b.empty() && !stopping; ++attempt) {
            const std::vector<OffsetAdvance> offsets = offsetsOf(b);
            auto r = store->store(
                b.events, offsets,
                [this, &b](std::span<const RejectedRow> rej) { return sendDeadLetters(b, rej); },
                b.keyed);
            if (r) {
                countStored(b, *r);
                b.clear();
                advance(offsets);
                if (attempt > 0)
                    jlog::info("postgres back, batch stored", {{"attempts", attempt + 1}});
                break;
            }
            if (!onStoreError(r.error(), attempt, once))
                break;
        }
        inFlush = false;
    }

    // A failed attempt to store a batch. Returns whether to try again (after back-off).
    bool onStoreError(const Error &err, int attempt, bool once)
    {
        if (err.code == ErrorCode::Conflict) {
            fenced++;
            mFenced.inc();
            jlog::warn("offsets moved; re-reading from the stored offsets",
                       {{"error", q(err.message)}});
            resync();
            return false;
        }
        dbErrors++;
        mDbErrors.inc();
        if (isTransientDbError(err))
            store->disconnect();
        if (once)
            return false;
        setNotReady("postgres unavailable: " + err.message);
        if (attempt == 0 || attempt % 20 == 0)
            jlog::warn("storing a batch failed; pausing and retrying",
                       {{"error", q(err.message)}, {"attempt", attempt + 1}});
        pause();
        backoff(attempt);
        return true;
    }

    // Hands `batch` to a task that stores it (one attempt) on another thread; this thread
    // goes on reading. Only when nothing is in flight: the fences are the stored offsets.
    Clock::time_point lastSubmit{};
    Clock::duration storeInterval{}; // the current, load-adaptive interval (see run())
    void submit()
    {
        lastSubmit = Clock::now();
        inflight = std::move(batch);
        batch.clear();
        inflightOffsets = offsetsOf(inflight);
        inflightTask = std::async(std::launch::async, [this]() -> Result<StoreReport> {
            auto r = store->store(
                inflight.events, inflightOffsets,
                [this](std::span<const RejectedRow> rej) { return sendDeadLetters(inflight, rej); },
                inflight.keyed);
            if (r)
                countStored(inflight, *r);
            return r;
        });
    }

    // Waits for the batch in flight and applies its outcome; a failed one is retried here
    // (paused, with back-off) like any batch. once: a single retry (during a rebalance).
    void collect(bool once = false)
    {
        if (inflightTask.valid()) {
            auto r = inflightTask.get();
            if (r) {
                storeInterval = std::clamp<Clock::duration>(
                    (Clock::now() - lastSubmit) * opt.batchIntervalFactor, opt.batchMinInterval,
                    opt.batchMaxInterval);
                inflight.clear();
                advance(inflightOffsets);
                return;
            }
            if (!onStoreError(r.error(), 0, once))
                return;
        }
        if (!inflight.empty())
            flush(inflight, once);
    }

    bool due(const Batch &b) const
    {
        return !b.empty() &&
               (b.count() >= static_cast<std::size_t>(opt.batchMaxEvents) ||
                b.bytes >= opt.batchMaxBytes || Clock::now() >= b.firstAt + opt.batchMaxTime);
    }

    // A fatal consumer error (this static member was fenced by another consumer with the same
    // group.instance.id, e.g. after a broker crash): the consumer never consumes again, so it
    // is replaced by a new one that joins the group again. What was read and not stored is
    // read again from the stored offsets by whoever gets the partitions.
    bool rejoin(const Error &why)
    {
        jlog::warn("consumer failed, joining the group again", {{"error", q(why.message)}});
        if (inflightTask.valid()) {
            if (auto r = inflightTask.get())
                advance(inflightOffsets);
        }
        inflight.clear();
        batch.clear();
        parts.clear();
        publishAssignment();
        paused = false;
        mPaused.set(0);
        mAssigned.set(0);
        consumer->close();
        consumer.reset();
        auto c = kafka::Consumer::create(consumerOptions);
        Result<void> subscribed = c ? (*c)->subscribe({opt.topic}) : Result<void>(c.error());
        if (!subscribed) {
            setNotReady("kafka: " + subscribed.error().message);
            jlog::error("cannot join the group again", {{"error", q(subscribed.error().message)}});
            return false;
        }
        consumer = std::move(c).value();
        mRejoins.inc();
        return true;
    }

    void run()
    {
        if (!connectAndMigrate())
            return;
        if (auto r = consumer->subscribe({opt.topic}); !r) {
            setNotReady("kafka: " + r.error().message);
            jlog::error("subscribe failed", {{"error", q(r.error().message)}});
            return;
        }
        setNotReady({});
        jlog::info("writer consuming", {{"topic", q(opt.topic)}, {"group", q(opt.group)}});
        while (!stopping) {
            // Natural batching: with no batch in flight, a batch is stored as soon as nothing
            // more is ready; while one is in flight the next one grows by itself, and is
            // handed over the moment the one before it committed. The count, byte and time
            // bounds only cap a batch under sustained load.
            const auto allowedAt =
                lastSubmit + std::max<Clock::duration>(storeInterval, opt.batchMinInterval);
            std::chrono::milliseconds wait(100);
            if (inflightTask.valid())
                wait = std::chrono::milliseconds(1); // notice the commit at once
            else if (!batch.empty())
                wait = std::max(
                    std::chrono::milliseconds(0),
                    std::chrono::ceil<std::chrono::milliseconds>(allowedAt - Clock::now()));
            auto m = consumer->poll(wait);
            if (!m) {
                if (auto e = consumer->fatalError()) {
                    if (!rejoin(*e))
                        return;
                    continue;
                }
            }
            const bool drained = !(m && *m);
            if (!drained)
                onMessage(**m);
            if (inflightTask.valid() &&
                inflightTask.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
                collect();
            if (due(batch) ||
                (drained && !batch.empty() && !inflightTask.valid() && Clock::now() >= allowedAt)) {
                collect();
                if (!stopping && inflight.empty() && !batch.empty())
                    submit();
            }
        }
        // Whatever is unstored is re-read by the next owner of its partitions.
        if (inflightTask.valid()) {
            if (auto r = inflightTask.get())
                advance(inflightOffsets);
        }
        inflight.clear();
        batch.clear();
        consumer->close();
    }
};

Writer::Writer(WriterOptions options) : d(std::make_unique<Impl>(std::move(options))) {}

Writer::~Writer()
{
    stop();
}

Result<void> Writer::start()
{
    kafka::Config common = d->opt.kafkaExtra;
    common["bootstrap.servers"] = d->opt.kafkaBootstrap;
    // Back within about a second of a restarted broker (librdkafka's default grows to 10 s).
    common.try_emplace("reconnect.backoff.max.ms", "1000");

    kafka::ProducerOptions po;
    po.config = common;
    po.config["linger.ms"] = "5";
    po.onError = [](const Error &e) { jlog::warn("kafka producer", {{"error", q(e.message)}}); };
    auto producer = kafka::Producer::create(std::move(po));
    if (!producer)
        return producer.error();
    d->producer = std::move(producer).value();

    kafka::ConsumerOptions co;
    co.config = common;
    for (const auto &[k, v] : d->opt.kafkaConsumerExtra)
        co.config[k] = v;
    // Each member of one process needs its own static id.
    if (const auto id = co.config.find("group.instance.id");
        id != co.config.end() && d->opt.member > 0)
        id->second += "-" + std::to_string(d->opt.member);
    co.config["group.id"] = d->opt.group;
    co.config["enable.auto.commit"] = "false";
    co.config["enable.auto.offset.store"] = "false";
    co.config["isolation.level"] = "read_committed";
    co.config["auto.offset.reset"] = "earliest";
    co.onRebalance = [impl = d.get()](kafka::RebalanceKind kind,
                                      std::vector<kafka::TopicPartition> &tps) {
        impl->onRebalance(kind, tps);
    };
    co.onError = [](const Error &e) { jlog::warn("kafka consumer", {{"error", q(e.message)}}); };
    d->consumerOptions = co;
    auto consumer = kafka::Consumer::create(std::move(co));
    if (!consumer)
        return consumer.error();
    d->consumer = std::move(consumer).value();

    BatchStore::Options so;
    so.dsn = d->opt.pgDsn;
    so.consumerGroup = d->opt.group;
    so.copyFormat = d->opt.copyFormat;
    d->store = std::make_unique<BatchStore>(std::move(so));
    d->thread = std::thread([impl = d.get()] { impl->run(); });
    return {};
}

void Writer::stop()
{
    if (!d || !d->thread.joinable())
        return;
    d->stopping = true;
    d->thread.join();
    d->consumer.reset();
    d->producer.reset();
    d->store.reset();
}

std::string Writer::notReadyReason() const
{
    std::lock_guard lock(d->mutex);
    return d->notReady;
}

std::map<std::int32_t, std::chrono::milliseconds> Writer::partitionsHeld() const
{
    std::lock_guard lock(d->mutex);
    std::map<std::int32_t, std::chrono::milliseconds> out;
    const auto now = Clock::now();
    for (const auto &[p, since] : d->heldSince)
        out[p] = std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
    return out;
}

std::chrono::milliseconds Writer::unassignedFor() const
{
    std::lock_guard lock(d->mutex);
    if (!d->unassignedSince)
        return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                 *d->unassignedSince);
}

kafka::GroupWatcherOptions groupWatcherOptions(const WriterOptions &o,
                                               std::chrono::milliseconds stallTimeout)
{
    kafka::GroupWatcherOptions wo;
    wo.config = o.kafkaExtra;
    wo.config["bootstrap.servers"] = o.kafkaBootstrap;
    wo.config["group.id"] = o.group;
    wo.config.try_emplace("reconnect.backoff.max.ms", "1000");
    wo.config["client.id"] = "idl-writer-watch";
    wo.topic = o.topic;
    wo.stallTimeout = stallTimeout;
    wo.stalledMetric = "idl_writer_stalled_partitions";
    wo.lagMetric = "idl_writer_consumer_lag";
    wo.topicMeaning = "events topic";
    return wo;
}

std::string groupNotReady(const std::vector<Writer *> &members, const kafka::GroupWatcher *watcher,
                          std::chrono::milliseconds stallTimeout)
{
    std::map<std::int32_t, std::chrono::milliseconds> held;
    std::chrono::milliseconds unassigned = std::chrono::milliseconds::max();
    for (const Writer *w : members) {
        if (std::string why = w->notReadyReason(); !why.empty())
            return why;
        for (const auto &[partition, d] : w->partitionsHeld())
            held[partition] = std::max(held[partition], d);
        unassigned = std::min(unassigned, w->unassignedFor());
    }
    if (members.empty() || !watcher)
        return {};
    return kafka::stallNotReady(watcher->stalled(), held, unassigned, stallTimeout);
}

WriterStats Writer::stats() const
{
    WriterStats s;
    s.rowsWritten = d->rowsWritten;
    s.batches = d->batches;
    s.deadLettered = d->deadLettered;
    s.sanitized = d->sanitized;
    s.dbErrors = d->dbErrors;
    s.fenced = d->fenced;
    return s;
}

} // namespace idl::writer
