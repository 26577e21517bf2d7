#pragma once

// Helpers shared by the writer's integration tests and benchmark.
#include "idl/core/json_codec.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"
#include "idl/kafka/producer.h"
#include "idl/pg/connection.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace idl::writertest {

// A random, realistic event (~190 bytes as canonical JSON) within the last `spreadNs`.
inline LogEvent randomEvent(std::mt19937_64 &rng, std::int64_t spreadNs = 3600LL * 1'000'000'000)
{
    static const char *apps[] = {"checkout", "billing", "search", "auth", "mailer"};
    static const char *hosts[] = {"web-1", "web-2", "worker-1"};
    LogEvent e;
    e.id = newEventId();
    const std::int64_t now = nowNs();
    e.receivedNs = now;
    e.tsNs = now - static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(spreadNs));
    e.level = static_cast<Level>(rng() % 6);
    e.app = apps[rng() % 5];
    e.host = hosts[rng() % 3];
    e.message = "request " + std::to_string(rng() % 100000) + " finished with status " +
                std::to_string(200 + rng() % 300) + " after " + std::to_string(rng() % 900) + "ms";
    e.attrsJson = "{\"user\":" + std::to_string(rng() % 1000) + ",\"path\":\"/api/v1/items\"}";
    return e;
}

// An acks=all producer for tests.
inline std::unique_ptr<kafka::Producer> makeProducer(const std::string &bootstrap)
{
    kafka::ProducerOptions o;
    o.config = {{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}};
    auto p = kafka::Producer::create(std::move(o));
    return p ? std::move(p).value() : nullptr;
}

// Produces one payload, retrying while the local queue is full. False on a real error.
inline bool produceOne(kafka::Producer &p, const std::string &topic, const std::string &key,
                       const std::string &value, std::atomic<int> *failures = nullptr,
                       const kafka::Headers &headers = {})
{
    for (int attempt = 0; attempt < 10000; ++attempt) {
        auto r = p.produce(topic, key, value, headers, [failures](const kafka::DeliveryReport &d) {
            if (!d.ok() && failures)
                ++*failures;
        });
        if (r)
            return true;
        if (r.error().code != ErrorCode::Overloaded)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

// A single integer from a query, or -1.
inline long long scalar(pg::Connection &c, const std::string &sql, const pg::Params &params = {})
{
    auto r = c.query(sql, params);
    if (!r || r->rowCount() < 1 || r->isNull(0, 0))
        return -1;
    return std::stoll(std::string(r->value(0, 0)));
}

} // namespace idl::writertest
