#include "idl/protocol/replies.h"

#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/protocol/requests.h"

#include <QJsonArray>

namespace idl::protocol {
namespace {

// {"type":..,"id":..   (the caller closes the object)
void begin(JsonWriter &w, std::string_view type, std::string_view id)
{
    w.beginObject();
    w.key("type");
    w.value(type);
    w.key("id");
    if (id.empty())
        w.null();
    else
        w.value(id);
}

void appendApps(JsonWriter &w, const std::vector<std::string> &apps)
{
    if (apps.empty()) {
        w.null();
        return;
    }
    w.beginArray();
    for (const auto &a : apps)
        w.value(a);
    w.endArray();
}

void appendIdentity(JsonWriter &w, const Identity &who)
{
    w.key("user");
    w.value(who.user);
    w.key("role");
    w.value(who.role);
    w.key("apps");
    appendApps(w, who.apps);
}

void writePositions(JsonWriter &w, const Positions &positions)
{
    w.beginObject();
    for (const auto &[p, o] : positions) {
        w.key(std::to_string(p));
        w.value(o);
    }
    w.endObject();
}

// {"type":..,"id":..,"items":[each item written by append]}.
template <class T, class Append>
std::string itemsMessage(std::string_view type, std::string_view id, const std::vector<T> &items,
                         Append append)
{
    std::string out;
    JsonWriter w(out);
    begin(w, type, id);
    w.key("items");
    w.beginArray();
    for (const auto &item : items)
        append(w, item);
    w.endArray();
    w.endObject();
    return out;
}

std::string simple(std::string_view type, std::string_view id)
{
    std::string out;
    JsonWriter w(out);
    begin(w, type, id);
    w.endObject();
    return out;
}

void appendSaved(JsonWriter &w, const SavedQuery &s)
{
    w.beginObject();
    w.key("uuid");
    w.value(s.uuid);
    w.key("name");
    w.value(s.name);
    w.key("q");
    w.value(s.q);
    w.key("from");
    w.value(s.from);
    w.key("to");
    w.value(s.to);
    w.key("shared");
    w.value(s.shared);
    w.key("owner");
    w.value(s.owner);
    w.key("created");
    w.value(s.created);
    w.key("updated");
    w.value(s.updated);
    w.endObject();
}

void appendDeadLetter(JsonWriter &w, const DeadLetter &d, bool close = true)
{
    auto time = [&](const char *key, std::int64_t ns) {
        w.key(key);
        if (ns > 0)
            w.value(formatRfc3339Millis(ns));
        else
            w.null();
    };
    w.beginObject();
    w.key("id");
    w.value(formatDlqId(d.partition, d.offset));
    w.key("partition");
    w.value(static_cast<std::int64_t>(d.partition));
    w.key("offset");
    w.value(d.offset);
    time("dead_at", d.deadAtNs);
    time("first_seen", d.firstSeenNs);
    w.key("app");
    w.value(d.app);
    w.key("code");
    w.value(d.code);
    w.key("reason");
    w.value(d.reason);
    w.key("attempts");
    w.value(d.attempts);
    w.key("source");
    w.beginObject();
    w.key("topic");
    w.value(d.sourceTopic);
    w.key("partition");
    w.value(d.sourcePartition);
    w.key("offset");
    w.value(d.sourceOffset);
    w.endObject();
    w.key("bytes");
    w.value(d.bytes);
    w.key("replayed_at");
    if (d.replayedAt.empty())
        w.null();
    else
        w.value(d.replayedAt);
    w.key("replayed_by");
    if (d.replayedBy.empty())
        w.null();
    else
        w.value(d.replayedBy);
    if (close)
        w.endObject();
}

} // namespace

std::string errorMessage(std::string_view id, const Error &error,
                         std::optional<std::int64_t> retryAfterMs)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "error", id);
    w.key("code");
    w.value(errorCodeName(error.code));
    w.key("message");
    w.value(error.message);
    if (error.position >= 0) {
        w.key("position");
        w.value(static_cast<std::int64_t>(error.position));
    }
    if (retryAfterMs) {
        w.key("retry_after_ms");
        w.value(*retryAfterMs);
    }
    w.endObject();
    return out;
}

