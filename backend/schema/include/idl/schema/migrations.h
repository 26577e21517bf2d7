#pragma once

#include "idl/core/result.h"

#include <cstdint>
#include <span>
#include <string_view>

namespace idl::pg {
class Connection;
}

// Versioned database schema. Migrations are the files resources/sql/migrations/NNN_name.sql,
// embedded at build time; version = NNN. Ranges: 001-099 storage (writer), 100-199
// collector, 200+ gateway.
namespace idl::schema {

// One embedded migration.
struct Migration
{
    int version;
    std::string_view name;     // file name without ".sql", e.g. "001_logs"
    std::string_view sql;      // the file's text
    std::string_view checksum; // SHA-256 of the file, lower-case hex
};

// Every embedded migration, ordered by version.
std::span<const Migration> embeddedMigrations();

// Applies every embedded migration not yet recorded in schema_migrations, in version order,
// each in its own transaction, while holding a session advisory lock (so concurrent callers
// wait for each other and then find nothing left to do). Returns how many were applied
// (0 when the schema is current). Fails with Conflict when an applied migration's checksum
// differs from the embedded file, and with the database's error when a statement fails.
// Versions in the database that this build does not know (a newer build ran) are ignored.
Result<int> migrate(pg::Connection &connection);

// Same with an explicit list (tests).
Result<int> migrate(pg::Connection &connection, std::span<const Migration> migrations);

// The span of one partition of `logs`: a UTC day of event time, [start, start + span) with
// start a multiple of it. Migration 001's idl_ensure_log_partition() cuts the same days (and
// TimescaleDB's chunks are one day); test_writer_integration checks that the two agree.
inline constexpr std::int64_t kLogPartitionNs = 86'400'000'000'000LL;

// The advisory lock key used by migrate().
inline constexpr long long kMigrationLockKey = 0x69646c5f736368; // "idl_sch"

} // namespace idl::schema
