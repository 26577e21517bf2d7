// Read-only requests on the hot standby (issue 18): a real PostgreSQL 15 primary and its
// streaming hot standby (pg_basebackup -R, as `idl-stack up --ha` makes them), a gateway with
// pg.dsn = both servers with target_session_attrs=read-write and pg.read-dsn = both with
// prefer-standby. With the standby's WAL replay paused (its rows frozen, as if it lagged), a
// query, an aggregate and GET /api/v1/query see only what the standby has, while a token made
// on the primary after the pause logs in and a saved query is written (both on the primary).
// Once replay resumes, the queries see the new rows: the standby's lag is exactly how much
// later rows become queryable.
#undef QT_NO_CAST_FROM_ASCII
#include "gateway_test_util.h"
#include "idl/gateway/gateway.h"
#include "idl/gateway/tokens.h"
#include "idl/localcluster/postgres_server.h"
#include "idl/localcluster/process_util.h"
#include "idl/pg/connection.h"
#include "idl/schema/migrations.h"
#include "idl_test_servers.h"

#include <QDir>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace gwtest;
using idl::Level;

class GatewayStandby : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::unique_ptr<idl::localcluster::PostgresServer> m_primary, m_standby;
    std::unique_ptr<idl::gateway::Gateway> m_gw;
    std::string m_primaryDsn, m_standbyDsn;

    long long count(const std::string &dsn, const std::string &sql)
    {
        auto c = idl::pg::Connection::connect(dsn);
        if (!c)
            return -1;
        auto r = c->query(sql);
        return r && r->rowCount() == 1 ? std::stoll(std::string(r->value(0, 0))) : -1;
    }

    void write(const std::string &app, int n)
    {
        std::vector<idl::LogEvent> events;
        const std::int64_t now = idl::nowNs();
        for (int i = 0; i < n; ++i)
            events.push_back(makeEvent(now - (n - i) * 1'000'000'000LL, app, Level::Info,
                                       "row " + std::to_string(i)));
        auto db = idl::pg::Connection::connect(m_primaryDsn);
        QVERIFY(db.ok());
        QVERIFY(writeLikeWriter(*db, events).ok());
    }

    // Rows of app `app` in the last hour through the WebSocket query and through the HTTP API.
    std::pair<long long, long long> queried(Client &c, const std::string &token, const QString &app)
    {
        const auto msgs = c.stream({{"type", "query"},
                                    {"id", "q"},
                                    {"q", QString("app:" + app)},
                                    {"from", "-1h"},
                                    {"limit", 100}});
        const long long ws = static_cast<long long>(Client::rows(msgs).size());
        QNetworkAccessManager nam;
        QNetworkRequest req(
            QUrl(QStringLiteral("http://127.0.0.1:%1/api/v1/query?q=app:%2&from=-1h")
                     .arg(m_gw->httpPort())
                     .arg(app)));
        req.setRawHeader("Authorization", "Bearer " + QByteArray::fromStdString(token));
        QNetworkReply *r = nam.get(req);
        waitUntil([&] { return r->isFinished(); }, 30'000);
        const QByteArray body = r->readAll();
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r->deleteLater();
        return {ws, status == 200 ? static_cast<long long>(body.count('\n')) : -1};
    }

private Q_SLOTS:
    void initTestCase()
    {
        // As root, PostgreSQL runs as another user, which must be able to enter the folder.
        QFile::setPermissions(m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                QFileDevice::ExeOwner | QFileDevice::ExeGroup |
                                                QFileDevice::ExeOther);
        idl::localcluster::PostgresOptions po;
        po.dataDir = m_tmp.filePath("primary");
        po.password = "standby-test-pw";
        po.replicated = true;
        po.removeDataWhenOwnerDies = true;
        m_primary = std::make_unique<idl::localcluster::PostgresServer>(po);
        IDL_VERIFY_OK(m_primary->start());
        idl::localcluster::PostgresOptions so = po;
        so.dataDir = m_tmp.filePath("standby");
        so.standbyOf = m_primary->port();
        m_standby = std::make_unique<idl::localcluster::PostgresServer>(so);
        IDL_VERIFY_OK(m_standby->start());
        m_primaryDsn = m_primary->dsn().toStdString();
        m_standbyDsn = m_standby->dsn().toStdString();
        auto db = idl::pg::Connection::connect(m_primaryDsn);
        IDL_VERIFY_OK(db);
        IDL_VERIFY_OK(idl::schema::migrate(*db));
    }

    void readOnlyRequestsUseTheStandby()
    {
        const QList<quint16> ports{m_primary->port(), m_standby->port()};
        const QString rw = m_primary->multiHostDsn(ports);
        QVERIFY(rw.contains("target_session_attrs=read-write"));
        QString ro = rw;
        ro.replace("target_session_attrs=read-write", "target_session_attrs=prefer-standby");

        write("before", 5);
        QVERIFY(waitUntil(
            [&] {
                return count(m_standbyDsn, "SELECT count(*) FROM logs WHERE app = 'before'") == 5;
            },
            30'000));
        // The standby stops applying WAL: from now on it lags the primary.
        QCOMPARE(count(m_standbyDsn, "SELECT count(*) FROM (SELECT pg_wal_replay_pause()) p"), 1LL);
        QVERIFY(waitUntil(
            [&] {
                return count(
                           m_standbyDsn,
                           "SELECT count(*) FROM (SELECT 1 WHERE pg_get_wal_replay_pause_state() = "
                           "'paused') p") == 1;
            },
            10'000));
        write("after", 7);
        auto db = idl::pg::Connection::connect(m_primaryDsn);
        IDL_VERIFY_OK(db);
        // Made after the pause: only the primary knows this token.
        auto token = idl::gateway::tokens::create(*db, "reader", idl::gateway::Role::Editor, {});
        IDL_VERIFY_OK(token);

        idl::gateway::GatewayOptions o;
        o.wsPort = 0;
        o.httpPort = 0;
        o.pgDsn = rw.toStdString();
        o.pgReadDsn = ro.toStdString();
        // No tail here: the tail consumer waits for a Kafka that never comes.
        o.kafkaBootstrap = "127.0.0.1:" + std::to_string(idl::localcluster::freeTcpPort());
        o.ratePerSecond = 1000;
        o.rateBurst = 1000;
        m_gw = std::make_unique<idl::gateway::Gateway>(o);
        IDL_VERIFY_OK(m_gw->start());

        Client c;
        QVERIFY(c.open(m_gw->wsPort()));
        QVERIFY2(c.authenticate(token->token), "authentication runs on the primary");
        // Queries (WebSocket and HTTP) and charts read the standby: 5 old rows, none new.
        QCOMPARE(queried(c, token->token, "before"), std::make_pair(5LL, 5LL));
        QCOMPARE(queried(c, token->token, "after"), std::make_pair(0LL, 0LL));
        const QJsonObject agg = c.call(
            {{"type", "aggregate"}, {"id", "a"}, {"q", "app:after"}, {"from", "-1h"}}, 30'000);
        QCOMPARE(agg["type"].toString(), QStringLiteral("aggregate.result"));
        QCOMPARE(agg["total"].toInteger(), 0);
        // Writes go to the primary.
        const QJsonObject put = c.call(
            {{"type", "saved.put"},
             {"id", "sp"},
             {"saved", QJsonObject{{"name", "on primary"}, {"q", "app:after"}, {"from", "-1h"}}}});
        QCOMPARE(put["type"].toString(), QStringLiteral("saved.result"));
        QCOMPARE(count(m_primaryDsn, "SELECT count(*) FROM saved_queries"), 1LL);

        // Replay resumes: the new rows become queryable on the standby.
        QCOMPARE(count(m_standbyDsn, "SELECT count(*) FROM (SELECT pg_wal_replay_resume()) p"),
                 1LL);
        QVERIFY(waitUntil([&] { return queried(c, token->token, "after").first == 7; }, 30'000));
        QCOMPARE(queried(c, token->token, "after"), std::make_pair(7LL, 7LL));
    }

    void cleanupTestCase()
    {
        m_gw.reset();
        m_standby.reset();
        m_primary.reset();
    }
};

QTEST_GUILESS_MAIN(GatewayStandby)
#include "test_gateway_standby.moc"
