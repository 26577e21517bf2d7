#include "idl/writer/batch_store.h"

#include "idl/schema/migrations.h"
#include "idl/writer/copy_encoder.h"

#include <algorithm>
#include <tuple>

namespace idl::writer {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kDayNs = schema::kLogPartitionNs;
constexpr std::size_t kCopyChunkBytes = 256 * 1024;

// Appends one element of a PostgreSQL array literal, always quoted.
void appendArrayText(std::string &out, std::string_view text)
{
    if (out.size() > 1)
        out.push_back(',');
    out.push_back('"');
    for (const char c : text) {
        if (c == '"' || c == '\\')
            out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

template <typename T> void appendArrayNumber(std::string &out, T value)
{
    if (out.size() > 1)
        out.push_back(',');
    out += std::to_string(value);
}

bool isMissingPartition(const Error &e)
{
    return pg::sqlState(e) == "23514" && e.message.find("no partition") != std::string::npos;
}

} // namespace

bool isTransientDbError(const Error &error)
{
    if (error.code == ErrorCode::Unavailable || error.code == ErrorCode::Timeout)
        return true;
    const std::string_view state = pg::sqlState(error);
    if (state.size() != 5)
        return false;
    return state.starts_with("08") || state.starts_with("53") || state.starts_with("57") ||
           state.starts_with("58") || state == "40001" || state == "40P01" || state == "55P03";
}

BatchStore::BatchStore(Options options) : m_options(std::move(options)) {}

Result<void> BatchStore::ensureConnected()
{
    if (!m_conn.isBroken())
        return {};
    auto c = pg::Connection::connect(m_options.dsn, std::chrono::seconds(5));
    if (!c)
        return c.error();
    m_conn = std::move(c).value();
    // A writer must never wait forever on a lock held by someone else.
    if (auto r = m_conn.exec("SET lock_timeout = '30s'; SET statement_timeout = '300s'"); !r)
        return r.error();
    m_knownDays.clear();
    return {};
}

bool BatchStore::connected() const
{
    return !m_conn.isBroken();
}

void BatchStore::disconnect()
{
    m_conn = pg::Connection();
}

Result<std::map<std::int32_t, std::int64_t>> BatchStore::loadOffsets(const std::string &topic)
{
    if (auto r = ensureConnected(); !r)
        return r.error();
    auto rows = m_conn.query("SELECT partition, next_offset FROM kafka_offsets "
                             "WHERE consumer_group = $1 AND topic = $2",
                             {m_options.consumerGroup, topic});
    if (!rows)
        return rows.error();
    std::map<std::int32_t, std::int64_t> out;
    for (int r = 0; r < rows->rowCount(); ++r)
        out[std::stoi(std::string(rows->value(r, 0)))] = std::stoll(std::string(rows->value(r, 1)));
    return out;
}

Result<void> BatchStore::ensurePartitions(std::span<const LogEvent> events)
{
    std::set<std::int64_t> missing;
    for (const LogEvent &e : events) {
        const std::int64_t day = e.tsNs / kDayNs;
        if (!m_knownDays.count(day))
            missing.insert(day);
    }
    for (const std::int64_t day : missing) {
        auto r =
            m_conn.query("SELECT idl_ensure_log_partition($1)", {std::to_string(day * kDayNs)});
        if (!r)
            return r.error();
        m_knownDays.insert(day);
    }
    return {};
}

Result<long long> BatchStore::copyRows(std::span<const LogEvent> events,
                                       std::span<const std::size_t> indexes)
{
    const pg::CopyFormat format = m_options.copyFormat;
    std::size_t next = 0;
    bool headerSent = false;
    bool trailerSent = false;
    return m_conn.copyIn(
        logsCopySql(format),
        [&]() -> std::optional<std::string_view> {
            if (trailerSent)
                return std::nullopt;
            m_buffer.clear();
            if (!headerSent) {
                appendCopyHeader(m_buffer, format);
                headerSent = true;
            }
            while (next < indexes.size() && m_buffer.size() < kCopyChunkBytes)
                appendCopyRow(m_buffer, events[indexes[next++]], format);
            if (next == indexes.size()) {
                appendCopyTrailer(m_buffer, format);
                trailerSent = true;
            }
            return std::string_view(m_buffer);
        },
        format);
}

Result<void> BatchStore::isolate(std::span<const LogEvent> events, std::vector<std::size_t> indexes,
                                 std::vector<RejectedRow> &rejected, std::vector<bool> &refused,
                                 long long &rows)
{
    if (indexes.empty())
        return {};
    if (auto r = m_conn.exec("SAVEPOINT idl_isolate"); !r)
        return r.error();
    auto copied = copyRows(events, indexes);
    if (copied) {
        rows += *copied;
        return m_conn.exec("RELEASE SAVEPOINT idl_isolate");
    }
    if (isTransientDbError(copied.error()))
        return copied.error();
    if (auto r = m_conn.exec("ROLLBACK TO SAVEPOINT idl_isolate; RELEASE SAVEPOINT idl_isolate");
        !r)
        return r.error();
    if (indexes.size() == 1) {
        rejected.push_back({indexes.front(), copied.error().message});
        refused[indexes.front()] = true;
        return {};
    }
    const auto half = static_cast<std::ptrdiff_t>(indexes.size() / 2);
    std::vector<std::size_t> second(indexes.begin() + half, indexes.end());
    indexes.resize(static_cast<std::size_t>(half));
    if (auto r = isolate(events, std::move(indexes), rejected, refused, rows); !r)
        return r;
    return isolate(events, std::move(second), rejected, refused, rows);
}

Result<void> BatchStore::writeRollups(std::span<const LogEvent> events,
                                      const std::vector<bool> &refused)
{
    using Key = std::tuple<std::int64_t, std::string_view, std::string_view, int>;
    std::map<Key, std::int64_t> counts;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (refused[i])
            continue;
        const LogEvent &e = events[i];
        ++counts[Key{minuteBucket(e.tsNs), e.app, e.host, static_cast<int>(e.level)}];
    }
    if (counts.empty())
        return {};
    std::string buckets = "{", apps = "{", hosts = "{", levels = "{", values = "{";
    for (const auto &[key, count] : counts) {
        appendArrayNumber(buckets, std::get<0>(key));
        appendArrayText(apps, std::get<1>(key));
        appendArrayText(hosts, std::get<2>(key));
        appendArrayNumber(levels, std::get<3>(key));
        appendArrayNumber(values, count);
    }
    for (std::string *s : {&buckets, &apps, &hosts, &levels, &values})
        s->push_back('}');
    auto r = m_conn.query(
        "INSERT INTO log_rollup_minute AS r (bucket, app, host, level, count) "
        "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::smallint[], $5::bigint[]) "
        "ON CONFLICT (bucket, app, host, level) DO UPDATE SET count = r.count + EXCLUDED.count",
        {buckets, apps, hosts, levels, values});
    if (!r)
        return r.error();
    return writeTenSecondRollups(events, refused);
}

// log_rollup_10s (migration 008): per 10 s, app and level, for charts whose buckets are not
// whole minutes. Keys sorted, like the minute rollups, so concurrent writers lock in one order.
Result<void> BatchStore::writeTenSecondRollups(std::span<const LogEvent> events,
                                               const std::vector<bool> &refused)
{
    constexpr std::int64_t kTenSecondsNs = 10'000'000'000;
    using Key = std::tuple<std::int64_t, std::string_view, int>;
    std::map<Key, std::int64_t> counts;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (refused[i])
            continue;
        const LogEvent &e = events[i];
        ++counts[Key{e.tsNs - e.tsNs % kTenSecondsNs, e.app, static_cast<int>(e.level)}];
    }
    if (counts.empty())
        return {};
    std::string buckets = "{", apps = "{", levels = "{", values = "{";
    for (const auto &[key, count] : counts) {
        appendArrayNumber(buckets, std::get<0>(key));
        appendArrayText(apps, std::get<1>(key));
        appendArrayNumber(levels, std::get<2>(key));
        appendArrayNumber(values, count);
    }
    for (std::string *s : {&buckets, &apps, &levels, &values})
        s->push_back('}');
    auto r = m_conn.query(
        "INSERT INTO log_rollup_10s AS r (bucket, app, level, count) "
        "SELECT * FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::bigint[]) "
        "ON CONFLICT (bucket, app, level) DO UPDATE SET count = r.count + EXCLUDED.count",
        {buckets, apps, levels, values});
    if (!r)
        return r.error();
    return {};
}

