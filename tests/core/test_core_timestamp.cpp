// RFC 3339 parsing and formatting, epoch numbers by magnitude, civil-date math.
#include "idl/core/timestamp.h"

#include <QDate>
#include <QTest>

#include <random>

using namespace idl;

namespace {

QString qs(std::string_view s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

constexpr std::int64_t kNs = 1000000000;

} // namespace

class TestCoreTimestamp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseValid_data();
    void parseValid();
    void parseInvalid_data();
    void parseInvalid();
    void fractionDigits();
    void leapDays();
    void formatting();
    void formatParseRoundTrip();
    void civilMathMatchesQt();
    void epochByMagnitude_data();
    void epochByMagnitude();
    void epochRejects();
    void epochText_data();
    void epochText();
};

void TestCoreTimestamp::parseValid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("utc"); // formatRfc3339Nanos of the result
    auto row = [](const char *text, const char *utc) {
        QTest::newRow(text) << QString::fromUtf8(text) << QString::fromUtf8(utc);
    };
    row("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000000Z");
    row("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000000000Z");
    row("2024-01-02t03:04:05z", "2024-01-02T03:04:05.000000000Z");
    row("2024-01-02 03:04:05Z", "2024-01-02T03:04:05.000000000Z");
    row("2024-01-02T03:04:05+05:30", "2024-01-01T21:34:05.000000000Z");
    row("2024-01-02T03:04:05-08:00", "2024-01-02T11:04:05.000000000Z");
    row("2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05.000000000Z");
    row("2024-01-02T03:04:05-00:00", "2024-01-02T03:04:05.000000000Z");
    row("2024-01-02T03:04:05+0530", "2024-01-01T21:34:05.000000000Z");
    row("2024-01-01T00:30:00+01:00", "2023-12-31T23:30:00.000000000Z");
    row("2023-12-31T23:30:00-01:00", "2024-01-01T00:30:00.000000000Z");
    row("2024-02-29T23:59:59.999999999Z", "2024-02-29T23:59:59.999999999Z");
    row("2000-02-29T12:00:00Z", "2000-02-29T12:00:00.000000000Z");
    row("2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000000000Z");
    row("2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:16.854775807Z");
    row("2262-04-12T01:47:16.854775807+02:00", "2262-04-11T23:47:16.854775807Z");
    row("1970-01-01T05:30:00+05:30", "1970-01-01T00:00:00.000000000Z");
}

void TestCoreTimestamp::parseValid()
{
    QFETCH(QString, text);
    QFETCH(QString, utc);
    const std::string s = text.toStdString();
    const Result<std::int64_t> ns = parseRfc3339(s);
    QVERIFY2(ns.ok(), ns.ok() ? "" : ns.error().message.c_str());
    QCOMPARE(qs(formatRfc3339Nanos(*ns)), utc);
}

void TestCoreTimestamp::parseInvalid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("messagePart");
    auto row = [](const char *text, const char *part) {
        QTest::newRow(text) << QString::fromUtf8(text) << QString::fromUtf8(part);
    };
    row("", "empty");
    row("2024", "'-'");
    row("2024-01-02", "time");
    row("2024-01-02T03:04:05", "offset");
    row("2024-01-02X03:04:05Z", "'T'");
    row("2024-1-02T03:04:05Z", "month");
    row("2024-00-10T00:00:00Z", "month");
    row("2024-13-10T00:00:00Z", "month");
    row("2024-01-00T00:00:00Z", "day");
    row("2024-01-32T00:00:00Z", "day");
    row("2024-04-31T00:00:00Z", "day");
    row("2023-02-29T00:00:00Z", "day");
    row("1900-02-29T00:00:00Z", "year");
    row("2100-02-29T00:00:00Z", "day");
    row("2024-01-01T24:00:00Z", "hour");
    row("2024-01-01T23:60:00Z", "minutes");
    row("2024-01-01T23:59:61Z", "seconds");
    row("2024-01-01T23:59:59.Z", "digits");
    row("2024-01-01T23:59:59.1234567890Z", "9 fractional");
    row("2024-01-01T23:59:59+24:00", "offset hours");
    row("2024-01-01T23:59:59+05:60", "offset minutes");
    row("2024-01-01T23:59:59+5:00", "offset hours");
    row("2024-01-01T23:59:59+05:", "offset minutes");
    row("2024-01-01T23:59:59ZZ", "after");
    row("2024-01-01T23:59:59Z ", "after");
    row(" 2024-01-01T23:59:59Z", "year");
    row("1969-12-31T23:59:59Z", "year");
    row("1970-01-01T00:00:00+00:01", "before 1970");
    row("2262-04-11T23:47:16.854775808Z", "after 2262");
    row("2263-01-01T00:00:00Z", "year");
    row("9999-12-31T23:59:59Z", "year");
    row("+2024-01-01T00:00:00Z", "year");
    row("２０２４-01-01T00:00:00Z", "year");
}

