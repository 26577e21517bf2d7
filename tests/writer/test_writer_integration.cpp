// Integration tests of the writer against a real PostgreSQL 15 and a real Kafka broker
// (tests/support/idl_test_servers.h). Order matters: the PostgreSQL restart test runs last.
#include "collector_test_util.h"
#include "group_member.h"
#include "idl_test_process.h"
#include "idl_test_servers.h"
#include "writer_test_util.h"

#include "idl/core/json_codec.h"
#include "idl/core/uuid.h"
#include "idl/kafka/consumer.h"
#include "idl/localcluster/process_util.h"
#include "idl/schema/migrations.h"
#include "idl/writer/batch_store.h"
#include "idl/writer/retention.h"
#include "idl/writer/writer.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>

using namespace idl;
using namespace idl::writer;
using namespace idl::writertest;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kMinuteNs = 60LL * 1'000'000'000;
constexpr std::int64_t kDayNs = 86400LL * 1'000'000'000;

pg::Connection connectOrDie(const std::string &dsn)
{
    auto c = pg::Connection::connect(dsn);
    if (!c)
        qFatal("connect: %s", c.error().message.c_str());
    return std::move(c).value();
}

std::string migratedDatabase(const char *prefix)
{
    auto dsn = testsupport::freshDatabase(prefix);
    if (!dsn)
        qFatal("database: %s", dsn.error().message.c_str());
    auto c = connectOrDie(*dsn);
    auto r = schema::migrate(c);
    if (!r)
        qFatal("migrate: %s", r.error().message.c_str());
    return *dsn;
}

// Waits until `sql` returns at least `expected` (or the deadline passes); returns the value.
long long waitForCount(pg::Connection &c, const std::string &sql, long long expected,
                       std::chrono::seconds timeout)
{
    const auto until = std::chrono::steady_clock::now() + timeout;
    long long n = -1;
    while (std::chrono::steady_clock::now() < until) {
        n = scalar(c, sql);
        if (n >= expected)
            return n;
        std::this_thread::sleep_for(200ms);
    }
    return n;
}

// Rows of log_rollup_minute that differ from counts computed from the raw rows.
long long rollupMismatches(pg::Connection &c)
{
    return scalar(c, "WITH raw AS (SELECT ts - ts % 60000000000 AS bucket, app, host, level, "
                     "count(*) AS count FROM logs GROUP BY 1, 2, 3, 4), "
                     "r AS (SELECT bucket, app, host, level, count FROM log_rollup_minute) "
                     "SELECT (SELECT count(*) FROM (SELECT * FROM raw EXCEPT SELECT * FROM r) a) "
                     "     + (SELECT count(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM raw) b)");
}

// Rows of log_rollup_10s (migration 008) that differ from counts computed from the raw rows.
long long tenSecondRollupMismatches(pg::Connection &c)
{
    return scalar(c, "WITH raw AS (SELECT ts - ts % 10000000000 AS bucket, app, level, "
                     "count(*) AS count FROM logs GROUP BY 1, 2, 3), "
                     "r AS (SELECT bucket, app, level, count FROM log_rollup_10s) "
                     "SELECT (SELECT count(*) FROM (SELECT * FROM raw EXCEPT SELECT * FROM r) a) "
                     "     + (SELECT count(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM raw) b)");
}

WriterOptions writerOptions(const std::string &bootstrap, const std::string &topic,
                            const std::string &dsn, const std::string &dlq)
{
    WriterOptions o;
    o.kafkaBootstrap = bootstrap;
    o.topic = topic;
    o.group = testsupport::uniqueName("writer");
    o.dlqTopic = dlq;
    o.pgDsn = dsn;
    o.batchMaxEvents = 2000;
    o.batchMaxTime = 100ms;
    o.retryInitial = 50ms;
    o.retryMax = 1000ms;
    o.kafkaConsumerExtra["session.timeout.ms"] = "6000";
    return o;
}

} // namespace

class TestWriterIntegration : public QObject
{
    Q_OBJECT

    std::string m_bootstrap;

private Q_SLOTS:
    void initTestCase()
    {
        auto pg = testsupport::postgres();
        IDL_VERIFY_OK(pg);
        auto kafka = testsupport::kafka();
        IDL_VERIFY_OK(kafka);
        m_bootstrap = (*kafka)->bootstrap().toStdString();
    }

    void migrationsTwiceAndConcurrently()
    {
        auto dsn = testsupport::freshDatabase("mig");
        IDL_VERIFY_OK(dsn);
        const int total = static_cast<int>(schema::embeddedMigrations().size());
        QVERIFY(total >= 4);
        std::atomic<int> applied{0};
        std::atomic<int> failures{0};
        std::vector<std::thread> writers;
        for (int i = 0; i < 3; ++i) {
            writers.emplace_back([&] {
                auto c = pg::Connection::connect(*dsn);
                auto r = c ? schema::migrate(*c) : Result<int>(c.error());
                if (r)
                    applied += *r;
                else
                    ++failures;
            });
        }
        for (auto &t : writers)
            t.join();
        QCOMPARE(failures.load(), 0);
        QCOMPARE(applied.load(), total); // each migration applied exactly once
        auto c = connectOrDie(*dsn);
        auto again = schema::migrate(c);
        IDL_VERIFY_OK(again);
        QCOMPARE(*again, 0);
        QCOMPARE(scalar(c, "SELECT count(*) FROM schema_migrations"), (long long)total);
        // Partitioned by time, today and the next days created ahead.
        QCOMPARE(scalar(c, "SELECT count(*) FROM pg_partitioned_table "
                           "WHERE partrelid = 'logs'::regclass"),
                 1LL);
        QVERIFY(scalar(c, "SELECT count(*) FROM idl_log_partitions() WHERE to_ns > "
                          "extract(epoch FROM now())::bigint * 1000000000") >= 3);
        // The SQL cuts the partitions that the writer, retention and the gateway's open-partition
        // plan compute in C++ (schema::kLogPartitionNs): each one spans it, from a multiple of it.
        const std::string span = std::to_string(schema::kLogPartitionNs);
        QCOMPARE(scalar(c, "SELECT count(*) FROM idl_log_partitions() WHERE to_ns - from_ns <> " +
                               span + " OR from_ns % " + span + " <> 0"),
                 0LL);

        // An applied migration whose file changed is refused.
        std::vector<schema::Migration> edited(schema::embeddedMigrations().begin(),
                                              schema::embeddedMigrations().end());
        edited[0].checksum = "0000";
        auto conflict = schema::migrate(c, edited);
        QVERIFY(!conflict.ok());
        QCOMPARE(conflict.error().code, ErrorCode::Conflict);
    }

    void copyFormatsStoreTheSameRows()
    {
        std::vector<LogEvent> events;
        std::mt19937_64 rng(7);
        for (int i = 0; i < 500; ++i)
            events.push_back(randomEvent(rng));
        events[0].message = "tab\there\nnew line\\back\\slash \"quoted\" \r ünïcødé 😀";
        events[1].attrsJson = R"({"nested":{"a":[1,2.5,"x\ty"]},"emoji":"😀"})";
        events[2].traceId = "0af7651916cd43dd8448eb211c80319c";
        events[2].spanId = "b7ad6b7169203331";
        events[3].host = "";
        std::string dumps[2];
        int k = 0;
        for (const auto format : {pg::CopyFormat::Text, pg::CopyFormat::Binary}) {
            const std::string dsn = migratedDatabase("copy");
            BatchStore store({dsn, "g", format});
            const std::vector<OffsetAdvance> offsets{{"t", 0, -1, 500}};
            auto r = store.store(events, offsets, {});
            IDL_VERIFY_OK(r);
            QCOMPARE(r->rows, 500LL);
            QVERIFY(r->rejected.empty());
            auto c = connectOrDie(dsn);
            QCOMPARE(scalar(c, "SELECT count(*) FROM logs WHERE message = $1", {events[0].message}),
                     1LL);
            QCOMPARE(scalar(c, "SELECT count(*) FROM logs WHERE attrs = $1::jsonb",
                            {events[1].attrsJson}),
                     1LL);
            QCOMPARE(scalar(c, "SELECT count(*) FROM logs WHERE trace_id IS NOT NULL"), 1LL);
            auto dump = c.query("SELECT string_agg(concat_ws('|', id, ts, received, level, app, "
                                "host, message, attrs::text, trace_id, span_id), E'\\n' "
                                "ORDER BY id) FROM logs");
            IDL_VERIFY_OK(dump);
            dumps[k++] = std::string(dump->value(0, 0));
            QCOMPARE(scalar(c, "SELECT next_offset FROM kafka_offsets"), 500LL);
            QCOMPARE(rollupMismatches(c), 0LL);
        }
        QCOMPARE(dumps[0], dumps[1]);
    }

