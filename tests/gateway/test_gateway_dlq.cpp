// Dead letters through the gateway (issue 19): the real idl-processor dead-letters poison
// events, the gateway lists and shows them to admins within their app scope, and replays
// them through the real processor exactly once (a second replay of the same dead letter is
// skipped), with a private PostgreSQL and Kafka from tests/support.
#undef QT_NO_CAST_FROM_ASCII
#include "gateway_test_util.h"
#include "idl/gateway/gateway.h"
#include "idl/gateway/tokens.h"
#include "idl/pg/connection.h"
#include "idl_test_servers.h"
#include "processor_test_kit.h"

#include <QTest>

#include <memory>
#include <set>

using namespace gwtest;
using namespace idl::processortest;
using idl::gateway::Role;

class GatewayDlq : public QObject
{
    Q_OBJECT

    Topics m_topics;
    std::unique_ptr<idl::gateway::Gateway> m_gw;
    std::unique_ptr<ProcessorProcess> m_proc;
    std::string m_admin, m_billingAdmin, m_viewer;
    std::string m_bigId;    // event id of the too-large event
    std::string m_bigValue; // its bytes as sent
    QString m_bigDead;      // its dead letter, "partition:offset"
    QString m_badDead;      // the malformed one's

    static std::string token(idl::pg::Connection &db, const char *name, Role role,
                             std::vector<std::string> apps = {})
    {
        auto t = idl::gateway::tokens::create(db, name, role, apps);
        return t ? t->token : std::string();
    }

    static QJsonObject call(const std::string &token, QJsonObject request, quint16 port)
    {
        Client c;
        if (!c.open(port) || !c.authenticate(token))
            return {};
        return c.call(std::move(request), 30000);
    }
    QJsonObject as(const std::string &token, QJsonObject request)
    {
        return call(token, std::move(request), m_gw->wsPort());
    }
    static QStringList ids(const QJsonObject &list)
    {
        QStringList out;
        for (const auto &v : list["items"].toArray())
            out << v.toObject()["id"].toString();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        auto topics = freshTopics("gwdlq", 2);
        IDL_VERIFY_OK(topics);
        m_topics = *topics;
        auto dsn = idl::testsupport::freshDatabase("gwdlq");
        IDL_VERIFY_OK(dsn);
        idl::gateway::GatewayOptions o;
        o.wsPort = 0;
        o.httpPort = 0;
        o.pgDsn = *dsn;
        o.kafkaBootstrap = bootstrap();
        o.kafkaTopic = m_topics.events;
        o.kafkaRawTopic = m_topics.raw;
        o.kafkaDlqTopic = m_topics.dlq;
        o.ratePerSecond = 1000;
        o.rateBurst = 1000;
        m_gw = std::make_unique<idl::gateway::Gateway>(o);
        IDL_VERIFY_OK(m_gw->start());
        auto db = idl::pg::Connection::connect(*dsn);
        IDL_VERIFY_OK(db);
        m_admin = token(*db, "root", Role::Admin);
        m_billingAdmin = token(*db, "bill", Role::Admin, {"billing"});
        m_viewer = token(*db, "vera", Role::Viewer);
        QVERIFY(!m_viewer.empty());

        // A processor that refuses events over 2 KiB: one too large, one malformed, two good.
        m_proc = std::make_unique<ProcessorProcess>(
            m_topics, QStringLiteral("d0"),
            QStringList{QStringLiteral("--limits.max-event-bytes"), QStringLiteral("2KiB")});
        QVERIFY(m_proc->start());
        RawProducer raw(m_topics.raw);
        QVERIFY(raw.ok());
        for (int i = 0; i < 2; ++i)
            QVERIFY(raw.sendSync("checkout", idl::encodeEvent(makeEvent(i))).first >= 0);
        idl::LogEvent big = makeEvent(7, std::string(4096, 'm'));
        big.app = "checkout";
        m_bigId = big.id;
        m_bigValue = idl::encodeEvent(big);
        QVERIFY(raw.sendSync("checkout", m_bigValue).first >= 0);
        QVERIFY(raw.sendSync("billing", R"({"v":1,"id":"x","ts":)").first >= 0);
        const auto dead = readTopic(m_topics.dlq, 2, 60s);
        QCOMPARE(dead.size(), 2u);
        for (const Record &r : dead) {
            const QString where = QStringLiteral("%1:%2").arg(r.partition).arg(r.offset);
            (r.key == "checkout" ? m_bigDead : m_badDead) = where;
        }
        QCOMPARE(readTopic(m_topics.events, 2, 30s).size(), 2u);
    }

