// Hostile input: injection attempts, broken syntax, huge and deeply nested queries, odd
// Unicode, NUL and invalid UTF-8, random bytes. Each either fails cleanly (a query error with
// a position inside the text) or compiles to SQL made only of the fixed templates. Also a
// fixed-seed random generator checks that parse -> print -> parse is stable.
#include "idl/query/lexer.h"
#include "idl/query/parser.h"
#include "idl/query/sql.h"

#include "sql_shape.h"

#include <QElapsedTimer>
#include <QTest>

#include <random>
#include <string>
#include <vector>

using namespace idl::query;
using namespace std::string_literals;

namespace {

// Parses, checks the error or the SQL, and (when it parses) the print round-trip.
// Returns an empty string when all is well, else what went wrong.
std::string check(const std::string &query, const ParseLimits &limits = {})
{
    const auto ast = parse(query, limits);
    if (!ast) {
        const idl::Error &e = ast.error();
        if (e.code != idl::ErrorCode::QuerySyntax && e.code != idl::ErrorCode::QueryTooComplex)
            return "unexpected error code " + std::string(e.codeName());
        if (e.position < 0 || static_cast<std::size_t>(e.position) > query.size())
            return "error position " + std::to_string(e.position) + " outside the text";
        if (e.message.empty())
            return "empty error message";
        return {};
    }
    const CompiledSql sql = compileWhere(*ast);
    std::string why;
    if (!testing::sqlUsesOnlyTemplates(sql.where, sql.params.size(), &why))
        return why;
    const std::string printed = toQueryString(*ast);
    const auto again = parse(printed, ParseLimits{1 << 20, 1000, 100000, 1 << 20, 1000});
    if (!again)
        return "printed form does not parse: " + printed + " (" + again.error().message + ")";
    if (toDebugString(*again) != toDebugString(*ast))
        return "round-trip changed the tree: " + toDebugString(*ast) + " vs " +
               toDebugString(*again);
    return {};
}

// Token ranges are ordered, inside the text, non-overlapping, and cover every byte that is
// not whitespace.
std::string checkTokens(const std::string &text)
{
    const std::vector<Token> tokens = tokenize(text);
    std::vector<bool> covered(text.size(), false);
    std::size_t last = 0;
    for (const Token &t : tokens) {
        if (t.begin < last || t.end <= t.begin || t.end > text.size())
            return "bad token range " + std::to_string(t.begin) + ".." + std::to_string(t.end);
        for (std::size_t i = t.begin; i < t.end; ++i)
            covered[i] = true;
        last = t.end;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool space =
            c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        if (!space && !covered[i])
            return "byte " + std::to_string(i) + " not covered by a token";
    }
    return {};
}

std::vector<std::string> hostileCorpus()
{
    std::vector<std::string> c = {
        "app:x' OR 1=1 --",
        "app:x' OR '1'='1",
        "app:\"x' OR 1=1 --\"",
        "@a'b:1",
        "@a'b:'c'",
        "@\"a'b\".\"c\\\"d\":>=1",
        "@\"}\",\"{\":x",
        "/.*'; DROP TABLE logs; --/",
        "message:/'); DELETE FROM logs; --/",
        "'; DROP TABLE logs; --",
        "level:error; DROP TABLE logs",
        "level:'error'",
        "$1",
        "app:$1",
        "@x:$$",
        "E'\\x00'",
        "app:%",
        "app:_",
        "app:!",
        "app:%_!*",
        "\"%\"",
        "message:\"\\\\\"",
        "app:\\",
        "app:\\\\",
        "@k:\\*",
        "/*comment*/",
        "-- comment",
        "app:x/*",
        "@status:>=500); DROP TABLE logs; --",
        "@status:>=1e99",
        "@status:>=1e999",
        "@status:>=99999999999999999999999999999999999999",
        "@status:>=0x10",
        "@status:>=NaN",
        "@status:>=Infinity",
        "\"unbalanced",
        "unbalanced\"",
        "((((a",
        "a))))",
        "(()",
        ")(",
        "\"\"\"",
        "\\\"",
        "/",
        "//",
        "/\\/",
        "@",
        "@.",
        "@\"",
        "@\"\":x",
        ":::",
        "a:b:c",
        "level::error",
        "app:a:b",
        "NOT NOT NOT",
        "AND OR NOT",
        "- - -",
        "-(",
        "-)",
        "\t\n\r\f\v",
        // Odd Unicode: RTL override, zero-width joiner, BOM, line separator, combining marks,
        // emoji, full-width colon, non-ASCII spaces, a non-character.
        "app:\u202Eevil\u202C",
        "\u200Dzwj\u200D",
        "\uFEFFapp:x",
        "a\u2028b",
        "e\u0301\u0301\u0301",
        "\U0001F4A9 app:\U0001F4A9*",
        "app\uFF1Ax",
        "\u00A0app:x\u3000",
        "@\u00FCber.\u540D\u524D:\u503C",
        "\xEF\xBF\xBF",
        "/\u00E9+/",
        // NUL bytes
        "app:x\0' OR 1=1"s,
        "\0"s,
        "\"a\0b\""s,
        "/a\0/"s,
        "@a\0b:1"s,
        // Invalid UTF-8: stray continuation, overlong '/', surrogate, truncated, > U+10FFFF,
        // 0xFF.
        "\x80",
        "app:\xC0\xAF",
        "\xED\xA0\x80",
        "\xE2\x82",
        "\xF4\x90\x80\x80",
        "\xFF\xFE",
        "\"\xC3\"",
        "/\xC3/",
        "@\xC3:1",
    };
    c.push_back(std::string(100'000, 'a'));
    c.push_back(std::string(100'000, '('));
    c.push_back(std::string(10'000, '(') + "a" + std::string(10'000, ')'));
    c.push_back(std::string(4096, 'x'));
    c.push_back(std::string(4097, 'x'));
    std::string manyNots;
    for (int i = 0; i < 2000; ++i)
        manyNots += "NOT ";
    c.push_back(manyNots + "x");
    std::string manyMinus(1000, '-');
    c.push_back(manyMinus + "x");
    std::string manyTerms;
    for (int i = 0; i < 100; ++i)
        manyTerms += "a ";
    c.push_back(manyTerms);
    c.push_back("/" + std::string(600, 'a') + "/");
    c.push_back("/(a*)*(b+)+(c?)?" + std::string(200, '.') + "/");
    c.push_back("/" + std::string(3000, '(') + std::string(3000, ')') + "/");
    std::string longPath = "@a";
    for (int i = 0; i < 40; ++i)
        longPath += ".b";
    c.push_back(longPath + ":1");
    return c;
}

} // namespace

class TestQueryHostile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void corpus()
    {
        for (const std::string &q : hostileCorpus()) {
            const std::string label = q.size() > 60 ? q.substr(0, 60) + "..." : q;
            const std::string problem = check(q);
            QVERIFY2(problem.empty(), (label + ": " + problem).c_str());
            const std::string tokens = checkTokens(q);
            QVERIFY2(tokens.empty(), (label + ": " + tokens).c_str());
            // Completion never crashes anywhere in the text.
            for (std::size_t cur = 0; cur <= std::min<std::size_t>(q.size(), 200); ++cur)
                (void)completions(q, cur, {"checkout"}, {"web-1"});
        }
    }

    void injectionPayloadsBecomeParameters()
    {
        const auto ast = parse("app:x' OR 1=1 --");
        QVERIFY(ast.ok());
        const CompiledSql sql = compileWhere(*ast);
        // OR binds looser than the implicit AND: app:x' OR (1=1 AND --).
        QCOMPARE(
            sql.where,
            "(app = $1 OR (message COLLATE \"C\" ILIKE $2 ESCAPE '!' AND message COLLATE \"C\" "
            "ILIKE $3 ESCAPE '!'))"s);
        QCOMPARE(sql.params, (std::vector<std::string>{"x'", "%1=1%", "%--%"}));

        const auto regex = parse("/.*'; DROP TABLE logs; --/");
        QVERIFY(regex.ok());
        const CompiledSql r = compileWhere(*regex);
        QCOMPARE(r.where, "message COLLATE idl_fold ~* $1"s);
        QCOMPARE(r.params, (std::vector<std::string>{".*'; DROP TABLE logs; --"}));

        const auto attr = parse("@a'b:1");
        QVERIFY(attr.ok());
        const CompiledSql a = compileWhere(*attr);
        QCOMPARE(a.params.front(), "{\"a'b\"}"s);
    }

    void limitsAreReportedAsTooComplex()
    {
        auto e = parse(std::string(4097, 'x'));
        QCOMPARE(e.error().code, idl::ErrorCode::QueryTooComplex);
        QCOMPARE(e.error().position, 4096LL);

        std::string deep = std::string(33, '(') + "a" + std::string(33, ')');
        e = parse(deep);
        QCOMPARE(e.error().code, idl::ErrorCode::QueryTooComplex);
        QCOMPARE(e.error().position, 32LL);
        QVERIFY(parse(std::string(32, '(') + "a" + std::string(32, ')')).ok());

        std::string terms;
        for (int i = 0; i < 65; ++i)
            terms += "t" + std::to_string(i) + " ";
        e = parse(terms);
        QCOMPARE(e.error().code, idl::ErrorCode::QueryTooComplex);
        QCOMPARE(e.error().position, static_cast<long long>(terms.find("t64")));

        e = parse("/" + std::string(513, 'a') + "/");
        QCOMPARE(e.error().code, idl::ErrorCode::QueryTooComplex);
    }

    void deepNestingWithRaisedLengthLimitDoesNotRecurse()
    {
        // 10k nested parentheses and 10k NOTs under a 1 MiB length limit: the depth limit
        // stops them, without deep recursion.
        const ParseLimits big{1 << 20, 32, 64, 512, 16};
        const std::string parens = std::string(10'000, '(') + "a" + std::string(10'000, ')');
        auto e = parse(parens, big);
        QCOMPARE(e.error().code, idl::ErrorCode::QueryTooComplex);
        std::string nots;
        for (int i = 0; i < 10'000; ++i)
            nots += "NOT ";
        e = parse(nots + "a", big);
        QCOMPARE(e.error().code, idl::ErrorCode::QueryTooComplex);
        std::string minus;
        for (int i = 0; i < 10'000; ++i)
            minus += "-(";
        e = parse(minus + "a" + std::string(10'000, ')'), big);
        QCOMPARE(e.error().code, idl::ErrorCode::QueryTooComplex);
    }

    void linearTime()
    {
        // A 1 MiB query of quotes, escapes, parens and colons parses (or fails) quickly.
        const ParseLimits big{1 << 20, 1 << 20, 1 << 20, 1 << 20, 16};
        std::string q;
        while (q.size() < (1 << 20) - 16)
            q += "\"a\\\"b\" (x OR y) @k:v* ";
        QElapsedTimer timer;
        timer.start();
        (void)parse(q, big);
        (void)tokenize(q);
        QVERIFY2(timer.elapsed() < 5000, std::to_string(timer.elapsed()).c_str());
    }

    void invalidUtf8AndNulArePositioned()
    {
        auto e = parse("app:ok \xFF");
        QCOMPARE(e.error().code, idl::ErrorCode::QuerySyntax);
        QCOMPARE(e.error().position, 7LL);
        e = parse("abc\0def"s);
        QCOMPARE(e.error().code, idl::ErrorCode::QuerySyntax);
        QCOMPARE(e.error().position, 3LL);
        const std::vector<Token> t = tokenize("ab \xC0\xAF cd");
        QCOMPARE(t.size(), std::size_t(4));
        QCOMPARE(t[1].kind, TokenKind::Error);
        QCOMPARE(t[1].begin, std::size_t(3));
    }

    void randomBytes()
    {
        std::mt19937 rng(1234567);
        const std::string alphabet = "aZ09 :*()\"\\/@.-><=!%_'$\t\n\xC3\xA9\xFF\0ANDORNOT"s;
        std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
        std::uniform_int_distribution<int> len(0, 40);
        for (int i = 0; i < 20'000; ++i) {
            std::string q;
            const int n = len(rng);
            for (int j = 0; j < n; ++j)
                q += alphabet[pick(rng)];
            const std::string problem = check(q);
            QVERIFY2(problem.empty(), (q + ": " + problem).c_str());
            const std::string tokens = checkTokens(q);
            QVERIFY2(tokens.empty(), (q + ": " + tokens).c_str());
        }
    }

    // Builds random well-formed trees with awkward values, prints them, and checks that
    // parsing the text gives the same tree and printing is a fixed point.
    void randomTreesRoundTrip()
    {
        std::mt19937 rng(20261127);
        int checked = 0;
        for (int i = 0; i < 3000; ++i) {
            const Node tree = randomTree(rng, 0);
            const std::string text = toQueryString(tree);
            const auto parsed = parse(text, ParseLimits{1 << 16, 64, 1000, 4096, 16});
            if (!parsed)
                QFAIL((text + " -> " + parsed.error().message).c_str());
            QVERIFY2(toDebugString(*parsed) == toDebugString(tree),
                     (text + "\n  parsed: " + toDebugString(*parsed) +
                      "\n  built:  " + toDebugString(tree))
                         .c_str());
            QVERIFY2(toQueryString(*parsed) == text,
                     (text + " vs " + toQueryString(*parsed)).c_str());
            const CompiledSql sql = compileWhere(*parsed);
            std::string why;
            QVERIFY2(testing::sqlUsesOnlyTemplates(sql.where, sql.params.size(), &why),
                     why.c_str());
            ++checked;
        }
        QCOMPARE(checked, 3000);
    }

    // Random query text from grammar fragments: whatever parses must round-trip.
    void randomTextRoundTrip()
    {
        std::mt19937 rng(42);
        const std::vector<std::string> pieces = {"app:checkout",
                                                 "app:check*",
                                                 "host:web-1",
                                                 "level:>=warn",
                                                 "level:error",
                                                 "@status:>=500",
                                                 "@user.id:42",
                                                 "@k:*",
                                                 "\"disk full\"",
                                                 "timeout",
                                                 "/time.?out/",
                                                 "message:\"x y\"",
                                                 "trace_id:abc",
                                                 "AND",
                                                 "OR",
                                                 "NOT",
                                                 "-",
                                                 "(",
                                                 ")",
                                                 "@a.b:\"q\"",
                                                 "app:\"we ird\"",
                                                 "\\(",
                                                 "x\\:y",
                                                 "@\"a b\".c:<=-1.5"};
        std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
        std::uniform_int_distribution<int> len(1, 12);
        int ok = 0;
        for (int i = 0; i < 20'000; ++i) {
            std::string q;
            const int n = len(rng);
            for (int j = 0; j < n; ++j) {
                const std::string &p = pieces[pick(rng)];
                q += p;
                if (p != "-" || rng() % 2)
                    q += ' ';
            }
            const std::string problem = check(q);
            QVERIFY2(problem.empty(), (q + ": " + problem).c_str());
            ok += parse(q).ok() ? 1 : 0;
        }
        // The generator must produce mostly valid queries or the test proves little.
        QVERIFY2(ok > 5000, std::to_string(ok).c_str());
    }

private:
    static std::string randomText(std::mt19937 &rng, bool allowEmpty)
    {
        static const std::vector<std::string> atoms = {"a",        "Z",
                                                       "0",        " ",
                                                       "\t",       "(",
                                                       ")",        "\"",
                                                       "\\",       ":",
                                                       ".",        "@",
                                                       "/",        "-",
                                                       ">",        "<",
                                                       "=",        "%",
                                                       "_",        "!",
                                                       "'",        "AND",
                                                       "OR",       "NOT",
                                                       "\xC3\xA9", "\xF0\x9F\x92\xA9",
                                                       "*"};
        std::uniform_int_distribution<std::size_t> pick(0, atoms.size() - 1);
        const int n = static_cast<int>(rng() % 5) + (allowEmpty ? 0 : 1);
        std::string s;
        for (int i = 0; i < n; ++i)
            s += atoms[pick(rng)];
        return s;
    }

    static Pattern randomPattern(std::mt19937 &rng, bool exactOnly)
    {
        if (exactOnly || rng() % 2)
            return Pattern::exact(randomText(rng, true));
        Pattern p;
        p.segments.clear();
        const int n = static_cast<int>(rng() % 3) + 2;
        for (int i = 0; i < n; ++i) {
            const bool edge = i == 0 || i == n - 1;
            std::string seg = randomText(rng, edge);
            // '*' inside a glob segment cannot be written (it is the wildcard).
            std::erase(seg, '*');
            if (seg.empty() && !edge)
                seg = "m";
            p.segments.push_back(seg);
        }
        if (p.isAnyValue())
            p.segments.front() = "x";
        return p;
    }

    static Node randomTree(std::mt19937 &rng, int depth)
    {
        const int kind = static_cast<int>(rng() % (depth >= 3 ? 5 : 8));
        static const std::vector<std::string> regexes = {
            "a/b", "x+", "^GET /api", "[a-z]{2,3}", "(?:ab)|cd", "\\d\\.\\d", "é+"};
        switch (kind) {
        case 0:
            return Node{
                LevelTerm{static_cast<CompareOp>(rng() % 5), static_cast<idl::Level>(rng() % 6)},
                0};
        case 1:
            return Node{FieldTerm{static_cast<TextField>(rng() % 4), randomPattern(rng, false)}, 0};
        case 2: {
            std::string text = randomText(rng, false);
            return Node{MessageTerm{text}, 0};
        }
        case 3:
            return Node{RegexTerm{regexes[rng() % regexes.size()]}, 0};
        case 4: {
            AttrTerm t;
            const int n = static_cast<int>(rng() % 3) + 1;
            for (int i = 0; i < n; ++i)
                t.path.push_back(randomText(rng, false));
            t.kind = static_cast<AttrTerm::Kind>(rng() % 3);
            if (t.kind == AttrTerm::Kind::Text) {
                t.text = randomPattern(rng, false);
            } else if (t.kind == AttrTerm::Kind::Number) {
                static const std::vector<std::string> numbers = {"0",   "-1",       "42",
                                                                 "1.5", "-2.25e10", "7E-3"};
                t.op = static_cast<CompareOp>(rng() % 5);
                t.number = numbers[rng() % numbers.size()];
            }
            return Node{t, 0};
        }
        case 5: {
            Not n;
            n.operand.push_back(randomTree(rng, depth + 1));
            return Node{std::move(n), 0};
        }
        default: {
            const bool isAnd = kind == 6;
            std::vector<Node> children;
            const int n = static_cast<int>(rng() % 3) + 2;
            while (static_cast<int>(children.size()) < n) {
                Node c = randomTree(rng, depth + 1);
                // The parser flattens a group directly inside the same kind of group.
                if ((isAnd && std::holds_alternative<And>(c.value)) ||
                    (!isAnd && std::holds_alternative<Or>(c.value)))
                    continue;
                children.push_back(std::move(c));
            }
            if (isAnd)
                return Node{And{std::move(children)}, 0};
            return Node{Or{std::move(children)}, 0};
        }
        }
    }
};

QTEST_GUILESS_MAIN(TestQueryHostile)
#include "test_query_hostile.moc"
