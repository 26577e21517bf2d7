// Syslog into the real collector and a real Kafka broker, from the real senders, unchanged:
// an unprivileged rsyslogd (its own config, pid file and work folder in a temporary folder,
// fed through imuxsock on a private socket by `logger -u`) forwarding with omfwd over TCP
// with octet counting (RFC 5424 template), over TLS (gtls, the test's CA, its client
// certificate mapped to an app) and over UDP (the traditional RFC 3164 format); and
// `logger --server` over TCP (octet counting and LF framing) and UDP, RFC 5424 and RFC 3164.
// syslog-ng (Debian's, unpacked beside rsyslog) with the destinations of docs/ingest.md, taken
// from the doc itself, over TCP, TLS and UDP. Every event is read back from the raw topic and
// checked field by field. A malformed message among good ones, and an oversize one, lose
// nothing else.
#undef QT_NO_CAST_FROM_ASCII
#include "collector_fixture.h"
#include "idl_test_servers.h"
#include "real_clients.h"

#include "idl/collector/collector.h"
#include "idl/core/event_encoding.h"
#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"
#include "idl/kafka/consumer.h"

#include <QDir>
#include <QElapsedTimer>
#include <QHostInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <set>

using namespace idl;
using namespace idl::collector;

namespace {

using collectortest::TopicReader;
using collectortest::TopicRecord;

// The record's attrs.syslog object.
QJsonObject sys(const TopicRecord &r)
{
    return r.attrs().value("syslog").toObject();
}

QByteArray sh(const QString &script, const QString &dir)
{
    QProcess p;
    p.setWorkingDirectory(dir);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start("/bin/sh", {"-ec", script});
    p.waitForFinished(60'000);
    const QByteArray out = p.readAll();
    if (p.exitCode() != 0)
        qWarning("script failed: %s", out.constData());
    return p.exitCode() == 0 ? out : QByteArray();
}

} // namespace

class TestSyslogIntegration : public QObject
{
    Q_OBJECT

    std::string m_bootstrap, m_topic;
    QTemporaryDir m_dir;
    std::unique_ptr<Collector> m_collector;
    std::unique_ptr<TopicReader> m_topicReader; // everything read from the topic so far
    quint16 m_tcp = 0, m_tls = 0, m_udp = 0, m_any = 0;
    std::int64_t m_startNs = 0;

