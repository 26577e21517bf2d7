// Event codecs: golden decode cases, size/depth limits that cannot live in a text file,
// and encode -> decode round trips of random events.
#include "golden_cases.h"

#include "idl/core/json_codec.h"
#include "idl/core/json_dom.h"
#include "idl/core/json_writer.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"

#include <QTest>

#include <cstring>
#include <random>

using namespace idl;

namespace {

constexpr std::int64_t kReceivedNs = 1700000000000000000;

QString qs(std::string_view s)
{
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

QString describe(const Error &e)
{
    return qs(e.codeName()) + QStringLiteral(": ") + qs(e.message);
}

// The error of a failed result, or "" (safe to evaluate for successful results).
template <typename T> QString why(const Result<T> &r)
{
    return r.ok() ? QString() : describe(r.error());
}

} // namespace

class TestCoreCodec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void golden_data();
    void golden();
    void depth10000();
    void canonicalDepthLimitAndView();
    void tenMegabyteString();
    void sizeLimits();
    void largestEventRoundTrips();
    void customLimits();
    void decoderIsReusableAfterErrors();
    void encodeCanonicalLayout();
    void encodeOmitsEmptyIds();
    void encodeReplacesInvalidUtf8();
    void decodeEventRejects_data();
    void decodeEventRejects();
    void roundTripRandomEvents();
    void roundTripDecodedEvents();
};

void TestCoreCodec::golden_data()
{
    QTest::addColumn<int>("index");
    QString error;
    static const std::vector<GoldenCase> cases = loadGoldenCases(&error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(cases.size() > 100);
    for (std::size_t i = 0; i < cases.size(); ++i)
        QTest::newRow(qPrintable(cases[i].name)) << static_cast<int>(i);
}

void TestCoreCodec::golden()
{
    QFETCH(int, index);
    QString error;
    static const std::vector<GoldenCase> cases = loadGoldenCases(&error);
    const GoldenCase &c = cases.at(static_cast<std::size_t>(index));
    EventDecoder decoder;
    const Result<LogEvent> r = decoder.decodeIncoming(c.input, kReceivedNs);
    if (!c.expectOk) {
        QVERIFY2(!r.ok(), qPrintable(QStringLiteral("expected ") + c.expectCode +
                                     QStringLiteral(", got a decoded event")));
        QCOMPARE(qs(r.error().codeName()), c.expectCode);
        QVERIFY2(!r.error().message.empty(), "error message is empty");
        if (!c.messageContains.isEmpty())
            QVERIFY2(qs(r.error().message).contains(c.messageContains), qPrintable(why(r)));
        if (c.position != -2)
            QCOMPARE(r.error().position, c.position);
        return;
    }
    QVERIFY2(r.ok(), qPrintable(why(r)));
    const LogEvent &e = *r;
    const QJsonObject &x = c.expect;
    auto str = [&](const char *key) { return x.value(QLatin1String(key)).toString(); };
    auto has = [&](const char *key) { return x.contains(QLatin1String(key)); };
    QCOMPARE(e.receivedNs, kReceivedNs);
    if (has("ts"))
        QCOMPARE(qs(formatRfc3339Nanos(e.tsNs)), str("ts"));
    if (has("rt"))
        QCOMPARE(qs(formatRfc3339Nanos(e.receivedNs)), str("rt"));
    if (has("level"))
        QCOMPARE(qs(levelName(e.level)), str("level"));
    if (has("app"))
        QCOMPARE(qs(e.app), str("app"));
    if (has("host"))
        QCOMPARE(qs(e.host), str("host"));
    if (has("message"))
        QCOMPARE(qs(e.message), str("message"));
    if (has("attrs"))
        QCOMPARE(qs(e.attrsJson), str("attrs"));
    if (has("trace_id"))
        QCOMPARE(qs(e.traceId), str("trace_id"));
    if (has("span_id"))
        QCOMPARE(qs(e.spanId), str("span_id"));
    if (has("id"))
        QCOMPARE(qs(e.id), str("id"));
    if (has("id_generated")) {
        QVERIFY(isValidUuid(e.id));
        QCOMPARE(e.id[14], '7');
    }
    // Every decoded event survives the canonical encoding unchanged.
    const Result<LogEvent> back = decodeEvent(encodeEvent(e));
    QVERIFY2(back.ok(), qPrintable(why(back)));
    QVERIFY(*back == e);
}

// The canonical reader's depth limit on attrs (maxDepth + 1, the event object being level 1)
// holds for decodeEvent and decodeEventView alike, also when the attrs are walked only for
// texts with many brackets; the view points at the same values decodeEvent copies.
void TestCoreCodec::canonicalDepthLimitAndView()
{
    IngestLimits limits;
    limits.maxDepth = 3;
    EventDecoder decoder(limits);
    LogEvent e;
    e.id = "0190a0b2-0000-7000-8000-000000000001";
    e.tsNs = 1;
    e.receivedNs = 2;
    e.app = "a";
    e.host = "h";
    e.message = "m [{";
    e.traceId = "0123456789abcdef0123456789abcdef";
    e.attrsJson = R"({"a":[[1]]})"; // attrs level 2, arrays 3 and 4 = maxDepth + 1: accepted
    const std::string ok = encodeEvent(e);
    Result<LogEvent> r = decoder.decodeEvent(ok);
    QVERIFY2(r.ok(), qPrintable(why(r)));
    QVERIFY(*r == e);
    CanonicalEventView view;
    QVERIFY(decoder.decodeEventView(ok, view).ok());
    QCOMPARE(view.id, std::string_view(e.id));
    QCOMPARE(view.message, std::string_view(e.message));
    QCOMPARE(view.traceId, std::string_view(e.traceId));
    QVERIFY(view.spanId.empty());
    QCOMPARE(view.tsNs, e.tsNs);
    QCOMPARE(view.receivedNs, e.receivedNs);
    QVERIFY(view.attrs.is<simdjson::dom::object>());

    e.attrsJson = R"({"a":[[[1]]]})"; // one level more
    const std::string deep = encodeEvent(e);
    r = decoder.decodeEvent(deep);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooDeep);
    const Result<void> v = decoder.decodeEventView(deep, view);
    QVERIFY(!v.ok());
    QCOMPARE(v.error().code, ErrorCode::TooDeep);
}

