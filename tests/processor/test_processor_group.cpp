// The real idl-processor against a real Kafka when its consumer group goes wrong (issue 15,
// chaos finding: after a broker crash under load a processor was fenced, and the group then
// left raw partitions unconsumed while everything looked healthy):
// - a static member fenced by another consumer with the same group.instance.id joins the group
//   again and consumes (before: it stayed in the group's fatal state, consumed nothing, ready);
// - fenced twice (the group.instance.id and the transactional.id, as in the chaos run) it
//   exits, and restarted (as idl-stack or Kubernetes would) it joins and consumes;
// - while raw partitions stand still behind their end and the process holds none of them,
//   /readyz answers 503 and idl_processor_consumer_lag shows the records nobody consumes.
#include "collector_test_util.h"
#include "processor_test_kit.h"

#include "group_member.h"
#include "idl/localcluster/process_util.h"

#include <QElapsedTimer>
#include <QTest>

#include <set>

using namespace idl;
using namespace idl::processortest;

namespace {

// Queues `n` events on the raw topic and waits for their acknowledgement; returns their ids.
std::set<std::string> sendEvents(const std::string &rawTopic, int n, int first)
{
    std::set<std::string> ids;
    RawProducer p(rawTopic);
    for (int i = 0; i < n; ++i) {
        const LogEvent e = makeEvent(first + i);
        if (p.send(e))
            ids.insert(e.id);
    }
    if (!p.flush())
        ids.clear();
    return ids;
}

// The ids of the events on the events topic, each with its count.
std::map<std::string, int> eventIds(const std::vector<Record> &events)
{
    std::map<std::string, int> seen;
    for (const Record &r : events)
        if (auto e = decodeEvent(r.value))
            ++seen[e->id];
    return seen;
}

// Every id sent is on the events topic exactly once, and nothing else.
bool exactlyOnce(const std::set<std::string> &sent, const std::vector<Record> &events)
{
    const auto seen = eventIds(events);
    std::size_t missing = 0, dups = 0;
    for (const std::string &id : sent)
        if (!seen.count(id))
            ++missing;
    for (const auto &[id, n] : seen)
        dups += static_cast<std::size_t>(n - 1);
    qInfo("sent %zu, events %zu, missing %zu, duplicates %zu", sent.size(), events.size(), missing,
          dups);
    return missing == 0 && dups == 0 && seen.size() == sent.size();
}

// A consumer in the processor's group (the raw and retry topics) that reads and never
// commits (tests/support/group_member.h).
class GroupMember : public testsupport::GroupMember
{
public:
    GroupMember(const Topics &t, const kafka::Config &extra)
        : testsupport::GroupMember(bootstrap(), t.group, {t.raw, t.retry}, extra)
    {}
};

// Waits until `proc` stopped on its own or the timeout passed; true when it stopped.
bool waitExit(ProcessorProcess &proc, std::chrono::seconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (proc.running() && std::chrono::steady_clock::now() < deadline)
        QTest::qWait(100); // QProcess learns of the exit in the event loop
    return !proc.running();
}

// The processor's options for a fixed ops port, and a wait for its /readyz (a fresh broker
// can take a minute to create its transaction and offset topics under load).
QStringList opsPort(quint16 port, QStringList extra = {})
{
    return QStringList{QStringLiteral("--consumers"), QStringLiteral("1"),
                       QStringLiteral("--http.port"), QString::number(port)} +
           extra;
}

bool waitReady(collectortest::HttpClient &ops, std::chrono::seconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (ops.get("/readyz").status == 200)
            return true;
        std::this_thread::sleep_for(200ms);
    }
    return false;
}

QString logTail(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll().right(3000));
}

} // namespace

class TestProcessorGroup : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void fencedStaticMemberJoinsAgain();
    void fencedTwiceExitsAndRestartedConsumes();
    void stalledPartitionsFailReadinessAndShowLag();
};

void TestProcessorGroup::initTestCase()
{
    IDL_VERIFY_OK(testsupport::kafka());
    QVERIFY2(QFile::exists(binDir() + QStringLiteral("/idl-processor")),
             "idl-processor not built (IDL_BIN_DIR)");
}

void TestProcessorGroup::fencedStaticMemberJoinsAgain()
{
    auto topics = freshTopics("fence", 2);
    IDL_VERIFY_OK(topics);
    const quint16 port = localcluster::freeTcpPort();
    ProcessorProcess proc(*topics, QStringLiteral("f0"), opsPort(port));
    QVERIFY(proc.start());
    collectortest::HttpClient ops(port);
    QVERIFY2(waitReady(ops, 120s), qPrintable(logTail(proc.logFile())));
    std::set<std::string> sent = sendEvents(topics->raw, 100, 0);
    QCOMPARE(sent.size(), 100u);
    QVERIFY2(exactlyOnce(sent, readTopic(topics->events, sent.size(), 90s)),
             qPrintable(logTail(proc.logFile())));

    // Another consumer joins with the processor's group.instance.id: the coordinator gives
    // it the member's place, and the processor's consumer is fenced (a fatal error). Then it
    // goes away without leaving (a static member does not), as a crashed one would.
    {
        GroupMember intruder(
            *topics, {{"group.instance.id", "idl-processor-f0"}, {"client.id", "intruder"}});
        QVERIFY(intruder.ok());
        QVERIFY(intruder.waitAssigned(60s));
        std::this_thread::sleep_for(3s); // the processor's heartbeats now get FENCED_INSTANCE_ID
    }
    const std::set<std::string> more = sendEvents(topics->raw, 100, 100);
    QCOMPARE(more.size(), 100u);
    sent.insert(more.begin(), more.end());
    // The processor joins the group again by itself and processes what came since.
    const auto events = readTopic(topics->events, sent.size(), 90s, 3s);
    QVERIFY2(proc.running(), qPrintable(logTail(proc.logFile())));
    QVERIFY2(exactlyOnce(sent, events), qPrintable(logTail(proc.logFile())));
    proc.stop();
}

