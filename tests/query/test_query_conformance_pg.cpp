// Query language conformance, storage side: the fixture events stored the way idl-writer
// stores them (its binary COPY encoder) in a private PostgreSQL, then every case of
// conformance/cases.txt run with the gateway's SQL: the page query (buildQuery), and the
// raw-row aggregate and top-N queries whose counts must add up to the same matches.
// test_query_conformance runs the same cases through the live tail's evaluator.
#include "idl_test_servers.h"
#include "query_cases.h"

#include "idl/pg/connection.h"
#include "idl/query/parser.h"
#include "idl/query/sql.h"
#include "idl/schema/migrations.h"
#include "idl/writer/copy_encoder.h"

#include <QTest>

#include <chrono>
#include <map>
#include <string>
#include <vector>

using namespace idl;
using namespace idl::query;
using testing::CaseBlock;
using testing::Outcome;

namespace {

pg::Params toParams(const std::vector<std::string> &params)
{
    return pg::Params(params.begin(), params.end());
}

long long sumCounts(const pg::Rows &rows)
{
    const int col = rows.columnIndex("count");
    long long n = 0;
    for (int r = 0; r < rows.rowCount(); ++r)
        n += std::stoll(std::string(rows.value(r, col)));
    return n;
}

} // namespace

class TestQueryConformancePg : public QObject
{
    Q_OBJECT

    std::vector<LogEvent> m_events;
    std::map<std::string, std::size_t> m_indexByUuid;
    std::int64_t m_fromNs = 0;
    std::int64_t m_toNs = 0;
    std::optional<pg::Connection> m_db;

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        m_events = testing::readEventFixture(
            QStringLiteral(IDL_QUERY_CONFORMANCE_DIR "/events.txt"), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(m_events.size() >= 10 && m_events.size() < 100);

        auto dsn = testsupport::freshDatabase("conformance");
        IDL_VERIFY_OK(dsn);
        auto db = pg::Connection::connect(*dsn);
        IDL_VERIFY_OK(db);
        m_db = std::move(*db);
        IDL_VERIFY_OK(schema::migrate(*m_db));

        // Event times one millisecond apart, ending a minute ago (inside today's partition or
        // yesterday's, which idl_ensure_log_partition creates like the writer does).
        const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
        const std::int64_t last = now - 60'000'000'000LL;
        m_fromNs = last - static_cast<std::int64_t>(m_events.size()) * 1'000'000;
        m_toNs = last + 1;
        std::string copy;
        writer::appendCopyHeader(copy, pg::CopyFormat::Binary);
        for (std::size_t i = 0; i < m_events.size(); ++i) {
            LogEvent e = m_events[i];
            char uuid[64];
            std::snprintf(uuid, sizeof uuid, "00000000-0000-7000-8000-%012zu", i + 1);
            e.id = uuid;
            e.tsNs = m_fromNs + static_cast<std::int64_t>(i) * 1'000'000;
            e.receivedNs = e.tsNs;
            m_indexByUuid[e.id] = i;
            writer::appendCopyRow(copy, e, pg::CopyFormat::Binary);
        }
        writer::appendCopyTrailer(copy, pg::CopyFormat::Binary);
        for (const std::int64_t ts : {m_fromNs, last}) {
            IDL_VERIFY_OK(
                m_db->query("SELECT idl_ensure_log_partition($1::bigint)", {std::to_string(ts)}));
        }
        const std::vector<std::string> chunks{copy};
        auto copied = m_db->copyIn(writer::logsCopySql(pg::CopyFormat::Binary), chunks,
                                   pg::CopyFormat::Binary);
        IDL_VERIFY_OK(copied);
        QCOMPARE(*copied, static_cast<long long>(m_events.size()));
    }

