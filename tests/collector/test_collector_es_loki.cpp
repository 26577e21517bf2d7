// The Elasticsearch bulk and Loki push decoders without servers: how documents, index names,
// stream labels and structured metadata map to events; per-item and per-stream errors that
// keep the rest of the request; Prometheus label syntax; the protobuf + snappy body built with
// the protobuf and snappy libraries; Elasticsearch's reply shapes; the credential schemes
// Elasticsearch and Loki clients send.
#undef QT_NO_CAST_FROM_ASCII
#include "idl/collector/authenticator.h"
#include "idl/collector/es_bulk.h"
#include "idl/collector/ingest_decoder.h"
#include "idl/collector/loki_push.h"
#include "idl/core/hex.h"
#include "idl/core/uuid.h"
#include "proto/loki_push.pb.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <snappy.h>

using namespace idl;
using namespace idl::collector;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000'000'000;

QJsonObject attrsOf(const LogEvent &e)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(e.attrsJson)).object();
}

std::vector<LogEvent> eventsOf(const EsBulkBatch &b)
{
    std::vector<LogEvent> out;
    for (std::size_t i = 0; i < b.batch.encoded.size(); ++i) {
        auto ev = decodeEvent(b.batch.encoded.value(i));
        if (ev)
            out.push_back(*ev);
    }
    return out;
}

EsBulkBatch bulk(std::string_view body, std::string_view pathIndex = "logs-shop-default",
                 const EventCheck &check = {}, BatchLimits limits = {}, IngestLimits ev = {})
{
    EsBulkDecoder dec(ev);
    auto r = dec.decode(body, pathIndex, kNow, limits, check);
    if (!r)
        qFatal("bulk decode failed: %s", r.error().message.c_str());
    return std::move(*r);
}

} // namespace

