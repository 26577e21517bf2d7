#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace idl::auth {

// Token buckets per key (an API key, an access token's prefix): each key may make
// `perSecond` requests per second on average, with bursts of up to `burst`. Thread-safe.
// Memory is bounded by the keys that are busy: a bucket that has filled up again behaves
// exactly like a new one, so such buckets are forgotten when a shard's table grows.
class RateLimiter
{
public:
    using Clock = std::chrono::steady_clock;

    // perSecond <= 0 disables limiting; burst is at least 1.
    RateLimiter(double perSecond, double burst);
    ~RateLimiter();
    RateLimiter(const RateLimiter &) = delete;
    RateLimiter &operator=(const RateLimiter &) = delete;

    // Takes one token of `key`: nullopt when the request may go ahead, otherwise the
    // milliseconds (at least 1, rounded up) until a token will be available.
    std::optional<std::int64_t> take(const std::string &key);
    // The same at a given time (tests).
    std::optional<std::int64_t> take(const std::string &key, Clock::time_point now);

    // Buckets currently held (tests, diagnostics).
    std::size_t size() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::auth
