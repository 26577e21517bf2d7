// Evaluation passes: claim due rules, count, move series states, write history + outbox.
#include "idl/alerter/alerter.h"
#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"

#include <charconv>
#include <chrono>
#include <map>
#include <set>

namespace idl::alerter {
namespace {

// A timestamptz from ns since the epoch, in SQL ($n is a bigint parameter).
std::string tsParam(int n)
{
    return "to_timestamp($" + std::to_string(n) + "::bigint / 1e9::float8)";
}
// Ns since the epoch from a timestamptz column, in SQL.
std::string nsOf(const std::string &column)
{
    return "(extract(epoch FROM " + column + ") * 1000000000)::bigint";
}

std::int64_t toInt(std::string_view s)
{
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

// '{"a","b"}' -> {a, b} (PostgreSQL text[] output; elements may be quoted).
std::vector<std::string> fromArray(std::string_view text)
{
    std::vector<std::string> out;
    if (text.size() < 2)
        return out;
    text = text.substr(1, text.size() - 2);
    std::string cur;
    bool quoted = false, any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '\\' && i + 1 < text.size())
                cur += text[++i];
            else if (c == '"')
                quoted = false;
            else
                cur += c;
        } else if (c == '"') {
            quoted = any = true;
        } else if (c == ',') {
            out.push_back(std::move(cur));
            cur.clear();
            any = false;
        } else {
            cur += c;
            any = true;
        }
    }
    if (any || !cur.empty())
        out.push_back(std::move(cur));
    return out;
}

const char *kRuleColumns = "uuid, owner, name, query, window_ms, condition, threshold, group_by, "
                           "interval_ms, for_ms, resolve_ms, severity, targets::text, shared, apps";

Result<Rule> ruleFromRow(const pg::Rows &r, int i)
{
    Rule rule;
    rule.uuid = r.value(i, 0);
    rule.owner = r.value(i, 1);
    rule.name = r.value(i, 2);
    rule.query = r.value(i, 3);
    rule.windowMs = toInt(r.value(i, 4));
    rule.condition = parseCondition(r.value(i, 5)).value_or(Condition::Above);
    rule.threshold = toInt(r.value(i, 6));
    rule.groupBy = parseGroupBy(r.value(i, 7)).value_or(GroupBy::None);
    rule.intervalMs = toInt(r.value(i, 8));
    rule.forMs = toInt(r.value(i, 9));
    rule.resolveMs = toInt(r.value(i, 10));
    rule.severity = r.value(i, 11);
    auto targets = targetsFromJson(r.value(i, 12));
    if (!targets)
        return targets.error();
    rule.targets = std::move(*targets);
    rule.shared = r.value(i, 13) == "t";
    if (!r.isNull(i, 14))
        rule.apps = fromArray(r.value(i, 14));
    return rule;
}

struct Metrics
{
    metrics::Counter &ok, &error, &failures;
    metrics::Histogram &seconds;
    metrics::Counter &toOk, &toPending, &toFiring;
    static Metrics &get()
    {
        auto &g = metrics::Registry::global();
        static Metrics m{
            g.counter("idl_alert_evaluations_total", "Rule evaluations", {{"result", "ok"}}),
            g.counter("idl_alert_evaluations_total", "Rule evaluations", {{"result", "error"}}),
            g.counter("idl_alert_evaluation_failures_total",
                      "Rule evaluations that failed (bad query, timeout, database error)"),
            g.histogram("idl_alert_evaluation_seconds", "Time to evaluate one rule"),
            g.counter("idl_alert_transitions_total", "Series state changes", {{"to", "ok"}}),
            g.counter("idl_alert_transitions_total", "Series state changes", {{"to", "pending"}}),
            g.counter("idl_alert_transitions_total", "Series state changes", {{"to", "firing"}}),
        };
        return m;
    }
};

using SeriesMap = std::map<std::string, SeriesState>;

// The stored series of the claimed rules, one statement: rule uuid -> series -> state.
Result<std::map<std::string, SeriesMap>> loadSeries(pg::Connection &db, const std::string &uuids)
{
    auto stored =
        db.query("SELECT rule, series, state, " + nsOf("since") + ", " + nsOf("clear_since") +
                     ", value FROM alert_series WHERE rule IN (SELECT "
                     "jsonb_array_elements_text($1::jsonb)::uuid)",
                 {uuids});
    if (!stored)
        return stored.error();
    std::map<std::string, SeriesMap> out;
    for (int i = 0; i < stored->rowCount(); ++i) {
        SeriesState s;
        s.state = parseState(stored->value(i, 2)).value_or(State::Ok);
        s.sinceNs = toInt(stored->value(i, 3));
        if (!stored->isNull(i, 4))
            s.clearSince = toInt(stored->value(i, 4));
        s.value = toInt(stored->value(i, 5));
        out[std::string(stored->value(i, 0))].emplace(std::string(stored->value(i, 1)), s);
    }
    return out;
}

