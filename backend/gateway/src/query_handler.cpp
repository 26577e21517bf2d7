// query and export: the page reader and the export stream.
#include "handlers.h"
#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/gateway/wire.h"
#include "idl/pg/connection.h"
#include "idl/protocol/replies.h"
#include "idl/query/parser.h"
#include "idl/schema/migrations.h"
#include "session.h"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace idl::gateway {
namespace {

using Clock = std::chrono::steady_clock;

// Runs one page statement; cancellable through `state`.
Result<pg::Rows> runStatement(pg::Connection &db, const query::Node &ast,
                              const query::QueryOptions &o, RequestState *state)
{
    auto q = query::buildQuery(ast, o);
    if (!q)
        return q.error();
    return runCancellable(db, *q, state);
}

} // namespace

Result<pg::Rows> runCancellable(pg::Connection &db, const query::CompiledQuery &q,
                                RequestState *state)
{
    if (state)
        state->attach(db);
    auto rows = db.query(q.sql, pg::Params(q.params.begin(), q.params.end()));
    if (state) {
        state->detach();
        if (state->cancelled())
            return makeError(ErrorCode::Cancelled, "cancelled by the client");
    }
    return rows;
}

Result<Filter> parseFilter(std::string_view q, const protocol::Range &range, std::int64_t nowNs)
{
    auto ast = query::parse(q);
    if (!ast)
        return ast.error();
    auto interval = protocol::resolveRange(range, nowNs);
    if (!interval)
        return interval.error();
    return Filter{std::move(ast).value(), *interval};
}

namespace {

// The common part of query and export plans: filter, range, order, cursor, scope.
Result<PagePlan> plan(std::string_view q, const protocol::Range &range, protocol::Order order,
                      const std::string &cursor, const std::vector<std::string> &apps,
                      std::int64_t nowNs)
{
    auto filter = parseFilter(q, range, nowNs);
    if (!filter)
        return filter.error();
    PagePlan p;
    p.ast = std::move(filter->ast);
    p.options.fromNs = filter->range.fromNs;
    p.options.toNs = filter->range.toNs;
    p.options.order =
        order == protocol::Order::Asc ? query::SortOrder::Asc : query::SortOrder::Desc;
    p.options.allowedApps = apps;
    if (!cursor.empty()) {
        auto c = protocol::decodeCursor(cursor);
        if (!c)
            return c.error();
        p.options.cursor = query::Cursor{c->first, c->second};
    }
    return p;
}

} // namespace

Result<PagePlan> planPage(const protocol::Query &request, const std::vector<std::string> &apps,
                          std::int64_t nowNs)
{
    auto p = plan(request.q, request.range, request.order, request.cursor, apps, nowNs);
    if (!p)
        return p;
    p->limit = request.limit;
    p->options.limit = request.limit + 1;
    p->openFromNs = nowNs - nowNs % schema::kLogPartitionNs;
    if (auto probe = query::buildQuery(p->ast, p->options); !probe)
        return probe.error();
    return p;
}

namespace {

// Bounded looks at the open partition's part of a range (query::QueryOptions::lookRows): the
// first reads this many rows at most; a second one up to kLookRowsMax when the matches of the
// first predict a full page within them. Measured in docs/benchmarks.md ("bounded look").
constexpr std::int64_t kLookRows = 40'000;
constexpr std::int64_t kLookRowsMax = 400'000;

} // namespace

Result<PageResult> readPage(pg::Connection &db, const PagePlan &plan, RequestState *state,
                            const std::function<void(const pg::Rows &, int, int)> &onRows)
{
    // Up to an hour one statement is cheaper than windows (measured in docs/benchmarks.md);
    // BRIN keeps each window cheap.
    const query::QueryOptions &qo = plan.options;
    const bool desc = qo.order == query::SortOrder::Desc;
    std::int64_t lo = qo.fromNs;
    std::int64_t hi = qo.toNs;
    if (qo.cursor) {
        if (desc)
            hi = std::min(hi, qo.cursor->tsNs + 1);
        else
            lo = std::max(lo, qo.cursor->tsNs);
    }
    constexpr std::int64_t kHour = 3'600'000'000'000LL;
    std::int64_t width =
        hi - lo <= kHour ? hi - lo : std::max<std::int64_t>(kHour / 4, (hi - lo) / 32);
    // The open partition has no index for these terms: look first, then read it whole.
    const bool guarded = query::hasUnestimatedTerm(plan.ast);
    const std::int64_t open = plan.openFromNs;
    bool looked = false;
    PageResult result;
    std::string lastTs, lastId;
    // Passes rows [0, n) on; true when they fill the page (then result.cursor is set).
    auto take = [&](const pg::Rows &rows) {
        const int n = rows.rowCount();
        const std::int64_t remaining = plan.limit - result.count;
        if (n > remaining) {
            const int k = static_cast<int>(remaining);
            if (k > 0)
                onRows(rows, 0, k);
            result.count += k;
            result.cursor =
                k > 0 ? protocol::encodeCursor(toInt(rows.value(k - 1, 1)), rows.value(k - 1, 0))
                      : protocol::encodeCursor(toInt(lastTs), lastId);
            return true;
        }
        if (n > 0) {
            onRows(rows, 0, n);
            lastTs = rows.value(n - 1, 1);
            lastId = rows.value(n - 1, 0);
        }
        result.count += n;
        return false;
    };
    while (lo < hi) {
        const bool inOpen = desc ? hi > open : lo >= open;
        if (guarded && inOpen && !looked) {
            looked = true;
            query::QueryOptions lk = qo;
            lk.fromNs = desc ? std::max(lo, open) : lo;
            lk.toNs = hi;
            lk.limit = plan.limit - result.count + 1;
            for (std::int64_t n = kLookRows;;) {
                lk.lookRows = n;
                auto rows = runStatement(db, plan.ast, lk, state);
                if (!rows)
                    return rows.error();
                const std::int64_t found = rows->rowCount();
                if (found >= lk.limit) {
                    take(*rows);
                    return result;
                }
                // The matches seen predict how many rows fill the page; the look stops as soon
                // as they are found. Otherwise the windows below read these rows again.
                if (found == 0 || n >= kLookRowsMax || n * lk.limit / found > kLookRowsMax)
                    break;
                n = kLookRowsMax;
            }
        }
        query::QueryOptions wo = qo;
        if (desc)
            wo.fromNs = hi - lo > width ? hi - width : lo;
        else
            wo.toNs = hi - lo > width ? lo + width : hi;
        wo.fromNs = std::max(wo.fromNs, lo);
        wo.toNs = std::min(wo.toNs, hi);
        if (desc && hi > open)
            wo.fromNs = std::max(wo.fromNs, open);
        if (!desc && lo < open)
            wo.toNs = std::min(wo.toNs, open);
        wo.fullSort = guarded && wo.fromNs >= open;
        wo.limit = plan.limit - result.count + 1;
        auto rows = runStatement(db, plan.ast, wo, state);
        if (!rows)
            return rows.error();
        if (take(*rows))
            break;
        if (desc)
            hi = wo.fromNs;
        else
            lo = wo.toNs;
        width = width > (std::int64_t(1) << 60) ? width : width * 4;
    }
    return result;
}

