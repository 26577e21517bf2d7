#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace idl {

// The value of one hex digit (either case), or -1.
constexpr int hexDigitValue(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Lower-case hex of bytes ("\x00\xff" -> "00ff").
std::string toHex(std::string_view bytes);

// A trace or span id as text: exactly `length` hex digits (either case), lower-cased; nullopt
// for anything else and for the all-zero id (W3C "invalid", i.e. no trace).
std::optional<std::string> traceIdText(std::string_view text, std::size_t length);

// Bytes of a hex string (either case); nullopt for an odd length or a non-hex character.
std::optional<std::string> fromHex(std::string_view hex);

} // namespace idl
