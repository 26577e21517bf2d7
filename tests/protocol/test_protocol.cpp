// Unit tests of idl::protocol: request encoding/decoding, field rules, reply encoders.
#undef QT_NO_CAST_FROM_ASCII

#include "idl/core/log_event.h"
#include "idl/protocol/replies.h"
#include "idl/protocol/requests.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <set>

using namespace idl;
using namespace idl::protocol;

namespace {

QByteArray text(QJsonObject o, const char *id = "r1")
{
    o.insert(QStringLiteral("id"), QLatin1String(id));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Result<Request> decodeText(const QByteArray &t)
{
    auto e = decodeEnvelope(t);
    if (!e)
        return e.error();
    return decodeRequest(*e);
}

// The error code of decoding `json` (the request must fail).
QString codeOf(const char *json)
{
    auto r = decodeText(QByteArray(json));
    return r ? QStringLiteral("ok") : QString::fromLatin1(errorCodeName(r.error().code));
}

QJsonObject parse(const std::string &json)
{
    QJsonParseError err;
    const auto doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &err);
    return err.error == QJsonParseError::NoError ? doc.object() : QJsonObject();
}

// One non-default value of every request type.
std::vector<Request> samples()
{
    Query q;
    q.q = "level:>=warn app:check*";
    q.range = {"-1h", "2026-12-04T00:00:00Z"};
    q.order = Order::Asc;
    q.limit = 77;
    q.chunk = 7;
    q.cursor = encodeCursor(1700000000123456789LL, "0193694b-2f1e-7c3a-9d41-5b2e8f3c1a77");
    Export x;
    x.q = "app:billing";
    x.order = Order::Desc;
    x.chunk = 100;
    x.columns = {"time", "message", "attrs"};
    Aggregate a;
    a.q = "host:web-1";
    a.split = "app";
    a.bucketMs = 60000;
    a.maxSeries = 3;
    Top t;
    t.field = "host";
    t.limit = 5;
    t.range = {"1700000000000000000", "now"};
    TailStart ts;
    ts.q = "level:error";
    ts.since = "-5m";
    ts.resume = std::map<std::int32_t, std::int64_t>{{0, 12}, {3, 0}};
    SavedPut sp;
    sp.uuid = "6d0f3a52-0000-4000-8000-000000000001";
    sp.name = "slow checkout";
    sp.q = "@duration_ms:>=1000";
    sp.range = {"-24h", "now"};
    sp.shared = true;
    TokensCreate tc;
    tc.name = "ci";
    tc.role = "editor";
    tc.apps = {"checkout", "billing"};
    DlqList dl;
    dl.filter = {"too_large", "checkout", "-1d", "now"};
    dl.limit = 50;
    DlqReplay dr;
    dr.ids = {"0:17", "2:5"};
    DlqReplay drAll;
    drAll.all = true;
    drAll.filter.code = "bad_json";
    AlertsRulesPut ap;
    ap.rule.uuid = "6d0f3a52-0000-4000-8000-000000000003";
    ap.rule.name = "checkout errors";
    ap.rule.q = "app:checkout level:>=error";
    ap.rule.windowMs = 120000;
    ap.rule.condition = "below";
    ap.rule.threshold = 5;
    ap.rule.groupBy = "host";
    ap.rule.intervalMs = 15000;
    ap.rule.forMs = 30000;
    ap.rule.resolveMs = 60000;
    ap.rule.severity = "critical";
    ap.rule.targets = {{"slack", "https://hooks.example/T0/B0"}, {"webhook", "http://h:1/x"}};
    ap.rule.enabled = false;
    ap.rule.shared = true;
    AlertsRulesTest at;
    at.rule.q = "level:error";
    at.rule.condition = "absent";
    at.windows = 7;
    at.maxSeries = 3;
    AlertsHistory ah;
    ah.rule = "6d0f3a52-0000-4000-8000-000000000004";
    ah.from = "-1d";
    ah.to = "now";
    ah.limit = 20;
    ah.cursor = encodeHistoryCursor(4711);
    Hello h;
    h.token = "idt_x";
    h.client = "test/1";
    return {h,
            Auth{"idt_y"},
            Ping{},
            q,
            x,
            a,
            t,
            ts,
            TailStop{"tl"},
            Cancel{"x1"},
            SavedList{},
            SavedGet{"6d0f3a52-0000-4000-8000-000000000001"},
            sp,
            SavedDelete{"6d0f3a52-0000-4000-8000-000000000002"},
            TokensList{},
            tc,
            TokensRevoke{"k3j4h5g6f7d8"},
            dl,
            DlqGet{3, 1234},
            dr,
            drAll,
            AlertsRulesList{},
            AlertsRulesGet{"6d0f3a52-0000-4000-8000-000000000005"},
            ap,
            AlertsRulesDelete{"6d0f3a52-0000-4000-8000-000000000006"},
            at,
            AlertsFiring{"6d0f3a52-0000-4000-8000-000000000007"},
            AlertsFiring{},
            ah};
}

} // namespace

