// Alert rules without a database: field checks, target URLs, the series state machine,
// the count statements' split between rollups and raw rows, the payloads.
#undef QT_NO_CAST_FROM_ASCII
#include "idl/alerter/alerter.h"
#include "idl/query/parser.h"
#include "idl/service/http_client.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace idl;
using alerter::State;

namespace {
constexpr std::int64_t kS = 1'000'000'000;

alerter::Rule validRule()
{
    alerter::Rule r;
    r.name = "errors";
    r.query = "level:error app:checkout";
    r.targets = {{"webhook", "https://hooks.example.com/a?b=c"},
                 {"slack", "http://10.0.0.1:8080/x"}};
    return r;
}
} // namespace

class AlerterUnit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validateChecksEveryField()
    {
        QVERIFY(alerter::validate(validRule()).ok());
        auto bad = [](auto change) {
            alerter::Rule r = validRule();
            change(r);
            return !alerter::validate(r).ok();
        };
        QVERIFY(bad([](alerter::Rule &r) { r.name.clear(); }));
        QVERIFY(bad([](alerter::Rule &r) { r.query = "app:("; }));
        QVERIFY(bad([](alerter::Rule &r) { r.query = std::string(5000, 'a'); }));
        QVERIFY(bad([](alerter::Rule &r) { r.windowMs = 999; }));
        QVERIFY(bad([](alerter::Rule &r) { r.windowMs = alerter::kMaxWindowMs + 1; }));
        QVERIFY(bad([](alerter::Rule &r) { r.intervalMs = 0; }));
        QVERIFY(bad([](alerter::Rule &r) { r.forMs = -1; }));
        QVERIFY(bad([](alerter::Rule &r) { r.resolveMs = -1; }));
        QVERIFY(bad([](alerter::Rule &r) { r.threshold = -1; }));
        QVERIFY(bad([](alerter::Rule &r) {
            r.condition = alerter::Condition::Below;
            r.threshold = 0;
        }));
        QVERIFY(bad([](alerter::Rule &r) { r.severity = "page"; }));
        QVERIFY(bad([](alerter::Rule &r) { r.targets[0].kind = "email"; }));
        QVERIFY(bad([](alerter::Rule &r) { r.targets[0].url = "ftp://x/"; }));
        QVERIFY(bad([](alerter::Rule &r) { r.targets[0].url = "http://user:pw@x/"; }));
        QVERIFY(bad([](alerter::Rule &r) { r.targets[0].url = "http://x:port/"; }));
        QVERIFY(bad([](alerter::Rule &r) { r.targets[0].url = "http://x/a b"; }));
        QVERIFY(bad([](alerter::Rule &r) { r.targets.resize(11, r.targets[0]); }));
    }

    void urls()
    {
        auto u = http::parseUrl("https://hooks.example.com/a?b=c");
        QVERIFY(u.ok());
        QVERIFY(u->tls);
        QCOMPARE(u->host, std::string("hooks.example.com"));
        QCOMPARE(u->port, std::string("443"));
        QCOMPARE(u->target, std::string("/a?b=c"));
        u = http::parseUrl("http://[::1]:9000");
        QVERIFY(u.ok());
        QCOMPARE(u->host, std::string("::1"));
        QCOMPARE(u->port, std::string("9000"));
        QCOMPARE(u->target, std::string("/"));
        QVERIFY(!http::parseUrl("http://").ok());
    }

    void targetsRoundTrip()
    {
        const auto r = validRule();
        auto back = alerter::targetsFromJson(alerter::targetsToJson(r.targets));
        QVERIFY(back.ok());
        QCOMPARE(back->size(), std::size_t(2));
        QCOMPARE((*back)[1].url, r.targets[1].url);
        QVERIFY(!alerter::targetsFromJson("{}").ok());
        QVERIFY(!alerter::targetsFromJson("[{\"kind\":1}]").ok());
    }

    void stateMachine()
    {
        alerter::Rule r = validRule();
        r.threshold = 5;
        r.forMs = 30'000;
        r.resolveMs = 10'000;
        alerter::SeriesState s;
        s = alerter::step(r, s, 6, 0);
        QCOMPARE(s.state, State::Pending);
        s = alerter::step(r, s, 9, 29 * kS);
        QCOMPARE(s.state, State::Pending);
        s = alerter::step(r, s, 9, 30 * kS);
        QCOMPARE(s.state, State::Firing);
        QCOMPARE(s.sinceNs, 30 * kS);
        s = alerter::step(r, s, 5, 40 * kS); // 5 is not above 5: clearing starts
        QCOMPARE(s.state, State::Firing);
        QCOMPARE(*s.clearSince, 40 * kS);
        s = alerter::step(r, s, 7, 45 * kS); // holds again: clearing forgotten
        QVERIFY(!s.clearSince);
        s = alerter::step(r, s, 0, 50 * kS);
        s = alerter::step(r, s, 0, 59 * kS);
        QCOMPARE(s.state, State::Firing);
        s = alerter::step(r, s, 0, 60 * kS);
        QCOMPARE(s.state, State::Ok);
        // Pending that stops holding goes back to ok.
        s = alerter::step(r, s, 6, 70 * kS);
        QCOMPARE(s.state, State::Pending);
        QCOMPARE(alerter::step(r, s, 1, 80 * kS).state, State::Ok);
        r.condition = alerter::Condition::Absent;
        r.forMs = 0;
        QCOMPARE(alerter::step(r, {}, 0, 0).state, State::Firing);
        QCOMPARE(alerter::step(r, {}, 1, 0).state, State::Ok);
        r.condition = alerter::Condition::Below;
        QCOMPARE(alerter::step(r, {}, 4, 0).state, State::Firing);
        QCOMPARE(alerter::step(r, {}, 5, 0).state, State::Ok);
    }

    void rollupSplit()
    {
        alerter::Rule r = validRule();
        r.windowMs = 300'000;
        r.apps = {"checkout"};
        auto ast = query::parse(r.query);
        const std::int64_t minute = 60 * kS, t = 1'800'000'000LL * kS + 17 * kS; // hh:mm:17
        auto qs = alerter::countQueries(*ast, r, t, 100);
        QVERIFY(qs.ok());
        QCOMPARE(qs->size(), std::size_t(3));
        QVERIFY((*qs)[0].fromRollups);
        QVERIFY((*qs)[0].sql.find("log_rollup_minute") != std::string::npos);
        // Rollups cover [ceil(t - 5 min), floor(t)); raw rows the two partial minutes.
        QCOMPARE((*qs)[0].params[0], std::to_string(t - 5 * minute + 43 * kS));
        QCOMPARE((*qs)[0].params[1], std::to_string(t - 17 * kS));
        QCOMPARE((*qs)[1].params[0], std::to_string(t - 5 * minute));
        QCOMPARE((*qs)[2].params[1], std::to_string(t));
        // The rule's app scope is a parameter of every statement.
        for (const auto &q : *qs)
            QVERIFY(q.sql.find("app = ANY(") != std::string::npos);
        // Aligned on the minute: rollups only. A message term: raw only.
        QCOMPARE(alerter::countQueries(*ast, r, t - 17 * kS, 100)->size(), std::size_t(1));
        r.query = "app:checkout timeout";
        auto ast2 = query::parse(r.query);
        auto raw = alerter::countQueries(*ast2, r, t, 100);
        QCOMPARE(raw->size(), std::size_t(1));
        QVERIFY(!(*raw)[0].fromRollups);
        // Nothing of the rule's text reaches the SQL.
        QVERIFY((*raw)[0].sql.find("timeout") == std::string::npos);
    }

    void payloads()
    {
        alerter::Rule r = validRule();
        r.uuid = "0190b0c2-0000-7000-8000-000000000001";
        r.threshold = 50;
        r.groupBy = alerter::GroupBy::App;
        r.name = "checkout \"errors\"\n";
        alerter::Transition t{42, "checkout", State::Pending, State::Firing, 57, 0};
        const QJsonObject o =
            QJsonDocument::fromJson(QByteArray::fromStdString(alerter::webhookPayload(r, t)))
                .object();
        QCOMPARE(o.value("id").toInt(), 42);
        QCOMPARE(o.value("status").toString(), QString("firing"));
        QCOMPARE(o.value("previous").toString(), QString("pending"));
        QCOMPARE(o.value("series").toString(), QString("checkout"));
        QCOMPARE(o.value("rule").toObject().value("name").toString(),
                 QString::fromStdString(r.name));
        QCOMPARE(o.value("rule").toObject().value("group_by").toString(), QString("app"));
        const QJsonObject slack =
            QJsonDocument::fromJson(QByteArray::fromStdString(alerter::slackPayload(r, t)))
                .object();
        QCOMPARE(slack.keys(), QStringList{"text"});
        QVERIFY(slack.value("text").toString().startsWith("[FIRING] checkout"));
        QVERIFY(slack.value("text").toString().contains("app=checkout: 57 events"));
        t.from = State::Firing;
        t.to = State::Ok;
        QVERIFY(QString::fromStdString(alerter::notificationText(r, t)).startsWith("[RESOLVED]"));
    }
};

QTEST_GUILESS_MAIN(AlerterUnit)
#include "test_alerter_unit.moc"
