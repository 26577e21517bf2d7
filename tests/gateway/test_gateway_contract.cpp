// The contract between the real gateway and the console's test fake (issue 14): one scripted
// conversation runs against the fake (tests/console/support/fake_gateway.h) and against the
// real gateway (private PostgreSQL and Kafka from tests/support, the same events in both),
// each over a real WebSocket, and every reply must agree: order, type, id, error code, the
// shape of every value (keys and JSON types, recursively), and the counts that follow from
// the data (rows, items, buckets, totals). Values that differ by nature (server name, time
// taken, rollup vs raw source, Kafka positions) are compared by shape only.
//
// Alerts: rules CRUD and every decoder error, alerts.rules.test over the events (the fake
// counts with the query evaluator what the gateway counts with idl-alerter's statements),
// firing and history (empty: no idl-alerter runs here; test_gateway_alerts covers them).
//
// Not in the script: tokens.*, tail history and dead letters beyond an empty topic (the
// fake has no Kafka) and limits (rate, in-flight), which the real gateway's own integration
// tests cover (test_gateway_integration, test_gateway_dlq).
#undef QT_NO_CAST_FROM_ASCII
#include "fake_gateway.h"
#include "gateway_test_util.h"
#include "idl/gateway/gateway.h"
#include "idl/gateway/tokens.h"
#include "idl/pg/connection.h"
#include "idl_test_servers.h"

#include <QRegularExpression>
#include <QTest>

#include <functional>
#include <memory>

using namespace gwtest;
using idl::Level;

namespace {

constexpr std::int64_t kMin = 60'000'000'000;

// What is compared of one reply.
QString shapeOf(const QJsonValue &v, const QString &key = {})
{
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("bool");
    case QJsonValue::Double:
        return QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array: {
        const QJsonArray a = v.toArray();
        // Element shapes, deduplicated; the length is compared where it follows from the data.
        QStringList shapes;
        for (const auto &e : a) {
            const QString s = shapeOf(e, key);
            if (!shapes.contains(s))
                shapes << s;
        }
        return QStringLiteral("[") + shapes.join(QStringLiteral("|")) + QStringLiteral("]");
    }
    case QJsonValue::Object: {
        const QJsonObject o = v.toObject();
        // Maps keyed by data (partitions, series, attributes): the value shapes only.
        if (key == u"positions" || key == u"counts" || key == u"attrs") {
            QStringList shapes;
            for (auto it = o.begin(); it != o.end(); ++it) {
                const QString s = shapeOf(it.value());
                if (!shapes.contains(s))
                    shapes << s;
            }
            shapes.sort();
            return QStringLiteral("map<") + shapes.join(QStringLiteral("|")) + QStringLiteral(">");
        }
        QStringList parts;
        for (auto it = o.begin(); it != o.end(); ++it)
            parts << it.key() + QStringLiteral(":") + shapeOf(it.value(), it.key());
        return QStringLiteral("{") + parts.join(QStringLiteral(",")) + QStringLiteral("}");
    }
    default:
        return QStringLiteral("undefined");
    }
}

// One reply as compared: type, id, code, data-determined counts, then its shape.
QString describe(const QJsonObject &m)
{
    QStringList facts;
    facts << m.value("type").toString();
    facts << (m.value("id").isNull() ? QStringLiteral("id=null")
                                     : QStringLiteral("id=") + m.value("id").toString());
    if (m.contains("code"))
        facts << QStringLiteral("code=") + m.value("code").toString();
    for (const char *k : {"count", "total", "seq", "authenticated", "bucket_ms", "field"}) {
        if (m.contains(QLatin1String(k)))
            facts << QLatin1String(k) + QStringLiteral("=") +
                         QString::fromUtf8(QJsonDocument(QJsonArray{m.value(QLatin1String(k))})
                                               .toJson(QJsonDocument::Compact));
    }
    for (const char *k : {"rows", "items", "buckets", "keys"}) {
        if (m.value(QLatin1String(k)).isArray())
            facts << QLatin1String(k) + QStringLiteral("#") +
                         QString::number(m.value(QLatin1String(k)).toArray().size());
    }
    if (m.contains("cursor"))
        facts << (m.value("cursor").isNull() ? QStringLiteral("cursor=null")
                                             : QStringLiteral("cursor=set"));
    return facts.join(QStringLiteral(" ")) + QStringLiteral(" ") + shapeOf(m);
}

