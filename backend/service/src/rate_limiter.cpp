#include "idl/service/auth/rate_limiter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace idl::auth {

namespace {

using Clock = RateLimiter::Clock;

struct Bucket
{
    double tokens = 0;
    Clock::time_point updated;
};

// A shard's table is swept for full buckets when it reaches sweepAt entries; afterwards
// sweepAt is at least twice what is left, so sweeps cost O(1) per take() on average even
// when every key is busy.
constexpr std::size_t kShards = 16;
constexpr std::size_t kSweepAtLeast = 8192;

struct Shard
{
    mutable std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
    std::size_t sweepAt = kSweepAtLeast;
};

} // namespace

struct RateLimiter::Impl
{
    double perSecond = 0;
    double burst = 1;
    std::array<Shard, kShards> shards;

    void refill(Bucket &b, Clock::time_point now) const
    {
        if (now <= b.updated)
            return;
        const double elapsed = std::chrono::duration<double>(now - b.updated).count();
        b.tokens = std::min(burst, b.tokens + elapsed * perSecond);
        b.updated = now;
    }

    void sweep(Shard &shard, Clock::time_point now) const
    {
        for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
            refill(it->second, now);
            it = it->second.tokens >= burst ? shard.buckets.erase(it) : std::next(it);
        }
        shard.sweepAt = std::max(kSweepAtLeast, 2 * shard.buckets.size());
    }
};

RateLimiter::RateLimiter(double perSecond, double burst) : d(std::make_unique<Impl>())
{
    d->perSecond = perSecond;
    d->burst = std::max(1.0, burst);
}

RateLimiter::~RateLimiter() = default;

std::optional<std::int64_t> RateLimiter::take(const std::string &key)
{
    return take(key, Clock::now());
}

std::optional<std::int64_t> RateLimiter::take(const std::string &key, Clock::time_point now)
{
    if (d->perSecond <= 0)
        return std::nullopt;
    Shard &shard = d->shards[std::hash<std::string>{}(key) % kShards];
    std::lock_guard lock(shard.mutex);
    if (shard.buckets.size() >= shard.sweepAt)
        d->sweep(shard, now);
    auto [it, inserted] = shard.buckets.try_emplace(key, Bucket{d->burst, now});
    Bucket &b = it->second;
    if (!inserted)
        d->refill(b, now);
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return std::nullopt;
    }
    const double waitMs = (1 - b.tokens) / d->perSecond * 1000;
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(waitMs)));
}

std::size_t RateLimiter::size() const
{
    std::size_t n = 0;
    for (const Shard &s : d->shards) {
        std::lock_guard lock(s.mutex);
        n += s.buckets.size();
    }
    return n;
}

} // namespace idl::auth
