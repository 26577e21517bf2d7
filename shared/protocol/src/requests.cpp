#include "idl/protocol/requests.h"

#include "idl/core/timestamp.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>

#include <charconv>
#include <cmath>
#include <type_traits>

namespace idl::protocol {
namespace {

// Used in a static_assert of a discarded branch only (clang calls that unused).
template <class> [[maybe_unused]] inline constexpr bool kAlwaysFalse = false;

// A JSON number that is an integer an int64 holds. The range is checked before converting:
// converting a double outside it (1e300) is undefined behaviour.
std::optional<std::int64_t> exactInt64(double d)
{
    constexpr double kLimit = 9223372036854775808.0; // 2^63
    if (!(d >= -kLimit && d < kLimit) || d != std::trunc(d))
        return std::nullopt;
    return static_cast<std::int64_t>(d);
}

bool parseInt64(std::string_view text, std::int64_t &out)
{
    if (text.empty())
        return false;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
}

// Cursors are opaque base64url text (no padding).
std::string base64Url(const std::string &plain)
{
    return QByteArray(plain.data(), static_cast<qsizetype>(plain.size()))
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
        .toStdString();
}
std::optional<std::string> fromBase64Url(std::string_view text)
{
    auto r = QByteArray::fromBase64Encoding(
        QByteArray(text.data(), static_cast<qsizetype>(text.size())),
        QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!r)
        return std::nullopt;
    return r.decoded.toStdString();
}

QString qs(std::string_view s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

QJsonArray strings(const std::vector<std::string> &v)
{
    QJsonArray a;
    for (const auto &s : v)
        a.append(qs(s));
    return a;
}

// Field readers: absent or null -> the default; present with another type -> BadField.
class Fields
{
public:
    explicit Fields(const QJsonObject &o) : m_o(o) {}

    Result<std::string> string(const char *key, std::string def = {}) const
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return def;
        if (!v.isString())
            return makeError(ErrorCode::BadField, std::string(key) + " must be a string");
        return v.toString().toStdString();
    }
    Result<std::string> required(const char *key) const
    {
        auto s = string(key);
        if (s && s->empty())
            return makeError(ErrorCode::MissingField, std::string(key) + " is required");
        return s;
    }
    Result<std::string> oneOf(const char *key, std::string def,
                              std::initializer_list<std::string_view> allowed) const
    {
        auto s = string(key, def);
        if (!s)
            return s;
        for (auto a : allowed) {
            if (*s == a)
                return s;
        }
        std::string list;
        for (auto a : allowed)
            list += (list.empty() ? "" : " or ") + std::string(a);
        return makeError(ErrorCode::BadField, std::string(key) + " must be " + list);
    }
    Result<std::int64_t> integer(const char *key, std::int64_t def, std::int64_t min,
                                 std::int64_t max) const
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return def;
        if (!v.isDouble())
            return makeError(ErrorCode::BadField, std::string(key) + " must be a number");
        const std::optional<std::int64_t> i = exactInt64(v.toDouble());
        if (!i || *i < min || *i > max)
            return makeError(ErrorCode::BadField, std::string(key) + " must be an integer in " +
                                                      std::to_string(min) + ".." +
                                                      std::to_string(max));
        return *i;
    }
    Result<bool> boolean(const char *key, bool def) const
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return def;
        if (!v.isBool())
            return makeError(ErrorCode::BadField, std::string(key) + " must be true or false");
        return v.toBool();
    }
    Result<std::vector<std::string>> stringList(const char *key) const
    {
        const QJsonValue v = m_o.value(QLatin1String(key));
        std::vector<std::string> out;
        if (v.isUndefined() || v.isNull())
            return out;
        if (!v.isArray())
            return makeError(ErrorCode::BadField, std::string(key) + " must be an array");
        for (const auto &e : v.toArray()) {
            if (!e.isString())
                return makeError(ErrorCode::BadField,
                                 std::string(key) + " must be an array of strings");
            out.push_back(e.toString().toStdString());
        }
        return out;
    }
    Result<Range> range() const
    {
        auto f = string("from", "-15m");
        if (!f)
            return f.error();
        auto t = string("to", "now");
        if (!t)
            return t.error();
        return Range{std::move(f).value(), std::move(t).value()};
    }
    Result<Order> order(Order def) const
    {
        auto o = oneOf("order", def == Order::Asc ? "asc" : "desc", {"asc", "desc"});
        if (!o)
            return o.error();
        return *o == "asc" ? Order::Asc : Order::Desc;
    }
    Result<std::string> cursor() const
    {
        auto c = string("cursor");
        if (c && !c->empty()) {
            if (auto d = decodeCursor(*c); !d)
                return d.error();
        }
        return c;
    }

private:
    const QJsonObject &m_o;
};