std::string okMessage(std::string_view id)
{
    return simple("ok", id);
}

std::string pongMessage(std::string_view id)
{
    return simple("pong", id);
}

std::string helloMessage(std::string_view id, std::string_view server, const Identity *who,
                         const Limits &limits)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "hello", id);
    w.key("version");
    w.value(kVersion);
    w.key("server");
    w.value(server);
    w.key("authenticated");
    w.value(who != nullptr);
    if (who)
        appendIdentity(w, *who);
    w.key("limits");
    w.beginObject();
    w.key("max_message_bytes");
    w.value(limits.maxMessageBytes);
    w.key("max_page");
    w.value(kMaxPage);
    w.key("max_chunk");
    w.value(kMaxChunk);
    w.key("max_inflight");
    w.value(limits.maxInflight);
    w.key("max_tails");
    w.value(limits.maxTails);
    w.key("idle_timeout_ms");
    w.value(limits.idleTimeoutMs);
    w.key("rate_per_s");
    w.value(limits.ratePerSecond);
    w.key("rate_burst");
    w.value(limits.rateBurst);
    w.endObject();
    w.endObject();
    return out;
}

std::string authOkMessage(std::string_view id, const Identity &who)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "auth.ok", id);
    appendIdentity(w, who);
    w.endObject();
    return out;
}

void beginRows(std::string &out, std::string_view id, std::int64_t seq)
{
    JsonWriter w(out);
    begin(w, "rows", id);
    w.key("seq");
    w.value(seq);
    w.key("rows");
    out.push_back('[');
}

void endRows(std::string &out, const std::optional<Progress> &progress)
{
    out.push_back(']');
    if (progress) {
        out.append(",\"progress\":{\"rows\":");
        appendJsonInt(out, progress->rows);
        out.append(",\"fraction\":");
        appendJsonDouble(out, progress->fraction);
        out.push_back('}');
    }
    out.push_back('}');
}

void appendRow(std::string &out, const RowView &row, unsigned columns)
{
    JsonWriter w(out);
    w.beginObject();
    if (columns & ColId) {
        w.key("id");
        w.value(row.id);
    }
    if (columns & ColTs) {
        w.key("ts");
        w.value(row.ts);
    }
    if (columns & ColTime) {
        w.key("time");
        w.value(formatRfc3339Nanos(row.tsNs));
    }
    if (columns & ColReceived) {
        w.key("received");
        w.value(row.received);
    }
    if (columns & ColLevel) {
        w.key("level");
        w.value(row.level);
    }
    if (columns & ColApp) {
        w.key("app");
        w.value(row.app);
    }
    if (columns & ColHost) {
        w.key("host");
        w.value(row.host);
    }
    if (columns & ColMessage) {
        w.key("message");
        w.value(row.message);
    }
    if (columns & ColAttrs) {
        w.key("attrs");
        w.raw(row.attrs.empty() ? std::string_view("{}") : row.attrs);
    }
    if ((columns & ColTraceId) && !row.traceId.empty()) {
        w.key("trace_id");
        w.value(row.traceId);
    }
    if ((columns & ColSpanId) && !row.spanId.empty()) {
        w.key("span_id");
        w.value(row.spanId);
    }
    w.endObject();
}

void appendEvent(std::string &out, const LogEvent &e, unsigned columns)
{
    const std::string ts = std::to_string(e.tsNs);
    const std::string received = std::to_string(e.receivedNs);
    RowView v;
    v.id = e.id;
    v.tsNs = e.tsNs;
    v.ts = ts;
    v.received = received;
    v.level = levelName(e.level);
    v.app = e.app;
    v.host = e.host;
    v.message = e.message;
    v.attrs = e.attrsJson;
    v.traceId = e.traceId;
    v.spanId = e.spanId;
    appendRow(out, v, columns);
}

std::string doneMessage(std::string_view id, std::int64_t count, std::string_view cursor,
                        std::int64_t elapsedMs)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "done", id);
    w.key("count");
    w.value(count);
    w.key("cursor");
    if (cursor.empty())
        w.null();
    else
        w.value(cursor);
    w.key("elapsed_ms");
    w.value(elapsedMs);
    w.endObject();
    return out;
}

