#include "db_pool.h"

#include <libpq-fe.h>

namespace idl::gateway {

RequestState::~RequestState()
{
    detach();
}

void RequestState::cancel()
{
    m_cancelled.store(true, std::memory_order_relaxed);
    std::lock_guard lock(m_mutex);
    if (m_cancel) {
        char err[256];
        PQcancel(m_cancel, err, sizeof err);
    }
}

void RequestState::attach(pg::Connection &connection)
{
    std::lock_guard lock(m_mutex);
    if (m_cancel)
        PQfreeCancel(m_cancel);
    m_cancel = connection.native() ? PQgetCancel(connection.native()) : nullptr;
}

void RequestState::detach()
{
    std::lock_guard lock(m_mutex);
    if (m_cancel)
        PQfreeCancel(m_cancel);
    m_cancel = nullptr;
}

DbPool::DbPool(std::string dsn, int size, DbLimits limits, std::chrono::milliseconds acquireTimeout)
    : m_dsn(std::move(dsn)), m_size(size < 1 ? 1 : size), m_limits(limits),
      m_acquireTimeout(acquireTimeout)
{}

DbPool::~DbPool() = default;

DbPool::Lease::~Lease()
{
    if (m_c && m_pool)
        m_pool->release(std::move(m_c));
}

Result<DbPool::Lease> DbPool::acquire()
{
    {
        std::unique_lock lock(m_mutex);
        if (!m_cv.wait_for(lock, m_acquireTimeout,
                           [&] { return !m_idle.empty() || m_open < m_size; }))
            return makeError(ErrorCode::Overloaded, "database busy: all " + std::to_string(m_size) +
                                                        " connections in use for " +
                                                        std::to_string(m_acquireTimeout.count()) +
                                                        " ms");
        if (!m_idle.empty()) {
            auto c = std::move(m_idle.back());
            m_idle.pop_back();
            return Lease(this, std::move(c));
        }
        ++m_open;
    }
    auto c = pg::Connection::connect(m_dsn, std::chrono::seconds(5));
    if (c) {
        auto set =
            c->exec("SET statement_timeout = " + std::to_string(m_limits.statementTimeout.count()) +
                    "; SET lock_timeout = " + std::to_string(m_limits.lockTimeout.count()) +
                    "; SET idle_in_transaction_session_timeout = " +
                    std::to_string(m_limits.idleInTransactionTimeout.count()) +
                    "; SET application_name = 'idl-gateway'"
                    // JIT compiles a plan once its estimated cost passes jit_above_cost: a
                    // scan of a few million rows then spends 100+ ms compiling before the
                    // first row, longer than the page takes (docs/benchmarks.md, Peer).
                    "; SET jit = off"
                    // With the default 4.0 the planner prices the heap fetches of the (app, ts)
                    // index above those of a closed partition's ts b-tree (perfectly correlated)
                    // and scans every app's rows for `app:X level:error`: 15 ms instead of 2 ms
                    // on 1M rows. Log data is read hot or from SSDs; 1.1 picks (app, ts).
                    "; SET random_page_cost = 1.1");
        if (set)
            return Lease(this, std::make_unique<pg::Connection>(std::move(c).value()));
    }
    {
        std::lock_guard lock(m_mutex);
        --m_open;
    }
    m_cv.notify_one();
    return makeError(ErrorCode::Unavailable, "database unavailable");
}

void DbPool::release(std::unique_ptr<pg::Connection> c)
{
    {
        std::lock_guard lock(m_mutex);
        if (c->isBroken() || PQtransactionStatus(c->native()) != PQTRANS_IDLE)
            --m_open; // dropped: a failed or cancelled statement may leave it unusable
        else
            m_idle.push_back(std::move(c));
    }
    m_cv.notify_one();
}

std::string DbPool::check()
{
    auto lease = acquire();
    if (!lease)
        return "database unavailable";
    auto r = (*lease)->query("SELECT 1");
    return r ? std::string() : std::string("database unavailable");
}

} // namespace idl::gateway