void TestCoreTimestamp::parseInvalid()
{
    QFETCH(QString, text);
    QFETCH(QString, messagePart);
    const std::string s = text.toStdString();
    const Result<std::int64_t> ns = parseRfc3339(s);
    QVERIFY2(!ns.ok(), qPrintable(QStringLiteral("accepted: ") + text));
    QCOMPARE(ns.error().code, ErrorCode::BadTimestamp);
    QVERIFY2(qs(ns.error().message).contains(messagePart), ns.error().message.c_str());
}

void TestCoreTimestamp::fractionDigits()
{
    const std::int64_t base = *parseRfc3339("2024-05-06T07:08:09Z");
    const char *digits = "123456789";
    std::int64_t expected = 0;
    for (int n = 1; n <= 9; ++n) {
        const std::string text = "2024-05-06T07:08:09." + std::string(digits, n) + "Z";
        expected = expected * 10 + n;
        std::int64_t scaled = expected;
        for (int k = n; k < 9; ++k)
            scaled *= 10;
        const Result<std::int64_t> ns = parseRfc3339(text);
        QVERIFY2(ns.ok(), text.c_str());
        QCOMPARE(*ns - base, scaled);
    }
    QCOMPARE(*parseRfc3339("2024-05-06T07:08:09.5+01:00") - base, -3600 * kNs + 500000000);
}

void TestCoreTimestamp::leapDays()
{
    for (int year : {1972, 2000, 2024, 2096, 2104, 2260}) {
        const std::string text = std::to_string(year) + "-02-29T00:00:00Z";
        QVERIFY2(parseRfc3339(text).ok(), text.c_str());
        QVERIFY(isLeapYear(year));
    }
    for (int year : {1970, 2023, 2100, 2200, 2261}) {
        const std::string text = std::to_string(year) + "-02-29T00:00:00Z";
        QVERIFY2(!parseRfc3339(text).ok(), text.c_str());
        QVERIFY(!isLeapYear(year));
    }
    QCOMPARE(daysInMonth(2024, 2), 29u);
    QCOMPARE(daysInMonth(2023, 2), 28u);
    QCOMPARE(daysInMonth(2023, 12), 31u);
    QCOMPARE(daysInMonth(2023, 11), 30u);
    // 2024-03-01 is one day after 2024-02-29.
    QCOMPARE(*parseRfc3339("2024-03-01T00:00:00Z") - *parseRfc3339("2024-02-29T00:00:00Z"),
             86400 * kNs);
}

void TestCoreTimestamp::formatting()
{
    QCOMPARE(qs(formatRfc3339Nanos(0)), QStringLiteral("1970-01-01T00:00:00.000000000Z"));
    QCOMPARE(qs(formatRfc3339Millis(0)), QStringLiteral("1970-01-01T00:00:00.000Z"));
    QCOMPARE(qs(formatRfc3339Nanos(1700000000123456789)),
             QStringLiteral("2023-11-14T22:13:20.123456789Z"));
    QCOMPARE(qs(formatRfc3339Millis(1700000000123999999)),
             QStringLiteral("2023-11-14T22:13:20.123Z"));
    QCOMPARE(qs(formatRfc3339Nanos(INT64_MAX)), QStringLiteral("2262-04-11T23:47:16.854775807Z"));
    QCOMPARE(qs(formatRfc3339Nanos(-1)), QStringLiteral("1969-12-31T23:59:59.999999999Z"));
    QCOMPARE(qs(formatRfc3339Millis(-1)), QStringLiteral("1969-12-31T23:59:59.999Z"));
    QCOMPARE(qs(formatRfc3339Nanos(INT64_MIN)), QStringLiteral("1677-09-21T00:12:43.145224192Z"));
}

void TestCoreTimestamp::formatParseRoundTrip()
{
    std::mt19937_64 rng(42);
    for (int i = 0; i < 20000; ++i) {
        const auto ns = static_cast<std::int64_t>(rng() >> 1);
        const std::string text = formatRfc3339Nanos(ns);
        const Result<std::int64_t> back = parseRfc3339(text);
        QVERIFY2(back.ok(), text.c_str());
        QCOMPARE(*back, ns);
    }
}

void TestCoreTimestamp::civilMathMatchesQt()
{
    // Our hand-written calendar agrees with QDate for every day in range.
    const QDate epoch(1970, 1, 1);
    for (QDate d = epoch; d.year() <= 2262; d = d.addDays(1)) {
        const std::int64_t days = daysFromCivil(d.year(), static_cast<unsigned>(d.month()),
                                                static_cast<unsigned>(d.day()));
        if (days != epoch.daysTo(d))
            QFAIL(qPrintable(d.toString(Qt::ISODate)));
    }
}

