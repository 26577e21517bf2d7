#pragma once

// Helpers for the processor's Kafka tests: fresh topic sets, a raw-event producer, a
// read_committed reader, and the real idl-processor / idl-admin binaries as child processes.

#include "idl/core/json_codec.h"
#include "idl/core/uuid.h"
#include "idl/kafka/admin.h"
#include "idl/kafka/consumer.h"
#include "idl/kafka/producer.h"
#include "idl_test_servers.h"

#include <QDir>
#include <QProcess>
#include <QProcessEnvironment>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace idl::processortest {

using namespace std::chrono_literals;

// The four topics of one processor deployment, unique per test.
struct Topics
{
    std::string raw, events, retry, dlq, group;
};

inline Result<Topics> freshTopics(const std::string &prefix, int partitions = 4)
{
    Topics t;
    for (auto [name, field] : {std::pair{"raw", &t.raw}, std::pair{"events", &t.events},
                               std::pair{"retry", &t.retry}, std::pair{"dlq", &t.dlq}}) {
        auto topic = testsupport::freshTopic(prefix + "_" + name, partitions);
        if (!topic)
            return topic.error();
        *field = *topic;
    }
    t.group = testsupport::uniqueName(prefix + "_group");
    return t;
}

inline std::string bootstrap()
{
    auto k = testsupport::kafka();
    return k ? (*k)->bootstrap().toStdString() : std::string();
}

// A consumed record, copied.
struct Record
{
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t timestampMs = 0;
    std::string key;
    std::string value;
    kafka::Headers headers;

    std::string header(std::string_view name) const
    {
        for (auto it = headers.rbegin(); it != headers.rend(); ++it)
            if (it->key == name)
                return it->value.value_or("");
        return {};
    }
};

// Reads a topic from the beginning (read_committed) until `expected` records arrived and
// then `settle` passed without more, or `timeout` passed.
inline std::vector<Record> readTopic(const std::string &topic, std::size_t expected,
                                     std::chrono::milliseconds timeout,
                                     std::chrono::milliseconds settle = 1500ms)
{
    std::vector<Record> out;
    auto admin = kafka::Admin::create({{"bootstrap.servers", bootstrap()}, {"log_level", "0"}});
    if (!admin)
        return out;
    auto count = (*admin)->partitionCount(topic);
    if (!count)
        return out;
    kafka::ConsumerOptions co;
    co.config = {{"bootstrap.servers", bootstrap()},
                 {"group.id", testsupport::uniqueName("reader")},
                 {"isolation.level", "read_committed"}};
    auto consumer = kafka::Consumer::create(std::move(co));
    if (!consumer)
        return out;
    std::vector<kafka::TopicPartition> parts;
    for (int p = 0; p < *count; ++p)
        parts.push_back({topic, p, -2});
    if (!(*consumer)->assign(parts))
        return out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto last = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
        if (out.size() >= expected && std::chrono::steady_clock::now() - last >= settle)
            break;
        auto m = (*consumer)->poll(100ms);
        if (!m || !m->has_value())
            continue;
        const kafka::Message &msg = **m;
        Record r;
        r.partition = msg.partition();
        r.offset = msg.offset();
        r.timestampMs = msg.timestampMs();
        r.key = std::string(msg.key().value_or(""));
        r.value = std::string(msg.value());
        r.headers = msg.headers();
        out.push_back(std::move(r));
        last = std::chrono::steady_clock::now();
    }
    return out;
}

// A canonical v1 event as the collector writes it.
inline LogEvent makeEvent(int i, const std::string &message = {})
{
    LogEvent e;
    e.id = newEventId();
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    e.tsNs = now - 1000;
    e.receivedNs = now;
    e.level = i % 7 == 0 ? Level::Error : Level::Info;
    e.app = "app-" + std::to_string(i % 5);
    e.host = "host-1";
    e.message = message.empty() ? "event number " + std::to_string(i) : message;
    e.attrsJson = "{\"i\":" + std::to_string(i) + "}";
    return e;
}

// Producer of raw records (idempotent, acks=all), recording where each landed.
class RawProducer
{
public:
    explicit RawProducer(std::string topic) : m_topic(std::move(topic))
    {
        kafka::ProducerOptions po;
        po.config = {{"bootstrap.servers", bootstrap()}, {"linger.ms", "5"}};
        auto p = kafka::Producer::create(std::move(po));
        if (p)
            m_producer = std::move(p).value();
    }
    bool ok() const { return m_producer != nullptr; }

