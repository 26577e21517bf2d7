#pragma once

#include "idl/core/log_event.h"
#include "idl/core/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idl::processor {

// One drop/sample rule: events of `app` ("*" = any) whose level lies in [minLevel, maxLevel]
// are kept with probability `keep` (0 = drop all, 1 = keep all). The decision is a hash of
// the event id, so a retried or replayed event gets the same decision every time.
struct SampleRule
{
    std::string app = "*";
    Level minLevel = Level::Trace;
    Level maxLevel = Level::Fatal;
    double keep = 1.0;
    std::string text; // the rule as written, for metrics labels and logs
};

// Parses rules separated by ';', each of space-separated terms:
//   app=NAME|*   level=L | level<=L | level>=L | level<L | level>L   keep=0..1
// e.g. "app=checkout level<=debug keep=0.1; level=trace keep=0". Empty text = no rules.
Result<std::vector<SampleRule>> parseSampleRules(std::string_view text);

// Applies rules in order; the first rule that matches an event decides. Const; thread-safe.
class Sampler
{
public:
    Sampler() = default;
    explicit Sampler(std::vector<SampleRule> rules) : m_rules(std::move(rules)) {}

    // Index of the rule that drops this event, or nullopt when it is kept.
    std::optional<std::size_t> dropRule(std::string_view app, Level level,
                                        std::string_view eventId) const;

    const std::vector<SampleRule> &rules() const { return m_rules; }

    // The sampling hash of an id mapped to [0, 1).
    static double unitHash(std::string_view eventId) noexcept;

private:
    std::vector<SampleRule> m_rules;
};

} // namespace idl::processor
