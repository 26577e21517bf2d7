// Collector pieces without servers: API keys, the status table, content negotiation, bounded
// decompression, batch splitting with per-event errors, OTLP JSON mapping (the examples from
// the OpenTelemetry specification), the rate limiter and the key cache.
#include "collector_test_util.h"
#include "otlp_spec_examples.h"

#include "idl/collector/api_key.h"
#include "idl/collector/authenticator.h"
#include "idl/collector/ingest.h"
#include "idl/collector/ingest_decoder.h"
#include "idl/core/json_codec.h"
#include "idl/service/auth/secret.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

#include <google/protobuf/util/json_util.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

using namespace idl;
using namespace idl::collector;
using namespace idl::collectortest;

namespace {

namespace otlpv1 = opentelemetry::proto;

// An OTLP/JSON request in the protobuf encoding: hex trace/span ids (OTLP/JSON) become bytes,
// the rest is protobuf's own JSON mapping.
std::string toProtobuf(const QByteArray &otlpJson)
{
    std::function<void(QJsonValueRef)> walk = [&](QJsonValueRef v) {
        if (v.isArray()) {
            QJsonArray a = v.toArray();
            for (auto item : a)
                walk(item);
            v = a;
        } else if (v.isObject()) {
            QJsonObject o = v.toObject();
            for (auto it = o.begin(); it != o.end(); ++it) {
                if (it.key() == QStringLiteral("traceId") || it.key() == QStringLiteral("spanId"))
                    it.value() = QString::fromLatin1(
                        QByteArray::fromHex(it.value().toString().toLatin1()).toBase64());
                else
                    walk(it.value());
            }
            v = o;
        }
    };
    QJsonArray root{QJsonDocument::fromJson(otlpJson).object()};
    walk(root[0]);
    otlpv1::collector::logs::v1::ExportLogsServiceRequest req;
    const auto json = QJsonDocument(root[0].toObject()).toJson().toStdString();
    const auto status = google::protobuf::util::JsonStringToMessage(json, &req);
    if (!status.ok())
        qFatal("not an OTLP request: %s", status.ToString().c_str());
    return req.SerializeAsString();
}

constexpr std::int64_t kNow = 1'700'000'000'000'000'000;

QJsonObject attrs(const LogEvent &e)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(e.attrsJson)).object();
}

Result<DecodedBatch> native(std::string_view body, BodyFormat format, BatchLimits limits = {},
                            IngestLimits eventLimits = {}, const EventCheck &check = {})
{
    EventDecoder decoder(eventLimits);
    return decodeNativeBatch(body, format, decoder, kNow, limits, check);
}

} // namespace

