// Live-tail evaluator on a small set of events, plus the console helpers (tokenize,
// completion). Expected results are written out per query, and follow the SQL semantics.
#include "idl/query/evaluator.h"
#include "idl/query/lexer.h"
#include "idl/query/parser.h"

#include <QTest>

#include <string>
#include <vector>

using namespace idl::query;
using idl::Level;
using idl::LogEvent;

namespace {

LogEvent event(std::string id, Level level, std::string app, std::string host, std::string message,
               std::string attrs, std::string traceId = {})
{
    LogEvent e;
    e.id = std::move(id);
    e.level = level;
    e.app = std::move(app);
    e.host = std::move(host);
    e.message = std::move(message);
    e.attrsJson = std::move(attrs);
    e.traceId = std::move(traceId);
    return e;
}

const std::vector<LogEvent> &events()
{
    static const std::vector<LogEvent> all = {
        event("e1", Level::Error, "checkout", "web-1", "Payment TIMEOUT after 30s",
              R"({"status":504,"user":{"id":42,"name":"Ann"},"region":"eu-west-1"})", "abc123"),
        event("e2", Level::Info, "checkout", "web-2", "GET /api/cart 200",
              R"({"status":200,"user":{"id":"42"},"debug":true,"tags":["a","b"]})"),
        event("e3", Level::Warn, "checker", "web-1", "disk full on /var",
              R"({"status":"500","latency_ms":12.5})"),
        event("e4", Level::Debug, "noisy", "db-1", "SELECT 1 -- ping",
              R"({"region":"us-east-1","n":null})"),
        event("e5", Level::Fatal, "payments", "db-1", "Zahlung fehlgeschlagen: ÜBERWEISUNG",
              R"({"status":500.0,"big":18446744073709551615})"),
        event("e6", Level::Trace, "payments", "web-2", "line1\nline2 100% done_ok", "not json"),
    };
    return all;
}

std::string matching(const std::string &query)
{
    const auto ast = parse(query);
    if (!ast)
        return "error: " + ast.error().message;
    const auto matcher = Matcher::create(*ast);
    if (!matcher)
        return "error: " + matcher.error().message;
    std::string out;
    for (const LogEvent &e : events()) {
        const bool viaMatcher = matcher->matches(e);
        const bool oneOff = matches(*ast, e);
        if (viaMatcher != oneOff)
            return "matcher and matches() disagree on " + e.id;
        if (viaMatcher)
            out += (out.empty() ? "" : " ") + e.id;
    }
    return out;
}

} // namespace

