// The console's models against a real local cluster (`idl-stack up`: PostgreSQL, Kafka,
// collector, processor, writer, gateway): events posted to the collector show up in a live
// tail and in a paged query, the histogram counts them, and a CSV export of the same query
// holds exactly the rows the query model shows.
#include "idl/console/csv_writer.h"
#include "idl/console/export_worker.h"
#include "idl/console/gateway_client.h"
#include "idl/console/histogram_data.h"
#include "idl/console/live_tail_model.h"
#include "idl/console/profile_store.h"
#include "idl/console/query_results_model.h"
#include "idl/console/tail_subscription.h"
#include "idl_test_stack.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <set>

using namespace idl::console;

using idl::testsupport::binPath;

namespace {

// RFC 4180 reader (the writer's own unit test checks the quoting; this checks content).
QList<QStringList> parseCsv(const QByteArray &data)
{
    QList<QStringList> records;
    QStringList rec;
    QByteArray field;
    bool quoted = false;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const char c = data[i];
        if (quoted) {
            if (c == '"' && i + 1 < data.size() && data[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            rec << QString::fromUtf8(field);
            field.clear();
        } else if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') {
            rec << QString::fromUtf8(field);
            records << rec;
            rec.clear();
            field.clear();
            ++i;
        } else {
            field += c;
        }
    }
    return records;
}

} // namespace