void TestCoreCodec::depth10000()
{
    EventDecoder decoder;
    const std::string arrays = std::string(10000, '[') + std::string(10000, ']');
    Result<LogEvent> r = decoder.decodeIncoming(arrays, kReceivedNs);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooDeep);

    std::string objects = R"({"msg":"m","a":)";
    for (int i = 0; i < 10000; ++i)
        objects += R"({"a":)";
    objects += "1";
    objects += std::string(10000, '}');
    objects += "}";
    r = decoder.decodeIncoming(objects, kReceivedNs);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooDeep);
    QVERIFY(qs(r.error().message).contains(QStringLiteral("32")));

    // Unbalanced: 10000 openers only.
    r = decoder.decodeIncoming(std::string(10000, '{'), kReceivedNs);
    QVERIFY(!r.ok());
}

void TestCoreCodec::tenMegabyteString()
{
    EventDecoder decoder;
    const std::string input = R"({"msg":")" + std::string(10 * 1024 * 1024, 'x') + R"("})";
    const Result<LogEvent> r = decoder.decodeIncoming(input, kReceivedNs);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooLarge);
    QVERIFY2(qs(r.error().message).contains(QStringLiteral("262144")), qPrintable(why(r)));
}

void TestCoreCodec::sizeLimits()
{
    EventDecoder decoder;
    const IngestLimits limits;
    // Message exactly at and just over its limit (the event itself stays under 256 KiB).
    std::string input = R"({"msg":")" + std::string(limits.maxMessageBytes, 'm') + R"("})";
    QVERIFY(decoder.decodeIncoming(input, kReceivedNs).ok());
    input = R"({"msg":")" + std::string(limits.maxMessageBytes + 1, 'm') + R"("})";
    Result<LogEvent> r = decoder.decodeIncoming(input, kReceivedNs);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooLarge);
    QVERIFY(qs(r.error().message).contains(QStringLiteral("message")));

    // A structured body is measured after minification.
    input = R"({"body":[")" + std::string(limits.maxMessageBytes, 'b') + R"("]})";
    r = decoder.decodeIncoming(input, kReceivedNs);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooLarge);

    // Field, attribute key and attribute value limits.
    const std::string big(limits.maxFieldBytes + 1, 'f');
    for (const std::string &event :
         {R"({"msg":"m","app":")" + big + R"("})", R"({"msg":"m","host":")" + big + R"("})",
          R"({"msg":"m",")" + big + R"(":1})", R"({"msg":"m","a":")" + big + R"("})",
          R"({"msg":"m","attrs":{"a":[")" + big + R"("]}})"}) {
        r = decoder.decodeIncoming(event, kReceivedNs);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::TooLarge);
    }
    // Whole event just over 256 KiB, even though each field is within its limit.
    std::string many = R"({"msg":"m")";
    for (int i = 0; many.size() <= limits.maxEventBytes; ++i)
        many += ",\"k" + std::to_string(i) + "\":\"" + std::string(60000, 'v') + "\"";
    many += "}";
    r = decoder.decodeIncoming(many, kReceivedNs);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooLarge);
    QVERIFY(qs(r.error().message).contains(QStringLiteral("event")));
}