// Evaluates one claimed rule inside the caller's transaction: counts, moves each series,
// writes history, outbox and notifications for the changes, then every series' new state in
// one statement.
Result<void> evaluateRule(pg::Connection &db, const Rule &rule, const SeriesMap &states,
                          const AlerterOptions &o, std::int64_t nowNs, PassReport &report)
{
    auto counts = countSeries(db, rule, nowNs, o.maxSeries);
    if (!counts)
        return counts.error();
    // Every series counted now, and every stored one (a known series that went quiet counts 0).
    std::set<std::string> keys;
    for (const auto &[k, c] : *counts)
        keys.insert(k);
    for (const auto &[k, s] : states)
        keys.insert(k);
    auto &m = Metrics::get();
    std::string keepJson, forgetJson; // the series' new states; the series to forget
    JsonWriter keep(keepJson), forget(forgetJson);
    keep.beginArray();
    forget.beginArray();
    for (const std::string &key : keys) {
        const auto cit = counts->find(key);
        const std::int64_t count = cit == counts->end() ? 0 : cit->second;
        const auto sit = states.find(key);
        const bool known = sit != states.end();
        SeriesState cur;
        if (known)
            cur = sit->second;
        else
            cur.sinceNs = nowNs;
        const SeriesState next = step(rule, cur, count, nowNs);
        if (next.state != cur.state) {
            auto h = db.query("INSERT INTO alert_history (rule, series, from_state, to_state, "
                              "value, at) VALUES ($1::uuid, $2, $3, $4, $5::bigint, " +
                                  tsParam(6) + ") RETURNING id",
                              {rule.uuid, key, std::string(stateName(cur.state)),
                               std::string(stateName(next.state)), std::to_string(count),
                               std::to_string(nowNs)});
            if (!h)
                return h.error();
            const std::string historyId(h->value(0, 0));
            ++report.transitions;
            (next.state == State::Firing    ? m.toFiring
             : next.state == State::Pending ? m.toPending
                                            : m.toOk)
                .inc();
            if (next.state == State::Firing || cur.state == State::Firing) {
                Transition t{toInt(historyId), key, cur.state, next.state, count, nowNs};
                for (const Target &target : rule.targets) {
                    auto n = db.query(
                        "INSERT INTO alert_notifications (history_id, rule, kind, url, payload) "
                        "VALUES ($1::bigint, $2::uuid, $3, $4, $5) ON CONFLICT DO NOTHING",
                        {historyId, rule.uuid, target.kind, target.url,
                         target.kind == "slack" ? slackPayload(rule, t) : webhookPayload(rule, t)});
                    if (!n)
                        return n.error();
                    ++report.notifications;
                }
            }
            std::string note;
            JsonWriter w(note);
            w.beginObject();
            w.key("rule");
            w.value(rule.uuid);
            w.key("history");
            w.value(toInt(historyId));
            w.endObject();
            if (auto n = db.query("SELECT pg_notify($1, $2)", {o.channel, note}); !n)
                return n.error();
        }
        // A grouped "above" rule forgets quiet series that are ok; "below" and "absent" keep
        // every series they have seen (a known series that goes silent is what they watch).
        if (next.state == State::Ok && count == 0 && rule.groupBy != GroupBy::None &&
            rule.condition == Condition::Above) {
            if (known)
                forget.value(key);
            continue;
        }
        keep.beginObject();
        keep.key("series");
        keep.value(key);
        keep.key("state");
        keep.value(stateName(next.state));
        keep.key("since");
        keep.value(next.sinceNs);
        keep.key("clear");
        if (next.clearSince)
            keep.value(*next.clearSince);
        else
            keep.null();
        keep.key("value");
        keep.value(count);
        keep.endObject();
    }
    keep.endArray();
    forget.endArray();
    if (keepJson.size() > 2) {
        auto u = db.query(
            "INSERT INTO alert_series (rule, series, state, since, clear_since, value, "
            "evaluated_at) SELECT $1::uuid, x.series, x.state, to_timestamp(x.since::float8 / "
            "1e9), to_timestamp(x.clear::float8 / 1e9), x.value, " +
                tsParam(2) +
                " FROM jsonb_to_recordset($3::jsonb) AS x(series text, state text, since bigint, "
                "clear bigint, value bigint) ON CONFLICT (rule, series) DO UPDATE SET state = "
                "excluded.state, since = excluded.since, clear_since = excluded.clear_since, "
                "value = excluded.value, evaluated_at = excluded.evaluated_at",
            {rule.uuid, std::to_string(nowNs), keepJson});
        if (!u)
            return u.error();
    }
    if (forgetJson.size() > 2) {
        auto d = db.query("DELETE FROM alert_series WHERE rule = $1::uuid AND series IN (SELECT "
                          "jsonb_array_elements_text($2::jsonb))",
                          {rule.uuid, forgetJson});
        if (!d)
            return d.error();
    }
    return {};
}

} // namespace

