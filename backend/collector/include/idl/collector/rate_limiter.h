#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace idl::collector {

// Per-identity token buckets: each identity may make `perSecond` requests per second on
// average with bursts of up to `burst`. Thread-safe; memory is bounded by forgetting buckets
// that are full again (an idle identity costs nothing).
class RateLimiter
{
public:
    // perSecond <= 0 disables limiting.
    RateLimiter(double perSecond, double burst);
    ~RateLimiter();

    // Takes one token. nullopt when allowed, otherwise how long until a token is available.
    std::optional<std::chrono::milliseconds> acquire(const std::string &identity);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::collector
