#include "idl/processor/sampler.h"

#include <charconv>
#include <cstdint>

namespace idl::processor {

namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

Level prevLevel(Level l)
{
    return static_cast<Level>(static_cast<int>(l) - 1);
}
Level nextLevel(Level l)
{
    return static_cast<Level>(static_cast<int>(l) + 1);
}

} // namespace

Result<std::vector<SampleRule>> parseSampleRules(std::string_view text)
{
    std::vector<SampleRule> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(';', start);
        if (end == std::string_view::npos)
            end = text.size();
        const std::string_view ruleText = trim(text.substr(start, end - start));
        start = end + 1;
        if (ruleText.empty())
            continue;
        SampleRule rule;
        rule.text = std::string(ruleText);
        bool hasKeep = false;
        const auto bad = [&](const std::string &why) {
            return makeError(ErrorCode::BadField,
                             "sample.rules: '" + std::string(ruleText) + "': " + why);
        };
        std::size_t t = 0;
        while (t < ruleText.size()) {
            std::size_t te = ruleText.find(' ', t);
            if (te == std::string_view::npos)
                te = ruleText.size();
            const std::string_view term = ruleText.substr(t, te - t);
            t = te + 1;
            if (term.empty())
                continue;
            if (term.starts_with("app=")) {
                rule.app = std::string(term.substr(4));
                if (rule.app.empty())
                    return bad("empty app");
            } else if (term.starts_with("keep=")) {
                const std::string_view v = term.substr(5);
                double keep = -1;
                const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), keep);
                if (ec != std::errc() || p != v.data() + v.size() || !(keep >= 0 && keep <= 1))
                    return bad("keep must be a number within 0..1");
                rule.keep = keep;
                hasKeep = true;
            } else if (term.starts_with("level")) {
                std::string_view rest = term.substr(5);
                std::string_view op;
                for (const std::string_view candidate : {"<=", ">=", "=", "<", ">"}) {
                    if (rest.starts_with(candidate)) {
                        op = candidate;
                        break;
                    }
                }
                if (op.empty())
                    return bad("level needs =, <=, >=, < or >");
                const std::optional<Level> level = parseLevel(rest.substr(op.size()));
                if (!level)
                    return bad("unknown level '" + std::string(rest.substr(op.size())) + "'");
                if (op == "=") {
                    rule.minLevel = rule.maxLevel = *level;
                } else if (op == "<=") {
                    rule.maxLevel = *level;
                } else if (op == ">=") {
                    rule.minLevel = *level;
                } else if (op == "<") {
                    if (*level == Level::Trace)
                        return bad("nothing is below trace");
                    rule.maxLevel = prevLevel(*level);
                } else {
                    if (*level == Level::Fatal)
                        return bad("nothing is above fatal");
                    rule.minLevel = nextLevel(*level);
                }
            } else {
                return bad("unknown term '" + std::string(term) + "'");
            }
        }
        if (!hasKeep)
            return bad("keep=… is required");
        out.push_back(std::move(rule));
    }
    return out;
}

double Sampler::unitHash(std::string_view eventId) noexcept
{
    // FNV-1a 64, then a final avalanche (splitmix64) so similar ids spread evenly.
    std::uint64_t h = 1469598103934665603ULL;
    for (const char c : eventId) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return static_cast<double>(h >> 11) * 0x1.0p-53;
}

std::optional<std::size_t> Sampler::dropRule(std::string_view app, Level level,
                                             std::string_view eventId) const
{
    for (std::size_t i = 0; i < m_rules.size(); ++i) {
        const SampleRule &r = m_rules[i];
        if (r.app != "*" && r.app != app)
            continue;
        if (level < r.minLevel || level > r.maxLevel)
            continue;
        if (r.keep >= 1.0)
            return std::nullopt;
        if (r.keep <= 0.0 || unitHash(eventId) >= r.keep)
            return i;
        return std::nullopt;
    }
    return std::nullopt;
}

} // namespace idl::processor
