// Models of the console without any server: ring buffer, CSV quoting, time ranges, profiles,
// and — against an in-process fake gateway on a real WebSocket — the client (auth, reconnect
// with back-off), keyset paging, tail resume, saved queries and the CSV export worker.
#include "fake_gateway.h"
#include "idl/query/parser.h"

#include "idl/console/alerts_model.h"
#include "idl/console/csv_writer.h"
#include "idl/console/export_worker.h"
#include "idl/console/gateway_client.h"
#include "idl/console/histogram_data.h"
#include "idl/console/live_tail_model.h"
#include "idl/console/profile_store.h"
#include "idl/console/query_results_model.h"
#include "idl/console/saved_queries_model.h"
#include "idl/console/secret_store.h"
#include "idl/console/tail_subscription.h"
#include "idl/console/time_range.h"

#include <QBuffer>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>

#include <set>

using namespace idl::console;
using idl::console::testing::FakeEvent;
using idl::console::testing::FakeGateway;

namespace {

// Records the alerts it is told about (the console's tray notifier in the window).
struct RecordingNotifier : AlertNotifier
{
    std::vector<AlertChange> fired;
    void alertFired(const AlertChange &change) override { fired.push_back(change); }
};

AlertChange alertChange(const std::string &rule, const std::string &series, const char *from,
                        const char *to, std::int64_t value, std::int64_t history)
{
    AlertChange c;
    c.history = history;
    c.rule = rule;
    c.name = "checkout errors";
    c.severity = "critical";
    c.series = series;
    c.fromState = from;
    c.toState = to;
    c.value = value;
    c.atNs = nowNs();
    return c;
}

LogRow makeRow(int i)
{
    LogRow r;
    r.id = QStringLiteral("id-%1").arg(i);
    r.tsNs = 1'700'000'000'000'000'000LL + i;
    r.message = QStringLiteral("event %1").arg(i);
    return r;
}

QList<LogRow> makeRows(int first, int count)
{
    QList<LogRow> out;
    for (int i = first; i < first + count; ++i)
        out << makeRow(i);
    return out;
}

// Minimal RFC 4180 reader used to check what the writer produced.
QList<QStringList> parseCsv(const QByteArray &data)
{
    QList<QStringList> records;
    QStringList rec;
    QByteArray field;
    bool quoted = false;
    bool fieldStarted = false;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const char c = data[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < data.size() && data[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
            continue;
        }
        if (c == '"' && !fieldStarted) {
            quoted = true;
            fieldStarted = true;
        } else if (c == ',') {
            rec << QString::fromUtf8(field);
            field.clear();
            fieldStarted = false;
        } else if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') {
            rec << QString::fromUtf8(field);
            records << rec;
            rec.clear();
            field.clear();
            fieldStarted = false;
            ++i;
        } else {
            field += c;
            fieldStarted = true;
        }
    }
    return records;
}

std::vector<FakeEvent> fakeEvents(int n, qint64 baseNs)
{
    std::vector<FakeEvent> out;
    const char *levels[] = {"info", "warn", "error", "debug"};
    for (int i = 0; i < n; ++i) {
        FakeEvent e;
        e.ts = baseNs + static_cast<qint64>(i / 3) * 1'000'000; // ties on ts: keyset on (ts,id)
        e.id = QStringLiteral("00000000-0000-7000-8000-%1").arg(i, 12, 10, QLatin1Char('0'));
        e.level = QString::fromLatin1(levels[i % 4]);
        e.app = i % 2 ? QStringLiteral("checkout") : QStringLiteral("billing");
        e.host = QStringLiteral("web-%1").arg(i % 5);
        e.message = i % 7 == 0 ? QStringLiteral("quote \" comma , newline\nend %1").arg(i)
                               : QStringLiteral("plain message %1 ✓").arg(i);
        e.attrs = QJsonObject{{QStringLiteral("n"), i},
                              {QStringLiteral("user"), QJsonObject{{QStringLiteral("id"), i * 2}}}};
        out.push_back(e);
    }
    return out;
}

} // namespace

class TestConsoleModels : public QObject
{
    Q_OBJECT

    FakeGateway *m_gw = nullptr;
    GatewayClient *m_client = nullptr;
    qint64 m_base = 0;

    bool waitConnected(GatewayClient *c, int ms = 5000)
    {
        return QTest::qWaitFor([c] { return c->isConnected(); }, ms);
    }

private Q_SLOTS:
    void initTestCase()
    {
        qputenv("IDL_CONSOLE_SECRETS", "session");
        m_gw = new FakeGateway(this);
        QVERIFY(m_gw->listen());
        m_base = nowNs() - 3'600'000'000'000LL; // an hour ago
        m_gw->events = fakeEvents(1234, m_base);
    }

    void init()
    {
        m_client = new GatewayClient(this);
        m_client->setReconnectDelays(50, 200);
        m_client->open(ConnectionSettings{m_gw->url(), m_gw->token});
        QVERIFY(waitConnected(m_client));
    }

    void cleanup()
    {
        delete m_client;
        m_client = nullptr;
    }

    // --- ring buffer ------------------------------------------------------------------------