Result<void> BatchStore::writeOffsets(std::span<const OffsetAdvance> offsets)
{
    if (offsets.empty())
        return {};
    std::string topics = "{", partitions = "{", expected = "{", nexts = "{";
    for (const OffsetAdvance &o : offsets) {
        appendArrayText(topics, o.topic);
        appendArrayNumber(partitions, o.partition);
        appendArrayNumber(expected, o.expectedNext);
        appendArrayNumber(nexts, o.newNext);
    }
    for (std::string *s : {&topics, &partitions, &expected, &nexts})
        s->push_back('}');
    // The fence: an existing row moves only from the offset this writer read from.
    auto r = m_conn.query(
        "WITH input AS (SELECT * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) "
        "  AS t(topic, part, expected, next)) "
        "INSERT INTO kafka_offsets AS k (consumer_group, topic, partition, next_offset) "
        "SELECT $1, topic, part, next FROM input "
        "ON CONFLICT (consumer_group, topic, partition) DO UPDATE "
        "SET next_offset = EXCLUDED.next_offset, updated_at = now() "
        "WHERE k.next_offset = (SELECT i.expected FROM input i "
        "  WHERE i.topic = EXCLUDED.topic AND i.part = EXCLUDED.partition) "
        "RETURNING 1",
        {m_options.consumerGroup, topics, partitions, expected, nexts});
    if (!r)
        return r.error();
    if (r->rowCount() != static_cast<int>(offsets.size()))
        return makeError(ErrorCode::Conflict,
                         "kafka_offsets moved under this writer (another writer stored the same "
                         "partition); re-reading from the stored offsets");
    return {};
}

