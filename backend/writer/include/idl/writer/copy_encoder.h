#pragma once

#include "idl/core/log_event.h"
#include "idl/pg/connection.h"

#include <string>
#include <string_view>

// Rows of the logs table in PostgreSQL's COPY formats. Pure functions; thread-safe.
namespace idl::writer {

// The COPY statement for the logs table in the given format.
std::string_view logsCopySql(pg::CopyFormat format);

// Appends the stream header (binary: signature, flags, extension; text: nothing).
void appendCopyHeader(std::string &out, pg::CopyFormat format);

// Appends one row. The event must be storable: id a UUID, no NUL characters, valid UTF-8,
// attrsJson a JSON object without \u0000 (see sanitize.h).
void appendCopyRow(std::string &out, const LogEvent &event, pg::CopyFormat format);

// Appends the stream trailer (binary: -1 field count; text: nothing).
void appendCopyTrailer(std::string &out, pg::CopyFormat format);

} // namespace idl::writer