    // Issue 15, finding 8: log text in a tooltip is shown literally, never as rich text
    // (Qt renders a tooltip that merely looks like HTML as HTML).
    void messageToolTipIsPlainText()
    {
        LiveTailModel m;
        LogRow r = makeRow(1);
        r.message = QStringLiteral("<img src=\"file:///etc/passwd\"><b>Session expired</b>, "
                                   "<a href=\"http://evil.example\">log in again</a>");
        m.append({r});
        m.flush();
        const QString tip =
            m.data(m.index(0, LiveTailModel::MessageColumn), Qt::ToolTipRole).toString();
        QVERIFY2(!tip.contains(QLatin1String("<img")) && !tip.contains(QLatin1String("<a ")),
                 qPrintable(tip));
        QVERIFY(tip.contains(QLatin1String("&lt;img")));
        // What the user sees is the message itself.
        QTextDocument doc;
        doc.setHtml(tip);
        QCOMPARE(doc.toPlainText().trimmed(), r.message);
    }

    void ringBufferKeepsNewestRowsInOrder()
    {
        LiveTailModel m;
        m.setCapacity(5);
        QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
        QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
        m.append(makeRows(0, 3));
        QCOMPARE(m.rowCount(), 0); // batched: nothing until the next batch
        m.flush();
        QCOMPARE(m.rowCount(), 3);
        m.append(makeRows(3, 4));
        m.flush();
        QCOMPARE(m.rowCount(), 5);
        QCOMPARE(removed.count(), 1); // one remove of 2 rows from the top
        QCOMPARE(removed.last().at(2).toInt(), 1);
        for (int r = 0; r < 5; ++r)
            QCOMPARE(m.rowAt(r).id, QStringLiteral("id-%1").arg(r + 2));
        // Wrap around several times, one event at a time.
        for (int i = 7; i < 30; ++i) {
            m.append(makeRows(i, 1));
            m.flush();
        }
        for (int r = 0; r < 5; ++r)
            QCOMPARE(m.rowAt(r).id, QStringLiteral("id-%1").arg(r + 25));
        QCOMPARE(m.data(m.index(4, LiveTailModel::MessageColumn)).toString(),
                 QStringLiteral("event 29"));
        QCOMPARE(inserted.count(), 25);
        QCOMPARE(m.totalReceived(), 30);
    }

    void ringBufferBatchLargerThanCapacityKeepsTheNewest()
    {
        LiveTailModel m;
        m.setCapacity(100);
        m.append(makeRows(0, 50));
        m.flush();
        m.append(makeRows(50, 1000));
        m.flush();
        QCOMPARE(m.rowCount(), 100);
        QCOMPARE(m.rowAt(0).id, QStringLiteral("id-950"));
        QCOMPARE(m.rowAt(99).id, QStringLiteral("id-1049"));
    }

    void ringBufferGrowthAfterPartialOverflow()
    {
        // Buffer not yet full, then a batch that overflows it: slots must not collide.
        LiveTailModel m;
        m.setCapacity(10);
        m.append(makeRows(0, 9));
        m.flush();
        m.append(makeRows(9, 4));
        m.flush();
        QCOMPARE(m.rowCount(), 10);
        for (int r = 0; r < 10; ++r)
            QCOMPARE(m.rowAt(r).id, QStringLiteral("id-%1").arg(r + 3));
        m.append(makeRows(13, 5));
        m.flush();
        for (int r = 0; r < 10; ++r)
            QCOMPARE(m.rowAt(r).id, QStringLiteral("id-%1").arg(r + 8));
    }

    void ringBufferPauseAndCapacityChange()
    {
        LiveTailModel m;
        m.setCapacity(10);
        m.append(makeRows(0, 4));
        m.flush();
        m.setPaused(true);
        m.append(makeRows(4, 25));
        m.flush();
        QCOMPARE(m.rowCount(), 4);      // paused: the view does not move
        QCOMPARE(m.pendingCount(), 10); // over 2x the capacity: trimmed to the newest 10
        m.setPaused(false);
        QCOMPARE(m.rowCount(), 10);
        QCOMPARE(m.rowAt(9).id, QStringLiteral("id-28"));
        QCOMPARE(m.localDropped(), 15); // 5 trimmed while paused + 10 beyond the capacity
        m.setCapacity(3);
        QCOMPARE(m.rowCount(), 3);
        QCOMPARE(m.rowAt(0).id, QStringLiteral("id-26"));
        m.addServerDropped(17);
        QCOMPARE(m.serverDropped(), 17);
    }

