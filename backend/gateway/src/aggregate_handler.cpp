// aggregate and top: counts over time and top values, from the rollups where the filter allows.
#include "handlers.h"
#include "idl/core/timestamp.h"
#include "idl/gateway/wire.h"
#include "idl/pg/connection.h"
#include "idl/protocol/replies.h"
#include "session.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace idl::gateway {
namespace {

using Clock = std::chrono::steady_clock;

// With split:"app", keeps the `series` apps with most events and sums the rest as "_other".
std::vector<std::string> keepTopSeries(std::vector<std::map<std::string, std::int64_t>> &buckets,
                                       const std::map<std::string, std::int64_t> &totals,
                                       std::int64_t series)
{
    std::vector<std::pair<std::int64_t, std::string>> byCount;
    for (const auto &[k, c] : totals)
        byCount.push_back({-c, k});
    std::sort(byCount.begin(), byCount.end());
    std::vector<std::string> keys;
    std::set<std::string> keep;
    for (const auto &[c, k] : byCount) {
        if (static_cast<std::int64_t>(keys.size()) < series) {
            keys.push_back(k);
            keep.insert(k);
        }
    }
    if (byCount.size() > keys.size()) {
        keys.push_back("_other");
        for (auto &b : buckets) {
            std::int64_t other = 0;
            for (auto it = b.begin(); it != b.end();) {
                if (!keep.count(it->first)) {
                    other += it->second;
                    it = b.erase(it);
                } else {
                    ++it;
                }
            }
            if (other)
                b["_other"] += other;
        }
    }
    return keys;
}

} // namespace

namespace handlers {

void aggregate(Session &session, const std::string &id, const protocol::Aggregate &request)
{
    auto filter = parseFilter(request.q, request.range, nowNs());
    if (!filter)
        return session.sendError(id, filter.error());
    const query::Node &ast = filter->ast;
    const protocol::Interval *range = &filter->range;
    const std::int64_t bucket = request.bucketMs ? request.bucketMs * 1'000'000
                                                 : chooseBucketNs(range->fromNs, range->toNs);
    query::AggregateOptions ao;
    ao.fromNs = range->fromNs - range->fromNs % bucket;
    ao.toNs = range->toNs % bucket ? range->toNs - range->toNs % bucket + bucket : range->toNs;
    if ((ao.toNs - ao.fromNs) / bucket > 2000)
        return session.sendError(id, makeError(ErrorCode::BadRequest, "more than 2000 buckets"));
    ao.bucketNs = bucket;
    ao.split = request.split == "app" ? query::AggregateSplit::App : query::AggregateSplit::Level;
    ao.allowedApps = session.identity().apps;
    ao.maxBuckets = 2000;
    auto q = query::buildAggregate(ast, ao);
    if (!q)
        return session.sendError(id, q.error());
    const std::int64_t series = request.maxSeries;
    const auto t0 = Clock::now();
    session.runJob(
        id, "aggregate",
        [q = std::move(q).value(), ao, series, id,
         t0](pg::Connection &db, const Session::Emit &emit,
             const std::shared_ptr<RequestState> &state) -> Result<void> {
            auto rows = runCancellable(db, q, state.get());
            if (!rows)
                return rows.error();
            protocol::AggregateResult r;
            r.bucketMs = ao.bucketNs / 1'000'000;
            r.source = q.fromRollups ? "rollup" : "raw";
            r.fromNs = ao.fromNs;
            r.toNs = ao.toNs;
            const auto nb = static_cast<std::size_t>((ao.toNs - ao.fromNs) / ao.bucketNs);
            r.buckets.resize(nb);
            std::map<std::string, std::int64_t> totals;
            for (int i = 0; i < rows->rowCount(); ++i) {
                const std::int64_t b = toInt(rows->value(i, 0));
                const std::int64_t c = toInt(rows->value(i, 2));
                const auto idx = static_cast<std::size_t>((b - ao.fromNs) / ao.bucketNs);
                if (b < ao.fromNs || idx >= nb)
                    continue;
                r.buckets[idx][std::string(rows->value(i, 1))] += c;
                totals[std::string(rows->value(i, 1))] += c;
                r.total += c;
            }
            if (ao.split == query::AggregateSplit::Level)
                r.keys = {"trace", "debug", "info", "warn", "error", "fatal"};
            else
                r.keys = keepTopSeries(r.buckets, totals, series);
            r.elapsedMs = elapsedMs(t0);
            emit(protocol::aggregateResultMessage(id, r), true);
            return {};
        },
        DbTarget::ReadOnly);
}

void top(Session &session, const std::string &id, const protocol::Top &request)
{
    auto filter = parseFilter(request.q, request.range, nowNs());
    if (!filter)
        return session.sendError(id, filter.error());
    const query::Node &ast = filter->ast;
    const protocol::Interval *range = &filter->range;
    query::TopNOptions to;
    to.fromNs = range->fromNs;
    to.toNs = range->toNs;
    to.limit = request.limit;
    to.allowedApps = session.identity().apps;
    auto q = query::buildTopN(
        request.field == "app" ? query::TopNField::App : query::TopNField::Host, ast, to);
    if (!q)
        return session.sendError(id, q.error());
    const auto t0 = Clock::now();
    session.runJob(
        id, "top",
        [q = std::move(q).value(), field = request.field, id,
         t0](pg::Connection &db, const Session::Emit &emit,
             const std::shared_ptr<RequestState> &state) -> Result<void> {
            auto rows = runCancellable(db, q, state.get());
            if (!rows)
                return rows.error();
            protocol::TopResult r;
            r.field = field;
            r.source = q.fromRollups ? "rollup" : "raw";
            for (int i = 0; i < rows->rowCount(); ++i)
                r.items.push_back({std::string(rows->value(i, 0)), toInt(rows->value(i, 1))});
            r.elapsedMs = elapsedMs(t0);
            emit(protocol::topResultMessage(id, r), true);
            return {};
        },
        DbTarget::ReadOnly);
}

} // namespace handlers
} // namespace idl::gateway
