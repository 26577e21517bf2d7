// JSON writer escaping and number formatting; UUIDv7 event ids.
#include "idl/core/json_writer.h"
#include "idl/core/uuid.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <chrono>
#include <set>
#include <thread>

using namespace idl;

namespace {

QString qs(std::string_view s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

std::string jsonString(std::string_view text)
{
    std::string out;
    appendJsonString(out, text);
    return out;
}

} // namespace

class TestCoreJsonWriter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void escaping_data();
    void escaping();
    void everyByteReadsBack();
    void invalidUtf8();
    void findInvalidUtf8Positions();
    void numbers();
    void writerStructure();
    void uuidFormat();
    void uuidIsTimeOrderedAndUnique();
    void uuidThreads();
    void uuidValidation();
};

void TestCoreJsonWriter::escaping_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("empty") << QByteArray("") << QByteArray(R"("")");
    QTest::newRow("plain") << QByteArray("abc") << QByteArray(R"("abc")");
    QTest::newRow("quote and backslash") << QByteArray(R"(a"b\c)") << QByteArray(R"("a\"b\\c")");
    QTest::newRow("short escapes") << QByteArray("\b\f\n\r\t") << QByteArray(R"("\b\f\n\r\t")");
    QTest::newRow("other controls")
        << QByteArray("\x01\x1f\x0b", 3) << QByteArray(R"("\u0001\u001f\u000b")");
    QTest::newRow("nul") << QByteArray("a\0b", 3) << QByteArray(R"("a\u0000b")");
    QTest::newRow("slash and DEL pass") << QByteArray("/\x7f") << QByteArray("\"/\x7f\"");
    QTest::newRow("utf-8 passes") << QByteArray("é日😀\xF4\x8F\xBF\xBF")
                                  << QByteArray("\"é日😀\xF4\x8F\xBF\xBF\"");
}

void TestCoreJsonWriter::escaping()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    const std::string out =
        jsonString(std::string_view(input.constData(), static_cast<std::size_t>(input.size())));
    QCOMPARE(QByteArray::fromStdString(out), expected);
}

void TestCoreJsonWriter::everyByteReadsBack()
{
    // Every ASCII byte inside a string reads back through an independent JSON parser.
    std::string all;
    for (int c = 0; c < 0x80; ++c)
        all.push_back(static_cast<char>(c));
    all += "é日😀";
    std::string doc = "[";
    appendJsonString(doc, all);
    doc += "]";
    QJsonParseError error;
    const QJsonDocument parsed = QJsonDocument::fromJson(QByteArray::fromStdString(doc), &error);
    QVERIFY2(parsed.isArray(), qPrintable(error.errorString()));
    QCOMPARE(parsed.array().at(0).toString(), qs(all));
}

void TestCoreJsonWriter::invalidUtf8()
{
    QCOMPARE(qs(jsonString("a\xff"
                           "b")),
             QStringLiteral("\"a\uFFFDb\""));
    QCOMPARE(qs(jsonString("\xc0\xaf")), QStringLiteral("\"\uFFFD\uFFFD\"")); // overlong
    QCOMPARE(qs(jsonString("\xed\xa0\x80")), QStringLiteral("\"\uFFFD\uFFFD\uFFFD\""));
    QCOMPARE(qs(jsonString("\xe2\x82")), QStringLiteral("\"\uFFFD\uFFFD\"")); // truncated
    QCOMPARE(qs(jsonString("\xf4\x90\x80\x80")), QStringLiteral("\"\uFFFD\uFFFD\uFFFD\uFFFD\""));
    QCOMPARE(qs(jsonString("x\xe2\x82\xac")), QStringLiteral("\"x€\""));
}

void TestCoreJsonWriter::findInvalidUtf8Positions()
{
    QCOMPARE(findInvalidUtf8("plain"), std::string_view::npos);
    QCOMPARE(findInvalidUtf8("é日😀"), std::string_view::npos);
    QCOMPARE(findInvalidUtf8("ab\xff"), std::size_t(2));
    QCOMPARE(findInvalidUtf8("é\xe2\x82"), std::size_t(2));
    QCOMPARE(findInvalidUtf8("\x80"), std::size_t(0));
    QCOMPARE(findInvalidUtf8("ok\xf5\x80\x80\x80"), std::size_t(2));
}

