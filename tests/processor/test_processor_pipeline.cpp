// Per-event pipeline: decoding (canonical and native), normalization (levels, timestamps,
// attribute depth/key/size limits), enrichment, redaction inside attributes, sampling,
// poison and transient outcomes.
#include "idl/core/json_codec.h"
#include "idl/processor/pipeline.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace idl;
using namespace idl::processor;

namespace {

constexpr std::int64_t kRt = 1'700'000'000'000'000'000;

LogEvent baseEvent()
{
    LogEvent e;
    e.id = "0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b";
    e.tsNs = kRt - 5'000'000;
    e.receivedNs = kRt;
    e.level = Level::Warn;
    e.app = "checkout";
    e.host = "web-1";
    e.message = "payment retried";
    e.attrsJson = R"({"order":42,"ok":true,"ratio":0.5,"tags":["a","b"],"n":null})";
    return e;
}

std::unique_ptr<Pipeline> makePipeline(PipelineOptions opt = {}, std::string sampleRules = {})
{
    auto redactor = Redactor::create(builtinRedactionRules());
    auto rules = parseSampleRules(sampleRules);
    if (!redactor || !rules)
        qFatal("setup");
    return std::make_unique<Pipeline>(std::move(opt),
                                      std::shared_ptr<const Redactor>(std::move(redactor).value()),
                                      std::make_shared<const Sampler>(std::move(rules).value()));
}

RecordInfo info(int attempt = 0)
{
    RecordInfo i;
    i.nowNs = kRt + 1'000'000'000;
    i.attempt = attempt;
    return i;
}

QJsonObject attrsOf(const LogEvent &e)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(e.attrsJson)).object();
}

} // namespace

class TestProcessorPipeline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void canonicalPassesThroughUnchanged();
    void outputIsCanonicalAndDecodes();
    void enrichmentFromHeadersAndDefaults();
    void nativeFormatAccepted();
    void timestamps();
    void attributeDepthFlattened();
    void attributeKeyLimit();
    void attributeValueAndMessageTruncated();
    void reservedAttributesCannotBeForged();
    void redactsMessageAndAttributes();
    void keyRulesReachEveryDepth();
    void keyRulesReachStructuredBodies();
    void matcherErrorFailsClosed();
    void retryAndDeadLetterCopiesRedacted();
    void badTraceIdsMoved();
    void poison_data();
    void poison();
    void transientTestRule();
    void sampling();
    void sampleRuleParsing();
};

void TestProcessorPipeline::canonicalPassesThroughUnchanged()
{
    auto p = makePipeline();
    const LogEvent in = baseEvent();
    LogEvent out;
    const PipelineResult r = p->processEvent(encodeEvent(in), info(), out);
    QCOMPARE(r.outcome, Outcome::Produce);
    QCOMPARE(r.app, std::string("checkout"));
    QCOMPARE(r.level, Level::Warn);
    QCOMPARE(r.redactions, 0u);
    QCOMPARE(out, in);
}

void TestProcessorPipeline::outputIsCanonicalAndDecodes()
{
    auto p = makePipeline();
    std::string out = "prefix|";
    const PipelineResult r = p->process(encodeEvent(baseEvent()), info(), out);
    QCOMPARE(r.outcome, Outcome::Produce);
    QVERIFY(out.starts_with("prefix|{\"v\":1,"));
    const auto decoded = decodeEvent(std::string_view(out).substr(7));
    QVERIFY(decoded.ok());
    QCOMPARE(decoded->message, std::string("payment retried"));
}

