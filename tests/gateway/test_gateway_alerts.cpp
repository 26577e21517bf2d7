// The gateway's alerts.* requests and the pushed alert.state against a private PostgreSQL
// (issue 20): rules CRUD with app-scope and role denials, alerts.rules.test counting stored
// events with idl-alerter's own statements (scoped), and idl-alerter's real evaluation pass
// (idl::alerter::evaluateDue, in process) firing and resolving a rule: alert.state reaches
// the sessions allowed to see the rule and no other, alerts.firing and alerts.history (paged)
// show it, and the push survives the listener's connection being killed. (The whole path
// through the real collector and the idl-alerter service is test_alerter_stack.)
#include "gateway_test_util.h"
#include "idl/alerter/alerter.h"
#include "idl/gateway/gateway.h"
#include "idl/gateway/tokens.h"
#include "idl/localcluster/process_util.h"
#include "idl/pg/connection.h"
#include "idl_test_servers.h"

#include <QTest>

#include <memory>

using namespace gwtest;
using idl::Level;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;

QJsonObject ruleJson(const QString &name, const QString &q, bool shared)
{
    return {{"name", name},         {"q", q},         {"window_ms", 60000},
            {"condition", "above"}, {"threshold", 5}, {"interval_ms", 1000},
            {"shared", shared}};
}

QStringList names(const QJsonObject &list)
{
    QStringList out;
    for (const auto &i : list.value("items").toArray())
        out << i.toObject().value("name").toString();
    out.sort();
    return out;
}

QString code(const QJsonObject &m)
{
    return m.value("type").toString() == u"error" ? m.value("code").toString()
                                                  : m.value("type").toString();
}

} // namespace

class GatewayAlerts : public QObject
{
    Q_OBJECT

    std::unique_ptr<idl::gateway::Gateway> m_gw;
    std::string m_dsn;
    std::map<std::string, std::string> m_tokens; // who -> token
    std::int64_t m_now = 0;                      // when testCounts' events were written

    std::unique_ptr<Client> connect(const std::string &who)
    {
        auto c = std::make_unique<Client>();
        if (!c->open(m_gw->wsPort()) || !c->authenticate(m_tokens.at(who)))
            return nullptr;
        return c;
    }
    // Stores `n` events of `app` at `level`, `agoSec` seconds before `now` (as the writer does).
    void write(std::int64_t now,
               std::vector<std::tuple<int, std::int64_t, const char *, Level>> what)
    {
        std::vector<idl::LogEvent> events;
        for (const auto &[n, agoSec, app, level] : what) {
            for (int i = 0; i < n; ++i)
                events.push_back(makeEvent(now - agoSec * kSec + i * 1000, app, level,
                                           "declined " + std::to_string(i)));
        }
        auto db = idl::pg::Connection::connect(m_dsn);
        QVERIFY(db.ok());
        QVERIFY(writeLikeWriter(*db, events).ok());
    }
    QJsonObject put(Client &c, const QString &id, QJsonObject rule)
    {
        return c.call({{"type", "alerts.rules.put"}, {"id", id}, {"rule", rule}});
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto dsn = idl::testsupport::freshDatabase("gwalerts");
        IDL_VERIFY_OK(dsn);
        m_dsn = *dsn;
        idl::gateway::GatewayOptions o;
        o.wsPort = 0;
        o.httpPort = 0;
        o.pgDsn = m_dsn;
        // No tail here: the tail consumer waits for a Kafka that never comes.
        o.kafkaBootstrap = "127.0.0.1:" + std::to_string(idl::localcluster::freeTcpPort());
        o.alertsChannel = "idl_alerts_test";
        o.ratePerSecond = 1000;
        o.rateBurst = 1000;
        m_gw = std::make_unique<idl::gateway::Gateway>(o);
        IDL_VERIFY_OK(m_gw->start());
        auto db = idl::pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(db);
        using idl::gateway::Role;
        const std::vector<std::tuple<std::string, std::string, Role, std::vector<std::string>>>
            tokens = {{"ops", "ops", Role::Admin, {}},
                      {"ops-checkout", "ops", Role::Admin, {"checkout"}},
                      {"alice", "alice", Role::Editor, {"checkout"}},
                      {"victor", "victor", Role::Viewer, {"checkout"}},
                      {"bob", "bob", Role::Editor, {"billing"}}};
        for (const auto &[key, user, role, apps] : tokens) {
            auto t = idl::gateway::tokens::create(*db, user, role, apps);
            IDL_VERIFY_OK(t);
            m_tokens[key] = t->token;
        }
    }