std::string aggregateResultMessage(std::string_view id, const AggregateResult &r)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "aggregate.result", id);
    w.key("bucket_ms");
    w.value(r.bucketMs);
    w.key("source");
    w.value(r.source);
    w.key("from");
    w.value(std::to_string(r.fromNs));
    w.key("to");
    w.value(std::to_string(r.toNs));
    w.key("keys");
    w.beginArray();
    for (const auto &k : r.keys)
        w.value(k);
    w.endArray();
    w.key("buckets");
    w.beginArray();
    const std::int64_t bucketNs = r.bucketMs * 1'000'000;
    for (std::size_t i = 0; i < r.buckets.size(); ++i) {
        const std::int64_t t = r.fromNs + static_cast<std::int64_t>(i) * bucketNs;
        w.beginObject();
        w.key("t");
        w.value(std::to_string(t));
        w.key("time");
        w.value(formatRfc3339Nanos(t));
        w.key("counts");
        w.beginObject();
        for (const auto &[k, c] : r.buckets[i]) {
            w.key(k);
            w.value(c);
        }
        w.endObject();
        w.endObject();
    }
    w.endArray();
    w.key("total");
    w.value(r.total);
    w.key("elapsed_ms");
    w.value(r.elapsedMs);
    w.endObject();
    return out;
}

std::string topResultMessage(std::string_view id, const TopResult &r)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "top.result", id);
    w.key("field");
    w.value(r.field);
    w.key("source");
    w.value(r.source);
    w.key("items");
    w.beginArray();
    for (const auto &item : r.items) {
        w.beginObject();
        w.key("value");
        w.value(item.value);
        w.key("count");
        w.value(item.count);
        w.endObject();
    }
    w.endArray();
    w.key("elapsed_ms");
    w.value(r.elapsedMs);
    w.endObject();
    return out;
}

std::string tailStartedMessage(std::string_view id, std::string_view topic,
                               const Positions &positions, bool truncated)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "tail.started", id);
    w.key("topic");
    w.value(topic);
    w.key("positions");
    writePositions(w, positions);
    if (truncated) {
        w.key("truncated");
        w.value(true);
    }
    w.endObject();
    return out;
}

void beginTailEvents(std::string &out, std::string_view id, bool history)
{
    JsonWriter w(out);
    begin(w, "tail.events", id);
    w.key("phase");
    w.value(history ? "history" : "live");
    w.key("events");
    out.push_back('[');
}

void endTailEvents(std::string &out, std::uint64_t dropped, std::uint64_t droppedTotal,
                   const Positions &positions)
{
    out.append("],\"dropped\":");
    appendJsonUInt(out, dropped);
    out.append(",\"dropped_total\":");
    appendJsonUInt(out, droppedTotal);
    out.append(",\"positions\":");
    JsonWriter w(out);
    writePositions(w, positions);
    out.push_back('}');
}

std::string savedListMessage(std::string_view id, const std::vector<SavedQuery> &items)
{
    return itemsMessage("saved.list.result", id, items, appendSaved);
}

std::string savedResultMessage(std::string_view id, const SavedQuery &saved)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "saved.result", id);
    w.key("saved");
    appendSaved(w, saved);
    w.endObject();
    return out;
}

std::string tokensListMessage(std::string_view id, const std::vector<TokenInfo> &items)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "tokens.list.result", id);
    w.key("items");
    w.beginArray();
    for (const auto &t : items) {
        w.beginObject();
        w.key("prefix");
        w.value(t.prefix);
        w.key("name");
        w.value(t.name);
        w.key("role");
        w.value(t.role);
        w.key("apps");
        appendApps(w, t.apps);
        w.key("created");
        w.value(t.created);
        w.key("revoked");
        if (t.revoked)
            w.value(*t.revoked);
        else
            w.null();
        w.endObject();
    }
    w.endArray();
    w.endObject();
    return out;
}

