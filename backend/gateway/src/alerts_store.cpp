#include "alerts_store.h"

#include "handlers.h"
#include "idl/alerter/rule.h"
#include "idl/core/timestamp.h"
#include "idl/pg/connection.h"

#include <QString>
#include <QUuid>

#include <algorithm>

namespace idl::gateway::alerts {
namespace {

// Ns since the epoch of a timestamptz column, in SQL.
std::string ns(const std::string &column)
{
    return "(extract(epoch FROM " + column + ") * 1000000000)::bigint";
}

const std::string kSelect =
    "SELECT r.uuid, r.name, r.query, r.window_ms, r.condition, r.threshold, r.group_by, "
    "r.interval_ms, r.for_ms, r.resolve_ms, r.severity, r.targets::text, r.enabled, r.shared, "
    "r.owner, r.apps, " +
    ns("r.created_at") + ", " + ns("r.updated_at") + ", " + ns("r.last_eval_at") +
    ", r.last_error FROM alert_rules r ";

// SQL condition: rule `r` is visible to me: mine or shared, within my app scope.
// $<user> = my user, $<apps> = my apps as a text[] literal (NULL: unscoped).
std::string visible(int user, int apps)
{
    const std::string u = "$" + std::to_string(user), a = "$" + std::to_string(apps);
    return "((r.owner = " + u + " OR r.shared) AND (" + a +
           "::text[] IS NULL OR (r.apps IS NOT NULL AND cardinality(r.apps) > 0 AND r.apps <@ " +
           a + "::text[])))";
}

pg::Param scope(const Identity &me)
{
    return me.apps.empty() ? pg::Param() : pg::Param(toPgArray(me.apps));
}

std::string millis(const pg::Rows &r, int i, int col)
{
    return r.isNull(i, col) ? std::string() : formatRfc3339Millis(toInt(r.value(i, col)));
}

protocol::AlertRule fromRow(const pg::Rows &r, int i)
{
    protocol::AlertRule a;
    protocol::AlertRuleDraft &d = a.rule;
    d.uuid = r.value(i, 0);
    d.name = r.value(i, 1);
    d.q = r.value(i, 2);
    d.windowMs = toInt(r.value(i, 3));
    d.condition = r.value(i, 4);
    d.threshold = toInt(r.value(i, 5));
    d.groupBy = r.value(i, 6);
    d.intervalMs = toInt(r.value(i, 7));
    d.forMs = toInt(r.value(i, 8));
    d.resolveMs = toInt(r.value(i, 9));
    d.severity = r.value(i, 10);
    if (auto t = alerter::targetsFromJson(r.value(i, 11))) {
        for (const auto &target : *t)
            d.targets.push_back({target.kind, target.url});
    }
    d.enabled = r.value(i, 12) == "t";
    d.shared = r.value(i, 13) == "t";
    a.owner = r.value(i, 14);
    if (!r.isNull(i, 15))
        a.apps = fromPgArray(r.value(i, 15));
    a.created = millis(r, i, 16);
    a.updated = millis(r, i, 17);
    a.lastEval = millis(r, i, 18);
    a.lastError = r.value(i, 19);
    return a;
}

bool wellFormed(const std::string &uuid)
{
    return !QUuid::fromString(QString::fromStdString(uuid)).isNull();
}

Error notFound()
{
    return makeError(ErrorCode::NotFound, "no such alert rule");
}

std::string targetsJson(const protocol::AlertRuleDraft &d)
{
    std::vector<alerter::Target> t;
    for (const auto &target : d.targets)
        t.push_back({target.kind, target.url});
    return alerter::targetsToJson(t);
}

const char *boolText(bool b)
{
    return b ? "true" : "false";
}

} // namespace

bool visibleTo(const Identity &me, const std::string &owner, bool shared,
               const std::vector<std::string> &apps)
{
    if (owner != me.user && !shared)
        return false;
    if (!me.scoped())
        return true;
    return !apps.empty() && std::all_of(apps.begin(), apps.end(), [&](const std::string &a) {
        return std::find(me.apps.begin(), me.apps.end(), a) != me.apps.end();
    });
}

Result<std::vector<protocol::AlertRule>> list(pg::Connection &db, const Identity &me)
{
    auto r = db.query(kSelect + "WHERE " + visible(1, 2) + " ORDER BY r.name, r.uuid",
                      {me.user, scope(me)});
    if (!r)
        return r.error();
    std::vector<protocol::AlertRule> out;
    for (int i = 0; i < r->rowCount(); ++i)
        out.push_back(fromRow(*r, i));
    return out;
}

Result<protocol::AlertRule> get(pg::Connection &db, const Identity &me, const std::string &uuid)
{
    if (!wellFormed(uuid))
        return notFound();
    auto r = db.query(kSelect + "WHERE r.uuid = $1::uuid AND " + visible(2, 3),
                      {uuid, me.user, scope(me)});
    if (!r)
        return r.error();
    if (r->rowCount() == 0)
        return notFound();
    return fromRow(*r, 0);
}

Result<protocol::AlertRule> put(pg::Connection &db, const Identity &me,
                                const protocol::AlertRuleDraft &d)
{
    if (d.shared && me.role < Role::Editor)
        return makeError(ErrorCode::Forbidden, "sharing an alert rule needs the editor role");
    std::string key = d.uuid;
    const pg::Params values{d.name,
                            d.q,
                            std::to_string(d.windowMs),
                            d.condition,
                            std::to_string(d.threshold),
                            d.groupBy,
                            std::to_string(d.intervalMs),
                            std::to_string(d.forMs),
                            std::to_string(d.resolveMs),
                            d.severity,
                            targetsJson(d),
                            boolText(d.enabled),
                            boolText(d.shared)};
    auto withKey = [&](pg::Params tail) {
        pg::Params p{key};
        p.insert(p.end(), values.begin(), values.end());
        p.insert(p.end(), tail.begin(), tail.end());
        return p;
    };
    if (key.empty()) {
        key = QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
        auto r = db.query(
            "INSERT INTO alert_rules (uuid, name, query, window_ms, condition, threshold, "
            "group_by, interval_ms, for_ms, resolve_ms, severity, targets, enabled, shared, "
            "owner, apps) VALUES ($1::uuid, $2, $3, $4::bigint, $5, $6::bigint, $7, $8::bigint, "
            "$9::bigint, $10::bigint, $11, $12::jsonb, $13::boolean, $14::boolean, $15, "
            "$16::text[])",
            withKey({me.user, scope(me)}));
        if (!r)
            return r.error();
    } else {
        if (!wellFormed(key))
            return notFound();
        if (auto t = db.begin(); !t)
            return t.error();
        auto fail = [&](Error e) -> Result<protocol::AlertRule> {
            (void)db.rollback();
            return e;
        };
        auto cur = db.query("SELECT r.shared FROM alert_rules r WHERE r.uuid = $1::uuid AND " +
                                visible(2, 3) + " FOR UPDATE",
                            {key, me.user, scope(me)});
        if (!cur)
            return fail(cur.error());
        if (cur->rowCount() == 0)
            return fail(notFound());
        if (cur->value(0, 0) == "t" && me.role < Role::Editor)
            return fail(makeError(ErrorCode::Forbidden,
                                  "changing a shared alert rule needs the editor role"));
        auto r = db.query(
            "UPDATE alert_rules SET name = $2, query = $3, window_ms = $4::bigint, condition = "
            "$5, threshold = $6::bigint, group_by = $7, interval_ms = $8::bigint, for_ms = "
            "$9::bigint, resolve_ms = $10::bigint, severity = $11, targets = $12::jsonb, enabled "
            "= $13::boolean, shared = $14::boolean, updated_at = now(), next_eval_at = now(), "
            "last_error = NULL WHERE uuid = $1::uuid",
            withKey({}));
        if (!r)
            return fail(r.error());
        if (auto c = db.commit(); !c)
            return c.error();
    }
    auto r = db.query(kSelect + "WHERE r.uuid = $1::uuid", {key});
    if (!r)
        return r.error();
    if (r->rowCount() != 1)
        return makeError(ErrorCode::Conflict, "the alert rule was deleted meanwhile");
    return fromRow(*r, 0);
}

Result<void> remove(pg::Connection &db, const Identity &me, const std::string &uuid)
{
    auto found = get(db, me, uuid);
    if (!found)
        return found.error();
    if (found->rule.shared && me.role < Role::Editor)
        return makeError(ErrorCode::Forbidden,
                         "deleting a shared alert rule needs the editor role");
    // Re-checked in the statement: a rule shared meanwhile is not deleted by a viewer.
    auto d = db.query("DELETE FROM alert_rules r WHERE r.uuid = $1::uuid AND " + visible(2, 3) +
                          " AND (NOT r.shared OR $4::boolean)",
                      {uuid, me.user, scope(me), boolText(me.role >= Role::Editor)});
    if (!d)
        return d.error();
    if (d->affectedRows() == 0)
        return makeError(ErrorCode::Conflict, "the alert rule changed meanwhile; try again");
    return {};
}

Result<std::vector<protocol::AlertSeries>> firing(pg::Connection &db, const Identity &me,
                                                  const std::string &rule)
{
    if (!rule.empty()) {
        if (auto g = get(db, me, rule); !g)
            return g.error();
    }
    auto r = db.query(
        "SELECT s.rule, r.name, r.severity, s.series, s.state, " + ns("s.since") + ", s.value, " +
            ns("s.evaluated_at") +
            " FROM alert_series s JOIN alert_rules r ON r.uuid = s.rule WHERE s.state <> 'ok' "
            "AND " +
            visible(1, 2) +
            " AND ($3::uuid IS NULL OR s.rule = $3::uuid) ORDER BY s.state = 'firing' DESC, "
            "array_position(ARRAY['critical','warning','info'], r.severity), s.since, r.name, "
            "s.series LIMIT $4::int",
        {me.user, scope(me), rule.empty() ? pg::Param() : pg::Param(rule),
         std::to_string(kMaxFiring)});
    if (!r)
        return r.error();
    std::vector<protocol::AlertSeries> out;
    for (int i = 0; i < r->rowCount(); ++i)
        out.push_back({std::string(r->value(i, 0)), std::string(r->value(i, 1)),
                       std::string(r->value(i, 2)), std::string(r->value(i, 3)),
                       std::string(r->value(i, 4)), toInt(r->value(i, 5)), toInt(r->value(i, 6)),
                       toInt(r->value(i, 7))});
    return out;
}

namespace {

const std::string kChangeColumns =
    "h.id, h.rule, r.name, r.severity, h.series, h.from_state, h.to_state, h.value, " + ns("h.at");

protocol::AlertChange changeFromRow(const pg::Rows &r, int i)
{
    return {toInt(r.value(i, 0)),       std::string(r.value(i, 1)), std::string(r.value(i, 2)),
            std::string(r.value(i, 3)), std::string(r.value(i, 4)), std::string(r.value(i, 5)),
            std::string(r.value(i, 6)), toInt(r.value(i, 7)),       toInt(r.value(i, 8))};
}

} // namespace

Result<HistoryPage> history(pg::Connection &db, const Identity &me,
                            const protocol::AlertsHistory &q, std::int64_t nowNs)
{
    if (!q.rule.empty()) {
        if (auto g = get(db, me, q.rule); !g)
            return g.error();
    }
    pg::Params params{me.user, scope(me), q.rule.empty() ? pg::Param() : pg::Param(q.rule)};
    for (const std::string *t : {&q.from, &q.to}) {
        if (t->empty()) {
            params.push_back(pg::Param());
            continue;
        }
        auto v = protocol::parseTimeArg(*t, nowNs);
        if (!v)
            return v.error();
        params.push_back(std::to_string(*v));
    }
    pg::Param before;
    if (!q.cursor.empty()) {
        auto c = protocol::decodeHistoryCursor(q.cursor);
        if (!c)
            return c.error();
        before = std::to_string(*c);
    }
    params.push_back(before);
    params.push_back(std::to_string(q.limit + 1));
    auto r = db.query(
        "SELECT " + kChangeColumns +
            " FROM alert_history h JOIN alert_rules r ON r.uuid = h.rule WHERE " + visible(1, 2) +
            " AND ($3::uuid IS NULL OR h.rule = $3::uuid)"
            " AND ($4::bigint IS NULL OR h.at >= to_timestamp($4::bigint / 1e9::float8))"
            " AND ($5::bigint IS NULL OR h.at < to_timestamp($5::bigint / 1e9::float8))"
            " AND ($6::bigint IS NULL OR h.id < $6::bigint) ORDER BY h.id DESC LIMIT $7::int",
        params);
    if (!r)
        return r.error();
    HistoryPage page;
    const int n = std::min<int>(r->rowCount(), static_cast<int>(q.limit));
    for (int i = 0; i < n; ++i)
        page.items.push_back(changeFromRow(*r, i));
    if (r->rowCount() > q.limit && !page.items.empty())
        page.cursor = protocol::encodeHistoryCursor(page.items.back().history);
    return page;
}

Result<std::optional<Change>> change(pg::Connection &db, std::int64_t historyId)
{
    auto r = db.query("SELECT " + kChangeColumns +
                          ", r.owner, r.shared, r.apps FROM alert_history h JOIN alert_rules r ON "
                          "r.uuid = h.rule WHERE h.id = $1::bigint",
                      {std::to_string(historyId)});
    if (!r)
        return r.error();
    if (r->rowCount() == 0)
        return std::optional<Change>();
    Change c;
    c.change = changeFromRow(*r, 0);
    c.owner = r->value(0, 9);
    c.shared = r->value(0, 10) == "t";
    if (!r->isNull(0, 11))
        c.apps = fromPgArray(r->value(0, 11));
    return std::optional<Change>(std::move(c));
}

} // namespace idl::gateway::alerts
