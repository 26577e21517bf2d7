#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idl {

// Severity of an event, ordered so that comparisons mean "at least as severe".
enum class Level : std::uint8_t { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Fatal = 5 };

// Canonical lower-case name: "trace", "debug", "info", "warn", "error", "fatal".
std::string_view levelName(Level level) noexcept;

// Accepts canonical names and aliases, case-insensitively: warning, err, critical, crit,
// panic, emerg, alert, notice, informational, verbose, dbg, ... ; also a syslog severity
// written as a string ("0".."7").
std::optional<Level> parseLevel(std::string_view text) noexcept;

// Syslog severity 0 (emergency) .. 7 (debug).
std::optional<Level> levelFromSyslog(long long severity) noexcept;

// OpenTelemetry SeverityNumber 1..24 (TRACE=1-4, DEBUG=5-8, INFO=9-12, WARN=13-16,
// ERROR=17-20, FATAL=21-24). 0 (unspecified) yields nullopt.
std::optional<Level> levelFromOtelSeverity(long long number) noexcept;

// One structured log event, as it travels from the collector to storage.
// Times are nanoseconds since the Unix epoch (UTC).
struct LogEvent
{
    std::string id;              // unique event id (UUIDv7 text, time-ordered)
    std::int64_t tsNs = 0;       // event time, as reported by the application
    std::int64_t receivedNs = 0; // when the collector received it
    Level level = Level::Info;
    std::string app;              // application / service name
    std::string host;             // host name
    std::string message;          // the log line
    std::string attrsJson = "{}"; // attributes: a JSON object, minified
    std::string traceId;          // hex, may be empty
    std::string spanId;           // hex, may be empty

    bool operator==(const LogEvent &) const = default;
};

} // namespace idl