void TestCoreCodec::largestEventRoundTrips()
{
    // An event at the input limit gets bigger once wrapped in the canonical envelope; it must
    // still decode from the events topic.
    EventDecoder decoder;
    const IngestLimits limits;
    std::string input = R"({"msg":")" + std::string(300, 'm') + "\"";
    for (int i = 0; i < 4; ++i)
        input += ",\"k" + std::to_string(i) + "\":\"" +
                 std::string(limits.maxFieldBytes - 100, 'v') + "\"";
    input += "}";
    QVERIFY(input.size() <= limits.maxEventBytes);
    input.insert(input.size() - 1, limits.maxEventBytes - input.size(), ' ');
    QCOMPARE(input.size(), limits.maxEventBytes);
    const Result<LogEvent> e = decoder.decodeIncoming(input, kReceivedNs);
    QVERIFY2(e.ok(), qPrintable(why(e)));
    const std::string line = encodeEvent(*e);
    QVERIFY(line.size() > limits.maxEventBytes);
    const Result<LogEvent> back = decoder.decodeEvent(line);
    QVERIFY2(back.ok(), qPrintable(why(back)));
    QVERIFY(*back == *e);
}

void TestCoreCodec::customLimits()
{
    IngestLimits limits;
    limits.maxAttributes = 2;
    limits.maxDepth = 3;
    limits.maxEventBytes = 100;
    EventDecoder decoder(limits);
    QCOMPARE(decoder.limits().maxAttributes, std::size_t(2));
    QVERIFY(decoder.decodeIncoming(R"({"msg":"m","a":1,"b":[[1]]})", 0).ok());
    Result<LogEvent> r = decoder.decodeIncoming(R"({"msg":"m","a":1,"b":2,"c":3})", 0);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooMany);
    r = decoder.decodeIncoming(R"({"msg":"m","b":[[[1]]]})", 0);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooDeep);
    r = decoder.decodeIncoming(R"({"msg":")" + std::string(100, 'x') + R"("})", 0);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::TooLarge);
}

void TestCoreCodec::decoderIsReusableAfterErrors()
{
    EventDecoder decoder;
    QVERIFY(!decoder.decodeIncoming(R"({"msg":"m","a":1,"attrs":{"a":2}})", 1).ok());
    QVERIFY(!decoder.decodeIncoming("{\"msg\":\"\xff\"}", 1).ok());
    const Result<LogEvent> r = decoder.decodeIncoming(R"({"msg":"m","a":1})", 1);
    QVERIFY(r.ok());
    QCOMPARE(qs(r->attrsJson), QStringLiteral(R"({"a":1})"));
    QCOMPARE(r->tsNs, std::int64_t(1));
}

void TestCoreCodec::encodeCanonicalLayout()
{
    LogEvent e;
    e.id = "0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b";
    e.tsNs = 1700000000123456789;
    e.receivedNs = 1700000001000000000;
    e.level = Level::Error;
    e.app = "billing";
    e.host = "web-1";
    e.message = "boom \"x\"\n";
    e.attrsJson = R"({"user":"u1","n":3})";
    e.traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    e.spanId = "00f067aa0ba902b7";
    const std::string expected =
        R"({"v":1,"id":"0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b","ts":1700000000123456789,)"
        R"("rt":1700000001000000000,"level":"error","app":"billing","host":"web-1",)"
        R"("msg":"boom \"x\"\n","attrs":{"user":"u1","n":3},)"
        R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"})";
    QCOMPARE(qs(encodeEvent(e)), qs(expected));
    std::string line = "prefix ";
    appendEncodedEvent(line, e);
    QCOMPARE(qs(line), QStringLiteral("prefix ") + qs(encodeEvent(e)));
}

void TestCoreCodec::encodeOmitsEmptyIds()
{
    LogEvent e;
    e.id = "0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b";
    e.message = "m";
    e.attrsJson.clear(); // empty attributes are written as {}
    const std::string text = encodeEvent(e);
    QVERIFY(text.find("trace_id") == std::string::npos);
    QVERIFY(text.find("span_id") == std::string::npos);
    QVERIFY(text.find(R"("attrs":{})") != std::string::npos);
    const Result<LogEvent> back = decodeEvent(text);
    QVERIFY2(back.ok(), qPrintable(why(back)));
    QCOMPARE(qs(back->attrsJson), QStringLiteral("{}"));
    QVERIFY(back->traceId.empty() && back->spanId.empty());
}

