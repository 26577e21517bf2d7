// Golden files: each case is a query and either its compiled WHERE clause and parameters, or
// the error code and byte position. Run with IDL_UPDATE_GOLDEN=1 to rewrite the expectations
// (then review the diff).
#include "idl/query/parser.h"
#include "idl/query/sql.h"

#include "query_cases.h"
#include "sql_shape.h"

#include <QDir>
#include <QFile>
#include <QTest>

#include <string>
#include <vector>

using namespace idl::query;

namespace {

using testing::CaseBlock;

std::vector<std::string> actualFor(const std::string &query)
{
    std::vector<std::string> out;
    const auto ast = parse(query);
    if (!ast) {
        out.push_back("error: " + std::string(ast.error().codeName()) + " " +
                      std::to_string(ast.error().position));
        return out;
    }
    const CompiledSql sql = compileWhere(*ast);
    out.push_back("where: " + sql.where);
    for (const std::string &p : sql.params)
        out.push_back("param: " + testing::escapeText(p));
    return out;
}

} // namespace

class TestQueryGolden : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void golden_data()
    {
        QTest::addColumn<QString>("file");
        const QDir dir(QStringLiteral(IDL_QUERY_GOLDEN_DIR));
        const QStringList files = dir.entryList({QStringLiteral("*.txt")}, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 3);
        for (const QString &f : files)
            QTest::newRow(qPrintable(f)) << dir.filePath(f);
    }

    void golden()
    {
        QFETCH(QString, file);
        QString error;
        std::vector<CaseBlock> cases = testing::readCaseFile(file, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(!cases.empty());
        const bool update = qEnvironmentVariableIsSet("IDL_UPDATE_GOLDEN");
        int failures = 0;
        for (CaseBlock &c : cases) {
            const std::vector<std::string> actual = actualFor(c.query);
            if (update) {
                c.expected = actual;
                continue;
            }
            if (actual != c.expected) {
                ++failures;
                std::string msg = file.toStdString() + ":" + std::to_string(c.line) +
                                  ": query: " + c.query + "\n  expected:\n";
                for (const auto &l : c.expected)
                    msg += "    " + l + "\n";
                msg += "  actual:\n";
                for (const auto &l : actual)
                    msg += "    " + l + "\n";
                qWarning("%s", msg.c_str());
            }
            // Whatever the file says, compiled SQL must be made of templates only.
            const auto ast = parse(c.query);
            if (ast) {
                const CompiledSql sql = compileWhere(*ast);
                std::string why;
                QVERIFY2(testing::sqlUsesOnlyTemplates(sql.where, sql.params.size(), &why),
                         why.c_str());
            }
        }
        if (update) {
            QVERIFY(testing::writeCaseFile(file, cases));
            QSKIP("golden file rewritten");
        }
        QCOMPARE(failures, 0);
    }

    void firstParamShiftsPlaceholders()
    {
        const auto ast = parse("app:checkout level:>=warn");
        QVERIFY(ast.ok());
        const CompiledSql sql = compileWhere(*ast, 4);
        QCOMPARE(sql.where, std::string("(app = $4 AND level >= $5::smallint)"));
        QCOMPARE(sql.params, (std::vector<std::string>{"checkout", "3"}));
    }

    void pageQueryDescWithCursorAndScope()
    {
        const auto ast = parse("level:error");
        QVERIFY(ast.ok());
        QueryOptions o;
        o.fromNs = 1000;
        o.toNs = 2000;
        o.limit = 50;
        o.cursor = Cursor{1500, "0190f3a2-7c1e-7d2a-8b3c-4d5e6f708192"};
        o.allowedApps = {"checkout", "we\"ird"};
        const auto q = buildQuery(*ast, o);
        QVERIFY(q.ok());
        QCOMPARE(QString::fromStdString(q->sql),
                 QStringLiteral("SELECT id, ts, received, level, app, host, message, attrs, "
                                "trace_id, span_id FROM logs WHERE ts >= $1::bigint AND ts < "
                                "$2::bigint AND app = ANY($3::text[]) AND (ts, id) < ($4::bigint, "
                                "$5::uuid) AND level = $6::smallint ORDER BY ts DESC, id DESC "
                                "LIMIT $7::bigint"));
        QCOMPARE(q->params,
                 (std::vector<std::string>{"1000", "2000", "{\"checkout\",\"we\\\"ird\"}", "1500",
                                           "0190f3a2-7c1e-7d2a-8b3c-4d5e6f708192", "4", "50"}));
        std::string why;
        QVERIFY2(testing::sqlUsesOnlyTemplates(q->sql, q->params.size(), &why), why.c_str());
    }

    void pageQueryAscWithoutCursor()
    {
        const auto ast = parse("");
        QVERIFY(ast.ok());
        QueryOptions o;
        o.fromNs = 0;
        o.toNs = 10;
        o.order = SortOrder::Asc;
        const auto q = buildQuery(*ast, o);
        QVERIFY(q.ok());
        QCOMPARE(QString::fromStdString(q->sql),
                 QStringLiteral("SELECT id, ts, received, level, app, host, message, attrs, "
                                "trace_id, span_id FROM logs WHERE ts >= $1::bigint AND ts "
                                "< $2::bigint AND TRUE ORDER BY ts ASC, id ASC LIMIT "
                                "$3::bigint"));
        QCOMPARE(q->params, (std::vector<std::string>{"0", "10", "100"}));
        o.cursor = Cursor{5, "0190f3a2-7c1e-7d2a-8b3c-4d5e6f708192"};
        const auto next = buildQuery(*ast, o);
        QVERIFY(next.ok());
        QVERIFY(next->sql.find("(ts, id) > ($3::bigint, $4::uuid)") != std::string::npos);
    }

    // A bounded look: the first lookRows rows of the range (after the cursor, ties on ts
    // included) in a subquery; the app scope and the filter on them. fullSort: an order no
    // index provides.
    void pageQueryBoundedLookAndFullSort()
    {
        const auto ast = parse("\"reset\"");
        QVERIFY(ast.ok());
        QueryOptions o;
        o.fromNs = 1000;
        o.toNs = 2000;
        o.limit = 101;
        o.cursor = Cursor{1500, "0190f3a2-7c1e-7d2a-8b3c-4d5e6f708192"};
        o.allowedApps = {"checkout"};
        o.lookRows = 50000;
        const auto q = buildQuery(*ast, o);
        QVERIFY(q.ok());
        QCOMPARE(QString::fromStdString(q->sql),
                 QStringLiteral("SELECT id, ts, received, level, app, host, message, attrs, "
                                "trace_id, span_id FROM (SELECT id, ts, received, level, app, "
                                "host, message, attrs, trace_id, span_id FROM logs WHERE ts >= "
                                "$1::bigint AND ts < $2::bigint AND (ts, id) < ($3::bigint, "
                                "$4::uuid) ORDER BY ts DESC FETCH FIRST ($5::bigint) ROWS WITH "
                                "TIES) look WHERE app = ANY($6::text[]) AND message COLLATE \"C\" "
                                "ILIKE $7 ESCAPE '!' ORDER BY ts DESC, id DESC LIMIT $8::bigint"));
        QCOMPARE(q->params, (std::vector<std::string>{
                                "1000", "2000", "1500", "0190f3a2-7c1e-7d2a-8b3c-4d5e6f708192",
                                "50000", "{\"checkout\"}", "%reset%", "101"}));
        std::string why;
        QVERIFY2(testing::sqlUsesOnlyTemplates(q->sql, q->params.size(), &why), why.c_str());

        o.lookRows = 0;
        o.cursor.reset();
        o.allowedApps.clear();
        o.order = SortOrder::Asc;
        o.fullSort = true;
        const auto full = buildQuery(*ast, o);
        QVERIFY(full.ok());
        QCOMPARE(QString::fromStdString(full->sql),
                 QStringLiteral("SELECT id, ts, received, level, app, host, message, attrs, "
                                "trace_id, span_id FROM logs WHERE ts >= $1::bigint AND ts < "
                                "$2::bigint AND message COLLATE \"C\" ILIKE $3 ESCAPE '!' "
                                "ORDER BY ts + 0 ASC, id ASC LIMIT $4::bigint"));
        QVERIFY2(testing::sqlUsesOnlyTemplates(full->sql, full->params.size(), &why), why.c_str());
        o.lookRows = -1;
        QCOMPARE(buildQuery(*ast, o).error().code, idl::ErrorCode::BadRequest);
    }

    void unestimatedTerms_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<bool>("unestimated");
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("app level host") << QStringLiteral("app:a* level:>=warn host:h") << false;
        QTest::newRow("trace") << QStringLiteral("trace_id:abc") << false;
        QTest::newRow("text") << QStringLiteral("app:a timeout") << true;
        QTest::newRow("regex") << QStringLiteral("~\"ti+me\"") << true;
        QTest::newRow("attribute") << QStringLiteral("@user.id:42") << true;
        QTest::newRow("in or") << QStringLiteral("level:error OR (app:a AND x)") << true;
        QTest::newRow("in not") << QStringLiteral("NOT @k:*") << true;
    }

    void unestimatedTerms()
    {
        QFETCH(QString, query);
        QFETCH(bool, unestimated);
        const auto ast = parse(query.toStdString());
        QVERIFY2(ast.ok(), ast ? "" : ast.error().message.c_str());
        QCOMPARE(hasUnestimatedTerm(*ast), unestimated);
    }

    void pageQueryRejectsBadOptions()
    {
        const auto ast = parse("x");
        QVERIFY(ast.ok());
        QueryOptions o;
        o.fromNs = 10;
        o.toNs = 10;
        QCOMPARE(buildQuery(*ast, o).error().code, idl::ErrorCode::BadRequest);
        o.toNs = 20;
        o.limit = 0;
        QCOMPARE(buildQuery(*ast, o).error().code, idl::ErrorCode::BadRequest);
        o.limit = 10;
        o.cursor = Cursor{15, "1' OR '1'='1"};
        QCOMPARE(buildQuery(*ast, o).error().code, idl::ErrorCode::BadRequest);
    }

    void rollupEligibility_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<bool>("rollups");
        QTest::newRow("empty") << QString() << true;
        QTest::newRow("app") << QStringLiteral("app:checkout") << true;
        QTest::newRow("app prefix") << QStringLiteral("app:check*") << true;
        QTest::newRow("level range") << QStringLiteral("level:>=warn -host:web-1") << true;
        QTest::newRow("or of both")
            << QStringLiteral("(app:a OR host:b) AND NOT level:debug") << true;
        QTest::newRow("word") << QStringLiteral("app:a timeout") << false;
        QTest::newRow("attr") << QStringLiteral("app:a @status:500") << false;
        QTest::newRow("trace") << QStringLiteral("trace_id:abc") << false;
        QTest::newRow("regex in or") << QStringLiteral("app:a OR /x/") << false;
    }

    void rollupEligibility()
    {
        QFETCH(QString, query);
        QFETCH(bool, rollups);
        const auto ast = parse(query.toStdString());
        QVERIFY(ast.ok());
        QCOMPARE(canUseRollups(*ast), rollups);
    }

    void aggregateFromRollups()
    {
        const auto ast = parse("app:checkout level:>=warn");
        QVERIFY(ast.ok());
        AggregateOptions o;
        o.fromNs = 60'000'000'000LL * 100;
        o.toNs = 60'000'000'000LL * 160;
        o.bucketNs = 60'000'000'000LL * 5;
        o.split = AggregateSplit::Level;
        const auto q = buildAggregate(*ast, o);
        QVERIFY(q.ok());
        QVERIFY(q->fromRollups);
        QCOMPARE(
            QString::fromStdString(q->sql),
            QStringLiteral("SELECT $1::bigint + ((bucket - $1::bigint) / $5::bigint) * "
                           "$5::bigint AS bucket, CASE level WHEN 0 THEN 'trace' WHEN 1 THEN "
                           "'debug' WHEN 2 THEN 'info' WHEN 3 THEN 'warn' WHEN 4 THEN 'error' "
                           "WHEN 5 THEN 'fatal' ELSE level::text END AS key, sum(count)::bigint "
                           "AS count FROM log_rollup_minute WHERE bucket >= $1::bigint AND "
                           "bucket < $2::bigint AND (app = $3 AND level >= $4::smallint) GROUP "
                           "BY 1, 2 ORDER BY 1, 2"));
        QCOMPARE(q->params, (std::vector<std::string>{"6000000000000", "9600000000000", "checkout",
                                                      "3", "300000000000"}));
        std::string why;
        QVERIFY2(testing::sqlUsesOnlyTemplates(q->sql, q->params.size(), &why), why.c_str());
    }

    void aggregateFromTenSecondRollups()
    {
        // The console's 30 s buckets (a 50-minute range): log_rollup_10s, app and level only.
        const auto ast = parse("app:checkout level:>=warn");
        QVERIFY(ast.ok());
        AggregateOptions o;
        o.fromNs = 10'000'000'000LL * 1003;
        o.toNs = 10'000'000'000LL * 1303;
        o.bucketNs = 30'000'000'000LL;
        const auto q = buildAggregate(*ast, o);
        QVERIFY(q.ok());
        QVERIFY(q->fromRollups);
        QCOMPARE(
            QString::fromStdString(q->sql),
            QStringLiteral("SELECT $1::bigint + ((bucket - $1::bigint) / $5::bigint) * "
                           "$5::bigint AS bucket, CASE level WHEN 0 THEN 'trace' WHEN 1 THEN "
                           "'debug' WHEN 2 THEN 'info' WHEN 3 THEN 'warn' WHEN 4 THEN 'error' "
                           "WHEN 5 THEN 'fatal' ELSE level::text END AS key, sum(count)::bigint "
                           "AS count FROM log_rollup_10s WHERE bucket >= $1::bigint AND "
                           "bucket < $2::bigint AND (app = $3 AND level >= $4::smallint) GROUP "
                           "BY 1, 2 ORDER BY 1, 2"));
        std::string why;
        QVERIFY2(testing::sqlUsesOnlyTemplates(q->sql, q->params.size(), &why), why.c_str());
        // Whole minutes still read the (smaller) minute rollups.
        o.fromNs = 60'000'000'000LL * 100;
        o.toNs = 60'000'000'000LL * 150;
        o.bucketNs = 60'000'000'000LL;
        const auto m = buildAggregate(*ast, o);
        QVERIFY(m.ok());
        QVERIFY(m->sql.find("log_rollup_minute") != std::string::npos);
    }

    void aggregateFromRawRows()
    {
        AggregateOptions o;
        o.fromNs = 60'000'000'000LL * 100;
        o.toNs = 60'000'000'000LL * 160;
        o.bucketNs = 60'000'000'000LL;
        o.split = AggregateSplit::App;
        o.allowedApps = {"a", "b"};
        // A message term needs raw rows.
        const auto words = parse("timeout");
        QVERIFY(words.ok());
        auto q = buildAggregate(*words, o);
        QVERIFY(q.ok());
        QVERIFY(!q->fromRollups);
        QCOMPARE(QString::fromStdString(q->sql),
                 QStringLiteral(
                     "SELECT $1::bigint + ((ts - $1::bigint) / $5::bigint) * $5::bigint "
                     "AS bucket, app AS key, count(*)::bigint AS count FROM logs WHERE "
                     "ts >= $1::bigint AND ts < $2::bigint AND app = ANY($3::text[]) AND "
                     "message COLLATE \"C\" ILIKE $4 ESCAPE '!' GROUP BY 1, 2 ORDER BY 1, 2"));
        QCOMPARE(q->params,
                 (std::vector<std::string>{"6000000000000", "9600000000000", "{\"a\",\"b\"}",
                                           "%timeout%", "60000000000"}));
        // Rollup-friendly filter, but a bucket that is not whole 10 s.
        const auto app = parse("app:a");
        QVERIFY(app.ok());
        o.bucketNs = 5'000'000'000LL;
        q = buildAggregate(*app, o);
        QVERIFY(q.ok());
        QVERIFY(!q->fromRollups);
        // A host term with a bucket that is not whole minutes: log_rollup_10s has no host.
        const auto host = parse("host:web-1");
        QVERIFY(host.ok());
        o.bucketNs = 30'000'000'000LL;
        q = buildAggregate(*host, o);
        QVERIFY(q.ok());
        QVERIFY(!q->fromRollups);
        // ... or a range that does not start on a minute.
        o.bucketNs = 60'000'000'000LL;
        o.fromNs += 1;
        q = buildAggregate(*app, o);
        QVERIFY(q.ok());
        QVERIFY(!q->fromRollups);
        o.fromNs -= 1;
        o.allowRollups = false;
        q = buildAggregate(*app, o);
        QVERIFY(q.ok());
        QVERIFY(!q->fromRollups);
    }

    void aggregateRejectsTooManyBuckets()
    {
        const auto ast = parse("");
        QVERIFY(ast.ok());
        AggregateOptions o;
        o.fromNs = 0;
        o.toNs = std::numeric_limits<std::int64_t>::max();
        o.bucketNs = 1;
        QCOMPARE(buildAggregate(*ast, o).error().code, idl::ErrorCode::TooMany);
        o.bucketNs = 0;
        QCOMPARE(buildAggregate(*ast, o).error().code, idl::ErrorCode::BadRequest);
        o.fromNs = std::numeric_limits<std::int64_t>::min();
        o.bucketNs = 1;
        QCOMPARE(buildAggregate(*ast, o).error().code, idl::ErrorCode::TooMany);
    }

    void topN()
    {
        const auto ast = parse("level:error");
        QVERIFY(ast.ok());
        TopNOptions o;
        o.fromNs = 0;
        o.toNs = 60'000'000'000LL * 60;
        o.limit = 5;
        auto q = buildTopN(TopNField::Host, *ast, o);
        QVERIFY(q.ok());
        QVERIFY(q->fromRollups);
        QCOMPARE(QString::fromStdString(q->sql),
                 QStringLiteral("SELECT host AS key, sum(count)::bigint AS count FROM "
                                "log_rollup_minute WHERE bucket >= $1::bigint AND bucket < "
                                "$2::bigint AND level = $3::smallint GROUP BY 1 ORDER BY 2 "
                                "DESC, 1 LIMIT $4::bigint"));
        QCOMPARE(q->params, (std::vector<std::string>{"0", "3600000000000", "4", "5"}));
        const auto words = parse("level:error \"disk full\"");
        QVERIFY(words.ok());
        q = buildTopN(TopNField::App, *words, o);
        QVERIFY(q.ok());
        QVERIFY(!q->fromRollups);
        QCOMPARE(
            QString::fromStdString(q->sql),
            QStringLiteral("SELECT app AS key, count(*)::bigint AS count FROM logs "
                           "WHERE ts >= $1::bigint AND ts < $2::bigint AND (level = "
                           "$3::smallint AND message COLLATE \"C\" ILIKE $4 ESCAPE '!') GROUP BY 1 "
                           "ORDER BY 2 DESC, 1 LIMIT $5::bigint"));
    }
};

QTEST_GUILESS_MAIN(TestQueryGolden)
#include "test_query_golden.moc"
