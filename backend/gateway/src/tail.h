#pragma once

#include "db_pool.h"
#include "idl/core/log_event.h"
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
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace idl::gateway {

class TailHub;
class TailSubscription;

// Kafka positions: partition -> next offset.
using Positions = std::map<std::int32_t, std::int64_t>;

// What one live tail follows and from where.
struct TailOptions
{
    std::string bootstrap;
    std::string topic;
    std::string writerGroup = "idl-writer";
    DbPool *pool = nullptr;                // history pages (one short transaction each)
    std::shared_ptr<TailHub> hub;          // the gateway's shared consumer
    std::optional<std::int64_t> sinceNs;   // history from PostgreSQL first
    std::optional<Positions> resume;       // exact positions
    query::Node ast;                       // the filter (history SQL)
    std::optional<query::Matcher> matcher; // the filter (Kafka events)
    std::vector<std::string> apps;         // scope; empty = every app
    std::size_t queueCapacity = 10000;
    std::size_t queueBytes = 8 << 20; // and at most this many bytes of queued rows
    int historyPage = 1000;           // history rows per transaction
};

// The gateway's one consumer of the events topic (read_committed, manual assignment of every
// partition, no consumer group), shared by every live tail of the process: it decodes each
// event once and offers it to every attached subscription, which filters it (scope, query,
// since) and queues it, or drops and counts it when its queue is full. Nothing in dispatch
// waits for a client. An event whose key (its app) no attached subscription can want is not
// decoded at all (no tails, or tails of other apps: the common case under load).
//
// Hand-off: `next(p)` is the offset after the last message dispatched on partition p (under
// the hub's mutex, together with the list of subscriptions). attach(s, at) gives s every
// message at offset >= from[p] = max(at[p], next(p)) in each partition; whatever lies in
// [at[p], from[p]) the subscription's own catch-up reader delivers, while the hub keeps what
// it dispatches to s aside (pending) until goLive(s) appends it to s's queue. So no offset is
// delivered twice or skipped, whichever of the two readers is ahead.
//
// Lifecycle: created and start()ed by the gateway; stop() (or the destructor) joins its
// thread. Subscriptions detach before they die. Thread-safe.
class TailHub
{
public:
    TailHub(std::string bootstrap, std::string topic);
    ~TailHub();
    TailHub(const TailHub &) = delete;
    TailHub &operator=(const TailHub &) = delete;

    void start();
    void stop();
    // True once the topic's partitions are known and the consumer is assigned.
    bool ready() const { return m_ready.load(); }
    // Waits until ready(); the partition count, or Unavailable after `timeout`.
    Result<int> waitReady(std::chrono::milliseconds timeout);
    // Offset after the last message dispatched on partition p (any thread, no lock).
    std::int64_t next(std::int32_t p) const;
    // Subscriptions attached now.
    std::size_t attached() const;

    // For TailSubscription. attach: see above; returns from (every partition). With
    // pending, dispatched events wait aside until goLive().
    Positions attach(TailSubscription *s, const Positions &at, bool pending);
    void goLive(TailSubscription *s);
    void detach(TailSubscription *s);

private:
    void run();
    Result<void> setUp();

    std::string m_bootstrap;
    std::string m_topic;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_ready{false};
    mutable std::mutex m_mutex; // m_subs, dispatch, m_partitions; taken before a sub's mutex
    std::condition_variable m_cv;
    std::vector<TailSubscription *> m_subs;
    // Key (app) -> whether some attached subscription may want its events; cleared whenever
    // m_subs changes, and when it grows past a bound (keys are client-chosen app names).
    std::unordered_map<std::string, bool> m_keyWanted;
    bool keyWanted(std::string_view key);
    int m_partitions = 0;
    std::unique_ptr<std::atomic<std::int64_t>[]> m_next;
};

// One live tail. Live events come from the shared TailHub; a tail started with `since` or
// `resume` first catches up on a thread of its own, which ends at the hand-off:
// - `since`: the history is read from PostgreSQL in keyset pages, each page in one short
//   REPEATABLE READ transaction together with the writer's stored offsets (the writer commits
//   rows and offsets together, so page i holds exactly the rows of its key range below
//   offsets S_i). No transaction and no pooled connection is held while the client takes
//   the rows. Rows committed meanwhile into key ranges already read (offsets in [S_1, S_n))
//   are then read from Kafka and sent as the end of the history, so the history is exactly
//   "every stored event below S_n" and the live part starts at S_n;
// - `resume` (or the live part after `since`): a private Kafka reader from those positions
//   until it is close to the hub, then the hand-off (TailHub::attach/goLive).
// History and catch-up wait for room in the queue; live events that find it full are
// dropped and counted.
//
// Lifecycle: created and started by a session on the main thread; take() from that thread;
// stop() (or the destructor) ends it. `wake` runs on another thread when the queue goes from
// empty to non-empty.
class TailSubscription
{
public:
    // One queued row.
    struct Item
    {
        std::shared_ptr<const std::string> json;
        std::int32_t partition = -1; // -1: history row
        std::int64_t offset = -1;
        std::shared_ptr<const Positions> seam; // history rows: positions after them
    };
    // What take() hands to the session for one frame.
    struct Batch
    {
        std::vector<Item> items;
        bool history = false;      // items are history rows
        std::uint64_t dropped = 0; // dropped since the previous take()
        Positions positions;
        std::optional<Error> error; // the tail stopped with this error
    };

    TailSubscription(TailOptions options, std::function<void()> wake);
    ~TailSubscription();
    TailSubscription(const TailSubscription &) = delete;
    TailSubscription &operator=(const TailSubscription &) = delete;

    // Attaches to the hub, or starts the catch-up thread.
    void start();
    // Ends the tail: stops the catch-up (cancels a running history statement), detaches.
    void stop();
    // Takes up to maxItems queued rows (all of one phase) and the positions after them.
    Batch take(std::size_t maxItems);
    // True once the start positions are known (tail.started can be sent).
    bool started() const { return m_started.load(); }
    Positions startPositions() const;
    bool truncated() const { return m_truncated.load(); }
    std::size_t queued() const;

private:
    friend class TailHub;
    // Hub side (hub thread, under the hub's mutex).
    void offer(std::int32_t partition, std::int64_t offset, const LogEvent &event,
               std::shared_ptr<const std::string> &json);

    bool wants(const LogEvent &event) const;
    // False when no event of this app can pass the scope and the filter (the hub then skips
    // decoding it: the events topic is keyed by app).
    bool mayWantApp(std::string_view app) const;
    void run();
    Result<void> catchUp();
    Result<Positions> readHistory(int partitions);
    Result<void> follow(Positions at);
    void publishStart(const Positions &start);
    bool pushWait(Item item); // waits for room; false when stopping
    void setError(Error e);
    // No room for `bytes` more in `q` (by count or bytes; a lone item always fits).
    bool full(const std::deque<Item> &q, std::size_t qBytes, std::size_t bytes) const
    {
        return q.size() >= m_opt.queueCapacity || (!q.empty() && qBytes + bytes > m_opt.queueBytes);
    }

    TailOptions m_opt;
    std::function<void()> m_wake;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_started{false};
    std::atomic<bool> m_truncated{false};
    std::atomic<bool> m_live{false}; // attached to the hub, nothing aside
    std::shared_ptr<RequestState> m_request = std::make_shared<RequestState>();

    // Under the hub's mutex: what the hub dispatches to this tail.
    Positions m_from;
    bool m_attached = false;
    bool m_pending = false;

    mutable std::mutex m_mutex;
    std::condition_variable m_room;
    std::deque<Item> m_queue;
    std::size_t m_queuedBytes = 0;
    std::deque<Item> m_aside; // dispatched by the hub while the catch-up finishes
    std::size_t m_asideBytes = 0;
    std::uint64_t m_dropped = 0;
    Positions m_start;     // start positions
    Positions m_consumed;  // next offset after everything the catch-up read
    Positions m_delivered; // positions reported so far
    std::optional<Error> m_error;
    bool m_errorTaken = false;
};

} // namespace idl::gateway