    void ringBufferDefaultCapacityAndHighlight()
    {
        LiveTailModel m;
        QCOMPARE(m.capacity(), 100'000);
        m.append(makeRows(0, 3));
        m.flush();
        m.setHighlightRules({HighlightRule{QStringLiteral("EVENT 1"), QColor(Qt::yellow)}});
        QCOMPARE(m.data(m.index(1, 0), Qt::BackgroundRole).value<QColor>(), QColor(Qt::yellow));
        QVERIFY(!m.data(m.index(0, 0), Qt::BackgroundRole).isValid());
    }

    // --- CSV --------------------------------------------------------------------------------

    void csvQuoting_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QByteArray>("encoded");
        QTest::newRow("plain") << QStringLiteral("abc") << QByteArray("abc");
        QTest::newRow("empty") << QString() << QByteArray("");
        QTest::newRow("comma") << QStringLiteral("a,b") << QByteArray("\"a,b\"");
        QTest::newRow("quote") << QStringLiteral("say \"hi\"") << QByteArray("\"say \"\"hi\"\"\"");
        QTest::newRow("lf") << QStringLiteral("a\nb") << QByteArray("\"a\nb\"");
        QTest::newRow("crlf") << QStringLiteral("a\r\nb") << QByteArray("\"a\r\nb\"");
        QTest::newRow("lead space") << QStringLiteral(" a") << QByteArray("\" a\"");
        QTest::newRow("utf8") << QStringLiteral("größe ✓ 日本")
                              << QStringLiteral("größe ✓ 日本").toUtf8();
        QTest::newRow("only quote") << QStringLiteral("\"") << QByteArray("\"\"\"\"");
        // Formula injection (CWE-1236): text a spreadsheet would run is written as text.
        QTest::newRow("formula =") << QStringLiteral("=HYPERLINK(\"http://evil\",\"x\")")
                                   << QByteArray("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"");
        QTest::newRow("formula @")
            << QStringLiteral("@SUM(A1:A9)") << QByteArray("\"'@SUM(A1:A9)\"");
        QTest::newRow("formula +")
            << QStringLiteral("+cmd|' /C calc'!A0") << QByteArray("\"'+cmd|' /C calc'!A0\"");
        QTest::newRow("formula -") << QStringLiteral("-2+3") << QByteArray("\"'-2+3\"");
        QTest::newRow("formula tab") << QStringLiteral("\t=1") << QByteArray("\"'\t=1\"");
        QTest::newRow("negative number") << QStringLiteral("-42") << QByteArray("-42");
        QTest::newRow("signed decimal") << QStringLiteral("+1.5") << QByteArray("+1.5");
        QTest::newRow("dash text") << QStringLiteral("- item") << QByteArray("\"'- item\"");
    }

    void csvQuoting()
    {
        QFETCH(QString, field);
        QFETCH(QByteArray, encoded);
        QCOMPARE(CsvWriter::encodeField(field), encoded);
    }

    void csvRecordsRoundTripWithBom()
    {
        QBuffer buf;
        buf.open(QIODevice::WriteOnly);
        const QList<QStringList> records = {
            {QStringLiteral("time"), QStringLiteral("message")},
            {QStringLiteral("1"), QStringLiteral("a \"b\", c\r\nd")},
            {QString(), QStringLiteral("ünïcødé")}};
        {
            CsvWriter w(&buf, true);
            for (const auto &r : records)
                w.writeRecord(r);
            QCOMPARE(w.records(), 3);
        }
        const QByteArray data = buf.data();
        QVERIFY(data.startsWith("\xEF\xBB\xBF"));
        QVERIFY(data.endsWith("\r\n"));
        QCOMPARE(parseCsv(data.mid(3)), records);
        QBuffer noBom;
        noBom.open(QIODevice::WriteOnly);
        {
            CsvWriter w(&noBom, false);
            w.writeRecord({QStringLiteral("x")});
        }
        QCOMPARE(noBom.data(), QByteArray("x\r\n"));
    }

    void csvFieldsFromRow()
    {
        const QJsonObject row{{QStringLiteral("message"), QStringLiteral("m")},
                              {QStringLiteral("attrs"),
                               QJsonObject{{QStringLiteral("b"), 2}, {QStringLiteral("a"), true}}}};
        QCOMPARE(
            csvFieldsForRow(row, {QStringLiteral("message"), QStringLiteral("attrs"),
                                  QStringLiteral("trace_id")}),
            (QStringList{QStringLiteral("m"), QStringLiteral("{\"a\":true,\"b\":2}"), QString()}));
    }

    // --- time ranges, profiles, secrets -----------------------------------------------------

    void timeArguments()
    {
        const qint64 now = 1'800'000'000'000'000'000LL;
        QCOMPARE(parseTimeArgument(QStringLiteral("now"), now).value(), now);
        QCOMPARE(parseTimeArgument(QStringLiteral("-15m"), now).value(), now - 900'000'000'000LL);
        QCOMPARE(parseTimeArgument(QStringLiteral("-500ms"), now).value(), now - 500'000'000LL);
        QCOMPARE(parseTimeArgument(QStringLiteral("-2d"), now).value(),
                 now - 172'800'000'000'000LL);
        QCOMPARE(parseTimeArgument(QStringLiteral("1700000000000000000"), now).value(),
                 1'700'000'000'000'000'000LL);
        QCOMPARE(parseTimeArgument(QStringLiteral("2023-11-14T22:13:20Z"), now).value(),
                 1'700'000'000'000'000'000LL);
        QVERIFY(!parseTimeArgument(QStringLiteral("-15x"), now));
        QVERIFY(!parseTimeArgument(QStringLiteral("yesterday"), now));
        QVERIFY(!TimeRange(QStringLiteral("now"), QStringLiteral("-1h")).resolve(now));
        const TimeRange abs = TimeRange::absolute(100, 200);
        QVERIFY(abs.isAbsolute());
        QCOMPARE(abs.resolve(now)->first, 100);
        QCOMPARE(TimeRange{}.label(), QStringLiteral("Last 15 minutes"));
    }

    void profilesRoundTripAndStackImport()
    {
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("console.ini")), QSettings::IniFormat);
        ProfileStore store(&settings);
        Profile p;
        p.name = QStringLiteral("prod / eu");
        p.gatewayUrl = QUrl(QStringLiteral("wss://logs.example.com:8090/ws"));
        p.colour = QColor(0xaa, 0x22, 0x33);
        QVERIFY(ProfileStore::validate(p).ok());
        store.save(p);
        QCOMPARE(store.find(p.name).value(), p);
        QCOMPARE(store.profiles().size(), 1);
        QVERIFY(!settings.allKeys().join(u' ').contains(QStringLiteral("idt_")));

        Profile bad = p;
        bad.gatewayUrl = QUrl(QStringLiteral("http://x"));
        QVERIFY(!ProfileStore::validate(bad).ok());
        bad = p;
        bad.clientCertFile = dir.filePath(QStringLiteral("missing.pem"));
        QVERIFY(!ProfileStore::validate(bad).ok());

        QFile f(dir.filePath(QStringLiteral("stack.json")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"name\":\"local\",\"gateway_url\":\"ws://127.0.0.1:7081/ws\","
                "\"admin_token\":\"idt_abc_def\",\"collector_url\":\"http://127.0.0.1:7080\","
                "\"ingest_api_key\":\"k\"}");
        f.close();
        auto imported = store.importStack(f.fileName());
        QVERIFY(imported.ok());
        QCOMPARE(imported->first.name, QStringLiteral("local"));
        QCOMPARE(imported->second, QStringLiteral("idt_abc_def"));
        QCOMPARE(store.find(QStringLiteral("local"))->gatewayUrl.port(), 7081);
        QCOMPARE(store.lastUsed(), QStringLiteral("local"));
        QCOMPARE(store.profiles().size(), 2);
        // Secrets never land in the settings file.
        settings.sync();
        QFile ini(settings.fileName());
        QVERIFY(ini.open(QIODevice::ReadOnly));
        QVERIFY(!ini.readAll().contains("idt_abc_def"));
        store.remove(p.name);
        QVERIFY(!store.find(p.name));
    }

    void secretsFallBackToSession()
    {
        SecretStore secrets;
        QCOMPARE(secrets.backend(), SecretStore::Backend::Session);
        bool persisted = true;
        bool wrote = false;
        secrets.write(QStringLiteral("profile/x"), QStringLiteral("s3cret"), [&](bool p, QString) {
            persisted = p;
            wrote = true;
        });
        QVERIFY(QTest::qWaitFor([&] { return wrote; }, 2000));
        QVERIFY(!persisted);
        std::optional<QString> got;
        bool read = false;
        secrets.read(QStringLiteral("profile/x"), [&](std::optional<QString> v, QString) {
            got = v;
            read = true;
        });
        QVERIFY(QTest::qWaitFor([&] { return read; }, 2000));
        QCOMPARE(got.value_or(QString()), QStringLiteral("s3cret"));
    }

    // --- gateway client ---------------------------------------------------------------------

    void clientRejectsBadTokenWithoutRetrying()
    {
        GatewayClient c;
        c.setReconnectDelays(20, 20);
        QSignalSpy lost(&c, &GatewayClient::connectionLost);
        c.open(ConnectionSettings{m_gw->url(), QStringLiteral("idt_wrong")});
        QVERIFY(lost.wait(5000));
        QCOMPARE(lost.first().at(0).value<GatewayError>().code, QStringLiteral("unauthenticated"));
        QCOMPARE(lost.first().at(1).toInt(), -1);
        QTest::qWait(200);
        QCOMPARE(lost.count(), 1);
        QCOMPARE(c.state(), GatewayClient::State::Disconnected);
    }

    void clientBacksOffWhenGatewayIsDown()
    {
        GatewayClient c;
        c.setReconnectDelays(20, 80);
        QCOMPARE(c.nextReconnectDelayMs(), 20);
        QSignalSpy lost(&c, &GatewayClient::connectionLost);
        c.open(
            ConnectionSettings{QUrl(QStringLiteral("ws://127.0.0.1:1/ws")), QStringLiteral("t")});
        QVERIFY(QTest::qWaitFor([&] { return lost.count() >= 4; }, 5000));
        QVERIFY(lost.at(0).at(1).toInt() <= 24); // 20 ms ± 20 %
        QVERIFY(lost.at(3).at(1).toInt() >= 64); // capped at 80 ms ± 20 %
        QCOMPARE(lost.at(0).at(0).value<GatewayError>().code, QStringLiteral("unavailable"));
        // A request sent while down waits for the connection instead of failing.
        GatewayReply *r = c.send({{QStringLiteral("type"), QStringLiteral("ping")}});
        QSignalSpy failed(r, &GatewayReply::failed);
        QTest::qWait(100);
        QCOMPARE(failed.count(), 0);
        c.close();
        QCOMPARE(failed.count(), 1);
    }

    void queryModelPagesWithKeysetCursor()
    {
        QueryResultsModel m(m_client);
        QSignalSpy pages(&m, &QueryResultsModel::pageLoaded);
        m.run(QuerySpec{QString(), TimeRange{QStringLiteral("-2h"), QStringLiteral("now")}, false,
                        500});
        QVERIFY(pages.wait(5000));
        QCOMPARE(m.rowCount(), 500);
        QVERIFY(m.canFetchMore({}));
        const QString firstFrom = m_gw->lastQuery.value(QLatin1String("from")).toString();
        m.fetchMore({});
        QVERIFY(!m.canFetchMore({})); // one page at a time
        QVERIFY(pages.wait(5000));
        QCOMPARE(m.rowCount(), 1000);
        // Every page asks for the same pinned range.
        QCOMPARE(m_gw->lastQuery.value(QLatin1String("from")).toString(), firstFrom);
        m.fetchMore({});
        QVERIFY(pages.wait(5000));
        QCOMPARE(m.rowCount(), 1234);
        QVERIFY(!m.canFetchMore({}));
        QCOMPARE(m.pagesLoaded(), 3);
        // Newest first, (ts,id) strictly decreasing, each event exactly once.
        std::set<QString> ids;
        for (int r = 0; r < m.rowCount(); ++r) {
            ids.insert(m.rowAt(r).id);
            if (r > 0)
                QVERIFY(std::make_pair(m.rowAt(r).tsNs, m.rowAt(r).id) <
                        std::make_pair(m.rowAt(r - 1).tsNs, m.rowAt(r - 1).id));
        }
        QCOMPARE(ids.size(), size_t(1234));
        // Attribute columns read nested paths.
        m.addAttributeColumn(QStringLiteral("@user.id"));
        QCOMPARE(m.columnCount(), QueryResultsModel::FixedColumns + 1);
        const int n = m.rowAt(0).attrs().value(QLatin1String("n")).toInt();
        QCOMPARE(m.data(m.index(0, QueryResultsModel::FixedColumns)).toString(),
                 QString::number(n * 2));
    }

    void querySyntaxErrorCarriesPosition()
    {
        QueryResultsModel m(m_client);
        QSignalSpy failed(&m, &QueryResultsModel::failed);
        m.run(QuerySpec{QStringLiteral("app:x (oops"), TimeRange{}, false, 100});
        QVERIFY(failed.wait(5000));
        const auto e = failed.first().at(0).value<GatewayError>();
        QCOMPARE(e.code, QStringLiteral("query_syntax"));
        // The position the query language reports (the fake runs the real parser).
        const auto parsed = idl::query::parse("app:x (oops");
        QVERIFY(!parsed);
        QVERIFY(parsed.error().position > 0);
        QCOMPARE(e.position, parsed.error().position);
    }

    void tailResumesAfterReconnect()
    {
        LiveTailModel model;
        TailSubscription tail(m_client, &model);
        QSignalSpy started(&tail, &TailSubscription::started);
        tail.start(QStringLiteral("level:error"));
        QVERIFY(started.wait(5000));
        QJsonArray rows;
        for (int i = 0; i < 3; ++i)
            rows.append(m_gw->events[static_cast<size_t>(i)].toJson());
        m_gw->pushTail(rows, 2, 42);
        QVERIFY(QTest::qWaitFor([&] { return model.totalReceived() == 3; }, 5000));
        model.flush();
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.serverDropped(), 2);
        QCOMPARE(tail.positions().value(QLatin1String("0")).toInt(), 42);

        const int startsBefore = m_gw->tailStarts;
        m_gw->dropAll();
        QVERIFY(QTest::qWaitFor([&] { return m_gw->tailStarts == startsBefore + 1; }, 5000));
        const QJsonObject resume = m_gw->lastTailStart.value(QLatin1String("resume")).toObject();
        QCOMPARE(
            resume.value(QLatin1String("positions")).toObject().value(QLatin1String("0")).toInt(),
            42);
        QCOMPARE(m_gw->lastTailStart.value(QLatin1String("q")).toString(),
                 QStringLiteral("level:error"));
        QCOMPARE(tail.resumeCount(), 1);
        QVERIFY(tail.isActive());
        tail.stop();
        QVERIFY(QTest::qWaitFor([&] { return m_gw->activeTails() == 0; }, 5000));
    }

