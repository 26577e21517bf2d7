#include "idl/loadgen/rate_profile.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace idl::loadgen {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const auto pos = s.find(sep, start);
        parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
        if (pos == std::string_view::npos)
            return parts;
        start = pos + 1;
    }
}

bool number(std::string_view s, double &out)
{
    const std::string text(s);
    char *end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return !text.empty() && end == text.c_str() + text.size() && std::isfinite(out) && out >= 0;
}

} // namespace

Result<RateProfile> RateProfile::parse(std::string_view text, double baseRate)
{
    RateProfile p;
    p.m_rate = baseRate;
    const auto parts = split(text, ':');
    const auto bad = [&] {
        return makeError(ErrorCode::BadRequest,
                         "bad profile '" + std::string(text) +
                             "': use steady, burst:PERIOD:LENGTH:MULT or ramp:SECONDS");
    };
    if (parts[0] == "steady" && parts.size() == 1)
        return p;
    if (parts[0] == "burst" && parts.size() == 4) {
        p.m_shape = Shape::Burst;
        if (!number(parts[1], p.m_period) || !number(parts[2], p.m_length) ||
            !number(parts[3], p.m_mult) || p.m_period <= 0 || p.m_length > p.m_period)
            return bad();
        return p;
    }
    if (parts[0] == "ramp" && parts.size() == 2) {
        p.m_shape = Shape::Ramp;
        if (!number(parts[1], p.m_length) || p.m_length <= 0)
            return bad();
        return p;
    }
    return bad();
}

double RateProfile::eventsBy(double t) const
{
    if (t <= 0)
        return 0;
    switch (m_shape) {
    case Shape::Steady:
        return m_rate * t;
    case Shape::Burst: {
        const double perPeriod = m_rate * ((m_period - m_length) + m_length * m_mult);
        const double k = std::floor(t / m_period);
        const double r = t - k * m_period;
        const double inPeriod = r < m_length ? r * m_mult * m_rate
                                             : m_length * m_mult * m_rate + (r - m_length) * m_rate;
        return k * perPeriod + inPeriod;
    }
    case Shape::Ramp:
        return t < m_length ? m_rate * t * t / (2 * m_length)
                            : m_rate * m_length / 2 + m_rate * (t - m_length);
    }
    return 0;
}

double RateProfile::timeFor(double events) const
{
    if (unlimited() || events <= 0)
        return 0;
    // eventsBy is monotonic: bisect.
    double lo = 0;
    double hi = 1;
    while (eventsBy(hi) < events)
        hi *= 2;
    for (int i = 0; i < 60 && hi - lo > 1e-6; ++i) {
        const double mid = (lo + hi) / 2;
        (eventsBy(mid) < events ? lo : hi) = mid;
    }
    return hi;
}

} // namespace idl::loadgen
