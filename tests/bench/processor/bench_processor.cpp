// Processor throughput: events/s from the raw topic to the events topic through the real
// Processor (Kafka transactions, decode + normalize + redact + encode), and in the same run a
// plain consume-and-produce copy of the same bytes (idempotent producer, no transformation,
// no transactions) as the baseline. IDL_BENCH_EVENTS sets the backlog (default 1500000: with
// fewer, the copy's whole backlog fits in its producer's 500000-message local queue and its
// figure is partly an in-memory burst, not what the broker sustains).
#include "idl/core/json_codec.h"
#include "idl/core/uuid.h"
#include "idl/kafka/consumer.h"
#include "idl/kafka/producer.h"
#include "idl/processor/pipeline.h"
#include "idl/processor/processor.h"
#include "idl_test_servers.h"

#include <QTest>

#include <atomic>
#include <chrono>
#include <thread>

using namespace idl;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Inside the measured lambdas: a failed step ends the run with -1 (checked by the caller).
#define BENCH_OK(result)                                                                           \
    do {                                                                                           \
        const auto &benchResult_ = (result);                                                       \
        if (!benchResult_.ok()) {                                                                  \
            qWarning("%s", benchResult_.error().message.c_str());                                  \
            return -1.0;                                                                           \
        }                                                                                          \
    } while (false)

int benchEvents()
{
    bool ok = false;
    const int n = qEnvironmentVariableIntValue("IDL_BENCH_EVENTS", &ok);
    return ok && n > 0 ? n : 1'500'000;
}

std::string bootstrap()
{
    return (*testsupport::kafka())->bootstrap().toStdString();
}

// ~250-byte canonical events, 5 apps; 1 in 100 carries a secret to redact.
std::string eventValue(int i, std::string &app)
{
    LogEvent e;
    e.id = newEventId();
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    e.tsNs = now - 1'000'000;
    e.receivedNs = now;
    e.level = static_cast<Level>(i % 6);
    e.app = "svc-" + std::to_string(i % 5);
    e.host = "host-" + std::to_string(i % 3);
    e.message = i % 100 == 0 ? "login failed for user=u" + std::to_string(i) + " password=hunter2"
                             : "GET /api/v1/items/" + std::to_string(i) + " completed";
    e.attrsJson = "{\"i\":" + std::to_string(i) +
                  ",\"user\":\"u42\",\"path\":\"/api/v1/items\",\"status\":200,\"dur_ms\":12.5}";
    app = e.app;
    return encodeEvent(e);
}

} // namespace

class BenchProcessor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void throughput();
};