std::string tokensCreatedMessage(std::string_view id, std::string_view prefix,
                                 std::string_view token)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "tokens.created", id);
    w.key("prefix");
    w.value(prefix);
    w.key("token");
    w.value(token);
    w.endObject();
    return out;
}

std::string dlqListMessage(std::string_view id, const std::vector<DeadLetter> &items, bool more)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "dlq.list.result", id);
    w.key("items");
    w.beginArray();
    for (const auto &d : items)
        appendDeadLetter(w, d);
    w.endArray();
    w.key("more");
    w.value(more);
    w.endObject();
    return out;
}

std::string dlqResultMessage(std::string_view id, const DeadLetter &letter,
                             const std::vector<std::pair<std::string, std::string>> &headers,
                             std::string_view payload)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "dlq.result", id);
    w.key("item");
    appendDeadLetter(w, letter, false);
    w.key("headers");
    w.beginArray();
    for (const auto &[k, v] : headers) {
        w.beginArray();
        w.value(k);
        w.value(v);
        w.endArray();
    }
    w.endArray();
    w.key("payload");
    w.value(payload);
    w.endObject(); // item
    w.endObject();
    return out;
}

std::string dlqReplayResultMessage(std::string_view id, std::int64_t replayed, std::int64_t skipped,
                                   const std::vector<std::string> &ids, bool more)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "dlq.replay.result", id);
    w.key("replayed");
    w.value(replayed);
    w.key("skipped");
    w.value(skipped);
    w.key("ids");
    w.beginArray();
    for (const auto &i : ids)
        w.value(i);
    w.endArray();
    w.key("more");
    w.value(more);
    w.endObject();
    return out;
}

namespace {

void nullOr(JsonWriter &w, const std::string &v)
{
    if (v.empty())
        w.null();
    else
        w.value(v);
}

void appendAlertRule(JsonWriter &w, const AlertRule &a)
{
    const AlertRuleDraft &r = a.rule;
    w.beginObject();
    w.key("uuid");
    w.value(r.uuid);
    w.key("name");
    w.value(r.name);
    w.key("q");
    w.value(r.q);
    w.key("window_ms");
    w.value(r.windowMs);
    w.key("condition");
    w.value(r.condition);
    w.key("threshold");
    w.value(r.threshold);
    w.key("group_by");
    w.value(r.groupBy);
    w.key("interval_ms");
    w.value(r.intervalMs);
    w.key("for_ms");
    w.value(r.forMs);
    w.key("resolve_ms");
    w.value(r.resolveMs);
    w.key("severity");
    w.value(r.severity);
    w.key("targets");
    w.beginArray();
    for (const auto &t : r.targets) {
        w.beginObject();
        w.key("kind");
        w.value(t.kind);
        w.key("url");
        w.value(t.url);
        w.endObject();
    }
    w.endArray();
    w.key("enabled");
    w.value(r.enabled);
    w.key("shared");
    w.value(r.shared);
    w.key("owner");
    w.value(a.owner);
    w.key("apps");
    appendApps(w, a.apps);
    w.key("created");
    w.value(a.created);
    w.key("updated");
    w.value(a.updated);
    w.key("last_eval");
    nullOr(w, a.lastEval);
    w.key("last_error");
    nullOr(w, a.lastError);
    w.endObject();
}

void appendChangeKeys(JsonWriter &w, const AlertChange &c)
{
    w.key("history");
    w.value(c.history);
    w.key("rule");
    w.value(c.rule);
    w.key("name");
    w.value(c.name);
    w.key("severity");
    w.value(c.severity);
    w.key("series");
    w.value(c.series);
    w.key("from_state");
    w.value(c.fromState);
    w.key("to_state");
    w.value(c.toState);
    w.key("value");
    w.value(c.value);
    w.key("at");
    w.value(formatRfc3339Millis(c.atNs));
}

} // namespace

std::string alertRulesListMessage(std::string_view id, const std::vector<AlertRule> &items)
{
    return itemsMessage("alerts.rules.list.result", id, items, appendAlertRule);
}

std::string alertRuleResultMessage(std::string_view id, const AlertRule &rule)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "alerts.rules.result", id);
    w.key("rule");
    appendAlertRule(w, rule);
    w.endObject();
    return out;
}