// Chains field reads: the first error wins.
#define IDL_READ(target, expr)                                                                     \
    do {                                                                                           \
        auto r_ = (expr);                                                                          \
        if (!r_)                                                                                   \
            return r_.error();                                                                     \
        target = std::move(r_).value();                                                            \
    } while (false)

Result<Request> decodeQuery(const Fields &f)
{
    Query r;
    IDL_READ(r.q, f.string("q"));
    IDL_READ(r.range, f.range());
    IDL_READ(r.order, f.order(Order::Desc));
    IDL_READ(r.limit, f.integer("limit", r.limit, 1, kMaxPage));
    IDL_READ(r.chunk, f.integer("chunk", r.chunk, 1, kMaxChunk));
    IDL_READ(r.cursor, f.cursor());
    return Request(std::move(r));
}

Result<Request> decodeExport(const Fields &f)
{
    Export r;
    IDL_READ(r.q, f.string("q"));
    IDL_READ(r.range, f.range());
    IDL_READ(r.order, f.order(Order::Asc));
    IDL_READ(r.chunk, f.integer("chunk", r.chunk, 1, kMaxChunk));
    IDL_READ(r.columns, f.stringList("columns"));
    for (const auto &c : r.columns) {
        if (!parseColumn(c))
            return makeError(ErrorCode::BadRequest, "unknown column " + c);
    }
    IDL_READ(r.cursor, f.cursor());
    return Request(std::move(r));
}

Result<Request> decodeAggregate(const Fields &f)
{
    Aggregate r;
    IDL_READ(r.q, f.string("q"));
    IDL_READ(r.range, f.range());
    IDL_READ(r.split, f.oneOf("split", r.split, {"level", "app"}));
    IDL_READ(r.bucketMs, f.integer("bucket_ms", 0, 0, std::int64_t(1) << 40));
    if (r.bucketMs && r.bucketMs < 1000)
        return makeError(ErrorCode::BadRequest, "bucket_ms must be >= 1000");
    IDL_READ(r.maxSeries, f.integer("max_series", r.maxSeries, 1, 100));
    return Request(std::move(r));
}

Result<Request> decodeTop(const Fields &f)
{
    Top r;
    IDL_READ(r.q, f.string("q"));
    IDL_READ(r.range, f.range());
    IDL_READ(r.field, f.oneOf("field", r.field, {"app", "host"}));
    IDL_READ(r.limit, f.integer("limit", r.limit, 1, 100));
    return Request(std::move(r));
}

Result<Request> decodeTailStart(const Fields &f, const QJsonObject &o)
{
    TailStart r;
    IDL_READ(r.q, f.string("q"));
    IDL_READ(r.since, f.string("since"));
    const QJsonValue resume = o.value(QLatin1String("resume"));
    if (!resume.isUndefined() && !resume.isNull()) {
        const QJsonValue posv = resume.toObject().value(QLatin1String("positions"));
        if (!resume.isObject() || !posv.isObject())
            return makeError(ErrorCode::BadField, "malformed resume positions");
        const QJsonObject pos = posv.toObject();
        std::map<std::int32_t, std::int64_t> m;
        for (auto it = pos.begin(); it != pos.end(); ++it) {
            bool ok = false;
            const int p = it.key().toInt(&ok);
            const std::optional<std::int64_t> off =
                it.value().isDouble() ? exactInt64(it.value().toDouble()) : std::nullopt;
            if (!ok || p < 0 || !off || *off < 0)
                return makeError(ErrorCode::BadField, "malformed resume positions");
            m[p] = *off;
        }
        r.resume = std::move(m);
    }
    return Request(std::move(r));
}

Result<Request> decodeSavedPut(const QJsonObject &o)
{
    const QJsonValue sv = o.value(QLatin1String("saved"));
    if (!sv.isUndefined() && !sv.isNull() && !sv.isObject())
        return makeError(ErrorCode::BadField, "saved must be an object");
    const QJsonObject s = sv.toObject();
    const Fields f(s);
    SavedPut r;
    IDL_READ(r.uuid, f.string("uuid"));
    IDL_READ(r.name, f.string("name"));
    if (r.name.empty() || r.name.size() > kMaxNameBytes)
        return makeError(ErrorCode::BadField, "name must be 1..200 characters");
    IDL_READ(r.q, f.string("q"));
    IDL_READ(r.range, f.range());
    IDL_READ(r.shared, f.boolean("shared", false));
    return Request(std::move(r));
}

