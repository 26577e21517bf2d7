#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace idl {

// Length (1..4) of the well-formed UTF-8 sequence starting at text[pos], or 0 when the bytes
// there are not valid UTF-8 (RFC 3629: overlong forms, UTF-16 surrogates and code points
// above U+10FFFF are invalid, as PostgreSQL also judges them) or pos is past the end.
std::size_t utf8SequenceLength(std::string_view text, std::size_t pos) noexcept;

// Offset of the first byte that is not part of a valid UTF-8 sequence, or
// std::string_view::npos when the whole text is valid.
std::size_t findInvalidUtf8(std::string_view text) noexcept;

// The text with each broken sequence (an invalid byte and the continuation bytes after it)
// replaced by one U+FFFD (the replacement character).
std::string replaceInvalidUtf8(std::string_view text);

} // namespace idl
