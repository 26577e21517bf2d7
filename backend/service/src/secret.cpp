#include "idl/service/auth/secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <stdexcept>

namespace idl::auth {

std::string randomText(std::size_t length, std::string_view alphabet)
{
    if (alphabet.size() < 2 || alphabet.size() > 256)
        throw std::invalid_argument("randomText: the alphabet needs 2..256 characters");
    // Bytes at or above the largest multiple of the alphabet size would bias the result.
    const unsigned limit = 256 - (256 % static_cast<unsigned>(alphabet.size()));
    std::string out;
    out.reserve(length);
    unsigned char buf[64];
    while (out.size() < length) {
        if (RAND_bytes(buf, sizeof buf) != 1)
            throw std::runtime_error("RAND_bytes failed");
        for (unsigned char b : buf) {
            if (b >= limit)
                continue;
            out.push_back(alphabet[b % alphabet.size()]);
            if (out.size() == length)
                break;
        }
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return out;
}

std::string hashSecret(std::string_view secret)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    static_assert(sizeof digest == kSecretHashLength);
    SHA256(reinterpret_cast<const unsigned char *>(secret.data()), secret.size(), digest);
    return std::string(reinterpret_cast<const char *>(digest), sizeof digest);
}

bool secretMatches(std::string_view secret, std::string_view storedHash)
{
    const std::string presented = hashSecret(secret);
    // A stored hash of the wrong size (or none) is compared against zeros: the same work.
    const std::string zeros(kSecretHashLength, '\0');
    const bool wellFormed = storedHash.size() == kSecretHashLength;
    const std::string_view stored = wellFormed ? storedHash : std::string_view(zeros);
    const bool equal = CRYPTO_memcmp(presented.data(), stored.data(), kSecretHashLength) == 0;
    return wellFormed && equal;
}

bool constantTimeEquals(std::string_view a, std::string_view b) noexcept
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
        const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

} // namespace idl::auth
