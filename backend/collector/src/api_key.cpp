#include "idl/collector/api_key.h"

#include "idl/service/auth/secret.h"

namespace idl::collector {

namespace {

bool isKeyChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

} // namespace

NewApiKey generateApiKey()
{
    NewApiKey k;
    k.prefix = auth::randomText(kKeyPrefixLength, auth::kLowerAlnum);
    k.key = "idl_" + k.prefix + "_" + auth::randomText(kKeySecretLength, auth::kLowerAlnum);
    k.hash = auth::hashSecret(k.key);
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

} // namespace idl::collector
