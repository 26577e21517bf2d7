#pragma once

#include "idl/core/result.h"
#include "idl/gateway/tokens.h"
#include "idl/protocol/requests.h"
#include "idl/query/ast.h"
#include "idl/query/sql.h"

#include <charconv>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace idl::pg {
class Connection;
class Rows;
} // namespace idl::pg

// The gateway's request handlers, one family a file: what each request of docs/protocol.md
// does once its session has authenticated it, rate-limited it and decoded it. The WebSocket
// session reaches them through dispatch(); the HTTP API uses the same page reader.
namespace idl::gateway {

class Session;
class RequestState;

namespace handlers {

// True when the session's role is at least `role`; otherwise answers `forbidden` with
// "<what> the <role> role" and returns false.
bool requireRole(Session &session, const std::string &id, Role role, std::string_view what);

// Routes a decoded request (not hello/auth/ping, which the session answers) to its handler.
void dispatch(Session &session, const std::string &id, const protocol::Request &request);

// query_handler.cpp
void query(Session &session, const std::string &id, const protocol::Query &request);
void exportRows(Session &session, const std::string &id, const protocol::Export &request);
// aggregate_handler.cpp
void aggregate(Session &session, const std::string &id, const protocol::Aggregate &request);
void top(Session &session, const std::string &id, const protocol::Top &request);
// tail_handler.cpp
void tailStart(Session &session, const std::string &id, const protocol::TailStart &request);
// tail.stop (cancel = false) and cancel (cancel = true) of request `target`.
void stopRequest(Session &session, const std::string &id, const std::string &target, bool cancel);
// saved_handler.cpp
void savedList(Session &session, const std::string &id);
void savedGet(Session &session, const std::string &id, const protocol::SavedGet &request);
void savedPut(Session &session, const std::string &id, const protocol::SavedPut &request);
void savedDelete(Session &session, const std::string &id, const protocol::SavedDelete &request);
// tokens_handler.cpp
void tokensList(Session &session, const std::string &id);
void tokensCreate(Session &session, const std::string &id, const protocol::TokensCreate &request);
void tokensRevoke(Session &session, const std::string &id, const protocol::TokensRevoke &request);

// alerts_handler.cpp
void alertsRulesList(Session &session, const std::string &id);
void alertsRulesGet(Session &session, const std::string &id,
                    const protocol::AlertsRulesGet &request);
void alertsRulesPut(Session &session, const std::string &id,
                    const protocol::AlertsRulesPut &request);
void alertsRulesDelete(Session &session, const std::string &id,
                       const protocol::AlertsRulesDelete &request);
void alertsRulesTest(Session &session, const std::string &id,
                     const protocol::AlertsRulesTest &request);
void alertsFiring(Session &session, const std::string &id, const protocol::AlertsFiring &request);
void alertsHistory(Session &session, const std::string &id, const protocol::AlertsHistory &request);

// dlq_handler.cpp (admin)
void dlqList(Session &session, const std::string &id, const protocol::DlqList &request);
void dlqGet(Session &session, const std::string &id, const protocol::DlqGet &request);
void dlqReplay(Session &session, const std::string &id, const protocol::DlqReplay &request);

} // namespace handlers

// --- helpers shared by the handlers

// A decimal column value (ts, counts) as an integer; 0 when it does not parse.
inline std::int64_t toInt(std::string_view s)
{
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}
// Milliseconds since t0, for `elapsed_ms`.
inline std::int64_t elapsedMs(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0)
        .count();
}
// The filter and the time range of a request, checked (query syntax, times, from < to).
struct Filter
{
    query::Node ast;
    protocol::Interval range;
};
Result<Filter> parseFilter(std::string_view q, const protocol::Range &range, std::int64_t nowNs);

// Runs a compiled statement; `state` (may be null) cancels it (then Cancelled).
Result<pg::Rows> runCancellable(pg::Connection &db, const query::CompiledQuery &q,
                                RequestState *state);

// --- the page reader: one page of a query, for the WebSocket `query` and HTTP GET /api/v1/query

// A checked page request: the parsed filter and the options the SQL builder needs.
struct PagePlan
{
    query::Node ast;
    query::QueryOptions options; // range, order, scope, cursor
    std::int64_t limit = 0;      // rows in the page
    // Start of the open partition (today's UTC day at planning time): rows from here on have
    // no trigram index, and the ts b-tree is their only ordered path.
    std::int64_t openFromNs = std::numeric_limits<std::int64_t>::max();
};
// Checks a query request for an identity's app scope at time `nowNs` (query syntax, time
// range, cursor, the SQL it compiles to).
Result<PagePlan> planPage(const protocol::Query &request, const std::vector<std::string> &apps,
                          std::int64_t nowNs);

// What a page read found.
struct PageResult
{
    std::int64_t count = 0;
    std::string cursor; // empty: no more rows
};
// Reads one page. Over more than an hour the range is read in time windows growing from the
// starting end (15 min or 1/32 of the range, then x4), so a selective filter stops as soon as
// the page is full instead of scanning the whole range. In the open partition a filter with a
// message, regex or attribute term (query::hasUnestimatedTerm) is read in two steps: bounded
// looks at the newest (asc: oldest) rows of the open part of the range (40,000 rows, then at
// most 400,000 when the first one's matches predict a page within them) return the page when
// it is full there; otherwise its windows are read with query::QueryOptions::fullSort, a plan
// that reads the window's rows once instead of a walk of the ts b-tree that cannot stop early
// (measured in docs/benchmarks.md). Windows never straddle the start of the open partition.
// onRows(rows, begin, end) receives the rows in page order; `state` (may be null) cancels the
// running statement.
Result<PageResult> readPage(pg::Connection &db, const PagePlan &plan, RequestState *state,
                            const std::function<void(const pg::Rows &, int, int)> &onRows);

} // namespace idl::gateway
