#pragma once

#include "db_pool.h"
#include "idl/gateway/gateway.h"
#include "idl/gateway/tokens.h"
#include "idl/service/auth/rate_limiter.h"

#include <QSet>
#include <QThreadPool>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

class QTcpServer;
class QWebSocketServer;

namespace idl::http {
class Server;
}

namespace idl::gateway {

class AlertListener;
class Session;
class TailHub;

// Token-bucket rate limit per token prefix, shared by every connection and the HTTP API.
using RateLimiter = auth::RateLimiter;

// Shared state of a running gateway (see Gateway). Lives on the main thread; pool, workers
// and limiter are thread-safe.
struct Gateway::Impl
{
    GatewayOptions opt;
    std::unique_ptr<DbPool> pool;     // requests (queries, aggregates, exports, saved queries)
    std::unique_ptr<DbPool> authPool; // token checks only
    std::unique_ptr<DbPool> readPool; // read-only requests when pg.read-dsn is set, else none
    DbPool &poolFor(DbTarget target)
    {
        return target == DbTarget::ReadOnly && readPool ? *readPool : *pool;
    }
    std::shared_ptr<TailHub> hub;                 // the one Kafka consumer of every live tail
    std::unique_ptr<AlertListener> alertListener; // idl-alerter's changes -> alert.state
    QThreadPool workers;
    QThreadPool authWorkers;        // token checks, off the request workers
    QTcpServer *listener = nullptr; // accepts (and, with TLS, encrypts) the TCP connections
    QWebSocketServer *ws = nullptr; // upgrades what the listener hands it to WebSockets
    std::unique_ptr<http::Server> http;
    std::unique_ptr<RateLimiter> rate;
    QSet<Session *> sessions;
    QObject *home = nullptr;                 // the Gateway (main thread)
    std::map<std::uint64_t, Session *> live; // sessions by serial (main thread only)
    std::uint64_t nextSerial = 1;

    // Runs fn on a worker thread.
    void submit(std::function<void()> fn);
    // Runs a token check on an auth worker (never queued behind requests).
    void submitAuth(std::function<void()> fn);
    // Runs fn on the main thread with the session `serial`, if it still exists. Any thread;
    // serials are never reused, so a late reply never reaches another session.
    void post(std::uint64_t serial, std::function<void(Session *)> fn);
    // Drains tail `id` of session `serial` on the main thread soon. Any thread. Tails woken
    // together (one Kafka event for many tails) are drained by one queued call.
    void wakeTail(std::uint64_t serial, const std::string &id);

private:
    std::mutex m_wokenMutex;
    std::vector<std::pair<std::uint64_t, std::string>> m_woken; // tails to drain
};

} // namespace idl::gateway
