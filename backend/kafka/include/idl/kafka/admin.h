#pragma once

#include "idl/kafka/common.h"

#include <chrono>
#include <memory>

struct rd_kafka_s;

namespace idl::kafka {

// Cluster administration helpers (topics, readiness). Blocking calls; thread safe.
class Admin
{
public:
    // config needs bootstrap.servers; log_level=0 silences connection noise while waiting.
    static Result<std::unique_ptr<Admin>> create(Config config);
    ~Admin();
    Admin(const Admin &) = delete;
    Admin &operator=(const Admin &) = delete;

    // Creates the topics; topics that already exist are fine.
    Result<void> createTopics(const std::vector<std::string> &names, int partitions,
                              int replicationFactor,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // Waits until a broker answers a metadata request (Unavailable after the timeout).
    Result<void> waitForMetadata(std::chrono::milliseconds timeout);
    // Waits until every partition of these topics has a leader.
    Result<void> waitForTopics(const std::vector<std::string> &names,
                               std::chrono::milliseconds timeout);
    // Partition count of a topic (NotFound when it does not exist).
    Result<int> partitionCount(const std::string &topic,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Low and high watermark of a partition (first offset kept, next offset to be written),
    // asked from the partition leader.
    Result<std::pair<int64_t, int64_t>>
    watermarks(const std::string &topic, int32_t partition,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

private:
    Admin() = default;
    rd_kafka_s *m_rk = nullptr;
};

} // namespace idl::kafka
