// Unit tests of the writer's pure parts: sanitizing events, COPY encodings, config.
#include "idl/core/config.h"
#include "idl/core/json_codec.h"
#include "idl/core/uuid.h"
#include "idl/kafka/group_watcher.h"
#include "idl/writer/batch_store.h"
#include "idl/writer/copy_encoder.h"
#include "idl/writer/sanitize.h"
#include "idl/writer/writer_config.h"

#include <QTest>

using namespace idl;
using namespace idl::writer;

namespace {

constexpr std::int64_t kNow = 1'790'000'000'000'000'000; // 2026-09-21
constexpr std::int64_t kHour = 3600LL * 1'000'000'000;

LogEvent sample()
{
    LogEvent e;
    e.id = newEventId();
    e.tsNs = kNow - kHour;
    e.receivedNs = kNow - kHour + 5;
    e.level = Level::Error;
    e.app = "checkout";
    e.host = "web-1";
    e.message = "card declined";
    e.attrsJson = R"({"order":42})";
    return e;
}

} // namespace

class TestWriterUnit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validEventPassesUnchanged()
    {
        const LogEvent e = sample();
        unsigned fixes = 0;
        auto r = prepareEvent(encodeEvent(e), "t/0/1", {}, kNow, fixes);
        QVERIFY(r.ok());
        QCOMPARE(fixes, unsigned(FixNone));
        QVERIFY(*r == e);
    }

    void nulBytesAreStripped()
    {
        LogEvent e = sample();
        e.message = std::string("a\0b", 3);
        e.app = std::string("ap\0p", 4);
        e.attrsJson = R"({"k":"x\u0000y","esc":"\\u0000 stays"})";
        unsigned fixes = 0;
        auto r = prepareEvent(encodeEvent(e), "t/0/1", {}, kNow, fixes);
        QVERIFY(r.ok());
        QVERIFY(fixes & FixNulBytes);
        QCOMPARE(r->message, std::string("ab"));
        QCOMPARE(r->app, std::string("app"));
        // An escaped backslash followed by "u0000" is text, not a NUL: it must survive.
        QCOMPARE(r->attrsJson, std::string(R"({"k":"xy","esc":"\\u0000 stays"})"));
    }

    void invalidUtf8IsReplaced()
    {
        std::string json = encodeEvent(sample());
        const auto at = json.find("card declined");
        json.replace(at, 4, "ca\xff\xfe");
        unsigned fixes = 0;
        auto r = prepareEvent(json, "t/0/1", {}, kNow, fixes);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QVERIFY(fixes & FixInvalidUtf8);
        QCOMPARE(r->message, std::string("ca\xEF\xBF\xBD\xEF\xBF\xBD declined"));
        QCOMPARE(replaceInvalidUtf8("ok\xC0\xAFx\xED\xA0\x80y"),
                 std::string("ok\xEF\xBF\xBDx\xEF\xBF\xBDy")); // overlong, surrogate
        QCOMPARE(replaceInvalidUtf8("\xF0\x9F\x98\x80"), std::string("\xF0\x9F\x98\x80"));
    }

    void futureTimestampIsClampedAndKept()
    {
        LogEvent e = sample();
        e.tsNs = kNow + 48 * kHour;
        unsigned fixes = 0;
        auto r = prepareEvent(encodeEvent(e), "t/0/1", {}, kNow, fixes);
        QVERIFY(r.ok());
        QVERIFY(fixes & FixTimestamp);
        QCOMPARE(r->tsNs, e.receivedNs);
        QCOMPARE(r->attrsJson,
                 "{\"idl.original_ts\":" + std::to_string(kNow + 48 * kHour) + ",\"order\":42}");
    }

    void expiredEventIsDeadLettered()
    {
        LogEvent e = sample();
        e.tsNs = kNow - 40 * 24 * kHour;
        SanitizePolicy policy;
        policy.oldestAcceptedNs = kNow - 30 * 24 * kHour;
        unsigned fixes = 0;
        auto r = prepareEvent(encodeEvent(e), "t/0/1", policy, kNow, fixes);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::BadTimestamp);
    }

    void badIdGetsStableReplacement()
    {
        LogEvent e = sample();
        e.id = "not-a-uuid";
        unsigned f1 = 0, f2 = 0;
        auto a = prepareEvent(encodeEvent(e), "t/3/77", {}, kNow, f1);
        auto b = prepareEvent(encodeEvent(e), "t/3/77", {}, kNow, f2);
        auto c = prepareEvent(encodeEvent(e), "t/3/78", {}, kNow, f2);
        QVERIFY(a.ok() && b.ok() && c.ok());
        QVERIFY(f1 & FixBadId);
        QVERIFY(isValidUuid(a->id));
        QCOMPARE(a->id, b->id);
        QVERIFY(a->id != c->id);
    }

    void garbageIsAnError()
    {
        unsigned fixes = 0;
        QVERIFY(!prepareEvent("{not json", "t/0/1", {}, kNow, fixes).ok());
        QVERIFY(!prepareEvent(R"({"v":2,"id":"x"})", "t/0/1", {}, kNow, fixes).ok());
    }

    void textCopyEscapes()
    {
        LogEvent e = sample();
        e.message = "tab\there\nnew\\line\r";
        std::string out;
        appendCopyRow(out, e, pg::CopyFormat::Text);
        QVERIFY(out.find("tab\\there\\nnew\\\\line\\r") != std::string::npos);
        QVERIFY(out.ends_with("\t\\N\t\\N\n")); // no trace/span: NULL
    }

    void binaryCopyLayout()
    {
        const LogEvent e = sample();
        std::string out;
        appendCopyHeader(out, pg::CopyFormat::Binary);
        QCOMPARE(out.size(), std::size_t(19));
        QVERIFY(out.starts_with(std::string("PGCOPY\n\xff\r\n\0", 11)));
        out.clear();
        appendCopyRow(out, e, pg::CopyFormat::Binary);
        // 2 (count) + 10 length words + uuid 16 + 8 + 8 + 2 + texts + jsonb (1 + text).
        const std::size_t expected = 2 + 10 * 4 + 16 + 8 + 8 + 2 + e.app.size() + e.host.size() +
                                     e.message.size() + 1 + e.attrsJson.size();
        QCOMPARE(out.size(), expected);
        QCOMPARE(static_cast<unsigned char>(out[0]), 0u);
        QCOMPARE(static_cast<unsigned char>(out[1]), 10u);
    }

    void minuteBuckets()
    {
        QCOMPARE(minuteBucket(0), 0LL);
        QCOMPARE(minuteBucket(59'999'999'999LL), 0LL);
        QCOMPARE(minuteBucket(60'000'000'000LL), 60'000'000'000LL);
    }

    void configDefaultsAndHelp()
    {
        Config c(QStringLiteral("idl-writer"), QStringLiteral("test"));
        declareSettings(c);
        QVERIFY(
            c.load({QStringLiteral("idl-writer"), QStringLiteral("--batch.max-events=100"),
                    QStringLiteral("--copy.format=text"), QStringLiteral("--retention.default=7d")},
                   {}));
        auto s = optionsFromConfig(c);
        QVERIFY(s.ok());
        QCOMPARE(s->writer.batchMaxEvents, 100);
        QCOMPARE(s->writer.batchMaxTime.count(), 200);
        QCOMPARE(s->writer.topic, std::string("idl.logs.events"));
        QCOMPARE(s->writer.group, std::string("idl-writer"));
        QVERIFY(s->writer.copyFormat == pg::CopyFormat::Text);
        QCOMPARE(s->retention.defaultTtl.count(), 7LL * 86400);
        QCOMPARE(s->writer.maxEventAge.count(), 7LL * 86400);
        const QString help = c.helpText();
        for (const char *name :
             {"kafka.bootstrap", "kafka.topic", "kafka.group", "pg.dsn", "batch.max-events",
              "batch.max-time", "retention.default", "http.port", "kafka.stall-timeout"})
            QVERIFY2(help.contains(QLatin1String(name)), name);

        Config bad(QStringLiteral("idl-writer"), QStringLiteral("test"));
        declareSettings(bad);
        QVERIFY(bad.load({QStringLiteral("idl-writer"), QStringLiteral("--copy.format=csv")}, {}));
        QVERIFY(!optionsFromConfig(bad).ok());
    }

    // kafka::stallNotReady, the /readyz rule the writer shares with the processor.
    void stallRule()
    {
        using std::chrono::milliseconds;
        const milliseconds timeout(3000);
        kafka::StalledPartitions none;
        kafka::StalledPartitions stalled;
        stalled.partitions = {1};
        stalled.report = "t partition 1: 50 records behind";
        // Nothing stalled: ready, whatever the process holds.
        QVERIFY(kafka::stallNotReady(none, {}, milliseconds(60'000), timeout).empty());
        QVERIFY(kafka::stallNotReady(none, {{1, milliseconds(60'000)}}, milliseconds(0), timeout)
                    .empty());
        // A stalled partition held here for the timeout: this process does not get on with it.
        const std::string held =
            kafka::stallNotReady(stalled, {{1, milliseconds(3000)}}, milliseconds(0), timeout);
        QVERIFY2(held.find("partition 1 held here") != std::string::npos, held.c_str());
        // Just taken over (held for less than the timeout): ready, the new owner gets going.
        QVERIFY(kafka::stallNotReady(stalled, {{1, milliseconds(500)}}, milliseconds(0), timeout)
                    .empty());
        // Another member holds it, this process holds others: ready.
        QVERIFY(kafka::stallNotReady(stalled, {{0, milliseconds(60'000)}}, milliseconds(0), timeout)
                    .empty());
        // This process holds nothing: not ready after the timeout, ready before.
        const std::string idle = kafka::stallNotReady(stalled, {}, milliseconds(3000), timeout);
        QVERIFY2(idle.find("no partition assigned") != std::string::npos, idle.c_str());
        QVERIFY(kafka::stallNotReady(stalled, {}, milliseconds(2000), timeout).empty());
    }
};

QTEST_GUILESS_MAIN(TestWriterUnit)
#include "test_writer_unit.moc"
