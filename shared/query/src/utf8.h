#pragma once

#include <cstddef>
#include <string_view>

namespace idl::query::detail {

// Length (1..4) of the well-formed UTF-8 sequence starting at s[pos], or 0 when the bytes
// there are not valid UTF-8 (overlong forms, surrogates and code points > U+10FFFF included).
std::size_t utf8SequenceLength(std::string_view s, std::size_t pos) noexcept;

// Offset of the first byte that does not start a valid sequence, or npos.
std::size_t firstInvalidUtf8(std::string_view s) noexcept;

} // namespace idl::query::detail
