#pragma once

#include "db_pool.h"
#include "idl/core/result.h"
#include "idl/query/ast.h"
#include "idl/query/evaluator.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace idl::gateway {

// What one live tail follows and from where.
struct TailOptions
{
    std::string bootstrap;
    std::string topic;
    std::string dsn;
    std::string writerGroup = "idl-writer";
    std::optional<std::int64_t> sinceNs;                        // history from PostgreSQL first
    std::optional<std::map<std::int32_t, std::int64_t>> resume; // exact positions
    query::Node ast;                                            // the filter (history SQL)
    std::optional<query::Matcher> matcher;                      // the filter (live events)
    std::vector<std::string> apps;                              // scope; empty = every app
    std::size_t queueCapacity = 10000;
    std::size_t queueBytes = 8 << 20; // and at most this many bytes of queued rows
    std::chrono::milliseconds statementTimeout{30000};
};

// One live tail: a worker thread that (optionally) reads history in one REPEATABLE READ
// snapshot together with the writer's stored Kafka offsets, then consumes the events topic
// from exactly those offsets (manual assignment, no consumer group), filters and scopes each
// event and puts its encoded row into a bounded queue. History waits for room in the queue;
// live events that find it full are dropped and counted.
//
// Lifecycle: created and started by a session on the main thread; take() from that thread;
// stop() (or the destructor) ends and joins the worker. `wake` runs on the worker thread
// when the queue goes from empty to non-empty.
class TailSubscription
{
public:
    // One queued row.
    struct Item
    {
        std::string json;
        std::int32_t partition = -1; // -1: history row
        std::int64_t offset = -1;
    };
    // What take() hands to the session for one frame.
    struct Batch
    {
        std::vector<Item> items;
        bool history = false;      // items are history rows
        std::uint64_t dropped = 0; // dropped since the previous take()
        std::map<std::int32_t, std::int64_t> positions;
        std::optional<Error> error; // the worker stopped with this error
    };

    TailSubscription(TailOptions options, std::function<void()> wake);
    ~TailSubscription();
    TailSubscription(const TailSubscription &) = delete;
    TailSubscription &operator=(const TailSubscription &) = delete;

    // Starts the worker.
    void start();
    // Stops and joins the worker (cancels a running history statement).
    void stop();
    // Takes up to maxItems queued rows (all of one phase) and the positions after them.
    Batch take(std::size_t maxItems);
    // True once the start positions are known (tail.started can be sent).
    bool started() const { return m_started.load(); }
    // The start positions and whether history is read; valid once started().
    std::map<std::int32_t, std::int64_t> startPositions() const;
    bool truncated() const { return m_truncated.load(); }
    std::size_t queued() const;

private:
    void run();
    Result<void> runInner();
    bool pushHistory(Item item);
    void pushLive(Item item);
    void setError(Error e);

    TailOptions m_opt;
    std::function<void()> m_wake;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_started{false};
    std::atomic<bool> m_truncated{false};
    std::shared_ptr<RequestState> m_request = std::make_shared<RequestState>();

    mutable std::mutex m_mutex;
    std::condition_variable m_room;
    std::deque<Item> m_queue;
    std::size_t m_queuedBytes = 0;
    // No room for `item` (by count or bytes; a lone item always fits). Under m_mutex.
    bool full(const Item &item) const
    {
        return m_queue.size() >= m_opt.queueCapacity ||
               (!m_queue.empty() && m_queuedBytes + item.json.size() > m_opt.queueBytes);
    }
    std::uint64_t m_dropped = 0;
    std::map<std::int32_t, std::int64_t> m_start;     // start positions
    std::map<std::int32_t, std::int64_t> m_consumed;  // next offset after everything read
    std::map<std::int32_t, std::int64_t> m_delivered; // positions reported so far
    std::optional<Error> m_error;
    bool m_errorTaken = false;
};

} // namespace idl::gateway
