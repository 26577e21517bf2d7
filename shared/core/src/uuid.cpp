#include "idl/core/uuid.h"

#include <chrono>
#include <cstdint>
#include <random>

namespace idl {

namespace {

std::mt19937_64 &threadGenerator()
{
    thread_local std::mt19937_64 generator = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }();
    return generator;
}

bool isHex(char c) noexcept
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

} // namespace

std::string newEventId()
{
    std::string out;
    assignNewEventId(out);
    return out;
}

void assignNewEventId(std::string &out)
{
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
    std::mt19937_64 &generator = threadGenerator();
    const std::uint64_t randA = generator();
    const std::uint64_t randB = generator();

    // Big-endian 128 bits: unix_ts_ms(48) | ver(4)=7 | rand_a(12) | var(2)=0b10 | rand_b(62).
    const std::uint64_t high = (ms & 0xFFFF'FFFF'FFFFull) << 16 | 0x7000u | (randA & 0x0FFFu);
    const std::uint64_t low = (randB & 0x3FFF'FFFF'FFFF'FFFFull) | 0x8000'0000'0000'0000ull;

    static constexpr char kHex[] = "0123456789abcdef";
    out.assign(36, '-');
    std::size_t pos = 0;
    auto put = [&](std::uint64_t word) {
        for (int shift = 60; shift >= 0; shift -= 4) {
            if (pos == 8 || pos == 13 || pos == 18 || pos == 23)
                ++pos;
            out[pos++] = kHex[(word >> shift) & 0xF];
        }
    };
    put(high);
    put(low);
}

bool isValidUuid(std::string_view text) noexcept
{
    if (text.size() != 36)
        return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !isHex(text[i]))
            return false;
    }
    return true;
}

} // namespace idl