class TestCollectorUnit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void apiKeys()
    {
        const NewApiKey k = generateApiKey();
        QCOMPARE(k.key.size(), 4 + kKeyPrefixLength + 1 + kKeySecretLength);
        QVERIFY(k.key.starts_with("idl_"));
        QCOMPARE(apiKeyPrefix(k.key).value_or(""), std::string_view(k.prefix));
        QCOMPARE(k.hash.size(), std::size_t(32));
        QCOMPARE(k.hash, auth::hashSecret(k.key));
        QVERIFY(auth::secretMatches(k.key, k.hash));
        std::string wrong = k.key;
        wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
        QVERIFY(apiKeyPrefix(wrong).has_value());
        QVERIFY(!auth::secretMatches(wrong, k.hash));
        // Two keys never share prefix or secret.
        const NewApiKey k2 = generateApiKey();
        QVERIFY(k2.prefix != k.prefix && k2.key != k.key);
        for (std::string_view bad :
             {"", "idl_", "xyz_abcdefghijkl_0123456789012345678901234567890123456789",
              "idl_ABCDEFGHIJKL_0123456789012345678901234567890123456789",
              "idl_abcdefghijkl-0123456789012345678901234567890123456789",
              "idl_abcdefghijkl_012345678901234567890123456789012345678"})
            QVERIFY2(!apiKeyPrefix(bad), std::string(bad).c_str());
        QCOMPARE(toHex(std::string("\x00\xff\x10", 3)), std::string("00ff10"));
        QCOMPARE(fromHex("00fF10").value_or("?"), std::string("\x00\xff\x10", 3));
        QVERIFY(!fromHex("0").has_value());  // odd length
        QVERIFY(!fromHex("0g").has_value()); // not hex
        QCOMPARE(fromHex("").value_or("?"), std::string());
    }

    // Idempotency-Key (docs/ingest.md): the draft's sf-string or bare, 1..max bytes of visible
    // ASCII other than '"' and '\\'; anything else BadRequest.
    void idempotencyKeyValues()
    {
        using idl::collector::parseIdempotencyKey;
        QCOMPARE(*parseIdempotencyKey("\"8e03978e-40d5\"", 255), std::string_view("8e03978e-40d5"));
        QCOMPARE(*parseIdempotencyKey("batch-17", 255), std::string_view("batch-17"));
        QCOMPARE(*parseIdempotencyKey(std::string(255, 'k'), 255),
                 std::string_view(std::string(255, 'k')));
        for (const std::string &bad :
             {std::string("\"\""), std::string(256, 'k'), std::string("two words"),
              std::string("back\\slash"), std::string("quo\"te"), std::string("caf\xc3\xa9"),
              std::string("tab\there"), std::string("\"unterminated")}) {
            auto r = parseIdempotencyKey(bad, 255);
            QVERIFY2(!r.ok(), bad.c_str());
            QCOMPARE(r.error().code, idl::ErrorCode::BadRequest);
        }
    }

    void contentNegotiation()
    {
        QCOMPARE(parseNativeContentType("application/json").value(), BodyFormat::Json);
        QCOMPARE(parseNativeContentType("Application/JSON; charset=utf-8").value(),
                 BodyFormat::Json);
        QCOMPARE(parseNativeContentType("application/x-ndjson").value(), BodyFormat::Ndjson);
        QCOMPARE(parseNativeContentType("application/jsonl").value(), BodyFormat::Ndjson);
        for (const char *bad : {"", "text/plain", "application/x-www-form-urlencoded",
                                "application/json; charset=latin1", "application/x-protobuf"}) {
            auto r = parseNativeContentType(bad);
            QVERIFY2(!r && r.error().code == ErrorCode::BadEncoding, bad);
        }
        QCOMPARE(parseContentEncoding("").value(), ContentEncoding::Identity);
        QCOMPARE(parseContentEncoding("GZIP").value(), ContentEncoding::Gzip);
        QCOMPARE(parseContentEncoding("zstd").value(), ContentEncoding::Zstd);
        QCOMPARE(parseContentEncoding("br").error().code, ErrorCode::BadEncoding);
        QCOMPARE(mediaType(" Application/Json ; charset=utf-8"), std::string("application/json"));
    }

    void decompression()
    {
        std::string text;
        for (int i = 0; i < 5000; ++i)
            text += "{\"message\":\"line " + std::to_string(i) + "\"}\n";
        QCOMPARE(decompress(gzip(text), ContentEncoding::Gzip, 1 << 20).value(), text);
        QCOMPARE(decompress(zstd(text), ContentEncoding::Zstd, 1 << 20).value(), text);
        // Two concatenated gzip members are one body.
        QCOMPARE(decompress(gzip("ab") + gzip("cd"), ContentEncoding::Gzip, 100).value(),
                 std::string("abcd"));
        // Exactly at the limit is fine; one byte over is not.
        QVERIFY(decompress(gzip(text), ContentEncoding::Gzip, text.size()).ok());
        QCOMPARE(decompress(gzip(text), ContentEncoding::Gzip, text.size() - 1).error().code,
                 ErrorCode::TooLarge);
        QCOMPARE(decompress(zstd(text), ContentEncoding::Zstd, text.size() - 1).error().code,
                 ErrorCode::TooLarge);
        QCOMPARE(decompress(text, ContentEncoding::Identity, text.size() - 1).error().code,
                 ErrorCode::TooLarge);
        // Corrupt and truncated data are bad requests, not crashes.
        std::string gz = gzip(text);
        QCOMPARE(
            decompress(gz.substr(0, gz.size() / 2), ContentEncoding::Gzip, 1 << 20).error().code,
            ErrorCode::BadRequest);
        gz[gz.size() / 2] ^= 0x55;
        gz[gz.size() / 2 + 1] ^= 0x55;
        QVERIFY(!decompress(gz, ContentEncoding::Gzip, 1 << 20).ok());
        QCOMPARE(decompress("not gzip", ContentEncoding::Gzip, 100).error().code,
                 ErrorCode::BadRequest);
        QCOMPARE(decompress("not zstd", ContentEncoding::Zstd, 100).error().code,
                 ErrorCode::BadRequest);
        const std::string z = zstd(text);
        QCOMPARE(decompress(z.substr(0, z.size() - 5), ContentEncoding::Zstd, 1 << 20).error().code,
                 ErrorCode::BadRequest);
    }

    void decompressionBomb()
    {
        // 256 MiB of zeros in about 250 KiB of gzip: stopped at the 5 MiB limit, quickly.
        const std::string bomb = gzipZeros(std::size_t(256) << 20);
        QVERIFY(bomb.size() < (std::size_t(2) << 20));
        QElapsedTimer t;
        t.start();
        auto r = decompress(bomb, ContentEncoding::Gzip, 5 << 20);
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::TooLarge);
        QVERIFY2(t.elapsed() < 2000, "the bomb was decompressed past the limit");
        // zstd: a 64 MiB frame of zeros in a few KiB.
        std::string zeros(std::size_t(64) << 20, '\0');
        const std::string zbomb = zstd(zeros, 19);
        QVERIFY(zbomb.size() < 64 * 1024);
        QCOMPARE(decompress(zbomb, ContentEncoding::Zstd, 5 << 20).error().code,
                 ErrorCode::TooLarge);
    }

    void ndjsonKeepsValidLines()
    {
        std::string body = "{\"message\":\"one\",\"app\":\"a\"}\n"
                           "{\"message\":\"two\"\n"              // malformed
                           "\n"                                  // blank: skipped
                           "{\"message\":\"bad \xff utf8\"}\r\n" // invalid UTF-8
                           "[1,2]\n"                             // not an object
                           "{\"msg\":\"three\",\"level\":\"warn\",\"extra\":5}\r\n";
        body += "{\"message\":\"" + std::string(300 * 1024, 'x') + "\"}\n"; // oversized
        body += "{\"no_message\":1}"; // missing message, no trailing newline
        auto r = native(body, BodyFormat::Ndjson);
        QVERIFY(r.ok());
        QCOMPARE(r->total, std::size_t(7));
        QCOMPARE(r->events.size(), std::size_t(2));
        QCOMPARE(r->events[0].message, std::string("one"));
        QCOMPARE(r->events[0].app, std::string("a"));
        QCOMPARE(r->events[0].receivedNs, kNow);
        QCOMPARE(r->events[1].message, std::string("three"));
        QCOMPARE(r->events[1].level, Level::Warn);
        QCOMPARE(attrs(r->events[1]).value(QStringLiteral("extra")).toInt(), 5);
        QVERIFY(r->events[0].id != r->events[1].id);
        QCOMPARE(r->rejected, std::size_t(5));
        QCOMPARE(r->errors.size(), std::size_t(5));
        const std::pair<std::size_t, ErrorCode> expected[] = {{1, ErrorCode::BadJson},
                                                              {2, ErrorCode::InvalidUtf8},
                                                              {3, ErrorCode::NotAnObject},
                                                              {5, ErrorCode::TooLarge},
                                                              {6, ErrorCode::MissingField}};
        for (std::size_t i = 0; i < 5; ++i) {
            QCOMPARE(r->errors[i].index, expected[i].first);
            QCOMPARE(r->errors[i].error.codeName(), errorCodeName(expected[i].second));
        }
        QVERIFY(!r->common.has_value());
    }

    void arrayAndSingleObject()
    {
        auto r = native(" [ {\"message\":\"a, [still] \\\"quoted\\\" {\"}, {\"message\":1}, 5,\n"
                        "  {\"message\":\"b\",\"attrs\":{\"k\":[1,{\"x\":\"]\"}]}} ] ",
                        BodyFormat::Json);
        QVERIFY(r.ok());
        QCOMPARE(r->total, std::size_t(4));
        QCOMPARE(r->events.size(), std::size_t(3));
        QCOMPARE(r->events[0].message, std::string("a, [still] \"quoted\" {"));
        QCOMPARE(r->events[1].message, std::string("1"));
        QCOMPARE(r->events[2].message, std::string("b"));
        QCOMPARE(r->errors.at(0).index, std::size_t(2));
        QCOMPARE(r->errors.at(0).error.code, ErrorCode::NotAnObject);

        auto one = native(R"({"message":"solo",
                              "ts":"2024-01-02T03:04:05Z"})",
                          BodyFormat::Json);
        QVERIFY(one.ok());
        QCOMPARE(one->events.size(), std::size_t(1));
        QCOMPARE(one->events[0].tsNs, std::int64_t(1704164645) * 1'000'000'000);

        auto open = native(R"([{"message":"kept"},{"message":"cut")", BodyFormat::Json);
        QVERIFY(open.ok());
        QCOMPARE(open->events.size(), std::size_t(1));
        QVERIFY(open->rejected >= 1);

        auto empty = native("[]", BodyFormat::Json);
        QVERIFY(empty.ok());
        QCOMPARE(empty->total, std::size_t(0));
        QCOMPARE(native("   ", BodyFormat::Ndjson).error().code, ErrorCode::BadJson);
    }

    void batchLimits()
    {
        std::string body;
        for (int i = 0; i < 11; ++i)
            body += "{\"message\":\"m\"}\n";
        BatchLimits limits;
        limits.maxEvents = 10;
        limits.maxErrors = 2;
        QCOMPARE(native(body, BodyFormat::Ndjson, limits).error().code, ErrorCode::TooMany);
        std::string arr = "[";
        for (int i = 0; i < 11; ++i)
            arr += std::string(i ? "," : "") + "{\"message\":\"m\"}";
        arr += "]";
        QCOMPARE(native(arr, BodyFormat::Json, limits).error().code, ErrorCode::TooMany);
        // Every rejection is counted; only maxErrors are listed.
        std::string bad;
        for (int i = 0; i < 5; ++i)
            bad += "nope\n";
        auto r = native(bad, BodyFormat::Ndjson, limits);
        QVERIFY(r.ok());
        QCOMPARE(r->rejected, std::size_t(5));
        QCOMPARE(r->errors.size(), std::size_t(2));
        QCOMPARE(r->common.value(), ErrorCode::BadJson);
    }

    void encodedOutputMatchesEvents()
    {
        // The collector's path: events encoded straight into one buffer. Each value must be
        // what encodeEvent writes for the same event, nothing may leak from one event into the
        // next (they share one decoding scratch), and lent buffers are reused, not appended to.
        const std::string body =
            "{\"message\":\"first\",\"app\":\"a\",\"host\":\"h1\",\"level\":\"error\","
            "\"trace_id\":\"0123456789abcdef0123456789ABCDEF\",\"span_id\":\"0123456789abcdef\","
            "\"id\":\"0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b\",\"attrs\":{\"k\":1},\"x\":[true]}\n"
            "{\"message\":\"bad\"\n"
            "{\"msg\":\"second\"}\n";
        auto plain = native(body, BodyFormat::Ndjson);
        QVERIFY(plain.ok());
        QCOMPARE(plain->events.size(), std::size_t(2));
        QCOMPARE(plain->events[1].traceId, std::string());
        QCOMPARE(plain->events[1].attrsJson, std::string("{}"));

        EventDecoder decoder;
        EncodedEvents lent;
        lent.append(plain->events[0]); // stale content: must be dropped
        auto r = decodeNativeBatch(body, BodyFormat::Ndjson, decoder, kNow, {}, {},
                                   EventOutput::Encoded, std::move(lent));
        QVERIFY(r.ok());
        QVERIFY(r->events.empty());
        QCOMPARE(r->accepted(), std::size_t(2));
        QCOMPARE(r->encoded.size(), std::size_t(2));
        QCOMPARE(r->rejected, std::size_t(1));
        QCOMPARE(r->errors.at(0).index, std::size_t(1));
        QCOMPARE(r->encoded.key(0), std::string_view("a"));
        QCOMPARE(r->encoded.key(1), std::string_view(""));
        QCOMPARE(std::string(r->encoded.value(0)), encodeEvent(plain->events[0]));
        auto second = decodeEvent(r->encoded.value(1));
        QVERIFY(second.ok());
        QCOMPARE(second->message, std::string("second"));
        QCOMPARE(second->level, Level::Info);
        QCOMPARE(second->host, std::string());
        QCOMPARE(second->traceId, std::string());
        QCOMPARE(second->spanId, std::string());
        QCOMPARE(second->attrsJson, std::string("{}"));
        QCOMPARE(second->receivedNs, kNow);
        QVERIFY(second->id != plain->events[0].id);
        QCOMPARE(second->id.size(), std::size_t(36));

        // The sink sees each accepted event once, as it is encoded, and nothing of a request
        // that is over the event limit.
        std::vector<std::string> seen;
        const EncodedSink sink = [&seen](const EncodedEvents &e) {
            seen.emplace_back(e.value(e.size() - 1));
        };
        auto streamed = decodeNativeBatch(body, BodyFormat::Ndjson, decoder, kNow, {}, {},
                                          EventOutput::Encoded, {}, sink);
        QVERIFY(streamed.ok());
        QCOMPARE(seen.size(), std::size_t(2));
        QCOMPARE(seen[1], std::string(streamed->encoded.value(1)));
        seen.clear();
        BatchLimits two;
        two.maxEvents = 2;
        auto over = decodeNativeBatch(body + "{\"message\":\"x\"}\n", BodyFormat::Ndjson, decoder,
                                      kNow, two, {}, EventOutput::Encoded, {}, sink);
        QCOMPARE(over.error().code, ErrorCode::TooMany);
        QVERIFY(seen.empty());
    }

    void eventCheckRejectsOtherApps()
    {
        const EventCheck onlyShop = [](LogEvent &e) -> std::optional<Error> {
            if (e.app.empty())
                e.app = "shop";
            if (e.app != "shop")
                return makeError(ErrorCode::Forbidden, "not shop");
            return std::nullopt;
        };
        auto r = native("{\"message\":\"a\"}\n{\"message\":\"b\",\"app\":\"bank\"}\n",
                        BodyFormat::Ndjson, {}, {}, onlyShop);
        QVERIFY(r.ok());
        QCOMPARE(r->events.size(), std::size_t(1));
        QCOMPARE(r->events[0].app, std::string("shop"));
        QCOMPARE(r->errors.at(0).error.code, ErrorCode::Forbidden);
        QCOMPARE(r->common.value(), ErrorCode::Forbidden);
    }

    void otlpSpecLogsExample()
    {
        auto r = decodeOtlpJson(kSpecLogsExample, kNow, {}, {}, {});
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r->total, std::size_t(1));
        QCOMPARE(r->rejected, std::size_t(0));
        const LogEvent &e = r->events.at(0);
        QCOMPARE(e.app, std::string("my.service"));
        QCOMPARE(e.message, std::string("Example log record"));
        QCOMPARE(e.tsNs, std::int64_t(1544712660300000000));
        QCOMPARE(e.receivedNs, kNow);
        QCOMPARE(e.level, Level::Info); // severityText "Information"
        QCOMPARE(e.traceId, std::string("5b8efff798038103d269b633813fc60c"));
        QCOMPARE(e.spanId, std::string("eee19b7ec3c1b174"));
        const QJsonObject a = attrs(e);
        QCOMPARE(a.value(QStringLiteral("string.attribute")).toString(),
                 QStringLiteral("some string"));
        QCOMPARE(a.value(QStringLiteral("boolean.attribute")).toBool(), true);
        QCOMPARE(a.value(QStringLiteral("int.attribute")).toInt(), 10);
        QCOMPARE(a.value(QStringLiteral("double.attribute")).toDouble(), 637.704);
        QCOMPARE(a.value(QStringLiteral("array.attribute")).toArray(),
                 QJsonArray({QStringLiteral("many"), QStringLiteral("values")}));
        QCOMPARE(a.value(QStringLiteral("map.attribute"))
                     .toObject()
                     .value(QStringLiteral("some.map.key"))
                     .toString(),
                 QStringLiteral("some value"));
        QCOMPARE(a.value(QStringLiteral("my.scope.attribute")).toString(),
                 QStringLiteral("some scope attribute"));
        QCOMPARE(a.value(QStringLiteral("otel.scope.name")).toString(),
                 QStringLiteral("my.library"));
        QCOMPARE(a.value(QStringLiteral("otel.scope.version")).toString(), QStringLiteral("1.0.0"));
        QVERIFY(!a.contains(QStringLiteral("service.name")));
        // The canonical encoding reads back to the same event.
        QCOMPARE(decodeEvent(encodeEvent(e)).value(), e);
    }

    void otlpSpecEventsExample()
    {
        auto r = decodeOtlpJson(kSpecEventsExample, kNow, {}, {}, {});
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r->events.size(), std::size_t(1));
        const LogEvent &e = r->events[0];
        QCOMPARE(e.level, Level::Info); // severityNumber 9
        QCOMPARE(e.app, std::string("my.service"));
        QCOMPARE(e.tsNs, std::int64_t(1544712660300000000));
        const QJsonObject body =
            QJsonDocument::fromJson(QByteArray::fromStdString(e.message)).object();
        QCOMPARE(body.value(QStringLiteral("type")).toInt(), 0);
        QCOMPARE(body.value(QStringLiteral("title")).toString(),
                 QStringLiteral("Free Online GUID Generator"));
        QCOMPARE(attrs(e).value(QStringLiteral("event.name")).toString(),
                 QStringLiteral("browser.page_view"));
    }

    void otlpMapping()
    {
        const char *req = R"({"resourceLogs":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"checkout"}},
            {"key":"host.name","value":{"stringValue":"web-1"}},
            {"key":"deployment.environment","value":{"stringValue":"prod"}}]},
          "scopeLogs":[{"logRecords":[
            {"observedTimeUnixNano":"1700000000000000001","severityNumber":17,
             "body":{"stringValue":"boom"},"traceId":"00000000000000000000000000000000",
             "attributes":[{"key":"deployment.environment","value":{"stringValue":"mine"}}]},
            {"severityNumber":"SEVERITY_NUMBER_WARN","body":{"intValue":"42"},
             "spanId":"not-hex"},
            {"severity_number":21,"body":{"string_value":"snake"},"time_unix_nano":5},
            {"severityNumber":99},
            "oops"]}]}]})";
        auto r = decodeOtlpJson(req, kNow, {}, {}, {});
        QVERIFY(r.ok());
        QCOMPARE(r->total, std::size_t(5));
        QCOMPARE(r->events.size(), std::size_t(2));
        const LogEvent &a = r->events[0];
        QCOMPARE(a.app, std::string("checkout"));
        QCOMPARE(a.host, std::string("web-1"));
        QCOMPARE(a.level, Level::Error);
        QCOMPARE(a.tsNs, std::int64_t(1700000000000000001));
        QCOMPARE(a.traceId, std::string()); // all-zero = no trace
        // The record's own attribute wins over the resource's.
        QCOMPARE(attrs(a).value(QStringLiteral("deployment.environment")).toString(),
                 QStringLiteral("mine"));
        const LogEvent &b = r->events[1];
        QCOMPARE(b.level, Level::Fatal);
        QCOMPARE(b.message, std::string("snake"));
        QCOMPARE(b.tsNs, std::int64_t(5));
        QCOMPARE(r->errors.size(), std::size_t(3));
        QCOMPARE(r->errors[0].index, std::size_t(1));
        QCOMPARE(r->errors[0].error.code, ErrorCode::BadField); // spanId
        QCOMPARE(r->errors[1].error.code, ErrorCode::BadLevel);
        QCOMPARE(r->errors[2].error.code, ErrorCode::NotAnObject);

        QCOMPARE(decodeOtlpJson("{", kNow, {}, {}, {}).error().code, ErrorCode::BadJson);
        QCOMPARE(decodeOtlpJson("{\"resourceLogs\":5}", kNow, {}, {}, {}).error().code,
                 ErrorCode::BadJson);
        QCOMPARE(decodeOtlpJson("{\"a\":\"\xff\"}", kNow, {}, {}, {}).error().code,
                 ErrorCode::InvalidUtf8);
        auto empty = decodeOtlpJson("{}", kNow, {}, {}, {});
        QVERIFY(empty.ok());
        QCOMPARE(empty->total, std::size_t(0));
    }

    // The protobuf encoding maps to the same events as the JSON one (otlp_mapping.h).
    void otlpProtobufMatchesJson()
    {
        const QByteArray mixed = R"({"resourceLogs":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"checkout"}},
            {"key":"host.name","value":{"stringValue":"web-1"}},
            {"key":"region","value":{"stringValue":"eu"}}]},
          "scopeLogs":[{"scope":{"name":"lib","version":"2"},"logRecords":[
            {"observedTimeUnixNano":"1700000000000000001","severityNumber":17,
             "body":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[
               {"intValue":"42"},{"doubleValue":1.5},{"boolValue":false},{"bytesValue":"AAEC/w=="}]}}},
               {"key":"b"}]}},
             "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
             "eventName":"checkout.failed",
             "attributes":[{"key":"region","value":{"stringValue":"mine"}},
                           {"key":"n","value":{"intValue":"-7"}}]},
            {"severityText":"warning","body":{"stringValue":"plain"},"timeUnixNano":"5"},
            {"severityNumber":5,"attributes":[{"key":"k","value":{"stringValue":"1"}},
                                               {"key":"k","value":{"stringValue":"2"}}]},
            {"traceId":"00000000000000000000000000000000"}]}]}]})";
        for (const QByteArray &json : {QByteArray(kSpecLogsExample), mixed}) {
            auto fromJson = decodeOtlpJson(json.toStdString(), kNow, {}, {}, {});
            auto fromProto = decodeOtlpProtobuf(toProtobuf(json), kNow, {}, {}, {});
            QVERIFY(fromJson.ok());
            QVERIFY2(fromProto.ok(), fromProto.ok() ? "" : fromProto.error().message.c_str());
            QCOMPARE(fromProto->total, fromJson->total);
            QCOMPARE(fromProto->rejected, fromJson->rejected);
            QCOMPARE(fromProto->events.size(), fromJson->events.size());
            for (std::size_t i = 0; i < fromJson->events.size(); ++i) {
                LogEvent p = fromProto->events[i];
                p.id = fromJson->events[i].id;
                QCOMPARE(p, fromJson->events[i]);
            }
            for (std::size_t i = 0; i < fromJson->errors.size(); ++i) {
                QCOMPARE(fromProto->errors[i].index, fromJson->errors[i].index);
                QCOMPARE(fromProto->errors[i].error.code, fromJson->errors[i].error.code);
            }
        }
        auto r = decodeOtlpProtobuf(toProtobuf(mixed), kNow, {}, {}, {});
        QCOMPARE(r->events.size(), std::size_t(3));
        QCOMPARE(r->errors.at(0).index, std::size_t(2)); // the repeated key
        const LogEvent &a = r->events[0];
        QCOMPARE(a.message, std::string(R"({"a":[42,1.5,false,"AAEC/w=="],"b":null})"));
        QCOMPARE(a.traceId, std::string("5b8efff798038103d269b633813fc60c"));
        QCOMPARE(attrs(a).value(QStringLiteral("event.name")).toString(),
                 QStringLiteral("checkout.failed"));
        QCOMPARE(attrs(a).value(QStringLiteral("region")).toString(), QStringLiteral("mine"));
        QCOMPARE(r->events[1].level, Level::Warn);
        QCOMPARE(r->events[2].traceId, std::string());
    }

    void otlpProtobufErrors()
    {
        otlpv1::collector::logs::v1::ExportLogsServiceRequest req;
        auto *sl = req.add_resource_logs()->add_scope_logs();
        for (int i = 0; i < 3; ++i)
            sl->add_log_records()->mutable_body()->set_string_value("r" + std::to_string(i));
        sl->mutable_log_records(1)->set_trace_id("short");
        sl->mutable_log_records(2)->set_severity_number(
            static_cast<otlpv1::logs::v1::SeverityNumber>(77));
        const std::string bytes = req.SerializeAsString();
        auto r = decodeOtlpProtobuf(bytes, kNow, {}, {}, {});
        QVERIFY(r.ok());
        QCOMPARE(r->events.size(), std::size_t(1));
        QCOMPARE(r->errors.size(), std::size_t(2));
        QCOMPARE(r->errors.at(0).error.code, ErrorCode::BadField);
        QCOMPARE(r->errors.at(1).error.code, ErrorCode::BadLevel);
        // Limits: records per request, and the app scope of the sender.
        BatchLimits two;
        two.maxEvents = 2;
        QCOMPARE(decodeOtlpProtobuf(bytes, kNow, {}, two, {}).error().code, ErrorCode::TooMany);
        const EventCheck onlyShop = [](LogEvent &e) -> std::optional<Error> {
            if (e.app.empty())
                return makeError(ErrorCode::Forbidden, "no");
            return std::nullopt;
        };
        auto scoped = decodeOtlpProtobuf(bytes, kNow, {}, {}, onlyShop);
        QCOMPARE(scoped->events.size(), std::size_t(0));
        QCOMPARE(scoped->errors.at(0).error.code, ErrorCode::Forbidden);
        // Malformed wire data: the request is refused, never half-read.
        for (const std::string &bad :
             {std::string("\x0a\x05\x0a\x03"), bytes.substr(0, 7), std::string("\xff\xff\xff")}) {
            auto e = decodeOtlpProtobuf(bad, kNow, {}, {}, {});
            QVERIFY(!e.ok());
            QCOMPARE(e.error().code, ErrorCode::BadRequest);
        }
        QCOMPARE(decodeOtlpProtobuf("", kNow, {}, {}, {})->total, std::size_t(0));
    }

    void authenticatorCachesAndRevokes()
    {
        const NewApiKey key = generateApiKey();
        std::atomic<int> lookups{0};
        std::atomic<bool> revoked{false};
        std::atomic<bool> dbDown{false};
        AuthOptions opt;
        opt.cacheTtl = std::chrono::milliseconds(300);
        opt.maxStale = std::chrono::milliseconds(100'000);
        opt.certApps = parseCertApps("shop-svc=shop, *=").value();
        Authenticator auth(opt, [&](std::string_view prefix) -> Result<std::optional<KeyRecord>> {
            ++lookups;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (dbDown)
                return makeError(ErrorCode::Unavailable, "db down");
            if (prefix != key.prefix)
                return std::optional<KeyRecord>{};
            KeyRecord r{key.prefix, key.hash, "test", std::string("shop"), revoked.load(), "", ""};
            return std::optional<KeyRecord>{r};
        });
        const auto run = [&](http::Request req) {
            std::promise<Result<Identity>> p;
            auto f = p.get_future();
            auth.authenticate(req, [&p](Result<Identity> r) { p.set_value(std::move(r)); });
            return f.get();
        };
        const auto withKey = [](std::string header, std::string value) {
            http::Request r;
            r.headers.emplace_back(std::move(header), std::move(value));
            return r;
        };
        QCOMPARE(run({}).error().code, ErrorCode::Unauthenticated);
        QCOMPARE(run(withKey("x-api-key", "garbage")).error().code, ErrorCode::Unauthenticated);

        // Concurrent misses share one lookup; hits within the TTL need none.
        std::vector<std::thread> threads;
        std::atomic<int> ok{0};
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&] {
                auto r = run(withKey("authorization", "Bearer " + key.key));
                if (r.ok() && r->app == std::optional<std::string>("shop") && r->id == key.prefix)
                    ++ok;
            });
        for (auto &t : threads)
            t.join();
        QCOMPARE(ok.load(), 8);
        QCOMPARE(lookups.load(), 1);
        QVERIFY(run(withKey("x-api-key", key.key)).ok());
        QCOMPARE(lookups.load(), 1);
        std::string wrong = key.key;
        wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
        QCOMPARE(run(withKey("x-api-key", wrong)).error().code, ErrorCode::Unauthenticated);

        // Revocation is seen once the TTL has passed.
        revoked = true;
        QVERIFY(run(withKey("x-api-key", key.key)).ok());
        QTest::qWait(350);
        auto r = run(withKey("x-api-key", key.key));
        QCOMPARE(r.error().code, ErrorCode::Unauthenticated);
        QVERIFY(r.error().message.find("revoked") != std::string::npos);

        // Database down: a cached entry within maxStale still answers; an unknown key is 503.
        revoked = false;
        QTest::qWait(350);
        QVERIFY(run(withKey("x-api-key", key.key)).ok());
        dbDown = true;
        QTest::qWait(350);
        QVERIFY(run(withKey("x-api-key", key.key)).ok());
        const NewApiKey other = generateApiKey();
        QCOMPARE(run(withKey("x-api-key", other.key)).error().code, ErrorCode::Unavailable);

        // Client certificates map by CN.
        http::Request cert;
        cert.clientCertificate = http::PeerCertificate{"CN=shop-svc,O=x", "shop-svc"};
        auto c = run(cert);
        QVERIFY(c.ok());
        QCOMPARE(c->app.value_or(""), std::string("shop"));
        cert.clientCertificate = http::PeerCertificate{"CN=any,O=x", "any"};
        auto anyApp = run(cert);
        QVERIFY(anyApp.ok());
        QVERIFY(!anyApp->app.has_value());
        QVERIFY(!parseCertApps("novalue").ok());
    }

    // Issue 15 finding 4, the parts: parallel lookups, a bounded queue (503 at once), a bound
    // on waiting requests, stale-while-revalidate for known keys, the negative cache and the
    // per-address failure throttle (429 without a lookup).
    void authenticatorBoundsLookups()
    {
        const NewApiKey real = generateApiKey();
        std::mutex m;
        std::condition_variable cv;
        bool gateOpen = true; // false: lookups block until opened
        std::atomic<int> lookups{0}, inFlight{0}, maxInFlight{0};
        const auto lookup = [&](std::string_view prefix) -> Result<std::optional<KeyRecord>> {
            ++lookups;
            const int now = ++inFlight;
            for (int seen = maxInFlight;
                 now > seen && !maxInFlight.compare_exchange_weak(seen, now);)
                ;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            {
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return gateOpen; });
            }
            --inFlight;
            if (prefix != real.prefix)
                return std::optional<KeyRecord>{};
            return std::optional<KeyRecord>{
                KeyRecord{real.prefix, real.hash, "r", {}, false, "", ""}};
        };
        const auto setGate = [&](bool open) {
            std::lock_guard lock(m);
            gateOpen = open;
            cv.notify_all();
        };
        const auto request = [](const std::string &key, const std::string &address) {
            http::Request r;
            r.headers.emplace_back("x-api-key", key);
            r.peerAddress = address;
            return r;
        };
        // Starts an authentication; the future is ready once it is answered.
        const auto start = [](Authenticator &auth, const http::Request &req) {
            auto p = std::make_shared<std::promise<Result<Identity>>>();
            auto f = p->get_future();
            auth.authenticate(req, [p](Result<Identity> r) { p->set_value(std::move(r)); });
            return f;
        };
        const auto ready = [](std::future<Result<Identity>> &f) {
            return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        };

        // Parallel: 8 unknown keys with 4 threads take two rounds of 50 ms, not eight.
        {
            AuthOptions opt;
            opt.lookupThreads = 4;
            opt.maxFailures = 0;
            Authenticator auth(opt, lookup);
            QElapsedTimer t;
            t.start();
            std::vector<std::future<Result<Identity>>> fs;
            for (int i = 0; i < 8; ++i)
                fs.push_back(start(auth, request(generateApiKey().key, "10.0.0.1")));
            for (auto &f : fs)
                QCOMPARE(f.get().error().code, ErrorCode::Unauthenticated);
            QCOMPARE(maxInFlight.load(), 4);
            // Two rounds take 100 ms; one lookup after another would take 400.
            QVERIFY2(t.elapsed() < 380, qPrintable(QString::number(t.elapsed())));
        }

        // Bounded: one lookup in flight, 3 queued, the rest 503 at once; and at most 5
        // requests wait (a second request for a queued key is refused once that is reached).
        {
            AuthOptions opt;
            opt.lookupThreads = 1;
            opt.maxQueuedLookups = 3;
            opt.maxWaitingRequests = 5;
            opt.maxFailures = 0;
            setGate(false);
            Authenticator auth(opt, lookup);
            std::vector<std::string> keys;
            std::vector<std::future<Result<Identity>>> fs;
            for (int i = 0; i < 10; ++i) {
                keys.push_back(generateApiKey().key);
                fs.push_back(start(auth, request(keys.back(), "10.0.0.2")));
                if (i == 0) // the first one is taken by the lookup thread
                    QTRY_COMPARE_WITH_TIMEOUT(inFlight.load(), 1, 2000);
            }
            int refused = 0;
            for (int i = 0; i < 10; ++i)
                if (ready(fs[static_cast<std::size_t>(i)])) {
                    QCOMPARE(fs[static_cast<std::size_t>(i)].get().error().code,
                             ErrorCode::Unavailable);
                    ++refused;
                }
            QCOMPARE(refused, 6);                                  // 1 in flight + 3 queued wait
            auto same = start(auth, request(keys[1], "10.0.0.2")); // shares the queued lookup
            QVERIFY(!ready(same));
            auto tooMany = start(auth, request(keys[2], "10.0.0.2"));
            QVERIFY(ready(tooMany));
            QCOMPARE(tooMany.get().error().code, ErrorCode::Unavailable);
            setGate(true);
            QCOMPARE(same.get().error().code, ErrorCode::Unauthenticated);
        }

        // Stale-while-revalidate, the negative cache and the throttle.
        {
            AuthOptions opt;
            opt.cacheTtl = std::chrono::milliseconds(200);
            opt.refreshWait = std::chrono::milliseconds(100);
            opt.maxFailures = 3;
            opt.failureWindow = std::chrono::milliseconds(60'000);
            Authenticator auth(opt, lookup);
            QVERIFY(start(auth, request(real.key, "10.0.0.3")).get().ok());
            QTest::qWait(250); // past the TTL
            setGate(false);    // the refresh hangs
            QElapsedTimer t;
            t.start();
            QVERIFY(start(auth, request(real.key, "10.0.0.3")).get().ok());
            // refreshWait, not the hanging refresh (slack for a sanitizer build).
            QVERIFY2(t.elapsed() >= 90 && t.elapsed() < 1000,
                     qPrintable(QString::number(t.elapsed())));
            // While the refresh is pending, the next request is answered the same way.
            QVERIFY(start(auth, request(real.key, "10.0.0.3")).get().ok());
            setGate(true);

            // An unknown key is looked up once (then cached as unknown).
            const std::string fake = generateApiKey().key;
            const int before = lookups.load();
            QCOMPARE(start(auth, request(fake, "10.0.0.4")).get().error().code,
                     ErrorCode::Unauthenticated);
            QCOMPARE(start(auth, request(fake, "10.0.0.4")).get().error().code,
                     ErrorCode::Unauthenticated);
            QCOMPARE(lookups.load(), before + 1);
            // Third failure from 10.0.0.4: now throttled for keys that need a lookup.
            QCOMPARE(start(auth, request("not-a-key", "10.0.0.4")).get().error().code,
                     ErrorCode::Unauthenticated);
            const int throttledAt = lookups.load();
            QCOMPARE(start(auth, request(generateApiKey().key, "10.0.0.4")).get().error().code,
                     ErrorCode::RateLimited);
            QCOMPARE(lookups.load(), throttledAt);
            // A key cached as valid still passes from there; other addresses are not affected.
            QVERIFY(start(auth, request(real.key, "10.0.0.4")).get().ok());
            QCOMPARE(start(auth, request(generateApiKey().key, "10.0.0.5")).get().error().code,
                     ErrorCode::Unauthenticated);
            QCOMPARE(lookups.load(), throttledAt + 1);
        }
    }
};

QTEST_GUILESS_MAIN(TestCollectorUnit)
#include "test_collector_unit.moc"