Result<Request> decodeTokensCreate(const Fields &f)
{
    TokensCreate r;
    IDL_READ(r.name, f.string("name"));
    const auto role = f.oneOf("role", r.role, {"viewer", "editor", "admin"});
    if (!role)
        return makeError(ErrorCode::BadField, "role must be viewer, editor or admin");
    r.role = *role;
    IDL_READ(r.apps, f.stringList("apps"));
    return Request(std::move(r));
}

Result<Request> decodeHello(const QJsonObject &o, const Fields &f)
{
    Hello r;
    r.versions.clear();
    // No or malformed versions: no common version (the session answers that).
    const QJsonValue v = o.value(QLatin1String("versions"));
    for (const auto &e : v.toArray())
        r.versions.push_back(e.toInt(-1));
    IDL_READ(r.token, f.string("token"));
    IDL_READ(r.client, f.string("client"));
    return Request(std::move(r));
}

Result<DlqFilter> decodeDlqFilter(const Fields &f)
{
    DlqFilter r;
    IDL_READ(r.code, f.string("code"));
    IDL_READ(r.app, f.string("app"));
    IDL_READ(r.from, f.string("from"));
    IDL_READ(r.to, f.string("to"));
    for (const std::string *t : {&r.from, &r.to}) {
        if (!t->empty()) {
            if (auto v = parseTimeArg(*t, nowNs()); !v)
                return v.error();
        }
    }
    return r;
}

Result<Request> decodeDlqReplay(const Fields &f)
{
    DlqReplay r;
    IDL_READ(r.ids, f.stringList("ids"));
    if (r.ids.size() > kMaxDlqReplayIds)
        return makeError(ErrorCode::BadField, "at most 1000 ids per replay");
    for (const auto &id : r.ids) {
        if (!parseDlqId(id))
            return makeError(ErrorCode::BadField, "ids must be \"partition:offset\", got " + id);
    }
    IDL_READ(r.all, f.boolean("all", false));
    IDL_READ(r.filter, decodeDlqFilter(f));
    if (r.ids.empty() && !r.all)
        return makeError(ErrorCode::MissingField, "ids (or all:true) is required");
    if (!r.ids.empty() && r.all)
        return makeError(ErrorCode::BadField, "ids and all:true exclude each other");
    return Request(std::move(r));
}

Result<Request> decodeAlertsHistory(const Fields &f)
{
    AlertsHistory r;
    IDL_READ(r.rule, f.string("rule"));
    IDL_READ(r.from, f.string("from"));
    IDL_READ(r.to, f.string("to"));
    for (const std::string *t : {&r.from, &r.to}) {
        if (!t->empty()) {
            if (auto v = parseTimeArg(*t, nowNs()); !v)
                return v.error();
        }
    }
    IDL_READ(r.limit, f.integer("limit", r.limit, 1, kAlertMaxHistory));
    IDL_READ(r.cursor, f.string("cursor"));
    if (!r.cursor.empty()) {
        if (auto c = decodeHistoryCursor(r.cursor); !c)
            return c.error();
    }
    return Request(std::move(r));
}

// The `rule` object of a request: absent -> MissingField, not an object -> BadField.
Result<QJsonObject> ruleObject(const QJsonObject &o)
{
    const QJsonValue v = o.value(QLatin1String("rule"));
    if (v.isUndefined() || v.isNull())
        return makeError(ErrorCode::MissingField, "rule is required");
    if (!v.isObject())
        return makeError(ErrorCode::BadField, "rule must be an object");
    return v.toObject();
}

#undef IDL_READ

} // namespace

#define IDL_READ(target, expr)                                                                     \
    do {                                                                                           \
        auto r_ = (expr);                                                                          \
        if (!r_)                                                                                   \
            return r_.error();                                                                     \
        target = std::move(r_).value();                                                            \
    } while (false)

