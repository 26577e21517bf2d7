// The real idl-processor against a real Kafka: exactly once under kill -9, two instances with
// one killed, poison records in the DLQ and their replay after a rule change, transient
// failures retried with growing delays (and dead-lettered past the maximum).
#include "processor_test_kit.h"

#include "idl/processor/backoff.h"
#include "idl/processor/envelope.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <random>
#include <set>

using namespace idl;
using namespace idl::processortest;
namespace hdr = idl::processor::headers;

namespace {

// Every id sent must be on the events topic exactly once, and nothing else.
void verifyExactlyOnce(const std::set<std::string> &sent, const std::vector<Record> &events)
{
    std::map<std::string, int> seen;
    for (const Record &r : events) {
        auto e = decodeEvent(r.value);
        QVERIFY2(e.ok(), r.value.c_str());
        ++seen[e->id];
    }
    std::size_t missing = 0, dups = 0, unknown = 0;
    for (const std::string &id : sent)
        if (!seen.count(id))
            ++missing;
    for (const auto &[id, n] : seen) {
        if (n > 1)
            dups += static_cast<std::size_t>(n - 1);
        if (!sent.count(id))
            ++unknown;
    }
    qInfo("sent %zu, events %zu, distinct %zu, missing %zu, duplicates %zu, unknown %zu",
          sent.size(), events.size(), seen.size(), missing, dups, unknown);
    QCOMPARE(missing, 0u);
    QCOMPARE(dups, 0u);
    QCOMPARE(unknown, 0u);
    QCOMPARE(events.size(), sent.size());
}

// Produces `total` events at about `perSecond` on a background thread.
class Load
{
public:
    Load(const std::string &topic, int total, int perSecond)
    {
        m_thread = std::thread([this, topic, total, perSecond] {
            RawProducer p(topic);
            const auto start = std::chrono::steady_clock::now();
            for (int i = 0; i < total; ++i) {
                const LogEvent e = makeEvent(i);
                {
                    std::lock_guard lock(m_mutex);
                    m_ids.insert(e.id);
                }
                if (!p.send(e))
                    m_failed = true;
                const auto due = start + std::chrono::microseconds(1'000'000LL * i / perSecond);
                std::this_thread::sleep_until(due);
            }
            if (!p.flush())
                m_failed = true;
            m_done = true;
        });
    }
    ~Load() { join(); }
    void join()
    {
        if (m_thread.joinable())
            m_thread.join();
    }
    bool done() const { return m_done; }
    bool failed() const { return m_failed; }
    std::set<std::string> ids()
    {
        std::lock_guard lock(m_mutex);
        return m_ids;
    }

private:
    std::thread m_thread;
    std::mutex m_mutex;
    std::set<std::string> m_ids;
    std::atomic<bool> m_done{false};
    std::atomic<bool> m_failed{false};
};

// idl-admin's options that name the cluster and the dead-letter topic.
QStringList dlqArgs(const Topics &topics)
{
    return {QStringLiteral("--kafka.bootstrap"), QString::fromStdString(bootstrap()),
            QStringLiteral("--topic.dlq"), QString::fromStdString(topics.dlq)};
}

// `idl-admin dlq replay --code CODE` into the raw topic: (exit code, output).
std::pair<int, QString> replayCode(const Topics &topics, const QString &code)
{
    return runAdmin(QStringList{QStringLiteral("dlq"), QStringLiteral("replay"),
                                QStringLiteral("--code"), code, QStringLiteral("--topic.raw"),
                                QString::fromStdString(topics.raw)} +
                    dlqArgs(topics));
}

} // namespace

class TestProcessorKafka : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void killNineUnderLoadIsExactlyOnce();
    void twoInstancesOneKilledNoLossNoDuplicates();
    void poisonGoesToDlqAndReplaysAfterRuleChange();
    void transientFailureRetriedWithGrowingDelays();
    void retryAndDeadLettersCarryNoSecrets();
};

void TestProcessorKafka::initTestCase()
{
    IDL_VERIFY_OK(testsupport::kafka());
    QVERIFY2(QFile::exists(binDir() + QStringLiteral("/idl-processor")),
             "idl-processor not built (IDL_BIN_DIR)");
}

