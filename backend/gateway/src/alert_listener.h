#pragma once

#include "alerts_store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace idl::gateway {

// Follows the state changes idl-alerter publishes (pg_notify(channel, {"rule","history"}),
// docs/alerts.md) on a PostgreSQL connection of its own, outside the request pool: LISTENs,
// reads each change's history row with its rule (who may see it) and hands it to `deliver`
// (called on the listener's thread). A lost connection is opened again (after 0.5 s, doubling
// up to 10 s); changes committed meanwhile are not delivered.
class AlertListener
{
public:
    using Deliver = std::function<void(alerts::Change)>;
    AlertListener(std::string dsn, std::string channel, Deliver deliver);
    ~AlertListener();
    AlertListener(const AlertListener &) = delete;
    AlertListener &operator=(const AlertListener &) = delete;

    void start();
    void stop();
    // True while LISTEN is in effect on a live connection.
    bool listening() const { return m_listening.load(); }

private:
    void run();
    // Sleeps up to `d` unless stopped; false when stopped.
    bool pause(std::chrono::milliseconds d);

    std::string m_dsn;
    std::string m_channel;
    Deliver m_deliver;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_listening{false};
    std::mutex m_mutex;
    std::condition_variable m_wake;
};

} // namespace idl::gateway