void TestProcessorPipeline::enrichmentFromHeadersAndDefaults()
{
    PipelineOptions opt;
    opt.defaultHost = "unknown-host";
    auto p = makePipeline(opt);
    LogEvent in = baseEvent();
    in.app.clear();
    in.host.clear();
    in.receivedNs = 0;
    RecordInfo i = info();
    i.key = "key-app";
    i.collector = "collector-7";
    i.keyId = "k_123";
    i.recordTimestampMs = kRt / 1'000'000 + 3;
    LogEvent out;
    QCOMPARE(p->processEvent(encodeEvent(in), i, out).outcome, Outcome::Produce);
    QCOMPARE(out.app, std::string("key-app"));
    QCOMPARE(out.host, std::string("unknown-host"));
    QCOMPARE(out.receivedNs, (kRt / 1'000'000 + 3) * 1'000'000);
    const QJsonObject a = attrsOf(out);
    QCOMPARE(a.value(QStringLiteral("idl.collector")).toString(), QStringLiteral("collector-7"));
    QCOMPARE(a.value(QStringLiteral("idl.key_id")).toString(), QStringLiteral("k_123"));
    QCOMPARE(a.value(QStringLiteral("order")).toInt(), 42);
    QCOMPARE(p->stats().defaultedApp, 1u);
    QCOMPARE(p->stats().defaultedHost, 1u);

    // No key either: the configured default app.
    i.key.reset();
    QCOMPARE(p->processEvent(encodeEvent(in), i, out).outcome, Outcome::Produce);
    QCOMPARE(out.app, std::string("unknown"));
}

