// Alerts end to end: idl-stack (PostgreSQL, Kafka, collector, processors, writer, alerter),
// a rule stored in PostgreSQL with a webhook to a receiver in this test, an error burst sent
// through the real collector. Measures the time from the burst's 202 to the webhook's
// arrival (the goal: evaluation interval + 5 s).
#undef QT_NO_CAST_FROM_ASCII
#include "idl/pg/connection.h"
#include "idl/service/http_client.h"
#include "idl/service/http_server.h"
#include "idl_test_process.h"

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
    QProcess m_stack;

    static QString bin(const QString &name)
    {
        return QDir(qEnvironmentVariable("IDL_BIN_DIR")).filePath(name);
    }

private Q_SLOTS:
    void cleanupTestCase()
    {
        if (m_stack.state() != QProcess::NotRunning) {
            m_stack.terminate();
            if (!m_stack.waitForFinished(60'000))
                m_stack.kill();
        }
    }

    void errorBurstFiresWithinIntervalPlusFiveSeconds()
    {
        QFile::setPermissions(m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                                QFileDevice::ExeOther);
        const QString dir = m_tmp.filePath("stack");
        m_stack.setProgram(bin("idl-stack"));
        m_stack.setArguments(
            {"up", "--data-dir", dir, "--collector-port", "0", "--gateway-port", "0"});
        m_stack.setProcessChannelMode(QProcess::MergedChannels);
        idl::testsupport::endWithTest(m_stack);
        m_stack.start();
        QVERIFY(m_stack.waitForStarted());
        const QString json = QDir(dir).filePath("stack.json");
        QElapsedTimer up;
        up.start();
        while (up.elapsed() < 120'000 && m_stack.state() == QProcess::Running &&
               !(QFile::exists(json) && !QFile::exists(QDir(dir).filePath(".starting"))))
            QTest::qWait(200);
        QFile f(json);
        QVERIFY2(f.open(QIODevice::ReadOnly), m_stack.readAll().constData());
        const QJsonObject s = QJsonDocument::fromJson(f.readAll()).object();

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
        const std::string rule = QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
        const std::string targets =
            "[{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:" + std::to_string(rx.port()) +
            "/hook\"}]";
        constexpr int kIntervalMs = 1000;
        auto ins = db->query(
            "INSERT INTO alert_rules (uuid, owner, name, query, window_ms, "
            "condition, threshold, interval_ms, severity, targets) VALUES "
            "($1::uuid, 'test', 'checkout errors', $2, 60000, 'above', 9, "
            "$3::bigint, 'critical', $4::jsonb)",
            {rule, "app:" + app + " level:>=error", std::to_string(kIntervalMs), targets});
        QVERIFY2(ins.ok(), ins.ok() ? "" : ins.error().message.c_str());
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

        m_stack.terminate();
        QVERIFY(m_stack.waitForFinished(60'000));
    }
};

QTEST_GUILESS_MAIN(AlerterStack)
#include "test_alerter_stack.moc"