void TestProcessorKafka::killNineUnderLoadIsExactlyOnce()
{
    auto topics = freshTopics("kill");
    IDL_VERIFY_OK(topics);
    const int total = 30000;
    Load load(topics->raw, total, 4000); // ~7.5 s of traffic
    ProcessorProcess proc(*topics, QStringLiteral("k0"));
    QVERIFY(proc.start());
    const unsigned seed = std::random_device{}();
    qInfo("kill schedule seed %u", seed);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> pause(300, 1800);
    int kills = 0;
    for (; kills < 5; ++kills) {
        std::this_thread::sleep_for(std::chrono::milliseconds(pause(rng)));
        proc.kill9();
        QVERIFY(proc.start());
    }
    load.join();
    QVERIFY(!load.failed());
    const std::set<std::string> sent = load.ids();
    QCOMPARE(sent.size(), static_cast<std::size_t>(total));
    const auto events = readTopic(topics->events, sent.size(), 90s, 3s);
    proc.stop();
    qInfo("%d kill -9 during load", kills);
    verifyExactlyOnce(sent, events);
}

void TestProcessorKafka::twoInstancesOneKilledNoLossNoDuplicates()
{
    auto topics = freshTopics("pair");
    IDL_VERIFY_OK(topics);
    const int total = 20000;
    ProcessorProcess a(*topics, QStringLiteral("a"));
    ProcessorProcess b(*topics, QStringLiteral("b"));
    QVERIFY(a.start());
    QVERIFY(b.start());
    std::this_thread::sleep_for(2s); // both joined, partitions split
    Load load(topics->raw, total, 4000);
    std::this_thread::sleep_for(1500ms);
    a.kill9(); // mid-stream, never restarted: b takes its partitions over
    load.join();
    QVERIFY(!load.failed());
    const std::set<std::string> sent = load.ids();
    const auto events = readTopic(topics->events, sent.size(), 90s, 3s);
    b.stop();
    verifyExactlyOnce(sent, events);
}

void TestProcessorKafka::poisonGoesToDlqAndReplaysAfterRuleChange()
{
    auto topics = freshTopics("poison");
    IDL_VERIFY_OK(topics);
    auto proc = std::make_unique<ProcessorProcess>(
        *topics, QStringLiteral("x0"),
        QStringList{QStringLiteral("--limits.max-event-bytes"), QStringLiteral("2KiB")});
    QVERIFY(proc->start());

    RawProducer raw(topics->raw);
    QVERIFY(raw.ok());
    std::set<std::string> good;
    for (int i = 0; i < 3; ++i) {
        const LogEvent e = makeEvent(i);
        good.insert(e.id);
        QVERIFY(raw.sendSync(e.app, encodeEvent(e)).first >= 0);
    }
    const std::string badJson = R"({"v":1,"id":"x","ts":)";
    const kafka::Headers badHeaders{{"idl-collector", std::string("c-9")},
                                    {"x-trace", std::string("abc")}};
    const auto badAt = raw.sendSync("app-bad", badJson, badHeaders);
    const LogEvent big = makeEvent(99, std::string(4096, 'm'));
    const std::string bigValue = encodeEvent(big);
    const auto bigAt = raw.sendSync(big.app, bigValue);
    LogEvent loud = makeEvent(100);
    std::string loudValue = encodeEvent(loud);
    loudValue.replace(loudValue.find("\"info\""), 6, "\"loud\"");
    raw.sendSync(loud.app, loudValue);

    const auto dead = readTopic(topics->dlq, 3, 60s);
    QCOMPARE(dead.size(), 3u);
    std::map<std::string, Record> byCode;
    for (const Record &r : dead) {
        byCode[r.header(hdr::kErrorCode)] = r;
        QCOMPARE(r.header(hdr::kSourceTopic), topics->raw);
        QCOMPARE(r.header(hdr::kAttempts), std::string("1"));
        QVERIFY(!r.header(hdr::kFirstSeen).empty());
        QVERIFY(!r.header(hdr::kErrorMessage).empty());
        // The process runs two group members: "x0" and "x0-1" (whichever owns the partition).
        const std::string by = r.header(hdr::kProcessor);
        QVERIFY2(by == "x0" || by == "x0-1", by.c_str());
    }
    QVERIFY(byCode.count("bad_json"));
    QVERIFY(byCode.count("too_large"));
    QVERIFY(byCode.count("bad_level"));
    const Record &bj = byCode["bad_json"];
    QCOMPARE(bj.value, badJson); // original bytes
    QCOMPARE(bj.key, std::string("app-bad"));
    QCOMPARE(bj.header("x-trace"), std::string("abc")); // original headers kept
    QCOMPARE(bj.header("idl-collector"), std::string("c-9"));
    QCOMPARE(bj.header(hdr::kSourcePartition), std::to_string(badAt.first));
    QCOMPARE(bj.header(hdr::kSourceOffset), std::to_string(badAt.second));
    const Record &tl = byCode["too_large"];
    QCOMPARE(tl.value, bigValue);
    QCOMPARE(tl.header(hdr::kSourceOffset), std::to_string(bigAt.second));
    QVERIFY(tl.header(hdr::kErrorMessage).find("2048") != std::string::npos);

    auto events = readTopic(topics->events, 3, 30s);
    QCOMPARE(events.size(), 3u);

    // idl-admin sees them.
    const QStringList common = dlqArgs(*topics);
    auto [listCode, listOut] =
        runAdmin(QStringList{QStringLiteral("dlq"), QStringLiteral("list")} + common);
    QCOMPARE(listCode, 0);
    QVERIFY2(listOut.contains(QStringLiteral("too_large")) &&
                 listOut.contains(QStringLiteral("bad_json")) &&
                 listOut.contains(QStringLiteral("3 dead letter(s)")),
             qPrintable(listOut));
    const QString where = QStringLiteral("%1:%2").arg(tl.partition).arg(tl.offset);
    auto [showCode, showOut] =
        runAdmin(QStringList{QStringLiteral("dlq"), QStringLiteral("show"), where} + common);
    QCOMPARE(showCode, 0);
    QVERIFY2(showOut.contains(QString::fromStdString(big.id)) &&
                 showOut.contains(QStringLiteral("idl-error-code: too_large")),
             qPrintable(showOut));

    // Rule change: the limit goes back to its default; replay the too_large one.
    proc->stop();
    proc = std::make_unique<ProcessorProcess>(*topics, QStringLiteral("x0"));
    QVERIFY(proc->start());
    auto [replayExit, replayOut] = replayCode(*topics, QStringLiteral("too_large"));
    QCOMPARE(replayExit, 0);
    QVERIFY2(replayOut.contains(QStringLiteral("1 dead letter(s) replayed")),
             qPrintable(replayOut));
    events = readTopic(topics->events, 4, 60s);
    QCOMPARE(events.size(), 4u);
    bool found = false;
    for (const Record &r : events) {
        auto e = decodeEvent(r.value);
        QVERIFY(e.ok());
        if (e->id == big.id) {
            found = true;
            QCOMPARE(e->message.size(), 4096u);
        } else {
            QVERIFY(good.count(e->id));
        }
    }
    QVERIFY(found);
    // Nothing new in the DLQ: the replayed record passed.
    QCOMPARE(readTopic(topics->dlq, 3, 10s, 2s).size(), 3u);
    proc->stop();
}

