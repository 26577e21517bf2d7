// alerts.rules.list/get/put/delete/test, alerts.firing, alerts.history (the SQL lives in
// alerts_store.cpp; counting in idl::alert_rules, the evaluator's own code).
#include "alerts_store.h"
#include "db_pool.h"
#include "handlers.h"
#include "idl/alerter/rule.h"
#include "idl/core/timestamp.h"
#include "idl/pg/connection.h"
#include "idl/protocol/replies.h"
#include "session.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace idl::gateway::handlers {
namespace {

// Series counted per statement by alerts.rules.test before the reply keeps max_series of
// them (the evaluator's default eval.max-series).
constexpr int kTestSeriesPerStatement = 500;

// A draft as the rule it would be for `me` (my user, my app scope), checked by the
// evaluator's validate() (query syntax, target urls, every range).
Result<alerter::Rule> checkedRule(const Identity &me, const protocol::AlertRuleDraft &draft)
{
    alerter::Rule rule = alerter::ruleFromDraft(draft, me.user, me.apps);
    if (rule.name.empty())
        rule.name = "test"; // alerts.rules.test needs no name
    if (auto v = alerter::validate(rule); !v)
        return v.error();
    return rule;
}

// Counts `rule` over `windows` consecutive windows ending at nowNs, keeping the
// `maxSeries` series with most events.
Result<protocol::AlertTestResult> testRule(pg::Connection &db, const alerter::Rule &rule,
                                           const protocol::AlertsRulesTest &request,
                                           std::int64_t nowNs, RequestState &state)
{
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t windowNs = rule.windowMs * 1'000'000;
    protocol::AlertTestResult r;
    r.windowMs = rule.windowMs;
    r.toNs = nowNs;
    r.fromNs = nowNs - request.windows * windowNs;
    r.condition = std::string(alerter::conditionName(rule.condition));
    r.threshold = rule.threshold;
    std::map<std::string, std::int64_t> totals;
    for (std::int64_t i = 0; i < request.windows; ++i) {
        protocol::AlertTestResult::Bucket b;
        b.tNs = r.fromNs + i * windowNs;
        state.attach(db);
        auto counts = alerter::countSeries(db, rule, b.tNs + windowNs, kTestSeriesPerStatement);
        state.detach();
        if (state.cancelled())
            return makeError(ErrorCode::Cancelled, "cancelled by the client");
        if (!counts)
            return counts.error();
        for (const auto &[k, c] : *counts) {
            totals[k] += c;
            if (c)
                b.counts[k] = c;
        }
        r.buckets.push_back(std::move(b));
    }
    // The series with most events (ties by name); "" always for a rule without group_by.
    std::vector<std::pair<std::int64_t, std::string>> byCount;
    for (const auto &[k, c] : totals)
        byCount.push_back({-c, k});
    std::sort(byCount.begin(), byCount.end());
    std::set<std::string> keep;
    for (const auto &[c, k] : byCount) {
        if (static_cast<std::int64_t>(r.keys.size()) == request.maxSeries) {
            r.truncated = true;
            break;
        }
        r.keys.push_back(k);
        keep.insert(k);
    }
    for (auto &b : r.buckets) {
        std::erase_if(b.counts, [&](const auto &kv) { return !keep.count(kv.first); });
        for (const std::string &k : r.keys) {
            const auto it = b.counts.find(k);
            if (alerter::conditionHolds(rule, it == b.counts.end() ? 0 : it->second))
                b.holds.push_back(k);
        }
    }
    r.elapsedMs = elapsedMs(t0);
    return r;
}

} // namespace

void alertsRulesList(Session &session, const std::string &id)
{
    session.runJob(
        id, "alerts.rules.list",
        [me = session.identity(), id](pg::Connection &db, const Session::Emit &emit,
                                      const std::shared_ptr<RequestState> &) -> Result<void> {
            auto items = alerts::list(db, me);
            if (!items)
                return items.error();
            emit(protocol::alertRulesListMessage(id, *items), true);
            return {};
        });
}