// The state a script carries from one reply to a later request.
struct ScriptState
{
    QString cursor;
    QString uuid;
};

struct Step
{
    QString name;
    std::function<QString(const ScriptState &)> request; // the raw text sent
    int replies = 1;                                     // messages that end the step
    std::function<void(const QJsonObject &, ScriptState &)> capture = {};
};

QString json(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

Step req(const QString &name, QJsonObject o, int replies = 1)
{
    return Step{name, [o](const ScriptState &) { return json(o); }, replies};
}

bool isFinal(const QString &type)
{
    return type != u"rows" && type != u"tail.events";
}

// Runs the script over one connection; returns one line per reply, prefixed by the step.
QStringList runScript(quint16 port, const std::vector<Step> &steps)
{
    QStringList out;
    QWebSocket ws;
    std::vector<QJsonObject> inbox;
    QObject::connect(&ws, &QWebSocket::textMessageReceived, &ws, [&](const QString &t) {
        inbox.push_back(QJsonDocument::fromJson(t.toUtf8()).object());
    });
    ws.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(port)));
    if (!waitUntil([&] { return ws.state() == QAbstractSocket::ConnectedState; })) {
        out << QStringLiteral("cannot connect");
        return out;
    }
    ScriptState state;
    for (const Step &s : steps) {
        inbox.clear();
        ws.sendTextMessage(s.request(state));
        int finals = 0;
        std::size_t seen = 0;
        const bool ok = waitUntil(
            [&] {
                for (; seen < inbox.size(); ++seen) {
                    if (isFinal(inbox[seen].value("type").toString()))
                        ++finals;
                }
                return finals >= s.replies;
            },
            15000);
        // Anything else that arrives shortly after is part of the step too (and must agree).
        QTest::qWait(50);
        for (const auto &m : inbox) {
            out << s.name + QStringLiteral(": ") + describe(m);
            if (s.capture)
                s.capture(m, state);
        }
        if (!ok)
            out << s.name + QStringLiteral(": timed out");
    }
    return out;
}

} // namespace

class GatewayContract : public QObject
{
    Q_OBJECT

    std::unique_ptr<idl::gateway::Gateway> m_gw;
    std::unique_ptr<idl::console::testing::FakeGateway> m_fake;
    std::string m_token;
    std::int64_t m_base = 0;

private Q_SLOTS:
    void initTestCase()
    {
        auto dsn = idl::testsupport::freshDatabase("contract");
        IDL_VERIFY_OK(dsn);
        auto topic = idl::testsupport::freshTopic("contract", 2);
        IDL_VERIFY_OK(topic);
        idl::gateway::GatewayOptions o;
        o.wsPort = 0;
        o.httpPort = 0;
        o.pgDsn = *dsn;
        o.kafkaBootstrap = (*idl::testsupport::kafka())->bootstrap().toStdString();
        o.kafkaTopic = *topic;
        auto dlq = idl::testsupport::freshTopic("contract_dlq", 2); // empty: no dead letters
        IDL_VERIFY_OK(dlq);
        o.kafkaDlqTopic = *dlq;
        o.ratePerSecond = 1000;
        o.rateBurst = 1000;
        m_gw = std::make_unique<idl::gateway::Gateway>(o);
        IDL_VERIFY_OK(m_gw->start());
        auto db = idl::pg::Connection::connect(*dsn);
        IDL_VERIFY_OK(db);
        auto t = idl::gateway::tokens::create(*db, "tester", idl::gateway::Role::Admin, {});
        IDL_VERIFY_OK(t);
        m_token = t->token;

        // The same 120 events in both: 3 apps, 4 hosts, every level, over 40 minutes.
        m_base = nowNs() - nowNs() % kMin - 45 * kMin;
        std::vector<idl::LogEvent> events;
        m_fake = std::make_unique<idl::console::testing::FakeGateway>();
        m_fake->token = QString::fromStdString(m_token);
        const char *apps[] = {"checkout", "billing", "auth"};
        for (int i = 0; i < 120; ++i) {
            idl::LogEvent e = makeEvent(
                m_base + i * 20'000'000'000LL, apps[i % 3], static_cast<Level>(i % 6),
                "request " + std::to_string(i) + (i % 5 == 0 ? " connection reset" : " ok"),
                "web-" + std::to_string(i % 4));
            e.receivedNs = e.tsNs + 1000; // as the fake reports it
            e.attrsJson =
                "{\"n\":" + std::to_string(i) + ",\"user\":{\"id\":" + std::to_string(i % 7) + "}}";
            events.push_back(e);
            idl::console::testing::FakeEvent f;
            f.ts = e.tsNs;
            f.id = QString::fromStdString(e.id);
            f.level = QString::fromLatin1(idl::levelName(e.level));
            f.app = QString::fromStdString(e.app);
            f.host = QString::fromStdString(e.host);
            f.message = QString::fromStdString(e.message);
            f.attrs = QJsonDocument::fromJson(QByteArray::fromStdString(e.attrsJson)).object();
            m_fake->events.push_back(f);
        }
        IDL_VERIFY_OK(writeLikeWriter(*db, events));
        QVERIFY(m_fake->listen());
    }

