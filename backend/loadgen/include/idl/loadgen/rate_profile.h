#pragma once

#include "idl/core/result.h"

#include <string_view>

namespace idl::loadgen {

// How the target rate changes over a run. `eventsBy(t)` is the cumulative number of events
// that should have been sent t seconds after the start; the sender paces itself on it.
// Profiles (text form):
//   steady                   the base rate all the time
//   burst:PERIOD:LENGTH:MULT every PERIOD seconds, LENGTH seconds at MULT x the base rate
//   ramp:SECONDS             from 0 to the base rate over SECONDS, then steady
// A base rate of 0 means "as fast as possible" (no pacing). Immutable; thread-safe.
class RateProfile
{
public:
    static Result<RateProfile> parse(std::string_view text, double baseRate);

    bool unlimited() const { return m_rate <= 0; }
    double baseRate() const { return m_rate; }
    // Events due by t seconds after the start.
    double eventsBy(double t) const;
    // Earliest time (seconds after the start) by which `events` are due.
    double timeFor(double events) const;

private:
    enum class Shape { Steady, Burst, Ramp };
    Shape m_shape = Shape::Steady;
    double m_rate = 0;
    double m_period = 0;
    double m_length = 0;
    double m_mult = 1;
};

} // namespace idl::loadgen