    void refusedRowsAreIsolatedAndOffsetsFenced()
    {
        const std::string dsn = migratedDatabase("reject");
        std::vector<LogEvent> events;
        std::mt19937_64 rng(11);
        for (int i = 0; i < 100; ++i)
            events.push_back(randomEvent(rng));
        // Text COPY cannot carry NUL bytes: PostgreSQL refuses these two rows.
        events[17].message = std::string("bad\0row", 7);
        events[80].app = std::string("a\0", 2);
        BatchStore store({dsn, "g", pg::CopyFormat::Text});
        std::vector<RejectedRow> seen;
        auto r = store.store(events, std::vector<OffsetAdvance>{{"t", 3, -1, 100}},
                             [&](std::span<const RejectedRow> rej) -> Result<void> {
                                 seen.assign(rej.begin(), rej.end());
                                 return {};
                             });
        IDL_VERIFY_OK(r);
        QCOMPARE(r->rows, 98LL);
        QCOMPARE(seen.size(), std::size_t(2));
        QCOMPARE(seen[0].index, std::size_t(17));
        QCOMPARE(seen[1].index, std::size_t(80));
        auto c = connectOrDie(dsn);
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs"), 98LL);
        QCOMPARE(scalar(c, "SELECT next_offset FROM kafka_offsets WHERE partition = 3"), 100LL);
        QCOMPARE(rollupMismatches(c), 0LL);
        QCOMPARE(tenSecondRollupMismatches(c), 0LL);

        // A writer that read from a stale offset is fenced: nothing is stored.
        std::vector<LogEvent> more{randomEvent(rng)};
        auto stale = store.store(more, std::vector<OffsetAdvance>{{"t", 3, 50, 101}}, {});
        QVERIFY(!stale.ok());
        QCOMPARE(stale.error().code, ErrorCode::Conflict);
        auto fresh = store.store(more, std::vector<OffsetAdvance>{{"t", 3, -1, 101}}, {});
        QVERIFY(!fresh.ok());
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs"), 98LL);
        QCOMPARE(scalar(c, "SELECT next_offset FROM kafka_offsets WHERE partition = 3"), 100LL);
    }