Result<AlertRuleDraft> decodeAlertRule(const QJsonObject &o, bool requireName)
{
    const Fields f(o);
    AlertRuleDraft r;
    IDL_READ(r.uuid, f.string("uuid"));
    IDL_READ(r.name, f.string("name"));
    if ((requireName || !r.name.empty()) && (r.name.empty() || r.name.size() > kMaxNameBytes))
        return makeError(ErrorCode::BadField, "name must be 1..200 bytes");
    IDL_READ(r.q, f.string("q"));
    if (r.q.size() > kAlertMaxQueryBytes)
        return makeError(ErrorCode::BadField, "q must be at most 4096 bytes");
    IDL_READ(r.windowMs, f.integer("window_ms", r.windowMs, kAlertMinWindowMs, kAlertMaxWindowMs));
    IDL_READ(r.condition, f.oneOf("condition", r.condition, {"above", "below", "absent"}));
    IDL_READ(r.threshold, f.integer("threshold", r.threshold, 0, kAlertMaxThreshold));
    if (r.condition == "below" && r.threshold < 1)
        return makeError(ErrorCode::BadField, "condition below needs a threshold of at least 1");
    IDL_READ(r.groupBy, f.oneOf("group_by", r.groupBy, {"", "app", "host"}));
    IDL_READ(r.intervalMs,
             f.integer("interval_ms", r.intervalMs, kAlertMinIntervalMs, kAlertMaxIntervalMs));
    IDL_READ(r.forMs, f.integer("for_ms", r.forMs, 0, kAlertMaxForMs));
    IDL_READ(r.resolveMs, f.integer("resolve_ms", r.resolveMs, 0, kAlertMaxForMs));
    IDL_READ(r.severity, f.oneOf("severity", r.severity, {"info", "warning", "critical"}));
    const QJsonValue tv = o.value(QLatin1String("targets"));
    if (!tv.isUndefined() && !tv.isNull()) {
        if (!tv.isArray())
            return makeError(ErrorCode::BadField, "targets must be an array");
        const QJsonArray ta = tv.toArray();
        if (static_cast<std::size_t>(ta.size()) > kAlertMaxTargets)
            return makeError(ErrorCode::BadField, "at most 10 targets");
        for (const auto &e : ta) {
            if (!e.isObject())
                return makeError(ErrorCode::BadField, "a target must be an object");
            const QJsonObject to = e.toObject();
            const Fields tf(to);
            AlertTarget t;
            IDL_READ(t.kind, tf.oneOf("kind", "webhook", {"webhook", "slack"}));
            IDL_READ(t.url, tf.required("url"));
            if (t.url.size() > kAlertMaxUrlBytes)
                return makeError(ErrorCode::BadField, "a target url must be at most 2048 bytes");
            if (!t.url.starts_with("http://") && !t.url.starts_with("https://"))
                return makeError(ErrorCode::BadField,
                                 "a target url must start with http:// or https://");
            r.targets.push_back(std::move(t));
        }
        if (QJsonDocument(ta).toJson(QJsonDocument::Compact).size() >
            static_cast<qsizetype>(kAlertMaxTargetsBytes))
            return makeError(ErrorCode::BadField, "targets must be at most 16384 bytes of JSON");
    }
    IDL_READ(r.enabled, f.boolean("enabled", true));
    IDL_READ(r.shared, f.boolean("shared", false));
    return r;
}

#undef IDL_READ

QJsonObject alertRuleJson(const AlertRuleDraft &r)
{
    QJsonArray targets;
    for (const auto &t : r.targets)
        targets.append(
            QJsonObject{{QStringLiteral("kind"), qs(t.kind)}, {QStringLiteral("url"), qs(t.url)}});
    QJsonObject o{{QStringLiteral("name"), qs(r.name)},
                  {QStringLiteral("q"), qs(r.q)},
                  {QStringLiteral("window_ms"), static_cast<qint64>(r.windowMs)},
                  {QStringLiteral("condition"), qs(r.condition)},
                  {QStringLiteral("threshold"), static_cast<qint64>(r.threshold)},
                  {QStringLiteral("group_by"), qs(r.groupBy)},
                  {QStringLiteral("interval_ms"), static_cast<qint64>(r.intervalMs)},
                  {QStringLiteral("for_ms"), static_cast<qint64>(r.forMs)},
                  {QStringLiteral("resolve_ms"), static_cast<qint64>(r.resolveMs)},
                  {QStringLiteral("severity"), qs(r.severity)},
                  {QStringLiteral("targets"), targets},
                  {QStringLiteral("enabled"), r.enabled},
                  {QStringLiteral("shared"), r.shared}};
    if (!r.uuid.empty())
        o.insert(QStringLiteral("uuid"), qs(r.uuid));
    return o;
}

std::string encodeHistoryCursor(std::int64_t historyId)
{
    return base64Url("h" + std::to_string(historyId));
}