    void rulesRespectScopesAndRoles()
    {
        auto victor = connect("victor"), alice = connect("alice"), bob = connect("bob"),
             ops = connect("ops"), opsScoped = connect("ops-checkout");
        QVERIFY(victor && alice && bob && ops && opsScoped);
        // A viewer saves private rules only; they carry its scope.
        auto mine = put(*victor, "v1", ruleJson("victor's", "level:error", false));
        QCOMPARE(code(mine), QString("alerts.rules.result"));
        const QJsonObject vr = mine.value("rule").toObject();
        QCOMPARE(vr.value("owner").toString(), QString("victor"));
        QCOMPARE(vr.value("apps").toArray(), QJsonArray{"checkout"});
        QCOMPARE(code(put(*victor, "v2", ruleJson("victor shared", "level:error", true))),
                 QString("forbidden"));
        // An editor shares one within its scope.
        auto shared = put(*alice, "a1", ruleJson("checkout errors", "level:error", true));
        QCOMPARE(code(shared), QString("alerts.rules.result"));
        const QString sharedUuid = shared.value("rule").toObject().value("uuid").toString();
        // The unscoped admin's own private rule (counts every app).
        auto wide = put(*ops, "o1", ruleJson("everything", "", false));
        QCOMPARE(code(wide), QString("alerts.rules.result"));
        QVERIFY(wide.value("rule").toObject().value("apps").isNull());
        const QString wideUuid = wide.value("rule").toObject().value("uuid").toString();

        const auto list = [](Client &c, const char *id) {
            return names(c.call({{"type", "alerts.rules.list"}, {"id", id}}));
        };
        QCOMPARE(list(*victor, "l1"), (QStringList{"checkout errors", "victor's"}));
        QCOMPARE(list(*alice, "l2"), (QStringList{"checkout errors"}));
        QCOMPARE(list(*ops, "l3"), (QStringList{"checkout errors", "everything"}));
        // Another scope sees nothing of checkout's, and can neither read nor change it.
        QCOMPARE(list(*bob, "l4"), QStringList{});
        QCOMPARE(
            code(bob->call({{"type", "alerts.rules.get"}, {"id", "b1"}, {"uuid", sharedUuid}})),
            QString("not_found"));
        QJsonObject steal = ruleJson("mine now", "level:error", true);
        steal.insert("uuid", sharedUuid);
        QCOMPARE(code(put(*bob, "b2", steal)), QString("not_found"));
        QCOMPARE(
            code(bob->call({{"type", "alerts.rules.delete"}, {"id", "b3"}, {"uuid", sharedUuid}})),
            QString("not_found"));
        QCOMPARE(code(bob->call({{"type", "alerts.history"}, {"id", "b4"}, {"rule", sharedUuid}})),
                 QString("not_found"));
        // The same user with a scoped token does not see its unscoped rule (its counts would
        // show other apps).
        QCOMPARE(list(*opsScoped, "l5"), (QStringList{"checkout errors"}));
        QCOMPARE(
            code(opsScoped->call({{"type", "alerts.rules.get"}, {"id", "s1"}, {"uuid", wideUuid}})),
            QString("not_found"));
        // A viewer cannot change or delete a shared rule, nor share its own.
        steal.insert("shared", false);
        QCOMPARE(code(put(*victor, "v3", steal)), QString("forbidden"));
        QCOMPARE(code(victor->call(
                     {{"type", "alerts.rules.delete"}, {"id", "v4"}, {"uuid", sharedUuid}})),
                 QString("forbidden"));
        QJsonObject share = vr;
        share.insert("shared", true);
        QCOMPARE(code(put(*victor, "v5", share)), QString("forbidden"));
        // The server's own checks beyond the decoder: a target url that does not parse.
        QJsonObject badUrl = ruleJson("bad url", "", false);
        badUrl.insert("targets", QJsonArray{QJsonObject{{"url", "http://"}}});
        QCOMPARE(code(put(*alice, "a0", badUrl)), QString("bad_field"));
        // Webhook targets (idl-alerter POSTs where they say): editors and admins only.
        QJsonObject hook = ruleJson("hooked", "", false);
        hook.insert("targets", QJsonArray{QJsonObject{{"url", "http://127.0.0.1:9/x"}}});
        QCOMPARE(code(put(*victor, "v6", hook)), QString("forbidden"));
        // Nothing of that was stored.
        QCOMPARE(list(*victor, "l6"), (QStringList{"checkout errors", "victor's"}));
        // The editor updates and deletes; the owner stays.
        QJsonObject rename = shared.value("rule").toObject();
        rename.insert("name", "checkout errors!");
        auto renamed = put(*alice, "a2", rename);
        QCOMPARE(renamed.value("rule").toObject().value("owner").toString(), QString("alice"));
        QCOMPARE(code(alice->call(
                     {{"type", "alerts.rules.delete"}, {"id", "a3"}, {"uuid", sharedUuid}})),
                 QString("ok"));
        QCOMPARE(list(*victor, "l7"), (QStringList{"victor's"}));
        QCOMPARE(code(victor->call({{"type", "alerts.rules.delete"},
                                    {"id", "v7"},
                                    {"uuid", vr.value("uuid").toString()}})),
                 QString("ok"));
        QCOMPARE(
            code(ops->call({{"type", "alerts.rules.delete"}, {"id", "o2"}, {"uuid", wideUuid}})),
            QString("ok"));
    }

