#pragma once

#include "idl/core/result.h"

#include <chrono>
#include <cstdint>
#include <random>

namespace idl::processor {

// Exponential back-off with jitter for the retry topic. The nominal delay before retry n
// (n = 1 for the first retry) is min(cap, base * factor^(n-1)); the actual delay is drawn
// uniformly from [nominal * (1 - jitter), nominal], so retries of many events spread out
// but never exceed the cap. After maxAttempts retries an event goes to the DLQ.
struct BackoffPolicy
{
    std::chrono::milliseconds base{200};
    double factor = 2.0;
    std::chrono::milliseconds cap{30'000};
    int maxAttempts = 5; // retries after the first processing attempt
    double jitter = 0.2; // 0 = none, 1 = "full jitter" (0 .. nominal)

    // InvalidArgument-style check: base > 0, factor >= 1, cap >= base, 0 <= jitter <= 1,
    // maxAttempts >= 0. BadField with a message naming the setting otherwise.
    Result<void> validate() const;

    // Nominal (un-jittered) delay before retry `attempt` (1-based; values < 1 count as 1).
    std::chrono::milliseconds nominalDelay(int attempt) const;

    // Smallest delay the jitter can produce before retry `attempt`.
    std::chrono::milliseconds minDelay(int attempt) const;

    // A jittered delay before retry `attempt`, within [minDelay, nominalDelay].
    std::chrono::milliseconds delay(int attempt, std::mt19937_64 &rng) const;

    // True when an event that has already been retried `attempts` times may be retried again.
    bool mayRetry(int attempts) const { return attempts < maxAttempts; }
};

} // namespace idl::processor