void TestCoreCodec::encodeReplacesInvalidUtf8()
{
    LogEvent e;
    e.id = newEventId();
    e.message = "bad \xff byte";
    const Result<LogEvent> back = decodeEvent(encodeEvent(e));
    QVERIFY2(back.ok(), qPrintable(why(back)));
    QCOMPARE(qs(back->message), QStringLiteral("bad \uFFFD byte"));
}

void TestCoreCodec::decodeEventRejects_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("code");
    const QString base = QStringLiteral(
        R"("id":"0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b","ts":1,"rt":2,"level":"info",)"
        R"("app":"a","host":"h","msg":"m","attrs":{})");
    QTest::newRow("valid") << (QStringLiteral(R"({"v":1,)") + base + QStringLiteral("}"))
                           << QString();
    QTest::newRow("unknown keys ignored")
        << (QStringLiteral(R"({"v":1,)") + base + QStringLiteral(R"(,"future":[1]})")) << QString();
    QTest::newRow("version 2") << (QStringLiteral(R"({"v":2,)") + base + QStringLiteral("}"))
                               << QStringLiteral("bad_field");
    QTest::newRow("version 0") << (QStringLiteral(R"({"v":0,)") + base + QStringLiteral("}"))
                               << QStringLiteral("bad_field");
    QTest::newRow("version string") << (QStringLiteral(R"({"v":"1",)") + base + QStringLiteral("}"))
                                    << QStringLiteral("bad_field");
    QTest::newRow("no version") << (QStringLiteral("{") + base + QStringLiteral("}"))
                                << QStringLiteral("missing_field");
    QTest::newRow("no attrs")
        << QStringLiteral(
               R"({"v":1,"id":"x","ts":1,"rt":2,"level":"info","app":"a","host":"h","msg":"m"})")
        << QStringLiteral("missing_field");
    QTest::newRow("ts as string")
        << QStringLiteral(
               R"({"v":1,"id":"x","ts":"1","rt":2,"level":"info","app":"a","host":"h","msg":"m","attrs":{}})")
        << QStringLiteral("bad_field");
    QTest::newRow("attrs as array")
        << QStringLiteral(
               R"({"v":1,"id":"x","ts":1,"rt":2,"level":"info","app":"a","host":"h","msg":"m","attrs":[]})")
        << QStringLiteral("bad_field");
    QTest::newRow("bad level")
        << QStringLiteral(
               R"({"v":1,"id":"x","ts":1,"rt":2,"level":"loud","app":"a","host":"h","msg":"m","attrs":{}})")
        << QStringLiteral("bad_level");
    QTest::newRow("array") << QStringLiteral("[]") << QStringLiteral("not_an_object");
    QTest::newRow("truncated") << QStringLiteral(R"({"v":1,"id":)") << QStringLiteral("bad_json");
    QTest::newRow("empty") << QString() << QStringLiteral("bad_json");
}

void TestCoreCodec::decodeEventRejects()
{
    QFETCH(QString, input);
    QFETCH(QString, code);
    const QByteArray bytes = input.toUtf8();
    const Result<LogEvent> r = decodeEvent(std::string_view(bytes.constData(), bytes.size()));
    if (code.isEmpty()) {
        QVERIFY2(r.ok(), qPrintable(why(r)));
        return;
    }
    QVERIFY(!r.ok());
    QCOMPARE(qs(r.error().codeName()), code);
}

