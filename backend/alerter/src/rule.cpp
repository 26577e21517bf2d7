#include "idl/alerter/rule.h"

#include "idl/pg/connection.h"
#include "idl/query/parser.h"
#include "idl/service/http_client.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <charconv>

namespace idl::alerter {
namespace {

constexpr std::int64_t kMsNs = 1'000'000;
constexpr std::int64_t kMinuteNs = 60'000'000'000;

Error badField(std::string message)
{
    return makeError(ErrorCode::BadField, std::move(message));
}

std::int64_t toInt(std::string_view s)
{
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::int64_t floorMinute(std::int64_t ns)
{
    const std::int64_t r = ns % kMinuteNs;
    return r < 0 ? ns - r - kMinuteNs : ns - r;
}

std::int64_t ceilMinute(std::int64_t ns)
{
    const std::int64_t f = floorMinute(ns);
    return f == ns ? ns : f + kMinuteNs;
}

// One count statement over [from, to): per series key, rollups allowed or not.
Result<query::CompiledQuery> countPart(const query::Node &ast, const Rule &rule,
                                       std::int64_t fromNs, std::int64_t toNs, bool rollups,
                                       int maxSeries)
{
    if (rule.groupBy == GroupBy::None) {
        // The aggregate handler's statement with one bucket as wide as the part: rows
        // (bucket, level, count), summed by the caller into the series ''.
        query::AggregateOptions o;
        o.fromNs = fromNs;
        o.toNs = toNs;
        o.bucketNs = toNs - fromNs;
        o.split = query::AggregateSplit::Level;
        o.allowedApps = rule.apps;
        o.allowRollups = rollups;
        return query::buildAggregate(ast, o);
    }
    query::TopNOptions o;
    o.fromNs = fromNs;
    o.toNs = toNs;
    o.limit = maxSeries;
    o.allowedApps = rule.apps;
    o.allowRollups = rollups;
    return query::buildTopN(
        rule.groupBy == GroupBy::App ? query::TopNField::App : query::TopNField::Host, ast, o);
}

} // namespace

std::string_view conditionName(Condition c) noexcept
{
    switch (c) {
    case Condition::Above:
        return "above";
    case Condition::Below:
        return "below";
    case Condition::Absent:
        return "absent";
    }
    return "above";
}

std::optional<Condition> parseCondition(std::string_view t) noexcept
{
    if (t == "above")
        return Condition::Above;
    if (t == "below")
        return Condition::Below;
    if (t == "absent")
        return Condition::Absent;
    return std::nullopt;
}

std::string_view groupByName(GroupBy g) noexcept
{
    return g == GroupBy::App ? "app" : g == GroupBy::Host ? "host" : "";
}

std::optional<GroupBy> parseGroupBy(std::string_view t) noexcept
{
    if (t.empty())
        return GroupBy::None;
    if (t == "app")
        return GroupBy::App;
    if (t == "host")
        return GroupBy::Host;
    return std::nullopt;
}

std::string_view stateName(State s) noexcept
{
    return s == State::Pending ? "pending" : s == State::Firing ? "firing" : "ok";
}

std::optional<State> parseState(std::string_view t) noexcept
{
    if (t == "ok")
        return State::Ok;
    if (t == "pending")
        return State::Pending;
    if (t == "firing")
        return State::Firing;
    return std::nullopt;
}

Rule ruleFromDraft(const protocol::AlertRuleDraft &d, std::string owner,
                   std::vector<std::string> apps)
{
    Rule r;
    r.uuid = d.uuid;
    r.owner = std::move(owner);
    r.name = d.name;
    r.query = d.q;
    r.windowMs = d.windowMs;
    r.condition = parseCondition(d.condition).value_or(Condition::Above);
    r.threshold = d.threshold;
    r.groupBy = parseGroupBy(d.groupBy).value_or(GroupBy::None);
    r.intervalMs = d.intervalMs;
    r.forMs = d.forMs;
    r.resolveMs = d.resolveMs;
    r.severity = d.severity;
    for (const auto &t : d.targets)
        r.targets.push_back({t.kind, t.url});
    r.enabled = d.enabled;
    r.shared = d.shared;
    r.apps = std::move(apps);
    return r;
}

Result<void> validate(const Rule &r)
{
    if (r.name.empty() || r.name.size() > 200)
        return badField("name must be 1 to 200 bytes");
    if (r.query.size() > kMaxQueryBytes)
        return badField("query is longer than 4096 bytes");
    if (auto p = query::parse(r.query); !p)
        return p.error();
    if (r.windowMs < kMinWindowMs || r.windowMs > kMaxWindowMs)
        return badField("window_ms must be between 1000 (1 s) and 604800000 (7 d)");
    if (r.intervalMs < kMinIntervalMs || r.intervalMs > kMaxIntervalMs)
        return badField("interval_ms must be between 1000 (1 s) and 86400000 (1 d)");
    if (r.forMs < 0 || r.forMs > kMaxWindowMs)
        return badField("for_ms must be between 0 and 604800000 (7 d)");
    if (r.resolveMs < 0 || r.resolveMs > kMaxWindowMs)
        return badField("resolve_ms must be between 0 and 604800000 (7 d)");
    if (r.threshold < 0)
        return badField("threshold must not be negative");
    if (r.condition == Condition::Below && r.threshold == 0)
        return badField("condition below needs a threshold of at least 1");
    if (r.severity != "info" && r.severity != "warning" && r.severity != "critical")
        return badField("severity must be info, warning or critical");
    if (r.targets.size() > kMaxTargets)
        return badField("at most 10 notification targets");
    for (const Target &t : r.targets) {
        if (t.kind != "webhook" && t.kind != "slack")
            return badField("target kind must be webhook or slack");
        if (t.url.size() > kMaxUrlBytes)
            return badField("target url is longer than 2048 bytes");
        if (auto u = http::parseUrl(t.url); !u)
            return badField("target url: " + u.error().message);
    }
    return {};
}

std::string targetsToJson(const std::vector<Target> &targets)
{
    QJsonArray a;
    for (const Target &t : targets)
        a.append(QJsonObject{{QStringLiteral("kind"), QString::fromStdString(t.kind)},
                             {QStringLiteral("url"), QString::fromStdString(t.url)}});
    return QJsonDocument(a).toJson(QJsonDocument::Compact).toStdString();
}

Result<std::vector<Target>> targetsFromJson(std::string_view json)
{
    QJsonParseError err;
    const auto doc = QJsonDocument::fromJson(
        QByteArray::fromRawData(json.data(), static_cast<qsizetype>(json.size())), &err);
    if (err.error != QJsonParseError::NoError || !doc.isArray())
        return badField("targets must be a JSON array");
    std::vector<Target> out;
    for (const auto &v : doc.array()) {
        const QJsonObject o = v.toObject();
        if (!o.value(QStringLiteral("kind")).isString() ||
            !o.value(QStringLiteral("url")).isString())
            return badField("each target needs a string kind and url");
        out.push_back({o.value(QStringLiteral("kind")).toString().toStdString(),
                       o.value(QStringLiteral("url")).toString().toStdString()});
    }
    return out;
}

Result<std::vector<query::CompiledQuery>> countQueries(const query::Node &ast, const Rule &rule,
                                                       std::int64_t nowNs, int maxSeries)
{
    const std::int64_t from = nowNs - rule.windowMs * kMsNs, to = nowNs;
    std::vector<std::pair<std::int64_t, std::int64_t>> raw;
    std::vector<query::CompiledQuery> out;
    const std::int64_t midFrom = ceilMinute(from), midTo = floorMinute(to);
    if (query::canUseRollups(ast) && midTo > midFrom) {
        auto q = countPart(ast, rule, midFrom, midTo, true, maxSeries);
        if (!q)
            return q.error();
        out.push_back(std::move(*q));
        if (from < midFrom)
            raw.push_back({from, midFrom});
        if (midTo < to)
            raw.push_back({midTo, to});
    } else {
        raw.push_back({from, to});
    }
    for (const auto &[f, t] : raw) {
        auto q = countPart(ast, rule, f, t, false, maxSeries);
        if (!q)
            return q.error();
        out.push_back(std::move(*q));
    }
    return out;
}

Result<std::map<std::string, std::int64_t>> countSeries(pg::Connection &db, const Rule &rule,
                                                        std::int64_t nowNs, int maxSeries)
{
    auto ast = query::parse(rule.query);
    if (!ast)
        return ast.error();
    auto queries = countQueries(*ast, rule, nowNs, maxSeries);
    if (!queries)
        return queries.error();
    std::map<std::string, std::int64_t> counts;
    if (rule.groupBy == GroupBy::None)
        counts[""] = 0;
    for (const query::CompiledQuery &q : *queries) {
        pg::Params params(q.params.begin(), q.params.end());
        auto rows = db.query(q.sql, params);
        if (!rows)
            return rows.error();
        // Aggregate rows: (bucket, level, count); top-N rows: (key, count).
        const int keyCol = rule.groupBy == GroupBy::None ? -1 : 0;
        const int countCol = rows->columnCount() - 1;
        for (int i = 0; i < rows->rowCount(); ++i) {
            const std::string key = keyCol < 0 ? std::string() : std::string(rows->value(i, 0));
            counts[key] += toInt(rows->value(i, countCol));
        }
    }
    return counts;
}

bool conditionHolds(const Rule &rule, std::int64_t count) noexcept
{
    switch (rule.condition) {
    case Condition::Above:
        return count > rule.threshold;
    case Condition::Below:
        return count < rule.threshold;
    case Condition::Absent:
        return count == 0;
    }
    return false;
}

SeriesState step(const Rule &rule, const SeriesState &cur, std::int64_t count, std::int64_t nowNs)
{
    const bool holds = conditionHolds(rule, count);
    SeriesState next = cur;
    next.value = count;
    auto enter = [&](State s) {
        next.state = s;
        next.sinceNs = nowNs;
        next.clearSince.reset();
    };
    switch (cur.state) {
    case State::Ok:
        if (holds)
            enter(rule.forMs == 0 ? State::Firing : State::Pending);
        break;
    case State::Pending:
        if (!holds)
            enter(State::Ok);
        else if (nowNs - cur.sinceNs >= rule.forMs * kMsNs)
            enter(State::Firing);
        break;
    case State::Firing:
        if (holds) {
            next.clearSince.reset();
        } else {
            const std::int64_t clear = cur.clearSince.value_or(nowNs);
            if (nowNs - clear >= rule.resolveMs * kMsNs)
                enter(State::Ok);
            else
                next.clearSince = clear;
        }
        break;
    }
    return next;
}

} // namespace idl::alerter