    // Reads the topic until every message in `want` arrived `copies` times (one per listener
    // it was forwarded to: the TLS action may still be in its handshake when the others are in).
    void drain(const std::vector<std::string> &want, int copies = 1, int maxMs = 30'000)
    {
        const std::string error =
            m_topicReader->drain(std::set<std::string>(want.begin(), want.end()), 0, maxMs, copies);
        QVERIFY2(error.empty(), error.c_str());
    }

    std::vector<const TopicRecord *> all(const std::string &message) const
    {
        std::vector<const TopicRecord *> out;
        for (const auto &r : m_topicReader->records)
            if (r.event.message == message)
                out.push_back(&r);
        return out;
    }

    // The one record of `message` with app `app` (fails the test if not exactly one).
    const TopicRecord *one(const std::string &message, const std::string &app)
    {
        const TopicRecord *found = nullptr;
        int n = 0;
        for (const auto *r : all(message))
            if (r->event.app == app) {
                found = r;
                ++n;
            }
        if (n != 1)
            qWarning("%d records of \"%s\" for app %s", n, message.c_str(), app.c_str());
        return n == 1 ? found : nullptr;
    }

    bool recent(const LogEvent &ev) const
    {
        const std::int64_t now = nowNs();
        return ev.tsNs > m_startNs - 120'000'000'000LL && ev.tsNs < now + 120'000'000'000LL &&
               ev.receivedNs >= m_startNs && ev.receivedNs <= now;
    }

    bool logger(const QStringList &args)
    {
        QProcess p;
        p.start("logger", args);
        p.waitForFinished(20'000);
        if (p.exitCode() != 0)
            qWarning("logger failed: %s", p.readAll().constData());
        return p.exitCode() == 0;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_startNs = nowNs();
        auto broker = testsupport::kafka();
        IDL_VERIFY_OK(broker);
        m_bootstrap = (*broker)->bootstrap().toStdString();
        auto topic = testsupport::freshTopic("syslog", 2);
        IDL_VERIFY_OK(topic);
        m_topic = *topic;

        const QByteArray ok =
            sh("gen() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
               "  -keyout $1.key -out $1.crt -days 2 -subj /CN=$1 2>/dev/null; }\n"
               "leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
               "  -keyout $1.key -out $1.csr -subj /CN=$2 2>/dev/null;"
               "  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n"
               "extendedKeyUsage=serverAuth,clientAuth\\n' > $1.ext;"
               "  openssl x509 -req -in $1.csr -CA $3.crt -CAkey $3.key -CAcreateserial "
               "  -out $1.crt -days 2 -extfile $1.ext 2>/dev/null; }\n"
               "gen ca; leaf server localhost ca; leaf client rsyslog-client ca\n"
               "echo ok",
               m_dir.path());
        QVERIFY(ok.contains("ok"));

        CollectorOptions o;
        o.http.address = "127.0.0.1";
        o.kafkaBootstrap = m_bootstrap;
        o.topic = m_topic;
        o.createTopic = false;
        o.ackTimeout = std::chrono::milliseconds(5000);
        o.rateLimitPerSecond = 0;
        o.collectorId = "syslog-test";
        o.auth.certApps = parseCertApps("rsyslog-client=secure").value();
        o.syslog.defaultAddress = "127.0.0.1";
        o.syslog.listeners =
            syslog::parseListenerSpecs("tcp:0=plain,tls:0=@cert,udp:0=dgram,tcp:0=*").value();
        o.syslog.tls.certFile = QString(m_dir.path() + "/server.crt").toStdString();
        o.syslog.tls.keyFile = QString(m_dir.path() + "/server.key").toStdString();
        o.syslog.tls.clientCaFile = QString(m_dir.path() + "/ca.crt").toStdString();
        // No API key is used on these paths; nothing looks one up.
        m_collector = std::make_unique<Collector>(
            o, [](std::string_view) -> Result<std::optional<KeyRecord>> {
                return std::optional<KeyRecord>();
            });
        IDL_VERIFY_OK(m_collector->start());
        const auto ports = m_collector->syslogPorts();
        QCOMPARE(ports.size(), std::size_t(4));
        m_tcp = ports[0];
        m_tls = ports[1];
        m_udp = ports[2];
        m_any = ports[3];
        QTRY_VERIFY_WITH_TIMEOUT(m_collector->notReadyReason().empty(), 20'000);

        auto reader = TopicReader::open(m_bootstrap, m_topic, 2);
        IDL_VERIFY_OK(reader);
        m_topicReader = std::move(*reader);
    }

    // rsyslogd forwards what `logger -u` writes to its private socket, to three listeners.
    void rsyslogForwardsOverTcpTlsAndUdp()
    {
        const QString d = m_dir.path();
        QDir(d).mkpath("rsyslog-work");
        const QString conf =
            QString(
                "global(workDirectory=\"%1/rsyslog-work\"\n"
                "  DefaultNetstreamDriverCAFile=\"%1/ca.crt\"\n"
                "  DefaultNetstreamDriverCertFile=\"%1/client.crt\"\n"
                "  DefaultNetstreamDriverKeyFile=\"%1/client.key\")\n"
                "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
                "input(type=\"imuxsock\" Socket=\"%1/rsyslog.sock\" CreatePath=\"on\")\n"
                "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%2\" protocol=\"tcp\""
                " TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\")\n"
                "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%3\" protocol=\"tcp\""
                " StreamDriver=\"gtls\" StreamDriverMode=\"1\""
                " StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"localhost\""
                " TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\")\n"
                "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%4\" protocol=\"udp\")\n")
                .arg(d)
                .arg(m_tcp)
                .arg(m_tls)
                .arg(m_udp);
        QFile f(d + "/rsyslog.conf");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(conf.toUtf8());
        f.close();
        QProcess rsyslogd;
        rsyslogd.setProcessChannelMode(QProcess::MergedChannels);
        rsyslogd.start("rsyslogd", {"-n", "-f", d + "/rsyslog.conf", "-i", d + "/rsyslogd.pid"});
        QVERIFY(rsyslogd.waitForStarted(5000));
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(d + "/rsyslog.sock"), 10'000);

        std::vector<std::string> want;
        for (int i = 0; i < 5; ++i) {
            const std::string m = "rsyslog event " + std::to_string(i) + " caf\xC3\xA9";
            want.push_back(m);
            QVERIFY(logger({"-u", d + "/rsyslog.sock", "-t", "itest", "-i", "-p", "local3.warning",
                            QString::fromStdString(m)}));
        }
        drain(want, 3);
        rsyslogd.terminate();
        rsyslogd.waitForFinished(10'000);
        // rsyslogd reports its own trouble (a failed TLS handshake, a suspended action) as
        // syslog messages through the same actions: keep them for a failure's message.
        QByteArray rsLog = rsyslogd.readAll();
        for (const auto &r : m_topicReader->records)
            if (sys(r).value("appname").toString() == "rsyslogd")
                rsLog += QByteArray("\n") + r.event.message.c_str();

        const std::string host = QHostInfo::localHostName().section('.', 0, 0).toStdString();
        for (const auto &m : want) {
            for (const char *app : {"plain", "secure", "dgram"}) {
                const TopicRecord *r = one(m, app);
                QVERIFY2(r, (m + " via " + app + "; rsyslogd: " + rsLog.toStdString()).c_str());
                const LogEvent &ev = r->event;
                QCOMPARE(r->key, std::string(app));
                QCOMPARE(ev.level, Level::Warn);
                QCOMPARE(ev.host, host);
                QVERIFY(recent(ev));
                QVERIFY(isValidUuid(ev.id));
                const auto s = sys(*r);
                QCOMPARE(s.value("facility").toString(), QString("local3"));
                QCOMPARE(s.value("severity").toString(), QString("warning"));
                QCOMPARE(s.value("appname").toString(), QString("itest"));
                QVERIFY(s.value("procid").toString().toInt() > 0);
                QVERIFY(!s.contains("parse_error"));
            }
            QCOMPARE(one(m, "plain")->headers.at("idl-key-id"),
                     "syslog_tcp:" + std::to_string(m_tcp) + "@127.0.0.1");
            QCOMPARE(one(m, "secure")->headers.at("idl-key-id"),
                     std::string("cert:rsyslog-client"));
            QCOMPARE(one(m, "dgram")->headers.at("idl-key-id"),
                     "syslog_udp:" + std::to_string(m_udp) + "@127.0.0.1");
            QCOMPARE(one(m, "plain")->headers.at("idl-collector"), std::string("syslog-test"));
        }
    }

    // util-linux logger straight to the listeners: every framing and format it has.
    void loggerEveryFraming()
    {
        const QString port = QString::number(m_tcp), udp = QString::number(m_udp);
        const QStringList server{"--server", "127.0.0.1", "-t", "ltag", "-p", "user.err"};
        struct Case
        {
            QStringList args;
            std::string message;
            bool rfc5424;
        };
        const std::vector<Case> cases{
            {{"--port", port, "--tcp", "--rfc5424", "--octet-count", "--sd-id", "zoo@123",
              "--sd-param", "tiger=\"hungry\""},
             "logger tcp 5424 octet",
             true},
            {{"--port", port, "--tcp", "--rfc5424"}, "logger tcp 5424 lf", true},
            {{"--port", port, "--tcp", "--rfc3164", "--octet-count"},
             "logger tcp 3164 octet",
             false},
            {{"--port", port, "--tcp", "--rfc3164"}, "logger tcp 3164 lf", false},
            {{"--port", udp, "--udp", "--rfc5424"}, "logger udp 5424", true},
            {{"--port", udp, "--udp", "--rfc3164"}, "logger udp 3164", false},
        };
        std::vector<std::string> want;
        for (const auto &c : cases) {
            QVERIFY(logger(server + c.args + QStringList{QString::fromStdString(c.message)}));
            want.push_back(c.message);
        }
        drain(want);
        const std::string host = QHostInfo::localHostName().toStdString();
        for (const auto &c : cases) {
            const bool isUdp = c.args.contains("--udp");
            const TopicRecord *r = one(c.message, isUdp ? "dgram" : "plain");
            QVERIFY2(r, c.message.c_str());
            const LogEvent &ev = r->event;
            QCOMPARE(ev.level, Level::Error);
            QVERIFY2(QString::fromStdString(host).startsWith(QString::fromStdString(ev.host)),
                     ev.host.c_str());
            QVERIFY(recent(ev));
            const auto s = sys(*r);
            QCOMPARE(s.value("facility").toString(), QString("user"));
            QCOMPARE(s.value("severity").toString(), QString("err"));
            QCOMPARE(s.value("appname").toString(), QString("ltag"));
            QVERIFY(!s.contains("parse_error"));
            if (c.rfc5424) // logger adds its time quality; fractions of a second are kept
                QCOMPARE(s.value("sd")
                             .toObject()
                             .value("timeQuality")
                             .toObject()
                             .value("tzKnown")
                             .toString(),
                         QString("1"));
        }
        const auto zoo = sys(*one("logger tcp 5424 octet", "plain")).value("sd").toObject();
        QCOMPARE(zoo.value("zoo@123").toObject().value("tiger").toString(), QString("hungry"));
    }

    // syslog-ng 3.38 (Debian's syslog-ng-core) with the syslog-ng snippet of docs/ingest.md,
    // read from the doc: only its ports and file names are replaced, and its s_src is a
    // private unix-dgram socket that `logger -u` writes to. Its three destinations deliver to
    // the TCP, TLS (client certificate -> app) and UDP listeners.
    void syslogNgDocumentedSnippet()
    {
        QString error;
        const QString root = testsupport::syslogNgRoot(&error);
        QVERIFY2(!root.isEmpty(), qPrintable(error));
        QFile doc(testsupport::sourceDir() + "/docs/ingest.md");
        QVERIFY(doc.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(doc.readAll());
        const auto start = text.indexOf("# /etc/syslog-ng/conf.d/instant-dev-logs.conf");
        QVERIFY2(start > 0, "docs/ingest.md has the syslog-ng snippet");
        QString snippet = text.mid(start, text.indexOf("```", start) - start);
        const QString d = m_dir.path();
        for (const auto &[from, to] :
             {std::pair{QString("transport(\"tcp\") port(5514)"),
                        QString("transport(\"tcp\") port(%1)").arg(m_tcp)},
              std::pair{QString("transport(\"tls\") port(6514)"),
                        QString("transport(\"tls\") port(%1)").arg(m_tls)},
              std::pair{QString("transport(\"udp\") port(5514)"),
                        QString("transport(\"udp\") port(%1)").arg(m_udp)},
              std::pair{QString("/path/to/ca_file.crt"), QString(d + "/ca.crt")},
              std::pair{QString("/etc/syslog-ng/client.crt"), QString(d + "/client.crt")},
              std::pair{QString("/etc/syslog-ng/client.key"), QString(d + "/client.key")}}) {
            QVERIFY2(snippet.count(from) == 1, qPrintable("once in the snippet: " + from));
            snippet.replace(from, to);
        }
        QDir(d).mkpath("syslog-ng");
        const QString conf = "@version: 3.38\n"
                             "source s_src { unix-dgram(\"" +
                             d + "/syslog-ng/in.sock\"); };\n" + snippet +
                             "log { source(s_src); destination(d_idl_tls); };\n"
                             "log { source(s_src); destination(d_idl_udp); };\n";
        QFile f(d + "/syslog-ng/syslog-ng.conf");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(conf.toUtf8());
        f.close();
        QProcess sng;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("LD_LIBRARY_PATH", root + "/usr/lib/syslog-ng");
        sng.setProcessEnvironment(env);
        sng.setProcessChannelMode(QProcess::MergedChannels);
        const QStringList modules =
            QDir(root + "/usr/lib/syslog-ng").entryList({"3.*"}, QDir::Dirs);
        QCOMPARE(modules.size(), 1);
        sng.start(root + "/usr/sbin/syslog-ng",
                  {"-F", "-e", "-f", f.fileName(),
                   "--module-path=" + root + "/usr/lib/syslog-ng/" + modules.first(), "-R",
                   d + "/syslog-ng/persist", "-p", d + "/syslog-ng/pid", "-c", d + "/syslog-ng/ctl",
                   "--no-caps"});
        QVERIFY(sng.waitForStarted(10'000));
        QTRY_VERIFY2_WITH_TIMEOUT(QFile::exists(d + "/syslog-ng/in.sock"),
                                  sng.readAll().constData(), 20'000);

        std::vector<std::string> want;
        for (int i = 0; i < 5; ++i) {
            const std::string m = "syslog-ng event " + std::to_string(i);
            want.push_back(m);
            QVERIFY(logger({"-u", d + "/syslog-ng/in.sock", "-t", "ngtest", "-p", "local4.warning",
                            QString::fromStdString(m)}));
        }
        drain(want, 3);
        sng.terminate();
        sng.waitForFinished(10'000);
        const QByteArray out = sng.readAll();
        const QString host = QHostInfo::localHostName();
        for (const auto &m : want) {
            for (const char *app : {"plain", "secure", "dgram"}) {
                const TopicRecord *r = one(m, app);
                QVERIFY2(r, (m + " via " + app + "; syslog-ng: " + out.toStdString()).c_str());
                const LogEvent &ev = r->event;
                QCOMPARE(ev.level, Level::Warn);
                QVERIFY2(!ev.host.empty() && host.startsWith(QString::fromStdString(ev.host)),
                         ev.host.c_str());
                QVERIFY(recent(ev));
                const auto s = sys(*r);
                QCOMPARE(s.value("facility").toString(), QString("local4"));
                QCOMPARE(s.value("severity").toString(), QString("warning"));
                QCOMPARE(s.value("appname").toString(), QString("ngtest"));
                QVERIFY(!s.contains("parse_error"));
            }
            QCOMPARE(one(m, "secure")->headers.at("idl-key-id"),
                     std::string("cert:rsyslog-client"));
        }
    }

    // A malformed message among good ones, an oversize one, bad UTF-8: nothing else is lost,
    // the connection stays; "*" takes the app from APP-NAME.
    void malformedAndOversizeLoseNothingElse()
    {
        const auto before = m_collector->syslogStats();
        QTcpSocket s;
        s.connectToHost("127.0.0.1", m_any);
        QVERIFY(s.waitForConnected(5000));
        const std::string big(70 * 1024, 'z');
        std::string bytes = "<14>1 2024-05-01T10:00:00.5+02:00 h1 billing 42 M1 - good one\n"
                            "no pri at all\n"
                            "<11>1 2024-99-01T00:00:00Z h app - - - bad 5424\n"
                            "<13>1 - h1 billing - - - " +
                            big +
                            "\n"
                            "<13>Nov 14 09:05:01 h2 shop[7]: good two \xFF\n";
        const std::string second = "<13>1 - h1 billing - - - good three";
        bytes += std::to_string(second.size()) + " " + second;
        s.write(bytes.data(), static_cast<qint64>(bytes.size()));
        QVERIFY(s.waitForBytesWritten(5000));
        drain({"good one", "no pri at all", "good two \xEF\xBF\xBD", "good three"});
        QCOMPARE(s.state(), QAbstractSocket::ConnectedState);
        const TopicRecord *r = one("good one", "billing");
        QVERIFY(r);
        QCOMPARE(r->event.tsNs, parseRfc3339("2024-05-01T08:00:00.5Z").value());
        QCOMPARE(r->event.host, std::string("h1"));
        QCOMPARE(r->event.level, Level::Info);
        QCOMPARE(sys(*r).value("msgid").toString(), QString("M1"));
        QCOMPARE(sys(*r).value("procid").toString(), QString("42"));
        r = one("no pri at all", "syslog");
        QVERIFY(r);
        QVERIFY(sys(*r).contains("parse_error"));
        r = one("<11>1 2024-99-01T00:00:00Z h app - - - bad 5424", "syslog");
        QVERIFY(r);
        QCOMPARE(r->event.level, Level::Error);
        QVERIFY(one("good two \xEF\xBF\xBD", "shop"));
        QVERIFY(one("good three", "billing"));
        for (const auto &rec : m_topicReader->records)
            QVERIFY(rec.event.message.find("zzzz") == std::string::npos);
        const auto after = m_collector->syslogStats();
        QCOMPARE(after.tooLarge - before.tooLarge, std::uint64_t(1));
        QCOMPARE(after.malformed - before.malformed, std::uint64_t(2));
        QCOMPARE(after.framingErrors, before.framingErrors);
    }

    void cleanupTestCase()
    {
        if (m_collector)
            QTRY_COMPARE(m_collector->syslogStats().unackedEvents, std::uint64_t(0));
        m_collector.reset();
        m_topicReader.reset();
    }
};

QTEST_GUILESS_MAIN(TestSyslogIntegration)
#include "test_syslog_integration.moc"
