#pragma once

#include "idl/core/result.h"
#include "idl/gateway/tokens.h"
#include "idl/protocol/replies.h"
#include "idl/protocol/requests.h"

#include <optional>
#include <string>
#include <vector>

namespace idl::pg {
class Connection;
}

// Alert rules, their series and history in PostgreSQL (migration 300), as the gateway's
// alerts.* requests see them: visibility, ownership, sharing and app scope are enforced here,
// in SQL (docs/protocol.md 3.10). Every function runs on the caller's connection.
//
// Visible to `me`: a rule that is mine or shared, and whose app scope (`apps`, the saving
// token's) my scope covers (an unscoped token: every such rule).
namespace idl::gateway::alerts {

// Every visible rule, ordered by name.
Result<std::vector<protocol::AlertRule>> list(pg::Connection &db, const Identity &me);
// One visible rule; NotFound otherwise (also for a malformed uuid).
Result<protocol::AlertRule> get(pg::Connection &db, const Identity &me, const std::string &uuid);
// Creates (no uuid: owned by me, my app scope) or replaces a visible rule (its owner and apps
// stay); Forbidden when a shared rule is created, changed, shared or unshared without the
// editor role. The rule is due at once. The draft must have passed alerter::validate().
Result<protocol::AlertRule> put(pg::Connection &db, const Identity &me,
                                const protocol::AlertRuleDraft &rule);
// Deletes a visible rule (with its series, history and outbox rows); Forbidden for a shared
// rule without the editor role.
Result<void> remove(pg::Connection &db, const Identity &me, const std::string &uuid);

// The pending and firing series of the visible rules (of `rule` only, when set; NotFound
// when that rule is not visible). At most kMaxFiring items.
inline constexpr int kMaxFiring = 10000;
Result<std::vector<protocol::AlertSeries>> firing(pg::Connection &db, const Identity &me,
                                                  const std::string &rule);

// A page of state changes of the visible rules, newest first, and the next page's cursor
// (empty at the end).
struct HistoryPage
{
    std::vector<protocol::AlertChange> items;
    std::string cursor;
};
Result<HistoryPage> history(pg::Connection &db, const Identity &me,
                            const protocol::AlertsHistory &request, std::int64_t nowNs);

// One state change with what decides who may see it (for the pushed alert.state).
struct Change
{
    protocol::AlertChange change;
    std::string owner;
    bool shared = false;
    std::vector<std::string> apps; // empty: every app
};
// The change stored as history row `historyId`; nullopt when it no longer exists.
Result<std::optional<Change>> change(pg::Connection &db, std::int64_t historyId);
// Whether `me` may see a rule of `owner`, `shared`, `apps` (the SQL visibility, in C++).
bool visibleTo(const Identity &me, const std::string &owner, bool shared,
               const std::vector<std::string> &apps);

} // namespace idl::gateway::alerts