class TestCollectorEsLoki : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void esEcsDocumentMapping()
    {
        // What Filebeat / Logstash send: ECS objects.
        const auto b =
            bulk("{\"create\":{\"_index\":\"logs-checkout-default\"}}"
                 "\n"
                 "{\"@timestamp\":\"2024-05-01T10:00:00.123Z\",\"message\":\"card declined\","
                 "\"log\":{\"level\":\"error\",\"file\":{\"path\":\"/var/log/app.log\"}},"
                 "\"host\":{\"name\":\"web-1\",\"os\":{\"family\":\"debian\"}},\"service\":{"
                 "\"name\":\"checkout\"},"
                 "\"trace\":{\"id\":\"0AF7651916CD43DD8448EB211C80319C\"},\"span\":{\"id\":"
                 "\"b7ad6b7169203331\"},"
                 "\"agent\":{\"type\":\"filebeat\"},\"order\":42}"
                 "\n");
        QCOMPARE(b.items.size(), std::size_t(1));
        QCOMPARE(b.items[0].status, 201);
        QCOMPARE(b.items[0].action, EsAction::Create);
        const auto evs = eventsOf(b);
        QCOMPARE(evs.size(), std::size_t(1));
        const LogEvent &e = evs[0];
        QCOMPARE(e.message, std::string("card declined"));
        QCOMPARE(e.level, Level::Error);
        QCOMPARE(e.host, std::string("web-1"));
        QCOMPARE(e.app, std::string("checkout"));
        QCOMPARE(e.tsNs, std::int64_t(1714557600123000000));
        QCOMPARE(e.traceId, std::string("0af7651916cd43dd8448eb211c80319c"));
        QCOMPARE(e.spanId, std::string("b7ad6b7169203331"));
        QCOMPARE(e.receivedNs, kNow);
        QCOMPARE(b.items[0].id, e.id); // the generated id is the document's _id
        QVERIFY(isValidUuid(e.id));
        const QJsonObject a = attrsOf(e);
        // The used members are gone, the rest of each object stays.
        QCOMPARE(a.value("log").toObject().value("file").toObject().value("path").toString(),
                 QString("/var/log/app.log"));
        QVERIFY(!a.value("log").toObject().contains("level"));
        QCOMPARE(a.value("host").toObject().value("os").toObject().value("family").toString(),
                 QString("debian"));
        QVERIFY(!a.value("host").toObject().contains("name"));
        QVERIFY(!a.contains("service")); // nothing left of it
        QVERIFY(!a.contains("trace"));
        QVERIFY(!a.contains("@timestamp"));
        QVERIFY(!a.contains("message"));
        QCOMPARE(a.value("agent").toObject().value("type").toString(), QString("filebeat"));
        QCOMPARE(a.value("order").toInt(), 42);
    }

    void esShipperShapes()
    {
        // Fluent Bit (tail: "log"), Vector ("timestamp", "host" string), dotted keys, a
        // structured message, epoch millis, a zone-less time (UTC), an unknown level kept.
        const auto b =
            bulk("{\"index\":{}}"
                 "\n"
                 "{\"@timestamp\":\"2024-05-01T10:00:00.000Z\",\"log\":\"line from tail\","
                 "\"kubernetes\":{\"pod_name\":\"p\"}}"
                 "\n"
                 "{\"index\":{}}"
                 "\n"
                 "{\"timestamp\":\"2024-05-01T10:00:01Z\",\"message\":\"vector line\","
                 "\"host\":\"vec-host\",\"source_type\":\"file\"}"
                 "\n"
                 "{\"index\":{}}"
                 "\r\n"
                 "{\"log.level\":\"warning\",\"host.name\":\"h2\",\"service.name\":\"billing\","
                 "\"message\":{\"k\":[1,2]},\"@timestamp\":1714557600000}"
                 "\n\n"
                 "{\"index\":{}}"
                 "\n"
                 "{\"message\":\"naive\",\"@timestamp\":\"2024-05-01T10:00:00.5\","
                 "\"level\":\"chatty\"}"
                 "\n");
        QCOMPARE(b.items.size(), std::size_t(4));
        for (const auto &item : b.items)
            QCOMPARE(item.status, 201);
        const auto evs = eventsOf(b);
        QCOMPARE(evs.size(), std::size_t(4));
        QCOMPARE(evs[0].message, std::string("line from tail"));
        QCOMPARE(evs[0].app, std::string("shop")); // from the path's index logs-shop-default
        QVERIFY(attrsOf(evs[0]).contains("kubernetes"));
        QVERIFY(!attrsOf(evs[0]).contains("log"));
        QCOMPARE(evs[1].message, std::string("vector line"));
        QCOMPARE(evs[1].host, std::string("vec-host"));
        QCOMPARE(evs[1].tsNs, std::int64_t(1714557601000000000));
        QCOMPARE(attrsOf(evs[1]).value("source_type").toString(), QString("file"));
        QCOMPARE(evs[2].level, Level::Warn);
        QCOMPARE(evs[2].host, std::string("h2"));
        QCOMPARE(evs[2].app, std::string("billing"));
        QCOMPARE(evs[2].message, std::string("{\"k\":[1,2]}"));
        QCOMPARE(evs[2].tsNs, std::int64_t(1714557600000000000));
        QCOMPARE(evs[3].tsNs, std::int64_t(1714557600500000000));
        QCOMPARE(evs[3].level, Level::Info);
        QCOMPARE(attrsOf(evs[3]).value("level").toString(), QString("chatty"));
        // A document without any message field is kept, with an empty message.
        const auto noMsg = bulk("{\"index\":{}}\n{\"status\":200}\n");
        QCOMPARE(noMsg.items[0].status, 201);
        QCOMPARE(eventsOf(noMsg)[0].message, std::string());
    }

    void esIndexNames()
    {
        QCOMPARE(esIndexToApp("logs-checkout-default"), std::string("checkout"));
        QCOMPARE(esIndexToApp("logs-my-app-prod"), std::string("my-app"));
        QCOMPARE(esIndexToApp("logs-checkout"), std::string("checkout"));
        QCOMPARE(esIndexToApp("logstash-2024.05.01"), std::string("logstash"));
        QCOMPARE(esIndexToApp("vector-2024.05.01"), std::string("vector"));
        QCOMPARE(esIndexToApp("app-2024.05"), std::string("app"));
        QCOMPARE(esIndexToApp("app-2024-05-01"), std::string("app"));
        QCOMPARE(esIndexToApp("filebeat-8.17.0"), std::string("filebeat"));
        QCOMPARE(esIndexToApp("fluent-bit"), std::string("fluent-bit"));
        QCOMPARE(esIndexToApp("checkout"), std::string("checkout"));
        QCOMPARE(esBulkPathIndex("/logs-a-b/_bulk").value_or("-"), std::string_view("logs-a-b"));
        QVERIFY(!esBulkPathIndex("/_bulk"));
        QVERIFY(!esBulkPathIndex("/a/b/_bulk"));
        QVERIFY(!esBulkPathIndex("/a/_bulkx"));
    }

    void esItemsAndErrorsKeepTheRest()
    {
        const std::string uuid = "0190a4b2-7c3e-7d41-9a2b-3c4d5e6f7a8b";
        const auto b = bulk(
            // 0: ok, _index wins over the path, UUID _id kept as the event id
            "{\"index\":{\"_index\":\"logs-a-x\",\"_id\":\"" + uuid + "\"}}" + "\n" +
            "{\"message\":\"m0\"}" + "\n" +
            // 1: delete: append-only
            "{\"delete\":{\"_id\":\"1\"}}" + "\n" +
            // 2: update: its source line goes with it
            "{\"update\":{\"_id\":\"1\"}}" + "\n" + "{\"doc\":{\"a\":1}}" + "\n" +
            // 3: a document that is not JSON
            "{\"create\":{}}" + "\n" + "{\"message\":\"broken" + "\n" +
            // 4: a malformed action line; its source line belongs to it
            "{\"indx\":{}}" + "\n" + "{\"message\":\"lost with its action\"}" + "\n" +
            // 5: ok, a non-UUID _id kept as attribute _id
            "{\"create\":{\"_id\":\"abc\"}}" + "\n" + "{\"message\":\"m5\"}" + "\n" +
            // 6: invalid index name
            "{\"index\":{\"_index\":\"Bad*Name\"}}" + "\n" + "{\"message\":\"m6\"}" + "\n" +
            // 7: not an object
            "{\"index\":{}}" + "\n" + "[1,2]" + "\n" +
            // 8: bad timestamp
            "{\"index\":{}}" + "\n" + "{\"message\":\"m8\",\"@timestamp\":\"yesterday\"}" + "\n" +
            // 9: ok
            "{\"index\":{}}" + "\n" + "{\"message\":\"m9\"}" + "\n" +
            // 10: an action without a source line at the end
            "{\"index\":{}}" + "\n");
        QCOMPARE(b.items.size(), std::size_t(11));
        const int want[] = {201, 400, 400, 400, 400, 201, 400, 400, 400, 201, 400};
        for (std::size_t i = 0; i < 11; ++i)
            QCOMPARE(b.items[i].status, want[i]);
        QCOMPARE(b.batch.rejected, std::size_t(8));
        QCOMPARE(b.batch.total, std::size_t(11));
        QCOMPARE(b.items[1].action, EsAction::Delete);
        QVERIFY(b.items[1].reason.find("append-only") != std::string::npos);
        QCOMPARE(b.items[3].errorType, std::string_view("document_parsing_exception"));
        QVERIFY(b.items[4].reason.find("Malformed action/metadata line [8]") != std::string::npos);
        QCOMPARE(b.items[6].errorType, std::string_view("invalid_index_name_exception"));
        QCOMPARE(b.items[8].errorType, std::string_view("document_parsing_exception"));
        QVERIFY(b.items[8].reason.find("@timestamp") != std::string::npos);
        QVERIFY(b.items[10].reason.find("no source line") != std::string::npos);
        const auto evs = eventsOf(b);
        QCOMPARE(evs.size(), std::size_t(3));
        QCOMPARE(evs[0].id, uuid);
        QCOMPARE(evs[0].app, std::string("a"));
        QCOMPARE(b.items[0].id, uuid);
        QCOMPARE(evs[1].message, std::string("m5"));
        QCOMPARE(attrsOf(evs[1]).value("_id").toString(), QString("abc"));
        QCOMPARE(b.items[5].id, std::string("abc"));
        QCOMPARE(evs[2].message, std::string("m9"));
        QCOMPARE(b.indices[b.items[0].indexRef], std::string("logs-a-x"));
        QCOMPARE(b.indices[b.items[9].indexRef], std::string("logs-shop-default"));

        // The reply in Elasticsearch's shape.
        const QJsonObject reply =
            QJsonDocument::fromJson(QByteArray::fromStdString(esBulkResponse(b, 7))).object();
        QCOMPARE(reply.value("took").toInt(), 7);
        QCOMPARE(reply.value("errors").toBool(), true);
        const QJsonArray items = reply.value("items").toArray();
        QCOMPARE(items.size(), 11);
        const QJsonObject first = items[0].toObject().value("index").toObject();
        QCOMPARE(first.value("status").toInt(), 201);
        QCOMPARE(first.value("result").toString(), QString("created"));
        QCOMPARE(first.value("_index").toString(), QString("logs-a-x"));
        QCOMPARE(first.value("_id").toString(), QString::fromStdString(uuid));
        const QJsonObject del = items[1].toObject().value("delete").toObject();
        QCOMPARE(del.value("status").toInt(), 400);
        QCOMPARE(del.value("error").toObject().value("type").toString(),
                 QString("action_request_validation_exception"));
        QVERIFY(!del.value("error").toObject().value("reason").toString().isEmpty());
    }

    void esRequestLevelAndLimits()
    {
        EsBulkDecoder dec;
        auto empty = dec.decode("\n  \n", "", kNow, {}, {});
        QVERIFY(!empty);
        QCOMPARE(empty.error().code, ErrorCode::BadRequest);
        BatchLimits few;
        few.maxEvents = 2;
        auto many = dec.decode("{\"index\":{}}\n{}\n{\"index\":{}}\n{}\n{\"index\":{}}\n{}\n", "x",
                               kNow, few, {});
        QVERIFY(!many);
        QCOMPARE(many.error().code, ErrorCode::TooMany);
        // Per document limits: size, attributes, depth.
        IngestLimits small;
        small.maxEventBytes = 64;
        small.maxAttributes = 2;
        small.maxDepth = 4;
        const auto b = bulk("{\"index\":{}}\n{\"message\":\"" + std::string(100, 'x') +
                                "\"}\n{\"index\":{}}\n{\"a\":1,\"b\":2,\"c\":3}\n"
                                "{\"index\":{}}\n{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}\n"
                                "{\"index\":{}}\n{\"a\":1,\"a\":2}\n"
                                "{\"index\":{}}\n{\"message\":\"ok\",\"a\":1}\n",
                            "x", {}, {}, small);
        QCOMPARE(b.items.size(), std::size_t(5));
        QCOMPARE(b.items[0].status, 400);
        QVERIFY(b.items[0].reason.find("limit") != std::string::npos);
        QCOMPARE(b.items[1].status, 400);
        QCOMPARE(b.items[2].status, 400);
        QCOMPARE(b.items[3].status, 400); // duplicate field
        QCOMPARE(b.items[4].status, 201);
        // Invalid UTF-8 in a document.
        const auto bad = bulk("{\"index\":{}}\n{\"message\":\"\xff\"}\n{\"index\":{}}\n{}\n");
        QCOMPARE(bad.items[0].status, 400);
        QCOMPARE(bad.items[1].status, 201);
    }

    void esAppOfTheCredential()
    {
        // A key bound to "shop": documents without an app of their own take it (not the
        // index's); a document naming another app is refused with 403 security_exception.
        const EventCheck shopOnly = [](LogEvent &ev) -> std::optional<Error> {
            if (ev.app.empty())
                ev.app = "shop";
            else if (ev.app != "shop")
                return makeError(ErrorCode::Forbidden, "only shop");
            return std::nullopt;
        };
        const auto b = bulk("{\"index\":{}}\n{\"message\":\"a\"}\n"
                            "{\"index\":{}}\n{\"message\":\"b\",\"service\":{\"name\":\"pay\"}}\n",
                            "filebeat-8.17.0", shopOnly);
        QCOMPARE(b.items[0].status, 201);
        QCOMPARE(b.items[1].status, 403);
        QCOMPARE(b.items[1].errorType, std::string_view("security_exception"));
        QCOMPARE(eventsOf(b)[0].app, std::string("shop"));
        // Without a bound app the index names it.
        QCOMPARE(eventsOf(bulk("{\"index\":{}}\n{\"message\":\"a\"}\n", "filebeat-8.17.0"))[0].app,
                 std::string("filebeat"));
    }

    void esReadAnswers()
    {
        const auto info =
            QJsonDocument::fromJson(QByteArray::fromStdString(esInfoBody("n1"))).object();
        QCOMPARE(info.value("version").toObject().value("number").toString(),
                 QString::fromLatin1(kEsCompatVersion.data(), kEsCompatVersion.size()));
        QCOMPARE(info.value("tagline").toString(), QString("You Know, for Search"));
        for (const std::string &body :
             {esLicenseBody(), esXpackBody(), esClusterHealthBody(),
              esErrorBody(401, "security_exception", "missing credentials")})
            QVERIFY2(QJsonDocument::fromJson(QByteArray::fromStdString(body)).isObject(),
                     body.c_str());
        const auto err =
            QJsonDocument::fromJson(
                QByteArray::fromStdString(esErrorBody(429, "es_rejected_execution_exception", "r")))
                .object();
        QCOMPARE(err.value("status").toInt(), 429);
        QCOMPARE(err.value("error").toObject().value("type").toString(),
                 QString("es_rejected_execution_exception"));
        QCOMPARE(esErrorKind(ErrorCode::Unauthenticated).status, 401);
        QCOMPARE(esErrorKind(ErrorCode::RateLimited).status, 429);
        QCOMPARE(esErrorKind(ErrorCode::Unavailable).status, 503);
        QCOMPARE(esErrorKind(ErrorCode::TooMany).status, 413);
    }

    void lokiLabelSyntax_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("want"); // name=value;... or "error"
        QTest::newRow("one") << "{app=\"shop\"}"
                             << "app=shop";
        QTest::newRow("spaces, trailing comma") << "  { app = \"shop\" ,\thost=\"h1\", }  "
                                                << "app=shop;host=h1";
        QTest::newRow("escapes") << "{a=\"q\\\"b\\\\s\\nx\\t\\u00e9\\x41\\101\"}"
                                 << QString::fromUtf8("a=q\"b\\s\nx\t\xc3\xa9"
                                                      "AA");
        QTest::newRow("raw string") << "{a=`c:\\dir\\`}"
                                    << "a=c:\\dir\\";
        QTest::newRow("utf-8 value")
            << QString::fromUtf8("{a=\"\xe2\x82\xac\"}") << QString::fromUtf8("a=\xe2\x82\xac");
        QTest::newRow("empty value") << "{a=\"\"}"
                                     << "a=";
        QTest::newRow("empty set") << "{}"
                                   << "error";
        QTest::newRow("no braces") << "app=\"x\""
                                   << "error";
        QTest::newRow("unclosed set") << "{app=\"x\""
                                      << "error";
        QTest::newRow("unclosed value") << "{app=\"x}"
                                        << "error";
        QTest::newRow("regex matcher") << "{app=~\"x\"}"
                                       << "error";
        QTest::newRow("not equal") << "{app!=\"x\"}"
                                   << "error";
        QTest::newRow("unquoted") << "{app=x}"
                                  << "error";
        QTest::newRow("digit name") << "{1app=\"x\"}"
                                    << "error";
        QTest::newRow("dash name") << "{my-app=\"x\"}"
                                   << "error";
        QTest::newRow("duplicate") << "{a=\"1\",a=\"2\"}"
                                   << "error";
        QTest::newRow("bad escape") << "{a=\"\\q\"}"
                                    << "error";
        QTest::newRow("surrogate") << "{a=\"\\ud800\"}"
                                   << "error";
        QTest::newRow("invalid utf-8 by escape") << "{a=\"\\xff\"}"
                                                 << "error";
        QTest::newRow("missing comma") << "{a=\"1\" b=\"2\"}"
                                       << "error";
        QTest::newRow("text after") << "{a=\"1\"} x"
                                    << "error";
        QTest::newRow("single quote") << "{a='1'}"
                                      << "error";
    }

    void lokiLabelSyntax()
    {
        QFETCH(QString, text);
        QFETCH(QString, want);
        const auto r = parseLokiLabels(text.toStdString());
        if (want == "error") {
            QVERIFY2(!r, text.toUtf8().constData());
            QCOMPARE(r.error().code, ErrorCode::BadField);
            QVERIFY(!r.error().message.empty());
            return;
        }
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QStringList got;
        for (const auto &[n, v] : *r)
            got << QString::fromStdString(n + "=" + v);
        QCOMPARE(got.join(';'), want);
    }

    void lokiJsonMapping()
    {
        const std::string body =
            "{\"streams\":[\n"
            "          "
            "{\"stream\":{\"service_name\":\"checkout\",\"host\":\"web-1\",\"level\":\"warn\","
            "\"env\":\"prod\"},\n"
            "           \"values\":[[\"1714557600000000001\",\"first line\"],\n"
            "                     "
            "[\"1714557600000000002\",\"second\",{\"trace_id\":"
            "\"0af7651916cd43dd8448eb211c80319c\",\"level\":\"error\",\"user\":\"u1\",\"env\":"
            "\"meta\"}]]},\n"
            "          {\"stream\":{\"job\":\"varlogs\",\"filename\":\"/var/log/syslog\"},\n"
            "           \"values\":[[\"1714557600000000003\",\"third\"]]}\n"
            "        ]}";
        auto r = decodeLokiJson(body, kNow, {}, {}, {});
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r->batch.events.size(), std::size_t(3));
        QCOMPARE(r->batch.rejected, std::size_t(0));
        const LogEvent &a = r->batch.events[0];
        QCOMPARE(a.app, std::string("checkout"));
        QCOMPARE(a.host, std::string("web-1"));
        QCOMPARE(a.level, Level::Warn);
        QCOMPARE(a.message, std::string("first line"));
        QCOMPARE(a.tsNs, std::int64_t(1714557600000000001));
        QCOMPARE(attrsOf(a).value("env").toString(), QString("prod"));
        QVERIFY(!attrsOf(a).contains("service_name"));
        const LogEvent &b = r->batch.events[1];
        QCOMPARE(b.level, Level::Error);
        QCOMPARE(b.traceId, std::string("0af7651916cd43dd8448eb211c80319c"));
        QCOMPARE(attrsOf(b).value("user").toString(), QString("u1"));
        QCOMPARE(attrsOf(b).value("env").toString(), QString("meta")); // metadata wins
        const LogEvent &c = r->batch.events[2];
        QCOMPARE(c.app, std::string("varlogs"));
        QCOMPARE(attrsOf(c).value("filename").toString(), QString("/var/log/syslog"));
    }

    void lokiJsonErrorsKeepTheRest()
    {
        const std::string body =
            "{\"streams\":[\n"
            "          {\"stream\":{},\"values\":[[\"1\",\"no labels\"]]},\n"
            "          "
            "{\"stream\":{\"app\":\"ok\"},\"values\":[[\"1714557600000000000\",\"kept\"],[\"soon\","
            "\"bad ts\"],[\"1\",7],[\"2\",\"kept too\"]]},\n"
            "          "
            "{\"stream\":{\"bad-name\":\"x\"},\"values\":[[\"1\",\"x\"],[\"2\",\"y\"]]},\n"
            "          {\"stream\":{\"app\":5},\"values\":[[\"1\",\"x\"]]},\n"
            "          {\"stream\":{\"app\":\"big\"},\"values\":[[\"1\","
            "\"" +
            std::string(200, 'x') +
            "\"]]}\n"
            "        ]}";
        IngestLimits small;
        small.maxMessageBytes = 100;
        auto r = decodeLokiJson(body, kNow, small, {}, {});
        QVERIFY(r.ok());
        QCOMPARE(r->streams, std::size_t(5));
        QCOMPARE(r->batch.total, std::size_t(9));
        QCOMPARE(r->batch.events.size(), std::size_t(2));
        QCOMPARE(r->batch.events[0].message, std::string("kept"));
        QCOMPARE(r->batch.events[1].message, std::string("kept too"));
        QCOMPARE(r->batch.rejected, std::size_t(7));
        const std::string text = lokiErrorText(*r);
        QVERIFY2(text.find("at least one label pair is required") != std::string::npos,
                 text.c_str());
        QVERIFY2(text.find("stream '{\"bad-name\":\"x\"}'") != std::string::npos, text.c_str());
        QVERIFY2(text.find("Max entry size") != std::string::npos, text.c_str());
        QVERIFY2(text.find("entry 2") != std::string::npos, text.c_str()); // "soon"
        // Whole-request failures.
        QCOMPARE(decodeLokiJson("{\"streams\":", kNow, {}, {}, {}).error().code,
                 ErrorCode::BadJson);
        QCOMPARE(decodeLokiJson("[]", kNow, {}, {}, {}).error().code, ErrorCode::BadJson);
        BatchLimits few;
        few.maxEvents = 1;
        QCOMPARE(decodeLokiJson("{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\",\"x\"],"
                                "[\"2\",\"y\"]]}]}",
                                kNow, {}, few, {})
                     .error()
                     .code,
                 ErrorCode::TooMany);
    }

    void lokiProtobufWithSnappy()
    {
        // The body as Loki clients send it: logproto.PushRequest, snappy block format.
        logproto::PushRequest req;
        auto *s = req.add_streams();
        s->set_labels("{app=\"pb\", host=\"pb-host\", level=\"debug\", region=\"eu\\\"1\"}");
        auto *e = s->add_entries();
        e->mutable_timestamp()->set_seconds(1714557600);
        e->mutable_timestamp()->set_nanos(42);
        e->set_line("protobuf line");
        auto *m = e->add_structuredmetadata();
        m->set_name("span_id");
        m->set_value("b7ad6b7169203331");
        auto *bad = req.add_streams();
        bad->set_labels("{app=\"pb\", oops");
        bad->add_entries()->set_line("lost with its stream");
        auto *neg = s->add_entries();
        neg->mutable_timestamp()->set_seconds(-5);
        neg->set_line("negative time");
        std::string raw;
        QVERIFY(req.SerializeToString(&raw));
        std::string compressed;
        snappy::Compress(raw.data(), raw.size(), &compressed);

        auto plain = decompress(compressed, ContentEncoding::Snappy, 1 << 20);
        QVERIFY(plain.ok());
        QCOMPARE(*plain, raw);
        auto r = decodeLokiProtobuf(*plain, kNow, {}, {}, {});
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r->batch.total, std::size_t(3));
        QCOMPARE(r->batch.events.size(), std::size_t(1));
        const LogEvent &ev = r->batch.events[0];
        QCOMPARE(ev.message, std::string("protobuf line"));
        QCOMPARE(ev.app, std::string("pb"));
        QCOMPARE(ev.host, std::string("pb-host"));
        QCOMPARE(ev.level, Level::Debug);
        QCOMPARE(ev.tsNs, std::int64_t(1714557600000000042));
        QCOMPARE(ev.spanId, std::string("b7ad6b7169203331"));
        QCOMPARE(attrsOf(ev).value("region").toString(), QString("eu\"1"));
        const std::string text = lokiErrorText(*r);
        QVERIFY2(text.find("stream '{app=\"pb\", oops'") != std::string::npos, text.c_str());
        QVERIFY2(text.find("timestamp out of range") != std::string::npos, text.c_str());

        // Corrupt snappy, a snappy bomb over the limit, not a PushRequest.
        QCOMPARE(decompress("\xff\xff\xff\xff\x0f garbage", ContentEncoding::Snappy, 1 << 20)
                     .error()
                     .code,
                 ErrorCode::TooLarge);
        QCOMPARE(decompress("\x05"
                            "ab",
                            ContentEncoding::Snappy, 1 << 20)
                     .error()
                     .code,
                 ErrorCode::BadRequest);
        std::string zeros(1 << 20, '\0'), bomb;
        snappy::Compress(zeros.data(), zeros.size(), &bomb);
        QCOMPARE(decompress(bomb, ContentEncoding::Snappy, 1000).error().code, ErrorCode::TooLarge);
        QCOMPARE(decodeLokiProtobuf("\x0a\xff\xff", kNow, {}, {}, {}).error().code,
                 ErrorCode::BadRequest);
    }

    void traceIds()
    {
        QCOMPARE(traceIdText("0AF7651916CD43DD8448EB211C80319C", 32).value_or("-"),
                 std::string("0af7651916cd43dd8448eb211c80319c"));
        QVERIFY(!traceIdText(std::string(32, '0'), 32)); // W3C "invalid": no trace
        QVERIFY(!traceIdText("0af7651916cd43dd", 32));
        QVERIFY(!traceIdText("0af7651916cd43dg", 16));
        QCOMPARE(traceIdText("b7ad6b7169203331", 16).value_or("-"),
                 std::string("b7ad6b7169203331"));
    }

    void credentialSchemes()
    {
        const std::string key = "idl_abcdefgh_0123456789abcdefghijklmnopqrstuv";
        auto with = [](std::string name, std::string value) {
            http::Request r;
            r.headers.emplace_back(std::move(name), std::move(value));
            return presentedApiKey(r);
        };
        const auto b64 = [](const std::string &s) {
            return QByteArray::fromStdString(s).toBase64().toStdString();
        };
        QCOMPARE(with("authorization", "Bearer " + key), key);
        QCOMPARE(with("x-api-key", key), key);
        QCOMPARE(with("authorization", "ApiKey " + key), key);                  // as is
        QCOMPARE(with("authorization", "ApiKey " + b64("any-id:" + key)), key); // id:key
        QCOMPARE(with("authorization", "apikey " + b64("x:" + key)), key);
        QCOMPARE(with("authorization", "Basic " + b64("elastic:" + key)), key); // password
        QCOMPARE(with("authorization", "Basic " + b64(key + ":")), key);        // curl -u KEY:
        QCOMPARE(with("authorization", "Basic not-base64!"), std::string());
        QCOMPARE(with("authorization", "Basic " + b64("no colon")), std::string());
        QCOMPARE(with("authorization", "Digest x"), std::string());
        QCOMPARE(with("authorization", "ApiKey garbage"), std::string("garbage")); // refused later
    }

    void lokiAppOfTheCredential()
    {
        const EventCheck shopOnly = [](LogEvent &ev) -> std::optional<Error> {
            if (ev.app.empty())
                ev.app = "shop";
            else if (ev.app != "shop")
                return makeError(ErrorCode::Forbidden, "only shop");
            return std::nullopt;
        };
        auto r =
            decodeLokiJson("{\"streams\":[{\"stream\":{\"env\":\"x\"},\"values\":[[\"1\",\"a\"]]},{"
                           "\"stream\":{\"app\":\"pay\"},\"values\":[[\"1\",\"b\"]]}]}",
                           kNow, {}, {}, shopOnly);
        QVERIFY(r.ok());
        QCOMPARE(r->batch.events.size(), std::size_t(1));
        QCOMPARE(r->batch.events[0].app, std::string("shop"));
        QCOMPARE(r->batch.common, std::optional<ErrorCode>(ErrorCode::Forbidden));
    }
};

QTEST_GUILESS_MAIN(TestCollectorEsLoki)
#include "test_collector_es_loki.moc"
