#pragma once

#include "idl/core/hex.h" // toHex: hashes in the database are bytea, shown as hex

#include <optional>
#include <string>
#include <string_view>

// API keys for ingestion: "idl_" + a 12-character public prefix + "_" + a 40-character secret,
// all from [a-z0-9] (about 206 random bits in the secret). The prefix identifies the key
// (database lookup, logs, the Kafka key-id header); only the SHA-256 of the whole key is
// stored. See docs/security.md.
namespace idl::collector {

// Length of the public prefix and of the secret part.
inline constexpr std::size_t kKeyPrefixLength = 12;
inline constexpr std::size_t kKeySecretLength = 40;

// A newly generated key: the full text (shown once) and what is stored.
struct NewApiKey
{
    std::string key;    // idl_<prefix>_<secret>
    std::string prefix; // public lookup id
    std::string hash;   // auth::hashSecret(key): SHA-256, 32 raw bytes
};

// Generates a key (auth::randomText). Keys are checked with auth::secretMatches().
NewApiKey generateApiKey();

// The public prefix of a well-formed key, or nullopt when the text is not shaped like a key.
std::optional<std::string_view> apiKeyPrefix(std::string_view key) noexcept;

} // namespace idl::collector
