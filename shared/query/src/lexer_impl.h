#pragma once

#include "idl/query/lexer.h"

#include <string>
#include <string_view>
#include <vector>

namespace idl::query::detail {

// A token with its decoded content, shared by tokenize() and the parser.
struct LexToken
{
    TokenKind kind = TokenKind::Error;
    std::size_t begin = 0;
    std::size_t end = 0;
    // Word, Phrase: unescaped text. Regex: the pattern ("\/" turned into "/"). Field: the
    // lower-case name. UnknownField: the name as written. Operator: ">=" etc. Error: message.
    std::string text;
    std::vector<std::string> segments; // Value: split at unescaped '*' (size 1: no wildcard)
    std::vector<std::string> path;     // Attribute: the keys
    std::size_t errorAt = 0;           // Error: the byte the message is about
};

bool isQuerySpace(char c) noexcept;

// Splits text into tokens (see tokenize()); invalid input yields Error tokens.
std::vector<LexToken> lex(std::string_view text);

// Canonical field name for a name written before ':' (any case, aliases), or empty.
std::string canonicalFieldName(std::string_view name);

} // namespace idl::query::detail
