#pragma once

#include "idl/core/log_event.h"
#include "idl/core/result.h"
#include "idl/core/utf8.h"

#include <cstdint>
#include <string>
#include <string_view>

// Turning one message of the events topic into a row PostgreSQL accepts, or into a reason
// to dead-letter it. Pure functions; thread-safe.
namespace idl::writer {

// Which limits an event time must respect before it is stored.
struct SanitizePolicy
{
    // Event and receive times more than this ahead of the writer's clock are clamped: the
    // event time becomes the receive time (or now), and the original value is kept in the
    // attribute "idl.original_ts".
    std::int64_t maxFutureNs = 3600LL * 1'000'000'000;
    // Events older than this (ns since the epoch; 0 = no limit) are dead-lettered: retention
    // would delete them at once, and storing them would create partitions for long-gone days.
    std::int64_t oldestAcceptedNs = 0;
};

// What was changed to make an event storable (bit set).
enum SanitizeFix : unsigned {
    FixNone = 0,
    FixInvalidUtf8 = 1u << 0,  // invalid UTF-8 sequences replaced by U+FFFD
    FixNulBytes = 1u << 1,     // NUL characters removed from text and attributes
    FixBadId = 1u << 2,        // id was not a UUID: replaced by one derived from the source
    FixTimestamp = 1u << 3,    // event time out of range: clamped
    FixReceivedTime = 1u << 4, // receive time out of range: set to now
};

// Comma-separated names of the fixes, e.g. "invalid_utf8,nul_bytes".
std::string fixNames(unsigned fixes);

// Decodes a canonical event (see idl/core/json_codec.h) and makes it storable. `sourceKey`
// identifies the message (e.g. "topic/partition/offset") and seeds a stable replacement id.
// On failure the error says why the event must be dead-lettered.
Result<LogEvent> prepareEvent(std::string_view payload, std::string_view sourceKey,
                              const SanitizePolicy &policy, std::int64_t nowNs, unsigned &fixes);

// Replaces every invalid UTF-8 sequence (including overlong forms and surrogates) with U+FFFD.
using idl::replaceInvalidUtf8;

// Removes NUL characters; returns true if any were removed.
bool stripNul(std::string &text);

// Removes the escape \u0000 from a minified JSON text (jsonb rejects it); true if any.
bool stripJsonNulEscapes(std::string &json);

// A UUID (version 8, RFC 9562 "custom") derived from `seed`: the same seed gives the same id.
std::string stableUuid(std::string_view seed);

} // namespace idl::writer