// Inserts the keyed events' ingest_idempotency rows (sorted, so concurrent writers lock in
// one order) and marks in `skipped` every keyed event whose row existed before, or that
// repeats an earlier one of this batch. A row another open transaction inserted makes this
// INSERT wait for it: committed, the event is a duplicate; rolled back, it is ours.
Result<void> BatchStore::claimKeys(std::span<const KeyedEvent> keyed, std::vector<bool> &skipped)
{
    if (keyed.empty())
        return {};
    using Id = std::tuple<std::string_view, std::string_view, std::int32_t>;
    std::map<Id, std::size_t> first; // each distinct id -> the batch event that may store it
    for (const KeyedEvent &k : keyed) {
        const auto [it, fresh] = first.try_emplace(Id{k.scope, k.key, k.index}, k.event);
        if (!fresh)
            skipped[k.event] = true;
    }
    std::string scopes = "{", keys = "{", indexes = "{";
    for (const auto &[id, event] : first) {
        appendArrayText(scopes, std::get<0>(id));
        appendArrayText(keys, std::get<1>(id));
        appendArrayNumber(indexes, std::get<2>(id));
    }
    for (std::string *s : {&scopes, &keys, &indexes})
        s->push_back('}');
    auto r = m_conn.query("INSERT INTO ingest_idempotency (scope, key, idx) "
                          "SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) "
                          "ON CONFLICT DO NOTHING RETURNING scope, key, idx",
                          {scopes, keys, indexes});
    if (!r)
        return r.error();
    std::set<Id> inserted;
    for (int row = 0; row < r->rowCount(); ++row)
        inserted.insert(Id{r->value(row, 0), r->value(row, 1),
                           static_cast<std::int32_t>(std::stol(std::string(r->value(row, 2))))});
    for (const auto &[id, event] : first)
        if (!inserted.count(id))
            skipped[event] = true;
    return {};
}

Result<StoreReport> BatchStore::store(std::span<const LogEvent> events,
                                      std::span<const OffsetAdvance> offsets,
                                      const BeforeCommit &beforeCommit,
                                      std::span<const KeyedEvent> keyed)
{
    const auto started = Clock::now();
    if (auto r = ensureConnected(); !r)
        return r.error();
    if (auto r = ensurePartitions(events); !r)
        return r.error();
    StoreReport report;
    std::vector<bool> refused(events.size(), false);
    std::vector<std::size_t> all;

    auto abort = [&](Error e) -> Result<StoreReport> {
        if (!m_conn.isBroken())
            (void)m_conn.rollback();
        return e;
    };
    // In each transaction below, before the rows: the keyed events' rows; the events already
    // stored are left out of the COPY and the rollups (`refused` for the rollups).
    const auto claim = [&]() -> Result<void> {
        std::fill(refused.begin(), refused.end(), false);
        if (auto r = claimKeys(keyed, refused); !r)
            return r.error();
        all.clear();
        for (std::size_t i = 0; i < events.size(); ++i)
            if (!refused[i])
                all.push_back(i);
        report.duplicates = static_cast<long long>(events.size() - all.size());
        return {};
    };
    for (int attempt = 0;; ++attempt) {
        if (auto r = m_conn.begin(); !r)
            return r.error();
        if (auto r = claim(); !r)
            return abort(r.error());
        const auto copyStart = Clock::now();
        auto copied = copyRows(events, all);
        report.copyTime = Clock::now() - copyStart;
        if (copied) {
            report.rows = *copied;
            break;
        }
        const Error err = copied.error();
        (void)m_conn.rollback();
        if (isTransientDbError(err))
            return err;
        if (isMissingPartition(err) && attempt == 0) {
            // A partition was dropped (or created) behind the cache's back.
            m_knownDays.clear();
            if (auto r = ensurePartitions(events); !r)
                return r.error();
            continue;
        }
        // Some row is refused: find it by halving, each part under a savepoint.
        if (auto r = m_conn.begin(); !r)
            return r.error();
        if (auto r = claim(); !r)
            return abort(r.error());
        report.rows = 0;
        if (auto r = isolate(events, all, report.rejected, refused, report.rows); !r)
            return abort(r.error());
        report.copyTime = Clock::now() - copyStart;
        break;
    }
    if (auto r = writeRollups(events, refused); !r)
        return abort(r.error());
    if (auto r = writeOffsets(offsets); !r)
        return abort(r.error());
    if (beforeCommit) {
        if (auto r = beforeCommit(report.rejected); !r)
            return abort(r.error());
    }
    if (auto r = m_conn.commit(); !r) {
        // A lost connection during COMMIT leaves the outcome unknown: report Unavailable, and
        // the fence decides on the retry.
        return r.error().code == ErrorCode::Conflict ? abort(r.error())
                                                     : Result<StoreReport>(r.error());
    }
    report.totalTime = Clock::now() - started;
    return report;
}

} // namespace idl::writer
