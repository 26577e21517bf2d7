// idl-alerter against a real PostgreSQL (tests/support/idl_test_servers.h): events stored by
// the writer's BatchStore (rows + rollups, as the writer does), rules in alert_rules,
// evaluation passes at chosen times, the outbox posted to a webhook receiver (the project's
// Beast HTTP server) that fails and recovers, two alerter services on one database.
#undef QT_NO_CAST_FROM_ASCII
#include "idl/alerter/alerter.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/query/parser.h"
#include "idl/schema/migrations.h"
#include "idl/service/http_server.h"
#include "idl/writer/batch_store.h"
#include "idl_test_servers.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <libpq-fe.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace idl;

namespace {

constexpr std::int64_t kS = 1'000'000'000;

long long scalar(pg::Connection &c, const std::string &sql, const pg::Params &p = {})
{
    auto r = c.query(sql, p);
    if (!r || r->rowCount() == 0 || r->isNull(0, 0))
        return -1;
    return std::stoll(std::string(r->value(0, 0)));
}

std::string text(pg::Connection &c, const std::string &sql, const pg::Params &p = {})
{
    auto r = c.query(sql, p);
    if (!r || r->rowCount() == 0)
        return "<none>";
    return std::string(r->value(0, 0));
}

// A webhook receiver: answers the first `failFirst` requests with 503, then 200.
struct Receiver
{
    http::Server server{http::ServerOptions{}};
    std::mutex mutex;
    std::vector<std::string> bodies;
    std::atomic<int> requests{0};
    int failFirst = 0;
    int status = 200;

    Receiver()
    {
        server.route("POST", "/hook", [this](http::Request &&r, http::Responder respond) {
            const int n = ++requests;
            http::Response res;
            res.status = n <= failFirst ? 503 : status;
            if (res.status == 200) {
                std::lock_guard lock(mutex);
                bodies.push_back(r.body);
            }
            res.body = "{}";
            respond(std::move(res));
        });
    }
    std::string url() const
    {
        return "http://127.0.0.1:" + std::to_string(server.port()) + "/hook";
    }
    std::vector<std::string> received()
    {
        std::lock_guard lock(mutex);
        return bodies;
    }
};

} // namespace

class AlerterIntegration : public QObject
{
    Q_OBJECT

    std::string m_dsn;
    pg::Connection m_db;
    std::unique_ptr<writer::BatchStore> m_store;
    alerter::AlerterOptions m_options;

    // Stores `n` events of app/host/level at time ts through the writer's store.
    void store(int n, const std::string &app, const std::string &host, Level level,
               std::int64_t tsNs, const std::string &message = "card declined")
    {
        std::vector<LogEvent> events;
        for (int i = 0; i < n; ++i) {
            LogEvent e;
            e.id = newEventId();
            e.tsNs = tsNs + i;
            e.receivedNs = tsNs;
            e.level = level;
            e.app = app;
            e.host = host;
            e.message = message;
            events.push_back(std::move(e));
        }
        auto r = m_store->store(events, {}, {});
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    }

    // A rule row; returns its uuid.
    std::string addRule(const std::string &query, const std::string &condition,
                        std::int64_t threshold, std::int64_t windowMs,
                        const std::string &groupBy = "", std::int64_t forMs = 0,
                        std::int64_t resolveMs = 0, const std::string &targets = "[]",
                        std::int64_t intervalMs = 1000)
    {
        const std::string uuid = newEventId();
        auto r = m_db.query(
            "INSERT INTO alert_rules (uuid, owner, name, query, window_ms, condition, threshold, "
            "group_by, interval_ms, for_ms, resolve_ms, targets, next_eval_at) VALUES ($1::uuid, "
            "'alice', $2, $3, $4::bigint, $5, $6::bigint, $7, $8::bigint, $9::bigint, "
            "$10::bigint, $11::jsonb, now() - interval '1 hour')",
            {uuid, "rule " + query, query, std::to_string(windowMs), condition,
             std::to_string(threshold), groupBy, std::to_string(intervalMs), std::to_string(forMs),
             std::to_string(resolveMs), targets});
        if (!r)
            qWarning("addRule: %s", r.error().message.c_str());
        return uuid;
    }