    void savedQueriesCrud()
    {
        m_gw->saved.clear();
        SavedQueriesModel m(m_client);
        bool done = false;
        SavedQuery q;
        q.name = QStringLiteral("errors");
        q.q = QStringLiteral("level:error");
        m.save(q, [&](const SavedQuery *s, const GatewayError *e) {
            QVERIFY(s && !e);
            done = true;
        });
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
        QCOMPARE(m.rowCount(), 1);
        const QString uuid = m.at(0).uuid;
        QVERIFY(!uuid.isEmpty());
        done = false;
        m.rename(uuid, QStringLiteral("all errors"),
                 [&](const SavedQuery *, const GatewayError *) { done = true; });
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
        QCOMPARE(m.data(m.index(0)).toString(), QStringLiteral("all errors"));
        SavedQueriesModel other(m_client);
        QSignalSpy refreshed(&other, &SavedQueriesModel::refreshed);
        other.refresh();
        QVERIFY(refreshed.wait(5000));
        QCOMPARE(other.rowCount(), 1);
        QCOMPARE(other.at(0).q, QStringLiteral("level:error"));
        done = false;
        m.remove(uuid, [&](const SavedQuery *, const GatewayError *) { done = true; });
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
        QCOMPARE(m.rowCount(), 0);
    }