    void sameConversation()
    {
        const QString token = QString::fromStdString(m_token);
        const QString from = QString::number(m_base);
        const QString to = QString::number(m_base + 45 * kMin);
        const auto range = [&](QJsonObject o) {
            o.insert("from", from);
            o.insert("to", to);
            return o;
        };
        const auto captureCursor = [](const QJsonObject &m, ScriptState &s) {
            if (m.value("type").toString() == u"done")
                s.cursor = m.value("cursor").toString();
        };
        const auto captureUuid = [](const QJsonObject &m, ScriptState &s) {
            if (m.value("type").toString() == u"saved.result")
                s.uuid = m.value("saved").toObject().value("uuid").toString();
            if (m.value("type").toString() == u"alerts.rules.result")
                s.uuid = m.value("rule").toObject().value("uuid").toString();
        };
        const QJsonObject rule{
            {"name", "checkout errors"},
            {"q", "app:checkout level:>=error"},
            {"window_ms", 300000},
            {"condition", "above"},
            {"threshold", 5},
            {"group_by", "host"},
            {"targets", QJsonArray{QJsonObject{{"kind", "slack"},
                                               {"url", "https://hooks.example.com/T0/B0"}}}}};
        const auto withRule = [](QJsonObject o, QJsonObject r) {
            o.insert("rule", r);
            return o;
        };
        std::vector<Step> steps = {
            req("ping before auth", {{"type", "ping"}, {"id", "p0"}}),
            req("query before auth", {{"type", "query"}, {"id", "q0"}}),
            req("hello, wrong token",
                {{"type", "hello"}, {"id", "h0"}, {"versions", QJsonArray{1}}, {"token", "idt_no"}},
                2),
            req("hello, no token", {{"type", "hello"}, {"id", "h1"}, {"versions", QJsonArray{1}}}),
            req("auth", {{"type", "auth"}, {"id", "a1"}, {"token", token}}),
            Step{"bad json", [](const ScriptState &) { return QStringLiteral("{nope"); }},
            req("no id", {{"type", "ping"}}),
            req("unknown type", {{"type", "frobnicate"}, {"id", "u1"}}),
            req("limit 0", {{"type", "query"}, {"id", "e1"}, {"limit", 0}}),
            req("order sideways", {{"type", "query"}, {"id", "e2"}, {"order", "sideways"}}),
            req("query syntax", {{"type", "query"}, {"id", "e3"}, {"q", "app:(checkout"}}),
            req("range reversed", {{"type", "query"}, {"id", "e4"}, {"from", "now"}, {"to", "-1h"}}),
            req("bad time", {{"type", "query"}, {"id", "e5"}, {"from", "yesterday"}}),
            req("bad cursor", {{"type", "query"}, {"id", "e6"}, {"cursor", "!!"}}),
            Step{"first page",
                 [&](const ScriptState &) {
                     return json(range({{"type", "query"},
                                        {"id", "q1"},
                                        {"q", "app:checkout"},
                                        {"limit", 5},
                                        {"chunk", 2}}));
                 },
                 1, captureCursor},
            Step{"next page",
                 [&](const ScriptState &s) {
                     return json(range({{"type", "query"},
                                        {"id", "q2"},
                                        {"q", "app:checkout"},
                                        {"limit", 5},
                                        {"chunk", 2},
                                        {"cursor", s.cursor}}));
                 }},
            req("last page", range({{"type", "query"},
                                    {"id", "q3"},
                                    {"q", "level:>=error \"connection reset\""},
                                    {"order", "asc"},
                                    {"limit", 1000}})),
            req("no match", range({{"type", "query"}, {"id", "q4"}, {"q", "app:nothing"}})),
            req("export", range({{"type", "export"},
                                 {"id", "x1"},
                                 {"q", "host:web-1"},
                                 {"columns", QJsonArray{"time", "level", "message", "attrs"}},
                                 {"chunk", 10}})),
            req("export bad column",
                range({{"type", "export"}, {"id", "x2"}, {"columns", QJsonArray{"secret"}}})),
            req("aggregate by level",
                range({{"type", "aggregate"}, {"id", "g1"}, {"bucket_ms", 300000}})),
            req("aggregate by app", range({{"type", "aggregate"},
                                           {"id", "g2"},
                                           {"split", "app"},
                                           {"bucket_ms", 600000}})),
            req("aggregate bad split", range({{"type", "aggregate"}, {"id", "g3"}, {"split", "x"}})),
            req("top hosts",
                range({{"type", "top"}, {"id", "t1"}, {"field", "host"}, {"limit", 3}})),
            req("top apps with filter",
                range({{"type", "top"}, {"id", "t2"}, {"q", "level:error"}, {"limit", 10}})),
            Step{"saved.put new",
                 [](const ScriptState &) {
                     return json({{"type", "saved.put"},
                                  {"id", "s1"},
                                  {"saved", QJsonObject{{"name", "errors"},
                                                        {"q", "level:error"},
                                                        {"from", "-1h"},
                                                        {"to", "now"},
                                                        {"shared", false}}}});
                 },
                 1, captureUuid},
            req("saved.list", {{"type", "saved.list"}, {"id", "s2"}}),
            Step{"saved.get",
                 [](const ScriptState &s) {
                     return json({{"type", "saved.get"}, {"id", "s3"}, {"uuid", s.uuid}});
                 }},
            Step{"saved.put update",
                 [](const ScriptState &s) {
                     return json({{"type", "saved.put"},
                                  {"id", "s4"},
                                  {"saved", QJsonObject{{"uuid", s.uuid},
                                                        {"name", "errors, renamed"},
                                                        {"q", "level:>=error"}}}});
                 }},
            req("saved.put bad query",
                {{"type", "saved.put"},
                 {"id", "s5"},
                 {"saved", QJsonObject{{"name", "x"}, {"q", "app:("}}}}),
            req("saved.get unknown", {{"type", "saved.get"},
                                      {"id", "s6"},
                                      {"uuid", "00000000-0000-4000-8000-000000000000"}}),
            req("saved.get without uuid", {{"type", "saved.get"}, {"id", "s7"}}),
            Step{"saved.delete",
                 [](const ScriptState &s) {
                     return json({{"type", "saved.delete"}, {"id", "s8"}, {"uuid", s.uuid}});
                 }},
            req("saved.list empty", {{"type", "saved.list"}, {"id", "s9"}}),
            Step{"alerts.rules.put new",
                 [&](const ScriptState &) {
                     return json(withRule({{"type", "alerts.rules.put"}, {"id", "ar1"}}, rule));
                 },
                 1, captureUuid},
            req("alerts.rules.list", {{"type", "alerts.rules.list"}, {"id", "ar2"}}),
            Step{"alerts.rules.get",
                 [](const ScriptState &s) {
                     return json({{"type", "alerts.rules.get"}, {"id", "ar3"}, {"uuid", s.uuid}});
                 }},
            Step{"alerts.rules.put update",
                 [&](const ScriptState &s) {
                     QJsonObject r = rule;
                     r.insert("uuid", s.uuid);
                     r.insert("name", "checkout errors, shared");
                     r.insert("shared", true);
                     r.insert("enabled", false);
                     return json(withRule({{"type", "alerts.rules.put"}, {"id", "ar4"}}, r));
                 }},
            req("alerts.rules.put bad query",
                withRule({{"type", "alerts.rules.put"}, {"id", "ar5"}},
                         {{"name", "x"}, {"q", "app:("}})),
            req("alerts.rules.put window too short",
                withRule({{"type", "alerts.rules.put"}, {"id", "ar6"}},
                         {{"name", "x"}, {"window_ms", 999}})),
            req("alerts.rules.put no name",
                withRule({{"type", "alerts.rules.put"}, {"id", "ar7"}}, {{"q", "level:error"}})),
            req("alerts.rules.put below 0",
                withRule({{"type", "alerts.rules.put"}, {"id", "ar8"}},
                         {{"name", "x"}, {"condition", "below"}, {"threshold", 0}})),
            req("alerts.rules.put bad target",
                withRule({{"type", "alerts.rules.put"}, {"id", "ar9"}},
                         {{"name", "x"},
                          {"targets", QJsonArray{QJsonObject{{"kind", "email"},
                                                             {"url", "https://x.example"}}}}})),
            req("alerts.rules.put without rule", {{"type", "alerts.rules.put"}, {"id", "ar10"}}),
            req("alerts.rules.get unknown", {{"type", "alerts.rules.get"},
                                             {"id", "ar11"},
                                             {"uuid", "00000000-0000-4000-8000-000000000000"}}),
            req("alerts.rules.test by app",
                {{"type", "alerts.rules.test"},
                 {"id", "at1"},
                 {"rule", QJsonObject{{"q", "level:>=info"}, {"window_ms", 60000},
                                      {"group_by", "app"}}},
                 {"windows", 30}}),
            req("alerts.rules.test absent",
                {{"type", "alerts.rules.test"},
                 {"id", "at2"},
                 {"rule", QJsonObject{{"q", "app:billing"}, {"window_ms", 120000},
                                      {"condition", "absent"}}},
                 {"windows", 25}}),
            req("alerts.rules.test top series",
                {{"type", "alerts.rules.test"},
                 {"id", "at3"},
                 {"rule", QJsonObject{{"window_ms", 600000}, {"group_by", "host"}}},
                 {"windows", 6},
                 {"max_series", 2}}),
            req("alerts.rules.test bad query",
                {{"type", "alerts.rules.test"}, {"id", "at4"}, {"rule", QJsonObject{{"q", "("}}}}),
            req("alerts.rules.test too many windows",
                {{"type", "alerts.rules.test"}, {"id", "at5"}, {"rule", QJsonObject{}},
                 {"windows", 121}}),
            req("alerts.firing", {{"type", "alerts.firing"}, {"id", "af1"}}),
            req("alerts.firing unknown rule", {{"type", "alerts.firing"},
                                               {"id", "af2"},
                                               {"rule", "00000000-0000-4000-8000-000000000000"}}),
            Step{"alerts.history of a rule",
                 [](const ScriptState &s) {
                     return json({{"type", "alerts.history"}, {"id", "ah1"}, {"rule", s.uuid},
                                  {"from", "-1h"}});
                 }},
            req("alerts.history bad cursor",
                {{"type", "alerts.history"}, {"id", "ah2"}, {"cursor", "nope"}}),
            req("alerts.history bad limit",
                {{"type", "alerts.history"}, {"id", "ah3"}, {"limit", 0}}),
            Step{"alerts.rules.delete",
                 [](const ScriptState &s) {
                     return json(
                         {{"type", "alerts.rules.delete"}, {"id", "ar12"}, {"uuid", s.uuid}});
                 }},
            Step{"alerts.rules.delete again",
                 [](const ScriptState &s) {
                     return json(
                         {{"type", "alerts.rules.delete"}, {"id", "ar13"}, {"uuid", s.uuid}});
                 }},
            req("alerts.rules.list empty", {{"type", "alerts.rules.list"}, {"id", "ar14"}}),
            req("tail.start", {{"type", "tail.start"}, {"id", "tl"}, {"q", "level:error"}}),
            req("tail.stop", {{"type", "tail.stop"}, {"id", "ts1"}, {"target", "tl"}}),
            req("tail bad query", {{"type", "tail.start"}, {"id", "tl2"}, {"q", "("}}),
            req("tail bad resume",
                {{"type", "tail.start"}, {"id", "tl3"}, {"resume", QJsonObject{{"positions", 5}}}}),
            req("tail to cancel", {{"type", "tail.start"}, {"id", "tl4"}}),
            req("cancel a tail", {{"type", "cancel"}, {"id", "c1"}, {"target", "tl4"}}, 2),
            req("cancel unknown", {{"type", "cancel"}, {"id", "c2"}, {"target", "nothing"}}),
            req("dlq.list empty", {{"type", "dlq.list"}, {"id", "d1"}, {"code", "too_large"}}),
            req("dlq.list bad limit", {{"type", "dlq.list"}, {"id", "d2"}, {"limit", 0}}),
            req("dlq.get unknown", {{"type", "dlq.get"}, {"id", "d3"}, {"partition", 0},
                                    {"offset", 5}}),
            req("dlq.replay unknown", {{"type", "dlq.replay"}, {"id", "d4"},
                                       {"ids", QJsonArray{"0:5"}}}),
            req("dlq.replay nothing", {{"type", "dlq.replay"}, {"id", "d5"}, {"all", true}}),
            req("dlq.replay no ids", {{"type", "dlq.replay"}, {"id", "d6"}}),
            req("ping", {{"type", "ping"}, {"id", "p1"}}),
        };

        const QStringList fake = runScript(m_fake->port(), steps);
        const QStringList real = runScript(m_gw->wsPort(), steps);
        if (qEnvironmentVariableIsSet("IDL_CONTRACT_DUMP")) // the conversation, for reading
            for (const QString &line : real)
                qInfo().noquote() << line;
        for (qsizetype i = 0; i < std::max(fake.size(), real.size()); ++i) {
            const QString f = i < fake.size() ? fake[i] : QStringLiteral("(nothing)");
            const QString r = i < real.size() ? real[i] : QStringLiteral("(nothing)");
            if (f != r)
                qWarning().noquote() << "\nreply" << i << "\n fake:" << f << "\n real:" << r;
            QCOMPARE(f, r);
        }
        // The script exercises what it claims: every step answered, pages really paged.
        QVERIFY(!real.filter(QStringLiteral("timed out")).size());
        QVERIFY(real.filter(QRegularExpression(
                                QStringLiteral("^first page: done .*count=\\[5\\].*cursor=set")))
                    .size() == 1);
        QVERIFY(real.filter(QRegularExpression(QStringLiteral("^next page: rows"))).size() >= 1);
        QVERIFY(real.filter(QRegularExpression(
                                QStringLiteral("^saved.list: saved.list.result .*items#1")))
                    .size() == 1);
        // The alerts part too: the rule stored, listed, counted over 30 windows of 3 apps.
        QVERIFY(real.filter(QRegularExpression(QStringLiteral(
                                "^alerts.rules.list: alerts.rules.list.result .*items#1")))
                    .size() == 1);
        QVERIFY(real.filter(QRegularExpression(
                                QStringLiteral("^alerts.rules.test by app: .*buckets#30 keys#3 ")))
                    .size() == 1);
        QVERIFY(
            real.filter(QRegularExpression(QStringLiteral(
                            "^alerts.rules.test top series: .*buckets#6 keys#2 .*truncated:bool")))
                .size() == 1);
        QVERIFY(
            real.filter(QStringLiteral("alerts.rules.delete again: error id=ar13 code=not_found"))
                .size() == 1);
    }

    void cleanupTestCase()
    {
        m_fake.reset();
        if (m_gw)
            m_gw->stop();
    }
};

QTEST_GUILESS_MAIN(GatewayContract)
#include "test_gateway_contract.moc"