    // Evaluates every due rule at nowNs (passes until none is left).
    alerter::PassReport evaluate(std::int64_t nowNs)
    {
        alerter::PassReport total;
        for (;;) {
            auto r = alerter::evaluateDue(m_db, m_options, nowNs);
            if (!r) {
                qWarning("evaluateDue: %s", r.error().message.c_str());
                return total;
            }
            total.evaluated += r->evaluated;
            total.transitions += r->transitions;
            total.notifications += r->notifications;
            total.failed += r->failed;
            if (r->evaluated < m_options.batch)
                return total;
        }
    }

    std::string state(const std::string &rule, const std::string &series = "")
    {
        return text(m_db, "SELECT state FROM alert_series WHERE rule = $1::uuid AND series = $2",
                    {rule, series});
    }
    std::string history(const std::string &rule)
    {
        return text(m_db,
                    "SELECT coalesce(string_agg(series || ':' || from_state || '>' || to_state, "
                    "' ' ORDER BY id), '<none>') FROM alert_history WHERE rule = $1::uuid",
                    {rule});
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto dsn = testsupport::freshDatabase("alerter");
        IDL_VERIFY_OK(dsn);
        m_dsn = *dsn;
        auto c = pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(c);
        m_db = std::move(*c);
        IDL_VERIFY_OK(schema::migrate(m_db));
        m_store = std::make_unique<writer::BatchStore>(writer::BatchStore::Options{m_dsn, "t"});
        IDL_VERIFY_OK(m_store->ensureConnected());
        m_options.pgDsn = m_dsn;
        m_options.batch = 20;
    }

    void init()
    {
        // Every test starts without rules (history and outbox go with them).
        QVERIFY(m_db.exec("DELETE FROM alert_rules").ok());
    }