Result<std::int64_t> decodeHistoryCursor(std::string_view cursor)
{
    const std::optional<std::string> plain = fromBase64Url(cursor);
    std::int64_t id = 0;
    if (!plain || !plain->starts_with('h') || !parseInt64(std::string_view(*plain).substr(1), id) ||
        id < 1)
        return makeError(ErrorCode::BadField, "malformed cursor");
    return id;
}

std::string_view typeName(const Request &request)
{
    return std::visit(
        [](const auto &r) -> std::string_view {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, Hello>)
                return "hello";
            else if constexpr (std::is_same_v<T, Auth>)
                return "auth";
            else if constexpr (std::is_same_v<T, Ping>)
                return "ping";
            else if constexpr (std::is_same_v<T, Query>)
                return "query";
            else if constexpr (std::is_same_v<T, Export>)
                return "export";
            else if constexpr (std::is_same_v<T, Aggregate>)
                return "aggregate";
            else if constexpr (std::is_same_v<T, Top>)
                return "top";
            else if constexpr (std::is_same_v<T, TailStart>)
                return "tail.start";
            else if constexpr (std::is_same_v<T, TailStop>)
                return "tail.stop";
            else if constexpr (std::is_same_v<T, Cancel>)
                return "cancel";
            else if constexpr (std::is_same_v<T, SavedList>)
                return "saved.list";
            else if constexpr (std::is_same_v<T, SavedGet>)
                return "saved.get";
            else if constexpr (std::is_same_v<T, SavedPut>)
                return "saved.put";
            else if constexpr (std::is_same_v<T, SavedDelete>)
                return "saved.delete";
            else if constexpr (std::is_same_v<T, TokensList>)
                return "tokens.list";
            else if constexpr (std::is_same_v<T, TokensCreate>)
                return "tokens.create";
            else if constexpr (std::is_same_v<T, TokensRevoke>)
                return "tokens.revoke";
            else if constexpr (std::is_same_v<T, DlqList>)
                return "dlq.list";
            else if constexpr (std::is_same_v<T, DlqGet>)
                return "dlq.get";
            else if constexpr (std::is_same_v<T, DlqReplay>)
                return "dlq.replay";
            else if constexpr (std::is_same_v<T, AlertsRulesList>)
                return "alerts.rules.list";
            else if constexpr (std::is_same_v<T, AlertsRulesGet>)
                return "alerts.rules.get";
            else if constexpr (std::is_same_v<T, AlertsRulesPut>)
                return "alerts.rules.put";
            else if constexpr (std::is_same_v<T, AlertsRulesDelete>)
                return "alerts.rules.delete";
            else if constexpr (std::is_same_v<T, AlertsRulesTest>)
                return "alerts.rules.test";
            else if constexpr (std::is_same_v<T, AlertsFiring>)
                return "alerts.firing";
            else if constexpr (std::is_same_v<T, AlertsHistory>)
                return "alerts.history";
            else
                static_assert(kAlwaysFalse<T>, "every request has a type name");
        },
        request);
}

const std::vector<std::string_view> &requestTypes()
{
    static const std::vector<std::string_view> kTypes = [] {
        std::vector<std::string_view> v;
        [&]<std::size_t... I>(std::index_sequence<I...>)
        {
            (v.push_back(typeName(Request(std::in_place_index<I>))), ...);
        }
        (std::make_index_sequence<std::variant_size_v<Request>>());
        return v;
    }();
    return kTypes;
}