    // Issue 20: alert rules through the protocol: created with every field, read back,
    // changed, listed by a second model, refused when invalid (the gateway's decoder), deleted.
    void alertRulesCrud()
    {
        m_gw->alertRules.clear();
        AlertRulesModel m(m_client);
        AlertRuleDraft d;
        d.name = "checkout errors";
        d.q = "app:checkout level:>=error";
        d.windowMs = 300'000;
        d.threshold = 50;
        d.groupBy = "host";
        d.intervalMs = 30'000;
        d.forMs = 60'000;
        d.resolveMs = 120'000;
        d.severity = "critical";
        d.targets = {{"slack", "https://hooks.example.com/services/T0"},
                     {"webhook", "http://127.0.0.1:9/hook"}};
        d.shared = true;
        std::optional<AlertRule> stored;
        GatewayError error;
        bool done = false;
        const auto onSaved = [&](const AlertRule *r, const GatewayError *e) {
            if (r)
                stored = *r;
            if (e)
                error = *e;
            done = true;
        };
        m.save(d, onSaved);
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
        QVERIFY2(stored, qPrintable(error.text()));
        QVERIFY(!stored->rule.uuid.empty());
        AlertRuleDraft expected = d;
        expected.uuid = stored->rule.uuid;
        QVERIFY(stored->rule == expected);
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(m.data(m.index(0, AlertRulesModel::ConditionCol)).toString(),
                 QStringLiteral("count > 50 in 5m, per host"));
        QCOMPARE(m_gw->alertRules.size(), size_t(1));
        QVERIFY(m_gw->alertRules[0].rule == expected); // what the gateway decoded

        done = false;
        stored.reset();
        m.fetch(QString::fromStdString(expected.uuid), onSaved);
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
        QVERIFY(stored && stored->rule == expected);
        QCOMPARE(stored->owner, std::string("tester"));

        expected.threshold = 5;
        expected.enabled = false;
        expected.condition = "below";
        done = false;
        m.save(expected, onSaved);
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(m.data(m.index(0, AlertRulesModel::EnabledCol)).toString(), QStringLiteral("off"));
        QCOMPARE(m.data(m.index(0, AlertRulesModel::ConditionCol)).toString(),
                 QStringLiteral("count < 5 in 5m, per host"));

        AlertRulesModel other(m_client);
        QSignalSpy refreshed(&other, &AlertRulesModel::refreshed);
        other.refresh();
        QVERIFY(refreshed.wait(5000));
        QCOMPARE(other.rowCount(), 1);
        QVERIFY(other.at(0).rule == expected);

        // `below` needs a threshold of at least 1: the gateway's decoder says so, nothing stored.
        AlertRuleDraft bad = expected;
        bad.uuid.clear();
        bad.threshold = 0;
        done = false;
        stored.reset();
        error = {};
        m.save(bad, onSaved);
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
        QVERIFY(!stored);
        QCOMPARE(error.code, QStringLiteral("bad_field"));
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(m_gw->alertRules.size(), size_t(1));

        bool removed = false;
        m.remove(QString::fromStdString(expected.uuid), [&](const GatewayError *e) {
            removed = !e;
            done = true;
        });
        done = false;
        QVERIFY(QTest::qWaitFor([&] { return done; }, 5000));
        QVERIFY(removed);
        QCOMPARE(m.rowCount(), 0);
        QVERIFY(m_gw->alertRules.empty());
    }