    void sanitizesAndDeadLettersWhileThePartitionFlows()
    {
        auto topic = testsupport::freshTopic("events", 1);
        IDL_VERIFY_OK(topic);
        auto dlq = testsupport::freshTopic("dlq", 1);
        IDL_VERIFY_OK(dlq);
        const std::string dsn = migratedDatabase("sanitize");
        auto producer = makeProducer(m_bootstrap);
        QVERIFY(producer);
        std::mt19937_64 rng(5);
        std::vector<std::string> payloads;
        auto good = [&] { return encodeEvent(randomEvent(rng)); };
        LogEvent nul = randomEvent(rng);
        nul.message = std::string("nul\0inside", 10);
        nul.attrsJson = R"({"k":"v\u0000w"})";
        std::string badUtf8 = encodeEvent(randomEvent(rng));
        badUtf8.replace(badUtf8.find("request"), 7, "re\xC3\x28uest");
        LogEvent future = randomEvent(rng);
        future.tsNs = nowNs() + 10 * kDayNs;
        LogEvent expired = randomEvent(rng);
        expired.tsNs = nowNs() - 400 * kDayNs;
        LogEvent badId = randomEvent(rng);
        badId.id = "definitely-not-a-uuid";
        payloads = {good(),
                    encodeEvent(nul),
                    badUtf8,
                    encodeEvent(future),
                    encodeEvent(expired),
                    "{\"v\":1,\"this is\":\"not an event\"",
                    encodeEvent(badId),
                    good()};
        for (int i = 0; i < 200; ++i)
            payloads.push_back(good());
        for (const auto &p : payloads)
            QVERIFY(produceOne(*producer, *topic, "k", p));
        IDL_VERIFY_OK(producer->flush(10s));

        WriterOptions o = writerOptions(m_bootstrap, *topic, dsn, *dlq);
        o.maxEventAge = std::chrono::hours(24 * 30);
        Writer writer(o);
        IDL_VERIFY_OK(writer.start());
        auto c = connectOrDie(dsn);
        const long long stored = static_cast<long long>(payloads.size()) - 2;
        QCOMPARE(waitForCount(c, "SELECT count(*) FROM logs", stored, 60s), stored);
        QCOMPARE(waitForCount(c, "SELECT next_offset FROM kafka_offsets",
                              (long long)payloads.size(), 10s),
                 (long long)payloads.size());
        const auto stats = writer.stats();
        writer.stop();
        QCOMPARE(stats.deadLettered, 2ULL);
        QCOMPARE(stats.sanitized, 4ULL); // NUL, UTF-8, future time, bad id
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs WHERE message = 'nulinside' AND "
                           "attrs = '{\"k\":\"vw\"}'::jsonb"),
                 1LL);
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs WHERE message LIKE 're\uFFFD(uest%'"), 1LL);
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs WHERE attrs ? 'idl.original_ts' AND "
                           "ts = received"),
                 1LL);
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs WHERE id::text = $1",
                        {stableUuid(*topic + "/0/6")}),
                 1LL);

        // The two dead letters, with their reasons and sources, in order.
        kafka::ConsumerOptions co;
        co.config = {{"bootstrap.servers", m_bootstrap}, {"group.id", "dlq-reader"}};
        auto consumer = kafka::Consumer::create(co);
        IDL_VERIFY_OK(consumer);
        IDL_VERIFY_OK((*consumer)->assign({{*dlq, 0, 0}}));
        std::vector<std::pair<std::string, std::string>> dead; // code, source offset
        const auto until = std::chrono::steady_clock::now() + 20s;
        while (dead.size() < 2 && std::chrono::steady_clock::now() < until) {
            auto m = (*consumer)->poll(200ms);
            if (m && *m) {
                QCOMPARE(std::string((*m)->header("idl-stage").value_or("")),
                         std::string("writer"));
                QVERIFY(!(*m)->header("idl-error-message").value_or("").empty());
                dead.emplace_back((*m)->header("idl-error-code").value_or(""),
                                  (*m)->header("idl-source-offset").value_or(""));
            }
        }
        QCOMPARE(dead.size(), std::size_t(2));
        QCOMPARE(dead[0].first, std::string("bad_timestamp"));
        QCOMPARE(dead[0].second, std::string("4"));
        QCOMPARE(dead[1].first, std::string("bad_json"));
        QCOMPARE(dead[1].second, std::string("5"));
    }

    void rollupsEqualRawCountsAfterRandomLoad()
    {
        auto topic = testsupport::freshTopic("events", 4);
        IDL_VERIFY_OK(topic);
        const std::string dsn = migratedDatabase("rollup");
        auto producer = makeProducer(m_bootstrap);
        QVERIFY(producer);
        std::mt19937_64 rng(std::random_device{}());
        const int n = 20000 + static_cast<int>(rng() % 5000);
        for (int i = 0; i < n; ++i) {
            LogEvent e = randomEvent(rng, 3 * 3600LL * 1'000'000'000);
            QVERIFY(produceOne(*producer, *topic, e.id, encodeEvent(e)));
        }
        IDL_VERIFY_OK(producer->flush(20s));
        Writer writer(writerOptions(m_bootstrap, *topic, dsn, "idl.logs.dlq"));
        IDL_VERIFY_OK(writer.start());
        auto c = connectOrDie(dsn);
        QCOMPARE(waitForCount(c, "SELECT count(*) FROM logs", n, 60s), (long long)n);
        writer.stop();
        QCOMPARE(scalar(c, "SELECT sum(count) FROM log_rollup_minute"), (long long)n);
        QCOMPARE(rollupMismatches(c), 0LL);
        QCOMPARE(tenSecondRollupMismatches(c), 0LL);
        QVERIFY(scalar(c, "SELECT count(*) FROM log_rollup_minute") > 100);
        QCOMPARE(scalar(c, "SELECT sum(count) FROM log_rollup_10s"), (long long)n);
        QCOMPARE(tenSecondRollupMismatches(c), 0LL);
    }

    // Idempotency-Key (docs/ingest.md): a request's events, each with (scope, key, index), are
    // stored once however a resend's copies are split across batches and concurrent writers;
    // the same events under another key or scope, or without a key, are stored again; a
    // duplicate inside one batch is stored once; rows the database refuses keep their place;
    // maintenance deletes expired keys.
    void idempotencyKeysStoreEachEventOnce()
    {
        const std::string dsn = migratedDatabase("idem");
        std::mt19937_64 rng(23);
        std::vector<LogEvent> request;
        for (int i = 0; i < 10; ++i)
            request.push_back(randomEvent(rng));
        const auto keyed = [](std::vector<std::size_t> events, std::vector<int> indexes,
                              const std::string &key, const std::string &scope = "k1") {
            std::vector<KeyedEvent> out;
            for (std::size_t i = 0; i < events.size(); ++i)
                out.push_back({events[i], scope, key, indexes[i]});
            return out;
        };
        const auto slice = [&](std::vector<int> indexes) {
            std::vector<LogEvent> out;
            for (const int i : indexes) {
                LogEvent e = request[static_cast<std::size_t>(i)];
                e.id = newEventId(); // a resend is decoded again: new ids
                out.push_back(e);
            }
            return out;
        };
        BatchStore store({dsn, "g", pg::CopyFormat::Binary});
        auto c = connectOrDie(dsn);
        const auto rows = [&] { return scalar(c, "SELECT count(*) FROM logs"); };

        // The first copy, in one batch.
        auto first = store.store(
            request, {}, {},
            keyed({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "req-1"));
        IDL_VERIFY_OK(first);
        QCOMPARE(first->rows, 10LL);
        QCOMPARE(first->duplicates, 0LL);
        // The resend, split in two batches, with an unkeyed event in the first: only the
        // unkeyed event is stored.
        std::vector<LogEvent> a = slice({0, 1, 2, 3});
        a.push_back(randomEvent(rng));
        auto r1 = store.store(a, {}, {}, keyed({0, 1, 2, 3}, {0, 1, 2, 3}, "req-1"));
        IDL_VERIFY_OK(r1);
        QCOMPARE(r1->rows, 1LL);
        QCOMPARE(r1->duplicates, 4LL);
        auto r2 = store.store(slice({4, 5, 6, 7, 8, 9}), {}, {},
                              keyed({0, 1, 2, 3, 4, 5}, {4, 5, 6, 7, 8, 9}, "req-1"));
        IDL_VERIFY_OK(r2);
        QCOMPARE(r2->rows, 0LL);
        QCOMPARE(r2->duplicates, 6LL);
        QCOMPARE(rows(), 11LL);
        // The same events under another key, or another scope (API key): new requests. One
        // batch holding the same (scope, key, index) twice stores it once.
        auto other = store.store(slice({0, 1, 1}), {}, {}, keyed({0, 1, 2}, {0, 1, 1}, "req-2"));
        IDL_VERIFY_OK(other);
        QCOMPARE(other->rows, 2LL);
        QCOMPARE(other->duplicates, 1LL);
        auto scoped = store.store(slice({0}), {}, {}, keyed({0}, {0}, "req-1", "k2"));
        IDL_VERIFY_OK(scoped);
        QCOMPARE(scoped->rows, 1LL);
        QCOMPARE(rows(), 14LL);
        QCOMPARE(rollupMismatches(c), 0LL);
        QCOMPARE(tenSecondRollupMismatches(c), 0LL);

        // Two writers storing copies of one request at once (two partitions, two writers):
        // each event once, whatever the interleaving.
        std::vector<LogEvent> big;
        for (int i = 0; i < 200; ++i)
            big.push_back(randomEvent(rng));
        std::vector<std::size_t> positions(200);
        std::vector<int> indexes(200);
        for (int i = 0; i < 200; ++i) {
            positions[static_cast<std::size_t>(i)] = static_cast<std::size_t>(i);
            indexes[static_cast<std::size_t>(i)] = i;
        }
        const auto bigKeys = keyed(positions, indexes, "req-3");
        std::atomic<long long> stored{0};
        std::atomic<int> failures{0};
        std::vector<std::thread> writers;
        for (int w = 0; w < 3; ++w)
            writers.emplace_back([&] {
                BatchStore mine({dsn, "g", pg::CopyFormat::Binary});
                for (int attempt = 0; attempt < 20; ++attempt) {
                    auto r = mine.store(big, {}, {}, bigKeys);
                    if (r) {
                        stored += r->rows;
                        return;
                    }
                    if (!isTransientDbError(r.error()))
                        break;
                    mine.disconnect(); // a deadlock victim retries, as the writer does
                }
                ++failures;
            });
        for (auto &t : writers)
            t.join();
        QCOMPARE(failures.load(), 0);
        QCOMPARE(stored.load(), 200LL);
        QCOMPARE(rows(), 214LL);

        // A row the database refuses is dead-lettered; its key is spent with it.
        std::vector<LogEvent> bad = slice({0, 1});
        bad[1].message = std::string("bad\0row", 7);
        BatchStore text({dsn, "g", pg::CopyFormat::Text});
        std::vector<RejectedRow> seen;
        auto rb = text.store(
            bad, {},
            [&](std::span<const RejectedRow> rej) -> Result<void> {
                seen.assign(rej.begin(), rej.end());
                return {};
            },
            keyed({0, 1}, {0, 1}, "req-4"));
        IDL_VERIFY_OK(rb);
        QCOMPARE(rb->rows, 1LL);
        QCOMPARE(seen.size(), std::size_t(1));
        QCOMPARE(seen[0].index, std::size_t(1));
        QCOMPARE(rows(), 215LL);

        // Maintenance forgets keys older than retention.idempotency-keys.
        QCOMPARE(scalar(c, "SELECT count(*) FROM ingest_idempotency"), 215LL);
        IDL_VERIFY_OK(c.exec("UPDATE ingest_idempotency SET created_at = now() - interval '25 "
                             "hours' WHERE key = 'req-1'"));
        RetentionOptions o;
        o.deleteBatchRows = 4; // several batches
        auto ret = runRetention(c, o, nowNs());
        IDL_VERIFY_OK(ret);
        QCOMPARE(ret->idempotencyKeysDeleted, 11LL); // req-1 in scopes k1 (10) and k2 (1)
        QCOMPARE(scalar(c, "SELECT count(*) FROM ingest_idempotency"), 204LL);
        auto again = store.store(slice({0}), {}, {}, keyed({0}, {0}, "req-1"));
        IDL_VERIFY_OK(again);
        QCOMPARE(again->rows, 1LL);
    }

    void retentionDropsPartitionsAndDeletesPerApp()
    {
        const std::string dsn = migratedDatabase("retention");
        const std::int64_t now = nowNs();
        std::vector<LogEvent> events;
        std::mt19937_64 rng(3);
        // Three apps: "plain" (default 30d), "short" (7d), "long" (60d); rows 40d, 10d and
        // 1h old, 50 each.
        for (const char *app : {"plain", "short", "long"}) {
            for (const std::int64_t age : {40 * kDayNs, 10 * kDayNs, kDayNs / 24}) {
                for (int i = 0; i < 50; ++i) {
                    LogEvent e = randomEvent(rng, kMinuteNs);
                    e.app = app;
                    e.tsNs = now - age - static_cast<std::int64_t>(i) * 1'000'000'000;
                    events.push_back(e);
                }
            }
        }
        BatchStore store({dsn, "g", pg::CopyFormat::Binary});
        IDL_VERIFY_OK(store.store(events, {}, {}));
        auto c = connectOrDie(dsn);
        IDL_VERIFY_OK(c.exec("INSERT INTO retention_policies VALUES ('short', '7 days'), "
                             "('long', '60 days')"));
        const auto partitionsBefore = scalar(c, "SELECT count(*) FROM idl_log_partitions()");
        RetentionOptions o;
        o.defaultTtl = std::chrono::seconds(30 * 86400);
        o.deleteBatchRows = 100; // several batches
        auto r = runRetention(c, o, now);
        IDL_VERIFY_OK(r);
        // "long" keeps 60 days, so the 40-day-old partition stays; the others' rows go.
        QCOMPARE(r->partitionsDropped, 0);
        QCOMPARE(r->rowsDeleted, 150LL); // plain@40d, short@40d, short@10d
        auto count = [&](const char *app) {
            return scalar(c, "SELECT count(*) FROM logs WHERE app = $1", {std::string(app)});
        };
        QCOMPARE(count("plain"), 100LL);
        QCOMPARE(count("short"), 50LL);
        QCOMPARE(count("long"), 150LL);
        QCOMPARE(rollupMismatches(c), 0LL);
        QCOMPARE(tenSecondRollupMismatches(c), 0LL);

        // Without the long policy, the 40-day-old partition(s) are dropped whole.
        IDL_VERIFY_OK(c.exec("DELETE FROM retention_policies WHERE app = 'long'"));
        auto r2 = runRetention(c, o, now);
        IDL_VERIFY_OK(r2);
        QVERIFY(r2->partitionsDropped >= 1);
        QCOMPARE(r2->rowsDeleted, 0LL);
        QCOMPARE(count("long"), 100LL);
        QCOMPARE(count("plain"), 100LL);
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs WHERE ts < $1",
                        {std::to_string(now - 30 * kDayNs)}),
                 0LL);
        QCOMPARE(scalar(c, "SELECT count(*) FROM idl_log_partitions()"),
                 partitionsBefore - r2->partitionsDropped);
        QCOMPARE(rollupMismatches(c), 0LL);
        QCOMPARE(tenSecondRollupMismatches(c), 0LL);
        // Idempotent.
        auto r3 = runRetention(c, o, now);
        IDL_VERIFY_OK(r3);
        QCOMPARE(r3->partitionsDropped, 0);
        QCOMPARE(r3->rowsDeleted, 0LL);
    }

    // Issue 15, finding 2: a long reader of `logs` (a stalled live tail's history snapshot)
    // must not make retention stall ingestion. A plain DETACH PARTITION queued an exclusive
    // lock on `logs` behind the reader, and every later COPY and SELECT queued behind it.
    void retentionBehindALongReaderDoesNotBlockWrites()
    {
        const std::string dsn = migratedDatabase("retention_lock");
        const std::int64_t now = nowNs();
        std::mt19937_64 rng(5);
        std::vector<LogEvent> events;
        for (const std::int64_t age : {40 * kDayNs, kDayNs / 24}) {
            for (int i = 0; i < 20; ++i) {
                LogEvent e = randomEvent(rng, kMinuteNs);
                e.tsNs = now - age - i * 1'000'000'000LL;
                events.push_back(e);
            }
        }
        BatchStore store({dsn, "g", pg::CopyFormat::Binary});
        IDL_VERIFY_OK(store.store(events, {}, {}));

        // The long reader: a REPEATABLE READ snapshot that has read `logs` and stays open.
        auto reader = connectOrDie(dsn);
        IDL_VERIFY_OK(reader.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
        IDL_VERIFY_OK(reader.query("SELECT count(*) FROM logs"));

        std::atomic<bool> retentionDone{false};
        Result<RetentionReport> report = makeError(ErrorCode::Internal, "not run");
        std::thread retention([&] {
            auto c = connectOrDie(dsn);
            RetentionOptions o;
            o.defaultTtl = std::chrono::seconds(30 * 86400);
            o.lockTimeout = std::chrono::seconds(20);
            report = runRetention(c, o, now);
            retentionDone = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(700)); // retention now waits

        // Meanwhile ingestion and queries go on.
        auto w = connectOrDie(dsn);
        IDL_VERIFY_OK(w.exec("SET lock_timeout = '3s'"));
        const auto t0 = std::chrono::steady_clock::now();
        auto sel =
            w.query("SELECT count(*) FROM logs WHERE ts > $1", {std::to_string(now - kDayNs)});
        QVERIFY2(sel.ok(), sel.ok() ? "" : sel.error().message.c_str());
        std::vector<LogEvent> fresh;
        for (int i = 0; i < 10; ++i) {
            LogEvent e = randomEvent(rng, kMinuteNs);
            e.tsNs = now - i * 1'000'000LL;
            fresh.push_back(e);
        }
        BatchStore writer({dsn, "g2", pg::CopyFormat::Binary});
        auto stored = writer.store(fresh, {}, {});
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        qInfo("select + COPY beside a retention run waiting on a long reader: %.0f ms", ms);
        QVERIFY2(stored.ok(), stored.ok() ? "" : stored.error().message.c_str());
        QVERIFY2(ms < 2500, "ingestion waited behind retention");
        QVERIFY(!retentionDone); // it still waits for the reader, without blocking anyone

        IDL_VERIFY_OK(reader.exec("COMMIT"));
        retention.join();
        IDL_VERIFY_OK(report);
        QVERIFY(report->partitionsDropped >= 1);
        QCOMPARE(scalar(w, "SELECT count(*) FROM logs WHERE ts < $1",
                        {std::to_string(now - 30 * kDayNs)}),
                 0LL);
        QCOMPARE(scalar(w, "SELECT count(*) FROM logs"), 30LL);
    }

    // Maintenance (retention step 4): a partition whose day is over gets a trigram GIN the
    // gateway's substring filter can use, the open one does not; both have the b-tree on ts
    // (migration 011: made with the partition); a second run builds nothing; an index left
    // INVALID (an interrupted concurrent build) is rebuilt.
    void closedPartitionsGetSearchIndexes()
    {
        const std::string dsn = migratedDatabase("closed_indexes");
        const std::int64_t now = nowNs();
        std::mt19937_64 rng(11);
        std::vector<LogEvent> events;
        for (const std::int64_t age : {2 * kDayNs, std::int64_t(0)}) {
            for (int i = 0; i < 40; ++i) {
                LogEvent e = randomEvent(rng, kMinuteNs);
                e.tsNs = now - age - i * 1'000'000LL;
                if (i % 4 == 0)
                    e.message = "upstream Connection Reset by peer " + std::to_string(i);
                events.push_back(e);
            }
        }
        BatchStore store({dsn, "g", pg::CopyFormat::Binary});
        IDL_VERIFY_OK(store.store(events, {}, {}));
        auto c = connectOrDie(dsn);
        const std::string closedPart = std::string(
            c.query("SELECT name FROM idl_log_partitions() WHERE from_ns <= $1::bigint AND "
                    "to_ns > $1::bigint",
                    {std::to_string(now - 2 * kDayNs)})
                ->value(0, 0));
        const std::string openPart = std::string(
            c.query("SELECT name FROM idl_log_partitions() WHERE from_ns <= $1::bigint AND "
                    "to_ns > $1::bigint",
                    {std::to_string(now)})
                ->value(0, 0));
        const std::string search = "SELECT count(*) FROM logs WHERE message COLLATE \"C\" ILIKE "
                                   "'%connection reset%' ESCAPE '!'";
        const long long before = scalar(c, search);
        QCOMPARE(before, 20LL);
        auto validIndexes = [&](const std::string &part) {
            return scalar(c,
                          "SELECT count(*) FROM pg_index i JOIN pg_class k ON k.oid = i.indexrelid "
                          "WHERE i.indrelid = $1::regclass AND i.indisvalid AND k.relname LIKE "
                          "'%!_closed!_%' ESCAPE '!'",
                          {part});
        };
        QCOMPARE(validIndexes(closedPart), 0LL);
        const std::string tsBtree = "SELECT count(*) FROM idl_partition_ts_btrees($1) WHERE "
                                    "valid AND attached";
        QCOMPARE(scalar(c, tsBtree, {closedPart}), 1LL);
        QCOMPARE(scalar(c, tsBtree, {openPart}), 1LL);

        RetentionOptions o;
        auto r = runRetention(c, o, now);
        IDL_VERIFY_OK(r);
        QCOMPARE(r->partitionsIndexed, 1);
        QCOMPARE(validIndexes(closedPart), 1LL);
        QCOMPARE(validIndexes(openPart), 0LL);
        QCOMPARE(scalar(c, "SELECT count(*) FROM idl_partition_ts_btrees($1)", {closedPart}), 1LL);
        QCOMPARE(scalar(c, search), before);
        // The gateway's substring filter can be answered from the trigram index.
        IDL_VERIFY_OK(c.exec("SET enable_seqscan = off; SET enable_indexscan = off"));
        auto plan = c.query("EXPLAIN SELECT count(*) FROM " + closedPart +
                            " WHERE message COLLATE \"C\" ILIKE '%connection reset%' ESCAPE '!'");
        IDL_VERIFY_OK(plan);
        std::string text;
        for (int i = 0; i < plan->rowCount(); ++i)
            text += std::string(plan->value(i, 0)) + "\n";
        QVERIFY2(text.find(closedPart + "_closed_msg_trgm") != std::string::npos, text.c_str());
        IDL_VERIFY_OK(c.exec("RESET enable_seqscan; RESET enable_indexscan"));

        auto again = runRetention(c, o, now);
        IDL_VERIFY_OK(again);
        QCOMPARE(again->partitionsIndexed, 0);

        IDL_VERIFY_OK(c.exec("UPDATE pg_index SET indisvalid = false WHERE indexrelid = '" +
                             closedPart + "_closed_msg_trgm'::regclass"));
        QCOMPARE(validIndexes(closedPart), 0LL);
        auto rebuilt = runRetention(c, o, now);
        IDL_VERIFY_OK(rebuilt);
        QCOMPARE(rebuilt->partitionsIndexed, 1);
        QCOMPARE(validIndexes(closedPart), 1LL);
        QCOMPARE(scalar(c, search), before);
    }

    // A database migrated before 011 has partitions with rows and no b-tree on ts (the open
    // one), one built by the old maintenance (`_closed_ts`, not attached) and one left INVALID
    // by an interrupted build. Migration 011 creates logs_ts on the parent only and indexes
    // only empty partitions; the maintenance then gives every partition exactly one valid b-tree
    // on ts attached to logs_ts, which makes logs_ts valid; query results do not change.
    void tsBtreeOnPartitionsOlderThanTheMigration()
    {
        const std::string dsn = migratedDatabase("ts_btree_upgrade");
        const std::int64_t now = nowNs();
        std::mt19937_64 rng(12);
        std::vector<LogEvent> events;
        for (const std::int64_t age : {3 * kDayNs, 2 * kDayNs, std::int64_t(0)})
            for (int i = 0; i < 30; ++i) {
                LogEvent e = randomEvent(rng, kMinuteNs);
                e.tsNs = now - age - i * 1'000'000LL;
                events.push_back(e);
            }
        BatchStore store({dsn, "g", pg::CopyFormat::Binary});
        IDL_VERIFY_OK(store.store(events, {}, {}));
        auto c = connectOrDie(dsn);
        auto partOf = [&](std::int64_t ts) {
            return std::string(c.query("SELECT name FROM idl_log_partitions() WHERE from_ns <= "
                                       "$1::bigint AND to_ns > $1::bigint",
                                       {std::to_string(ts)})
                                   ->value(0, 0));
        };
        const std::string oldest = partOf(now - 3 * kDayNs), older = partOf(now - 2 * kDayNs),
                          open = partOf(now);
        // Back to the state before 011, then 011's statements again (all partitions have rows).
        IDL_VERIFY_OK(c.exec("DROP INDEX logs_ts"));
        IDL_VERIFY_OK(
            c.exec("CREATE INDEX \"" + oldest + "_closed_ts\" ON \"" + oldest + "\" (ts)"));
        IDL_VERIFY_OK(c.exec("CREATE INDEX \"" + older + "_ts\" ON \"" + older + "\" (ts)"));
        IDL_VERIFY_OK(c.exec("UPDATE pg_index SET indisvalid = false WHERE indexrelid = '" + older +
                             "_ts'::regclass"));
        auto migration =
            std::find_if(schema::embeddedMigrations().begin(), schema::embeddedMigrations().end(),
                         [](const schema::Migration &m) { return m.version == 11; });
        QVERIFY(migration != schema::embeddedMigrations().end());
        const std::string sql(migration->sql);
        IDL_VERIFY_OK(c.exec("DROP FUNCTION idl_partition_ts_btrees(regclass)"));
        IDL_VERIFY_OK(c.exec(sql));
        const std::string tsBtrees = "SELECT count(*) FROM idl_partition_ts_btrees($1) WHERE valid";
        QCOMPARE(scalar(c, tsBtrees, {open}), 0LL);
        QCOMPARE(scalar(c, tsBtrees, {older}), 0LL);
        const long long sumBefore = scalar(c, "SELECT sum(ts % 1000003) FROM logs");

        // A reader in an open transaction on `oldest` holds a lock on its indexes: the attach
        // gives up after its short lock timeout and the run goes on (no COPY waits behind it);
        // the index is attached by the run after the reader is gone.
        auto reader = connectOrDie(dsn);
        IDL_VERIFY_OK(reader.exec("BEGIN; SELECT count(*) FROM \"" + oldest + "\" WHERE ts > 0"));
        auto blocked = runRetention(c, RetentionOptions{}, now); // not a lock-timeout error
        IDL_VERIFY_OK(blocked);
        QCOMPARE(scalar(c, tsBtrees + " AND attached", {oldest}), 0LL);
        QCOMPARE(scalar(c, tsBtrees + " AND attached", {open}), 1LL);
        IDL_VERIFY_OK(reader.exec("COMMIT"));

        auto r = runRetention(c, RetentionOptions{}, now);
        IDL_VERIFY_OK(r);
        for (const std::string &part : {oldest, older, open}) {
            QCOMPARE(scalar(c, "SELECT count(*) FROM idl_partition_ts_btrees($1)", {part}), 1LL);
            QCOMPARE(scalar(c, tsBtrees + " AND attached", {part}), 1LL);
        }
        QCOMPARE(
            scalar(c, "SELECT count(*) FROM pg_class WHERE relname = $1", {oldest + "_closed_ts"}),
            1LL); // attached as it was, not built again
        QCOMPARE(scalar(c, "SELECT count(*) FROM pg_index WHERE indexrelid = 'logs_ts'::regclass "
                           "AND indisvalid"),
                 1LL);
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs"), 90LL);
        QCOMPARE(scalar(c, "SELECT sum(ts % 1000003) FROM logs"), sumBefore);
        // A partition made after that has its b-tree from the start.
        IDL_VERIFY_OK(
            c.query("SELECT idl_ensure_log_partition($1)", {std::to_string(now + 5 * kDayNs)}));
        QCOMPARE(scalar(c, tsBtrees + " AND attached", {partOf(now + 5 * kDayNs)}), 1LL);
        auto again = runRetention(c, RetentionOptions{}, now);
        IDL_VERIFY_OK(again);
        QCOMPARE(scalar(c, "SELECT count(*) FROM idl_partition_ts_btrees($1)", {open}), 1LL);
    }

    // The open partition (today, no trigram index): the first page of a substring search that
    // matches 2 % of the rows is a backward scan of the ts b-tree (011) that stops early, not a
    // scan and sort of the whole range: the planner estimates the text from the message
    // histogram, 500 entries since 012 (with 100 it assumed its 0.01 % floor and sorted). New
    // partitions get the same statistics target.
    void openPartitionSubstringFirstPageUsesTheTsIndex()
    {
        const std::string dsn = migratedDatabase("open_first_page");
        auto c = connectOrDie(dsn);
        const std::int64_t now = nowNs();
        const std::string open = std::string(
            c.query("SELECT idl_ensure_log_partition($1)", {std::to_string(now)})->value(0, 0));
        const std::string target = "SELECT attstattarget FROM pg_attribute WHERE attrelid = "
                                   "$1::regclass AND attname = 'message'";
        QCOMPARE(scalar(c, target, {open}), 500LL);
        const std::string later = std::string(
            c.query("SELECT idl_ensure_log_partition($1)", {std::to_string(now + 9 * kDayNs)})
                ->value(0, 0));
        QCOMPARE(scalar(c, target, {later}), 500LL);

        const std::int64_t from = now - 3'000'000'000'000LL;
        IDL_VERIFY_OK(c.query(
            "INSERT INTO logs (id, ts, received, level, app, host, message) "
            "SELECT gen_random_uuid(), $1::bigint + i::bigint * 50000000, 0, 2, 'app' || (i % 10), "
            "'h', "
            "CASE WHEN i % 50 = 3 THEN 'upstream connection reset by peer ' || i "
            "ELSE 'GET /api/items/' || i || ' took ' || (i % 3000) || ' ms ' || md5(i::text) END "
            "FROM generate_series(1, 60000) i",
            {std::to_string(from)}));
        IDL_VERIFY_OK(c.exec("ANALYZE " + open + "; SET random_page_cost = 1.1; SET jit = off"));
        const std::string page =
            "SELECT id, ts, message FROM logs WHERE ts >= $1::bigint AND ts < $2::bigint AND "
            "message COLLATE \"C\" ILIKE '%connection reset%' ESCAPE '!' ORDER BY ts DESC, "
            "id DESC LIMIT 101";
        const pg::Params range{std::to_string(from), std::to_string(now + 1)};
        auto plan = c.query("EXPLAIN " + page, range);
        IDL_VERIFY_OK(plan);
        std::string text;
        for (int i = 0; i < plan->rowCount(); ++i)
            text += std::string(plan->value(i, 0)) + "\n";
        QVERIFY2(text.find("Index Scan Backward using " + open + "_ts ") != std::string::npos,
                 text.c_str());
        // The same rows as the scan and sort of the whole range.
        auto rows = c.query(page, range);
        IDL_VERIFY_OK(rows);
        IDL_VERIFY_OK(c.exec("SET enable_indexscan = off; SET enable_bitmapscan = off"));
        auto sorted = c.query(page, range);
        IDL_VERIFY_OK(sorted);
        QCOMPARE(rows->rowCount(), 101);
        QCOMPARE(sorted->rowCount(), 101);
        for (int i = 0; i < 101; ++i)
            QCOMPARE(std::string(rows->value(i, 0)), std::string(sorted->value(i, 0)));
    }

    // A burst into a partition that autovacuum has not analyzed (or whose rows more than
    // doubled since) gets its statistics from maintenance: the planner otherwise takes it for
    // empty and sorts every row of an app for a first page (docs/benchmarks.md, Peer). Open
    // partitions only, and not for a few rows.
    void openPartitionStatisticsRenewedWhenStale()
    {
        const std::string dsn = migratedDatabase("stale_stats");
        auto c = connectOrDie(dsn);
        const std::int64_t now = nowNs();
        RetentionOptions o; // closed 10 min after the day, at least 10,000 changed rows
        auto analyze = [&] {
            auto n = analyzeStalePartitions(c, o, now);
            return n ? *n : -1;
        };
        QCOMPARE(analyze(), 0); // empty partitions: nothing to do
        const std::string open = std::string(
            c.query("SELECT idl_ensure_log_partition($1)", {std::to_string(now)})->value(0, 0));
        const std::string closed = std::string(
            c.query("SELECT idl_ensure_log_partition($1)", {std::to_string(now - 2 * kDayNs)})
                ->value(0, 0));
        for (const std::string &p : {open, closed})
            IDL_VERIFY_OK(c.exec("ALTER TABLE " + p + " SET (autovacuum_enabled = off)"));
        // Rows from the start of the partition holding `at`, spaced 1 us; visible to other
        // sessions' pg_stat_user_tables once this session flushes its counters.
        auto insert = [&](std::int64_t at, int rows) {
            IDL_VERIFY_OK(
                c.query("INSERT INTO logs (id, ts, received, level, app, host, message) "
                        "SELECT gen_random_uuid(), $1::bigint + i::bigint * 1000, 0, 2, "
                        "'app' || (i % 10), 'h', 'row ' || i "
                        "FROM generate_series(1, $2::int) i",
                        {std::to_string(at - at % schema::kLogPartitionNs), std::to_string(rows)}));
            IDL_VERIFY_OK(c.query("SELECT pg_stat_force_next_flush()"));
        };
        auto changed = [&](const std::string &p) {
            return scalar(c,
                          "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = "
                          "$1::regclass",
                          {p});
        };
        auto analyzedRows = [&](const std::string &p) {
            return scalar(c, "SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
                          {p});
        };

        insert(now - 2 * kDayNs, 30000);
        insert(now, 20000);
        QTRY_COMPARE_WITH_TIMEOUT(changed(open), 20000LL, 15'000);
        QTRY_COMPARE_WITH_TIMEOUT(changed(closed), 30000LL, 15'000);
        QCOMPARE(analyzedRows(open), -1LL); // never analyzed: the planner guesses
        QCOMPARE(analyze(), 1);
        QCOMPARE(analyzedRows(open), 20000LL);
        QCOMPARE(analyzedRows(closed), -1LL); // a closed day is analyzed when it is indexed
        QCOMPARE(analyze(), 0);               // fresh now

        insert(now, 9000); // below statisticsMinRows
        QTRY_COMPARE_WITH_TIMEOUT(changed(open), 9000LL, 15'000);
        QCOMPARE(analyze(), 0);
        insert(now, 9000); // 18,000 changed: under the 20,000 the statistics describe
        QTRY_COMPARE_WITH_TIMEOUT(changed(open), 18000LL, 15'000);
        QCOMPARE(analyze(), 0);
        insert(now, 3000); // 21,000 changed: more than the table had at its last ANALYZE
        QTRY_COMPARE_WITH_TIMEOUT(changed(open), 21000LL, 15'000);
        auto report = runRetention(c, o, now); // a full run does it too
        IDL_VERIFY_OK(report);
        QCOMPARE(report->partitionsAnalyzed, 1);
        QCOMPARE(analyzedRows(open), 41000LL);
        QCOMPARE(changed(open), 0LL);
    }

    // A detach interrupted between its two phases (here: its wait for a long reader hit the
    // lock timeout) leaves the partition "detach pending"; the next run finishes and drops it.
    void retentionFinishesAnInterruptedDetach()
    {
        const std::string dsn = migratedDatabase("retention_pending");
        const std::int64_t now = nowNs();
        std::mt19937_64 rng(7);
        std::vector<LogEvent> events;
        for (int i = 0; i < 10; ++i) {
            LogEvent e = randomEvent(rng, kMinuteNs);
            e.tsNs = now - 40 * kDayNs - i * 1'000'000'000LL;
            events.push_back(e);
        }
        BatchStore store({dsn, "g", pg::CopyFormat::Binary});
        IDL_VERIFY_OK(store.store(events, {}, {}));
        auto reader = connectOrDie(dsn);
        IDL_VERIFY_OK(reader.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
        IDL_VERIFY_OK(reader.query("SELECT count(*) FROM logs"));
        auto c = connectOrDie(dsn);
        RetentionOptions o;
        o.defaultTtl = std::chrono::seconds(30 * 86400);
        o.lockTimeout = std::chrono::milliseconds(500);
        auto first = runRetention(c, o, now);
        QVERIFY(!first.ok()); // timed out waiting for the reader
        const char *pendingSql =
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'logs'::regclass AND "
            "inhdetachpending";
        QCOMPARE(scalar(c, pendingSql), 1LL);
        IDL_VERIFY_OK(reader.exec("COMMIT"));
        auto second = runRetention(c, o, now);
        IDL_VERIFY_OK(second);
        QCOMPARE(second->partitionsDropped, 1);
        QCOMPARE(scalar(c, pendingSql), 0LL);
        QCOMPARE(scalar(c, "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE "
                           "'logs\\_%' AND NOT relispartition"),
                 0LL); // nothing left detached but undropped
    }

    // Issue 15, chaos finding: another consumer takes the writer's group.instance.id (after
    // a broker crash the coordinator can see an instance twice) and goes away without leaving.
    // librdkafka's fatal "static consumer fenced" error left the writer polling a dead
    // consumer for ever; it now joins the group again and stores what came since.
    void fencedStaticMemberJoinsAgain()
    {
        auto topic = testsupport::freshTopic("events", 2);
        IDL_VERIFY_OK(topic);
        const std::string dsn = migratedDatabase("fence");
        WriterOptions o = writerOptions(m_bootstrap, *topic, dsn, "idl.logs.dlq");
        o.kafkaConsumerExtra["group.instance.id"] = testsupport::uniqueName("writer-static");
        Writer writer(o);
        IDL_VERIFY_OK(writer.start());
        auto producer = makeProducer(m_bootstrap);
        QVERIFY(producer);
        std::mt19937_64 rng(7);
        const auto send = [&](int n) {
            for (int i = 0; i < n; ++i) {
                LogEvent e = randomEvent(rng);
                if (!produceOne(*producer, *topic, e.id, encodeEvent(e)))
                    return false;
            }
            return producer->flush(20s).ok();
        };
        QVERIFY(send(200));
        auto c = connectOrDie(dsn);
        QCOMPARE(waitForCount(c, "SELECT count(*) FROM logs", 200, 60s), 200LL);
        {
            kafka::ConsumerOptions co;
            co.config = {{"bootstrap.servers", m_bootstrap},
                         {"group.id", o.group},
                         {"group.instance.id", o.kafkaConsumerExtra["group.instance.id"]},
                         {"session.timeout.ms", "6000"},
                         {"log_level", "0"}};
            auto intruder = kafka::Consumer::create(std::move(co));
            IDL_VERIFY_OK(intruder);
            IDL_VERIFY_OK((*intruder)->subscribe({*topic}));
            const auto deadline = std::chrono::steady_clock::now() + 30s;
            while ((*intruder)->assignment().empty() && std::chrono::steady_clock::now() < deadline)
                (void)(*intruder)->poll(100ms);
            QVERIFY(!(*intruder)->assignment().empty());
            const auto until = std::chrono::steady_clock::now() + 3s; // the writer is fenced
            while (std::chrono::steady_clock::now() < until)
                (void)(*intruder)->poll(100ms);
        } // closed without leaving the group (a static member does not)
        QVERIFY(send(200));
        QCOMPARE(waitForCount(c, "SELECT count(*) FROM logs", 400, 60s), 400LL);
        writer.stop();
        QCOMPARE(scalar(c, "SELECT count(DISTINCT id) FROM logs"), 400LL);
    }

    // Issue 15: a writer process whose group leaves a partition of the events topic standing
    // still behind its end (its consumer gone or stuck: here a member that holds it and never
    // consumes or commits) said ready for ever while the lag grew. /readyz now fails once the
    // process has held no partition for kafka.stall-timeout while one stands still, the lag of
    // every partition is exported, and once the partition comes back everything recovers.
    // Then the writer's own member gets stuck (its store waits on a lock another session
    // holds, up to the writer's lock_timeout of 30 s): not ready after kafka.stall-timeout,
    // with the partition named, and ready again once the lock goes.
    void stalledPartitionFailsReadiness()
    {
        const QString bin = qEnvironmentVariable("IDL_BIN_DIR") + QStringLiteral("/idl-writer");
        QVERIFY2(QFile::exists(bin), qPrintable(bin));
        auto topic = testsupport::freshTopic("stall", 1);
        IDL_VERIFY_OK(topic);
        const std::string dsn = migratedDatabase("stall");
        const std::string group = testsupport::uniqueName("g");
        // The zombie holds partition 0: its client.id sorts before the writer's ("rdkafka").
        auto zombie = std::make_unique<testsupport::GroupMember>(
            m_bootstrap, group, std::vector<std::string>{*topic},
            kafka::Config{{"client.id", "a-zombie"}});
        QVERIFY(zombie->ok());
        QVERIFY(zombie->waitAssigned(60s));

        const quint16 port = localcluster::freeTcpPort();
        QTemporaryDir logs;
        const QString log = logs.filePath(QStringLiteral("writer.log"));
        QProcess writer;
        testsupport::endWithTest(writer);
        writer.setStandardErrorFile(log);
        // kafka.stall-timeout through the environment: a writer without the setting (the old
        // code) starts all the same, and the test shows what it does.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("IDL_KAFKA_STALL_TIMEOUT"), QStringLiteral("3s"));
        env.insert(QStringLiteral("IDL_METRICS_TOKEN"), QStringLiteral("stall-test-token"));
        writer.setProcessEnvironment(env);
        writer.start(bin, {QStringLiteral("--kafka.bootstrap"), QString::fromStdString(m_bootstrap),
                           QStringLiteral("--kafka.topic"), QString::fromStdString(*topic),
                           QStringLiteral("--kafka.group"), QString::fromStdString(group),
                           QStringLiteral("--kafka.session-timeout"), QStringLiteral("6s"),
                           QStringLiteral("--writer.consumers"), QStringLiteral("1"),
                           QStringLiteral("--pg.dsn"), QString::fromStdString(dsn),
                           QStringLiteral("--retention.interval"), QStringLiteral("0"),
                           QStringLiteral("--http.port"), QString::number(port)});
        QVERIFY(writer.waitForStarted());
        const auto logTail = [&] {
            QFile f(log);
            return f.open(QIODevice::ReadOnly) ? f.readAll().right(4000) : QByteArray();
        };
        collectortest::HttpClient ops(port);
        const collectortest::HttpHeaders auth{{"Authorization", "Bearer stall-test-token"}};
        collectortest::HttpReply ready;
        const auto waitStatus = [&](int want, std::chrono::seconds timeout) {
            const auto until = std::chrono::steady_clock::now() + timeout;
            while ((ready = ops.get("/readyz", auth)).status != want &&
                   std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(200ms);
            return ready.status;
        };
        QVERIFY2(waitStatus(200, 120s) == 200, logTail().constData());

        auto producer = makeProducer(m_bootstrap);
        QVERIFY(producer);
        std::mt19937_64 rng(5);
        for (int i = 0; i < 50; ++i) {
            LogEvent e = randomEvent(rng);
            QVERIFY(produceOne(*producer, *topic, e.id, encodeEvent(e)));
        }
        IDL_VERIFY_OK(producer->flush(20s));

        // Nobody stores partition 0 and the writer holds no partition: not ready, and the lag
        // metric counts the 50 events.
        QVERIFY2(waitStatus(503, 60s) == 503, logTail().constData());
        QVERIFY(zombie->assigned() > 0); // still the zombie's
        QVERIFY2(ready.body.contains("no partition assigned"), ready.body.constData());
        const QByteArray metrics = ops.get("/metrics", auth).body;
        const QByteArray lagLine = "idl_writer_consumer_lag{topic=\"" +
                                   QByteArray::fromStdString(*topic) + "\",partition=\"0\"} 50";
        QVERIFY2(metrics.contains(lagLine), metrics.constData());
        QVERIFY2(metrics.contains("idl_writer_stalled_partitions 1"), metrics.constData());

        // The zombie leaves: the writer gets the partition, stores the events and is ready
        // again.
        zombie.reset();
        auto c = connectOrDie(dsn);
        QCOMPARE(waitForCount(c, "SELECT count(*) FROM logs", 50, 90s), 50LL);
        QVERIFY2(waitStatus(200, 60s) == 200, logTail().constData());

        // The writer's member is stuck on a lock of the offsets table while events come in.
        auto locker = connectOrDie(dsn);
        QVERIFY(locker.exec("BEGIN; LOCK TABLE kafka_offsets IN ACCESS EXCLUSIVE MODE").ok());
        for (int i = 0; i < 20; ++i) {
            LogEvent e = randomEvent(rng);
            QVERIFY(produceOne(*producer, *topic, e.id, encodeEvent(e)));
        }
        IDL_VERIFY_OK(producer->flush(20s));
        QVERIFY2(waitStatus(503, 25s) == 503, logTail().constData());
        QVERIFY2(ready.body.contains("partition 0 held here"), ready.body.constData());
        QVERIFY(locker.exec("ROLLBACK").ok());
        QCOMPARE(waitForCount(c, "SELECT count(*) FROM logs", 70, 90s), 70LL);
        QVERIFY2(waitStatus(200, 60s) == 200, logTail().constData());
        writer.terminate();
        QVERIFY(writer.waitForFinished(20000));
        QCOMPARE(scalar(c, "SELECT count(DISTINCT id) FROM logs"), 70LL);
    }

    void killNineUnderLoadLosesAndDuplicatesNothing()
    {
        const QString bin = qEnvironmentVariable("IDL_BIN_DIR") + QStringLiteral("/idl-writer");
        QVERIFY2(QFile::exists(bin), qPrintable(bin));
        auto topic = testsupport::freshTopic("events", 4);
        IDL_VERIFY_OK(topic);
        const std::string dsn = migratedDatabase("kill");
        QTemporaryDir logs;
        const QStringList args{QStringLiteral("--kafka.bootstrap"),
                               QString::fromStdString(m_bootstrap),
                               QStringLiteral("--kafka.topic"),
                               QString::fromStdString(*topic),
                               QStringLiteral("--kafka.group"),
                               QString::fromStdString(testsupport::uniqueName("g")),
                               QStringLiteral("--kafka.instance-id"),
                               QStringLiteral("writer-1"),
                               QStringLiteral("--kafka.session-timeout"),
                               QStringLiteral("6s"),
                               QStringLiteral("--pg.dsn"),
                               QString::fromStdString(dsn),
                               QStringLiteral("--batch.max-events"),
                               QStringLiteral("2000"),
                               QStringLiteral("--batch.max-time"),
                               QStringLiteral("100ms"),
                               QStringLiteral("--retention.interval"),
                               QStringLiteral("0"),
                               QStringLiteral("--http.port"),
                               QStringLiteral("0")};

        // Load: 200k events at ~12k/s (16 s) while the writer is killed five times.
        const int total = 200000;
        std::atomic<int> produced{0};
        std::atomic<int> failures{0};
        std::thread load([&] {
            auto producer = makeProducer(m_bootstrap);
            std::mt19937_64 rng(99);
            const auto start = std::chrono::steady_clock::now();
            for (int i = 0; i < total; ++i) {
                LogEvent e = randomEvent(rng);
                if (!produceOne(*producer, *topic, e.id, encodeEvent(e), &failures))
                    ++failures;
                produced = i + 1;
                if (i % 500 == 0)
                    std::this_thread::sleep_until(start + std::chrono::microseconds(i * 80));
            }
            if (!producer->flush(30s))
                ++failures;
        });
        auto c = connectOrDie(dsn);
        std::mt19937_64 rng(std::random_device{}());
        std::vector<long long> atKill;
        for (int round = 0; round <= 5; ++round) {
            QProcess writer;
            writer.setStandardErrorFile(logs.filePath(QStringLiteral("writer-%1.log").arg(round)));
            writer.start(bin, args);
            QVERIFY(writer.waitForStarted());
            if (round == 5) {
                load.join();
                QCOMPARE(failures.load(), 0);
                const long long n =
                    waitForCount(c, "SELECT count(*) FROM logs", total, std::chrono::seconds(120));
                writer.terminate();
                QVERIFY(writer.waitForFinished(20000));
                QCOMPARE(n, (long long)total);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 2000));
            writer.kill(); // SIGKILL
            QVERIFY(writer.waitForFinished(10000));
            atKill.push_back(scalar(c, "SELECT count(*) FROM logs"));
            qInfo("kill %d: %lld rows stored, %d produced", round + 1, atKill.back(),
                  produced.load());
        }
        QVERIFY2(atKill.back() > 0, "the writer never stored anything between kills");
        QCOMPARE(scalar(c, "SELECT count(*) FROM logs"), (long long)total);
        QCOMPARE(scalar(c, "SELECT count(DISTINCT id) FROM logs"), (long long)total);
        QCOMPARE(scalar(c, "SELECT sum(next_offset) FROM kafka_offsets"), (long long)total);
        QCOMPARE(rollupMismatches(c), 0LL);
        QCOMPARE(tenSecondRollupMismatches(c), 0LL);
    }

    void postgresRestartUnderLoadRecoversAlone()
    {
        auto pg = testsupport::postgres();
        IDL_VERIFY_OK(pg);
        auto topic = testsupport::freshTopic("events", 4);
        IDL_VERIFY_OK(topic);
        const std::string dsn = migratedDatabase("restart");
        WriterOptions o = writerOptions(m_bootstrap, *topic, dsn, "idl.logs.dlq");
        Writer writer(o);
        IDL_VERIFY_OK(writer.start());

        const int total = 120000;
        std::atomic<int> failures{0};
        std::atomic<bool> loadDone{false};
        std::thread load([&] {
            auto producer = makeProducer(m_bootstrap);
            std::mt19937_64 rng(42);
            const auto start = std::chrono::steady_clock::now();
            for (int i = 0; i < total; ++i) {
                LogEvent e = randomEvent(rng);
                if (!produceOne(*producer, *topic, e.id, encodeEvent(e), &failures))
                    ++failures;
                if (i % 500 == 0)
                    std::this_thread::sleep_until(start + std::chrono::microseconds(i * 50));
            }
            if (!producer->flush(30s))
                ++failures;
            loadDone = true;
        });
        std::atomic<bool> sawNotReady{false};
        std::atomic<bool> watching{true};
        std::thread watch([&] {
            while (watching) {
                if (!writer.notReadyReason().empty())
                    sawNotReady = true;
                std::this_thread::sleep_for(10ms);
            }
        });
        std::this_thread::sleep_for(1500ms);
        IDL_VERIFY_OK((*pg)->restartImmediate());
        std::this_thread::sleep_for(2000ms);
        IDL_VERIFY_OK((*pg)->restartImmediate());
        load.join();
        QCOMPARE(failures.load(), 0);
        auto c = connectOrDie(dsn);
        const long long n = waitForCount(c, "SELECT count(*) FROM logs", total, 90s);
        watching = false;
        watch.join();
        const auto stats = writer.stats();
        const std::string reason = writer.notReadyReason();
        writer.stop();
        QCOMPARE(n, (long long)total);
        QCOMPARE(scalar(c, "SELECT count(DISTINCT id) FROM logs"), (long long)total);
        QCOMPARE(rollupMismatches(c), 0LL);
        QCOMPARE(tenSecondRollupMismatches(c), 0LL);
        QVERIFY2(stats.dbErrors > 0, "the restarts went unnoticed");
        QVERIFY(sawNotReady.load());
        QVERIFY2(reason.empty(), reason.c_str());
    }
};

QTEST_GUILESS_MAIN(TestWriterIntegration)
#include "test_writer_integration.moc"
