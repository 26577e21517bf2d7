#pragma once

// Checks that generated SQL consists only of the compiler's fixed vocabulary: known
// identifiers and keywords, $n placeholders, fixed string literals and operator characters.
// Any user-provided text that leaked into the SQL would show up as an unknown word, a
// foreign string literal or a stray character.

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <string_view>

namespace idl::query::testing {

inline bool sqlUsesOnlyTemplates(std::string_view sql, std::size_t paramCount, std::string *why)
{
    static const std::set<std::string, std::less<>> words{"select",
                                                          "id",
                                                          "ts",
                                                          "received",
                                                          "level",
                                                          "app",
                                                          "host",
                                                          "message",
                                                          "attrs",
                                                          "trace_id",
                                                          "span_id",
                                                          "from",
                                                          "logs",
                                                          "where",
                                                          "and",
                                                          "or",
                                                          "is",
                                                          "not",
                                                          "true",
                                                          "false",
                                                          "null",
                                                          "like",
                                                          "ilike",
                                                          "escape",
                                                          "in",
                                                          "case",
                                                          "when",
                                                          "then",
                                                          "else",
                                                          "end",
                                                          "jsonb_typeof",
                                                          "numeric",
                                                          "text",
                                                          "smallint",
                                                          "bigint",
                                                          "uuid",
                                                          "any",
                                                          "order",
                                                          "by",
                                                          "desc",
                                                          "asc",
                                                          "limit",
                                                          "group",
                                                          "as",
                                                          "key",
                                                          "count",
                                                          "sum",
                                                          "bucket",
                                                          "log_rollup_minute",
                                                          "collate",
                                                          "idl_fold",
                                                          "log_rollup_10s",
                                                          "fetch",
                                                          "first",
                                                          "rows",
                                                          "with",
                                                          "ties",
                                                          "look"};
    static const std::set<std::string, std::less<>> quotedIdentifiers{"C"};
    static const std::set<std::string, std::less<>> literals{
        "!", "string", "boolean", "number", "", "trace", "debug", "info", "warn", "error", "fatal"};
    const std::string_view punctuation = "()=<>#:[]~*,+-/";
    std::set<long> placeholders;
    std::size_t i = 0;
    const auto fail = [&](std::string message) {
        if (why)
            *why = message + " at " + std::to_string(i) + " in: " + std::string(sql);
        return false;
    };
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == ' ') {
            ++i;
        } else if (c == '$') {
            std::size_t j = i + 1;
            long n = 0;
            while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9')
                n = n * 10 + (sql[j++] - '0');
            if (j == i + 1)
                return fail("bare '$'");
            placeholders.insert(n);
            i = j;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
            std::size_t j = i;
            std::string word;
            // Digits continue a word, as in SQL identifiers (log_rollup_10s).
            while (j < sql.size() &&
                   ((sql[j] >= 'a' && sql[j] <= 'z') || (sql[j] >= 'A' && sql[j] <= 'Z') ||
                    sql[j] == '_' || (sql[j] >= '0' && sql[j] <= '9'))) {
                char w = sql[j++];
                word += (w >= 'A' && w <= 'Z') ? static_cast<char>(w - 'A' + 'a') : w;
            }
            if (!words.count(word))
                return fail("unknown word '" + word + "'");
            i = j;
        } else if (c >= '0' && c <= '9') {
            // Only small constants of the templates (CASE level WHEN 0 ..., GROUP BY 1, 2).
            std::size_t j = i;
            while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9')
                ++j;
            if (j - i > 1)
                return fail("unexpected number");
            i = j;
        } else if (c == '\'') {
            const std::size_t close = sql.find('\'', i + 1);
            if (close == std::string_view::npos)
                return fail("unterminated literal");
            if (!literals.count(sql.substr(i + 1, close - i - 1)))
                return fail("unknown literal");
            i = close + 1;
        } else if (c == '"') {
            const std::size_t close = sql.find('"', i + 1);
            if (close == std::string_view::npos)
                return fail("unterminated identifier");
            if (!quotedIdentifiers.count(sql.substr(i + 1, close - i - 1)))
                return fail("unknown quoted identifier");
            i = close + 1;
        } else if (punctuation.find(c) != std::string_view::npos) {
            // "--" would start a comment, "/*" a block comment.
            if ((c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') ||
                (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*'))
                return fail("comment");
            ++i;
        } else {
            return fail(std::string("unexpected character '") + c + "'");
        }
    }
    if (!placeholders.empty() && (*placeholders.begin() < 1 ||
                                  static_cast<std::size_t>(*placeholders.rbegin()) != paramCount ||
                                  placeholders.size() != paramCount))
        return fail("placeholders do not match the parameters");
    if (placeholders.empty() && paramCount != 0)
        return fail("parameters without placeholders");
    return true;
}

} // namespace idl::query::testing