    // Issue 20: the preview counts the rule's series per window as the gateway does.
    void alertTestCountsEachSeries()
    {
        AlertRulesModel m(m_client);
        AlertRuleDraft d;
        d.q = "level:error";
        d.windowMs = 3'600'000;
        d.groupBy = "app";
        d.threshold = 100;
        std::optional<AlertTestResult> result;
        m.test(d, 3, [&](const AlertTestResult *r, const GatewayError *e) {
            QVERIFY2(r, e ? qPrintable(e->text()) : "");
            result = *r;
        });
        QVERIFY(QTest::qWaitFor([&] { return result.has_value(); }, 5000));
        QCOMPARE(result->windowMs, qint64(3'600'000));
        QCOMPARE(result->buckets.size(), size_t(3));
        std::map<std::string, std::int64_t> expected;
        for (const auto &e : m_gw->events)
            if (e.level == u"error")
                ++expected[e.app.toStdString()];
        std::map<std::string, std::int64_t> counted;
        for (const auto &b : result->buckets)
            for (const auto &[k, c] : b.counts)
                counted[k] += c;
        QVERIFY(!expected.empty());
        QVERIFY(counted == expected);
        QCOMPARE(result->keys.size(), expected.size());
    }

    // Issue 20: the firing list is listed, then kept current by alert.state pushes; only a
    // series starting to fire reaches the notifier; history gets every change.
    void firingListFollowsPushes()
    {
        m_gw->alertSeries.clear();
        m_gw->alertChanges.clear();
        AlertSeries s;
        s.rule = "00000000-0000-4000-8000-000000000001";
        s.name = "billing silent";
        s.severity = "warning";
        s.state = "firing";
        s.sinceNs = nowNs() - 60'000'000'000LL;
        s.evaluatedNs = nowNs();
        m_gw->alertSeries.push_back(s);
        AlertWatch watch(m_client);
        RecordingNotifier notifier;
        watch.setNotifier(&notifier);
        QSignalSpy counts(&watch, &AlertWatch::firingCountChanged);
        watch.firing()->refresh();
        QVERIFY(QTest::qWaitFor([&] { return watch.firing()->rowCount() == 1; }, 5000));
        QCOMPARE(counts.last().at(0).toInt(), 1);

        const std::string rule = "00000000-0000-4000-8000-000000000002";
        m_gw->pushAlertState(alertChange(rule, "<b>checkout</b>", "ok", "pending", 51, 10));
        QVERIFY(QTest::qWaitFor([&] { return watch.firing()->rowCount() == 2; }, 5000));
        QCOMPARE(watch.firing()->firingCount(), 1);
        QVERIFY(notifier.fired.empty()); // pending is not firing yet
        m_gw->pushAlertState(alertChange(rule, "<b>checkout</b>", "pending", "firing", 57, 11));
        QVERIFY(QTest::qWaitFor([&] { return notifier.fired.size() == 1; }, 5000));
        QCOMPARE(notifier.fired[0].value, std::int64_t(57));
        QCOMPARE(notifier.fired[0].series, std::string("<b>checkout</b>"));
        QCOMPARE(watch.firing()->rowCount(), 2);
        QCOMPARE(watch.firing()->firingCount(), 2);
        QCOMPARE(counts.last().at(0).toInt(), 2);
        // Newest first; series text is shown as it is, and its tooltip is never rich text.
        const QModelIndex series = watch.firing()->index(0, FiringAlertsModel::SeriesCol);
        QCOMPARE(series.data().toString(), QStringLiteral("<b>checkout</b>"));
        QTextDocument tip; // the tooltip shows the name itself, not a bold word
        tip.setHtml(series.data(Qt::ToolTipRole).toString());
        QCOMPARE(tip.toPlainText().trimmed(), QStringLiteral("<b>checkout</b>"));

        m_gw->pushAlertState(alertChange(rule, "<b>checkout</b>", "firing", "ok", 3, 12));
        QVERIFY(QTest::qWaitFor([&] { return watch.firing()->rowCount() == 1; }, 5000));
        QCOMPARE(watch.firing()->at(0).name, std::string("billing silent"));
        QCOMPARE(counts.last().at(0).toInt(), 1);
        QCOMPARE(notifier.fired.size(), size_t(1)); // a resolution is not a new alert
        QCOMPARE(watch.history()->rowCount(), 3);
        QCOMPARE(watch.history()
                     ->data(watch.history()->index(0, AlertHistoryModel::ChangeCol))
                     .toString(),
                 QStringLiteral("resolved"));

        // The history as the gateway lists it (newest first), one rule.
        AlertRule stored;
        stored.rule.uuid = rule;
        stored.rule.name = "checkout errors";
        m_gw->alertRules = {stored};
        QSignalSpy listed(watch.history(), &AlertHistoryModel::refreshed);
        QSignalSpy failed(watch.history(), &AlertHistoryModel::failed);
        watch.history()->refresh(QString::fromStdString(rule));
        QVERIFY(QTest::qWaitFor([&] { return listed.size() + failed.size() > 0; }, 5000));
        if (!failed.isEmpty())
            QFAIL(qPrintable(failed.first().at(0).value<GatewayError>().text()));
        QCOMPARE(watch.history()->rowCount(), 3);
        QCOMPARE(watch.history()->at(0).history, std::int64_t(12));
        m_gw->alertRules.clear();
    }