    void testCountsStoredEventsWithinTheScope()
    {
        auto victor = connect("victor"), ops = connect("ops");
        QVERIFY(victor && ops);
        // Errors: checkout 4 at now-90 s and 7 at now-30 s, billing 3 at now-30 s (the
        // requests below follow within far less than 30 s).
        m_now = nowNs();
        write(m_now, {{4, 90, "checkout", Level::Error},
                      {7, 30, "checkout", Level::Error},
                      {3, 30, "billing", Level::Error},
                      {1, 30, "checkout", Level::Info}});
        const QJsonObject draft{{"q", "level:error"},
                                {"window_ms", 60000},
                                {"condition", "above"},
                                {"threshold", 5},
                                {"group_by", "app"}};
        auto r = ops->call(
            {{"type", "alerts.rules.test"}, {"id", "t1"}, {"rule", draft}, {"windows", 5}});
        QCOMPARE(code(r), QString("alerts.rules.test.result"));
        QCOMPARE(r.value("keys").toArray(), (QJsonArray{"checkout", "billing"}));
        const QJsonArray b = r.value("buckets").toArray();
        QCOMPARE(b.size(), 5);
        const auto counts = [&](int i) { return b[i].toObject().value("counts").toObject(); };
        QCOMPARE(counts(3).value("checkout").toInt(), 4);
        QCOMPARE(counts(4).value("checkout").toInt(), 7);
        QCOMPARE(counts(4).value("billing").toInt(), 3);
        QVERIFY(counts(0).isEmpty() && counts(1).isEmpty() && counts(2).isEmpty());
        QCOMPARE(b[4].toObject().value("holds").toArray(), QJsonArray{"checkout"});
        QCOMPARE(b[3].toObject().value("holds").toArray(), QJsonArray{});
        // The window ends now: the last bucket starts one window before the reply's `to`.
        QCOMPARE(b[4].toObject().value("t").toString().toLongLong() + 60 * kSec,
                 r.value("to").toString().toLongLong());
        // A scoped token counts its apps only, whatever the query says.
        auto s = victor->call({{"type", "alerts.rules.test"},
                               {"id", "t2"},
                               {"rule", QJsonObject{{"q", "app:billing OR level:error"},
                                                    {"window_ms", 120000},
                                                    {"condition", "absent"}}},
                               {"windows", 2}});
        QCOMPARE(s.value("keys").toArray(), QJsonArray{""});
        const QJsonArray sb = s.value("buckets").toArray();
        QCOMPARE(sb[1].toObject().value("counts").toObject().value("").toInt(), 11);
        QCOMPARE(sb[0].toObject().value("holds").toArray(), QJsonArray{""});
    }