void TestProcessorPipeline::nativeFormatAccepted()
{
    auto p = makePipeline();
    RecordInfo i = info();
    i.recordTimestampMs = kRt / 1'000'000;
    LogEvent out;
    const auto r = p->processEvent(
        R"({"timestamp":"2023-11-14T22:13:20Z","severity":"WARNING","service":"api","msg":"hi","user":"u1"})",
        i, out);
    QCOMPARE(r.outcome, Outcome::Produce);
    QCOMPARE(out.level, Level::Warn);
    QCOMPARE(out.app, std::string("api"));
    QCOMPARE(out.tsNs, std::int64_t(1'700'000'000) * 1'000'000'000);
    QCOMPARE(out.receivedNs, kRt);
    QCOMPARE(attrsOf(out).value(QStringLiteral("user")).toString(), QStringLiteral("u1"));
    QVERIFY(!out.id.empty());
    QCOMPARE(p->stats().nativeFormat, 1u);
}

void TestProcessorPipeline::timestamps()
{
    auto p = makePipeline();
    LogEvent in = baseEvent();
    LogEvent out;
    // Far in the future: event time becomes the receive time, original kept.
    in.tsNs = kRt + 2 * 3600LL * 1'000'000'000;
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QCOMPARE(out.tsNs, kRt);
    QCOMPARE(attrsOf(out).value(QStringLiteral("idl.orig_ts")).toDouble(),
             static_cast<double>(in.tsNs));
    QCOMPARE(p->stats().futureTimestamps, 1u);
    // Slightly in the future (clock skew within the limit): kept.
    in.tsNs = kRt + 10'000'000'000;
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QCOMPARE(out.tsNs, in.tsNs);
    // Missing (0): the receive time.
    in.tsNs = 0;
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QCOMPARE(out.tsNs, kRt);
    QCOMPARE(p->stats().missingTimestamps, 1u);
}

void TestProcessorPipeline::attributeDepthFlattened()
{
    PipelineOptions opt;
    opt.maxAttrDepth = 2;
    auto p = makePipeline(opt);
    LogEvent in = baseEvent();
    in.attrsJson = R"({"a":{"b":{"c":{"d":1}}},"flat":1,"arr":[[1,[2]]]})";
    LogEvent out;
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    // depth 1 = a's value, depth 2 = b's value: kept as structure up to the limit, deeper
    // values become their JSON text.
    QCOMPARE(out.attrsJson,
             std::string(
                 "{\"a\":{\"b\":\"{\\\"c\\\":{\\\"d\\\":1}}\"},\"flat\":1,\"arr\":[\"[1,[2]]\"]}"));
    QCOMPARE(p->stats().attrsFlattened, 2u);
}

void TestProcessorPipeline::attributeKeyLimit()
{
    PipelineOptions opt;
    opt.maxAttrKeys = 3;
    auto p = makePipeline(opt);
    LogEvent in = baseEvent();
    in.attrsJson = R"({"k1":1,"k2":{"x":1,"y":2},"k3":3,"k4":4})";
    LogEvent out;
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QCOMPARE(out.attrsJson, std::string(R"({"k1":1,"k2":{"x":1},"idl.dropped_attrs":3})"));
    QCOMPARE(p->stats().attrsDropped, 3u);
}

void TestProcessorPipeline::attributeValueAndMessageTruncated()
{
    PipelineOptions opt;
    opt.maxValueBytes = 8;
    opt.maxMessageBytes = 10;
    auto p = makePipeline(opt);
    LogEvent in = baseEvent();
    in.message = "0123456789abcdef";
    // "ééééé" is 10 bytes: the cut must not split a two-byte sequence.
    in.attrsJson = R"({"s":"ééééé","short":"ok"})";
    LogEvent out;
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QCOMPARE(out.message, std::string("0123456789"));
    const QJsonObject a = attrsOf(out);
    QCOMPARE(a.value(QStringLiteral("s")).toString(), QStringLiteral("éééé"));
    QCOMPARE(a.value(QStringLiteral("short")).toString(), QStringLiteral("ok"));
    QCOMPARE(a.value(QStringLiteral("idl.truncated")).toInt(), 2); // message + one value
    QCOMPARE(p->stats().messagesTruncated, 1u);
    QCOMPARE(p->stats().valuesTruncated, 1u);
}

void TestProcessorPipeline::reservedAttributesCannotBeForged()
{
    auto p = makePipeline();
    LogEvent in = baseEvent();
    in.attrsJson = R"({"idl.collector":"forged","x":1})";
    RecordInfo i = info();
    i.collector = "real";
    LogEvent out;
    QCOMPARE(p->processEvent(encodeEvent(in), i, out).outcome, Outcome::Produce);
    QCOMPARE(out.attrsJson, std::string(R"({"x":1,"idl.collector":"real","idl.dropped_attrs":1})"));
}

void TestProcessorPipeline::redactsMessageAndAttributes()
{
    auto p = makePipeline();
    LogEvent in = baseEvent();
    in.message = "auth with Bearer abcdefghijklmnop failed";
    in.attrsJson = "{\"password\":\"hunter2\",\"nested\":{\"url\":\"https://u:pw@h/"
                   "x\",\"n\":[{\"token\":5}]},\"card\":\"4111 1111 1111 1111\"}";
    LogEvent out;
    const PipelineResult r = p->processEvent(encodeEvent(in), info(), out);
    QCOMPARE(r.outcome, Outcome::Produce);
    QCOMPARE(r.redactions, 5u);
    QCOMPARE(out.message, std::string("auth with Bearer [REDACTED] failed"));
    QCOMPARE(
        out.attrsJson,
        std::string("{\"password\":\"[REDACTED]\",\"nested\":{\"url\":\"https://u:[REDACTED]@h/"
                    "x\",\"n\":[{\"token\":\"[REDACTED]\"}]},\"card\":\"[REDACTED-CARD]\"}"));
    std::uint64_t total = 0;
    for (const auto n : p->stats().redactedByRule)
        total += n;
    QCOMPARE(total, 5u);
}

// Issue 15 finding 6b: key rules (secret_keys: cookie, authorization, x-api-key, ...) apply at
// any depth, also below limits.max-attr-depth where a value is kept as its JSON text.
void TestProcessorPipeline::keyRulesReachEveryDepth()
{
    const std::string secretAt12 =
        "{\"l1\":{\"l2\":{\"l3\":{\"l4\":{\"l5\":{\"l6\":{\"l7\":{\"l8\":{\"l9\":"
        "{\"l10\":{\"l11\":{\"cookie\":\"sid=deep-cookie-12\",\"ok\":1}}}}}}}}}}}}";
    for (const std::size_t depth : {std::size_t(8), std::size_t(2)}) {
        PipelineOptions opt;
        opt.maxAttrDepth = depth;
        auto p = makePipeline(opt);
        LogEvent in = baseEvent();
        in.attrsJson = "{\"a\":{\"b\":{\"c\":{\"authorization\":\"Basic "
                       "c2VjcmV0OnBhc3M=\",\"x\":[{\"x-api-key\":\"k-deep-3\"}]}}},\"deep\":" +
                       secretAt12 + "}";
        LogEvent out;
        QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
        const std::string where = "depth " + std::to_string(depth) + ": " + out.attrsJson;
        for (const char *secret : {"c2VjcmV0OnBhc3M", "k-deep-3", "deep-cookie-12"}) {
            QVERIFY2(out.attrsJson.find(secret) == std::string::npos, where.c_str());
        }
        QVERIFY(out.attrsJson.find("ok") != std::string::npos); // the rest is kept
        QVERIFY(p->stats().attrsFlattened > 0);
    }
}

// Issue 15 finding 6b: a structured body (a JSON object/array message, or OTLP's kvlist body
// kept as its JSON text) gets the key rules too, before the message is truncated.
void TestProcessorPipeline::keyRulesReachStructuredBodies()
{
    auto p = makePipeline();
    LogEvent out;
    // Native format: the message is a JSON object.
    const std::string native =
        "{\"app\":\"api\",\"message\":{\"user\":\"bob\",\"cookie\":\"sid=body-cookie-1\",\"calls\":"
        "[{\"authorization\":\"Basic body-auth-2\"}]}}";
    QCOMPARE(p->processEvent(native, info(), out).outcome, Outcome::Produce);
    QVERIFY2(out.message.find("body-cookie-1") == std::string::npos, out.message.c_str());
    QVERIFY2(out.message.find("body-auth-2") == std::string::npos, out.message.c_str());
    QVERIFY2(out.message.find("bob") != std::string::npos, out.message.c_str());
    // Canonical event whose msg is JSON text (an OTLP kvlist body).
    LogEvent in = baseEvent();
    in.message = "{\"x-api-key\":\"body-key-3\",\"n\":[1,2]}";
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QVERIFY2(out.message.find("body-key-3") == std::string::npos, out.message.c_str());
    // Redacted before the message is cut: a cut body is no longer JSON.
    PipelineOptions opt;
    opt.maxMessageBytes = 40;
    auto small = makePipeline(opt);
    in.message = "{\"set-cookie\":\"sid=cut-cookie-4\",\"pad\":\"" + std::string(100, 'x') + "\"}";
    QCOMPARE(small->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QVERIFY2(out.message.find("cut-cookie-4") == std::string::npos, out.message.c_str());
    QVERIFY(out.message.size() <= 40);
}

// Issue 15 finding 6a, in the pipeline: a value the matcher fails on is replaced whole and
// counted (idl_processor_redaction_failures_total).
void TestProcessorPipeline::matcherErrorFailsClosed()
{
    RedactorOptions ro;
    ro.injectMatchError = [](std::string_view t) {
        return t.find("BOOM") != std::string_view::npos;
    };
    auto redactor = Redactor::create(builtinRedactionRules(), ro);
    QVERIFY(redactor.ok());
    Pipeline p({}, std::shared_ptr<const Redactor>(std::move(redactor).value()), nullptr);
    LogEvent in = baseEvent();
    in.message = "BOOM user=bob pin 1234";
    in.attrsJson = "{\"note\":\"BOOM again\",\"ok\":\"fine\"}";
    LogEvent out;
    QCOMPARE(p.processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QCOMPARE(out.message, std::string(kRedactionFailed));
    QCOMPARE(attrsOf(out).value(QStringLiteral("note")).toString().toStdString(),
             std::string(kRedactionFailed));
    QCOMPARE(attrsOf(out).value(QStringLiteral("ok")).toString(), QStringLiteral("fine"));
    QCOMPARE(p.stats().redactionFailures, 2u);
}

// Issue 15 finding 6c, the copy itself: what goes to the retry / dead-letter topic.
void TestProcessorPipeline::retryAndDeadLetterCopiesRedacted()
{
    auto p = makePipeline();
    std::string copy;
    // Nothing to redact: the original bytes.
    const std::string plain = encodeEvent(baseEvent());
    QCOMPARE(p->redactPayload(plain, copy), PayloadForm::Original);
    // A canonical event: still canonical (replayable), secrets gone at every depth.
    LogEvent in = baseEvent();
    in.message = "retry with Bearer abcdefghijklmnop";
    in.attrsJson = "{\"deep\":{\"a\":[{\"cookie\":\"sid=c1\"}]},\"password\":\"p1\",\"n\":7}";
    QCOMPARE(p->redactPayload(encodeEvent(in), copy), PayloadForm::Redacted);
    const auto decoded = decodeEvent(copy);
    QVERIFY2(decoded.ok(), copy.c_str());
    QCOMPARE(decoded->id, in.id);
    QCOMPARE(decoded->message, std::string("retry with Bearer [REDACTED]"));
    QCOMPARE(decoded->attrsJson, std::string("{\"deep\":{\"a\":[{\"cookie\":\"[REDACTED]\"}]},"
                                             "\"password\":\"[REDACTED]\",\"n\":7}"));
    // Idempotent: redacting the copy again changes nothing.
    std::string again;
    QVERIFY(p->redactPayload(copy, again) != PayloadForm::Redacted || again == copy);
    // Not JSON: key rules on the "key": value pairs found, text rules on the rest.
    const std::string broken =
        "{\"v\":1,\"msg\":\"password=p2\",\"cookie\" : {\"a\":\"}\"},\"x\":1,\"token\":\"t";
    QCOMPARE(p->redactPayload(broken, copy), PayloadForm::Redacted);
    QCOMPARE(copy, std::string("{\"v\":1,\"msg\":\"password=[REDACTED]\",\"cookie\" : "
                               "\"[REDACTED]\",\"x\":1,\"token\":\"[REDACTED]\""));
    // Not UTF-8: handled the same way, the bad bytes kept.
    QCOMPARE(p->redactPayload("{\"v\":1,\"id\":\"\xff\",\"cookie\":\"sid=c2\"}", copy),
             PayloadForm::Redacted);
    QCOMPARE(copy, std::string("{\"v\":1,\"id\":\"\xff\",\"cookie\":\"[REDACTED]\"}"));
    // The event's own redaction counts are untouched by the copies.
    for (const auto n : p->stats().redactedByRule)
        QCOMPARE(n, 0u);
    // The matcher fails on a value that is not JSON: withheld.
    RedactorOptions ro;
    ro.injectMatchError = [](std::string_view t) {
        return t.find("BOOM") != std::string_view::npos;
    };
    Pipeline failing(
        {}, std::shared_ptr<const Redactor>(Redactor::create(builtinRedactionRules(), ro).value()),
        nullptr);
    QCOMPARE(failing.redactPayload("BOOM {not json", copy), PayloadForm::Withheld);
    QCOMPARE(copy, std::string(kRedactionFailed));
    QCOMPARE(failing.stats().redactionFailures, 1u);
    QCOMPARE(p->redactText("level 'token=abc' unknown"),
             std::string("level 'token=[REDACTED] unknown"));
}

void TestProcessorPipeline::badTraceIdsMoved()
{
    auto p = makePipeline();
    LogEvent in = baseEvent();
    in.traceId = "4BF92F3577B34DA6A3CE929D0E0E4736";
    in.spanId = "xyz";
    LogEvent out;
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    QCOMPARE(out.traceId, std::string("4bf92f3577b34da6a3ce929d0e0e4736"));
    QVERIFY(out.spanId.empty());
    QCOMPARE(attrsOf(out).value(QStringLiteral("idl.bad_span_id")).toString(),
             QStringLiteral("xyz"));
}

void TestProcessorPipeline::poison_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QString>("code");
    QTest::newRow("not json") << QByteArray("{\"v\":1,garbage") << QStringLiteral("bad_json");
    QTest::newRow("not an object") << QByteArray("[1,2]") << QStringLiteral("not_an_object");
    QTest::newRow("bad utf8") << QByteArray("{\"v\":1,\"id\":\"\xff\"}")
                              << QStringLiteral("invalid_utf8");
    QTest::newRow("unknown version")
        << QByteArray(
               R"({"v":9,"id":"x","ts":1,"rt":1,"level":"info","app":"a","host":"h","msg":"m","attrs":{}})")
        << QStringLiteral("bad_field");
    QTest::newRow("bad level")
        << QByteArray(
               R"({"v":1,"id":"x","ts":1,"rt":1,"level":"loud","app":"a","host":"h","msg":"m","attrs":{}})")
        << QStringLiteral("bad_level");
    QTest::newRow("missing msg")
        << QByteArray(
               R"({"v":1,"id":"x","ts":1,"rt":1,"level":"info","app":"a","host":"h","attrs":{}})")
        << QStringLiteral("missing_field");
    QTest::newRow("too large") << QByteArray(300 * 1024, 'x') << QStringLiteral("too_large");
    QTest::newRow("empty") << QByteArray() << QStringLiteral("bad_json");
}

void TestProcessorPipeline::poison()
{
    QFETCH(QByteArray, value);
    QFETCH(QString, code);
    auto p = makePipeline();
    std::string out;
    const PipelineResult r =
        p->process(std::string_view(value.constData(), value.size()), info(), out);
    QCOMPARE(r.outcome, Outcome::Poison);
    QCOMPARE(QString::fromUtf8(r.error.codeName().data(), r.error.codeName().size()), code);
    QVERIFY(!r.error.message.empty());
    QVERIFY(out.empty());
}

void TestProcessorPipeline::transientTestRule()
{
    PipelineOptions opt;
    opt.transientMarker = "FAILTIMES:";
    auto p = makePipeline(opt);
    LogEvent in = baseEvent();
    in.message = "flaky FAILTIMES:2 op";
    const std::string value = encodeEvent(in);
    LogEvent out;
    QCOMPARE(p->processEvent(value, info(0), out).outcome, Outcome::Transient);
    const PipelineResult r1 = p->processEvent(value, info(1), out);
    QCOMPARE(r1.outcome, Outcome::Transient);
    QCOMPARE(r1.error.code, ErrorCode::Unavailable);
    QCOMPARE(p->processEvent(value, info(2), out).outcome, Outcome::Produce);
    // Off by default: the same event is fine without the test rule.
    auto plain = makePipeline();
    QCOMPARE(plain->processEvent(value, info(0), out).outcome, Outcome::Produce);
}

void TestProcessorPipeline::sampling()
{
    auto p = makePipeline({}, "app=checkout level<=debug keep=0; level=trace keep=0.25");
    LogEvent in = baseEvent();
    LogEvent out;
    in.level = Level::Debug;
    PipelineResult r = p->processEvent(encodeEvent(in), info(), out);
    QCOMPARE(r.outcome, Outcome::Drop);
    QCOMPARE(r.dropRule, 0u);
    in.app = "other";
    QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, Outcome::Produce);
    in.level = Level::Trace;
    int kept = 0;
    for (int i = 0; i < 4000; ++i) {
        in.id = "id-" + std::to_string(i);
        r = p->processEvent(encodeEvent(in), info(), out);
        if (r.outcome == Outcome::Produce)
            ++kept;
        else
            QCOMPARE(r.dropRule, 1u);
        // Deterministic: the same id gets the same decision every time.
        QCOMPARE(p->processEvent(encodeEvent(in), info(), out).outcome, r.outcome);
    }
    QVERIFY2(kept > 850 && kept < 1150, qPrintable(QString::number(kept)));
}

void TestProcessorPipeline::sampleRuleParsing()
{
    auto rules = parseSampleRules(" app=a level>warn keep=0.5 ;level<info keep=0;");
    QVERIFY(rules.ok());
    QCOMPARE(rules->size(), 2u);
    QCOMPARE(rules->at(0).minLevel, Level::Error);
    QCOMPARE(rules->at(0).maxLevel, Level::Fatal);
    QCOMPARE(rules->at(1).maxLevel, Level::Debug);
    QVERIFY(!parseSampleRules("app=a").ok());
    QVERIFY(!parseSampleRules("level=loud keep=0").ok());
    QVERIFY(!parseSampleRules("keep=2").ok());
    QVERIFY(!parseSampleRules("colour=red keep=1").ok());
    QVERIFY(!parseSampleRules("level<trace keep=0").ok());
}

QTEST_APPLESS_MAIN(TestProcessorPipeline)
#include "test_processor_pipeline.moc"
