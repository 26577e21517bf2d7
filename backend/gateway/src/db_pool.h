#pragma once

#include "idl/core/result.h"
#include "idl/pg/connection.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct pg_cancel;

namespace idl::gateway {

// Cancellation of one request: a flag checked between steps, plus PQcancel on the statement
// currently running for it. Shared between the session (main thread) and a worker.
class RequestState
{
public:
    ~RequestState();
    // Sets the flag and cancels the running statement, if any. Any thread.
    void cancel();
    bool cancelled() const { return m_cancelled.load(std::memory_order_relaxed); }
    // Registers the connection that is about to run statements for this request; the
    // registration ends with detach(). A request cancelled before attach() stays cancelled.
    void attach(pg::Connection &connection);
    void detach();

private:
    std::atomic<bool> m_cancelled{false};
    std::mutex m_mutex;
    pg_cancel *m_cancel = nullptr;
};

// What every pooled connection runs with (set when it connects): no statement runs longer
// than statementTimeout, no lock is waited for longer than lockTimeout (so the gateway never
// queues an exclusive lock request or waits behind one for long), and a session idle inside
// a transaction longer than idleInTransactionTimeout is ended by the server.
struct DbLimits
{
    std::chrono::milliseconds statementTimeout;
    std::chrono::milliseconds lockTimeout;
    std::chrono::milliseconds idleInTransactionTimeout;
};

// Which server a request's statements may run on: the primary (pg.dsn: authentication,
// writes, anything that must see the latest commit) or, for read-only requests, pg.read-dsn
// (a hot standby, whose rows lag the primary by its replay delay).
enum class DbTarget { Primary, ReadOnly };

// A bounded pool of PostgreSQL connections, created lazily, each with the DbLimits.
// Thread-safe.
class DbPool
{
public:
    DbPool(std::string dsn, int size, DbLimits limits, std::chrono::milliseconds acquireTimeout);
    ~DbPool();

    // A connection borrowed from the pool; returned (or discarded when broken) on destruction.
    class Lease
    {
    public:
        Lease(DbPool *pool, std::unique_ptr<pg::Connection> c) : m_pool(pool), m_c(std::move(c)) {}
        Lease(Lease &&) = default;
        ~Lease();
        pg::Connection &operator*() { return *m_c; }
        // Moves the connection out (the caller gives it back with giveBack() before the
        // lease ends), so a job can hand it back to the pool while it waits on a client.
        pg::Connection take() { return std::move(*m_c); }
        void giveBack(pg::Connection c) { *m_c = std::move(c); }
        pg::Connection *operator->() { return m_c.get(); }

    private:
        DbPool *m_pool;
        std::unique_ptr<pg::Connection> m_c;
    };

    // Waits for a free connection (or opens one), at most the acquire timeout (then
    // Overloaded); Unavailable when the database is down.
    Result<Lease> acquire();
    // A probe for /readyz: empty when a connection can be had, else the reason.
    std::string check();
    const std::string &dsn() const { return m_dsn; }
    std::chrono::milliseconds statementTimeout() const { return m_limits.statementTimeout; }

private:
    void release(std::unique_ptr<pg::Connection> c);

    std::string m_dsn;
    int m_size;
    DbLimits m_limits;
    std::chrono::milliseconds m_acquireTimeout;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<std::unique_ptr<pg::Connection>> m_idle;
    int m_open = 0;
};

} // namespace idl::gateway
