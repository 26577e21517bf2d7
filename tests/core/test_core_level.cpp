// Level names and aliases, syslog and OpenTelemetry severities.
#include "idl/core/log_event.h"

#include <QTest>

using namespace idl;

Q_DECLARE_METATYPE(idl::Level)

class TestCoreLevel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aliases_data();
    void aliases();
    void rejects_data();
    void rejects();
    void canonicalNamesRoundTrip();
    void syslog_data();
    void syslog();
    void otel();
    void ordering();
};

void TestCoreLevel::aliases_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<Level>("level");
    const struct
    {
        const char *text;
        Level level;
    } rows[] = {
        {"trace", Level::Trace},      {"trc", Level::Trace},
        {"verbose", Level::Trace},    {"finest", Level::Trace},
        {"debug", Level::Debug},      {"dbg", Level::Debug},
        {"fine", Level::Debug},       {"info", Level::Info},
        {"information", Level::Info}, {"informational", Level::Info},
        {"notice", Level::Info},      {"log", Level::Info},
        {"warn", Level::Warn},        {"warning", Level::Warn},
        {"wrn", Level::Warn},         {"error", Level::Error},
        {"err", Level::Error},        {"eror", Level::Error},
        {"severe", Level::Error},     {"fatal", Level::Fatal},
        {"critical", Level::Fatal},   {"crit", Level::Fatal},
        {"panic", Level::Fatal},      {"emerg", Level::Fatal},
        {"emergency", Level::Fatal},  {"alert", Level::Fatal},
        {"ftl", Level::Fatal},        {"0", Level::Fatal},
        {"1", Level::Fatal},          {"2", Level::Fatal},
        {"3", Level::Error},          {"4", Level::Warn},
        {"5", Level::Info},           {"6", Level::Info},
        {"7", Level::Debug},
    };
    for (const auto &row : rows) {
        const QString text = QLatin1String(row.text);
        QTest::newRow(row.text) << text << row.level;
        QTest::newRow(qPrintable(text.toUpper())) << text.toUpper() << row.level;
        QString mixed = text;
        mixed[0] = mixed[0].toUpper();
        QTest::newRow(qPrintable(mixed + QStringLiteral(" (mixed)"))) << mixed << row.level;
    }
}

void TestCoreLevel::aliases()
{
    QFETCH(QString, text);
    QFETCH(Level, level);
    const std::string s = text.toStdString();
    const std::optional<Level> parsed = parseLevel(s);
    QVERIFY(parsed.has_value());
    QCOMPARE(*parsed, level);
}

void TestCoreLevel::rejects_data()
{
    QTest::addColumn<QString>("text");
    for (const char *text :
         {"", " ", "info ", " info", "8", "9", "-1", "10", "07", "in", "warnings", "informationa",
          "informationall", "fatal!", "trace\t", "1.0", "verylongleveltextthatisnotalevel"})
        QTest::newRow(text) << QString::fromUtf8(text);
}

void TestCoreLevel::rejects()
{
    QFETCH(QString, text);
    const std::string s = text.toStdString();
    QVERIFY(!parseLevel(s).has_value());
}

void TestCoreLevel::canonicalNamesRoundTrip()
{
    const char *names[] = {"trace", "debug", "info", "warn", "error", "fatal"};
    for (int i = 0; i < 6; ++i) {
        const auto level = static_cast<Level>(i);
        QCOMPARE(QLatin1String(levelName(level).data(), levelName(level).size()),
                 QLatin1String(names[i]));
        QCOMPARE(parseLevel(levelName(level)), std::optional<Level>(level));
    }
}

void TestCoreLevel::syslog_data()
{
    QTest::addColumn<int>("severity");
    QTest::addColumn<int>("expected"); // -1: rejected
    const int table[][2] = {{-1, -1}, {0, 5}, {1, 5}, {2, 5},  {3, 4},   {4, 3},
                            {5, 2},   {6, 2}, {7, 1}, {8, -1}, {100, -1}};
    for (const auto &row : table)
        QTest::newRow(qPrintable(QString::number(row[0]))) << row[0] << row[1];
}

void TestCoreLevel::syslog()
{
    QFETCH(int, severity);
    QFETCH(int, expected);
    const std::optional<Level> level = levelFromSyslog(severity);
    if (expected < 0) {
        QVERIFY(!level.has_value());
        return;
    }
    QVERIFY(level.has_value());
    QCOMPARE(static_cast<int>(*level), expected);
}

void TestCoreLevel::otel()
{
    QVERIFY(!levelFromOtelSeverity(0).has_value());
    QVERIFY(!levelFromOtelSeverity(25).has_value());
    QVERIFY(!levelFromOtelSeverity(-3).has_value());
    QVERIFY(!levelFromOtelSeverity(1LL << 40).has_value());
    const Level expected[] = {Level::Trace, Level::Debug, Level::Info,
                              Level::Warn,  Level::Error, Level::Fatal};
    for (int n = 1; n <= 24; ++n) {
        const std::optional<Level> level = levelFromOtelSeverity(n);
        QVERIFY2(level.has_value(), qPrintable(QString::number(n)));
        QCOMPARE(*level, expected[(n - 1) / 4]);
    }
}

void TestCoreLevel::ordering()
{
    QVERIFY(Level::Trace < Level::Debug && Level::Debug < Level::Info);
    QVERIFY(Level::Info < Level::Warn && Level::Warn < Level::Error && Level::Error < Level::Fatal);
}

QTEST_APPLESS_MAIN(TestCoreLevel)
#include "test_core_level.moc"
