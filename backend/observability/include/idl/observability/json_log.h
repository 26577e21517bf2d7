#pragma once

#include "idl/core/log_event.h"

#include <QVariant>

#include <initializer_list>
#include <string_view>
#include <utility>

namespace idl::jlog {

// Field of a log line: a key and a value (numbers, booleans and strings keep their type).
using Field = std::pair<std::string_view, QVariant>;

// Sets up JSON-lines logging of this process to stderr: every line has ts (RFC 3339),
// level, service, msg and the given fields. Also routes Qt's own messages (qDebug,
// qWarning, ...) through it. Call once at start-up; thread-safe afterwards.
void init(std::string_view service, Level minLevel = Level::Info);

// Lowest level written; lines below it are skipped cheaply.
void setMinLevel(Level level);
bool enabled(Level level);

// Writes one JSON line (thread-safe; one write() per line, so lines never interleave).
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void debug(std::string_view msg, std::initializer_list<Field> f = {})
{
    write(Level::Debug, msg, f);
}
inline void info(std::string_view msg, std::initializer_list<Field> f = {})
{
    write(Level::Info, msg, f);
}
inline void warn(std::string_view msg, std::initializer_list<Field> f = {})
{
    write(Level::Warn, msg, f);
}
inline void error(std::string_view msg, std::initializer_list<Field> f = {})
{
    write(Level::Error, msg, f);
}

} // namespace idl::jlog
