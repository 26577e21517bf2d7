#pragma once

#include "idl/core/error.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <re2/re2.h>

namespace idl::query::detail {

// Checks a /regex/ pattern before it reaches PostgreSQL (~*) or the live-tail engine (RE2):
// length cap, only constructs both engines read the same way, and RE2 must compile it.
// position is the pattern's offset in the query (for the error).
std::optional<Error> checkRegex(std::string_view pattern, std::size_t position,
                                std::size_t maxBytes);

// The pattern as PostgreSQL must read it to match like RE2: the classes \d \w \s (and
// negations) and [:name:] spelled out in ASCII, since PostgreSQL's classes follow the
// collation. Expects a pattern checkRegex accepted.
std::string postgresPattern(std::string_view pattern);

// True when text has only ASCII characters: such a message needle folds ASCII letters only
// (COLLATE "C" in SQL), any other folds with Unicode lower-casing (idl_fold), in both engines.
bool isAscii(std::string_view text) noexcept;

// Options the live-tail engine uses so it matches like PostgreSQL's ~*: case-insensitive,
// '.' matches newline, ^ and $ anchor at the whole text.
RE2::Options regexOptions();

} // namespace idl::query::detail