QJsonObject toJson(const Request &request)
{
    QJsonObject o{{QStringLiteral("type"), qs(typeName(request))}};
    auto put = [&](const char *key, const QJsonValue &v) { o.insert(QLatin1String(key), v); };
    auto putString = [&](const char *key, const std::string &v, std::string_view def = {}) {
        if (v != def)
            put(key, qs(v));
    };
    auto putRange = [&](const Range &r) {
        putString("from", r.from, "-15m");
        putString("to", r.to, "now");
    };
    std::visit(
        [&](const auto &r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, Hello>) {
                QJsonArray versions;
                for (int v : r.versions)
                    versions.append(v);
                put("versions", versions);
                putString("client", r.client);
                putString("token", r.token);
            } else if constexpr (std::is_same_v<T, Auth>) {
                put("token", qs(r.token));
            } else if constexpr (std::is_same_v<T, Query>) {
                put("q", qs(r.q));
                putRange(r.range);
                if (r.order != Order::Desc)
                    put("order", QStringLiteral("asc"));
                put("limit", static_cast<qint64>(r.limit));
                put("chunk", static_cast<qint64>(r.chunk));
                putString("cursor", r.cursor);
            } else if constexpr (std::is_same_v<T, Export>) {
                put("q", qs(r.q));
                putRange(r.range);
                if (r.order != Order::Asc)
                    put("order", QStringLiteral("desc"));
                put("chunk", static_cast<qint64>(r.chunk));
                if (!r.columns.empty())
                    put("columns", strings(r.columns));
                putString("cursor", r.cursor);
            } else if constexpr (std::is_same_v<T, Aggregate>) {
                put("q", qs(r.q));
                putRange(r.range);
                put("split", qs(r.split));
                if (r.bucketMs)
                    put("bucket_ms", static_cast<qint64>(r.bucketMs));
                if (r.maxSeries != 10)
                    put("max_series", static_cast<qint64>(r.maxSeries));
            } else if constexpr (std::is_same_v<T, Top>) {
                put("q", qs(r.q));
                putRange(r.range);
                put("field", qs(r.field));
                put("limit", static_cast<qint64>(r.limit));
            } else if constexpr (std::is_same_v<T, TailStart>) {
                put("q", qs(r.q));
                putString("since", r.since);
                if (r.resume) {
                    QJsonObject pos;
                    for (const auto &[p, off] : *r.resume)
                        pos.insert(QString::number(p), static_cast<qint64>(off));
                    put("resume", QJsonObject{{QStringLiteral("positions"), pos}});
                }
            } else if constexpr (std::is_same_v<T, TailStop> || std::is_same_v<T, Cancel>) {
                put("target", qs(r.target));
            } else if constexpr (std::is_same_v<T, SavedGet> || std::is_same_v<T, SavedDelete>) {
                put("uuid", qs(r.uuid));
            } else if constexpr (std::is_same_v<T, SavedPut>) {
                QJsonObject s{{QStringLiteral("name"), qs(r.name)},
                              {QStringLiteral("q"), qs(r.q)},
                              {QStringLiteral("from"), qs(r.range.from)},
                              {QStringLiteral("to"), qs(r.range.to)},
                              {QStringLiteral("shared"), r.shared}};
                if (!r.uuid.empty())
                    s.insert(QStringLiteral("uuid"), qs(r.uuid));
                put("saved", s);
            } else if constexpr (std::is_same_v<T, TokensCreate>) {
                put("name", qs(r.name));
                put("role", qs(r.role));
                put("apps", r.apps.empty() ? QJsonValue() : QJsonValue(strings(r.apps)));
            } else if constexpr (std::is_same_v<T, TokensRevoke>) {
                put("prefix", qs(r.prefix));
            } else if constexpr (std::is_same_v<T, DlqList> || std::is_same_v<T, DlqReplay>) {
                putString("code", r.filter.code);
                putString("app", r.filter.app);
                putString("from", r.filter.from);
                putString("to", r.filter.to);
                if constexpr (std::is_same_v<T, DlqList>) {
                    put("limit", static_cast<qint64>(r.limit));
                } else {
                    if (r.all)
                        put("all", true);
                    if (!r.ids.empty())
                        put("ids", strings(r.ids));
                }
            } else if constexpr (std::is_same_v<T, DlqGet>) {
                put("partition", static_cast<qint64>(r.partition));
                put("offset", static_cast<qint64>(r.offset));
            } else if constexpr (std::is_same_v<T, AlertsRulesGet> ||
                                 std::is_same_v<T, AlertsRulesDelete>) {
                put("uuid", qs(r.uuid));
            } else if constexpr (std::is_same_v<T, AlertsRulesPut>) {
                put("rule", alertRuleJson(r.rule));
            } else if constexpr (std::is_same_v<T, AlertsRulesTest>) {
                put("rule", alertRuleJson(r.rule));
                put("windows", static_cast<qint64>(r.windows));
                put("max_series", static_cast<qint64>(r.maxSeries));
            } else if constexpr (std::is_same_v<T, AlertsFiring>) {
                putString("rule", r.rule);
            } else if constexpr (std::is_same_v<T, AlertsHistory>) {
                putString("rule", r.rule);
                putString("from", r.from);
                putString("to", r.to);
                put("limit", static_cast<qint64>(r.limit));
                putString("cursor", r.cursor);
            }
        },
        request);
    return o;
}