    void firingHistoryAndPushes()
    {
        QTRY_VERIFY_WITH_TIMEOUT(m_gw->alertsListening(), 15000);
        auto alice = connect("alice"), victor = connect("victor"), bob = connect("bob"),
             ops = connect("ops");
        QVERIFY(alice && victor && bob && ops);
        auto rule = put(*alice, "p1", ruleJson("checkout burst", "level:fatal", true));
        QCOMPARE(code(rule), QString("alerts.rules.result"));
        const QString uuid = rule.value("rule").toObject().value("uuid").toString();
        auto db = idl::pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(db);
        idl::alerter::AlerterOptions ao;
        ao.channel = "idl_alerts_test";
        // idl-alerter's evaluation pass, one second after 6 fatal checkout events (and 2 of
        // billing, outside the rule's scope): firing.
        const std::int64_t t1 = nowNs() + kSec;
        write(t1, {{6, 10, "checkout", Level::Fatal}, {2, 10, "billing", Level::Fatal}});
        auto pass = idl::alerter::evaluateDue(*db, ao, t1);
        IDL_VERIFY_OK(pass);
        QCOMPARE(pass->transitions, 1);
        // Sessions allowed to see the rule get the push, with its values.
        for (Client *c : {victor.get(), ops.get(), alice.get()}) {
            const QJsonObject m = c->next(QString(), "alert.state", 10000);
            QCOMPARE(m.value("rule").toString(), uuid);
            QCOMPARE(m.value("from_state").toString(), QString("ok"));
            QCOMPARE(m.value("to_state").toString(), QString("firing"));
            QCOMPARE(m.value("value").toInt(), 6);
            QCOMPARE(m.value("name").toString(), QString("checkout burst"));
            QVERIFY(m.value("id").isNull());
        }
        // Another scope's session never does.
        QTest::qWait(1000);
        for (const auto &m : bob->inbox)
            QVERIFY2(m.value("type").toString() != u"alert.state", "pushed to another scope");

        auto firing = victor->call({{"type", "alerts.firing"}, {"id", "f1"}});
        QCOMPARE(firing.value("items").toArray().size(), 1);
        const QJsonObject f = firing.value("items").toArray()[0].toObject();
        QCOMPARE(f.value("state").toString(), QString("firing"));
        QCOMPARE(f.value("value").toInt(), 6);
        QCOMPARE(f.value("rule").toString(), uuid);
        QCOMPARE(
            bob->call({{"type", "alerts.firing"}, {"id", "f2"}}).value("items").toArray().size(),
            0);

        // The listener's connection dies; it comes back and the next change is pushed.
        auto killed = db->query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                "datname = current_database() AND pid <> pg_backend_pid() AND "
                                "(query LIKE 'LISTEN%' OR query LIKE 'SELECT h.id, h.rule%')");
        IDL_VERIFY_OK(killed);
        QCOMPARE(killed->rowCount(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(!m_gw->alertsListening(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_gw->alertsListening(), 15000);
        // Ten minutes later nothing happens: resolved.
        pass = idl::alerter::evaluateDue(*db, ao, t1 + 600 * kSec);
        IDL_VERIFY_OK(pass);
        QCOMPARE(pass->transitions, 1);
        const QJsonObject resolved = victor->next(QString(), "alert.state", 10000);
        QCOMPARE(resolved.value("from_state").toString(), QString("firing"));
        QCOMPARE(resolved.value("to_state").toString(), QString("ok"));
        QCOMPARE(
            victor->call({{"type", "alerts.firing"}, {"id", "f3"}}).value("items").toArray().size(),
            0);

        // History: newest first, paged with a cursor.
        auto h1 = victor->call({{"type", "alerts.history"}, {"id", "h1"}, {"limit", 1}});
        QCOMPARE(h1.value("items").toArray().size(), 1);
        QCOMPARE(h1.value("items").toArray()[0].toObject().value("to_state").toString(),
                 QString("ok"));
        QVERIFY(h1.value("cursor").isString());
        auto h2 = victor->call({{"type", "alerts.history"},
                                {"id", "h2"},
                                {"limit", 1},
                                {"cursor", h1.value("cursor")}});
        QCOMPARE(h2.value("items").toArray().size(), 1);
        QCOMPARE(h2.value("items").toArray()[0].toObject().value("to_state").toString(),
                 QString("firing"));
        QVERIFY(h2.value("cursor").isNull());
        QVERIFY(h2.value("items").toArray()[0].toObject().value("history").toInteger() <
                h1.value("items").toArray()[0].toObject().value("history").toInteger());
        QCOMPARE(
            bob->call({{"type", "alerts.history"}, {"id", "h3"}}).value("items").toArray().size(),
            0);
        // A time range that ends before both changes: nothing.
        QCOMPARE(victor
                     ->call({{"type", "alerts.history"},
                             {"id", "h4"},
                             {"to", QString::number(t1 - 3600 * kSec)}})
                     .value("items")
                     .toArray()
                     .size(),
                 0);
    }

    void cleanupTestCase()
    {
        if (m_gw)
            m_gw->stop();
    }
};

QTEST_GUILESS_MAIN(GatewayAlerts)
#include "test_gateway_alerts.moc"