    void thresholdAboveFiresAndResolves()
    {
        const std::string app = testsupport::uniqueName("checkout");
        const std::int64_t t0 = nowNs();
        store(10, app, "web-1", Level::Error, t0 - 10 * kS);
        store(30, app, "web-1", Level::Info, t0 - 10 * kS); // not errors
        Receiver rx;
        IDL_VERIFY_OK(rx.server.start());
        const std::string targets = "[{\"kind\":\"webhook\",\"url\":\"" + rx.url() +
                                    "\"},{\"kind\":\"slack\",\"url\":\"" + rx.url() + "\"}]";
        const std::string above =
            addRule("level:error app:" + app, "above", 5, 60'000, "", 0, 0, targets);
        const std::string quiet = addRule("level:error app:" + app, "above", 10, 60'000);
        auto r = evaluate(t0);
        QCOMPARE(r.evaluated, 2);
        QCOMPARE(r.failed, 0);
        QCOMPARE(state(above), std::string("firing"));
        QCOMPARE(scalar(m_db, "SELECT value FROM alert_series WHERE rule = $1::uuid", {above}),
                 10LL);
        QCOMPARE(state(quiet), std::string("ok")); // 10 is not above 10
        QCOMPARE(history(above), std::string(":ok>firing"));
        QCOMPARE(history(quiet), std::string("<none>"));
        QCOMPARE(
            scalar(m_db, "SELECT count(*) FROM alert_notifications WHERE rule = $1::uuid", {above}),
            2LL);
        // Not due again before its interval: nothing happens.
        QCOMPARE(evaluate(t0 + kS / 2).evaluated, 0);
        // Still firing while the events are in the window; no second notification.
        evaluate(t0 + 30 * kS);
        QCOMPARE(history(above), std::string(":ok>firing"));
        // The window has passed: resolved, with its own notifications.
        evaluate(t0 + 120 * kS);
        QCOMPARE(state(above), std::string("ok"));
        QCOMPARE(history(above), std::string(":ok>firing :firing>ok"));
        QCOMPARE(
            scalar(m_db, "SELECT count(*) FROM alert_notifications WHERE rule = $1::uuid", {above}),
            4LL);

        // The outbox reaches the receiver: generic JSON and Slack's {"text"}.
        auto send = alerter::httpSender(m_options);
        for (int i = 0; i < 4; ++i) {
            auto d = alerter::deliverOne(m_db, m_options, send);
            IDL_VERIFY_OK(d);
            QCOMPARE(*d, alerter::Delivery::Delivered);
        }
        QCOMPARE(*alerter::deliverOne(m_db, m_options, send), alerter::Delivery::Nothing);
        const auto bodies = rx.received();
        QCOMPARE(bodies.size(), std::size_t(4));
        int firing = 0, resolved = 0, slack = 0;
        for (const std::string &b : bodies) {
            const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(b)).object();
            QVERIFY2(!o.isEmpty(), b.c_str());
            if (o.size() == 1) {
                ++slack;
                QVERIFY(o.value("text").toString().contains(QString::fromStdString(app)));
                continue;
            }
            QCOMPARE(o.value("rule").toObject().value("uuid").toString().toStdString(), above);
            if (o.value("status").toString() == "firing") {
                ++firing;
                QCOMPARE(o.value("value").toInt(), 10);
            } else {
                ++resolved;
                QCOMPARE(o.value("status").toString(), QString("resolved"));
                QCOMPARE(o.value("value").toInt(), 0);
            }
        }
        QCOMPARE(firing, 1);
        QCOMPARE(resolved, 1);
        QCOMPARE(slack, 2);
        QCOMPARE(scalar(m_db,
                        "SELECT count(*) FROM alert_notifications WHERE rule = $1::uuid AND "
                        "status = 'delivered' AND attempts = 1 AND last_status = 200",
                        {above}),
                 4LL);
    }

    // Whole minutes of the window come from the rollups, the partial minutes from the raw
    // rows; the sum equals a raw-only count.
    void rollupsAndRawAgree()
    {
        const std::string app = testsupport::uniqueName("rollup");
        const std::int64_t t0 = nowNs();
        for (int m = 0; m < 5; ++m)
            store(3 + m, app, "web-" + std::to_string(m % 2), Level::Error, t0 - m * 60 * kS - kS);
        alerter::Rule rule;
        rule.query = "level:error app:" + app;
        rule.windowMs = 10 * 60'000;
        auto ast = query::parse(rule.query);
        IDL_VERIFY_OK(ast);
        auto qs = alerter::countQueries(*ast, rule, t0 - t0 % (60 * kS) + 7 * kS, 100);
        IDL_VERIFY_OK(qs);
        QCOMPARE(qs->size(), std::size_t(3)); // rollups + head + tail
        QVERIFY((*qs)[0].fromRollups);
        QVERIFY(!(*qs)[1].fromRollups && !(*qs)[2].fromRollups);
        auto viaRollups = alerter::countSeries(m_db, rule, t0 + kS, 100);
        IDL_VERIFY_OK(viaRollups);
        QCOMPARE(viaRollups->at(""), 3LL + 4 + 5 + 6 + 7);
        // The same count from raw rows only (a message term cannot use the rollups).
        alerter::Rule raw = rule;
        raw.query += " declined";
        auto ast2 = query::parse(raw.query);
        auto rawQs = alerter::countQueries(*ast2, raw, t0 + kS, 100);
        QCOMPARE(rawQs->size(), std::size_t(1));
        QVERIFY(!(*rawQs)[0].fromRollups);
        QCOMPARE(alerter::countSeries(m_db, raw, t0 + kS, 100)->at(""), 3LL + 4 + 5 + 6 + 7);
        // Per host, the same way.
        rule.groupBy = alerter::GroupBy::Host;
        auto hosts = alerter::countSeries(m_db, rule, t0 + kS, 100);
        IDL_VERIFY_OK(hosts);
        QCOMPARE(hosts->at("web-0"), 3LL + 5 + 7);
        QCOMPARE(hosts->at("web-1"), 4LL + 6);
    }

    void belowAndAbsent()
    {
        const std::string app = testsupport::uniqueName("billing");
        const std::string silent = testsupport::uniqueName("silent");
        const std::int64_t t0 = nowNs();
        store(2, app, "h", Level::Info, t0 - 5 * kS);
        const std::string below = addRule("app:" + app, "below", 3, 60'000);
        const std::string absent = addRule("app:" + silent, "absent", 0, 60'000);
        const std::string present = addRule("app:" + app, "absent", 0, 60'000);
        evaluate(t0);
        QCOMPARE(state(below), std::string("firing"));
        QCOMPARE(state(absent), std::string("firing"));
        QCOMPARE(state(present), std::string("ok"));
        // Traffic comes back: below resolves (3 is not below 3), absent resolves.
        store(1, app, "h", Level::Info, t0 + kS);
        store(1, silent, "h", Level::Info, t0 + kS);
        evaluate(t0 + 2 * kS);
        QCOMPARE(state(below), std::string("ok"));
        QCOMPARE(state(absent), std::string("ok"));
        QCOMPARE(history(absent), std::string(":ok>firing :firing>ok"));
        // Everything goes silent: the present rule fires once the window is empty.
        evaluate(t0 + 100 * kS);
        QCOMPARE(state(present), std::string("firing"));
    }

    void groupBySeries()
    {
        const std::string a = testsupport::uniqueName("a"), b = testsupport::uniqueName("b");
        const std::int64_t t0 = nowNs();
        store(5, a, "h1", Level::Error, t0 - 5 * kS);
        store(1, b, "h2", Level::Error, t0 - 5 * kS);
        const std::string rule =
            addRule("level:error (app:" + a + " OR app:" + b + ")", "above", 2, 60'000, "app");
        // A per-app "absent" rule watches each app it has seen.
        const std::string quiet = addRule("app:" + a + " OR app:" + b, "absent", 0, 60'000, "app");
        evaluate(t0);
        QCOMPARE(state(rule, a), std::string("firing"));
        QCOMPARE(state(rule, b), std::string("ok"));
        QCOMPARE(history(rule), a + ":ok>firing");
        QCOMPARE(state(quiet, a), std::string("ok"));
        QCOMPARE(state(quiet, b), std::string("ok"));
        // b gets loud, a keeps going: a stays firing (no new history), b fires.
        store(3, b, "h2", Level::Error, t0 + kS);
        evaluate(t0 + 2 * kS);
        QCOMPARE(state(rule, b), std::string("firing"));
        QCOMPARE(history(rule), a + ":ok>firing " + b + ":ok>firing");
        // Only b keeps logging (info): both resolve, and the quiet "above" series are
        // forgotten; the absent rule fires for a only.
        store(1, b, "h2", Level::Info, t0 + 70 * kS);
        evaluate(t0 + 71 * kS);
        QCOMPARE(history(rule),
                 a + ":ok>firing " + b + ":ok>firing " + a + ":firing>ok " + b + ":firing>ok");
        QCOMPARE(state(rule, a), std::string("<none>"));
        QCOMPARE(state(rule, b), std::string("<none>"));
        QCOMPARE(state(quiet, a), std::string("firing"));
        QCOMPARE(state(quiet, b), std::string("ok"));
    }

    void forDurationAndResolveRule()
    {
        const std::string app = testsupport::uniqueName("pending");
        const std::int64_t t0 = nowNs();
        store(10, app, "h", Level::Error, t0 - kS);
        const std::string rule =
            addRule("app:" + app, "above", 5, 600'000, "", 30'000, 20'000,
                    "[{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9/x\"}]");
        evaluate(t0);
        QCOMPARE(state(rule), std::string("pending"));
        evaluate(t0 + 10 * kS);
        QCOMPARE(state(rule), std::string("pending"));
        QCOMPARE(
            scalar(m_db, "SELECT count(*) FROM alert_notifications WHERE rule = $1::uuid", {rule}),
            0LL); // pending notifies nobody
        evaluate(t0 + 31 * kS);
        QCOMPARE(state(rule), std::string("firing"));
        // The events leave the 10-minute window at t0 + 600 s: the condition is false from
        // then, and the resolve rule waits 20 s more.
        evaluate(t0 + 601 * kS);
        QCOMPARE(state(rule), std::string("firing"));
        evaluate(t0 + 611 * kS);
        QCOMPARE(state(rule), std::string("firing"));
        evaluate(t0 + 622 * kS);
        QCOMPARE(state(rule), std::string("ok"));
        QCOMPARE(history(rule), std::string(":ok>pending :pending>firing :firing>ok"));
        QCOMPARE(
            scalar(m_db, "SELECT count(*) FROM alert_notifications WHERE rule = $1::uuid", {rule}),
            2LL);
        // A pending series whose condition stops holding goes back to ok without notifying.
        const std::string app2 = testsupport::uniqueName("blip");
        store(10, app2, "h", Level::Error, t0 + 700 * kS);
        const std::string blip = addRule("app:" + app2, "above", 5, 60'000, "", 30'000);
        evaluate(t0 + 701 * kS);
        QCOMPARE(state(blip), std::string("pending"));
        evaluate(t0 + 770 * kS);
        QCOMPARE(state(blip), std::string("ok"));
        QCOMPARE(history(blip), std::string(":ok>pending :pending>ok"));
    }

    void badRuleFailsAlone()
    {
        const std::string good = addRule("level:error", "above", 1'000'000, 60'000);
        const std::string bad = addRule("level:error", "above", 1, 60'000);
        // A query that no longer parses (stored by hand) fails its own evaluation only.
        QVERIFY(
            m_db.query("UPDATE alert_rules SET query = 'app:(' WHERE uuid = $1::uuid", {bad}).ok());
        auto r = evaluate(nowNs());
        QCOMPARE(r.evaluated, 2);
        QCOMPARE(r.failed, 1);
        QCOMPARE(state(good), std::string("ok"));
        QVERIFY(
            !text(m_db, "SELECT last_error FROM alert_rules WHERE uuid = $1::uuid", {bad}).empty());
        QCOMPARE(text(m_db,
                      "SELECT coalesce(last_error, '-') FROM alert_rules WHERE uuid = "
                      "$1::uuid",
                      {good}),
                 std::string("-"));
    }

    // A receiver that fails twice then recovers gets the notification once, on the third
    // attempt, after growing back-offs; a 404 fails at once.
    void webhookRetriesWithBackoff()
    {
        const std::string app = testsupport::uniqueName("retry");
        store(3, app, "h", Level::Error, nowNs() - kS);
        Receiver rx;
        rx.failFirst = 2;
        IDL_VERIFY_OK(rx.server.start());
        const std::string rule = addRule("app:" + app, "above", 0, 60'000, "", 0, 0,
                                         "[{\"kind\":\"webhook\",\"url\":\"" + rx.url() + "\"}]");
        evaluate(nowNs());
        QCOMPARE(state(rule), std::string("firing"));
        alerter::AlerterOptions o = m_options;
        // Long enough that the checks between two steps (a commit, a query) fit in half of it
        // on a sanitizer build on a busy machine.
        o.retryInitial = std::chrono::milliseconds(1000);
        o.retryMax = std::chrono::milliseconds(5000);
        auto send = alerter::httpSender(o);
        QCOMPARE(*alerter::deliverOne(m_db, o, send), alerter::Delivery::Retry);
        const long long wait1 = scalar(
            m_db,
            "SELECT (extract(epoch FROM next_attempt_at - clock_timestamp()) * 1000)::bigint "
            "FROM alert_notifications WHERE rule = $1::uuid",
            {rule});
        QVERIFY2(wait1 > 500 && wait1 <= 1000, std::to_string(wait1).c_str());
        // Not due yet: nothing is sent.
        QCOMPARE(*alerter::deliverOne(m_db, o, send), alerter::Delivery::Nothing);
        QTest::qWait(1250);
        QCOMPARE(*alerter::deliverOne(m_db, o, send), alerter::Delivery::Retry);
        const long long wait2 = scalar(
            m_db,
            "SELECT (extract(epoch FROM next_attempt_at - clock_timestamp()) * 1000)::bigint "
            "FROM alert_notifications WHERE rule = $1::uuid",
            {rule});
        QVERIFY2(wait2 > 1500 && wait2 <= 2000, std::to_string(wait2).c_str()); // doubled
        QCOMPARE(
            text(m_db, "SELECT last_error FROM alert_notifications WHERE rule = $1::uuid", {rule}),
            std::string("HTTP 503"));
        QTest::qWait(2250);
        QCOMPARE(*alerter::deliverOne(m_db, o, send), alerter::Delivery::Delivered);
        QCOMPARE(rx.requests.load(), 3);
        QCOMPARE(rx.received().size(), std::size_t(1));
        QCOMPARE(text(m_db,
                      "SELECT status || ' ' || attempts || ' ' || last_status FROM "
                      "alert_notifications WHERE rule = $1::uuid",
                      {rule}),
                 std::string("delivered 3 200"));

        // A receiver that says 404 is not retried.
        Receiver gone;
        gone.status = 404;
        IDL_VERIFY_OK(gone.server.start());
        const std::string app2 = testsupport::uniqueName("gone");
        store(3, app2, "h", Level::Error, nowNs() - kS);
        const std::string rule2 = addRule("app:" + app2, "above", 0, 60'000, "", 0, 0,
                                          "[{\"kind\":\"slack\",\"url\":\"" + gone.url() + "\"}]");
        evaluate(nowNs());
        QCOMPARE(*alerter::deliverOne(m_db, o, send), alerter::Delivery::Failed);
        QCOMPARE(text(m_db,
                      "SELECT status || ' ' || attempts FROM alert_notifications WHERE rule = "
                      "$1::uuid",
                      {rule2}),
                 std::string("failed 1"));
        // Unreachable targets are retried (transport error recorded).
        const std::string app3 = testsupport::uniqueName("down");
        store(3, app3, "h", Level::Error, nowNs() - kS);
        const std::string rule3 =
            addRule("app:" + app3, "above", 0, 60'000, "", 0, 0,
                    "[{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9/\"}]");
        evaluate(nowNs());
        QCOMPARE(*alerter::deliverOne(m_db, o, send), alerter::Delivery::Retry);
        QVERIFY(
            text(m_db, "SELECT last_error FROM alert_notifications WHERE rule = $1::uuid", {rule3})
                .find("connect") != std::string::npos);
    }

    // A rule another evaluator holds (its pass not yet committed) is skipped, not waited
    // for; once that pass commits, the rule is not due any more. State changes are announced
    // on the NOTIFY channel at commit.
    void lockedRulesAreSkippedAndChangesNotified()
    {
        const std::string app = testsupport::uniqueName("locked");
        const std::int64_t t0 = nowNs();
        store(3, app, "h", Level::Error, t0 - kS);
        const std::string rule = addRule("app:" + app, "above", 1, 60'000);
        auto listenerConn = pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(listenerConn);
        IDL_VERIFY_OK(listenerConn->exec("LISTEN " + m_options.channel));
        auto other = pg::Connection::connect(m_dsn);
        IDL_VERIFY_OK(other);
        IDL_VERIFY_OK(other->begin());
        IDL_VERIFY_OK(
            other->query("SELECT 1 FROM alert_rules WHERE uuid = $1::uuid FOR UPDATE", {rule}));
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(evaluate(t0).evaluated, 0); // skipped at once
        QVERIFY(timer.elapsed() < 5000);
        // The holder "evaluates" it: moves next_eval_at, as a pass does, and commits.
        IDL_VERIFY_OK(other->query("UPDATE alert_rules SET next_eval_at = now() + interval '1 "
                                   "hour' WHERE uuid = $1::uuid",
                                   {rule}));
        IDL_VERIFY_OK(other->commit());
        QCOMPARE(evaluate(t0).evaluated, 0);
        QCOMPARE(state(rule), std::string("<none>"));
        // Due again: evaluated, fires, and the change is announced once committed.
        IDL_VERIFY_OK(m_db.query("UPDATE alert_rules SET next_eval_at = now() - interval '1 "
                                 "second' WHERE uuid = $1::uuid",
                                 {rule}));
        QCOMPARE(evaluate(nowNs()).transitions, 1);
        QCOMPARE(state(rule), std::string("firing"));
        PGconn *raw = listenerConn->native();
        std::vector<std::string> notes;
        for (int i = 0; i < 50 && notes.empty(); ++i) {
            PQconsumeInput(raw);
            while (PGnotify *n = PQnotifies(raw)) {
                notes.emplace_back(n->extra);
                PQfreemem(n);
            }
            if (notes.empty())
                QTest::qWait(100);
        }
        QCOMPARE(notes.size(), std::size_t(1));
        const QJsonObject note =
            QJsonDocument::fromJson(QByteArray::fromStdString(notes.front())).object();
        QCOMPARE(note.value("rule").toString().toStdString(), rule);
        QCOMPARE(static_cast<long long>(note.value("history").toDouble()),
                 scalar(m_db, "SELECT max(id) FROM alert_history WHERE rule = $1::uuid", {rule}));
    }

    // https:// targets: the server's certificate must chain to the trusted CAs
    // (notify.ca-file here) and name the URL's host.
    void httpsTargetsAreVerified()
    {
        QTemporaryDir dir;
        QProcess openssl;
        openssl.start("openssl",
                      {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                       "-addext", "subjectAltName=DNS:localhost", "-days", "1", "-keyout",
                       dir.filePath("key.pem"), "-out", dir.filePath("cert.pem")});
        QVERIFY(openssl.waitForFinished(30000) && openssl.exitCode() == 0);
        http::ServerOptions so;
        so.tlsCertFile = dir.filePath("cert.pem").toStdString();
        so.tlsKeyFile = dir.filePath("key.pem").toStdString();
        http::Server server(so);
        std::atomic<int> got{0};
        server.route("POST", "/hook", [&](http::Request &&, http::Responder respond) {
            ++got;
            respond(http::Response{});
        });
        IDL_VERIFY_OK(server.start());
        const std::string port = std::to_string(server.port());
        alerter::AlerterOptions trusted = m_options;
        trusted.caFile = dir.filePath("cert.pem").toStdString();
        std::string retryAfter;
        auto ok = alerter::httpSender(trusted)("webhook", "https://localhost:" + port + "/hook",
                                               "{}", retryAfter);
        IDL_VERIFY_OK(ok);
        QCOMPARE(*ok, 200);
        QCOMPARE(got.load(), 1);
        // Not signed by a trusted CA (the system's): refused during the handshake.
        auto untrusted = alerter::httpSender(m_options)(
            "webhook", "https://localhost:" + port + "/hook", "{}", retryAfter);
        QVERIFY(!untrusted.ok());
        // Trusted, but not the name the certificate is for.
        auto wrongName = alerter::httpSender(trusted)(
            "webhook", "https://127.0.0.1:" + port + "/hook", "{}", retryAfter);
        QVERIFY(!wrongName.ok());
        QCOMPARE(got.load(), 1);
    }

    // Two alerter services (two evaluator and two sender threads each) on one database: every
    // transition is stored once and its webhook is received exactly once.
    void twoInstancesNotifyOnce()
    {
        Receiver rx;
        IDL_VERIFY_OK(rx.server.start());
        const std::string app = testsupport::uniqueName("twice");
        const int rules = 60;
        std::vector<std::string> ids;
        for (int i = 0; i < rules; ++i)
            ids.push_back(addRule("app:" + app + " level:error", "above", 2, 60'000, "", 0, 0,
                                  "[{\"kind\":\"webhook\",\"url\":\"" + rx.url() + "\"}]", 1000));
        alerter::AlerterOptions o = m_options;
        o.batch = 5;
        o.poll = std::chrono::milliseconds(50);
        o.migrate = false;
        alerter::Alerter one(o), two(o);
        IDL_VERIFY_OK(one.start());
        IDL_VERIFY_OK(two.start());
        // Quiet for a few intervals (every rule evaluated several times by either), then a
        // burst, then quiet again once it has fired.
        QTest::qWait(2500);
        QCOMPARE(rx.received().size(), std::size_t(0));
        store(5, app, "h", Level::Error, nowNs());
        QTRY_COMPARE_WITH_TIMEOUT(rx.received().size(), std::size_t(rules), 20000);
        QTest::qWait(3000); // more intervals: nothing more may arrive
        one.stop();
        two.stop();
        const auto bodies = rx.received();
        QCOMPARE(bodies.size(), std::size_t(rules));
        std::set<std::string> seen;
        for (const std::string &b : bodies) {
            const QJsonObject o2 = QJsonDocument::fromJson(QByteArray::fromStdString(b)).object();
            QCOMPARE(o2.value("status").toString(), QString("firing"));
            seen.insert(o2.value("rule").toObject().value("uuid").toString().toStdString());
        }
        QCOMPARE(seen.size(), std::size_t(rules));
        QCOMPARE(scalar(m_db, "SELECT count(*) FROM alert_history"), (long long)rules);
        // The service's metrics count what happened (this process ran every evaluation).
        const std::string metrics = metrics::Registry::global().exposition();
        QVERIFY(metrics.find("idl_alert_evaluations_total{result=\"ok\"}") != std::string::npos);
        QVERIFY(metrics.find("idl_alert_evaluation_seconds_bucket") != std::string::npos);
        QVERIFY(metrics.find("idl_alert_notifications_total{result=\"delivered\"}") !=
                std::string::npos);
        QVERIFY(metrics.find("idl_alert_evaluation_failures_total 1") != std::string::npos);
        QCOMPARE(scalar(m_db, "SELECT count(*) FROM alert_notifications WHERE status = "
                              "'delivered' AND attempts = 1"),
                 (long long)rules);
    }
};

QTEST_GUILESS_MAIN(AlerterIntegration)
#include "test_alerter_integration.moc"