namespace {

// Random valid UTF-8 text with ASCII, every control character, quotes, backslashes and
// 2/3/4-byte sequences.
std::string randomText(std::mt19937_64 &rng, int maxLength)
{
    static const char *const kPieces[] = {"a",
                                          "Z",
                                          " ",
                                          "\"",
                                          "\\",
                                          "/",
                                          "\x01",
                                          "\x1f",
                                          "\n",
                                          "\t",
                                          "\r",
                                          "\b",
                                          "\f",
                                          "\x7f",
                                          "é",
                                          "ß",
                                          "日本",
                                          "€",
                                          "😀",
                                          "\xF4\x8F\xBF\xBF",
                                          "\xEF\xBF\xBF",
                                          "{}",
                                          "\0"};
    std::string out;
    const int length = static_cast<int>(rng() % static_cast<unsigned>(maxLength + 1));
    for (int i = 0; i < length; ++i) {
        const std::size_t k = rng() % std::size(kPieces);
        if (k == std::size(kPieces) - 1)
            out.push_back('\0');
        else
            out += kPieces[k];
    }
    return out;
}

void randomValue(std::mt19937_64 &rng, JsonWriter &w, int depth)
{
    switch (rng() % (depth > 4 ? 5 : 7)) {
    case 0:
        w.value(randomText(rng, 12));
        break;
    case 1:
        w.value(static_cast<std::int64_t>(rng()));
        break;
    case 2: {
        double d = 0;
        const std::uint64_t bits = rng();
        std::memcpy(&d, &bits, sizeof d);
        if (rng() % 2)
            d = static_cast<double>(static_cast<std::int64_t>(rng() % 2000001) - 1000000) / 64.0;
        w.value(d);
        break;
    }
    case 3:
        w.value(rng() % 2 == 0);
        break;
    case 4:
        w.null();
        break;
    case 5: {
        w.beginArray();
        for (int i = static_cast<int>(rng() % 4); i > 0; --i)
            randomValue(rng, w, depth + 1);
        w.endArray();
        break;
    }
    default: {
        w.beginObject();
        for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
            w.key(randomText(rng, 6));
            randomValue(rng, w, depth + 1);
        }
        w.endObject();
        break;
    }
    }
}

std::string randomHex(std::mt19937_64 &rng, int digits)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < digits; ++i)
        out.push_back(kHex[rng() % 16]);
    return out;
}

} // namespace

void TestCoreCodec::roundTripRandomEvents()
{
    std::mt19937_64 rng(20240229);
    for (int n = 0; n < 5000; ++n) {
        LogEvent e;
        e.id = newEventId();
        e.tsNs = static_cast<std::int64_t>(rng() >> 1);
        e.receivedNs = static_cast<std::int64_t>(rng() >> 1);
        e.level = static_cast<Level>(rng() % 6);
        e.app = randomText(rng, 8);
        e.host = randomText(rng, 8);
        e.message = randomText(rng, 64);
        e.attrsJson.clear();
        JsonWriter w(e.attrsJson);
        w.beginObject();
        for (int i = static_cast<int>(rng() % 6); i > 0; --i) {
            w.key(std::to_string(i) + randomText(rng, 5)); // unique keys
            randomValue(rng, w, 0);
        }
        w.endObject();
        if (rng() % 3)
            e.traceId = randomHex(rng, 32);
        if (rng() % 3)
            e.spanId = randomHex(rng, 16);

        const std::string text = encodeEvent(e);
        QVERIFY2(text.find('\n') == std::string::npos, "canonical line contains a raw newline");
        const Result<LogEvent> back = decodeEvent(text);
        QVERIFY2(back.ok(), qPrintable(why(back) + QStringLiteral(" in ") + qs(text)));
        if (!(*back == e)) {
            QCOMPARE(qs(back->message), qs(e.message));
            QCOMPARE(qs(back->attrsJson), qs(e.attrsJson));
            QFAIL(qPrintable(QStringLiteral("round trip differs: ") + qs(text)));
        }
    }
}

void TestCoreCodec::roundTripDecodedEvents()
{
    // Random native events (unknown fields, structured bodies) decode, then survive
    // encode -> decode unchanged.
    std::mt19937_64 rng(7);
    EventDecoder decoder;
    for (int n = 0; n < 2000; ++n) {
        std::string input;
        JsonWriter w(input);
        w.beginObject();
        w.key(rng() % 2 ? "msg" : "body");
        if (rng() % 2) {
            w.value(randomText(rng, 40));
        } else { // a structured body
            w.beginArray();
            randomValue(rng, w, 0);
            w.endArray();
        }
        for (int i = static_cast<int>(rng() % 5); i > 0; --i) {
            w.key("x" + std::to_string(i) + randomText(rng, 4));
            randomValue(rng, w, 0);
        }
        w.endObject();
        const Result<LogEvent> e = decoder.decodeIncoming(input, kReceivedNs);
        QVERIFY2(e.ok(), qPrintable(why(e) + QStringLiteral(" in ") + qs(input)));
        const Result<LogEvent> back = decodeEvent(encodeEvent(*e));
        QVERIFY2(back.ok(), qPrintable(why(back)));
        QVERIFY2(*back == *e, qPrintable(qs(input)));
    }
}

QTEST_APPLESS_MAIN(TestCoreCodec)
#include "test_core_codec.moc"