class TestProtocol : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void everyRequestTypeIsNamedOnce()
    {
        const auto &types = requestTypes();
        QCOMPARE(types.size(), std::variant_size_v<Request>);
        QCOMPARE(std::set<std::string_view>(types.begin(), types.end()).size(), types.size());
        std::set<std::string_view> sampled;
        for (const auto &r : samples())
            sampled.insert(typeName(r));
        QCOMPARE(sampled.size(), types.size());
    }

    void everyRequestRoundTrips()
    {
        for (const Request &r : samples()) {
            const QByteArray t = text(toJson(r));
            auto back = decodeText(t);
            QVERIFY2(back.ok(), t.constData());
            QVERIFY2(*back == r, t.constData());
        }
    }

    void defaultsAreTheDocumentedOnes()
    {
        auto r = decodeText(R"j({"type":"query","id":"q"})j");
        QVERIFY(r.ok());
        const auto &q = std::get<Query>(*r);
        QCOMPARE(q.range.from, std::string("-15m"));
        QCOMPARE(q.range.to, std::string("now"));
        QVERIFY(q.order == Order::Desc);
        QCOMPARE(q.limit, 500);
        QCOMPARE(q.chunk, 500);
        auto x = decodeText(R"j({"type":"export","id":"x"})j");
        QVERIFY(std::get<Export>(*x).order == Order::Asc);
        QCOMPARE(std::get<Export>(*x).chunk, 2000);
        QCOMPARE(columnSet(std::get<Export>(*x)), unsigned(ColAll));
        // The encoder leaves defaults out: a default query is just its type and q.
        QCOMPARE(toJson(Query{}).keys(), (QStringList{"chunk", "limit", "q", "type"}));
    }

    void envelopeErrors()
    {
        QCOMPARE(codeOf("not json"), QStringLiteral("bad_json"));
        QCOMPARE(codeOf("[1,2]"), QStringLiteral("bad_json"));
        QCOMPARE(codeOf(R"j({"type":"ping"})j"), QStringLiteral("bad_request"));
        QCOMPARE(codeOf(R"j({"type":"ping","id":""})j"), QStringLiteral("bad_request"));
        QCOMPARE(codeOf(R"j({"type":"ping","id":7})j"), QStringLiteral("bad_request"));
        const std::string longId = "{\"type\":\"ping\",\"id\":\"" + std::string(65, 'a') + "\"}";
        QCOMPARE(codeOf(longId.c_str()), QStringLiteral("bad_request"));
        QCOMPARE(codeOf("{\"type\":\"ping\",\"id\":\"a\\nb\"}"), QStringLiteral("bad_request"));
        std::string id;
        auto e = decodeEnvelope(QByteArray(R"j({"id":"k"})j"), &id);
        QVERIFY(!e);
        QCOMPARE(id, std::string("k")); // known, so the error can name it
        QCOMPARE(codeOf(R"j({"type":"nope","id":"a"})j"), QStringLiteral("bad_request"));
    }

    void fieldRules()
    {
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","limit":0})j"), QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","limit":10001})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","limit":10000})j"), QStringLiteral("ok"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","limit":1.5})j"), QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","limit":"5"})j"), QStringLiteral("bad_field"));
        // Beyond int64 (found by fuzz_ws_request: the conversion was undefined behaviour,
        // reported by UBSan in the sanitizer build, scripts/test-sanitizers).
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","limit":1e300})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"dlq.get","id":"a","partition":0,"offset":-1e300})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","chunk":5001})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","order":"up"})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","q":5})j"), QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","from":5})j"), QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"query","id":"a","cursor":"!!"})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"export","id":"a","columns":["time","pwd"]})j"),
                 QStringLiteral("bad_request"));
        QCOMPARE(codeOf(R"j({"type":"export","id":"a","columns":"time"})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"aggregate","id":"a","split":"host"})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"aggregate","id":"a","bucket_ms":500})j"),
                 QStringLiteral("bad_request"));
        QCOMPARE(codeOf(R"j({"type":"aggregate","id":"a","max_series":101})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"top","id":"a","field":"level"})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"top","id":"a","limit":101})j"), QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"tail.start","id":"a","resume":{"positions":{"x":1}}})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"tail.start","id":"a","resume":{"positions":{"0":-1}}})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"tail.start","id":"a","resume":{"positions":{"0":1e300}}})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"tail.start","id":"a","resume":5})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"saved.get","id":"a"})j"), QStringLiteral("missing_field"));
        QCOMPARE(codeOf(R"j({"type":"saved.put","id":"a","saved":{"name":""}})j"),
                 QStringLiteral("bad_field"));
        const std::string longName = "{\"type\":\"saved.put\",\"id\":\"a\",\"saved\":{\"name\":\"" +
                                     std::string(201, 'n') + "\"}}";
        QCOMPARE(codeOf(longName.c_str()), QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"saved.put","id":"a","saved":{"name":"n","shared":"yes"}})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"tokens.create","id":"a","role":"root"})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"tokens.create","id":"a","apps":[1]})j"),
                 QStringLiteral("bad_field"));
    }

    void deadLetterRules()
    {
        QCOMPARE(codeOf(R"j({"type":"dlq.list","id":"a","limit":1001})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"dlq.list","id":"a","from":"last week"})j"),
                 QStringLiteral("bad_timestamp"));
        QCOMPARE(codeOf(R"j({"type":"dlq.get","id":"a","partition":1})j"),
                 QStringLiteral("missing_field"));
        QCOMPARE(codeOf(R"j({"type":"dlq.get","id":"a","partition":-1,"offset":2})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"dlq.replay","id":"a"})j"), QStringLiteral("missing_field"));
        QCOMPARE(codeOf(R"j({"type":"dlq.replay","id":"a","ids":["3"]})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"dlq.replay","id":"a","ids":["1:2"],"all":true})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"dlq.replay","id":"a","all":true,"code":"x"})j"),
                 QStringLiteral("ok"));
        QVERIFY(parseDlqId("12:345") == std::make_pair(std::int32_t(12), std::int64_t(345)));
        for (const char *bad : {"", ":", "1:", ":2", "a:1", "1:b", "-1:2", "1:-2", "1:2:3"})
            QVERIFY2(!parseDlqId(bad), bad);

        DeadLetter d;
        d.partition = 2;
        d.offset = 9;
        d.deadAtNs = 1700000000123000000LL;
        d.app = "checkout";
        d.code = "too_large";
        auto l = parse(dlqListMessage("l", {d}, true));
        const auto item = l.value("items").toArray()[0].toObject();
        QCOMPARE(item.value("id").toString(), QStringLiteral("2:9"));
        QCOMPARE(item.value("dead_at").toString(), QStringLiteral("2023-11-14T22:13:20.123Z"));
        QVERIFY(item.value("first_seen").isNull());
        QVERIFY(item.value("replayed_at").isNull());
        QCOMPARE(l.value("more").toBool(), true);
        auto g = parse(dlqResultMessage("g", d, {{"idl-error-code", "too_large"}}, "{\"a\":1}"));
        QCOMPARE(g.value("item").toObject().value("payload").toString(),
                 QStringLiteral("{\"a\":1}"));
        QCOMPARE(g.value("item").toObject().value("headers").toArray()[0].toArray()[1].toString(),
                 QStringLiteral("too_large"));
        auto rr = parse(dlqReplayResultMessage("r", 2, 1, {"0:1", "0:2"}, false));
        QCOMPARE(rr.value("replayed").toInt(), 2);
        QCOMPARE(rr.value("skipped").toInt(), 1);
    }

    void alertRules()
    {
        auto put = [](const char *rule) {
            return codeOf(
                ("{\"type\":\"alerts.rules.put\",\"id\":\"a\",\"rule\":" + std::string(rule) + "}")
                    .c_str());
        };
        QCOMPARE(put(R"j({"name":"n"})j"), QStringLiteral("ok"));
        QCOMPARE(codeOf(R"j({"type":"alerts.rules.put","id":"a"})j"),
                 QStringLiteral("missing_field"));
        QCOMPARE(codeOf(R"j({"type":"alerts.rules.put","id":"a","rule":[]})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({})j"), QStringLiteral("bad_field")); // name required
        QCOMPARE(put(("{\"name\":\"" + std::string(201, 'n') + "\"}").c_str()),
                 QStringLiteral("bad_field"));
        QCOMPARE(put(("{\"name\":\"n\",\"q\":\"" + std::string(4097, 'q') + "\"}").c_str()),
                 QStringLiteral("bad_field"));
        // Every CHECK of migration 300, at and beyond its bounds.
        QCOMPARE(put(R"j({"name":"n","window_ms":999})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","window_ms":1000})j"), QStringLiteral("ok"));
        QCOMPARE(put(R"j({"name":"n","window_ms":604800000})j"), QStringLiteral("ok"));
        QCOMPARE(put(R"j({"name":"n","window_ms":604800001})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","interval_ms":999})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","interval_ms":86400001})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","for_ms":-1})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","resolve_ms":604800001})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","threshold":-1})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","threshold":1.5})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","condition":"equal"})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","condition":"below"})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","condition":"below","threshold":1})j"), QStringLiteral("ok"));
        QCOMPARE(put(R"j({"name":"n","group_by":"level"})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","severity":"page"})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","enabled":1})j"), QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","targets":{}})j"), QStringLiteral("bad_field"));
        QCOMPARE(put("{\"name\":\"n\",\"targets\":[{\"kind\":\"email\",\"url\":\"http://x\"}]}"),
                 QStringLiteral("bad_field"));
        QCOMPARE(put(R"j({"name":"n","targets":[{"kind":"slack"}]})j"),
                 QStringLiteral("missing_field"));
        QCOMPARE(put("{\"name\":\"n\",\"targets\":[{\"url\":\"ftp://x\"}]}"),
                 QStringLiteral("bad_field"));
        std::string eleven = "[";
        for (int i = 0; i < 11; ++i)
            eleven +=
                std::string(i ? "," : "") + "{\"url\":\"http://h/" + std::to_string(i) + "\"}";
        eleven += "]";
        QCOMPARE(put(("{\"name\":\"n\",\"targets\":" + eleven + "}").c_str()),
                 QStringLiteral("bad_field"));
        // Bytes, not only counts: 10 targets of 2000-byte urls are over 16384 bytes of JSON.
        std::string big = "[";
        for (int i = 0; i < 10; ++i)
            big +=
                std::string(i ? "," : "") + "{\"url\":\"http://h/" + std::string(2000, 'u') + "\"}";
        big += "]";
        QCOMPARE(put(("{\"name\":\"n\",\"targets\":" + big + "}").c_str()),
                 QStringLiteral("bad_field"));
        QCOMPARE(put(("{\"name\":\"n\",\"targets\":[{\"url\":\"http://h/" + std::string(2100, 'u') +
                      "\"}]}")
                         .c_str()),
                 QStringLiteral("bad_field"));
        // test: no name needed; windows and max_series bounded.
        QCOMPARE(codeOf(R"j({"type":"alerts.rules.test","id":"a","rule":{}})j"),
                 QStringLiteral("ok"));
        QCOMPARE(codeOf(R"j({"type":"alerts.rules.test","id":"a","rule":{},"windows":121})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"alerts.rules.test","id":"a","rule":{},"max_series":0})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"alerts.rules.get","id":"a"})j"),
                 QStringLiteral("missing_field"));
        QCOMPARE(codeOf(R"j({"type":"alerts.history","id":"a","limit":1001})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"alerts.history","id":"a","cursor":"xyz"})j"),
                 QStringLiteral("bad_field"));
        QCOMPARE(codeOf(R"j({"type":"alerts.history","id":"a","from":"yesterday"})j"),
                 QStringLiteral("bad_timestamp"));
        QCOMPARE(*decodeHistoryCursor(encodeHistoryCursor(42)), 42);
        QVERIFY(!decodeHistoryCursor(encodeCursor(1, "0193694b-2f1e-7c3a-9d41-5b2e8f3c1a77")));
    }

    void alertReplies()
    {
        AlertRule a;
        a.rule.uuid = "6d0f3a52-0000-4000-8000-000000000003";
        a.rule.name = "checkout errors";
        a.rule.q = "app:checkout";
        a.rule.groupBy = "app";
        a.rule.targets = {{"slack", "https://hooks.example/x"}};
        a.owner = "ops";
        a.apps = {"checkout"};
        a.created = "2026-12-04T10:00:00.000Z";
        a.updated = "2026-12-04T10:00:00.000Z";
        const auto listed = parse(alertRulesListMessage("l", {a}));
        QCOMPARE(listed.value("type").toString(), QStringLiteral("alerts.rules.list.result"));
        const auto item = listed.value("items").toArray()[0].toObject();
        QVERIFY(item.value("last_eval").isNull());
        const AlertRule back = alertRuleFromJson(item);
        QVERIFY(back.rule == a.rule);
        QCOMPARE(back.owner, a.owner);
        QCOMPARE(back.apps, a.apps);
        QCOMPARE(parse(alertRuleResultMessage("g", a)).value("rule").toObject(), item);

        AlertTestResult t;
        t.windowMs = 60000;
        t.fromNs = 1700000000000000000LL;
        t.toNs = t.fromNs + 120'000'000'000LL;
        t.condition = "above";
        t.threshold = 2;
        t.keys = {"a", "b"};
        t.buckets = {{t.fromNs, {{"a", 3}}, {"a"}}, {t.fromNs + 60'000'000'000LL, {}, {}}};
        const auto tj = parse(alertTestResultMessage("t", t));
        QCOMPARE(tj.value("buckets")
                     .toArray()[0]
                     .toObject()
                     .value("counts")
                     .toObject()
                     .value("a")
                     .toInt(),
                 3);
        const auto tb = alertTestResultFromJson(tj);
        QCOMPARE(tb.keys, t.keys);
        QCOMPARE(tb.buckets.size(), std::size_t(2));
        QCOMPARE(tb.buckets[0].holds, std::vector<std::string>{"a"});
        QCOMPARE(tb.buckets[1].tNs, t.fromNs + 60'000'000'000LL);
        QCOMPARE(tb.fromNs, t.fromNs);

        AlertSeries s{"u",        "n",
                      "critical", "web-1",
                      "firing",   1700000000123000000LL,
                      9,          1700000001000000000LL};
        const auto fj = parse(alertsFiringMessage("f", {s}));
        const auto sb = alertSeriesFromJson(fj.value("items").toArray()[0].toObject());
        QCOMPARE(sb.sinceNs, s.sinceNs);
        QCOMPARE(sb.state, s.state);

        AlertChange c{
            4711, "u", "n", "warning", "", "pending", "firing", 57, 1700000000123000000LL};
        const auto hj = parse(alertsHistoryMessage("h", {c}, encodeHistoryCursor(4711)));
        QCOMPARE(*decodeHistoryCursor(hj.value("cursor").toString().toStdString()), 4711);
        QVERIFY(parse(alertsHistoryMessage("h", {}, "")).value("cursor").isNull());
        const auto pj = parse(alertStateMessage(c));
        QCOMPARE(pj.value("type").toString(), QStringLiteral("alert.state"));
        QVERIFY(pj.value("id").isNull());
        const auto cb = alertChangeFromJson(pj);
        QCOMPARE(cb.history, 4711);
        QCOMPARE(cb.toState, std::string("firing"));
        QCOMPARE(cb.atNs, c.atNs);
        QCOMPARE(alertChangeFromJson(hj.value("items").toArray()[0].toObject()).fromState,
                 std::string("pending"));
    }

    void timeArguments()
    {
        const std::int64_t now = 1'800'000'000'000'000'000;
        QCOMPARE(*parseTimeArg("now", now), now);
        QCOMPARE(*parseTimeArg("-15m", now), now - 15 * 60'000'000'000LL);
        QCOMPARE(*parseTimeArg("-2d", now), now - 2 * 86'400'000'000'000LL);
        QCOMPARE(*parseTimeArg("-500ms", now), now - 500'000'000LL);
        QCOMPARE(*parseTimeArg("1700000000123456789", now), 1700000000123456789LL);
        QCOMPARE(*parseTimeArg("2023-11-14T22:13:20Z", now), 1700000000000000000LL);
        for (const char *bad :
             {"", "-", "-5x", "+5m", "yesterday", "2023-13-01T00:00:00Z", "-99999999999w"})
            QVERIFY2(!parseTimeArg(bad, now), bad);
        QVERIFY(resolveRange({"-1h", "now"}, now).ok());
        QCOMPARE(resolveRange({"now", "-1h"}, now).error().code, ErrorCode::BadRequest);
        QCOMPARE(resolveRange({"then", "now"}, now).error().code, ErrorCode::BadTimestamp);
    }

    void cursorsRoundTrip()
    {
        const std::string id = "0193694b-2f1e-7c3a-9d41-5b2e8f3c1a77";
        auto c = decodeCursor(encodeCursor(1700000000123456789LL, id));
        QVERIFY(c.ok());
        QCOMPARE(c->first, 1700000000123456789LL);
        QCOMPARE(c->second, id);
        QVERIFY(!decodeCursor("not a cursor!"));
        QVERIFY(!decodeCursor(encodeCursor(1, "x'); DROP TABLE logs; --")));
    }

    void replyEncoders()
    {
        auto e = parse(errorMessage({}, makeError(ErrorCode::BadJson, "x")));
        QVERIFY(e.value(QLatin1String("id")).isNull());
        QCOMPARE(e.value(QLatin1String("code")).toString(), QStringLiteral("bad_json"));
        QVERIFY(!e.contains(QLatin1String("position")));
        Error pos = makeError(ErrorCode::QuerySyntax, "expected )");
        pos.position = 3;
        auto p = parse(errorMessage("q", pos, 250));
        QCOMPARE(p.value(QLatin1String("position")).toInt(), 3);
        QCOMPARE(p.value(QLatin1String("retry_after_ms")).toInt(), 250);

        const Identity who{"alice", "viewer", {"checkout"}};
        auto h = parse(helloMessage("h", "idl-gateway/x", &who, {}));
        QCOMPARE(h.value(QLatin1String("authenticated")).toBool(), true);
        QCOMPARE(h.value(QLatin1String("apps")).toArray().size(), 1);
        QCOMPARE(
            h.value(QLatin1String("limits")).toObject().value(QLatin1String("max_page")).toInt(),
            int(kMaxPage));
        auto anon = parse(helloMessage("h", "idl-gateway/x", nullptr, {}));
        QCOMPARE(anon.value(QLatin1String("authenticated")).toBool(), false);
        QVERIFY(!anon.contains(QLatin1String("user")));
        QVERIFY(parse(authOkMessage("a", Identity{"bob", "admin", {}}))
                    .value(QLatin1String("apps"))
                    .isNull());

        LogEvent ev;
        ev.id = "0193694b-2f1e-7c3a-9d41-5b2e8f3c1a77";
        ev.tsNs = 1700000000123456789LL;
        ev.receivedNs = ev.tsNs + 1;
        ev.level = Level::Warn;
        ev.app = "checkout";
        ev.message = "tab\there \"quoted\"";
        ev.attrsJson = R"j({"n":1})j";
        ev.traceId = "abcd";
        std::string rows;
        beginRows(rows, "q", 4);
        appendEvent(rows, ev, ColAll);
        rows.push_back(',');
        appendEvent(rows, ev, ColTime | ColMessage);
        endRows(rows, Progress{2, 0.5});
        auto r = parse(rows);
        QCOMPARE(r.value(QLatin1String("seq")).toInt(), 4);
        const auto arr = r.value(QLatin1String("rows")).toArray();
        QCOMPARE(arr.size(), 2);
        const auto full = arr[0].toObject();
        QCOMPARE(full.value(QLatin1String("ts")).toString(), QStringLiteral("1700000000123456789"));
        QCOMPARE(full.value(QLatin1String("time")).toString(),
                 QStringLiteral("2023-11-14T22:13:20.123456789Z"));
        QCOMPARE(full.value(QLatin1String("level")).toString(), QStringLiteral("warn"));
        QCOMPARE(full.value(QLatin1String("attrs")).toObject().value(QLatin1String("n")).toInt(),
                 1);
        QCOMPARE(full.value(QLatin1String("trace_id")).toString(), QStringLiteral("abcd"));
        QVERIFY(!full.contains(QLatin1String("span_id"))); // empty ids are left out
        QCOMPARE(arr[1].toObject().keys(), (QStringList{"message", "time"}));
        QCOMPARE(r.value(QLatin1String("progress"))
                     .toObject()
                     .value(QLatin1String("fraction"))
                     .toDouble(),
                 0.5);

        auto d = parse(doneMessage("q", 3, {}, 9));
        QVERIFY(d.value(QLatin1String("cursor")).isNull());
        QCOMPARE(parse(doneMessage("q", 3, "abc", 9)).value(QLatin1String("cursor")).toString(),
                 QStringLiteral("abc"));

        AggregateResult a;
        a.bucketMs = 60000;
        a.source = "rollup";
        a.fromNs = 0;
        a.toNs = 120'000'000'000LL;
        a.keys = {"info"};
        a.buckets = {{{"info", 2}}, {}};
        a.total = 2;
        auto ag = parse(aggregateResultMessage("a", a));
        QCOMPARE(ag.value(QLatin1String("buckets")).toArray().size(), 2);
        QCOMPARE(ag.value(QLatin1String("buckets"))
                     .toArray()[1]
                     .toObject()
                     .value(QLatin1String("t"))
                     .toString(),
                 QStringLiteral("60000000000"));

        std::string frame;
        beginTailEvents(frame, "tl", true);
        appendEvent(frame, ev, ColAll);
        endTailEvents(frame, 2, 5, {{0, 10}, {2, 7}});
        auto f = parse(frame);
        QCOMPARE(f.value(QLatin1String("phase")).toString(), QStringLiteral("history"));
        QCOMPARE(f.value(QLatin1String("dropped_total")).toInt(), 5);
        QCOMPARE(f.value(QLatin1String("positions")).toObject().value(QLatin1String("2")).toInt(),
                 7);
        QVERIFY(
            !parse(tailStartedMessage("tl", "t", {}, false)).contains(QLatin1String("truncated")));

        TokenInfo tok{"p", "n", "viewer", {}, "2026-01-01T00:00:00Z", std::nullopt};
        auto tl = parse(tokensListMessage("k", {tok}));
        QVERIFY(tl.value(QLatin1String("items"))
                    .toArray()[0]
                    .toObject()
                    .value(QLatin1String("revoked"))
                    .isNull());
    }
};

QTEST_GUILESS_MAIN(TestProtocol)
#include "test_protocol.moc"
