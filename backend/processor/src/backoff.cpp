#include "idl/processor/backoff.h"

#include <algorithm>
#include <cmath>

namespace idl::processor {

Result<void> BackoffPolicy::validate() const
{
    if (base.count() <= 0)
        return makeError(ErrorCode::BadField, "retry.base must be greater than 0");
    if (!(factor >= 1.0) || !std::isfinite(factor))
        return makeError(ErrorCode::BadField, "retry.factor must be a number >= 1");
    if (cap < base)
        return makeError(ErrorCode::BadField, "retry.cap must be >= retry.base");
    if (!(jitter >= 0.0 && jitter <= 1.0))
        return makeError(ErrorCode::BadField, "retry.jitter must be within 0..1");
    if (maxAttempts < 0)
        return makeError(ErrorCode::BadField, "retry.max-attempts must be >= 0");
    return {};
}

std::chrono::milliseconds BackoffPolicy::nominalDelay(int attempt) const
{
    const int n = std::max(attempt, 1) - 1;
    // Computed in floating point and clamped before converting, so large attempt numbers
    // saturate at the cap instead of overflowing.
    const double ms = static_cast<double>(base.count()) * std::pow(factor, n);
    if (!std::isfinite(ms) || ms >= static_cast<double>(cap.count()))
        return cap;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

std::chrono::milliseconds BackoffPolicy::minDelay(int attempt) const
{
    const auto nominal = nominalDelay(attempt);
    return std::chrono::milliseconds(static_cast<std::int64_t>(
        std::ceil(static_cast<double>(nominal.count()) * (1.0 - jitter))));
}

std::chrono::milliseconds BackoffPolicy::delay(int attempt, std::mt19937_64 &rng) const
{
    const auto hi = nominalDelay(attempt).count();
    const auto lo = minDelay(attempt).count();
    if (lo >= hi)
        return std::chrono::milliseconds(hi);
    std::uniform_int_distribution<std::int64_t> pick(lo, hi);
    return std::chrono::milliseconds(pick(rng));
}

} // namespace idl::processor