std::string alertTestResultMessage(std::string_view id, const AlertTestResult &r)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "alerts.rules.test.result", id);
    w.key("window_ms");
    w.value(r.windowMs);
    w.key("from");
    w.value(std::to_string(r.fromNs));
    w.key("to");
    w.value(std::to_string(r.toNs));
    w.key("condition");
    w.value(r.condition);
    w.key("threshold");
    w.value(r.threshold);
    w.key("keys");
    w.beginArray();
    for (const auto &k : r.keys)
        w.value(k);
    w.endArray();
    w.key("buckets");
    w.beginArray();
    for (const auto &b : r.buckets) {
        w.beginObject();
        w.key("t");
        w.value(std::to_string(b.tNs));
        w.key("time");
        w.value(formatRfc3339Nanos(b.tNs));
        w.key("counts");
        w.beginObject();
        for (const auto &[k, c] : b.counts) {
            w.key(k);
            w.value(c);
        }
        w.endObject();
        w.key("holds");
        w.beginArray();
        for (const auto &k : b.holds)
            w.value(k);
        w.endArray();
        w.endObject();
    }
    w.endArray();
    w.key("truncated");
    w.value(r.truncated);
    w.key("elapsed_ms");
    w.value(r.elapsedMs);
    w.endObject();
    return out;
}

std::string alertsFiringMessage(std::string_view id, const std::vector<AlertSeries> &items)
{
    return itemsMessage("alerts.firing.result", id, items, [](JsonWriter &w, const AlertSeries &s) {
        w.beginObject();
        w.key("rule");
        w.value(s.rule);
        w.key("name");
        w.value(s.name);
        w.key("severity");
        w.value(s.severity);
        w.key("series");
        w.value(s.series);
        w.key("state");
        w.value(s.state);
        w.key("since");
        w.value(formatRfc3339Millis(s.sinceNs));
        w.key("value");
        w.value(s.value);
        w.key("evaluated");
        w.value(formatRfc3339Millis(s.evaluatedNs));
        w.endObject();
    });
}

std::string alertsHistoryMessage(std::string_view id, const std::vector<AlertChange> &items,
                                 std::string_view cursor)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "alerts.history.result", id);
    w.key("items");
    w.beginArray();
    for (const auto &c : items) {
        w.beginObject();
        appendChangeKeys(w, c);
        w.endObject();
    }
    w.endArray();
    w.key("cursor");
    if (cursor.empty())
        w.null();
    else
        w.value(cursor);
    w.endObject();
    return out;
}

std::string alertStateMessage(const AlertChange &change)
{
    std::string out;
    JsonWriter w(out);
    begin(w, "alert.state", {});
    appendChangeKeys(w, change);
    w.endObject();
    return out;
}

namespace {

std::string text(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString().toStdString();
}

std::int64_t timeNs(const QJsonObject &o, const char *key)
{
    const std::string t = text(o, key);
    auto ns = parseRfc3339(t);
    return ns ? *ns : 0;
}

} // namespace

DeadLetter deadLetterFromJson(const QJsonObject &o)
{
    DeadLetter d;
    d.partition = static_cast<std::int32_t>(o.value(QLatin1String("partition")).toInteger());
    d.offset = o.value(QLatin1String("offset")).toInteger();
    d.deadAtNs = timeNs(o, "dead_at");
    d.firstSeenNs = timeNs(o, "first_seen");
    d.app = text(o, "app");
    d.code = text(o, "code");
    d.reason = text(o, "reason");
    d.attempts = o.value(QLatin1String("attempts")).toInteger();
    const QJsonObject src = o.value(QLatin1String("source")).toObject();
    d.sourceTopic = text(src, "topic");
    d.sourcePartition = src.value(QLatin1String("partition")).toInteger(-1);
    d.sourceOffset = src.value(QLatin1String("offset")).toInteger(-1);
    d.bytes = o.value(QLatin1String("bytes")).toInteger();
    d.replayedAt = text(o, "replayed_at");
    d.replayedBy = text(o, "replayed_by");
    return d;
}

