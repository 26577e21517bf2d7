#include "idl/gateway/tokens.h"

#include "idl/core/hex.h"
#include "idl/pg/connection.h"

#include "idl/service/auth/secret.h"

#include <algorithm>

namespace idl::gateway {
namespace {

constexpr std::string_view kTokenPrefix = "idt_";
constexpr std::size_t kPrefixLength = 12;
constexpr std::size_t kSecretLength = 43;
bool isB64Url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

Error invalidCredentials()
{
    return makeError(ErrorCode::Unauthenticated, "invalid credentials");
}

} // namespace

std::string_view roleName(Role role) noexcept
{
    switch (role) {
    case Role::Viewer:
        return "viewer";
    case Role::Editor:
        return "editor";
    case Role::Admin:
        return "admin";
    }
    return "viewer";
}

std::optional<Role> parseRole(std::string_view text) noexcept
{
    if (text == "viewer")
        return Role::Viewer;
    if (text == "editor")
        return Role::Editor;
    if (text == "admin")
        return Role::Admin;
    return std::nullopt;
}

bool Identity::allows(std::string_view app) const
{
    return apps.empty() || std::find(apps.begin(), apps.end(), app) != apps.end();
}

NewToken generateToken()
{
    NewToken t;
    t.prefix = auth::randomText(kPrefixLength, auth::kLowerAlnum);
    t.token = std::string(kTokenPrefix) + t.prefix + "_" +
              auth::randomText(kSecretLength, auth::kBase64Url);
    t.hash = auth::hashSecret(t.token);
    return t;
}

std::optional<std::string> tokenPrefix(std::string_view token)
{
    if (token.size() != kTokenPrefix.size() + kPrefixLength + 1 + kSecretLength ||
        token.substr(0, kTokenPrefix.size()) != kTokenPrefix)
        return std::nullopt;
    const std::string_view prefix = token.substr(kTokenPrefix.size(), kPrefixLength);
    for (char c : prefix) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return std::nullopt;
    }
    if (token[kTokenPrefix.size() + kPrefixLength] != '_')
        return std::nullopt;
    for (char c : token.substr(kTokenPrefix.size() + kPrefixLength + 1)) {
        if (!isB64Url(c))
            return std::nullopt;
    }
    return std::string(prefix);
}

std::string toPgArray(const std::vector<std::string> &values)
{
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i)
            out.push_back(',');
        out.push_back('"');
        for (char c : values[i]) {
            if (c == '"' || c == '\\')
                out.push_back('\\');
            out.push_back(c);
        }
        out.push_back('"');
    }
    out.push_back('}');
    return out;
}

std::vector<std::string> fromPgArray(std::string_view text)
{
    std::vector<std::string> out;
    if (text.size() < 2 || text.front() != '{' || text.back() != '}')
        return out;
    text = text.substr(1, text.size() - 2);
    std::size_t i = 0;
    while (i < text.size()) {
        std::string item;
        if (text[i] == '"') {
            ++i;
            while (i < text.size() && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < text.size())
                    ++i;
                item.push_back(text[i++]);
            }
            ++i; // closing quote
        } else {
            while (i < text.size() && text[i] != ',')
                item.push_back(text[i++]);
        }
        out.push_back(std::move(item));
        if (i < text.size() && text[i] == ',')
            ++i;
    }
    return out;
}

namespace tokens {

namespace {
// bytea in PostgreSQL's hex text form ("\\x..."), both ways.
std::string hexBytea(std::string_view raw)
{
    return "\\x" + toHex(raw);
}

std::string unhexBytea(std::string_view text)
{
    if (text.substr(0, 2) != "\\x")
        return {};
    return fromHex(text.substr(2)).value_or(std::string());
}
} // namespace

Result<NewToken> create(pg::Connection &db, const std::string &name, Role role,
                        const std::vector<std::string> &apps)
{
    if (name.empty() || name.size() > 200)
        return makeError(ErrorCode::BadField, "name must be 1..200 characters");
    NewToken t = generateToken();
    pg::Params params{t.prefix, hexBytea(t.hash), name, std::string(roleName(role))};
    params.push_back(apps.empty() ? pg::Param() : pg::Param(toPgArray(apps)));
    auto r = db.query("INSERT INTO gateway_tokens (prefix, token_hash, name, role, apps) "
                      "VALUES ($1, $2::bytea, $3, $4, $5::text[])",
                      params);
    if (!r)
        return r.error();
    return t;
}

Result<std::vector<TokenRecord>> list(pg::Connection &db)
{
    auto r = db.query("SELECT prefix, name, role, apps, "
                      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                      "to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                      "FROM gateway_tokens ORDER BY created_at DESC, prefix");
    if (!r)
        return r.error();
    std::vector<TokenRecord> out;
    for (int i = 0; i < r->rowCount(); ++i) {
        TokenRecord rec;
        rec.prefix = r->value(i, 0);
        rec.name = r->value(i, 1);
        rec.role = parseRole(r->value(i, 2)).value_or(Role::Viewer);
        if (!r->isNull(i, 3))
            rec.apps = fromPgArray(r->value(i, 3));
        rec.created = r->value(i, 4);
        if (!r->isNull(i, 5))
            rec.revoked = std::string(r->value(i, 5));
        out.push_back(std::move(rec));
    }
    return out;
}

Result<void> revoke(pg::Connection &db, const std::string &prefix)
{
    auto r = db.query("UPDATE gateway_tokens SET revoked_at = now() "
                      "WHERE prefix = $1 AND revoked_at IS NULL",
                      {prefix});
    if (!r)
        return r.error();
    if (r->affectedRows() == 0)
        return makeError(ErrorCode::NotFound, "no active token with that prefix");
    return {};
}

Result<Identity> authenticate(pg::Connection &db, std::string_view token)
{
    const auto prefix = tokenPrefix(token);
    // A malformed or unknown token still costs one hash and one comparison, so timing says
    // nothing about which part was wrong.
    auto r = db.query("SELECT token_hash, name, role, apps, revoked_at IS NOT NULL "
                      "FROM gateway_tokens WHERE prefix = $1",
                      {prefix.value_or(std::string())});
    if (!r)
        return makeError(ErrorCode::Unavailable, "token store unavailable");
    const bool found = r->rowCount() == 1;
    const bool equal = auth::secretMatches(token, found ? unhexBytea(r->value(0, 0)) : "");
    if (!prefix || !found || !equal || r->value(0, 4) == "t")
        return invalidCredentials();
    Identity id;
    id.prefix = *prefix;
    id.user = r->value(0, 1);
    id.role = parseRole(r->value(0, 2)).value_or(Role::Viewer);
    if (!r->isNull(0, 3))
        id.apps = fromPgArray(r->value(0, 3));
    return id;
}

} // namespace tokens
} // namespace idl::gateway
