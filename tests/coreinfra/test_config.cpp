#include "idl/core/config.h"

#include <QTemporaryFile>
#include <QTest>

using idl::Config;

class TestConfig : public QObject
{
    Q_OBJECT

    static Config make()
    {
        Config c(QStringLiteral("idl-test"), QStringLiteral("test program"));
        c.addString(QStringLiteral("kafka.bootstrap"), QStringLiteral("127.0.0.1:9092"),
                    QStringLiteral("Kafka brokers"));
        c.addInt(QStringLiteral("http.port"), 8080, QStringLiteral("Port"), 0, 65535);
        c.addBool(QStringLiteral("tls.enabled"), false, QStringLiteral("TLS"));
        c.addDuration(QStringLiteral("batch.time"), QStringLiteral("200ms"),
                      QStringLiteral("Batch time"));
        c.addSize(QStringLiteral("limits.body"), QStringLiteral("5MiB"),
                  QStringLiteral("Body limit"));
        c.addSecret(QStringLiteral("auth.token"), QStringLiteral("s3cret"),
                    QStringLiteral("Token"));
        c.addString(QStringLiteral("data-dir"), QString(), QStringLiteral("Data folder"));
        return c;
    }

private Q_SLOTS:
    void defaults()
    {
        Config c = make();
        QVERIFY(c.load({QStringLiteral("prog")}, {}).ok());
        QCOMPARE(c.string(QStringLiteral("kafka.bootstrap")), QStringLiteral("127.0.0.1:9092"));
        QCOMPARE(c.integer(QStringLiteral("http.port")), 8080);
        QCOMPARE(c.boolean(QStringLiteral("tls.enabled")), false);
        QCOMPARE(c.duration(QStringLiteral("batch.time")).count(), 200);
        QCOMPARE(c.bytes(QStringLiteral("limits.body")), 5 * 1024 * 1024);
        QVERIFY(!c.isSet(QStringLiteral("http.port")));
    }

    void precedenceFileEnvCli()
    {
        QTemporaryFile f;
        QVERIFY(f.open());
        f.write("# comment\nhttp.port = 1000\nkafka.bootstrap = file:1 # trailing\n"
                "batch.time = 2s\n");
        f.close();
        Config c = make();
        const QHash<QString, QString> env{
            {QStringLiteral("IDL_HTTP_PORT"), QStringLiteral("2000")},
            {QStringLiteral("IDL_TLS_ENABLED"), QStringLiteral("yes")}};
        auto r = c.load({QStringLiteral("prog"), QStringLiteral("--config"), f.fileName(),
                         QStringLiteral("--http-port=3000"), QStringLiteral("pos1"),
                         QStringLiteral("--data-dir"), QStringLiteral("/tmp/x")},
                        env);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(c.integer(QStringLiteral("http.port")), 3000);   // cli beats env
        QCOMPARE(c.boolean(QStringLiteral("tls.enabled")), true); // env beats default
        QCOMPARE(c.string(QStringLiteral("kafka.bootstrap")), QStringLiteral("file:1"));
        QCOMPARE(c.duration(QStringLiteral("batch.time")).count(), 2000);
        QCOMPARE(c.string(QStringLiteral("data-dir")), QStringLiteral("/tmp/x"));
        QCOMPARE(c.positional(), QStringList{QStringLiteral("pos1")});
    }

    void errors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("unknown option")
            << QStringList{QStringLiteral("p"), QStringLiteral("--nope=1")};
        QTest::newRow("int not a number")
            << QStringList{QStringLiteral("p"), QStringLiteral("--http.port=abc")};
        QTest::newRow("int out of range")
            << QStringList{QStringLiteral("p"), QStringLiteral("--http.port=70000")};
        QTest::newRow("bad duration")
            << QStringList{QStringLiteral("p"), QStringLiteral("--batch.time=soon")};
        QTest::newRow("bad size") << QStringList{QStringLiteral("p"),
                                                 QStringLiteral("--limits.body=5XB")};
        QTest::newRow("bad bool") << QStringList{QStringLiteral("p"),
                                                 QStringLiteral("--tls.enabled=maybe")};
        QTest::newRow("missing value")
            << QStringList{QStringLiteral("p"), QStringLiteral("--http.port")};
        QTest::newRow("missing file")
            << QStringList{QStringLiteral("p"), QStringLiteral("--config=/nonexistent/x.conf")};
    }
    void errors()
    {
        QFETCH(QStringList, args);
        Config c = make();
        auto r = c.load(args, {});
        QVERIFY(!r.ok());
        QVERIFY(!r.error().message.empty());
    }

    void helpListsEverySetting()
    {
        Config c = make();
        QVERIFY(c.load({QStringLiteral("p"), QStringLiteral("--help")}, {}).ok());
        QVERIFY(c.helpRequested());
        const QString help = c.helpText();
        for (const auto &s : c.settings()) {
            QVERIFY2(help.contains(QStringLiteral("--") + s.name), qPrintable(s.name));
            QVERIFY(help.contains(Config::envName(s.name)));
        }
        QVERIFY(help.contains(QStringLiteral("5MiB")));
        QVERIFY(!help.contains(QStringLiteral("s3cret"))); // secrets never printed
    }

    void sizesAndDurations()
    {
        QCOMPARE(*Config::parseSize(QStringLiteral("256KiB")), 262144);
        QCOMPARE(*Config::parseSize(QStringLiteral("1GiB")), 1073741824LL);
        QCOMPARE(*Config::parseSize(QStringLiteral("2MB")), 2000000);
        QCOMPARE(Config::parseDuration(QStringLiteral("1.5s"))->count(), 1500);
        QCOMPARE(Config::parseDuration(QStringLiteral("2h"))->count(), 7200000);
        QVERIFY(!Config::parseSize(QStringLiteral("-1")).ok());
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "test_config.moc"
