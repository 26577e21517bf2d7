#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// Secrets of the platform: API keys (collector), access tokens (gateway), the stack's
// generated credentials. One generator (the OpenSSL CSPRNG) and one way to store and check a
// secret: only its SHA-256 is kept, and checks compare in constant time. See docs/security.md.
namespace idl::auth {

// Alphabets for randomText().
inline constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
inline constexpr std::string_view kLowerHex = "0123456789abcdef";

// `length` characters drawn uniformly from `alphabet` (2..256 distinct characters) with the
// OpenSSL CSPRNG; rejection sampling, so no character is more likely than another. Throws
// std::runtime_error when the CSPRNG fails.
std::string randomText(std::size_t length, std::string_view alphabet);

// Length of hashSecret()'s result.
inline constexpr std::size_t kSecretHashLength = 32;

// What is stored for a secret: SHA-256 of its whole text, kSecretHashLength raw bytes.
std::string hashSecret(std::string_view secret);

// True when `secret` hashes to `storedHash`. Takes the same time wherever the bytes differ,
// and also when storedHash is empty or malformed (say, no stored record), so timing tells a
// caller nothing about which part was wrong.
bool secretMatches(std::string_view secret, std::string_view storedHash);

// Equality whose time depends only on the lengths, not on where the bytes differ.
bool constantTimeEquals(std::string_view a, std::string_view b) noexcept;

} // namespace idl::auth