void TestCoreTimestamp::epochByMagnitude_data()
{
    QTest::addColumn<qint64>("value");
    QTest::addColumn<qint64>("ns");
    QTest::newRow("0 s") << qint64(0) << qint64(0);
    QTest::newRow("seconds") << qint64(1700000000) << qint64(1700000000) * kNs;
    QTest::newRow("largest seconds") << qint64(9223372036) << qint64(9223372036) * kNs;
    QTest::newRow("1e11 is ms") << qint64(100000000000) << qint64(100000000000000000);
    QTest::newRow("ms") << qint64(1700000000123) << qint64(1700000000123000000);
    QTest::newRow("1e14 is us") << qint64(100000000000000) << qint64(100000000000000000);
    QTest::newRow("us") << qint64(1700000000123456) << qint64(1700000000123456000);
    QTest::newRow("1e17 is ns") << qint64(100000000000000000) << qint64(100000000000000000);
    QTest::newRow("ns") << qint64(1700000000123456789) << qint64(1700000000123456789);
    QTest::newRow("max ns") << qint64(INT64_MAX) << qint64(INT64_MAX);
}

void TestCoreTimestamp::epochByMagnitude()
{
    QFETCH(qint64, value);
    QFETCH(qint64, ns);
    const Result<std::int64_t> fromInt = epochToNs(static_cast<std::int64_t>(value));
    QVERIFY(fromInt.ok());
    QCOMPARE(*fromInt, ns);
    const Result<std::int64_t> fromText = epochTextToNs(std::to_string(value));
    QVERIFY(fromText.ok());
    QCOMPARE(*fromText, ns);
    if (value < (1LL << 53)) { // exactly representable as a double
        const Result<std::int64_t> fromDouble = epochToNs(static_cast<long double>(value));
        QVERIFY(fromDouble.ok());
        QCOMPARE(*fromDouble, ns);
    }
}

void TestCoreTimestamp::epochRejects()
{
    for (std::int64_t v :
         {std::int64_t(-1), std::int64_t(INT64_MIN), std::int64_t(9223372037),
          std::int64_t(99999999999), std::int64_t(9223372036855), std::int64_t(9223372036854776)}) {
        const Result<std::int64_t> r = epochToNs(v);
        QVERIFY2(!r.ok(), std::to_string(v).c_str());
        QCOMPARE(r.error().code, ErrorCode::BadTimestamp);
    }
    for (long double v : {-0.5L, -1e20L, 1e19L, 1e30L, 9.3e9L, static_cast<long double>(NAN),
                          static_cast<long double>(INFINITY)}) {
        const Result<std::int64_t> r = epochToNs(v);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::BadTimestamp);
    }
    // Fractional values, rounded to the nearest ns.
    QCOMPARE(*epochToNs(1.5L), 1500000000LL);
    QCOMPARE(*epochToNs(1700000000123.5L), 1700000000123500000LL);
    QCOMPARE(*epochToNs(1700000000123456.5L), 1700000000123456500LL);
}

void TestCoreTimestamp::epochText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("ns"); // -1: rejected
    auto row = [](const char *text, qint64 ns) {
        QTest::newRow(text) << QString::fromUtf8(text) << ns;
    };
    row("1700000000", 1700000000 * kNs);
    row("1700000000.123456789", 1700000000123456789);
    row("1700000000.1234567894", 1700000000123456789);
    row("1700000000.1234567895", 1700000000123456790);
    row("1700000000.5", 1700000000500000000);
    row("1700000000123.456789", 1700000000123456789);
    row("1700000000123456.789", 1700000000123456789);
    row("1700000000123456789.9", 1700000000123456790);
    row("0.000000001", 1);
    row("9223372036.854775807", INT64_MAX);
    row("9223372036.854775808", -1);
    row("9223372036854775807", INT64_MAX);
    row("9223372036854775808", -1);
    row("99999999999999999999999", -1);
    row("-1", -1);
    row("-0.5", -1);
    row("", -1);
    row(".5", -1);
    row("1.", -1);
    row("1e9", -1);
    row("1_000", -1);
    row(" 1", -1);
    row("1.2.3", -1);
}

void TestCoreTimestamp::epochText()
{
    QFETCH(QString, text);
    QFETCH(qint64, ns);
    const std::string s = text.toStdString();
    const Result<std::int64_t> r = epochTextToNs(s);
    if (ns < 0) {
        QVERIFY2(!r.ok(), s.c_str());
        QCOMPARE(r.error().code, ErrorCode::BadTimestamp);
        return;
    }
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(*r, ns);
}

QTEST_APPLESS_MAIN(TestCoreTimestamp)
#include "test_core_timestamp.moc"
