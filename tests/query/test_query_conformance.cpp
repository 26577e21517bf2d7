// Query language conformance, evaluator side: every case of conformance/cases.txt through the
// live tail's Matcher (and the one-off matches(), which must agree) over the fixture events.
// test_query_conformance_pg runs the same cases through PostgreSQL with the gateway's SQL.
#include "idl/query/evaluator.h"
#include "idl/query/parser.h"

#include "query_cases.h"

#include <QDir>
#include <QTest>

#include <set>
#include <string>
#include <vector>

using namespace idl::query;
using idl::LogEvent;
using testing::CaseBlock;
using testing::Outcome;

namespace {

QString casesPath()
{
    return QStringLiteral(IDL_QUERY_CONFORMANCE_DIR "/cases.txt");
}

Outcome evaluate(const std::string &query, const std::vector<LogEvent> &events,
                 std::string *disagreement)
{
    const auto ast = parse(query);
    if (!ast)
        return Outcome{true, std::string(ast.error().codeName())};
    const auto matcher = Matcher::create(*ast);
    if (!matcher)
        return Outcome{true, std::string(matcher.error().codeName())};
    std::vector<bool> matched;
    for (const LogEvent &e : events) {
        const bool viaMatcher = matcher->matches(e);
        if (viaMatcher != matches(*ast, e))
            *disagreement = "Matcher and matches() disagree on " + e.id;
        // The live tail skips undecoded events by app: that must never skip a match.
        if (viaMatcher && !matcher->mayMatchApp(e.app))
            *disagreement = "mayMatchApp(" + e.app + ") is false for the match " + e.id;
        matched.push_back(viaMatcher);
    }
    return Outcome{false, testing::idList(events, matched)};
}

} // namespace

class TestQueryConformance : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void evaluatorMatchesEveryCase()
    {
        QString error;
        const std::vector<LogEvent> events = testing::readEventFixture(
            QStringLiteral(IDL_QUERY_CONFORMANCE_DIR "/events.txt"), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(events.size() >= 10);
        std::vector<CaseBlock> cases = testing::readCaseFile(casesPath(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(cases.size() >= 100);

        const bool update = qEnvironmentVariableIsSet("IDL_UPDATE_CONFORMANCE");
        int failures = 0;
        std::set<std::string> seen;
        for (CaseBlock &c : cases) {
            QVERIFY2(seen.insert(c.query).second, ("duplicate case: " + c.query).c_str());
            std::string disagreement;
            const Outcome actual = evaluate(c.query, events, &disagreement);
            QVERIFY2(disagreement.empty(), (c.query + ": " + disagreement).c_str());
            if (update) {
                c.expected = {actual.line()};
                continue;
            }
            Outcome expected;
            QVERIFY2(testing::parseOutcome(c.expected, &expected),
                     qPrintable(casesPath() + QStringLiteral(":") + QString::number(c.line) +
                                QStringLiteral(": expected one match: or error: line")));
            if (actual != expected) {
                ++failures;
                qWarning("cases.txt:%d: query: %s\n  expected: %s\n  evaluator: %s", c.line,
                         c.query.c_str(), expected.line().c_str(), actual.line().c_str());
            }
        }
        if (update) {
            QVERIFY(testing::writeCaseFile(casesPath(), cases));
            QSKIP(
                "cases.txt rewritten from the evaluator: review the diff, run the PostgreSQL side");
        }
        QCOMPARE(failures, 0);
    }

    // The goldens pin the SQL text; the conformance cases pin what it means. Every golden
    // query must have a meaning here too.
    void everyGoldenQueryIsACase()
    {
        QString error;
        const std::vector<CaseBlock> cases = testing::readCaseFile(casesPath(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        std::set<std::string> queries;
        for (const CaseBlock &c : cases)
            queries.insert(c.query);
        const QDir dir(QStringLiteral(IDL_QUERY_GOLDEN_DIR));
        const QStringList files = dir.entryList({QStringLiteral("*.txt")}, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 3);
        int golden = 0;
        for (const QString &f : files) {
            const std::vector<CaseBlock> goldenCases =
                testing::readCaseFile(dir.filePath(f), &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            for (const CaseBlock &g : goldenCases) {
                ++golden;
                QVERIFY2(queries.count(g.query) == 1,
                         qPrintable(f + QStringLiteral(": query not in conformance/cases.txt: ") +
                                    QString::fromStdString(g.query)));
            }
        }
        QVERIFY(golden >= 90);
    }
};

QTEST_GUILESS_MAIN(TestQueryConformance)
#include "test_query_conformance.moc"