DeadLetterDetail deadLetterDetailFromJson(const QJsonObject &message)
{
    const QJsonObject item = message.value(QLatin1String("item")).toObject();
    DeadLetterDetail d;
    d.letter = deadLetterFromJson(item);
    for (const auto &h : item.value(QLatin1String("headers")).toArray()) {
        const QJsonArray kv = h.toArray();
        d.headers.emplace_back(kv.at(0).toString().toStdString(),
                               kv.at(1).toString().toStdString());
    }
    d.payload = text(item, "payload");
    return d;
}

ReplayResult replayResultFromJson(const QJsonObject &o)
{
    ReplayResult r;
    r.replayed = o.value(QLatin1String("replayed")).toInteger();
    r.skipped = o.value(QLatin1String("skipped")).toInteger();
    for (const auto &v : o.value(QLatin1String("ids")).toArray())
        r.ids.push_back(v.toString().toStdString());
    r.more = o.value(QLatin1String("more")).toBool();
    return r;
}

AlertRule alertRuleFromJson(const QJsonObject &o)
{
    AlertRule a;
    // The stored rule passed the decoder's rules; read it leniently all the same.
    auto draft = decodeAlertRule(o, false);
    if (draft)
        a.rule = std::move(draft).value();
    else
        a.rule.uuid = text(o, "uuid");
    a.rule.name = text(o, "name");
    a.owner = text(o, "owner");
    for (const auto &v : o.value(QLatin1String("apps")).toArray())
        a.apps.push_back(v.toString().toStdString());
    a.created = text(o, "created");
    a.updated = text(o, "updated");
    a.lastEval = text(o, "last_eval");
    a.lastError = text(o, "last_error");
    return a;
}

AlertTestResult alertTestResultFromJson(const QJsonObject &o)
{
    AlertTestResult r;
    r.windowMs = o.value(QLatin1String("window_ms")).toInteger();
    r.fromNs = QByteArray::fromStdString(text(o, "from")).toLongLong();
    r.toNs = QByteArray::fromStdString(text(o, "to")).toLongLong();
    r.condition = text(o, "condition");
    r.threshold = o.value(QLatin1String("threshold")).toInteger();
    for (const auto &k : o.value(QLatin1String("keys")).toArray())
        r.keys.push_back(k.toString().toStdString());
    for (const auto &bv : o.value(QLatin1String("buckets")).toArray()) {
        const QJsonObject b = bv.toObject();
        AlertTestResult::Bucket bucket;
        bucket.tNs = QByteArray::fromStdString(text(b, "t")).toLongLong();
        const QJsonObject counts = b.value(QLatin1String("counts")).toObject();
        for (auto it = counts.begin(); it != counts.end(); ++it)
            bucket.counts[it.key().toStdString()] = it.value().toInteger();
        for (const auto &k : b.value(QLatin1String("holds")).toArray())
            bucket.holds.push_back(k.toString().toStdString());
        r.buckets.push_back(std::move(bucket));
    }
    r.truncated = o.value(QLatin1String("truncated")).toBool();
    r.elapsedMs = o.value(QLatin1String("elapsed_ms")).toInteger();
    return r;
}

AlertSeries alertSeriesFromJson(const QJsonObject &o)
{
    AlertSeries s;
    s.rule = text(o, "rule");
    s.name = text(o, "name");
    s.severity = text(o, "severity");
    s.series = text(o, "series");
    s.state = text(o, "state");
    s.sinceNs = timeNs(o, "since");
    s.value = o.value(QLatin1String("value")).toInteger();
    s.evaluatedNs = timeNs(o, "evaluated");
    return s;
}

AlertChange alertChangeFromJson(const QJsonObject &o)
{
    AlertChange c;
    c.history = o.value(QLatin1String("history")).toInteger();
    c.rule = text(o, "rule");
    c.name = text(o, "name");
    c.severity = text(o, "severity");
    c.series = text(o, "series");
    c.fromState = text(o, "from_state");
    c.toState = text(o, "to_state");
    c.value = o.value(QLatin1String("value")).toInteger();
    c.atNs = timeNs(o, "at");
    return c;
}

} // namespace idl::protocol
