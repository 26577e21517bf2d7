#pragma once

#include "idl/core/log_event.h"
#include "idl/core/result.h"
#include "idl/pg/connection.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace idl::writer {

// The next offset of one topic partition after a batch, and the next offset the database
// must hold before it (the fence: another writer that moved it first wins).
struct OffsetAdvance
{
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t expectedNext = -1; // -1: no row stored yet for this partition
    std::int64_t newNext = 0;
};

// An event PostgreSQL refused even after sanitizing, found by isolating it in its own COPY.
struct RejectedRow
{
    std::size_t index = 0; // position in the batch
    std::string reason;    // the database's error
};

// An event of the batch sent with an Idempotency-Key (idl/kafka/idempotency.h): stored at
// most once per (scope, key, index), checked in the batch's transaction.
struct KeyedEvent
{
    std::size_t event = 0; // position in the batch
    std::string scope;     // the sender's key id
    std::string key;       // the client's Idempotency-Key
    std::int32_t index = 0;
};

// What store() did.
struct StoreReport
{
    long long rows = 0;
    long long duplicates = 0; // keyed events skipped: stored before (or twice in this batch)
    std::vector<RejectedRow> rejected;
    std::chrono::nanoseconds copyTime{0};
    std::chrono::nanoseconds totalTime{0};
};

// Writes batches into PostgreSQL: one transaction = COPY of the rows + per-minute rollups +
// the next Kafka offsets (fenced). Owns one connection, reconnects on demand. Use from one
// thread.
class BatchStore
{
public:
    struct Options
    {
        std::string dsn;
        std::string consumerGroup;
        pg::CopyFormat copyFormat = pg::CopyFormat::Binary;
    };
    // Runs after the rows, rollups and offsets are written and before COMMIT, with the rows
    // the database refused; an error aborts the transaction (e.g. the DLQ is unreachable).
    using BeforeCommit = std::function<Result<void>(std::span<const RejectedRow>)>;

    explicit BatchStore(Options options);

    // Connects if not connected. Unavailable when PostgreSQL cannot be reached.
    Result<void> ensureConnected();
    bool connected() const;
    // Drops the connection (after an error that may have left it in a bad state).
    void disconnect();

    // The stored next offsets of these partitions of `topic` (absent: none stored).
    Result<std::map<std::int32_t, std::int64_t>> loadOffsets(const std::string &topic);

    // Stores a batch exactly once. Errors: Unavailable (connection lost: retry later; the
    // commit may or may not have happened, the fence sorts it out on retry), Conflict (the
    // stored offsets are not the expected ones: reload them and re-read), Internal.
    // `keyed`: the events sent with an Idempotency-Key; each gets its ingest_idempotency row
    // in the transaction, and one whose row exists (or appears twice) is not stored again.
    Result<StoreReport> store(std::span<const LogEvent> events,
                              std::span<const OffsetAdvance> offsets,
                              const BeforeCommit &beforeCommit,
                              std::span<const KeyedEvent> keyed = {});

    // Direct access for maintenance on the same connection (tests).
    pg::Connection &connection() { return m_conn; }

private:
    Result<void> ensurePartitions(std::span<const LogEvent> events);
    Result<long long> copyRows(std::span<const LogEvent> events,
                               std::span<const std::size_t> indexes);
    Result<void> isolate(std::span<const LogEvent> events, std::vector<std::size_t> indexes,
                         std::vector<RejectedRow> &rejected, std::vector<bool> &refused,
                         long long &rows);
    Result<void> writeRollups(std::span<const LogEvent> events, const std::vector<bool> &refused);
    Result<void> writeTenSecondRollups(std::span<const LogEvent> events,
                                       const std::vector<bool> &refused);
    Result<void> writeOffsets(std::span<const OffsetAdvance> offsets);
    Result<void> claimKeys(std::span<const KeyedEvent> keyed, std::vector<bool> &skipped);

    Options m_options;
    pg::Connection m_conn;
    std::set<std::int64_t> m_knownDays; // day numbers whose partition exists
    std::string m_buffer;
};

// True for errors after which the connection should be dropped and the batch retried later
// (connection lost, server shutting down, out of resources, serialization failure).
bool isTransientDbError(const Error &error);

// Start of the UTC minute containing ts (ns), for rollups.
constexpr std::int64_t minuteBucket(std::int64_t tsNs)
{
    constexpr std::int64_t kMinute = 60LL * 1'000'000'000;
    return tsNs - ((tsNs % kMinute) + kMinute) % kMinute;
}

} // namespace idl::writer