    void postgresMatchesEveryCase()
    {
        QString error;
        const QString path = QStringLiteral(IDL_QUERY_CONFORMANCE_DIR "/cases.txt");
        const std::vector<CaseBlock> cases = testing::readCaseFile(path, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(cases.size() >= 100);
        int failures = 0;
        for (const CaseBlock &c : cases) {
            Outcome expected;
            QVERIFY2(testing::parseOutcome(c.expected, &expected),
                     qPrintable(QStringLiteral("cases.txt:") + QString::number(c.line)));
            const Outcome actual = run(c.query, &failures, c.line);
            if (actual != expected) {
                ++failures;
                qWarning("cases.txt:%d: query: %s\n  expected: %s\n  postgresql: %s", c.line,
                         c.query.c_str(), expected.line().c_str(), actual.line().c_str());
            }
        }
        QCOMPARE(failures, 0);
    }

    void cleanupTestCase() { m_db.reset(); }

private:
    // The case's outcome in PostgreSQL. Counts from the aggregate and top-N SQL that disagree
    // with the page count are failures of their own (reported here).
    Outcome run(const std::string &query, int *failures, int line)
    {
        const auto ast = parse(query);
        if (!ast)
            return Outcome{true, std::string(ast.error().codeName())};
        QueryOptions page;
        page.fromNs = m_fromNs;
        page.toNs = m_toNs;
        page.limit = 1000;
        page.order = SortOrder::Asc;
        const auto q = buildQuery(*ast, page);
        if (!q)
            return Outcome{true, std::string(q.error().codeName())};
        auto rows = m_db->query(q->sql, toParams(q->params));
        if (!rows)
            return Outcome{true, "postgresql: " + rows.error().message};
        // The gateway's other forms of the page (readPage on the open partition): a bounded
        // look that holds every row, and the order no index provides, return the same rows in
        // the same order.
        for (const bool look : {true, false}) {
            QueryOptions other = page;
            other.lookRows = look ? 1'000'000 : 0;
            other.fullSort = !look;
            const auto oq = buildQuery(*ast, other);
            auto same =
                oq ? m_db->query(oq->sql, toParams(oq->params)) : Result<pg::Rows>(oq.error());
            bool equal = same && same->rowCount() == rows->rowCount();
            for (int r = 0; equal && r < rows->rowCount(); ++r)
                equal = same->value(r, 0) == rows->value(r, 0);
            if (!equal) {
                ++*failures;
                qWarning("cases.txt:%d: query: %s\n  the %s page differs from the page%s", line,
                         query.c_str(), look ? "bounded look" : "full sort",
                         same ? "" : (" (" + same.error().message + ")").c_str());
            }
        }
        std::vector<bool> matched(m_events.size(), false);
        for (int r = 0; r < rows->rowCount(); ++r) {
            const auto it = m_indexByUuid.find(std::string(rows->value(r, 0)));
            if (it == m_indexByUuid.end())
                return Outcome{true, "unknown row id " + std::string(rows->value(r, 0))};
            matched[it->second] = true;
        }
        const long long n = rows->rowCount();

        AggregateOptions agg;
        agg.fromNs = m_fromNs;
        agg.toNs = m_toNs;
        agg.bucketNs = 1'000'000'000;
        agg.allowRollups = false;
        TopNOptions top;
        top.fromNs = m_fromNs;
        top.toNs = m_toNs;
        top.limit = 1000;
        top.allowRollups = false;
        const std::vector<std::pair<const char *, Result<CompiledQuery>>> counts = {
            {"aggregate by level", buildAggregate(*ast, agg)},
            {"top apps", buildTopN(TopNField::App, *ast, top)},
            {"top hosts", buildTopN(TopNField::Host, *ast, top)},
        };
        for (const auto &[what, cq] : counts) {
            if (!cq) {
                ++*failures;
                qWarning("cases.txt:%d: %s: %s", line, what, cq.error().message.c_str());
                continue;
            }
            auto counted = m_db->query(cq->sql, toParams(cq->params));
            if (!counted || sumCounts(*counted) != n) {
                ++*failures;
                qWarning("cases.txt:%d: query: %s\n  %s counts %lld rows, the page %lld%s", line,
                         query.c_str(), what, counted ? sumCounts(*counted) : -1LL, n,
                         counted ? "" : (" (" + counted.error().message + ")").c_str());
            }
        }
        return Outcome{false, testing::idList(m_events, matched)};
    }
};

QTEST_GUILESS_MAIN(TestQueryConformancePg)
#include "test_query_conformance_pg.moc"