Result<PassReport> evaluateDue(pg::Connection &db, const AlerterOptions &o, std::int64_t nowNs)
{
    PassReport report;
    if (auto r = db.begin(); !r)
        return r.error();
    auto fail = [&](Error e) -> Result<PassReport> {
        (void)db.rollback();
        return e;
    };
    auto due = db.query(std::string("SELECT ") + kRuleColumns +
                            " FROM alert_rules WHERE enabled AND next_eval_at <= " + tsParam(1) +
                            " ORDER BY next_eval_at LIMIT $2::int FOR UPDATE SKIP LOCKED",
                        {std::to_string(nowNs), std::to_string(o.batch)});
    if (!due)
        return fail(due.error());
    if (due->rowCount() == 0) {
        if (auto r = db.commit(); !r)
            return r.error();
        return report;
    }
    std::string uuids;
    {
        JsonWriter w(uuids);
        w.beginArray();
        for (int i = 0; i < due->rowCount(); ++i)
            w.value(due->value(i, 0));
        w.endArray();
    }
    auto stored = loadSeries(db, uuids);
    if (!stored)
        return fail(stored.error());
    const SeriesMap none;
    // What each rule's evaluation ended with, written for all of them in one statement.
    std::string outcomes;
    JsonWriter out(outcomes);
    out.beginArray();
    auto &m = Metrics::get();
    for (int i = 0; i < due->rowCount(); ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::string uuid(due->value(i, 0));
        if (auto r = db.exec("SAVEPOINT rule"); !r)
            return fail(r.error());
        PassReport one;
        auto rule = ruleFromRow(*due, i);
        const auto sit = stored->find(uuid);
        Result<void> done =
            rule ? evaluateRule(db, *rule, sit == stored->end() ? none : sit->second, o, nowNs, one)
                 : Result<void>(rule.error());
        ++report.evaluated;
        out.beginObject();
        out.key("uuid");
        out.value(uuid);
        out.key("error");
        if (done) {
            if (auto r = db.exec("RELEASE SAVEPOINT rule"); !r)
                return fail(r.error());
            out.null();
            report.transitions += one.transitions;
            report.notifications += one.notifications;
            m.ok.inc();
        } else {
            // A failed rule keeps nothing of this evaluation but its error; it is tried again
            // after its interval.
            if (auto r = db.exec("ROLLBACK TO SAVEPOINT rule"); !r)
                return fail(r.error());
            out.value(done.error().message.substr(0, 1000));
            ++report.failed;
            m.error.inc();
            m.failures.inc();
        }
        out.endObject();
        m.seconds.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    out.endArray();
    auto u = db.query("UPDATE alert_rules r SET next_eval_at = to_timestamp(($2::bigint + "
                      "r.interval_ms * 1000000)::float8 / 1e9), last_eval_at = " +
                          tsParam(2) +
                          ", last_error = x.error FROM jsonb_to_recordset($1::jsonb) AS "
                          "x(uuid uuid, error text) WHERE r.uuid = x.uuid",
                      {outcomes, std::to_string(nowNs)});
    if (!u)
        return fail(u.error());
    if (auto r = db.commit(); !r)
        return r.error();
    return report;
}

std::string notificationText(const Rule &rule, const Transition &t)
{
    const bool firing = t.to == State::Firing;
    std::string text = firing ? "[FIRING] " : "[RESOLVED] ";
    text += rule.name + " (" + rule.severity + ")";
    if (!t.series.empty())
        text += " " + std::string(groupByName(rule.groupBy)) + "=" + t.series;
    text += ": " + std::to_string(t.value) + " events in the last " +
            std::to_string(rule.windowMs / 1000) + "s";
    if (rule.condition == Condition::Absent)
        text += firing ? " (no events)" : "";
    else
        text += std::string(" (") + (rule.condition == Condition::Above ? "above " : "below ") +
                std::to_string(rule.threshold) + ")";
    text += " query: " + rule.query;
    return text;
}

std::string webhookPayload(const Rule &rule, const Transition &t)
{
    std::string out;
    JsonWriter w(out);
    w.beginObject();
    w.key("version");
    w.value(1);
    w.key("id");
    w.value(t.historyId);
    w.key("status");
    w.value(t.to == State::Firing ? "firing" : "resolved");
    w.key("previous");
    w.value(stateName(t.from));
    w.key("series");
    w.value(t.series);
    w.key("value");
    w.value(t.value);
    w.key("at");
    w.value(formatRfc3339Millis(t.atNs));
    w.key("rule");
    w.beginObject();
    w.key("uuid");
    w.value(rule.uuid);
    w.key("name");
    w.value(rule.name);
    w.key("query");
    w.value(rule.query);
    w.key("severity");
    w.value(rule.severity);
    w.key("condition");
    w.value(conditionName(rule.condition));
    w.key("threshold");
    w.value(rule.threshold);
    w.key("window_ms");
    w.value(rule.windowMs);
    w.key("group_by");
    w.value(groupByName(rule.groupBy));
    w.key("owner");
    w.value(rule.owner);
    w.endObject();
    w.key("text");
    w.value(notificationText(rule, t));
    w.endObject();
    return out;
}

std::string slackPayload(const Rule &rule, const Transition &t)
{
    std::string out;
    JsonWriter w(out);
    w.beginObject();
    w.key("text");
    w.value(notificationText(rule, t));
    w.endObject();
    return out;
}

} // namespace idl::alerter
