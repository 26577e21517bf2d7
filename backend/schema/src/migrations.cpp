#include "idl/schema/migrations.h"

#include "idl/observability/json_log.h"
#include "idl/pg/connection.h"

#include <map>
#include <string>

namespace idl::schema {
namespace {

// Releases the session advisory lock however migrate() leaves.
class SessionLock
{
public:
    explicit SessionLock(pg::Connection &c) : m_c(c) {}
    ~SessionLock()
    {
        if (m_held) {
            (void)m_c.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
        }
    }
    Result<void> acquire()
    {
        auto r = m_c.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
        if (!r) {
            return r.error();
        }
        m_held = true;
        return {};
    }

private:
    pg::Connection &m_c;
    bool m_held = false;
};

Result<void> applyOne(pg::Connection &c, const Migration &m)
{
    if (auto r = c.exec("BEGIN"); !r) {
        return r.error();
    }
    auto fail = [&](const Error &e) -> Result<void> {
        (void)c.exec("ROLLBACK");
        return makeError(e.code, "migration " + std::string(m.name) + ": " + e.message);
    };
    if (auto r = c.exec(m.sql); !r) {
        return fail(r.error());
    }
    auto rec = c.query("INSERT INTO schema_migrations(version, name, checksum) VALUES ($1, $2, $3)",
                       {std::to_string(m.version), std::string(m.name), std::string(m.checksum)});
    if (!rec) {
        return fail(rec.error());
    }
    if (auto r = c.exec("COMMIT"); !r) {
        return fail(r.error());
    }
    return {};
}

} // namespace

Result<int> migrate(pg::Connection &connection)
{
    return migrate(connection, embeddedMigrations());
}

Result<int> migrate(pg::Connection &c, std::span<const Migration> migrations)
{
    SessionLock lock(c);
    if (auto r = lock.acquire(); !r) {
        return r.error();
    }
    if (auto r = c.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version int PRIMARY KEY,"
                        " name text NOT NULL,"
                        " checksum text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())");
        !r) {
        return r.error();
    }
    auto applied = c.query("SELECT version, checksum FROM schema_migrations ORDER BY version", {});
    if (!applied) {
        return applied.error();
    }
    std::map<int, std::string> done;
    for (int row = 0; row < applied->rowCount(); ++row) {
        done.emplace(std::stoi(std::string(applied->value(row, 0))),
                     std::string(applied->value(row, 1)));
    }
    for (const Migration &m : migrations) {
        auto it = done.find(m.version);
        if (it != done.end() && it->second != m.checksum) {
            return makeError(ErrorCode::Conflict, "migration " + std::string(m.name) +
                                                      " was applied with a different checksum (" +
                                                      it->second +
                                                      "); applied migrations must never be edited");
        }
    }
    int count = 0;
    for (const Migration &m : migrations) {
        if (done.count(m.version)) {
            continue;
        }
        if (auto r = applyOne(c, m); !r) {
            return r.error();
        }
        jlog::info("migration applied",
                   {{"version", m.version},
                    {"name", QString::fromUtf8(m.name.data(), qsizetype(m.name.size()))}});
        ++count;
    }
    return count;
}

} // namespace idl::schema