void BenchProcessor::throughput()
{
    IDL_VERIFY_OK(testsupport::kafka());
    const int n = benchEvents();
    auto raw = testsupport::freshTopic("bench_raw", 4);
    auto copy = testsupport::freshTopic("bench_copy", 4);
    auto events = testsupport::freshTopic("bench_events", 4);
    auto retry = testsupport::freshTopic("bench_retry", 4);
    auto dlq = testsupport::freshTopic("bench_dlq", 4);
    IDL_VERIFY_OK(raw);
    IDL_VERIFY_OK(copy);
    IDL_VERIFY_OK(events);
    IDL_VERIFY_OK(retry);
    IDL_VERIFY_OK(dlq);

    // Backlog.
    std::size_t bytes = 0;
    {
        kafka::ProducerOptions po;
        po.config = {{"bootstrap.servers", bootstrap()}, {"linger.ms", "20"}};
        auto p = kafka::Producer::create(std::move(po));
        IDL_VERIFY_OK(p);
        std::string app;
        for (int i = 0; i < n; ++i) {
            const std::string v = eventValue(i, app);
            bytes += v.size();
            for (;;) {
                auto r = (*p)->produce(*raw, app, v, {{"idl-collector", std::string("bench")}});
                if (r)
                    break;
                QCOMPARE(r.error().code, ErrorCode::Overloaded);
                std::this_thread::sleep_for(1ms);
            }
        }
        IDL_VERIFY_OK((*p)->flush(120s));
    }
    qInfo("backlog: %d events, %.1f bytes/event", n, static_cast<double>(bytes) / n);

    // The per-event work alone (one thread, no Kafka), on a sample of the same events.
    {
        auto redactor = processor::Redactor::create(processor::builtinRedactionRules());
        IDL_VERIFY_OK(redactor);
        processor::Pipeline pipeline(
            {}, std::shared_ptr<const processor::Redactor>(std::move(redactor).value()),
            std::make_shared<const processor::Sampler>());
        std::vector<std::string> sample;
        std::string app;
        for (int i = 0; i < 100'000; ++i)
            sample.push_back(eventValue(i, app));
        processor::RecordInfo info;
        info.collector = "bench";
        std::string out;
        const auto t0 = Clock::now();
        for (const std::string &v : sample) {
            out.clear();
            if (pipeline.process(v, info, out).outcome != processor::Outcome::Produce)
                QFAIL("pipeline rejected a benchmark event");
        }
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        qInfo("pipeline only (decode, normalize, redact, encode; 1 thread, no Kafka): %.0f "
              "events/s (%.2f us/event)",
              sample.size() / secs, 1e6 * secs / sample.size());
    }

    auto plainCopy = [&](const std::string &target, const char *label) -> double {
        double copyRate = 0;
        kafka::ConsumerOptions co;
        co.config = {{"bootstrap.servers", bootstrap()},
                     {"group.id", testsupport::uniqueName("bench_copy")},
                     {"isolation.level", "read_committed"}};
        auto c = kafka::Consumer::create(std::move(co));
        BENCH_OK(c);
        kafka::ProducerOptions po;
        po.config = {{"bootstrap.servers", bootstrap()},
                     {"linger.ms", "5"},
                     {"queue.buffering.max.messages", "500000"}};
        std::atomic<int> acked{0};
        po.onDelivery = [&acked](const kafka::DeliveryReport &r) {
            if (r.ok())
                acked.fetch_add(1, std::memory_order_relaxed);
        };
        auto p = kafka::Producer::create(std::move(po));
        BENCH_OK(p);
        BENCH_OK((*c)->subscribe({*raw}));
        int consumed = 0;
        Clock::time_point start;
        const auto deadline = Clock::now() + 300s;
        while (consumed < n && Clock::now() < deadline) {
            auto m = (*c)->poll(100ms);
            if (!m || !m->has_value())
                continue;
            if (consumed == 0)
                start = Clock::now();
            const kafka::Message &msg = **m;
            for (;;) {
                auto r = (*p)->produce(target, msg.key(), msg.value(), msg.headers());
                if (r)
                    break;
                std::this_thread::sleep_for(1ms);
            }
            if (++consumed % 10000 == 0)
                BENCH_OK((*c)->commit(msg, true));
        }
        BENCH_OK((*p)->flush(120s));
        const double secs = std::chrono::duration<double>(Clock::now() - start).count();
        if (acked.load() != n)
            return -1.0;
        copyRate = n / secs;
        qInfo("%s: %d events in %.2f s = %.0f events/s", label, n, secs, copyRate);
        return copyRate;
    };

    // The processor, in-process: the same backlog, full pipeline, transactions.
    auto runProcessor = [&](int batchEvents, std::chrono::milliseconds batchWait,
                            int members) -> double {
        double procRate = 0;
        processor::ProcessorOptions o;
        o.bootstrap = bootstrap();
        o.instanceId = testsupport::uniqueName("bench");
        o.groupId = testsupport::uniqueName("bench_proc");
        o.rawTopic = *raw;
        o.eventsTopic = *events;
        o.retryTopic = *retry;
        o.dlqTopic = *dlq;
        o.batchMaxEvents = batchEvents;
        o.batchMaxWait = batchWait;
        // As idl-processor runs `consumers` members: same group, one transactional id each.
        std::vector<std::unique_ptr<processor::Processor>> procs;
        for (int i = 0; i < members; ++i) {
            processor::ProcessorOptions m = o;
            m.instanceId += "-" + std::to_string(i);
            procs.push_back(std::make_unique<processor::Processor>(std::move(m)));
        }
        for (auto &p : procs)
            BENCH_OK(p->start());
        auto total = [&procs] {
            processor::ProcessorStats sum;
            for (const auto &p : procs) {
                const auto s = p->stats();
                sum.consumed += s.consumed;
                sum.produced += s.produced;
                sum.transactions += s.transactions;
                sum.redacted += s.redacted;
            }
            return sum;
        };
        const auto deadline = Clock::now() + 300s;
        Clock::time_point start;
        bool started = false;
        while (Clock::now() < deadline) {
            const auto s = total();
            if (!started && s.consumed > 0) {
                // First commit seen: count from the start of that first batch (<= 100 ms).
                start = Clock::now() - 100ms;
                started = true;
            }
            if (s.produced >= static_cast<std::uint64_t>(n))
                break;
            std::this_thread::sleep_for(5ms);
        }
        const double secs = std::chrono::duration<double>(Clock::now() - start).count();
        const auto s = total();
        for (auto &p : procs)
            p->stop();
        if (s.produced != static_cast<std::uint64_t>(n))
            return -1.0;
        procRate = n / secs;
        qInfo("processor, %d member(s), batch %d / %lld ms (transactions, full pipeline): %d "
              "events in %.2f s = %.0f events/s, %llu transactions, %llu redacted",
              members, batchEvents, static_cast<long long>(batchWait.count()), n, secs, procRate,
              static_cast<unsigned long long>(s.transactions),
              static_cast<unsigned long long>(s.redacted));
        return procRate;
    };

    // Warm-up (the broker's JIT), not measured; then the measured runs, each from the same
    // backlog with its own consumer group.
    auto warm = testsupport::freshTopic("bench_warm", 4);
    IDL_VERIFY_OK(warm);
    plainCopy(*warm, "warm-up copy (not counted)");
    const double copyRate = plainCopy(*copy, "plain consume-and-produce");
    const double procRate = runProcessor(10'000, 100ms, 2);
    const double procOne = runProcessor(10'000, 100ms, 1);
    const double procBig = runProcessor(50'000, 500ms, 2);
    QVERIFY(copyRate > 0 && procRate > 0 && procOne > 0 && procBig > 0);
    qInfo("RESULT processor (defaults: 2 members, batch 10000/100ms) %.0f events/s = %.0f%% of "
          "plain copy %.0f events/s; 1 member %.0f events/s = %.0f%%; 2 members, batch "
          "50000/500ms %.0f events/s = %.0f%%",
          procRate, 100.0 * procRate / copyRate, copyRate, procOne, 100.0 * procOne / copyRate,
          procBig, 100.0 * procBig / copyRate);
    qInfo("target (>= 150000 events/s and >= 60%% of the plain copy): %s",
          procRate >= 150000 && procRate >= 0.6 * copyRate ? "met" : "NOT met");
}

QTEST_GUILESS_MAIN(BenchProcessor)
#include "bench_processor.moc"