    // Sends bytes; returns after the broker acknowledged them (partition, offset).
    std::pair<int, std::int64_t> sendSync(const std::string &key, const std::string &value,
                                          const kafka::Headers &headers = {
                                              {"idl-collector", std::string("c-test")}})
    {
        std::atomic<bool> done{false};
        std::pair<int, std::int64_t> where{-1, -1};
        auto r = m_producer->produce(m_topic, key, value, headers,
                                     [&](const kafka::DeliveryReport &rep) {
                                         if (rep.ok())
                                             where = {rep.partition, rep.offset};
                                         done = true;
                                     });
        if (!r)
            return where;
        while (!done)
            std::this_thread::sleep_for(1ms);
        return where;
    }

    // Queues an event (asynchronously acknowledged; flush() waits).
    bool send(const LogEvent &e)
    {
        for (;;) {
            auto r = m_producer->produce(m_topic, e.app, encodeEvent(e),
                                         {{"idl-collector", std::string("c-test")}});
            if (r)
                return true;
            if (r.error().code != ErrorCode::Overloaded)
                return false;
            std::this_thread::sleep_for(1ms);
        }
    }
    bool flush() { return m_producer->flush(30s).ok(); }

private:
    std::string m_topic;
    std::unique_ptr<kafka::Producer> m_producer;
};

inline QString binDir()
{
    const QString dir = qEnvironmentVariable("IDL_BIN_DIR");
    return dir.isEmpty() ? QDir::currentPath() + QStringLiteral("/../bin") : dir;
}

// The real idl-processor as a child process (stderr to a log file in the temp folder).
class ProcessorProcess
{
public:
    ProcessorProcess(const Topics &t, const QString &instance, QStringList extra = {})
    {
        m_args = {QStringLiteral("--kafka.bootstrap"),
                  QString::fromStdString(bootstrap()),
                  QStringLiteral("--http.port"),
                  QStringLiteral("0"),
                  QStringLiteral("--instance.id"),
                  instance,
                  QStringLiteral("--group.id"),
                  QString::fromStdString(t.group),
                  QStringLiteral("--topic.raw"),
                  QString::fromStdString(t.raw),
                  QStringLiteral("--topic.events"),
                  QString::fromStdString(t.events),
                  QStringLiteral("--topic.retry"),
                  QString::fromStdString(t.retry),
                  QStringLiteral("--topic.dlq"),
                  QString::fromStdString(t.dlq),
                  QStringLiteral("--kafka.session-timeout"),
                  QStringLiteral("6s"),
                  QStringLiteral("--kafka.transaction-timeout"),
                  QStringLiteral("10s"),
                  QStringLiteral("--batch.max-wait"),
                  QStringLiteral("50ms")};
        if (extra.contains(QStringLiteral("--http.port"))) // a fixed ops port instead of any
            m_args.remove(2, 2);
        m_args += extra;
        m_log = QDir::tempPath() + QStringLiteral("/idl-processor-test-") +
                QString::fromStdString(t.group) + QStringLiteral("-") + instance +
                QStringLiteral(".log");
    }
    ~ProcessorProcess() { stop(); }

    bool start()
    {
        m_proc = std::make_unique<QProcess>();
        m_proc->setStandardErrorFile(m_log, QIODevice::Append);
        m_proc->setStandardOutputFile(m_log, QIODevice::Append);
        m_proc->start(binDir() + QStringLiteral("/idl-processor"), m_args);
        return m_proc->waitForStarted(10000);
    }
    // kill -9.
    void kill9()
    {
        if (!m_proc)
            return;
        m_proc->kill();
        m_proc->waitForFinished(10000);
        m_proc.reset();
    }
    // SIGTERM and wait (a clean stop commits the open batch).
    void stop()
    {
        if (!m_proc)
            return;
        m_proc->terminate();
        if (!m_proc->waitForFinished(20000))
            m_proc->kill();
        m_proc->waitForFinished(5000);
        m_proc.reset();
    }
    bool running() const { return m_proc && m_proc->state() == QProcess::Running; }
    const QString &logFile() const { return m_log; }

private:
    QStringList m_args;
    QString m_log;
    std::unique_ptr<QProcess> m_proc;
};

// Runs idl-admin with arguments; returns (exit code, stdout).
inline std::pair<int, QString> runAdmin(const QStringList &args)
{
    QProcess p;
    p.start(binDir() + QStringLiteral("/idl-admin"), args);
    if (!p.waitForFinished(60000))
        return {-1, {}};
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()) +
                              QString::fromUtf8(p.readAllStandardError())};
}

} // namespace idl::processortest
