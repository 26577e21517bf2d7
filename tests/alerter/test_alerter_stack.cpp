// Alerts end to end: idl-stack (PostgreSQL, Kafka, collector, processors, writer, alerter,
// gateway), a rule stored through the gateway (alerts.rules.put) with a webhook to a receiver
// in this test, an error burst sent through the real collector. Measures the time from the
// burst's 202 to the alert.state push on a connected WebSocket session and to the webhook's
// arrival (the goal: evaluation interval + 5 s); alerts.rules.test, alerts.firing and
// alerts.history then show the burst.
#undef QT_NO_CAST_FROM_ASCII
#include "gateway_test_util.h"
#include "idl/pg/connection.h"
#include "idl/service/http_client.h"
#include "idl/service/http_server.h"
#include "idl_test_stack.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <atomic>
#include <chrono>
#include <mutex>

using namespace idl;

class AlerterStack : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    testsupport::StackProcess m_stack{m_tmp.filePath("stack"), m_tmp.filePath("stack.out")};

private Q_SLOTS:
    void cleanupTestCase() { m_stack.down(); }

    void errorBurstFiresWithinIntervalPlusFiveSeconds()
    {
        QFile::setPermissions(m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                                QFileDevice::ExeOther);
        if (const QString why =
                m_stack.up({"--collector-port", "0", "--gateway-port", "0"}, 120'000);
            !why.isEmpty())
            QFAIL(qPrintable(why)); // a service's exit names its log's end
        const QJsonObject s = m_stack.json();

        // The webhook receiver: records when each POST arrives.
        http::Server rx{http::ServerOptions{}};
        std::mutex mutex;
        std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> got;
        rx.route("POST", "/hook", [&](http::Request &&r, http::Responder respond) {
            {
                std::lock_guard lock(mutex);
                got.push_back({std::chrono::steady_clock::now(), r.body});
            }
            respond(http::Response{});
        });
        QVERIFY(rx.start().ok());
        auto received = [&] {
            std::lock_guard lock(mutex);
            return got.size();
        };

        auto db = pg::Connection::connect(s.value("postgres_dsn").toString().toStdString());
        QVERIFY2(db.ok(), db.ok() ? "" : db.error().message.c_str());
        const std::string app =
            "burst" + QUuid::createUuid().toString(QUuid::Id128).left(8).toStdString();
        const std::string targets =
            "[{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:" + std::to_string(rx.port()) +
            "/hook\"}]";
        constexpr int kIntervalMs = 1000;
        // A session on the stack's gateway stores the rule and waits for its pushes.
        gwtest::Client ws;
        QVERIFY(ws.open(QUrl(s.value("gateway_url").toString()).port()));
        QVERIFY(ws.authenticate(s.value("admin_token").toString().toStdString()));
        const QJsonObject put = ws.call(
            {{"type", "alerts.rules.put"},
             {"id", "put"},
             {"rule",
              QJsonObject{{"name", "checkout errors"},
                          {"q", QString::fromStdString("app:" + app + " level:>=error")},
                          {"window_ms", 60000},
                          {"condition", "above"},
                          {"threshold", 19}, // fires once all 20 are stored
                          {"interval_ms", kIntervalMs},
                          {"severity", "critical"},
                          {"targets",
                           QJsonDocument::fromJson(QByteArray::fromStdString(targets)).array()}}}});
        QCOMPARE(put.value("type").toString(), QString("alerts.rules.result"));
        const std::string rule =
            put.value("rule").toObject().value("uuid").toString().toStdString();
        // The alerter runs: it has evaluated the rule (quiet: ok) at least twice.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                auto r = db->query("SELECT count(*) FROM alert_rules WHERE uuid = $1::uuid AND "
                                   "last_eval_at > now() - interval '1 second' AND last_error IS "
                                   "NULL AND created_at < now() - interval '2 seconds'",
                                   {rule});
                return r.ok() && r->value(0, 0) == "1";
            }(),
            30'000);
        QCOMPARE(received(), std::size_t(0));

        // The burst: 20 errors through the collector.
        auto url = http::parseUrl(s.value("collector_url").toString().toStdString());
        QVERIFY(url.ok());
        http::Client collector(url->host, url->port);
        std::string body;
        for (int i = 0; i < 20; ++i)
            body += "{\"app\":\"" + app + "\",\"level\":\"error\",\"msg\":\"card declined " +
                    std::to_string(i) + "\"}\n";
        auto sent =
            collector.post("/api/v1/logs", "application/x-ndjson",
                           "Bearer " + s.value("ingest_api_key").toString().toStdString(), body);
        const auto t0 = std::chrono::steady_clock::now();
        QVERIFY(sent.ok());
        QCOMPARE(sent->status, 202);
        const QJsonObject pushed = ws.next(QString(), "alert.state", 60'000);
        const auto pushMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - t0)
                                .count();
        qInfo("error burst -> alert.state push: %lld ms (goal: interval %d ms + 5000 ms; shared, "
              "loaded 2-core box)",
              static_cast<long long>(pushMs), kIntervalMs);
        QCOMPARE(pushed.value("to_state").toString(), QString("firing"));
        QCOMPARE(pushed.value("rule").toString().toStdString(), rule);
        QCOMPARE(pushed.value("value").toInt(), 20);
        QVERIFY2(pushMs < kIntervalMs + 5000, std::to_string(pushMs).c_str());
        QTRY_VERIFY_WITH_TIMEOUT(received() >= 1, 60'000);
        std::string payload;
        std::chrono::steady_clock::time_point t1;
        {
            std::lock_guard lock(mutex);
            t1 = got.front().first;
            payload = got.front().second;
        }
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count();
        qInfo("error burst -> webhook: %lld ms (goal: interval %d ms + 5000 ms; shared, loaded "
              "2-core box)",
              static_cast<long long>(ms), kIntervalMs);
        const QJsonObject p = QJsonDocument::fromJson(QByteArray::fromStdString(payload)).object();
        QCOMPARE(p.value("status").toString(), QString("firing"));
        QCOMPARE(p.value("value").toInt(), 20);
        QCOMPARE(p.value("rule").toObject().value("severity").toString(), QString("critical"));
        // A generous bound under this box's load; the figure above is what counts.
        QVERIFY2(ms < 30'000, std::to_string(ms).c_str());
        QTest::qWait(2000);
        QCOMPARE(received(), std::size_t(1)); // one transition, one notification

        // The gateway shows the burst: the draft's series over the last 3 minutes (the
        // evaluator's statements on the stored events), the firing series, the history.
        const QJsonObject test = ws.call({{"type", "alerts.rules.test"},
                                          {"id", "test"},
                                          {"rule", put.value("rule").toObject()},
                                          {"windows", 3}});
        QCOMPARE(test.value("type").toString(), QString("alerts.rules.test.result"));
        const QJsonArray buckets = test.value("buckets").toArray();
        QCOMPARE(buckets.size(), 3);
        QCOMPARE(buckets[2].toObject().value("counts").toObject().value("").toInt(), 20);
        QCOMPARE(buckets[2].toObject().value("holds").toArray(), QJsonArray{""});
        QVERIFY(buckets[0].toObject().value("counts").toObject().isEmpty());
        const QJsonObject firing = ws.call({{"type", "alerts.firing"}, {"id", "firing"}});
        QCOMPARE(firing.value("items").toArray().size(), 1);
        QCOMPARE(firing.value("items").toArray()[0].toObject().value("value").toInt(), 20);
        const QJsonObject history = ws.call({{"type", "alerts.history"},
                                             {"id", "history"},
                                             {"rule", QString::fromStdString(rule)}});
        QCOMPARE(history.value("items").toArray().size(), 1);
        QCOMPARE(history.value("items").toArray()[0].toObject().value("history").toInteger(),
                 pushed.value("history").toInteger());

        QVERIFY2(m_stack.down(), m_stack.downError().constData());
    }
};

QTEST_GUILESS_MAIN(AlerterStack)
#include "test_alerter_stack.moc"