void TestProcessorKafka::transientFailureRetriedWithGrowingDelays()
{
    auto topics = freshTopics("retry");
    IDL_VERIFY_OK(topics);
    processor::BackoffPolicy policy;
    policy.base = 300ms;
    policy.factor = 2;
    policy.cap = 5s;
    policy.maxAttempts = 3;
    policy.jitter = 0.2;
    ProcessorProcess proc(*topics, QStringLiteral("r0"),
                          {QStringLiteral("--test.transient-marker"), QStringLiteral("FLAKY"),
                           QStringLiteral("--retry.base"), QStringLiteral("300ms"),
                           QStringLiteral("--retry.factor"), QStringLiteral("2"),
                           QStringLiteral("--retry.cap"), QStringLiteral("5s"),
                           QStringLiteral("--retry.max-attempts"), QStringLiteral("3"),
                           QStringLiteral("--retry.jitter"), QStringLiteral("0.2")});
    QVERIFY(proc.start());
    std::this_thread::sleep_for(2s); // joined

    RawProducer raw(topics->raw);
    const LogEvent flaky = makeEvent(1, "succeeds on the 3rd retry FLAKY3");
    const LogEvent hopeless = makeEvent(2, "never succeeds FLAKY99");
    raw.sendSync(flaky.app, encodeEvent(flaky));
    raw.sendSync(hopeless.app, encodeEvent(hopeless));
    // Normal traffic right behind them must not wait for the retries.
    std::set<std::string> normal;
    for (int i = 10; i < 60; ++i) {
        const LogEvent e = makeEvent(i);
        normal.insert(e.id);
        QVERIFY(raw.send(e));
    }
    QVERIFY(raw.flush());

    const auto events = readTopic(topics->events, normal.size() + 1, 60s, 2s);
    QCOMPARE(events.size(), normal.size() + 1);
    std::int64_t flakyAt = 0, lastNormalAt = 0;
    for (const Record &r : events) {
        auto e = decodeEvent(r.value);
        QVERIFY(e.ok());
        if (e->id == flaky.id)
            flakyAt = r.timestampMs;
        else if (normal.count(e->id))
            lastNormalAt = std::max(lastNormalAt, r.timestampMs);
        else
            QFAIL("unexpected event");
    }
    QVERIFY(flakyAt > 0);
    QVERIFY2(lastNormalAt < flakyAt, "normal events waited for the retried one");

    // The retry topic holds the flaky event 3 times and the hopeless one 3 times, with
    // attempts 1..3 and not-before delays inside the back-off bounds, growing.
    const auto retries = readTopic(topics->retry, 6, 30s);
    QCOMPARE(retries.size(), 6u);
    std::map<std::string, std::vector<const Record *>> byEvent;
    for (const Record &r : retries) {
        auto e = decodeEvent(r.value);
        QVERIFY(e.ok());
        QCOMPARE(r.header(hdr::kErrorCode), std::string("unavailable"));
        QCOMPARE(r.header(hdr::kSourceTopic), topics->raw);
        byEvent[e->id].push_back(&r);
    }
    QCOMPARE(byEvent.size(), 2u);
    for (auto &[id, list] : byEvent) {
        std::sort(list.begin(), list.end(), [](const Record *x, const Record *y) {
            return std::stoi(x->header(hdr::kAttempts)) < std::stoi(y->header(hdr::kAttempts));
        });
        QCOMPARE(list.size(), 3u);
        std::int64_t previousDelay = -1;
        const std::string firstSeen = list.front()->header(hdr::kFirstSeen);
        for (int n = 1; n <= 3; ++n) {
            const Record &r = *list[static_cast<std::size_t>(n - 1)];
            QCOMPARE(r.header(hdr::kAttempts), std::to_string(n));
            QCOMPARE(r.header(hdr::kFirstSeen), firstSeen); // kept across retries
            const std::int64_t delay = std::stoll(r.header(hdr::kNotBefore)) - r.timestampMs;
            qInfo("event %s retry %d delay %lld ms (bounds %lld..%lld)",
                  id.substr(id.size() - 8).c_str(), n, static_cast<long long>(delay),
                  static_cast<long long>(policy.minDelay(n).count()),
                  static_cast<long long>(policy.nominalDelay(n).count()));
            // The record is stamped at produce, after the not-before time was computed (and
            // redaction, encoding: up to ~100 ms in a sanitizer build on a busy machine).
            QVERIFY(delay >= policy.minDelay(n).count() - 100);
            QVERIFY(delay <= policy.nominalDelay(n).count() + 5);
            QVERIFY(delay > previousDelay);
            previousDelay = delay;
            if (n > 1) {
                // Re-read no earlier than the previous not-before.
                const Record &prev = *list[static_cast<std::size_t>(n - 2)];
                QVERIFY(r.timestampMs >= std::stoll(prev.header(hdr::kNotBefore)));
            }
        }
    }
    // The flaky event's final success came after the previous retry's not-before.
    QVERIFY(flakyAt >= std::stoll(byEvent[flaky.id].back()->header(hdr::kNotBefore)));

    // Past the maximum: dead-lettered with the reason and the attempt count.
    const auto dead = readTopic(topics->dlq, 1, 30s);
    QCOMPARE(dead.size(), 1u);
    QCOMPARE(dead[0].header(hdr::kErrorCode), std::string("unavailable"));
    QCOMPARE(dead[0].header(hdr::kAttempts), std::string("4"));
    QVERIFY(dead[0].header(hdr::kErrorMessage).find("gave up after 4 attempts") !=
            std::string::npos);
    QCOMPARE(dead[0].value, encodeEvent(hopeless)); // original bytes, not the retry's
    QCOMPARE(dead[0].header(hdr::kFirstSeen),
             byEvent[hopeless.id].front()->header(hdr::kFirstSeen));
    proc.stop();
}