Result<Envelope> decodeEnvelope(QByteArrayView text, std::string *idOut)
{
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toByteArray(), &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(ErrorCode::BadJson, "a message must be one JSON object");
    Envelope e;
    e.body = doc.object();
    const QJsonValue idv = e.body.value(QLatin1String("id"));
    e.id = idv.isString() ? idv.toString().toStdString() : std::string();
    bool idOk = !e.id.empty() && e.id.size() <= kMaxIdBytes;
    for (char c : e.id)
        idOk = idOk && c >= 0x20 && c < 0x7f;
    if (!idOk)
        return makeError(ErrorCode::BadRequest, "id must be 1..64 printable ASCII characters");
    if (idOut)
        *idOut = e.id;
    const QJsonValue tv = e.body.value(QLatin1String("type"));
    e.type = tv.isString() ? tv.toString().toStdString() : std::string();
    if (e.type.empty())
        return makeError(ErrorCode::BadRequest, "missing type");
    return e;
}

Result<Request> decodeRequest(const Envelope &envelope)
{
    const std::string &t = envelope.type;
    const QJsonObject &o = envelope.body;
    const Fields f(o);
    if (t == "hello")
        return decodeHello(o, f);
    if (t == "auth") {
        auto token = f.string("token");
        if (!token)
            return token.error();
        return Request(Auth{std::move(token).value()});
    }
    if (t == "ping")
        return Request(Ping{});
    if (t == "query")
        return decodeQuery(f);
    if (t == "export")
        return decodeExport(f);
    if (t == "aggregate")
        return decodeAggregate(f);
    if (t == "top")
        return decodeTop(f);
    if (t == "tail.start")
        return decodeTailStart(f, o);
    if (t == "tail.stop" || t == "cancel") {
        auto target = f.string("target");
        if (!target)
            return target.error();
        if (t == "cancel")
            return Request(Cancel{std::move(target).value()});
        return Request(TailStop{std::move(target).value()});
    }
    if (t == "saved.list")
        return Request(SavedList{});
    if (t == "saved.get" || t == "saved.delete") {
        auto uuid = f.required("uuid");
        if (!uuid)
            return uuid.error();
        if (t == "saved.get")
            return Request(SavedGet{std::move(uuid).value()});
        return Request(SavedDelete{std::move(uuid).value()});
    }
    if (t == "saved.put")
        return decodeSavedPut(o);
    if (t == "tokens.list")
        return Request(TokensList{});
    if (t == "tokens.create")
        return decodeTokensCreate(f);
    if (t == "tokens.revoke") {
        auto prefix = f.string("prefix");
        if (!prefix)
            return prefix.error();
        return Request(TokensRevoke{std::move(prefix).value()});
    }
    if (t == "dlq.list") {
        DlqList r;
        auto filter = decodeDlqFilter(f);
        if (!filter)
            return filter.error();
        r.filter = std::move(filter).value();
        auto limit = f.integer("limit", r.limit, 1, kMaxDlqList);
        if (!limit)
            return limit.error();
        r.limit = *limit;
        return Request(std::move(r));
    }
    if (t == "dlq.get") {
        if (!o.contains(QLatin1String("partition")) || !o.contains(QLatin1String("offset")))
            return makeError(ErrorCode::MissingField, "partition and offset are required");
        auto p = f.integer("partition", 0, 0, 1'000'000);
        if (!p)
            return p.error();
        auto off = f.integer("offset", 0, 0, std::int64_t(1) << 53);
        if (!off)
            return off.error();
        return Request(DlqGet{static_cast<std::int32_t>(*p), *off});
    }
    if (t == "dlq.replay")
        return decodeDlqReplay(f);
    if (t == "alerts.rules.list")
        return Request(AlertsRulesList{});
    if (t == "alerts.rules.get" || t == "alerts.rules.delete") {
        auto uuid = f.required("uuid");
        if (!uuid)
            return uuid.error();
        if (t == "alerts.rules.get")
            return Request(AlertsRulesGet{std::move(uuid).value()});
        return Request(AlertsRulesDelete{std::move(uuid).value()});
    }
    if (t == "alerts.rules.put" || t == "alerts.rules.test") {
        auto ro = ruleObject(o);
        if (!ro)
            return ro.error();
        auto rule = decodeAlertRule(*ro, t == "alerts.rules.put");
        if (!rule)
            return rule.error();
        if (t == "alerts.rules.put")
            return Request(AlertsRulesPut{std::move(rule).value()});
        AlertsRulesTest r{std::move(rule).value()};
        auto windows = f.integer("windows", r.windows, 1, kAlertMaxTestWindows);
        if (!windows)
            return windows.error();
        r.windows = *windows;
        auto series = f.integer("max_series", r.maxSeries, 1, kAlertMaxTestSeries);
        if (!series)
            return series.error();
        r.maxSeries = *series;
        return Request(std::move(r));
    }
    if (t == "alerts.firing") {
        auto rule = f.string("rule");
        if (!rule)
            return rule.error();
        return Request(AlertsFiring{std::move(rule).value()});
    }
    if (t == "alerts.history")
        return decodeAlertsHistory(f);
    return makeError(ErrorCode::BadRequest, "unknown type " + t);
}

