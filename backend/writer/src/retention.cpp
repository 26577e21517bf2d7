#include "idl/writer/retention.h"

#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"
#include "idl/writer/batch_store.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace idl::writer {
namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kDayNs = schema::kLogPartitionNs;

std::string arrayLiteral(const std::vector<std::string> &items)
{
    std::string out = "{";
    for (const auto &s : items) {
        if (out.size() > 1)
            out += ',';
        out += '"';
        for (const char c : s) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

std::int64_t toNs(std::chrono::seconds s)
{
    return static_cast<std::int64_t>(s.count()) * kSecondNs;
}

// Deletes rows of the apps selected by `appFilter` ($1 = app array) older than cutoff, in
// batches, partition by partition (a TID scan per batch); the rollups go with the last batch.
Result<std::int64_t> deleteOld(pg::Connection &c, const std::string &appFilter,
                               const std::string &apps, std::int64_t cutoff,
                               const RetentionOptions &o, std::int64_t budget,
                               RetentionReport &report)
{
    std::vector<std::string> tables;
    auto parts = c.query("SELECT name FROM idl_log_partitions() WHERE from_ns < $1",
                         {std::to_string(cutoff)});
    if (!parts)
        return parts.error();
    for (int r = 0; r < parts->rowCount(); ++r)
        tables.emplace_back(parts->value(r, 0));
    if (tables.empty())
        tables.emplace_back("logs"); // TimescaleDB: one statement over the hypertable
    std::int64_t deleted = 0;
    for (const std::string &table : tables) {
        for (;;) {
            if (deleted >= budget) {
                report.complete = false;
                return deleted;
            }
            const std::string sql = "DELETE FROM " + table +
                                    " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + table +
                                    " WHERE " + appFilter + " AND ts < $2 LIMIT $3))";
            auto r =
                c.query(sql, {apps, std::to_string(cutoff), std::to_string(o.deleteBatchRows)});
            if (!r)
                return r.error();
            deleted += r->affectedRows();
            if (r->affectedRows() < o.deleteBatchRows)
                break;
        }
    }
    for (const char *table : {"log_rollup_minute", "log_rollup_10s"}) {
        auto roll = c.query(std::string("DELETE FROM ") + table + " WHERE " + appFilter +
                                " AND bucket < $2",
                            {apps, std::to_string(cutoff)});
        if (!roll)
            return roll.error();
        report.rollupRowsDeleted += roll->affectedRows();
    }
    return deleted;
}

// Makes sure the partition has a valid b-tree on (ts) attached to logs_ts (migration 011):
// attaches one it already has (a `_closed_ts` built before 011), or builds `<partition>_ts`
// with CREATE INDEX CONCURRENTLY (writes go on) and attaches it; drops one left INVALID by an
// interrupted build first. Returns whether it built one. Partitions created after 011 get
// theirs from CREATE TABLE ... PARTITION OF, so this builds only on partitions older than 011.
// ATTACH takes ACCESS EXCLUSIVE on the partition's index for a catalog update. A short lock
// timeout, so a long reader of that index delays only this attach and never the COPYs that
// would queue behind a waiting one; the index serves queries unattached, the next run attaches.
Result<void> attachTsIndex(pg::Connection &c, const std::string &name,
                           std::chrono::milliseconds lockTimeout)
{
    if (auto x = c.exec("SET lock_timeout = 200"); !x)
        return x.error();
    auto attached = c.exec("ALTER INDEX logs_ts ATTACH PARTITION \"" + name + "\"");
    if (auto x = c.exec("SET lock_timeout = " + std::to_string(lockTimeout.count())); !x)
        return x.error();
    if (!attached)
        jlog::warn("maintenance: ts index not attached yet",
                   {{"index", QString::fromStdString(name)},
                    {"error", QString::fromStdString(attached.error().message)}});
    return {};
}

Result<bool> ensureTsBtree(pg::Connection &c, const std::string &part,
                           std::chrono::milliseconds lockTimeout)
{
    auto have =
        c.query("SELECT index_name, valid, attached FROM idl_partition_ts_btrees($1)", {part});
    if (!have)
        return have.error();
    for (int r = 0; r < have->rowCount(); ++r) {
        const std::string name(have->value(r, 0));
        if (have->value(r, 1) != "t") {
            if (auto x = c.exec("DROP INDEX CONCURRENTLY IF EXISTS \"" + name + "\""); !x)
                return x.error();
            continue;
        }
        if (have->value(r, 2) == "t")
            return false;
        if (auto x = attachTsIndex(c, name, lockTimeout); !x)
            return x.error();
        return false;
    }
    const std::string name = part + "_ts";
    if (auto x = c.exec("CREATE INDEX CONCURRENTLY \"" + name + "\" ON \"" + part + "\" (ts)"); !x)
        return x.error();
    if (auto x = attachTsIndex(c, name, lockTimeout); !x)
        return x.error();
    jlog::info("maintenance: ts index built", {{"partition", QString::fromStdString(part)}});
    return true;
}

// Step 4 of runRetention(): the ts b-tree on every partition (ensureTsBtree), then the search
// index of closed partitions, newest first: a trigram GIN, `COLLATE "C"` because the gateway's
// ASCII substring filter is `message COLLATE "C" ILIKE ...` (an index serves only expressions of
// its own collation). A closed partition that got an index gets VACUUM ANALYZE.
Result<void> indexPartitions(pg::Connection &c, const RetentionOptions &o, std::int64_t nowNs,
                             RetentionReport &report)
{
    auto parts = c.query("SELECT name, to_ns <= $1::bigint FROM idl_log_partitions() "
                         "WHERE to_regclass('logs_ts') IS NOT NULL ORDER BY from_ns DESC",
                         {std::to_string(nowNs - toNs(o.closedAfter))});
    if (!parts)
        return parts.error();
    std::vector<std::string> closed, tsBuilt;
    for (int p = 0; p < parts->rowCount(); ++p) {
        const std::string part(parts->value(p, 0));
        auto built = ensureTsBtree(c, part, o.lockTimeout);
        if (!built)
            return built.error();
        if (*built)
            tsBuilt.push_back(part);
        if (parts->value(p, 1) == "t")
            closed.push_back(part);
    }
    if (o.closedIndexPerRun <= 0)
        return {};
    auto trgm = c.query("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')");
    if (!trgm)
        return trgm.error();
    const bool haveTrgm = trgm->value(0, 0) == "t";
    for (const std::string &part : closed) {
        if (report.partitionsIndexed >= o.closedIndexPerRun)
            break;
        bool built = std::find(tsBuilt.begin(), tsBuilt.end(), part) != tsBuilt.end();
        if (haveTrgm) {
            const std::string name = part + "_closed_msg_trgm";
            auto state = c.query("SELECT i.indisvalid FROM pg_class k JOIN pg_index i ON "
                                 "i.indexrelid = k.oid WHERE k.relname = $1",
                                 {name});
            if (!state)
                return state.error();
            if (!(state->rowCount() == 1 && state->value(0, 0) == "t")) {
                if (state->rowCount() == 1) // left INVALID by an interrupted build
                    if (auto x = c.exec("DROP INDEX CONCURRENTLY IF EXISTS \"" + name + "\""); !x)
                        return x.error();
                if (auto x =
                        c.exec("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"" + name + "\" ON \"" +
                               part + "\" USING gin (message COLLATE \"C\" gin_trgm_ops)");
                    !x)
                    return x.error();
                built = true;
            }
        }
        if (!built)
            continue;
        // Summarizes every BRIN range and gives the planner the partition's statistics.
        if (auto x = c.exec("VACUUM (ANALYZE) \"" + part + "\""); !x)
            return x.error();
        ++report.partitionsIndexed;
        jlog::info("maintenance: closed partition indexed",
                   {{"partition", QString::fromStdString(part)}});
    }
    return {};
}

} // namespace

Result<int> analyzeStalePartitions(pg::Connection &c, const RetentionOptions &o, std::int64_t nowNs)
{
    auto stale =
        c.query("SELECT p.name FROM idl_log_partitions() p "
                "JOIN pg_stat_user_tables s ON s.relid = to_regclass(quote_ident(p.name)) "
                "JOIN pg_class k ON k.oid = s.relid "
                "WHERE p.to_ns > $1::bigint AND s.n_mod_since_analyze >= $2::bigint "
                "AND (k.reltuples < 0 OR (s.last_analyze IS NULL AND s.last_autoanalyze IS NULL) "
                "     OR s.n_mod_since_analyze > k.reltuples) "
                "ORDER BY p.from_ns DESC",
                {std::to_string(nowNs - toNs(o.closedAfter)), std::to_string(o.statisticsMinRows)});
    if (!stale)
        return stale.error();
    int analyzed = 0;
    for (int r = 0; r < stale->rowCount(); ++r) {
        const std::string part(stale->value(r, 0));
        if (auto x = c.exec("ANALYZE \"" + part + "\""); !x)
            return x.error();
        ++analyzed;
        jlog::info("maintenance: stale statistics renewed",
                   {{"partition", QString::fromStdString(part)}});
    }
    return analyzed;
}

Result<RetentionReport> runRetention(pg::Connection &c, const RetentionOptions &o,
                                     std::int64_t nowNs)
{
    RetentionReport report;
    // Never queue a lock request for long on `logs`: every later COPY and SELECT would queue
    // behind it (behind whatever long reader it waits for). Creating a partition (CREATE TABLE
    // ... PARTITION OF) takes an exclusive lock on `logs` too, so the lock timeout comes first;
    // a run that times out is retried at the next interval (partitions are made days ahead).
    if (auto x = c.exec("SET lock_timeout = " + std::to_string(o.lockTimeout.count()) +
                        "; SET idle_in_transaction_session_timeout = " +
                        std::to_string(o.idleInTransactionTimeout.count()));
        !x)
        return x.error();
    for (int day = 0; day <= o.partitionsAheadDays; ++day) {
        auto r =
            c.query("SELECT idl_ensure_log_partition($1)", {std::to_string(nowNs + day * kDayNs)});
        if (!r)
            return r.error();
    }
    auto isHyper = c.query("SELECT idl_logs_is_hypertable()");
    if (!isHyper)
        return isHyper.error();
    const bool hypertable = isHyper->value(0, 0) == "t";

    auto policies = c.query(
        "SELECT app, (extract(epoch FROM ttl) * 1000000000)::bigint FROM retention_policies");
    if (!policies)
        return policies.error();
    std::map<std::string, std::int64_t> ttl;
    for (int r = 0; r < policies->rowCount(); ++r)
        ttl[std::string(policies->value(r, 0))] = std::stoll(std::string(policies->value(r, 1)));
    const std::int64_t defaultTtl = toNs(o.defaultTtl);
    std::int64_t longest = defaultTtl;
    for (const auto &[app, t] : ttl)
        longest = std::max(longest, t);

    // 1. Whole partitions older than every TTL.
    const std::int64_t dropBefore = minuteBucket(nowNs - longest);
    if (hypertable) {
        auto r = c.query("SELECT count(*) FROM drop_chunks('logs', older_than => $1::bigint)",
                         {std::to_string(dropBefore)});
        if (!r)
            return r.error();
        report.partitionsDropped += std::stoi(std::string(r->value(0, 0)));
    } else {
        // DETACH ... CONCURRENTLY (not in a transaction block) takes only SHARE UPDATE
        // EXCLUSIVE on the parent and waits for older snapshots without blocking new readers
        // or writers; lock_timeout bounds every wait, and a detach that was interrupted
        // between its two phases is finished (FINALIZE) on the next run.
        auto pending = c.query("SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON "
                               "c.oid = i.inhrelid WHERE i.inhparent = 'logs'::regclass AND "
                               "i.inhdetachpending");
        if (!pending)
            return pending.error();
        for (int r = 0; r < pending->rowCount(); ++r) {
            const std::string name(pending->value(r, 0));
            if (auto x = c.exec("ALTER TABLE logs DETACH PARTITION \"" + name + "\" FINALIZE"); !x)
                return x.error();
            // Only retention detaches partitions: this one was on its way to be dropped.
            if (auto x = c.exec("DROP TABLE \"" + name + "\""); !x)
                return x.error();
            ++report.partitionsDropped;
            jlog::info("retention: partition dropped (interrupted detach finished)",
                       {{"partition", QString::fromStdString(name)}});
        }
        auto old = c.query("SELECT name FROM idl_log_partitions() WHERE to_ns <= $1",
                           {std::to_string(dropBefore)});
        if (!old)
            return old.error();
        for (int r = 0; r < old->rowCount(); ++r) {
            const std::string name(old->value(r, 0));
            // Detach first: DROP of an attached partition locks the parent longer.
            if (auto x = c.exec("ALTER TABLE logs DETACH PARTITION \"" + name + "\" CONCURRENTLY");
                !x)
                return x.error();
            if (auto x = c.exec("DROP TABLE \"" + name + "\""); !x)
                return x.error();
            ++report.partitionsDropped;
            jlog::info("retention: partition dropped",
                       {{"partition", QString::fromStdString(name)}});
        }
    }
    for (const char *table : {"log_rollup_minute", "log_rollup_10s"}) {
        auto r = c.query(std::string("DELETE FROM ") + table + " WHERE bucket < $1",
                         {std::to_string(minuteBucket(dropBefore - dropBefore % kDayNs))});
        if (!r)
            return r.error();
        report.rollupRowsDeleted += r->affectedRows();
    }

    // 2. Apps whose TTL is shorter than the longest one: bounded batched deletes.
    std::int64_t budget = o.maxDeletedPerRun;
    std::vector<std::string> withPolicy;
    for (const auto &[app, t] : ttl) {
        withPolicy.push_back(app);
        if (t >= longest)
            continue;
        auto n = deleteOld(c, "app = ANY($1::text[])", arrayLiteral({app}), minuteBucket(nowNs - t),
                           o, budget, report);
        if (!n)
            return n.error();
        report.rowsDeleted += *n;
        budget -= *n;
    }
    if (defaultTtl < longest) {
        auto n = deleteOld(c, "NOT (app = ANY($1::text[]))", arrayLiteral(withPolicy),
                           minuteBucket(nowNs - defaultTtl), o, budget, report);
        if (!n)
            return n.error();
        report.rowsDeleted += *n;
    }
    if (!hypertable) {
        if (auto r = indexPartitions(c, o, nowNs, report); !r)
            return r.error();
        auto analyzed = analyzeStalePartitions(c, o, nowNs);
        if (!analyzed)
            return analyzed.error();
        report.partitionsAnalyzed = *analyzed;
    }

    // 5. Expired Idempotency-Key rows, in batches of deleteBatchRows (their own transactions).
    const std::string keyCutoff =
        std::to_string(static_cast<double>(nowNs - toNs(o.idempotencyKeyTtl)) / 1e9);
    for (;;) {
        auto r = c.query("DELETE FROM ingest_idempotency WHERE ctid = ANY(ARRAY("
                         "SELECT ctid FROM ingest_idempotency "
                         "WHERE created_at < to_timestamp($1::double precision) LIMIT $2))",
                         {keyCutoff, std::to_string(o.deleteBatchRows)});
        if (!r)
            return r.error();
        report.idempotencyKeysDeleted += r->affectedRows();
        if (r->affectedRows() < o.deleteBatchRows)
            break;
    }
    return report;
}

struct RetentionWorker::Impl
{
    std::string dsn;
    RetentionOptions options;
    std::chrono::milliseconds interval;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;

    void run()
    {
        auto &reg = metrics::Registry::global();
        auto &dropped = reg.counter("idl_writer_retention_partitions_dropped_total",
                                    "Daily partitions dropped by retention");
        auto &deleted = reg.counter("idl_writer_retention_rows_deleted_total",
                                    "Rows deleted by per-app retention");
        auto &failures =
            reg.counter("idl_writer_retention_failures_total",
                        "Retention runs and statistics checks between them that failed");
        auto &analyzed =
            reg.counter("idl_writer_retention_partitions_analyzed_total",
                        "Open partitions analyzed because their statistics were stale");
        using Clock = std::chrono::steady_clock;
        const auto check = options.statisticsInterval.count() > 0
                               ? std::min(interval, options.statisticsInterval)
                               : interval;
        pg::Connection conn;
        std::unique_lock lock(mutex);
        std::optional<Clock::time_point> lastRun;
        while (!stopping) {
            lock.unlock();
            if (conn.isBroken()) {
                // Both paths below wait for a lock at most lockTimeout (runRetention sets it too).
                if (auto c = pg::Connection::connect(dsn, std::chrono::seconds(5));
                    c &&
                    c->exec("SET lock_timeout = " + std::to_string(options.lockTimeout.count())))
                    conn = std::move(c).value();
            }
            const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
            if (lastRun && Clock::now() - *lastRun < interval) {
                // Between runs: only the open partitions' statistics.
                auto n =
                    conn.isBroken()
                        ? Result<int>(makeError(ErrorCode::Unavailable, "postgres unavailable"))
                        : analyzeStalePartitions(conn, options, now);
                if (n) {
                    analyzed.inc(static_cast<std::uint64_t>(*n));
                } else {
                    failures.inc();
                    jlog::warn("statistics check failed",
                               {{"error", QString::fromStdString(n.error().message)}});
                }
                lock.lock();
                wake.wait_for(lock, check, [this] { return stopping; });
                continue;
            }
            lastRun = Clock::now();
            auto r = conn.isBroken() ? Result<RetentionReport>(makeError(ErrorCode::Unavailable,
                                                                         "postgres unavailable"))
                                     : runRetention(conn, options, now);
            if (r) {
                analyzed.inc(static_cast<std::uint64_t>(r->partitionsAnalyzed));
                dropped.inc(static_cast<std::uint64_t>(r->partitionsDropped));
                deleted.inc(static_cast<std::uint64_t>(r->rowsDeleted));
                if (r->partitionsDropped || r->rowsDeleted)
                    jlog::info("retention run", {{"partitions_dropped", r->partitionsDropped},
                                                 {"rows_deleted", qint64(r->rowsDeleted)}});
            } else {
                failures.inc();
                jlog::warn("retention run failed",
                           {{"error", QString::fromStdString(r.error().message)}});
            }
            lock.lock();
            wake.wait_for(lock, check, [this] { return stopping; });
        }
    }
};

RetentionWorker::RetentionWorker(std::string dsn, RetentionOptions options,
                                 std::chrono::milliseconds interval)
    : d(std::make_unique<Impl>())
{
    d->dsn = std::move(dsn);
    d->options = options;
    d->interval = interval;
}

RetentionWorker::~RetentionWorker()
{
    stop();
}

void RetentionWorker::start()
{
    d->thread = std::thread([impl = d.get()] { impl->run(); });
}

void RetentionWorker::stop()
{
    if (!d->thread.joinable())
        return;
    {
        std::lock_guard lock(d->mutex);
        d->stopping = true;
    }
    d->wake.notify_all();
    d->thread.join();
}

} // namespace idl::writer