// Issue 15 finding 6c: what the processor writes to the retry and dead-letter topics is
// redacted like an event (the raw record used to be copied byte for byte, secrets included),
// and a redacted dead letter still replays into exactly one (redacted) event.
void TestProcessorKafka::retryAndDeadLettersCarryNoSecrets()
{
    auto topics = freshTopics("secrets");
    IDL_VERIFY_OK(topics);
    const QStringList limits{QStringLiteral("--limits.max-event-bytes"),
                             QStringLiteral("2KiB"),
                             QStringLiteral("--test.transient-marker"),
                             QStringLiteral("FLAKY"),
                             QStringLiteral("--retry.base"),
                             QStringLiteral("100ms"),
                             QStringLiteral("--retry.max-attempts"),
                             QStringLiteral("1")};
    auto proc = std::make_unique<ProcessorProcess>(*topics, QStringLiteral("s0"), limits);
    QVERIFY(proc->start());

    // Every secret below must be gone from every retry and dead-letter record.
    const std::vector<std::string> secrets{
        "big-bearer-0123456789", "big-password-1",  "sid=big-cookie", "loud-pass-2",
        "sid=loud-cookie",       "lvlsecret99",     "badjson-pass-3", "sid=badjson-cookie",
        "flaky-key-4",           "Basic flaky-auth"};
    RawProducer raw(topics->raw);
    QVERIFY(raw.ok());
    // Too large (over 2 KiB) -> DLQ; replayed later with the default limit.
    LogEvent big = makeEvent(1, std::string(4096, 'm') + " Bearer big-bearer-0123456789");
    big.attrsJson = R"({"password":"big-password-1","cookie":"sid=big-cookie","i":1})";
    raw.sendSync(big.app, encodeEvent(big));
    // Unknown level (the level text is quoted in the error message) -> DLQ.
    LogEvent loud = makeEvent(2, "login password=loud-pass-2");
    loud.attrsJson = R"({"cookie":"sid=loud-cookie"})";
    std::string loudValue = encodeEvent(loud);
    loudValue.replace(loudValue.find("\"info\""), 6, "\"token=lvlsecret99\"");
    raw.sendSync(loud.app, loudValue);
    // Not JSON at all -> DLQ.
    raw.sendSync("app-bad",
                 R"({"v":1,"msg":"password=badjson-pass-3","cookie":"sid=badjson-cookie","ts":)");
    // Transient -> retry topic once, then DLQ.
    LogEvent flaky = makeEvent(3, "call failed FLAKY9 api_key=flaky-key-4");
    flaky.attrsJson = R"({"authorization":"Basic flaky-auth"})";
    raw.sendSync(flaky.app, encodeEvent(flaky));

    const auto dead = readTopic(topics->dlq, 4, 60s);
    QCOMPARE(dead.size(), 4u);
    const auto retries = readTopic(topics->retry, 1, 30s);
    QCOMPARE(retries.size(), 1u);
    const auto leaks = [&](const Record &r) {
        std::string all = r.value;
        for (const kafka::Header &h : r.headers)
            all += "|" + h.key + "=" + h.value.value_or("");
        for (const std::string &s : secrets)
            if (all.find(s) != std::string::npos)
                return s + " in " + all.substr(0, 300);
        return std::string();
    };
    for (const Record &r : retries)
        QVERIFY2(leaks(r).empty(), ("retry topic: " + leaks(r)).c_str());
    const Record *tooLarge = nullptr;
    for (const Record &r : dead) {
        QVERIFY2(leaks(r).empty(), ("dead-letter topic: " + leaks(r)).c_str());
        if (r.header(hdr::kErrorCode) == "too_large")
            tooLarge = &r;
    }
    QVERIFY(tooLarge);

    // The redacted dead letter replays into exactly one event once the limit is back.
    proc->stop();
    proc = std::make_unique<ProcessorProcess>(*topics, QStringLiteral("s0"));
    QVERIFY(proc->start());
    auto [replayExit, replayOut] = replayCode(*topics, QStringLiteral("too_large"));
    QCOMPARE(replayExit, 0);
    QVERIFY2(replayOut.contains(QStringLiteral("1 dead letter(s) replayed")),
             qPrintable(replayOut));
    const auto events = readTopic(topics->events, 1, 60s, 2s);
    QCOMPARE(events.size(), 1u);
    auto e = decodeEvent(events[0].value);
    QVERIFY(e.ok());
    QCOMPARE(e->id, big.id);
    QVERIFY(e->message.starts_with(std::string(4096, 'm') + " Bearer [REDACTED]"));
    QVERIFY2(e->attrsJson.find(R"("password":"[REDACTED]")") != std::string::npos,
             e->attrsJson.c_str());
    for (const std::string &s : secrets)
        QVERIFY2(events[0].value.find(s) == std::string::npos, s.c_str());
    QCOMPARE(readTopic(topics->dlq, 4, 10s, 2s).size(), 4u);
    proc->stop();
}

QTEST_GUILESS_MAIN(TestProcessorKafka)
#include "test_processor_kafka.moc"