void TestProcessorGroup::fencedTwiceExitsAndRestartedConsumes()
{
    auto topics = freshTopics("fence2", 2);
    IDL_VERIFY_OK(topics);
    const quint16 port = localcluster::freeTcpPort();
    ProcessorProcess proc(*topics, QStringLiteral("f1"), opsPort(port));
    QVERIFY(proc.start());
    collectortest::HttpClient ops(port);
    QVERIFY2(waitReady(ops, 120s), qPrintable(logTail(proc.logFile())));
    std::set<std::string> sent = sendEvents(topics->raw, 100, 0);
    QCOMPARE(sent.size(), 100u);
    QVERIFY2(exactlyOnce(sent, readTopic(topics->events, sent.size(), 90s)),
             qPrintable(logTail(proc.logFile())));

    // Both of the processor's identities are taken over, as in the chaos run: a producer
    // with its transactional.id (the processor's producer is fenced: INVALID_TXN_STATE /
    // PRODUCER_FENCED on its next transaction) and a consumer with its group.instance.id.
    kafka::ProducerOptions po;
    po.config = {{"bootstrap.servers", bootstrap()}, {"transactional.id", "idl-processor-f1"}};
    auto fencer = kafka::Producer::create(std::move(po));
    IDL_VERIFY_OK(fencer);
    IDL_VERIFY_OK((*fencer)->initTransactions(60s));
    {
        GroupMember intruder(
            *topics, {{"group.instance.id", "idl-processor-f1"}, {"client.id", "intruder"}});
        QVERIFY(intruder.ok());
        QVERIFY(intruder.waitAssigned(60s));
        std::this_thread::sleep_for(3s);
    }
    const std::set<std::string> more = sendEvents(topics->raw, 100, 100);
    QCOMPARE(more.size(), 100u);
    sent.insert(more.begin(), more.end());
    // With its producer fenced the processor cannot go on: it must exit (code 1) once it
    // has the partitions back and tries a transaction, rather than stay up doing nothing.
    QVERIFY2(waitExit(proc, 60s), qPrintable(logTail(proc.logFile())));
    // Restarted like a supervisor does, it fences the intruders in turn and consumes.
    QVERIFY(proc.start());
    const auto events = readTopic(topics->events, sent.size(), 90s, 3s);
    QVERIFY2(exactlyOnce(sent, events), qPrintable(logTail(proc.logFile())));
    proc.stop();
}

void TestProcessorGroup::stalledPartitionsFailReadinessAndShowLag()
{
    auto topics = freshTopics("stall", 1);
    IDL_VERIFY_OK(topics);
    // A member that holds every partition and never commits: its client.id sorts before the
    // processor's, so the range assignor gives it partition 0 of both topics.
    auto zombie = std::make_unique<GroupMember>(*topics, kafka::Config{{"client.id", "a-zombie"}});
    QVERIFY(zombie->ok());
    QVERIFY(zombie->waitAssigned(60s));
    const quint16 port = localcluster::freeTcpPort();
    ProcessorProcess proc(
        *topics, QStringLiteral("s0"),
        opsPort(port, {QStringLiteral("--kafka.stall-timeout"), QStringLiteral("3s")}));
    QVERIFY(proc.start());
    collectortest::HttpClient ops(port);
    QVERIFY2(waitReady(ops, 120s), qPrintable(logTail(proc.logFile())));
    QElapsedTimer t;
    const std::set<std::string> sent = sendEvents(topics->raw, 50, 0);
    QCOMPARE(sent.size(), 50u);

    // Nobody consumes partition 0 and the processor holds no partition: not ready, and the
    // lag metric counts the 50 records.
    t.restart();
    int status = 0;
    while ((status = ops.get("/readyz").status) != 503 && t.elapsed() < 40'000)
        QTest::qWait(200);
    QVERIFY2(status == 503, qPrintable(logTail(proc.logFile())));
    QVERIFY(zombie->assigned() > 0); // still the zombie's
    const QByteArray metrics = ops.get("/metrics").body;
    const QByteArray lagLine = "idl_processor_consumer_lag{topic=\"" +
                               QByteArray::fromStdString(topics->raw) + "\",partition=\"0\"} 50";
    QVERIFY2(metrics.contains(lagLine), metrics.constData());
    QVERIFY2(metrics.contains("idl_processor_stalled_partitions 1"), metrics.constData());

    // The zombie leaves: the processor gets the partitions, processes the records and is
    // ready again, the lag back to 0.
    zombie.reset();
    QVERIFY(exactlyOnce(sent, readTopic(topics->events, sent.size(), 90s)));
    t.restart();
    while ((status = ops.get("/readyz").status) != 200 && t.elapsed() < 40'000)
        QTest::qWait(200);
    QCOMPARE(status, 200);
    t.restart();
    const QByteArray noLag = "idl_processor_consumer_lag{topic=\"" +
                             QByteArray::fromStdString(topics->raw) + "\",partition=\"0\"} 0";
    while (!ops.get("/metrics").body.contains(noLag) && t.elapsed() < 30'000)
        QTest::qWait(200);
    QVERIFY(ops.get("/metrics").body.contains(noLag));
    proc.stop();
}

QTEST_GUILESS_MAIN(TestProcessorGroup)
#include "test_processor_group.moc"