void alertsRulesGet(Session &session, const std::string &id,
                    const protocol::AlertsRulesGet &request)
{
    session.runJob(id, "alerts.rules.get",
                   [me = session.identity(), id,
                    uuid = request.uuid](pg::Connection &db, const Session::Emit &emit,
                                         const std::shared_ptr<RequestState> &) -> Result<void> {
                       auto r = alerts::get(db, me, uuid);
                       if (!r)
                           return r.error();
                       emit(protocol::alertRuleResultMessage(id, *r), true);
                       return {};
                   });
}

void alertsRulesPut(Session &session, const std::string &id,
                    const protocol::AlertsRulesPut &request)
{
    // Checked before any database work: the evaluator's own checks of every field.
    if (auto rule = checkedRule(session.identity(), request.rule); !rule)
        return session.sendError(id, rule.error());
    // Webhook targets make idl-alerter POST wherever a rule says (docs/security.md, "Alerts"):
    // editors and admins only.
    if (!request.rule.targets.empty() &&
        !requireRole(session, id, Role::Editor, "notification targets need"))
        return;
    session.runJob(id, "alerts.rules.put",
                   [me = session.identity(), id,
                    draft = request.rule](pg::Connection &db, const Session::Emit &emit,
                                          const std::shared_ptr<RequestState> &) -> Result<void> {
                       auto r = alerts::put(db, me, draft);
                       if (!r)
                           return r.error();
                       emit(protocol::alertRuleResultMessage(id, *r), true);
                       return {};
                   });
}

void alertsRulesDelete(Session &session, const std::string &id,
                       const protocol::AlertsRulesDelete &request)
{
    session.runJob(id, "alerts.rules.delete",
                   [me = session.identity(), id,
                    uuid = request.uuid](pg::Connection &db, const Session::Emit &emit,
                                         const std::shared_ptr<RequestState> &) -> Result<void> {
                       if (auto r = alerts::remove(db, me, uuid); !r)
                           return r;
                       emit(protocol::okMessage(id), true);
                       return {};
                   });
}

void alertsRulesTest(Session &session, const std::string &id,
                     const protocol::AlertsRulesTest &request)
{
    auto rule = checkedRule(session.identity(), request.rule);
    if (!rule)
        return session.sendError(id, rule.error());
    session.runJob(id, "alerts.rules.test",
                   [id, rule = std::move(rule).value(), request,
                    now = nowNs()](pg::Connection &db, const Session::Emit &emit,
                                   const std::shared_ptr<RequestState> &state) -> Result<void> {
                       auto r = testRule(db, rule, request, now, *state);
                       if (!r)
                           return r.error();
                       emit(protocol::alertTestResultMessage(id, *r), true);
                       return {};
                   });
}

void alertsFiring(Session &session, const std::string &id, const protocol::AlertsFiring &request)
{
    session.runJob(id, "alerts.firing",
                   [me = session.identity(), id,
                    rule = request.rule](pg::Connection &db, const Session::Emit &emit,
                                         const std::shared_ptr<RequestState> &) -> Result<void> {
                       auto items = alerts::firing(db, me, rule);
                       if (!items)
                           return items.error();
                       emit(protocol::alertsFiringMessage(id, *items), true);
                       return {};
                   });
}

void alertsHistory(Session &session, const std::string &id, const protocol::AlertsHistory &request)
{
    session.runJob(id, "alerts.history",
                   [me = session.identity(), id, request,
                    now = nowNs()](pg::Connection &db, const Session::Emit &emit,
                                   const std::shared_ptr<RequestState> &) -> Result<void> {
                       auto page = alerts::history(db, me, request, now);
                       if (!page)
                           return page.error();
                       emit(protocol::alertsHistoryMessage(id, page->items, page->cursor), true);
                       return {};
                   });
}

} // namespace idl::gateway::handlers