class TestConsoleStack : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    idl::testsupport::StackProcess m_stack{m_tmp.filePath(QStringLiteral("stack")),
                                           m_tmp.filePath(QStringLiteral("stack.out"))};
    StackInfo m_info;
    GatewayClient *m_client = nullptr;
    QString m_app;
    QStringList m_sentMessages;

    int post(const QByteArray &ndjson)
    {
        QNetworkAccessManager nam;
        QNetworkRequest req(QUrl(m_info.collectorUrl.toString() + QStringLiteral("/api/v1/logs")));
        req.setRawHeader("Authorization", "Bearer " + m_info.ingestApiKey.toUtf8());
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/x-ndjson"));
        req.setTransferTimeout(30'000);
        QNetworkReply *r = nam.post(req, ndjson);
        QSignalSpy done(r, &QNetworkReply::finished);
        done.wait(35'000);
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status / 100 != 2)
            qWarning().noquote() << "collector said" << status << r->readAll();
        r->deleteLater();
        return status;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!QFile::exists(binPath(QStringLiteral("idl-stack"))) ||
            !QFile::exists(binPath(QStringLiteral("idl-gateway"))))
            QSKIP("idl-stack or idl-gateway is not built in IDL_BIN_DIR; build the backend "
                  "(IDL_BUILD_BACKEND=ON) to run the console against a real stack");
        // PostgreSQL runs as another user when the tests run as root: let it enter the folder.
        QFile::setPermissions(m_tmp.path(), QFile::permissions(m_tmp.path()) |
                                                QFileDevice::ExeOther | QFileDevice::ExeGroup);
        const QString why = m_stack.up({QStringLiteral("--collector-port"), QStringLiteral("0"),
                                        QStringLiteral("--gateway-port"), QStringLiteral("0")},
                                       150'000);
        QVERIFY2(why.isEmpty(), qPrintable(why));
        // The console's own reader of stack.json (what "Connect to local stack" uses).
        auto info = readStackJson(m_stack.jsonPath());
        QVERIFY2(info.ok(), info.ok() ? "" : info.error().message.c_str());
        m_info = *info;
        qInfo("stack up in %lld ms: gateway %s", static_cast<long long>(m_stack.upMs()),
              qPrintable(m_info.gatewayUrl.toString()));

        m_client = new GatewayClient(this);
        m_client->open(ConnectionSettings{m_info.gatewayUrl, m_info.adminToken});
        QVERIFY2(QTest::qWaitFor([this] { return m_client->isConnected(); }, 20'000),
                 qPrintable(m_client->lastError().text()));
        QCOMPARE(m_client->serverInfo().version, 1);
        m_app = QStringLiteral("console-test-%1")
                    .arg(QUuid::createUuid().toString(QUuid::Id128).left(8));
    }

    void ingestedEventsAppearInTheLiveTail()
    {
        LiveTailModel model;
        TailSubscription tail(m_client, &model);
        QSignalSpy started(&tail, &TailSubscription::started);
        QSignalSpy failed(&tail, &TailSubscription::failed);
        tail.start(QStringLiteral("app:") + m_app);
        QVERIFY2(started.wait(20'000),
                 failed.isEmpty() ? "no tail.started"
                                  : qPrintable(failed.first().at(0).value<GatewayError>().text()));

        QByteArray ndjson;
        const char *levels[] = {"info", "warn", "error", "debug", "fatal"};
        for (int i = 0; i < 60; ++i) {
            QString msg = QStringLiteral("console e2e %1 ✓").arg(i);
            if (i % 6 == 0)
                msg += QStringLiteral(", with \"quotes\"\nand a second line");
            m_sentMessages << msg;
            const QJsonObject ev{
                {QStringLiteral("app"), m_app},
                {QStringLiteral("host"), QStringLiteral("host-%1").arg(i % 3)},
                {QStringLiteral("level"), QString::fromLatin1(levels[i % 5])},
                {QStringLiteral("msg"), msg},
                {QStringLiteral("order"), i},
                {QStringLiteral("user"), QJsonObject{{QStringLiteral("id"), i * 7}}}};
            ndjson += QJsonDocument(ev).toJson(QJsonDocument::Compact) + '\n';
        }
        QCOMPARE(post(ndjson) / 100, 2);

        QVERIFY2(QTest::qWaitFor([&] { return model.totalReceived() >= 60; }, 60'000),
                 qPrintable(QStringLiteral("tail got %1 of 60").arg(model.totalReceived())));
        model.flush();
        QCOMPARE(model.rowCount(), 60);
        QCOMPARE(model.serverDropped(), 0);
        QStringList got;
        for (int r = 0; r < model.rowCount(); ++r) {
            got << model.rowAt(r).message;
            QCOMPARE(model.rowAt(r).app, m_app);
        }
        got.sort();
        QStringList want = m_sentMessages;
        want.sort();
        QCOMPARE(got, want);
        tail.stop();
    }

    void queryModelPagesThroughTheStoredEvents()
    {
        QueryResultsModel model(m_client);
        QuerySpec spec{QStringLiteral("app:") + m_app,
                       TimeRange{QStringLiteral("-1h"), QStringLiteral("now")}, false, 25};
        // The writer stores asynchronously: re-run until every event is there.
        QElapsedTimer t;
        t.start();
        int total = 0;
        while (t.elapsed() < 60'000) {
            QSignalSpy pages(&model, &QueryResultsModel::pageLoaded);
            QSignalSpy failed(&model, &QueryResultsModel::failed);
            model.run(spec);
            while (true) {
                QVERIFY(QTest::qWaitFor([&] { return !model.isLoading(); }, 30'000));
                QVERIFY2(failed.isEmpty(),
                         failed.isEmpty()
                             ? ""
                             : qPrintable(failed.first().at(0).value<GatewayError>().text()));
                if (!model.canFetchMore({}))
                    break;
                model.fetchMore({});
            }
            total = model.rowCount();
            if (total >= 60)
                break;
            QTest::qWait(1000);
        }
        QCOMPARE(total, 60);
        QCOMPARE(model.pagesLoaded(), 3); // 25 + 25 + 10
        std::set<QString> ids;
        QStringList messages;
        for (int r = 0; r < model.rowCount(); ++r) {
            ids.insert(model.rowAt(r).id);
            messages << model.rowAt(r).message;
            if (r > 0)
                QVERIFY(model.rowAt(r).tsNs <= model.rowAt(r - 1).tsNs);
        }
        QCOMPARE(ids.size(), size_t(60));
        messages.sort();
        QStringList want = m_sentMessages;
        want.sort();
        QCOMPARE(messages, want);
        QCOMPARE(model.rowAt(0).attribute(QStringLiteral("user.id")).toInt() % 7, 0);

        // The histogram over the same range counts the same events.
        GatewayReply *agg = m_client->send(aggregateRequest(spec.q, model.fromNs(), model.toNs()));
        QSignalSpy aggDone(agg, &GatewayReply::finished);
        QVERIFY(aggDone.wait(20'000));
        const auto h = HistogramData::fromJson(aggDone.first().at(0).toJsonObject());
        QCOMPARE(h.total, 60);
        QCOMPARE(h.totalFor(QStringLiteral("error")), 12);

        // Export the same query and compare the file with the model, row by row.
        QTemporaryDir out;
        ExportRequest req;
        req.connection = ConnectionSettings{m_info.gatewayUrl, m_info.adminToken};
        req.q = spec.q;
        req.from = QString::number(model.fromNs());
        req.to = QString::number(model.toNs());
        req.ascending = false;
        req.columns = rowColumnKeys();
        req.chunk = 7;
        req.path = out.filePath(QStringLiteral("export.csv"));
        req.byteOrderMark = true;
        ExportJob job;
        QSignalSpy finished(&job, &ExportJob::finished);
        QSignalSpy failedExport(&job, &ExportJob::failed);
        QVERIFY(job.start(req));
        QVERIFY2(finished.wait(60'000),
                 failedExport.isEmpty()
                     ? "export did not finish"
                     : qPrintable(failedExport.first().at(0).value<GatewayError>().text()));
        QCOMPARE(finished.first().at(0).toLongLong(), 60);
        QFile f(req.path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray data = f.readAll();
        QVERIFY(data.startsWith("\xEF\xBB\xBF"));
        const auto records = parseCsv(data.mid(3));
        QCOMPARE(records.size(), 61);
        QCOMPARE(records.first(), req.columns);
        const auto attrsAt = req.columns.indexOf(QStringLiteral("attrs"));
        for (int r = 0; r < 60; ++r) {
            QStringList got = records.at(r + 1);
            QStringList expected = csvFieldsForRow(model.rowAt(r).toJson(), req.columns);
            // attrs is JSON text: equal as objects (key order is the gateway's).
            QCOMPARE(QJsonDocument::fromJson(got.at(attrsAt).toUtf8()).object(),
                     model.rowAt(r).attrs());
            got.removeAt(attrsAt);
            expected.removeAt(attrsAt);
            QCOMPARE(got, expected);
        }
    }

    void cleanupTestCase()
    {
        delete m_client;
        m_client = nullptr;
        m_stack.down(120'000);
    }
};

QTEST_GUILESS_MAIN(TestConsoleStack)
#include "test_console_stack.moc"
