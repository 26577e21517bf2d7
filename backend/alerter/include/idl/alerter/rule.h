#pragma once

#include "idl/core/result.h"
#include "idl/protocol/requests.h"
#include "idl/query/ast.h"
#include "idl/query/sql.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idl::pg {
class Connection;
}

// Alert rules on the logs (docs/alerts.md): what a rule is, how its series are counted (the
// gateway's SQL builders, rollups where the query allows) and how a series' state moves.
// Shared by idl-alerter (evaluation) and idl-gateway (alerts.test, alerts.put checks).
namespace idl::alerter {

enum class Condition { Above, Below, Absent };
enum class GroupBy { None, App, Host };
enum class State { Ok, Pending, Firing };

std::string_view conditionName(Condition c) noexcept;
std::optional<Condition> parseCondition(std::string_view text) noexcept;
std::string_view groupByName(GroupBy g) noexcept; // "", "app", "host"
std::optional<GroupBy> parseGroupBy(std::string_view text) noexcept;
std::string_view stateName(State s) noexcept;
std::optional<State> parseState(std::string_view text) noexcept;

// Where a notification goes: a generic JSON webhook or a Slack-compatible one ({"text"}).
struct Target
{
    std::string kind; // "webhook" or "slack"
    std::string url;  // http:// or https://
};

// Limits of a rule's fields (also CHECKed by migration 300): the protocol's, defined once.
inline constexpr std::int64_t kMinWindowMs = protocol::kAlertMinWindowMs;
inline constexpr std::int64_t kMaxWindowMs = protocol::kAlertMaxWindowMs;
inline constexpr std::int64_t kMinIntervalMs = protocol::kAlertMinIntervalMs;
inline constexpr std::int64_t kMaxIntervalMs = protocol::kAlertMaxIntervalMs;
inline constexpr std::size_t kMaxTargets = protocol::kAlertMaxTargets;
inline constexpr std::size_t kMaxUrlBytes = protocol::kAlertMaxUrlBytes;
inline constexpr std::size_t kMaxQueryBytes = protocol::kAlertMaxQueryBytes;

struct Rule
{
    std::string uuid;
    std::string owner;
    std::string name;
    std::string query;
    std::int64_t windowMs = 300'000;
    Condition condition = Condition::Above;
    std::int64_t threshold = 0;
    GroupBy groupBy = GroupBy::None;
    std::int64_t intervalMs = 60'000;
    std::int64_t forMs = 0;
    std::int64_t resolveMs = 0;
    std::string severity = "warning"; // info, warning, critical
    std::vector<Target> targets;
    bool enabled = true;
    bool shared = false;
    std::vector<std::string> apps; // the app scope it was saved under; empty = every app
};

// A rule from the protocol's draft (alerts.rules.put / .test); owner and apps are the
// server's (the saving token's user and app scope).
Rule ruleFromDraft(const protocol::AlertRuleDraft &draft, std::string owner,
                   std::vector<std::string> apps);

// Checks every field (ranges, names, query syntax, target kinds and URLs); BadField or
// BadRequest with a message naming the field.
Result<void> validate(const Rule &rule);

// Targets as stored (jsonb array of {"kind","url"}) and back.
std::string targetsToJson(const std::vector<Target> &targets);
Result<std::vector<Target>> targetsFromJson(std::string_view json);

// The statements that count a rule's events in the window [nowNs - window, nowNs), per series
// (key '' without group_by): rows (key text, count bigint). The whole minutes of the window
// read log_rollup_minute when the query allows (query::canUseRollups); the partial minutes at
// either end, or everything otherwise, read the raw rows. Built with the gateway's builders
// (query::buildAggregate, query::buildTopN), the rule's apps as the scope; every value is a
// parameter. Grouped rules count at most `maxSeries` series per statement (the largest).
Result<std::vector<query::CompiledQuery>> countQueries(const query::Node &ast, const Rule &rule,
                                                       std::int64_t nowNs, int maxSeries);

// Runs countQueries() and sums them per series.
Result<std::map<std::string, std::int64_t>> countSeries(pg::Connection &db, const Rule &rule,
                                                        std::int64_t nowNs, int maxSeries);

// True when `count` meets the rule's condition.
bool conditionHolds(const Rule &rule, std::int64_t count) noexcept;

// A series' stored state.
struct SeriesState
{
    State state = State::Ok;
    std::int64_t sinceNs = 0;               // when it entered `state`
    std::optional<std::int64_t> clearSince; // firing, condition false since (resolve_ms)
    std::int64_t value = 0;                 // the last count
};

// The next state of a series evaluated at nowNs with `count`:
//   ok      + condition: pending (firing at once when for_ms is 0)
//   pending + condition for for_ms: firing;  pending + not: ok
//   firing  + not for resolve_ms: ok (resolved); firing + condition: stays (clear_since reset)
SeriesState step(const Rule &rule, const SeriesState &current, std::int64_t count,
                 std::int64_t nowNs);

} // namespace idl::alerter
