#pragma once

#include "idl/core/result.h"
#include "idl/query/ast.h"

#include <cstddef>
#include <string_view>

namespace idl::query {

// Complexity limits. Going over one fails with ErrorCode::QueryTooComplex.
struct ParseLimits
{
    std::size_t maxBytes = 4096;      // query text length
    int maxDepth = 32;                // nesting of parentheses and NOT / '-'
    int maxTerms = 64;                // leaf terms (field:value, words, phrases, regexes)
    std::size_t maxRegexBytes = 512;  // one /regex/ pattern
    std::size_t maxPathSegments = 16; // keys in one @a.b.c attribute path
};

// Parses query text into a tree. Errors carry ErrorCode::QuerySyntax (or QueryTooComplex),
// a byte position into text and a message that names what was expected. Linear in the
// length of the text; never recurses deeper than the depth limit.
Result<Node> parse(std::string_view text, const ParseLimits &limits = {});

} // namespace idl::query
