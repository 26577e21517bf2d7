#pragma once

#include "idl/collector/api_key.h"
#include "idl/core/result.h"

#include <optional>
#include <string>
#include <vector>

namespace idl::pg {
class Connection;
}

// The api_keys table (migration 100_api_keys.sql): create, list, revoke and look up keys.
// Blocking libpq calls; use from the thread that owns the connection.
namespace idl::collector {

// One stored key (never the key itself).
struct KeyRecord
{
    std::string prefix;             // public id
    std::string hash;               // SHA-256 of the key, 32 raw bytes
    std::string name;               // free text, e.g. the team or service
    std::optional<std::string> app; // bound app; nullopt = any app
    bool revoked = false;
    std::string createdAt; // RFC 3339 text from the database
    std::string revokedAt; // "" when not revoked
};

// Creates a key (optionally bound to an app). The returned NewApiKey::key is the only copy
// of the secret.
Result<NewApiKey> createKey(pg::Connection &db, const std::string &name,
                            const std::optional<std::string> &app);

// Every key, newest first; revoked ones only when asked.
Result<std::vector<KeyRecord>> listKeys(pg::Connection &db, bool includeRevoked);

// Revokes the key with this prefix (or full key text). NotFound when no such active key.
Result<void> revokeKey(pg::Connection &db, const std::string &prefixOrKey);

// The key with this prefix, revoked or not; nullopt when there is none.
Result<std::optional<KeyRecord>> findKey(pg::Connection &db, std::string_view prefix);

} // namespace idl::collector
