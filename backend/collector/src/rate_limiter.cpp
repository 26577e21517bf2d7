#include "idl/collector/rate_limiter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace idl::collector {

namespace {

using Clock = std::chrono::steady_clock;

struct Bucket
{
    double tokens = 0;
    Clock::time_point updated;
};

struct Shard
{
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
};

constexpr std::size_t kShards = 16;
constexpr std::size_t kMaxBucketsPerShard = 8192;

} // namespace

struct RateLimiter::Impl
{
    double perSecond = 0;
    double burst = 1;
    std::array<Shard, kShards> shards;

    void refill(Bucket &b, Clock::time_point now) const
    {
        const double elapsed = std::chrono::duration<double>(now - b.updated).count();
        b.tokens = std::min(burst, b.tokens + elapsed * perSecond);
        b.updated = now;
    }
};

RateLimiter::RateLimiter(double perSecond, double burst) : d(std::make_unique<Impl>())
{
    d->perSecond = perSecond;
    d->burst = std::max(1.0, burst);
}

RateLimiter::~RateLimiter() = default;

std::optional<std::chrono::milliseconds> RateLimiter::acquire(const std::string &identity)
{
    if (d->perSecond <= 0)
        return std::nullopt;
    auto &shard = d->shards[std::hash<std::string>{}(identity) % kShards];
    const auto now = Clock::now();
    std::lock_guard lock(shard.mutex);
    if (shard.buckets.size() >= kMaxBucketsPerShard) {
        // Forget buckets that are full again: they behave exactly like new ones.
        for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
            d->refill(it->second, now);
            it = it->second.tokens >= d->burst ? shard.buckets.erase(it) : std::next(it);
        }
    }
    auto [it, inserted] = shard.buckets.try_emplace(identity, Bucket{d->burst, now});
    Bucket &b = it->second;
    if (!inserted)
        d->refill(b, now);
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return std::nullopt;
    }
    const double wait = (1 - b.tokens) / d->perSecond;
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(wait * 1000)));
}

} // namespace idl::collector
