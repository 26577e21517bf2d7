// idl-alerter's threads: evaluators (evaluateDue) and senders (deliverOne), each on its own
// PostgreSQL connection, until stop().
#include "idl/alerter/alerter.h"
#include "idl/core/timestamp.h"
#include "idl/observability/json_log.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace idl::alerter {

struct Alerter::Impl
{
    AlerterOptions o;
    std::vector<std::thread> threads;
    mutable std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    std::string dbError;

    // Waits `d` or until stop(); false when stopping.
    bool pause(std::chrono::milliseconds d)
    {
        std::unique_lock lock(mutex);
        wake.wait_for(lock, d, [this] { return stopping; });
        return !stopping;
    }
    bool running()
    {
        std::lock_guard lock(mutex);
        return !stopping;
    }
    void setDbError(std::string e)
    {
        std::lock_guard lock(mutex);
        dbError = std::move(e);
    }

    Result<pg::Connection> connect()
    {
        auto c = pg::Connection::connect(o.pgDsn, std::chrono::seconds(5));
        if (!c)
            return c.error();
        if (auto r =
                c->exec("SET statement_timeout = " + std::to_string(o.statementTimeout.count()));
            !r)
            return r.error();
        return c;
    }

    // Runs `pass` on its own connection until stopped: again at once while it finds work,
    // after `poll` otherwise; reconnects after a database failure.
    template <typename Pass> void loop(const char *what, Pass pass)
    {
        pg::Connection conn;
        while (running()) {
            if (conn.isBroken()) {
                auto c = connect();
                if (!c) {
                    setDbError(c.error().message);
                    if (!pause(o.poll))
                        return;
                    continue;
                }
                conn = std::move(c).value();
                setDbError({});
            }
            auto busy = pass(conn);
            if (!busy) {
                jlog::warn(what, {{"error", QString::fromStdString(busy.error().message)}});
                if (conn.isBroken())
                    setDbError(busy.error().message);
            }
            if ((!busy || !*busy) && !pause(o.poll))
                return;
        }
    }
};

Alerter::Alerter(AlerterOptions options) : d(std::make_unique<Impl>())
{
    d->o = std::move(options);
}

Alerter::~Alerter()
{
    stop();
}

Result<void> Alerter::start()
{
    auto c = d->connect();
    if (!c)
        return c.error();
    if (d->o.migrate) {
        if (auto m = schema::migrate(*c); !m)
            return m.error();
    }
    Impl *impl = d.get();
    for (int i = 0; i < d->o.evaluators; ++i) {
        d->threads.emplace_back([impl] {
            impl->loop("alert evaluation pass failed", [impl](pg::Connection &db) -> Result<bool> {
                auto r = evaluateDue(db, impl->o, nowNs());
                if (!r)
                    return r.error();
                if (r->transitions)
                    jlog::info("alert states changed", {{"rules", r->evaluated},
                                                        {"transitions", r->transitions},
                                                        {"notifications", r->notifications}});
                return r->evaluated >= impl->o.batch;
            });
        });
    }
    for (int i = 0; i < d->o.senders; ++i) {
        d->threads.emplace_back([impl, send = httpSender(d->o)] {
            impl->loop("alert notification failed",
                       [impl, &send](pg::Connection &db) -> Result<bool> {
                           auto r = deliverOne(db, impl->o, send);
                           if (!r)
                               return r.error();
                           return *r != Delivery::Nothing;
                       });
        });
    }
    return {};
}

void Alerter::stop()
{
    {
        std::lock_guard lock(d->mutex);
        d->stopping = true;
    }
    d->wake.notify_all();
    for (auto &t : d->threads)
        t.join();
    d->threads.clear();
}

std::string Alerter::notReadyReason() const
{
    std::lock_guard lock(d->mutex);
    return d->dbError.empty() ? std::string() : "postgres: " + d->dbError;
}

} // namespace idl::alerter
