// Integration tests against real servers: a private PostgreSQL and a local KRaft Kafka broker
// started through the shared fixture, plus the "no process left behind" guarantee.

#include "idl/kafka/admin.h"
#include "idl/kafka/consumer.h"
#include "idl/kafka/producer.h"
#include "idl/pg/connection.h"
#include "idl_test_servers.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QProcess>
#include <QTcpServer>
#include <QThread>
#include <QtTest>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <set>

using namespace std::chrono_literals;
using idl::ErrorCode;

namespace {

// Processes (other than this one) whose command line mentions `path` or whose working folder
// is inside it: PostgreSQL's processes all run in their data folder, the JVM names its
// server.properties, the watchdogs name the folder in their script.
QStringList processesUsing(const QString &path)
{
    QStringList found;
    const QString self = QString::number(QCoreApplication::applicationPid());
    QDirIterator it(QStringLiteral("/proc"), QDir::Dirs | QDir::NoDotAndDotDot);
    while (it.hasNext()) {
        it.next();
        const QString pid = it.fileName();
        bool numeric = false;
        pid.toLongLong(&numeric);
        if (!numeric || pid == self)
            continue;
        QFile cmd(it.filePath() + QStringLiteral("/cmdline"));
        QString cmdline;
        if (cmd.open(QIODevice::ReadOnly))
            cmdline = QString::fromLocal8Bit(cmd.readAll().replace('\0', ' ')).trimmed();
        const QString cwd = QFileInfo(it.filePath() + QStringLiteral("/cwd")).symLinkTarget();
        if (cmdline.contains(path) || cwd.startsWith(path))
            found << pid + QLatin1Char(' ') + cmdline.left(120);
    }
    return found;
}

// Builds a binary COPY stream of (bigint, text) rows.
std::string binaryCopy(const std::vector<std::pair<qint64, std::string>> &rows)
{
    std::string out("PGCOPY\n\377\r\n\0", 11);
    const auto be32 = [&](quint32 v) {
        for (int s = 24; s >= 0; s -= 8)
            out.push_back(static_cast<char>((v >> s) & 0xff));
    };
    const auto be16 = [&](quint16 v) {
        out.push_back(static_cast<char>(v >> 8));
        out.push_back(static_cast<char>(v & 0xff));
    };
    be32(0); // flags
    be32(0); // header extension length
    for (const auto &[id, text] : rows) {
        be16(2);
        be32(8);
        for (int s = 56; s >= 0; s -= 8)
            out.push_back(static_cast<char>((static_cast<quint64>(id) >> s) & 0xff));
        be32(static_cast<quint32>(text.size()));
        out += text;
    }
    be16(0xffff);
    return out;
}

} // namespace

