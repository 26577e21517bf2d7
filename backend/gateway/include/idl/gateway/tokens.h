#pragma once

#include "idl/core/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idl::pg {
class Connection;
}

// Access tokens of the query gateway: "idt_" + 12-character public prefix + "_" + 43
// characters of base64url secret (256 random bits). Only SHA-256 of the whole text is stored
// (table gateway_tokens); lookups go by prefix and compare hashes in constant time.
namespace idl::gateway {

// What a token may do; ordered so that comparisons mean "at least".
enum class Role { Viewer = 0, Editor = 1, Admin = 2 };

// "viewer", "editor", "admin".
std::string_view roleName(Role role) noexcept;
// Parses a role name (exact, lower-case).
std::optional<Role> parseRole(std::string_view text) noexcept;

// An authenticated identity: who, what role, which apps (empty = every app).
struct Identity
{
    std::string prefix;
    std::string user;
    Role role = Role::Viewer;
    std::vector<std::string> apps;
    bool scoped() const { return !apps.empty(); }
    // True when the identity may see events of `app`.
    bool allows(std::string_view app) const;
};

// A freshly generated token (the text is shown once) and what is stored.
struct NewToken
{
    std::string token;
    std::string prefix;
    std::string hash; // auth::hashSecret(token): SHA-256, 32 raw bytes
};

// Generates a token (auth::randomText).
NewToken generateToken();
// The prefix of a well-formed token text, or nullopt.
std::optional<std::string> tokenPrefix(std::string_view token);

// A stored token as listed (never the secret).
struct TokenRecord
{
    std::string prefix;
    std::string name;
    Role role = Role::Viewer;
    std::vector<std::string> apps;
    std::string created;                // RFC 3339
    std::optional<std::string> revoked; // RFC 3339
};

// Table gateway_tokens. Every function is one statement on the caller's connection.
namespace tokens {
// Stores a new token for `name`; returns it (the only time its text exists).
Result<NewToken> create(pg::Connection &db, const std::string &name, Role role,
                        const std::vector<std::string> &apps);
// Every token, newest first.
Result<std::vector<TokenRecord>> list(pg::Connection &db);
// Sets revoked_at; NotFound when the prefix is unknown or already revoked.
Result<void> revoke(pg::Connection &db, const std::string &prefix);
// Checks a presented token. Every failure (malformed, unknown, wrong secret, revoked) is the
// same Unauthenticated error "invalid credentials"; Unavailable when the database fails.
Result<Identity> authenticate(pg::Connection &db, std::string_view token);
} // namespace tokens

// Text-array helpers for PostgreSQL parameters: {"a","b"} <-> '{"a","b"}'.
std::string toPgArray(const std::vector<std::string> &values);
std::vector<std::string> fromPgArray(std::string_view text);

} // namespace idl::gateway
