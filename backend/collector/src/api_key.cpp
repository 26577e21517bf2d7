#include "idl/collector/api_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace idl::collector {

namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

// Uniform characters from the alphabet by rejection sampling over random bytes.
std::string randomText(std::size_t length)
{
    std::string out;
    out.reserve(length);
    unsigned char buf[64];
    // 252 = 7 * 36: bytes at or above it would bias the result.
    constexpr unsigned kLimit = 252;
    while (out.size() < length) {
        if (RAND_bytes(buf, sizeof buf) != 1)
            throw std::runtime_error("RAND_bytes failed");
        for (unsigned char b : buf) {
            if (b >= kLimit)
                continue;
            out.push_back(kAlphabet[b % kAlphabet.size()]);
            if (out.size() == length)
                break;
        }
    }
    return out;
}

bool isKeyChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

} // namespace

NewApiKey generateApiKey()
{
    NewApiKey k;
    k.prefix = randomText(kKeyPrefixLength);
    k.key = "idl_" + k.prefix + "_" + randomText(kKeySecretLength);
    k.hash = hashApiKey(k.key);
    return k;
}

std::optional<std::string_view> apiKeyPrefix(std::string_view key) noexcept
{
    constexpr std::size_t total = 4 + kKeyPrefixLength + 1 + kKeySecretLength;
    if (key.size() != total || key.substr(0, 4) != "idl_" || key[4 + kKeyPrefixLength] != '_')
        return std::nullopt;
    for (std::size_t i = 4; i < total; ++i)
        if (i != 4 + kKeyPrefixLength && !isKeyChar(key[i]))
            return std::nullopt;
    return key.substr(4, kKeyPrefixLength);
}

std::string hashApiKey(std::string_view key)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char *>(key.data()), key.size(), digest);
    return std::string(reinterpret_cast<const char *>(digest), sizeof digest);
}

bool apiKeyMatches(std::string_view key, std::string_view storedHash)
{
    const std::string h = hashApiKey(key);
    if (storedHash.size() != h.size())
        return false;
    return CRYPTO_memcmp(h.data(), storedHash.data(), h.size()) == 0;
}

} // namespace idl::collector