void TestCoreJsonWriter::numbers()
{
    auto d = [](double v) {
        std::string out;
        appendJsonDouble(out, v);
        return QString::fromStdString(out);
    };
    QCOMPARE(d(0.0), QStringLiteral("0"));
    QCOMPARE(d(-0.0), QStringLiteral("-0.0"));
    QCOMPARE(d(1.5), QStringLiteral("1.5"));
    QCOMPARE(d(0.1), QStringLiteral("0.1"));
    QCOMPARE(d(1e300), QStringLiteral("1e+300"));
    QCOMPARE(d(123456789012345680000.0), QStringLiteral("1.2345678901234568e+20"));
    QCOMPARE(d(NAN), QStringLiteral("null"));
    QCOMPARE(d(-INFINITY), QStringLiteral("null"));
    std::string out;
    appendJsonInt(out, INT64_MIN);
    out.push_back(' ');
    appendJsonUInt(out, UINT64_MAX);
    QCOMPARE(QString::fromStdString(out),
             QStringLiteral("-9223372036854775808 18446744073709551615"));
}

void TestCoreJsonWriter::writerStructure()
{
    std::string out;
    JsonWriter w(out);
    w.beginObject();
    w.key("a");
    w.value(1);
    w.key("b");
    w.beginArray();
    w.value("x");
    w.value(true);
    w.null();
    w.beginObject();
    w.endObject();
    w.beginArray();
    w.endArray();
    w.value(2.5);
    w.endArray();
    w.key("c");
    w.raw(R"({"r":1})");
    w.key("d");
    w.value(std::uint64_t(7));
    w.endObject();
    QCOMPARE(QString::fromStdString(out),
             QStringLiteral(R"({"a":1,"b":["x",true,null,{},[],2.5],"c":{"r":1},"d":7})"));
}

void TestCoreJsonWriter::uuidFormat()
{
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::string id = newEventId();
    const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    QCOMPARE(id.size(), std::size_t(36));
    QVERIFY(isValidUuid(id));
    QCOMPARE(id[14], '7');                                                    // version
    QVERIFY(std::string_view("89ab").find(id[19]) != std::string_view::npos); // variant 10
    for (char c : id)
        QVERIFY(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    const std::string hexMs = id.substr(0, 8) + id.substr(9, 4);
    const long long ms = std::stoll(hexMs, nullptr, 16);
    QVERIFY(ms >= before && ms <= after);
}

void TestCoreJsonWriter::uuidIsTimeOrderedAndUnique()
{
    std::set<std::string> seen;
    std::string first = newEventId();
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    for (int i = 0; i < 100000; ++i) {
        std::string id = newEventId();
        QVERIFY(id.compare(0, 13, first, 0, 13) > 0); // later millisecond sorts later
        QVERIFY(seen.insert(std::move(id)).second);
    }
}

void TestCoreJsonWriter::uuidThreads()
{
    // Each thread has its own generator: no duplicates across threads.
    std::vector<std::vector<std::string>> perThread(4);
    std::vector<std::thread> threads;
    for (auto &ids : perThread)
        threads.emplace_back([&ids] {
            for (int i = 0; i < 20000; ++i)
                ids.push_back(newEventId());
        });
    for (auto &t : threads)
        t.join();
    std::set<std::string> all;
    for (const auto &ids : perThread)
        all.insert(ids.begin(), ids.end());
    QCOMPARE(all.size(), std::size_t(80000));
}

void TestCoreJsonWriter::uuidValidation()
{
    QVERIFY(isValidUuid("0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b"));
    QVERIFY(isValidUuid("0190A4B2-7C3E-7D41-9A2B-3C4D5E6F7A8B"));
    QVERIFY(isValidUuid("00000000-0000-0000-0000-000000000000"));
    QVERIFY(!isValidUuid(""));
    QVERIFY(!isValidUuid("0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8"));
    QVERIFY(!isValidUuid("0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8bb"));
    QVERIFY(!isValidUuid("0190a4b2x7c3e-7d41-9a2b-3c4d5e6f7a8b"));
    QVERIFY(!isValidUuid("0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8g"));
    QVERIFY(!isValidUuid("{0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8}"));
    QVERIFY(!isValidUuid("0190a4b27c3e7d419a2b3c4d5e6f7a8b"));
}

QTEST_APPLESS_MAIN(TestCoreJsonWriter)
#include "test_core_json_writer.moc"
