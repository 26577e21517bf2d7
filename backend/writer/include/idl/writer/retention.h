#pragma once

#include "idl/core/result.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace idl::pg {
class Connection;
}

namespace idl::writer {

// How old data is removed.
struct RetentionOptions
{
    std::chrono::seconds defaultTtl{30 * 86400}; // apps without a row in retention_policies
    std::int64_t deleteBatchRows = 10000;        // rows per DELETE statement (per-app TTLs)
    std::int64_t maxDeletedPerRun = 5'000'000;   // bound on one run's deletes; the rest next run
    int partitionsAheadDays = 2;                 // partitions created ahead of today
    std::chrono::milliseconds lockTimeout{5000}; // longest wait for any lock (then next run)
    // The server ends the session if it ever sits idle inside a transaction this long.
    std::chrono::milliseconds idleInTransactionTimeout{60000};
    // Closed partitions (whose day ended at least closedAfter ago) get their search index
    // (trigram GIN on the message when pg_trgm is there), a BRIN summary and statistics
    // (VACUUM ANALYZE), at most closedIndexPerRun partitions per run, newest first; 0 turns it
    // off. The open partition keeps BRIN + (app, ts) + ts (migration 011) so ingest stays cheap.
    std::chrono::seconds closedAfter{600};
    int closedIndexPerRun = 2;
    // How often the worker checks the planner statistics of the open partitions between runs
    // (analyzeStalePartitions()); 0: only with each run.
    std::chrono::milliseconds statisticsInterval{30000};
    // A partition with fewer rows changed since its last ANALYZE than this is never stale.
    std::int64_t statisticsMinRows = 10000;
    // Idempotency-Key rows (ingest_idempotency) older than this are deleted: a request resent
    // later than that with the same key is stored again.
    std::chrono::seconds idempotencyKeyTtl{86400};
};

// What one retention run did.
struct RetentionReport
{
    int partitionsDropped = 0;
    std::int64_t rowsDeleted = 0;
    std::int64_t rollupRowsDeleted = 0;
    int partitionsCreated = 0;
    int partitionsIndexed = 0;  // closed partitions that got their search indexes in this run
    int partitionsAnalyzed = 0; // open partitions whose stale statistics this run renewed
    std::int64_t idempotencyKeysDeleted = 0; // expired ingest_idempotency rows
    bool complete = true;                    // false when maxDeletedPerRun stopped it early
};

// One retention pass at wall-clock time nowNs:
// 1. creates the partitions for today and the next partitionsAheadDays days;
// 2. drops every daily partition whose whole range is older than the longest TTL in force
//    (the default and every per-app TTL), and the rollups of that range;
// 3. for apps whose TTL is shorter than that (per-app rows, or the default when some app
//    keeps data longer), deletes their rows older than their TTL in bounded batches (each in
//    its own short transaction) and, with the last batch, their rollups of that range.
// 4. gives every partition older than migration 011 its b-tree on ts (attached to logs_ts),
//    then builds the search index of closed partitions (RetentionOptions::closedIndexPerRun);
//    CREATE INDEX CONCURRENTLY, so late events for that day are never blocked, and a build
//    interrupted by lock_timeout (its INVALID index) is dropped and built again next run.
//    Then analyzeStalePartitions().
// 5. deletes ingest_idempotency rows older than idempotencyKeyTtl (bounded batches).
// Cut-offs are rounded down to the minute so rollups stay equal to the raw rows.
// Under TimescaleDB, step 2 is drop_chunks().
Result<RetentionReport> runRetention(pg::Connection &connection, const RetentionOptions &options,
                                     std::int64_t nowNs);

// ANALYZEs each partition that is not closed yet (RetentionOptions::closedAfter) and holds at
// least statisticsMinRows rows changed since its last ANALYZE when its statistics are missing
// (never analyzed) or describe fewer rows than have changed since (the table more than doubled).
// Autovacuum analyzes at every +10 %, but one worker does a table's VACUUM and then its
// ANALYZE: a burst into a new day's partition is vacuumed for minutes while the planner still
// takes it for empty, and `app:X level:error` then sorts every row of app X instead of stopping
// at the first page (docs/benchmarks.md, Peer). ANALYZE waits for the autovacuum of that table,
// which PostgreSQL cancels after deadlock_timeout for a waiting client. Returns how many it
// analyzed. Nothing under TimescaleDB (no partitions listed).
Result<int> analyzeStalePartitions(pg::Connection &connection, const RetentionOptions &options,
                                   std::int64_t nowNs);

// Runs runRetention() on its own thread and connection every `interval` (first run at
// once), and analyzeStalePartitions() every statisticsInterval in between. Lifecycle: start()
// → stop() (or the destructor). Failures are logged and retried at the next interval.
// Metrics: idl_writer_retention_*.
class RetentionWorker
{
public:
    RetentionWorker(std::string dsn, RetentionOptions options, std::chrono::milliseconds interval);
    ~RetentionWorker();
    RetentionWorker(const RetentionWorker &) = delete;
    RetentionWorker &operator=(const RetentionWorker &) = delete;

    void start();
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::writer