std::string formatDlqId(std::int32_t partition, std::int64_t offset)
{
    return std::to_string(partition) + ":" + std::to_string(offset);
}

std::optional<std::pair<std::int32_t, std::int64_t>> parseDlqId(std::string_view id)
{
    const auto colon = id.find(':');
    std::int64_t p = 0, off = 0;
    if (colon == std::string_view::npos || !parseInt64(id.substr(0, colon), p) ||
        !parseInt64(id.substr(colon + 1), off) || p < 0 || p > 1'000'000 || off < 0)
        return std::nullopt;
    return std::make_pair(static_cast<std::int32_t>(p), off);
}

Result<std::int64_t> parseTimeArg(std::string_view text, std::int64_t now)
{
    auto bad = [&] {
        return makeError(ErrorCode::BadTimestamp,
                         "time must be RFC 3339, ns since the epoch, \"now\" or like \"-15m\"");
    };
    if (text == "now")
        return now;
    if (text.size() >= 2 && text[0] == '-') {
        std::size_t i = 1;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9')
            ++i;
        std::int64_t n = 0;
        if (i == 1 || !parseInt64(text.substr(1, i - 1), n))
            return bad();
        const std::string_view unit = text.substr(i);
        std::int64_t mult = 0;
        if (unit == "ms")
            mult = 1'000'000;
        else if (unit == "s")
            mult = 1'000'000'000;
        else if (unit == "m")
            mult = 60'000'000'000;
        else if (unit == "h")
            mult = 3'600'000'000'000;
        else if (unit == "d")
            mult = 86'400'000'000'000;
        else if (unit == "w")
            mult = 7 * 86'400'000'000'000;
        else
            return bad();
        if (n > now / mult)
            return bad();
        return now - n * mult;
    }
    std::int64_t ns = 0;
    if (parseInt64(text, ns)) {
        if (ns < 0)
            return bad();
        return ns;
    }
    auto r = parseRfc3339(text);
    if (!r)
        return bad();
    return *r;
}

Result<Interval> resolveRange(const Range &range, std::int64_t nowNs)
{
    auto f = parseTimeArg(range.from, nowNs);
    if (!f)
        return f.error();
    auto t = parseTimeArg(range.to, nowNs);
    if (!t)
        return t.error();
    if (*f >= *t)
        return makeError(ErrorCode::BadRequest, "from must be before to");
    return Interval{*f, *t};
}

std::optional<unsigned> parseColumn(std::string_view name)
{
    static const std::pair<std::string_view, unsigned> kCols[] = {
        {"id", ColId},         {"ts", ColTs},
        {"time", ColTime},     {"received", ColReceived},
        {"level", ColLevel},   {"app", ColApp},
        {"host", ColHost},     {"message", ColMessage},
        {"attrs", ColAttrs},   {"trace_id", ColTraceId},
        {"span_id", ColSpanId}};
    for (const auto &[n, c] : kCols) {
        if (n == name)
            return c;
    }
    return std::nullopt;
}

unsigned columnSet(const Export &request)
{
    if (request.columns.empty())
        return ColAll;
    unsigned set = 0;
    for (const auto &c : request.columns)
        set |= parseColumn(c).value_or(0);
    return set;
}

std::string encodeCursor(std::int64_t tsNs, std::string_view id)
{
    return base64Url(std::to_string(tsNs) + "|" + std::string(id));
}

Result<std::pair<std::int64_t, std::string>> decodeCursor(std::string_view cursor)
{
    const std::optional<std::string> decoded = fromBase64Url(cursor);
    if (!decoded)
        return makeError(ErrorCode::BadField, "malformed cursor");
    const std::string &plain = *decoded;
    const auto bar = plain.find('|');
    std::int64_t ts = 0;
    if (bar == std::string::npos || !parseInt64(std::string_view(plain).substr(0, bar), ts) ||
        plain.size() - bar - 1 != 36)
        return makeError(ErrorCode::BadField, "malformed cursor");
    return std::pair<std::int64_t, std::string>(ts, plain.substr(bar + 1));
}

} // namespace idl::protocol
