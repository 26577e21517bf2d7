#pragma once

// The fixture the collector's integration tests share: a fresh database with the schema, the
// shared Kafka broker (tests/support/idl_test_servers.h) with a fresh topic, and a reader of
// that topic that keeps every record it read, to check what the collector produced.
#include "idl_test_servers.h"

#include "idl/collector/key_store.h"
#include "idl/core/json_codec.h"
#include "idl/kafka/consumer.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace idl::collectortest {

// One record of the topic: its key (the app), the event and the Kafka headers.
struct TopicRecord
{
    std::string key;
    LogEvent event;
    std::map<std::string, std::string> headers;

    QJsonObject attrs() const
    {
        return QJsonDocument::fromJson(QByteArray::fromStdString(event.attrsJson)).object();
    }
};

// Reads a topic from the beginning (every partition) and keeps what it read.
class TopicReader
{
public:
    static Result<std::unique_ptr<TopicReader>> open(const std::string &bootstrap,
                                                     const std::string &topic, int partitions)
    {
        kafka::ConsumerOptions co;
        co.config = {{"bootstrap.servers", bootstrap},
                     {"group.id", testsupport::uniqueName(topic + "-check")},
                     {"log_level", "0"}};
        auto consumer = kafka::Consumer::create(co);
        if (!consumer)
            return consumer.error();
        std::vector<kafka::TopicPartition> parts;
        for (int p = 0; p < partitions; ++p)
            parts.push_back({topic, p, -2}); // from the beginning
        if (auto r = (*consumer)->assign(parts); !r)
            return r.error();
        auto reader = std::unique_ptr<TopicReader>(new TopicReader);
        reader->m_consumer = std::move(*consumer);
        return reader;
    }

    // Reads until every message in `want` has arrived `copies` times (once per listener it was
    // sent to) and nothing new came for `quietMs`, or `maxMs` passed. A record that does not
    // decode is an error (its message).
    std::string drain(const std::set<std::string> &want, int quietMs = 2000, int maxMs = 30'000,
                      int copies = 1)
    {
        QElapsedTimer total, quiet;
        total.start();
        quiet.start();
        while (total.elapsed() < maxMs) {
            auto msg = m_consumer->poll(std::chrono::milliseconds(200));
            if (msg && msg->has_value()) {
                TopicRecord rec;
                rec.key = std::string((*msg)->key().value_or(""));
                auto ev = decodeEvent((*msg)->value());
                if (!ev)
                    return "a record does not decode: " + ev.error().message;
                rec.event = std::move(*ev);
                for (const auto &h : (*msg)->headers())
                    rec.headers[h.key] = h.value.value_or("");
                records.push_back(std::move(rec));
                quiet.restart();
                continue;
            }
            if (quiet.elapsed() >= quietMs && !missing(want, copies))
                return {};
        }
        return {};
    }

    int countOf(const std::string &message) const
    {
        int n = 0;
        for (const auto &r : records)
            n += r.event.message == message;
        return n;
    }

    // The first record of `message`, or null.
    const TopicRecord *find(const std::string &message) const
    {
        for (const auto &r : records)
            if (r.event.message == message)
                return &r;
        return nullptr;
    }

    std::vector<TopicRecord> records; // every record read so far, in order

private:
    TopicReader() = default;

    bool missing(const std::set<std::string> &want, int copies) const
    {
        std::map<std::string, int> seen;
        for (const auto &r : records)
            ++seen[r.event.message];
        for (const auto &m : want)
            if (seen[m] < copies)
                return true;
        return false;
    }

    std::unique_ptr<kafka::Consumer> m_consumer;
};

// The servers of one test: a fresh database (`prefix`, schema migrated) with two API keys, and
// a fresh topic of `partitions` on the shared broker.
struct CollectorServers
{
    std::string dsn;
    std::string bootstrap;
    std::string topic;
    collector::NewApiKey anyKey;  // "any-app": any app
    collector::NewApiKey shopKey; // "shop-only": bound to app "shop"
};

inline Result<CollectorServers> collectorServers(const std::string &prefix, int partitions)
{
    CollectorServers s;
    auto dsn = testsupport::freshDatabase(prefix);
    if (!dsn)
        return dsn.error();
    s.dsn = *dsn;
    auto broker = testsupport::kafka();
    if (!broker)
        return broker.error();
    s.bootstrap = (*broker)->bootstrap().toStdString();
    auto topic = testsupport::freshTopic(prefix, partitions);
    if (!topic)
        return topic.error();
    s.topic = *topic;
    auto db = pg::Connection::connect(s.dsn);
    if (!db)
        return db.error();
    if (auto r = schema::migrate(*db); !r)
        return r.error();
    auto any = collector::createKey(*db, "any-app", std::nullopt);
    if (!any)
        return any.error();
    auto shop = collector::createKey(*db, "shop-only", std::string("shop"));
    if (!shop)
        return shop.error();
    s.anyKey = *any;
    s.shopKey = *shop;
    return s;
}

} // namespace idl::collectortest
