#include "idl/collector/key_store.h"

#include "idl/core/hex.h"
#include "idl/pg/connection.h"

namespace idl::collector {

namespace {

constexpr std::string_view kColumns =
    "prefix, encode(key_hash, 'hex'), name, app, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')";

KeyRecord recordAt(const pg::Rows &rows, int r)
{
    KeyRecord k;
    k.prefix = std::string(rows.value(r, 0));
    k.hash = fromHex(rows.value(r, 1)).value_or(std::string());
    k.name = std::string(rows.value(r, 2));
    if (auto app = rows.at(r, 3))
        k.app = std::string(*app);
    k.createdAt = std::string(rows.value(r, 4));
    k.revokedAt = std::string(rows.value(r, 5));
    k.revoked = !k.revokedAt.empty();
    return k;
}

} // namespace

Result<NewApiKey> createKey(pg::Connection &db, const std::string &name,
                            const std::optional<std::string> &app)
{
    NewApiKey key = generateApiKey();
    auto r = db.query("INSERT INTO api_keys (prefix, key_hash, name, app) "
                      "VALUES ($1, decode($2, 'hex'), $3, $4)",
                      {key.prefix, toHex(key.hash), name, app});
    if (!r)
        return r.error();
    return key;
}

Result<std::vector<KeyRecord>> listKeys(pg::Connection &db, bool includeRevoked)
{
    std::string sql = "SELECT " + std::string(kColumns) + " FROM api_keys";
    if (!includeRevoked)
        sql += " WHERE revoked_at IS NULL";
    sql += " ORDER BY created_at DESC, prefix";
    auto rows = db.query(sql);
    if (!rows)
        return rows.error();
    std::vector<KeyRecord> out;
    out.reserve(static_cast<std::size_t>(rows->rowCount()));
    for (int i = 0; i < rows->rowCount(); ++i)
        out.push_back(recordAt(*rows, i));
    return out;
}

Result<void> revokeKey(pg::Connection &db, const std::string &prefixOrKey)
{
    std::string prefix = prefixOrKey;
    if (auto p = apiKeyPrefix(prefixOrKey))
        prefix = std::string(*p);
    auto r = db.query("UPDATE api_keys SET revoked_at = now() "
                      "WHERE prefix = $1 AND revoked_at IS NULL",
                      {prefix});
    if (!r)
        return r.error();
    if (r->affectedRows() == 0)
        return makeError(ErrorCode::NotFound, "no active key with prefix " + prefix);
    return {};
}

Result<std::optional<KeyRecord>> findKey(pg::Connection &db, std::string_view prefix)
{
    auto rows = db.query("SELECT " + std::string(kColumns) + " FROM api_keys WHERE prefix = $1",
                         {std::string(prefix)});
    if (!rows)
        return rows.error();
    if (rows->rowCount() == 0)
        return std::optional<KeyRecord>{};
    return std::optional<KeyRecord>{recordAt(*rows, 0)};
}

} // namespace idl::collector