class TestQueryEvaluator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void evaluate_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<QString>("expected");
        const auto row = [](const char *q, const char *ids) {
            QTest::newRow(q) << QString::fromUtf8(q) << QString::fromUtf8(ids);
        };
        row("", "e1 e2 e3 e4 e5 e6");
        row("level:error", "e1");
        row("level:>=warn", "e1 e3 e5");
        row("level:<info", "e4 e6");
        row("level:<=debug", "e4 e6");
        row("app:checkout", "e1 e2");
        row("app:check*", "e1 e2 e3");
        row("app:*ments", "e5 e6");
        row("app:c*e*t", "e1 e2");
        row("app:Checkout", "");
        row("app:*", "e1 e2 e3 e4 e5 e6");
        row("host:web-1", "e1 e3");
        row("-app:noisy", "e1 e2 e3 e5 e6");
        row("NOT app:noisy NOT app:payments", "e1 e2 e3");
        row("app:checkout OR host:db-1", "e1 e2 e4 e5");
        row("(app:checkout OR host:db-1) level:>=error", "e1 e5");
        row("timeout", "e1");
        row("TimeOut", "e1");
        row("\"disk full\"", "e3");
        row("message:\"disk full\"", "e3");
        row("überweisung", "e5");
        row("100%", "e6");
        row("done_ok", "e6");
        row("done%ok", "");
        row("/time.?out/", "e1");
        row("/^get \\/api/", "e2");
        row("/line1.line2/", "e6");
        row("/^line2/", "");
        row("@status:>=500", "e1 e5");
        row("@status:500", "e3 e5");
        row("@status:<300", "e2");
        row("@user.id:42", "e1 e2");
        row("@user.id:\"42\"", "e2");
        row("@user.name:Ann", "e1");
        row("@user.name:ann", "");
        row("@region:eu-*", "e1");
        row("@region:*", "e1 e4");
        row("@n:*", "e4");
        row("-@region:*", "e2 e3 e5 e6");
        row("@debug:true", "e2");
        row("@tags.1:b", "e2");
        row("@tags.-1:b", "e2");
        row("@latency_ms:>12", "e3");
        row("@latency_ms:12.5", "e3");
        row("@big:>1e19", "e5");
        row("-@status:>=500", "e2 e3 e4 e6");
        row("trace_id:abc123", "e1");
        row("-trace_id:*", "e2 e3 e4 e5 e6");
        row("NOT NOT app:noisy", "e4");
    }

    void evaluate()
    {
        QFETCH(QString, query);
        QFETCH(QString, expected);
        QCOMPARE(QString::fromStdString(matching(query.toStdString())), expected);
    }

    // Only the app known: false exactly when the app term alone rules the event out.
    void mayMatchApp_data()
    {
        QTest::addColumn<QString>("query");
        QTest::addColumn<QString>("app");
        QTest::addColumn<bool>("may");
        const auto row = [](const char *q, const char *app, bool may) {
            QTest::newRow((std::string(q) + " / " + app).c_str())
                << QString::fromUtf8(q) << QString::fromUtf8(app) << may;
        };
        row("", "noisy", true);
        row("app:checkout", "checkout", true);
        row("app:checkout", "noisy", false);
        row("app:check*", "checker", true);
        row("app:check*", "payments", false);
        row("app:checkout level:error", "noisy", false);
        row("app:checkout level:error", "checkout", true);
        row("-app:noisy", "noisy", false);
        row("-app:noisy", "checkout", true);
        row("NOT NOT app:noisy", "checkout", false);
        row("app:checkout OR host:db-1", "noisy", true);
        row("app:checkout OR app:payments", "noisy", false);
        row("(app:checkout OR app:payments) timeout", "payments", true);
        row("-(app:checkout level:error)", "checkout", true);
        row("-(app:checkout OR timeout)", "checkout", false);
        row("-(app:checkout OR timeout)", "noisy", true);
        row("timeout", "noisy", true);
        row("@status:>=500", "noisy", true);
        row("app:*", "", false);
    }

    void mayMatchApp()
    {
        QFETCH(QString, query);
        QFETCH(QString, app);
        QFETCH(bool, may);
        const auto ast = parse(query.toStdString());
        QVERIFY(ast.ok());
        const auto m = Matcher::create(*ast);
        QVERIFY(m.ok());
        QCOMPARE(m->mayMatchApp(app.toStdString()), may);
    }

    void matcherIsReusableAcrossEvents()
    {
        const auto ast = parse("@status:>=500 /timeout|full/");
        QVERIFY(ast.ok());
        const auto m = Matcher::create(*ast);
        QVERIFY(m.ok());
        const Matcher copy = *m;
        int n = 0;
        for (int round = 0; round < 1000; ++round) {
            for (const LogEvent &e : events())
                n += copy.matches(e) ? 1 : 0;
        }
        QCOMPARE(n, 1000); // only e1 (e3's status is the string "500")
    }

    void tokenizeKinds()
    {
        const std::string q = "level:>=warn -app:check* @user.id:42 \"a b\" /x/ OR (foo:1 \"open";
        const std::vector<Token> t = tokenize(q);
        std::vector<TokenKind> kinds;
        for (const Token &tok : t)
            kinds.push_back(tok.kind);
        const std::vector<TokenKind> expected = {
            TokenKind::Field,     TokenKind::Colon, TokenKind::Operator, TokenKind::Value,
            TokenKind::Minus,     TokenKind::Field, TokenKind::Colon,    TokenKind::Value,
            TokenKind::Attribute, TokenKind::Colon, TokenKind::Value,    TokenKind::Phrase,
            TokenKind::Regex,     TokenKind::Or,    TokenKind::LParen,   TokenKind::UnknownField,
            TokenKind::Colon,     TokenKind::Value, TokenKind::Error};
        QCOMPARE(kinds, expected);
        QCOMPARE(t[0].begin, std::size_t(0));
        QCOMPARE(t[0].end, std::size_t(5));
        QCOMPARE(t[8].begin, q.find('@'));
        QCOMPARE(t.back().end, q.size());
    }

    void completion()
    {
        const std::vector<std::string> apps = {"checkout", "checker", "payments"};
        const std::vector<std::string> hosts = {"web-1", "db-1"};
        auto c = completeAt("lev", 3, apps, hosts);
        QCOMPARE(c.candidates, (std::vector<std::string>{"level:"}));
        QCOMPARE(c.replaceBegin, std::size_t(0));
        QCOMPARE(c.replaceEnd, std::size_t(3));

        c = completeAt("app:che", 7, apps, hosts);
        QCOMPARE(c.candidates, (std::vector<std::string>{"checkout", "checker"}));
        QCOMPARE(c.replaceBegin, std::size_t(4));

        c = completeAt("level:>=w", 9, apps, hosts);
        QCOMPARE(c.candidates, (std::vector<std::string>{"warn"}));
        QCOMPARE(c.replaceBegin, std::size_t(8));

        c = completeAt("level:", 6, apps, hosts);
        QCOMPARE(c.candidates.size(), std::size_t(6));

        QCOMPARE(completions("x host:", 7, apps, hosts), hosts);
        QCOMPARE(completions("app:x o", 7, apps, hosts), (std::vector<std::string>{"OR"}));
        QCOMPARE(completions("\"lev", 4, apps, hosts), std::vector<std::string>{});
        QCOMPARE(completions("", 0, apps, hosts).size(), std::size_t(9));
        QCOMPARE(completions("app:x ", 6, apps, hosts).size(), std::size_t(9));
        QCOMPARE(completions("foo:", 4, apps, hosts), std::vector<std::string>{});
    }
};

QTEST_GUILESS_MAIN(TestQueryEvaluator)
#include "test_query_evaluator.moc"
