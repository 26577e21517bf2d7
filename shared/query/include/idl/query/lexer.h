#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace idl::query {

// What a token is, for highlighting.
enum class TokenKind {
    Word,         // bare word matched against the message
    Phrase,       // "quoted phrase" (alone, or as a field value)
    Regex,        // /regex/
    Field,        // known field name before ':' (level, app, host, message, trace_id, span_id)
    UnknownField, // a name before ':' that is not a field (a parse error)
    Attribute,    // @path before ':'
    Colon,        // the ':' after a field or attribute
    Operator,     // >=, >, <, <= after the colon
    Value,        // bare value after the colon (may contain '*')
    And,          // AND
    Or,           // OR
    Not,          // NOT
    Minus,        // '-' negation prefix
    LParen,       // (
    RParen,       // )
    Error,        // unterminated quote or regex, stray ':', NUL, invalid UTF-8
};

// A token's kind and its byte range [begin, end) in the text.
struct Token
{
    TokenKind kind = TokenKind::Error;
    std::size_t begin = 0;
    std::size_t end = 0;
    bool operator==(const Token &) const = default;
};

// Splits text into tokens for highlighting. Never fails: bad input yields Error tokens, and
// every non-whitespace byte is covered by exactly one token. Linear time.
std::vector<Token> tokenize(std::string_view text);

// Candidates for the token being typed at cursorPos (a byte offset), and the byte range
// [replaceBegin, replaceEnd) that a chosen candidate replaces.
struct CompletionResult
{
    std::size_t replaceBegin = 0;
    std::size_t replaceEnd = 0;
    std::vector<std::string> candidates;
};

// Completes field names ("level:", "app:", ...), keywords, level names after "level:", known
// apps after "app:" and known hosts after "host:". Prefix match is case-insensitive.
CompletionResult completeAt(std::string_view text, std::size_t cursorPos,
                            const std::vector<std::string> &knownApps,
                            const std::vector<std::string> &knownHosts);

// Just the candidate strings of completeAt().
std::vector<std::string> completions(std::string_view text, std::size_t cursorPos,
                                     const std::vector<std::string> &knownApps,
                                     const std::vector<std::string> &knownHosts);

} // namespace idl::query