class TestServers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QElapsedTimer t;
        t.start();
        auto pg = idl::testsupport::postgres();
        IDL_VERIFY_OK(pg);
        qInfo("PostgreSQL up in %lld ms on port %u", t.restart(), (*pg)->port());
        auto kafka = idl::testsupport::kafka();
        IDL_VERIFY_OK(kafka);
        qInfo("Kafka up in %lld ms at %s", t.elapsed(), qPrintable((*kafka)->bootstrap()));
    }

    // idl-stack picks every service's port before any service binds one: a port handed out
    // twice made the second service exit at start (seen in CI with two processors).
    void freePortsAreNeverHandedOutTwice()
    {
        std::set<quint16> seen;
        for (int i = 0; i < 2000; ++i) {
            const quint16 port = idl::localcluster::freeTcpPort();
            QVERIFY(port != 0);
            QVERIFY2(seen.insert(port).second, qPrintable(QString::number(port)));
        }
    }

    void pgQueriesAreParameterizedAndErrorsTyped()
    {
        auto dsn = idl::testsupport::freshDatabase("params");
        IDL_VERIFY_OK(dsn);
        auto conn = idl::pg::Connection::connect(*dsn);
        IDL_VERIFY_OK(conn);
        const std::string hostile = "it's'; DROP TABLE x; --";
        auto rows = conn->query("SELECT $1::text AS v, $2::int IS NULL AS n, $3::int + 1",
                                {hostile, std::nullopt, std::string("41")});
        IDL_VERIFY_OK(rows);
        QCOMPARE(rows->rowCount(), 1);
        QCOMPARE(rows->columnName(0), std::string_view("v"));
        QCOMPARE(rows->value(0, rows->columnIndex("v")), std::string_view(hostile));
        QCOMPARE(rows->value(0, 1), std::string_view("t"));
        QCOMPARE(rows->value(0, 2), std::string_view("42"));
        auto nullRow = conn->query("SELECT NULL::text");
        IDL_VERIFY_OK(nullRow);
        QVERIFY(nullRow->isNull(0, 0));
        QVERIFY(!nullRow->at(0, 0).has_value());

        auto missing = conn->query("SELECT * FROM no_such_table");
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, ErrorCode::NotFound);
        QCOMPARE(idl::pg::sqlState(missing.error()), std::string_view("42P01"));

        // A failed transaction cannot be committed silently.
        IDL_VERIFY_OK(conn->begin());
        QVERIFY(!conn->exec("SELECT 1/0"));
        auto commit = conn->commit();
        QVERIFY(!commit);
        QCOMPARE(commit.error().code, ErrorCode::Conflict);

        auto down = idl::pg::Connection::connect(
            "host=127.0.0.1 port=" + std::to_string(idl::localcluster::freeTcpPort()) +
                " dbname=idl user=idl",
            std::chrono::seconds(2));
        QVERIFY(!down);
        QCOMPARE(down.error().code, ErrorCode::Unavailable);
    }

    void pgCopiesRowsAndSurvivesImmediateRestart()
    {
        auto pg = idl::testsupport::postgres();
        IDL_VERIFY_OK(pg);
        auto dsn = idl::testsupport::freshDatabase("copy");
        IDL_VERIFY_OK(dsn);
        auto conn = idl::pg::Connection::connect(*dsn);
        IDL_VERIFY_OK(conn);
        IDL_VERIFY_OK(conn->exec("CREATE TABLE t (id bigint NOT NULL, payload text)"));

        constexpr int rowsTotal = 100'000;
        std::vector<std::string> chunks;
        for (int c = 0; c < rowsTotal / 1000; ++c) {
            std::string chunk;
            for (int i = c * 1000; i < (c + 1) * 1000; ++i)
                chunk += std::to_string(i) + "\tpayload-" + std::to_string(i) + "\n";
            chunks.push_back(std::move(chunk));
        }
        QElapsedTimer t;
        t.start();
        auto copied = conn->copyIn("COPY t (id, payload) FROM STDIN", chunks);
        IDL_VERIFY_OK(copied);
        QCOMPARE(*copied, static_cast<long long>(rowsTotal));
        qInfo("COPY of %d rows in %lld ms", rowsTotal, t.elapsed());

        const std::string binary = binaryCopy({{-1, "binary one"}, {-2, "binary two"}});
        auto binaryCopied =
            conn->copyIn("COPY t (id, payload) FROM STDIN (FORMAT binary)",
                         std::vector<std::string>{binary}, idl::pg::CopyFormat::Binary);
        IDL_VERIFY_OK(binaryCopied);
        QCOMPARE(*binaryCopied, 2LL);
        auto badCopy = conn->copyIn("COPY t (id, payload) FROM STDIN",
                                    std::vector<std::string>{"not-a-number\tx\n"});
        QVERIFY(!badCopy);
        QCOMPARE(idl::pg::sqlState(badCopy.error()), std::string_view("22P02"));

        const auto countAndSum = [](idl::pg::Connection &c) -> std::pair<std::string, std::string> {
            auto r = c.query("SELECT count(*), sum(id) FROM t WHERE id >= $1", {std::string("0")});
            if (!r)
                return {r.error().message, {}};
            return {std::string(r->value(0, 0)), std::string(r->value(0, 1))};
        };
        QCOMPARE(countAndSum(*conn), std::pair(std::string("100000"), std::string("4999950000")));

        // Committed rows survive a crash-like restart; an open transaction's do not.
        IDL_VERIFY_OK(conn->begin());
        IDL_VERIFY_OK(conn->query("INSERT INTO t VALUES ($1, $2)", {std::string("-10"), "kept"}));
        IDL_VERIFY_OK(conn->commit());
        IDL_VERIFY_OK(conn->begin());
        IDL_VERIFY_OK(conn->query("INSERT INTO t VALUES ($1, $2)", {std::string("-20"), "lost"}));

        t.restart();
        IDL_VERIFY_OK((*pg)->restartImmediate());
        qInfo("restart -m immediate in %lld ms", t.elapsed());

        auto afterCrash = conn->query("SELECT 1");
        QVERIFY(!afterCrash);
        QCOMPARE(afterCrash.error().code, ErrorCode::Unavailable);
        QVERIFY(conn->isBroken());

        auto again = idl::pg::Connection::connect(*dsn);
        IDL_VERIFY_OK(again);
        QCOMPARE(countAndSum(*again), std::pair(std::string("100000"), std::string("4999950000")));
        auto kept = again->query("SELECT payload FROM t WHERE id < 0 ORDER BY id");
        IDL_VERIFY_OK(kept);
        QCOMPARE(kept->rowCount(), 3); // -10 (committed), -2, -1 (binary); not -20
        QCOMPARE(kept->value(0, 0), std::string_view("kept"));
    }

    void kafkaQueueFullIsOverloaded()
    {
        auto kafka = idl::testsupport::kafka();
        IDL_VERIFY_OK(kafka);
        auto topic = idl::testsupport::freshTopic("overload", 1);
        IDL_VERIFY_OK(topic);
        std::atomic<int> delivered{0};
        auto producer = idl::kafka::Producer::create(
            {{{"bootstrap.servers", (*kafka)->bootstrap().toStdString()},
              {"queue.buffering.max.messages", "10"},
              {"linger.ms", "1000"}},
             true,
             [&](const idl::kafka::DeliveryReport &r) { delivered += r.ok() ? 1 : 0; },
             {}});
        IDL_VERIFY_OK(producer);
        int accepted = 0;
        std::optional<idl::Error> refused;
        for (int i = 0; i < 100 && !refused; ++i) {
            auto r = (*producer)->produce(*topic, std::nullopt, "x");
            if (r)
                ++accepted;
            else
                refused = r.error();
        }
        QVERIFY(refused.has_value());
        QCOMPARE(refused->code, ErrorCode::Overloaded);
        IDL_VERIFY_OK((*producer)->flush(30s));
        QCOMPARE(delivered.load(), accepted);
    }

    void kafkaGroupOfTwoConsumesEveryMessageOnce()
    {
        auto kafka = idl::testsupport::kafka();
        IDL_VERIFY_OK(kafka);
        auto topic = idl::testsupport::freshTopic("group", 4);
        IDL_VERIFY_OK(topic);
        const std::string bootstrap = (*kafka)->bootstrap().toStdString();
        const std::string group = idl::testsupport::uniqueName("group");

        // Two consumers in one group; each commits what it consumed when partitions go away,
        // so a rebalance hands them over without re-delivery.
        std::unique_ptr<idl::kafka::Consumer> consumers[2];
        for (int k = 0; k < 2; ++k) {
            auto created = idl::kafka::Consumer::create(
                {{{"bootstrap.servers", bootstrap}, {"group.id", group}},
                 [&consumers, k](idl::kafka::RebalanceKind kind,
                                 std::vector<idl::kafka::TopicPartition> &) {
                     if (kind == idl::kafka::RebalanceKind::Revoked && consumers[k])
                         (void)consumers[k]->commitConsumed();
                 },
                 {}});
            IDL_VERIFY_OK(created);
            auto &c = consumers[k];
            c = std::move(*created);
            IDL_VERIFY_OK(c->subscribe({*topic}));
        }
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 30'000 &&
               (consumers[0]->assignment().empty() || consumers[1]->assignment().empty() ||
                consumers[0]->assignment().size() + consumers[1]->assignment().size() != 4)) {
            for (auto &c : consumers) {
                auto m = c->poll(100ms);
                QVERIFY2(!m || !m->has_value(), "nothing was produced yet");
            }
        }
        QCOMPARE(consumers[0]->assignment().size() + consumers[1]->assignment().size(), size_t(4));
        qInfo("group of two formed in %lld ms", t.elapsed());

        constexpr int total = 10'000;
        std::atomic<int> acked{0};
        std::atomic<int> failed{0};
        auto producer =
            idl::kafka::Producer::create({{{"bootstrap.servers", bootstrap}}, true, {}, {}});
        IDL_VERIFY_OK(producer);
        t.restart();
        for (int i = 0; i < total; ++i) {
            const std::string value = "message-" + std::to_string(i);
            auto r = (*producer)->produce(*topic, "key-" + std::to_string(i % 97), value,
                                          {{"seq", std::to_string(i)}, {"nothing", std::nullopt}},
                                          [&](const idl::kafka::DeliveryReport &report) {
                                              (report.ok() ? acked : failed)++;
                                          });
            IDL_VERIFY_OK(r);
        }
        IDL_VERIFY_OK((*producer)->flush(60s));
        QCOMPARE(acked.load(), total);
        QCOMPARE(failed.load(), 0);
        qInfo("%d messages produced and acknowledged (acks=all, idempotent) in %lld ms", total,
              t.elapsed());

        std::vector<int> seen(total, 0);
        int perConsumer[2] = {0, 0};
        int unique = 0;
        int duplicates = 0;
        t.restart();
        while (unique < total && t.elapsed() < 60'000) {
            for (int k = 0; k < 2; ++k) {
                auto m = consumers[k]->poll(10ms);
                IDL_VERIFY_OK(m);
                if (!m->has_value())
                    continue;
                const idl::kafka::Message &msg = **m;
                const auto seq = msg.header("seq");
                QVERIFY(seq.has_value());
                const int i = std::stoi(std::string(*seq));
                QCOMPARE(msg.value(), std::string_view("message-" + std::to_string(i)));
                QCOMPARE(msg.key().value_or(""), std::string_view("key-" + std::to_string(i % 97)));
                QCOMPARE(msg.topic(), std::string_view(*topic));
                QVERIFY(msg.timestampMs() > 0);
                QCOMPARE(msg.headers().size(), size_t(2));
                QVERIFY(!msg.headers()[1].value.has_value());
                if (seen[i]++ == 0)
                    ++unique;
                else
                    ++duplicates;
                ++perConsumer[k];
            }
        }
        // Anything still arriving would be a duplicate.
        for (int round = 0; round < 5; ++round) {
            for (auto &c : consumers) {
                auto m = c->poll(100ms);
                IDL_VERIFY_OK(m);
                if (m->has_value())
                    ++duplicates;
            }
        }
        qInfo("consumed %d unique (%d + %d per consumer), %d duplicates in %lld ms", unique,
              perConsumer[0], perConsumer[1], duplicates, t.elapsed());
        QCOMPARE(unique, total);
        QCOMPARE(duplicates, 0);
        QVERIFY(perConsumer[0] > 0 && perConsumer[1] > 0);
        for (auto &c : consumers) {
            IDL_VERIFY_OK(c->commitConsumed());
            c->close();
        }
    }

    void kafkaKeepsDataAcrossCrashAndPortChange()
    {
        auto dir = idl::testsupport::detail::makeDir("kafka-restart");
        IDL_VERIFY_OK(dir);
        idl::localcluster::KafkaOptions options;
        options.dataDir = (*dir)->path();
        idl::localcluster::KafkaBroker broker(options);
        IDL_VERIFY_OK(broker.start());
        const std::string topic = "restart_topic";
        IDL_VERIFY_OK(broker.createTopics({QString::fromStdString(topic)}, 2));
        {
            auto producer = idl::kafka::Producer::create(
                {{{"bootstrap.servers", broker.bootstrap().toStdString()}}, true, {}, {}});
            IDL_VERIFY_OK(producer);
            for (int i = 0; i < 100; ++i)
                IDL_VERIFY_OK((*producer)->produce(topic, std::nullopt, std::to_string(i)));
            IDL_VERIFY_OK((*producer)->flush(30s));
        }
        const auto countAll = [&]() -> int {
            auto consumer = idl::kafka::Consumer::create(
                {{{"bootstrap.servers", broker.bootstrap().toStdString()},
                  {"group.id", idl::testsupport::uniqueName("restart")}},
                 {},
                 {}});
            if (!consumer || !(*consumer)->subscribe({topic}))
                return -1;
            int n = 0;
            QElapsedTimer t;
            t.start();
            while (n < 100 && t.elapsed() < 30'000) {
                auto m = (*consumer)->poll(200ms);
                if (m && m->has_value())
                    ++n;
            }
            return n;
        };

        const quint16 brokerPort = broker.port();
        const quint16 controllerPort = broker.controllerPort();
        QElapsedTimer t;
        t.start();
        broker.kill();
        IDL_VERIFY_OK(broker.start());
        qInfo("restart after SIGKILL in %lld ms", t.elapsed());
        QCOMPARE(broker.port(), brokerPort); // kept: still free
        QCOMPARE(broker.controllerPort(), controllerPort);
        QCOMPARE(countAll(), 100);

        broker.stop();
        QTcpServer squatter[2];
        QVERIFY(squatter[0].listen(QHostAddress::LocalHost, brokerPort));
        QVERIFY(squatter[1].listen(QHostAddress::LocalHost, controllerPort));
        t.restart();
        IDL_VERIFY_OK(broker.start());
        qInfo("restart on new ports in %lld ms", t.elapsed());
        QVERIFY(broker.port() != brokerPort);
        QVERIFY(broker.controllerPort() != controllerPort);
        QCOMPARE(countAll(), 100);
    }

    void serversDieWithTheirOwner()
    {
        auto root = idl::testsupport::detail::makeDir("owner");
        IDL_VERIFY_OK(root);
        const QString path = (*root)->path();
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start(QCoreApplication::applicationFilePath(),
                    {QStringLiteral("--child-start-servers"), path});
        QVERIFY(child.waitForStarted());
        QElapsedTimer t;
        t.start();
        QByteArray out;
        while (!out.contains("READY") && t.elapsed() < 120'000 &&
               child.state() == QProcess::Running) {
            child.waitForReadyRead(500);
            out += child.readAllStandardOutput();
        }
        QVERIFY2(out.contains("READY"), out.constData());
        qInfo("child started both servers in %lld ms: %s", t.elapsed(), out.trimmed().constData());
        const QStringList before = processesUsing(path);
        QVERIFY2(before.size() >= 3, qPrintable(before.join(QLatin1Char('\n'))));

        ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
        QVERIFY(child.waitForFinished(5000));
        t.restart();
        QStringList left = processesUsing(path);
        while (!left.isEmpty() && t.elapsed() < 15'000) {
            QThread::msleep(200);
            left = processesUsing(path);
        }
        qInfo("%lld processes were running for the child; all gone %lld ms after SIGKILL",
              static_cast<long long>(before.size()), t.elapsed());
        QVERIFY2(left.isEmpty(), qPrintable(left.join(QLatin1Char('\n'))));
    }
};

// Child mode: start both servers in <dir>, report READY, then wait to be killed.
static int runChild(const QString &dir)
{
    idl::localcluster::PostgresServer pg(dir + QStringLiteral("/pg"));
    if (auto r = pg.start(); !r) {
        std::cerr << "child: " << r.error().message << std::endl;
        return 2;
    }
    idl::localcluster::KafkaBroker kafka(dir + QStringLiteral("/kafka"));
    if (auto r = kafka.start(); !r) {
        std::cerr << "child: " << r.error().message << std::endl;
        return 3;
    }
    std::printf("READY postgres=%lld java=%lld\n", static_cast<long long>(pg.pid()),
                static_cast<long long>(kafka.pid()));
    std::fflush(stdout);
    for (;;)
        QThread::sleep(1);
}

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc == 3 && qstrcmp(argv[1], "--child-start-servers") == 0)
        return runChild(QString::fromLocal8Bit(argv[2]));
    TestServers tc;
    return QTest::qExec(&tc, argc, argv);
}

#include "test_servers.moc"
