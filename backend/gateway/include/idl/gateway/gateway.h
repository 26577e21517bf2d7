#pragma once

#include "idl/core/result.h"

#include <QObject>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace idl {
class Config;
}

namespace idl::gateway {

// Everything the gateway needs to run; see declareSettings() for the meaning of each.
struct GatewayOptions
{
    std::string wsAddress = "127.0.0.1";
    std::uint16_t wsPort = 8090; // 0: pick a free port
    std::string httpAddress = "127.0.0.1";
    std::uint16_t httpPort = 8091; // 0: pick a free port
    std::string pgDsn;
    // Where read-only requests (query, export, aggregate, top, GET /api/v1/query) run, e.g. the
    // servers of pgDsn with target_session_attrs=prefer-standby; "" = pgDsn. Authentication,
    // tokens, saved queries, alerts, DLQ, live tails and every write stay on pgDsn.
    std::string pgReadDsn;
    std::string kafkaBootstrap;
    std::string kafkaTopic = "idl.logs.events";
    std::string kafkaRawTopic = "idl.logs.raw"; // where replayed dead letters go
    std::string kafkaDlqTopic = "idl.logs.dlq";
    std::int64_t dlqScanWindow = 10000; // dlq.list reads the newest this many per partition
    std::string writerGroup = "idl-writer";
    std::string alertsChannel = "idl_alerts"; // idl-alerter's notify.channel (alert.state)
    std::string metricsToken;
    std::string tlsCertFile;
    std::string tlsKeyFile;
    int dbPoolSize = 4;   // connections for queries, aggregates, exports, saved queries
    int authPoolSize = 2; // connections for token checks only (logins never queue behind queries)
    std::chrono::milliseconds dbAcquireTimeout{5000}; // waiting for a free connection at most
    std::chrono::milliseconds queryTimeout{30000};
    std::chrono::milliseconds dbLockTimeout{5000}; // lock_timeout of every session
    std::chrono::milliseconds dbIdleInTransactionTimeout{
        10000}; // idle_in_transaction_session_timeout
    std::chrono::milliseconds idleTimeout{300000};
    std::chrono::milliseconds authTimeout{10000};
    std::chrono::milliseconds revalidateInterval{30000};
    std::int64_t maxMessageBytes = 1 << 20;
    int maxInflight = 8;
    int maxTails = 2;
    int maxSessions = 1000;       // WebSocket sessions on this gateway
    int maxSessionsPerToken = 50; // sessions authenticated with one token
    int maxTailsTotal = 200;      // live tails on this gateway
    std::size_t tailQueue = 10000;
    std::int64_t tailQueueBytes = 8 << 20;
    int tailHistoryPage = 1000; // history rows per short transaction (tests make it small)
    std::int64_t maxPendingBytes = 4 << 20;
    double ratePerSecond = 50;
    double rateBurst = 100;
};

// Declares every gateway setting (ws.port, http.port, pg.dsn, kafka.bootstrap, ...).
void declareSettings(Config &config);
// Reads the declared settings.
GatewayOptions optionsFromConfig(const Config &config);

// The query gateway: a WebSocket server (protocol of docs/protocol.md) and an HTTP server
// (ops endpoints and GET /api/v1/query), with the database work on a pool of worker threads
// and one Kafka consumer shared by every live tail (TailHub; a tail started with since/resume
// reads on its own thread only until it has caught up).
//
// Lifecycle: create on the main thread (a QCoreApplication must exist), start(), and stop()
// (or destroy) on the same thread. Sessions live on the main thread.
class Gateway : public QObject
{
    Q_OBJECT
public:
    explicit Gateway(GatewayOptions options, QObject *parent = nullptr);
    ~Gateway() override;

    // Applies the schema migrations, opens the listeners. Unavailable when a port is taken,
    // a TLS file cannot be read or the database cannot be reached.
    Result<void> start();
    // Closes every connection and the listeners; joins workers.
    void stop();

    // Bound ports (after start()).
    std::uint16_t wsPort() const;
    std::uint16_t httpPort() const;
    // Open WebSocket sessions.
    int sessionCount() const;
    // True while the gateway listens for idl-alerter's state changes (alert.state pushes).
    bool alertsListening() const;

    struct Impl;

private:
    std::unique_ptr<Impl> d;
};

} // namespace idl::gateway
