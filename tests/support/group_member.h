#pragma once

// A consumer in a service's consumer group that reads and never commits, polled on its own
// thread so that it takes part in rebalances: the "zombie" member of the group tests (it holds
// partitions that then stand still behind their end). Its client.id decides which partitions
// the range assignor gives it (members sort by client.id): "a-zombie" sorts first.
#include "idl/kafka/consumer.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace idl::testsupport {

class GroupMember
{
public:
    GroupMember(const std::string &bootstrap, const std::string &group,
                const std::vector<std::string> &topics, const kafka::Config &extra)
    {
        kafka::ConsumerOptions co;
        co.config = {{"bootstrap.servers", bootstrap},      {"group.id", group},
                     {"isolation.level", "read_committed"}, {"enable.auto.commit", "false"},
                     {"session.timeout.ms", "6000"},        {"log_level", "0"}};
        for (const auto &[k, v] : extra)
            co.config[k] = v;
        auto c = kafka::Consumer::create(std::move(co));
        if (!c || !(*c)->subscribe(topics))
            return;
        m_consumer = std::move(c).value();
        m_thread = std::thread([this] {
            while (!m_stop) {
                (void)m_consumer->poll(std::chrono::milliseconds(100));
                m_assigned = m_consumer->assignment().size();
            }
            m_consumer->close();
        });
    }
    ~GroupMember() { close(); }
    GroupMember(const GroupMember &) = delete;
    GroupMember &operator=(const GroupMember &) = delete;

    bool ok() const { return m_consumer != nullptr; }
    std::size_t assigned() const { return m_assigned; }
    // Waits until the group gave this member a partition.
    bool waitAssigned(std::chrono::seconds timeout) const
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (m_assigned == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return m_assigned > 0;
    }
    // Leaves the group.
    void close()
    {
        m_stop = true;
        if (m_thread.joinable())
            m_thread.join();
    }

private:
    std::unique_ptr<kafka::Consumer> m_consumer;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<std::size_t> m_assigned{0};
};

} // namespace idl::testsupport