namespace handlers {

void query(Session &session, const std::string &id, const protocol::Query &request)
{
    auto p = planPage(request, session.identity().apps, nowNs());
    if (!p)
        return session.sendError(id, p.error());
    const std::int64_t chunk = request.chunk;
    const auto t0 = Clock::now();
    session.runJob(
        id, "query",
        [p = std::move(p).value(), chunk, id,
         t0](pg::Connection &db, const Session::Emit &emit,
             const std::shared_ptr<RequestState> &state) -> Result<void> {
            std::int64_t seq = 0;
            auto page = readPage(db, p, state.get(), [&](const pg::Rows &rows, int begin, int end) {
                for (int b = begin; b < end; b += static_cast<int>(chunk)) {
                    const int e = std::min<int>(end, b + static_cast<int>(chunk));
                    std::string out;
                    protocol::beginRows(out, id, seq++);
                    for (int i = b; i < e; ++i) {
                        if (i > b)
                            out.push_back(',');
                        appendRowJson(out, rows, i);
                    }
                    protocol::endRows(out);
                    emit(std::move(out), false);
                }
            });
            if (!page)
                return page.error();
            emit(protocol::doneMessage(id, page->count, page->cursor, elapsedMs(t0)), true);
            return {};
        },
        DbTarget::ReadOnly);
}

void exportRows(Session &session, const std::string &id, const protocol::Export &request)
{
    auto p = plan(request.q, request.range, request.order, request.cursor, session.identity().apps,
                  nowNs());
    if (!p)
        return session.sendError(id, p.error());
    p->options.limit = request.chunk;
    if (auto probe = query::buildQuery(p->ast, p->options); !probe)
        return session.sendError(id, probe.error());
    const unsigned columns = protocol::columnSet(request);
    const auto t0 = Clock::now();
    session.runJob(
        id, "export",
        [p = std::move(p).value(), columns, id,
         t0](pg::Connection &db, const Session::Emit &emit,
             const std::shared_ptr<RequestState> &state) mutable -> Result<void> {
            query::QueryOptions &qo = p.options;
            const double span = static_cast<double>(qo.toNs - qo.fromNs);
            std::int64_t count = 0;
            std::int64_t seq = 0;
            for (;;) {
                auto rows = runStatement(db, p.ast, qo, state.get());
                if (!rows)
                    return rows.error();
                const int n = rows->rowCount();
                count += n;
                if (n > 0) {
                    const std::int64_t ts = toInt(rows->value(n - 1, 1));
                    const double frac = qo.order == query::SortOrder::Asc
                                            ? static_cast<double>(ts - qo.fromNs) / span
                                            : static_cast<double>(qo.toNs - ts) / span;
                    std::string out;
                    protocol::beginRows(out, id, seq++);
                    for (int i = 0; i < n; ++i) {
                        if (i)
                            out.push_back(',');
                        appendRowJson(out, *rows, i, columns);
                    }
                    protocol::endRows(out, protocol::Progress{count, std::clamp(frac, 0.0, 1.0)});
                    emit(std::move(out), false);
                }
                if (n < qo.limit)
                    break;
                qo.cursor =
                    query::Cursor{toInt(rows->value(n - 1, 1)), std::string(rows->value(n - 1, 0))};
            }
            emit(protocol::doneMessage(id, count, {}, elapsedMs(t0)), true);
            return {};
        },
        DbTarget::ReadOnly);
}

} // namespace handlers
} // namespace idl::gateway
