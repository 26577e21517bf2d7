// libFuzzer entry point for the query language (shared/query): any text parses to a tree or a
// QuerySyntax/QueryTooComplex error with a position inside the text. A tree compiles to SQL
// made only of the compiler's templates (user text only in parameters), prints to query text
// that parses back to the same tree, and prepares a live-tail matcher that agrees with the
// one-off evaluator on sample events.
#undef QT_NO_CAST_FROM_ASCII
#include "fuzz_check.h"
#include "idl/query/evaluator.h"
#include "idl/query/parser.h"
#include "idl/query/sql.h"
#include "sql_shape.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace {

// Two events of the conformance fixture (tests/query/conformance/events.txt).
const idl::query::EventView kEvents[] = {
    {idl::Level::Error, "checkout", "web-1", "Payment TIMEOUT after 30s",
     R"({"status":504,"user":{"id":42,"name":"Ann"},"region":"eu-west-1","latency_ms":30000})",
     "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
    {idl::Level::Info, "billing", "db-2", "user logged in: ann@example.com",
     R"({"tags":["a","b"],"ok":true,"n":-1.5e3,"path.with.dot":"x"})", "", ""},
};

} // namespace

using idl::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace idl::query;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const auto ast = parse(text);
    if (!ast.ok()) {
        const idl::Error &e = ast.error();
        require(e.code == idl::ErrorCode::QuerySyntax || e.code == idl::ErrorCode::QueryTooComplex,
                "query_syntax or query_too_complex");
        require(e.position >= 0 && static_cast<std::size_t>(e.position) <= text.size(),
                "the error position is inside the text");
        require(!e.message.empty(), "an error has a message");
        return 0;
    }
    const CompiledSql sql = compileWhere(*ast);
    require(testing::sqlUsesOnlyTemplates(sql.where, sql.params.size(), nullptr),
            "the SQL holds only the compiler's templates");

    const std::string printed = toQueryString(*ast);
    const auto again = parse(printed, ParseLimits{1 << 20, 1000, 100000, 1 << 20, 1000});
    require(again.ok() && toDebugString(*again) == toDebugString(*ast),
            "the printed query parses back to the same tree");

    // A regex the dialect check let through may still exceed RE2's program size: the tail
    // then refuses the query with QuerySyntax (the gateway's reply), it never crashes.
    const auto matcher = Matcher::create(*ast);
    if (!matcher.ok()) {
        require(matcher.error().code == idl::ErrorCode::QuerySyntax,
                "a matcher error is query_syntax");
        return 0;
    }
    for (const EventView &event : kEvents)
        require(matcher->matches(event) == matches(*ast, event),
                "the live-tail matcher agrees with the one-off evaluator");
    return 0;
}
