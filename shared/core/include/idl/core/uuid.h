#pragma once

#include <string>
#include <string_view>

// Event identifiers: UUID version 7 (RFC 9562), time-ordered to the millisecond.
namespace idl {

// A new UUIDv7 as 36 lower-case characters ("0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b"): 48-bit
// Unix time in ms, version 7, 74 random bits (variant 10). Ordered by millisecond; within a
// millisecond the order is random. Thread-safe (one generator per thread), no locks.
std::string newEventId();

// The same, written over `out` (reusing its capacity: no allocation once it holds 36 bytes).
void assignNewEventId(std::string &out);

// True when `text` is a UUID in 8-4-4-4-12 hex form (any version, either case).
bool isValidUuid(std::string_view text) noexcept;

} // namespace idl
