// Level names, aliases and numeric severities (syslog, OpenTelemetry). Pure functions, no
// allocation: used per event on the ingestion hot path.
#include "idl/core/log_event.h"

#include <array>
#include <cstddef>

namespace idl {

namespace {

struct LevelAlias
{
    std::string_view name; // lower case
    Level level;
};

// Every accepted spelling, lower case.
constexpr std::array<LevelAlias, 27> kAliases{{
    {"trace", Level::Trace},        {"trc", Level::Trace},    {"verbose", Level::Trace},
    {"finest", Level::Trace},       {"debug", Level::Debug},  {"dbg", Level::Debug},
    {"fine", Level::Debug},         {"info", Level::Info},    {"information", Level::Info},
    {"informational", Level::Info}, {"notice", Level::Info},  {"log", Level::Info},
    {"warn", Level::Warn},          {"warning", Level::Warn}, {"wrn", Level::Warn},
    {"error", Level::Error},        {"err", Level::Error},    {"eror", Level::Error},
    {"severe", Level::Error},       {"fatal", Level::Fatal},  {"critical", Level::Fatal},
    {"crit", Level::Fatal},         {"panic", Level::Fatal},  {"emerg", Level::Fatal},
    {"emergency", Level::Fatal},    {"alert", Level::Fatal},  {"ftl", Level::Fatal},
}};

// Longest alias: "informational" (13 characters).
constexpr std::size_t kMaxAliasLength = 13;

char toLowerAscii(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace

std::string_view levelName(Level level) noexcept
{
    switch (level) {
    case Level::Trace:
        return "trace";
    case Level::Debug:
        return "debug";
    case Level::Info:
        return "info";
    case Level::Warn:
        return "warn";
    case Level::Error:
        return "error";
    case Level::Fatal:
        return "fatal";
    }
    return "info";
}

std::optional<Level> levelFromSyslog(long long severity) noexcept
{
    if (severity < 0 || severity > 7)
        return std::nullopt;
    if (severity <= 2)
        return Level::Fatal; // emergency, alert, critical
    if (severity == 3)
        return Level::Error;
    if (severity == 4)
        return Level::Warn;
    if (severity <= 6)
        return Level::Info; // notice, informational
    return Level::Debug;
}

std::optional<Level> levelFromOtelSeverity(long long number) noexcept
{
    if (number < 1 || number > 24)
        return std::nullopt;
    return static_cast<Level>((number - 1) / 4);
}

std::optional<Level> parseLevel(std::string_view text) noexcept
{
    if (text.empty() || text.size() > kMaxAliasLength)
        return std::nullopt;
    // A syslog severity written as a single digit.
    if (text.size() == 1 && text[0] >= '0' && text[0] <= '9')
        return levelFromSyslog(text[0] - '0');
    char buf[kMaxAliasLength];
    for (std::size_t i = 0; i < text.size(); ++i)
        buf[i] = toLowerAscii(text[i]);
    const std::string_view lower(buf, text.size());
    for (const LevelAlias &alias : kAliases) {
        if (alias.name == lower)
            return alias.level;
    }
    return std::nullopt;
}

} // namespace idl