    void listsShowAndFilter()
    {
        const QJsonObject all = as(m_admin, {{"type", "dlq.list"}, {"id", "l1"}});
        QCOMPARE(all["type"].toString(), QStringLiteral("dlq.list.result"));
        const QStringList listed = ids(all);
        QCOMPARE(QSet<QString>(listed.begin(), listed.end()),
                 (QSet<QString>{m_bigDead, m_badDead}));
        QCOMPARE(all["more"].toBool(), false);
        for (const auto &v : all["items"].toArray()) {
            const QJsonObject d = v.toObject();
            QVERIFY(!d["dead_at"].toString().isEmpty());
            QCOMPARE(d["attempts"].toInt(), 1);
            QCOMPARE(d["source"].toObject()["topic"].toString(),
                     QString::fromStdString(m_topics.raw));
            QVERIFY(d["replayed_at"].isNull());
            QCOMPARE(d["code"].toString(), d["app"].toString() == u"checkout"
                                               ? QStringLiteral("too_large")
                                               : QStringLiteral("bad_json"));
        }
        QCOMPARE(ids(as(m_admin, {{"type", "dlq.list"}, {"id", "l2"}, {"code", "too_large"}})),
                 QStringList{m_bigDead});
        QCOMPARE(ids(as(m_admin, {{"type", "dlq.list"}, {"id", "l3"}, {"app", "billing"}})),
                 QStringList{m_badDead});
        QCOMPARE(
            ids(as(m_admin, {{"type", "dlq.list"}, {"id", "l4"}, {"from", "-1s"}, {"to", "now"}})),
            QStringList{});
        QCOMPARE(as(m_admin, {{"type", "dlq.list"}, {"id", "l5"}, {"limit", 1}})["more"].toBool(),
                 true);

        // The whole dead letter: original bytes and every header.
        const QStringList po = m_bigDead.split(u':');
        const QJsonObject got = as(m_admin, {{"type", "dlq.get"},
                                             {"id", "g1"},
                                             {"partition", po[0].toInt()},
                                             {"offset", po[1].toLongLong()}});
        QCOMPARE(got["type"].toString(), QStringLiteral("dlq.result"));
        const QJsonObject item = got["item"].toObject();
        QCOMPARE(item["payload"].toString().toStdString(), m_bigValue);
        QVERIFY(item["reason"].toString().contains(u"2048"));
        bool codeHeader = false;
        for (const auto &h : item["headers"].toArray())
            codeHeader = codeHeader || (h.toArray()[0].toString() == u"idl-error-code" &&
                                        h.toArray()[1].toString() == u"too_large");
        QVERIFY(codeHeader);
    }

    void rbacAndScope()
    {
        QCOMPARE(as(m_viewer, {{"type", "dlq.list"}, {"id", "v1"}})["code"].toString(),
                 QStringLiteral("forbidden"));
        QCOMPARE(
            as(m_viewer, {{"type", "dlq.replay"}, {"id", "v2"}, {"all", true}})["code"].toString(),
            QStringLiteral("forbidden"));
        // An admin scoped to billing sees billing's dead letters only.
        QCOMPARE(ids(as(m_billingAdmin, {{"type", "dlq.list"}, {"id", "b1"}})),
                 QStringList{m_badDead});
        const QStringList po = m_bigDead.split(u':');
        QCOMPARE(as(m_billingAdmin, {{"type", "dlq.get"},
                                     {"id", "b2"},
                                     {"partition", po[0].toInt()},
                                     {"offset", po[1].toLongLong()}})["code"]
                     .toString(),
                 QStringLiteral("not_found"));
        QCOMPARE(as(m_billingAdmin,
                    {{"type", "dlq.replay"}, {"id", "b3"}, {"ids", QJsonArray{m_bigDead}}})["code"]
                     .toString(),
                 QStringLiteral("not_found"));
    }

    void replayLandsOnce()
    {
        // The cause is fixed (the limit goes back to its default), then the admin replays.
        m_proc->stop();
        m_proc = std::make_unique<ProcessorProcess>(m_topics, QStringLiteral("d1"));
        QVERIFY(m_proc->start());
        const QJsonObject r1 =
            as(m_admin, {{"type", "dlq.replay"}, {"id", "r1"}, {"ids", QJsonArray{m_bigDead}}});
        QCOMPARE(r1["type"].toString(), QStringLiteral("dlq.replay.result"));
        QCOMPARE(r1["replayed"].toInt(), 1);
        QCOMPARE(r1["skipped"].toInt(), 0);
        QCOMPARE(r1["ids"].toArray().size(), 1);
        // Asked again, by id and by filter: never sent twice.
        const QJsonObject r2 =
            as(m_admin, {{"type", "dlq.replay"}, {"id", "r2"}, {"ids", QJsonArray{m_bigDead}}});
        QCOMPARE(r2["replayed"].toInt(), 0);
        QCOMPARE(r2["skipped"].toInt(), 1);
        const QJsonObject r3 = as(
            m_admin, {{"type", "dlq.replay"}, {"id", "r3"}, {"all", true}, {"code", "too_large"}});
        QCOMPARE(r3["replayed"].toInt(), 0);
        QCOMPARE(r3["skipped"].toInt(), 1);
        // The event went through the real processor once: 3 events, the big one once.
        const auto events = readTopic(m_topics.events, 3, 60s, 3s);
        QCOMPARE(events.size(), 3u);
        int big = 0;
        for (const Record &r : events) {
            auto e = idl::decodeEvent(r.value);
            QVERIFY(e.ok());
            big += e->id == m_bigId ? 1 : 0;
        }
        QCOMPARE(big, 1);
        // Nothing new in the DLQ, and the list says who replayed it when.
        QCOMPARE(readTopic(m_topics.dlq, 2, 10s, 2s).size(), 2u);
        const QJsonObject list = as(m_admin, {{"type", "dlq.list"}, {"id", "l9"}});
        for (const auto &v : list["items"].toArray()) {
            const QJsonObject d = v.toObject();
            if (d["id"].toString() == m_bigDead) {
                QVERIFY(!d["replayed_at"].toString().isEmpty());
                QCOMPARE(d["replayed_by"].toString(), QStringLiteral("root"));
            } else {
                QVERIFY(d["replayed_at"].isNull());
            }
        }
        // An id that is no dead letter: nothing replayed.
        QCOMPARE(as(m_admin, {{"type", "dlq.replay"},
                              {"id", "r4"},
                              {"ids", QJsonArray{m_badDead, "0:999999"}}})["code"]
                     .toString(),
                 QStringLiteral("not_found"));
        QCOMPARE(readTopic(m_topics.events, 3, 10s, 2s).size(), 3u);
    }

    void cleanupTestCase()
    {
        m_proc.reset();
        if (m_gw)
            m_gw->stop();
    }
};

QTEST_GUILESS_MAIN(GatewayDlq)
#include "test_gateway_dlq.moc"