    void durationsRoundTrip()
    {
        QCOMPARE(formatDurationMs(300'000), QStringLiteral("5m"));
        QCOMPARE(formatDurationMs(90'000), QStringLiteral("90s"));
        QCOMPARE(formatDurationMs(86'400'000), QStringLiteral("1d"));
        QCOMPARE(formatDurationMs(1500), QStringLiteral("1500ms"));
        QCOMPARE(formatDurationMs(0), QStringLiteral("0s"));
        for (qint64 ms : {qint64(1000), qint64(90'000), qint64(3'600'000), qint64(1500)})
            QCOMPARE(parseDurationMs(formatDurationMs(ms)), std::optional<qint64>(ms));
        QVERIFY(!parseDurationMs(QStringLiteral("five minutes")));
    }

    void histogramParses()
    {
        // Two minutes from the first event, in 1-minute buckets: every fake event is in it.
        const qint64 minute = 60'000'000'000LL;
        const qint64 from = m_base - m_base % minute;
        GatewayReply *r = m_client->send(
            aggregateRequest(QString(), from, from + 2 * minute, QStringLiteral("level"), 60000));
        QSignalSpy fin(r, &GatewayReply::finished);
        QVERIFY(fin.wait(5000));
        const auto h = HistogramData::fromJson(fin.first().at(0).toJsonObject());
        QCOMPARE(h.bucketMs, 60000);
        QCOMPARE(h.buckets.size(), size_t(2));
        QMap<QString, qint64> expected;
        for (const auto &e : m_gw->events)
            ++expected[e.level];
        for (auto it = expected.begin(); it != expected.end(); ++it)
            QCOMPARE(h.totalFor(it.key()), it.value());
        QVERIFY(h.maxStacked() > 0);
        QCOMPARE(h.nonEmptyKeys(), (QStringList{QStringLiteral("debug"), QStringLiteral("info"),
                                                QStringLiteral("warn"), QStringLiteral("error")}));
    }

    // Issue 19, item 5: round ticks on count axes.
    void niceScaleGivesRoundTicks_data()
    {
        QTest::addColumn<double>("largest");
        QTest::addColumn<int>("maxTicks");
        QTest::addColumn<double>("max");
        QTest::addColumn<double>("step");
        QTest::newRow("345 (was 0,115,230,345)") << 345.0 << 4 << 400.0 << 100.0;
        QTest::newRow("1148 (was 0,382,765,1148)") << 1148.0 << 4 << 1500.0 << 500.0;
        QTest::newRow("exact") << 400.0 << 4 << 400.0 << 100.0;
        QTest::newRow("small") << 3.0 << 4 << 3.0 << 1.0;
        QTest::newRow("zero") << 0.0 << 4 << 1.0 << 1.0;
        QTest::newRow("big") << 123456.0 << 5 << 150000.0 << 50000.0;
        QTest::newRow("seven") << 7.0 << 5 << 8.0 << 2.0;
    }

    void niceScaleGivesRoundTicks()
    {
        QFETCH(double, largest);
        QFETCH(int, maxTicks);
        QFETCH(double, max);
        QFETCH(double, step);
        const NiceScale s = niceScale(largest, maxTicks);
        QCOMPARE(s.max, max);
        QCOMPARE(s.step, step);
        QVERIFY(s.max >= largest);
        QVERIFY(s.ticks - 1 <= maxTicks);
        QCOMPARE(s.ticks, static_cast<int>(max / step) + 1);
    }

    void exportWritesEveryMatchingRow()
    {
        QTemporaryDir dir;
        ExportRequest req;
        req.connection = ConnectionSettings{m_gw->url(), m_gw->token};
        req.from = QString::number(m_base);
        req.to = QString::number(nowNs());
        req.path = dir.filePath(QStringLiteral("out.csv"));
        req.chunk = 100;
        req.columns = {QStringLiteral("id"), QStringLiteral("level"), QStringLiteral("message"),
                       QStringLiteral("attrs")};
        ExportJob job;
        QSignalSpy finished(&job, &ExportJob::finished);
        QSignalSpy progress(&job, &ExportJob::progress);
        QVERIFY(job.start(req));
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.first().at(0).toLongLong(), 1234);
        QVERIFY(progress.count() >= 12);
        QVERIFY(!QFile::exists(req.path + QStringLiteral(".part")));
        QFile f(req.path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto records = parseCsv(f.readAll());
        QCOMPARE(records.size(), 1235);
        QCOMPARE(records.first(), req.columns);
        auto events = m_gw->events;
        std::sort(events.begin(), events.end(), [](const FakeEvent &a, const FakeEvent &b) {
            return std::make_pair(a.ts, a.id) < std::make_pair(b.ts, b.id);
        });
        for (size_t i = 0; i < events.size(); ++i)
            QCOMPARE(records.at(static_cast<qsizetype>(i) + 1),
                     csvFieldsForRow(events[i].toJson(), req.columns));
    }

    // Issue 19: the default export folder (~/Documents) may not exist on a fresh account.
    void exportIntoAMissingFolder()
    {
        QTemporaryDir dir;
        ExportRequest req;
        req.connection = ConnectionSettings{m_gw->url(), m_gw->token};
        req.from = QString::number(m_base);
        req.to = QString::number(nowNs());
        req.path = dir.filePath(QStringLiteral("Documents/exports/out.csv"));
        req.columns = {QStringLiteral("id"), QStringLiteral("message")};
        ExportJob job;
        QSignalSpy finished(&job, &ExportJob::finished);
        QSignalSpy failed(&job, &ExportJob::failed);
        QVERIFY(job.start(req));
        QVERIFY(finished.wait(10000));
        QVERIFY(failed.isEmpty());
        QCOMPARE(finished.first().at(0).toLongLong(), 1234);
        QVERIFY(QFile::exists(req.path));
    }

    void exportCancelLeavesNoFile()
    {
        QTemporaryDir dir;
        ExportRequest req;
        req.connection = ConnectionSettings{m_gw->url(), m_gw->token};
        req.from = QString::number(m_base);
        req.to = QString::number(nowNs());
        req.path = dir.filePath(QStringLiteral("cancelled.csv"));
        ExportJob job;
        QSignalSpy cancelled(&job, &ExportJob::cancelled);
        QVERIFY(job.start(req));
        job.cancel();
        QVERIFY(cancelled.wait(5000));
        QVERIFY(!job.isRunning());
        QVERIFY(!QFile::exists(req.path));
        QVERIFY(!QFile::exists(req.path + QStringLiteral(".part")));
    }
};

QTEST_GUILESS_MAIN(TestConsoleModels)
#include "test_console_models.moc"
