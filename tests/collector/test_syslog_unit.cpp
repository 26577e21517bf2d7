// Syslog without Kafka: the parser on the examples of RFC 5424 (section 6.5) and RFC 3164
// (section 5.4) and on the real-world variants (missing year, missing host, RFC 3339 in a BSD
// header, BOM, bad UTF-8, malformed input), the RFC 6587 framer (octet counting, LF and NUL
// framing, oversize, framing errors, split reads), and the listeners over real sockets
// (TCP, TLS with and without client certificates, UDP) against a fake ingest entry that
// records batches and can refuse or hold them (retry, back-pressure).
#undef QT_NO_CAST_FROM_ASCII
#include "idl/collector/syslog_listener.h"
#include "idl/collector/syslog_parser.h"
#include "idl/core/timestamp.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>

#include <condition_variable>
#include <mutex>
#include <thread>

using namespace idl;
using namespace idl::collector;
using namespace idl::collector::syslog;

namespace {

constexpr std::int64_t kReceived = 1'700'000'000'000'000'000; // 2023-11-14T22:13:20Z

LogEvent parse(std::string_view raw, Format *format = nullptr, std::int64_t received = kReceived,
               std::int64_t offset = 0)
{
    LogEvent ev;
    ParseContext ctx;
    ctx.receivedNs = received;
    ctx.peerHost = "10.9.8.7";
    ctx.rfc3164UtcOffsetSeconds = offset;
    const Format f = parseMessage(raw, ctx, ev);
    if (format)
        *format = f;
    return ev;
}

QJsonObject sys(const LogEvent &ev)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(ev.attrsJson))
        .object()
        .value("syslog")
        .toObject();
}

std::int64_t at(const char *rfc3339)
{
    return parseRfc3339(rfc3339).value();
}

// Everything the fake ingest entry was handed.
struct FakeIngest
{
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<LogEvent> events;
    std::vector<std::string> ids; // identity per event
    int refuseNext = 0;           // batches to answer "retry"
    bool hold = false;            // keep outcomes until release()
    std::vector<std::function<void(BatchOutcome)>> held;
    std::size_t batches = 0;

    SubmitBatch submit()
    {
        return [this](Transport, const Identity &who, std::vector<LogEvent> evs,
                      std::function<void(BatchOutcome)> done) {
            std::unique_lock lock(mutex);
            ++batches;
            if (refuseNext > 0) {
                --refuseNext;
                lock.unlock();
                done(BatchOutcome{true, std::chrono::milliseconds(50)});
                return;
            }
            const std::size_t n = evs.size();
            for (auto &e : evs) {
                events.push_back(std::move(e));
                ids.push_back(who.id + "|" + who.app.value_or("*"));
            }
            cv.notify_all();
            if (hold) {
                held.push_back([done, n](BatchOutcome o) {
                    o.accepted = n;
                    done(o);
                });
                return;
            }
            lock.unlock();
            done(BatchOutcome{false, {}, n, 0});
        };
    }

    void release()
    {
        std::vector<std::function<void(BatchOutcome)>> h;
        {
            std::lock_guard lock(mutex);
            hold = false;
            h.swap(held);
        }
        for (auto &f : h)
            f(BatchOutcome{});
    }

    bool waitFor(std::size_t count, int ms = 10'000)
    {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, std::chrono::milliseconds(ms),
                           [&] { return events.size() >= count; });
    }

    std::size_t size()
    {
        std::lock_guard lock(mutex);
        return events.size();
    }
};

// One octet-counted frame.
std::string oc(const std::string &message)
{
    return std::to_string(message.size()) + " " + message;
}

QByteArray sh(const QString &script, const QString &dir)
{
    QProcess p;
    p.setWorkingDirectory(dir);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start("/bin/sh", {"-ec", script});
    p.waitForFinished(60'000);
    return p.exitCode() == 0 ? p.readAll() : QByteArray("FAILED: " + p.readAll());
}

} // namespace

class TestSyslogUnit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // RFC 5424 section 6.5, example 1 (no structured data, BOM before the message).
    void rfc5424Example1()
    {
        Format f;
        const auto ev = parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 "
                              "- \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
                              &f);
        QCOMPARE(f, Format::Rfc5424);
        QCOMPARE(ev.tsNs, at("2003-10-11T22:14:15.003Z"));
        QCOMPARE(ev.receivedNs, kReceived);
        QCOMPARE(ev.level, Level::Fatal); // severity 2 (crit)
        QCOMPARE(ev.host, std::string("mymachine.example.com"));
        QCOMPARE(ev.message, std::string("'su root' failed for lonvick on /dev/pts/8"));
        const auto s = sys(ev);
        QCOMPARE(s.value("facility").toString(), QString("auth"));
        QCOMPARE(s.value("severity").toString(), QString("crit"));
        QCOMPARE(s.value("appname").toString(), QString("su"));
        QVERIFY(!s.contains("procid")); // NILVALUE
        QCOMPARE(s.value("msgid").toString(), QString("ID47"));
        QVERIFY(!s.contains("sd"));
        QVERIFY(!s.contains("parse_error"));
        QVERIFY(ev.app.empty()); // the listener's
    }

    // Example 2: microseconds and a -07:00 offset, an IPv4 host, a PROCID.
    void rfc5424Example2()
    {
        const auto ev = parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
                              "%% It's time to make the do-nuts.");
        QCOMPARE(ev.tsNs, at("2003-08-24T12:14:15.000003Z"));
        QCOMPARE(ev.level, Level::Info); // notice
        QCOMPARE(ev.host, std::string("192.0.2.1"));
        QCOMPARE(ev.message, std::string("%% It's time to make the do-nuts."));
        const auto s = sys(ev);
        QCOMPARE(s.value("facility").toString(), QString("local4"));
        QCOMPARE(s.value("severity").toString(), QString("notice"));
        QCOMPARE(s.value("appname").toString(), QString("myproc"));
        QCOMPARE(s.value("procid").toString(), QString("8710"));
        QVERIFY(!s.contains("msgid"));
    }

    // Examples 3 and 4: structured data (one and two elements; no MSG in 4).
    void rfc5424StructuredData()
    {
        const auto ev =
            parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                  "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
                  "\xEF\xBB\xBF"
                  "An application event log entry...");
        QCOMPARE(ev.message, std::string("An application event log entry..."));
        auto sd = sys(ev).value("sd").toObject();
        QCOMPARE(sd.size(), 1);
        const auto e = sd.value("exampleSDID@32473").toObject();
        QCOMPARE(e.value("iut").toString(), QString("3"));
        QCOMPARE(e.value("eventSource").toString(), QString("Application"));
        QCOMPARE(e.value("eventID").toString(), QString("1011"));

        Format f;
        const auto ev4 =
            parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                  "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
                  "[examplePriority@32473 class=\"high\"]",
                  &f);
        QCOMPARE(f, Format::Rfc5424);
        QCOMPARE(ev4.message, std::string());
        sd = sys(ev4).value("sd").toObject();
        QCOMPARE(sd.size(), 2);
        QCOMPARE(sd.value("examplePriority@32473").toObject().value("class").toString(),
                 QString("high"));

        // Escapes (\" \\ \]), a repeated parameter (an array), a nil timestamp and host
        // (receive time, the peer address).
        const auto ev5 = parse("<14>1 - - app - - [x@1 a=\"q\\\"b\\\\c\\]d\" r=\"1\" r=\"2\" "
                               "o=\"\\n\"] hi\r\n");
        QCOMPARE(ev5.tsNs, kReceived);
        QCOMPARE(ev5.host, std::string("10.9.8.7"));
        QCOMPARE(ev5.message, std::string("hi"));
        const auto x = sys(ev5).value("sd").toObject().value("x@1").toObject();
        QCOMPARE(x.value("a").toString(), QString("q\"b\\c]d"));
        QCOMPARE(x.value("r").toArray().size(), 2);
        QCOMPARE(x.value("o").toString(), QString("\\n")); // other backslashes are literal
    }

    void rfc5424Malformed()
    {
        // Bad timestamp, missing fields, unterminated SD, no SP after SD: kept whole, with the
        // PRI's severity and a parse_error.
        for (const char *raw :
             {"<11>1 2003-13-11T22:14:15Z host app - - - msg", "<11>1 host app",
              "<11>1 - host app - - [x@1 a=\"open] msg", "<11>1 - host app - - [x@1]msg",
              "<11>1 - host app - - [ bad] msg", "<11>1 - h\x01st app - - - msg"}) {
            Format f;
            const auto ev = parse(raw, &f);
            QCOMPARE(f, Format::Malformed);
            QCOMPARE(ev.message, std::string(raw));
            QCOMPARE(ev.level, Level::Error); // severity 3
            QCOMPARE(sys(ev).value("facility").toString(), QString("user"));
            QVERIFY(sys(ev).value("parse_error").toString().contains("5424"));
            QCOMPARE(ev.tsNs, kReceived);
        }
    }

    // RFC 3164 section 5.4, example 1.
    void rfc3164Example1()
    {
        Format f;
        const auto ev = parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick "
                              "on /dev/pts/8",
                              &f);
        QCOMPARE(f, Format::Rfc3164);
        // No year: the one closest to the receive time (2023).
        QCOMPARE(ev.tsNs, at("2023-10-11T22:14:15Z"));
        QCOMPARE(ev.level, Level::Fatal);
        QCOMPARE(ev.host, std::string("mymachine"));
        QCOMPARE(ev.message, std::string("'su root' failed for lonvick on /dev/pts/8"));
        QCOMPARE(sys(ev).value("appname").toString(), QString("su"));
        QCOMPARE(sys(ev).value("facility").toString(), QString("auth"));
    }

    // Example 2: no PRI at all: kept whole as user.notice (RFC 3164 4.3.3).
    void rfc3164NoPri()
    {
        Format f;
        const auto ev = parse("Use the BFG!", &f);
        QCOMPARE(f, Format::Malformed);
        QCOMPARE(ev.message, std::string("Use the BFG!"));
        QCOMPARE(ev.level, Level::Info);
        QCOMPARE(sys(ev).value("facility").toString(), QString("user"));
        QCOMPARE(sys(ev).value("severity").toString(), QString("notice"));
        QVERIFY(sys(ev).contains("parse_error"));
        QCOMPARE(ev.tsNs, kReceived);
        for (const char *raw : {"<192>Oct 11 22:14:15 h t: m", "<>x", "<1234>x", "<12", "<a>x"}) {
            QCOMPARE((parse(raw, &f), f), Format::Malformed);
            QCOMPARE(parse(raw).message, std::string(raw));
        }
    }

    // Examples 3 and 4: what a relay makes of the odd ones (documented behaviour).
    void rfc3164OddExamples()
    {
        // "CST 1987" after the time: CST is read as the host, the rest is the message.
        auto ev = parse("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to "
                        "make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK # Devices: "
                        "Mixer=OK, Jelly_Injector=OK, Frier=OK # Transport: Conveyer1=OK, "
                        "Conveyer2=OK # %%");
        QCOMPARE(ev.host, std::string("CST"));
        QVERIFY(ev.message.starts_with("1987 mymachine myproc[10]: %% It's time"));
        QCOMPARE(ev.tsNs, at("2023-08-24T05:34:00Z"));
        // A year first is no RFC 3164 timestamp: receive time, everything is the message.
        Format f;
        ev = parse("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: "
                   "That's All Folks!",
                   &f);
        QCOMPARE(f, Format::Rfc3164);
        QCOMPARE(ev.tsNs, kReceived);
        QCOMPARE(ev.level, Level::Fatal);
        QCOMPARE(ev.host, std::string("10.9.8.7"));
        QVERIFY(ev.message.starts_with("1990 Oct 22 10:52:01 TZ-6"));
    }

    void rfc3164Variants()
    {
        // No hostname (what a local socket gets): "tag[pid]:" right after the time.
        auto ev = parse("<13>Nov  4 09:05:01 cron[123]: job done");
        QCOMPARE(ev.host, std::string("10.9.8.7"));
        QCOMPARE(sys(ev).value("appname").toString(), QString("cron"));
        QCOMPARE(sys(ev).value("procid").toString(), QString("123"));
        QCOMPARE(ev.message, std::string("job done"));
        QCOMPARE(ev.tsNs, at("2023-11-04T09:05:01Z"));
        ev = parse("<13>Nov 14 09:05:01 myprog: hi");
        QCOMPARE(ev.host, std::string("10.9.8.7"));
        QCOMPARE(sys(ev).value("appname").toString(), QString("myprog"));
        // Host and a tag with a slash; fractional seconds.
        ev = parse("<22>Nov 14 09:05:01.250 mail01 postfix/smtpd[991]: connect from x");
        QCOMPARE(ev.host, std::string("mail01"));
        QCOMPARE(sys(ev).value("appname").toString(), QString("postfix/smtpd"));
        QCOMPARE(sys(ev).value("procid").toString(), QString("991"));
        QCOMPARE(ev.tsNs, at("2023-11-14T09:05:01.25Z"));
        // A year after the time (some network devices).
        ev = parse("<22>Nov 14 09:05:01 2021 sw1 %LINK-3-UPDOWN: down");
        QCOMPARE(ev.tsNs, at("2021-11-14T09:05:01Z"));
        QCOMPARE(ev.host, std::string("sw1"));
        // RFC 3339 time in a BSD header (rsyslog's RSYSLOG_ForwardFormat).
        ev = parse("<30>2024-05-01T12:00:00.123456+02:00 web1 nginx[7]: GET /");
        QCOMPARE(ev.tsNs, at("2024-05-01T10:00:00.123456Z"));
        QCOMPARE(ev.host, std::string("web1"));
        QCOMPARE(sys(ev).value("appname").toString(), QString("nginx"));
        QCOMPARE(ev.message, std::string("GET /"));
        // No time, no tag.
        ev = parse("<13>just text");
        QCOMPARE(ev.message, std::string("just text"));
        QCOMPARE(ev.tsNs, kReceived);
        // The sender's local time: 2 h east of UTC.
        ev = parse("<13>Nov 14 09:05:01 h t: m", nullptr, kReceived, 7200);
        QCOMPARE(ev.tsNs, at("2023-11-14T07:05:01Z"));
        // Invalid UTF-8 becomes U+FFFD; a trailing LF is dropped.
        ev = parse("<13>Nov 14 09:05:01 h t: caf\xE9\n");
        QCOMPARE(ev.message, std::string("caf\xEF\xBF\xBD"));
    }

    // The year closest to the receive time, across New Year both ways; Feb 29.
    void rfc3164YearInference()
    {
        const auto newYear = at("2024-01-01T00:00:05Z");
        QCOMPARE(parse("<13>Dec 31 23:59:59 h t: m", nullptr, newYear).tsNs,
                 at("2023-12-31T23:59:59Z"));
        const auto eve = at("2023-12-31T23:59:58Z");
        QCOMPARE(parse("<13>Jan  1 00:00:02 h t: m", nullptr, eve).tsNs,
                 at("2024-01-01T00:00:02Z"));
        QCOMPARE(parse("<13>Feb 29 10:00:00 h t: m", nullptr, at("2024-03-01T00:00:00Z")).tsNs,
                 at("2024-02-29T10:00:00Z"));
    }

    void appFromAppName()
    {
        LogEvent ev;
        ParseContext ctx;
        ctx.receivedNs = kReceived;
        ctx.appFromAppName = true;
        parseMessage("<13>1 - h billing 1 - - x", ctx, ev);
        QCOMPARE(ev.app, std::string("billing"));
        parseMessage("<13>no tag here", ctx, ev);
        QCOMPARE(ev.app, std::string("syslog"));
    }

    void framerOctetCountingAndDelimiters()
    {
        Framer fr({100, 1000});
        using namespace std::string_literals;
        std::string buf = "5 <1>ab3 xyz<13>line one\n<13>line two\r\n\n<13>nul\0<13>tail"s;
        std::vector<std::string> got;
        for (;;) {
            auto n = fr.next(buf);
            if (n.kind == Framer::Kind::Message)
                got.emplace_back(n.message);
            QVERIFY(n.kind != Framer::Kind::Error);
            buf.erase(0, n.consumed);
            if (n.kind == Framer::Kind::NeedMore)
                break;
        }
        QCOMPARE(got, (std::vector<std::string>{"<1>ab", "xyz", "<13>line one", "<13>line two",
                                                "<13>nul"}));
        QCOMPARE(buf, std::string("<13>tail"));
        auto end = fr.finish(buf);
        QCOMPARE(end.kind, Framer::Kind::Message);
        QCOMPARE(std::string(end.message), std::string("<13>tail"));
    }

    void framerSplitReads()
    {
        // Byte by byte: the same frames.
        const std::string stream = "12 <13>1 - - - 7 <13>abc<14>x\n";
        Framer fr;
        std::string buf;
        std::vector<std::string> got;
        for (char c : stream) {
            buf += c;
            for (;;) {
                auto n = fr.next(buf);
                if (n.kind == Framer::Kind::Message)
                    got.emplace_back(n.message);
                buf.erase(0, n.consumed);
                if (n.kind == Framer::Kind::NeedMore)
                    break;
            }
        }
        QCOMPARE(got, (std::vector<std::string>{"<13>1 - - - ", "<13>abc", "<14>x"}));
    }

    void framerLimits()
    {
        Framer fr({10, 50});
        // Octet-counted over maxMessage: skipped (even across reads), the next one read.
        std::string buf = "20 0123456789";
        auto n = fr.next(buf);
        QCOMPARE(n.kind, Framer::Kind::TooLarge);
        buf.erase(0, n.consumed);
        QVERIFY(buf.empty());
        buf = "0123456789"
              "3 abc"; // the skipped rest, then a frame
        n = fr.next(buf);
        QCOMPARE(n.kind, Framer::Kind::Message);
        QCOMPARE(std::string(n.message), std::string("abc"));
        // A delimited line over maxMessage: skipped to its LF.
        Framer lf({10, 50});
        buf = "<13>0123456789abc";
        n = lf.next(buf);
        QCOMPARE(n.kind, Framer::Kind::TooLarge);
        buf = "def\n<13>ok\n"; // the skipped rest, then a frame
        n = lf.next(buf);
        QCOMPARE(n.kind, Framer::Kind::Message);
        QCOMPARE(std::string(n.message), std::string("<13>ok"));
        // Framing errors: count over maxFrame, a non-digit after digits, a leading zero,
        // more than 10 digits, a stream ending inside a frame.
        for (const char *bad : {"51 x", "12x <13>", "012 <13>", "12345678901 x"}) {
            Framer f({10, 50});
            QCOMPARE(f.next(bad).kind, Framer::Kind::Error);
        }
        Framer trunc({10, 50});
        QCOMPARE(trunc.finish("9 <13>ab").kind, Framer::Kind::Error);
    }

    // ---- listeners over real sockets, fake ingest ------------------------------------------

    void tcpListenerBothFramingsAndBadMessages()
    {
        FakeIngest ingest;
        ListenerOptions o;
        o.defaultAddress = "127.0.0.1";
        o.listeners = parseListenerSpecs("tcp:0=web,tcp:127.0.0.1:0=*").value();
        o.framing = {200, 10'000};
        Listeners l(o, ingest.submit(), {});
        QVERIFY(l.start().ok());
        QTcpSocket s;
        s.connectToHost("127.0.0.1", l.ports()[0]);
        QVERIFY(s.waitForConnected(5000));
        // Octet counting, LF, a message without PRI (kept), an oversize one (dropped), more.
        const std::string big(300, 'x');
        const std::string bytes = oc("<13>1 - h1 app1 - - - first m") +
                                  "<14>Nov 14 09:05:01 h2 tag: second\n"
                                  "no pri here\n" +
                                  oc("<13>" + big) + "<13>1 - - - - - - third\n";
        s.write(bytes.data(), static_cast<qint64>(bytes.size()));
        QVERIFY(s.waitForBytesWritten(5000));
        QVERIFY(ingest.waitFor(4));
        {
            std::lock_guard lock(ingest.mutex);
            QCOMPARE(ingest.events[0].message, std::string("first m"));
            QCOMPARE(ingest.events[0].host, std::string("h1"));
            QCOMPARE(ingest.events[0].app, std::string("web"));
            QCOMPARE(ingest.events[1].message, std::string("second"));
            QCOMPARE(ingest.events[2].message, std::string("no pri here"));
            QCOMPARE(ingest.events[3].message, std::string("third"));
            QCOMPARE(ingest.events[3].host, std::string("127.0.0.1"));
            // Per sender: the rate limit of an identity applies per listener and address.
            QCOMPARE(ingest.ids[0],
                     "syslog_tcp:" + std::to_string(l.ports()[0]) + "@127.0.0.1|web");
        }
        QTRY_COMPARE(l.stats().tooLarge, std::uint64_t(1));
        QCOMPARE(l.stats().malformed, std::uint64_t(1));
        QCOMPARE(l.stats().messages, std::uint64_t(5));
        QCOMPARE(s.state(), QAbstractSocket::ConnectedState); // bad messages kill nothing

        // A framing error closes that connection only.
        s.write("99999999 x");
        QVERIFY(s.waitForDisconnected(5000));
        QCOMPARE(l.stats().framingErrors, std::uint64_t(1));

        // The "*" listener: app from APP-NAME.
        QTcpSocket s2;
        s2.connectToHost("127.0.0.1", l.ports()[1]);
        QVERIFY(s2.waitForConnected(5000));
        s2.write("<13>1 - h billing - - - paid"); // the last frame, without LF: read at the end
        QVERIFY(s2.waitForBytesWritten(5000));
        s2.disconnectFromHost();
        QVERIFY(ingest.waitFor(5));
        std::lock_guard lock(ingest.mutex);
        QCOMPARE(ingest.events[4].app, std::string("billing"));
        QVERIFY(QString::fromStdString(ingest.ids[4]).endsWith("|*"));
    }

    void tcpRetriesRefusedBatchesAndPauses()
    {
        FakeIngest ingest;
        ingest.refuseNext = 2; // rate limited twice: the batch comes again
        ListenerOptions o;
        o.defaultAddress = "127.0.0.1";
        o.listeners = parseListenerSpecs("tcp:0=web").value();
        o.maxUnackedBytes = 2000;
        o.maxConnectionBuffer = 4096;
        o.framing.maxMessage = 1000;
        Listeners l(o, ingest.submit(), {});
        QVERIFY(l.start().ok());
        QTcpSocket s;
        s.connectToHost("127.0.0.1", l.ports()[0]);
        QVERIFY(s.waitForConnected(5000));
        s.write("<13>once\n");
        QVERIFY(s.waitForBytesWritten(5000));
        QVERIFY(ingest.waitFor(1));
        QCOMPARE(l.stats().retries, std::uint64_t(2));
        QCOMPARE(ingest.size(), std::size_t(1));

        // Held outcomes: past 2000 unacked bytes the connection stops reading; nothing is
        // lost, and reading resumes once Kafka "acks".
        {
            std::lock_guard lock(ingest.mutex);
            ingest.hold = true;
        }
        std::string line = "<13>" + std::string(96, 'p') + "\n"; // 101 bytes
        std::string many;
        for (int i = 0; i < 400; ++i)
            many += line;
        s.write(many.data(), static_cast<qint64>(many.size()));
        QTRY_VERIFY(l.stats().pauses >= 1);
        const std::size_t before = ingest.size();
        QVERIFY(before < 401);
        QTest::qWait(300);
        QCOMPARE(ingest.size(), before); // paused: nothing more read
        for (int round = 0; round < 200 && ingest.size() < 401; ++round) {
            ingest.release();
            {
                std::lock_guard lock(ingest.mutex);
                ingest.hold = true;
            }
            s.waitForBytesWritten(20);
            QTest::qWait(20);
        }
        ingest.release();
        QVERIFY(ingest.waitFor(401));
        QCOMPARE(ingest.size(), std::size_t(401));
        QTRY_COMPARE(l.stats().unackedEvents, std::uint64_t(0));

        // A sender that closes at once (logger does): its refused batch is still retried.
        {
            std::lock_guard lock(ingest.mutex);
            ingest.refuseNext = 3;
        }
        QTcpSocket quick;
        quick.connectToHost("127.0.0.1", l.ports()[0]);
        QVERIFY(quick.waitForConnected(5000));
        quick.write("<13>sent and gone\n");
        QVERIFY(quick.waitForBytesWritten(5000));
        quick.disconnectFromHost();
        QVERIFY(ingest.waitFor(402));
        std::lock_guard lock(ingest.mutex);
        QCOMPARE(ingest.events.back().message, std::string("sent and gone"));
    }

    void udpListener()
    {
        FakeIngest ingest;
        ListenerOptions o;
        o.defaultAddress = "127.0.0.1";
        o.listeners = parseListenerSpecs("udp:0=edge").value();
        o.framing.maxMessage = 100;
        Listeners l(o, ingest.submit(), {});
        QVERIFY(l.start().ok());
        QUdpSocket u;
        const auto send = [&](const QByteArray &d) {
            u.writeDatagram(d, QHostAddress::LocalHost, l.ports()[0]);
        };
        send("<13>1 2024-01-01T00:00:00Z h a - - - one\n");
        send("<13>" + QByteArray(200, 'x')); // over 100 bytes: dropped
        send("<14>two\0");                   // a datagram is one message, NUL/LF at the end dropped
        QVERIFY(ingest.waitFor(2));
        QTRY_COMPARE(l.stats().tooLarge, std::uint64_t(1));
        std::lock_guard lock(ingest.mutex);
        QCOMPARE(ingest.events[0].message, std::string("one"));
        QCOMPARE(ingest.events[0].app, std::string("edge"));
        QCOMPARE(ingest.events[1].message, std::string("two"));
        QCOMPARE(ingest.ids[0], "syslog_udp:" + std::to_string(l.ports()[0]) + "@127.0.0.1|edge");
    }

    void tlsListenerWithCertificates()
    {
        QTemporaryDir dir;
        const QByteArray ok =
            sh("gen() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
               "  -keyout $1.key -out $1.crt -days 2 -subj /CN=$1 2>/dev/null; }\n"
               "leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
               "  -keyout $1.key -out $1.csr -subj /CN=$2 2>/dev/null;"
               "  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > $1.ext;"
               "  openssl x509 -req -in $1.csr -CA $3.crt -CAkey $3.key -CAcreateserial "
               "  -out $1.crt -days 2 -extfile $1.ext 2>/dev/null; }\n"
               "gen ca; leaf server localhost ca; leaf client shop-svc ca; leaf other nobody ca\n"
               "echo ok",
               dir.path());
        QVERIFY2(ok.contains("ok"), ok.constData());
        FakeIngest ingest;
        ListenerOptions o;
        o.defaultAddress = "127.0.0.1";
        o.listeners = parseListenerSpecs("tls:0=fixed,tls:0=@cert").value();
        o.tls.certFile = QString(dir.path() + "/server.crt").toStdString();
        o.tls.keyFile = QString(dir.path() + "/server.key").toStdString();
        o.tls.clientCaFile = QString(dir.path() + "/ca.crt").toStdString();
        CertificateIdentity certs = [](const http::PeerCertificate &c) -> Result<Identity> {
            if (c.commonName != "shop-svc")
                return makeError(ErrorCode::Unauthenticated, "not mapped");
            return Identity{"cert:" + c.commonName, std::string("shop"), c.subject};
        };
        Listeners l(o, ingest.submit(), certs);
        QVERIFY(l.start().ok());
        const auto connect = [&](quint16 port, const QString &who, QSslSocket &s) {
            QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
            conf.setCaCertificates(QSslCertificate::fromPath(dir.path() + "/ca.crt"));
            if (!who.isEmpty()) {
                conf.setLocalCertificate(
                    QSslCertificate::fromPath(dir.path() + "/" + who + ".crt").first());
                QFile k(dir.path() + "/" + who + ".key");
                k.open(QIODevice::ReadOnly);
                conf.setPrivateKey(QSslKey(k.readAll(), QSsl::Ec));
            }
            s.setSslConfiguration(conf);
            s.connectToHostEncrypted("127.0.0.1", port, "localhost");
            return s.waitForEncrypted(5000);
        };
        // Fixed app: no client certificate needed.
        QSslSocket a;
        QVERIFY(connect(l.ports()[0], {}, a));
        a.write(QByteArray::fromStdString(oc("<13>1 - h app - - - over tls, no cert")));
        QVERIFY(a.waitForBytesWritten(5000));
        QVERIFY(ingest.waitFor(1));
        // Certificate-mapped: the certificate's app.
        QSslSocket b;
        QVERIFY(connect(l.ports()[1], "client", b));
        b.write("<13>1 - h app - - - with cert\n");
        QVERIFY(b.waitForBytesWritten(5000));
        QVERIFY(ingest.waitFor(2));
        {
            std::lock_guard lock(ingest.mutex);
            QCOMPARE(ingest.events[0].message, std::string("over tls, no cert"));
            QCOMPARE(ingest.events[0].app, std::string("fixed"));
            QCOMPARE(ingest.events[1].app, std::string("shop"));
            QCOMPARE(ingest.ids[1], std::string("cert:shop-svc|shop"));
        }
        // No certificate, or an unmapped one, on the certificate listener: closed, nothing read.
        for (const QString &who : {QString(), QString("other")}) {
            QSslSocket c;
            connect(l.ports()[1], who, c);
            c.write("<13>1 - h app - - - must not arrive\n");
            c.waitForBytesWritten(1000);
            QVERIFY(c.state() == QAbstractSocket::UnconnectedState || c.waitForDisconnected(5000));
        }
        QTest::qWait(200);
        QCOMPARE(ingest.size(), std::size_t(2));
        QVERIFY(l.stats().connectionsRefused >= 2);
    }

    void connectionLimit()
    {
        FakeIngest ingest;
        ListenerOptions o;
        o.defaultAddress = "127.0.0.1";
        o.listeners = parseListenerSpecs("tcp:0=web").value();
        o.maxConnections = 2;
        Listeners l(o, ingest.submit(), {});
        QVERIFY(l.start().ok());
        QTcpSocket s[3];
        for (auto &x : s) {
            x.connectToHost("127.0.0.1", l.ports()[0]);
            QVERIFY(x.waitForConnected(5000));
            QTest::qWait(50);
        }
        QVERIFY(s[2].state() == QAbstractSocket::UnconnectedState ||
                s[2].waitForDisconnected(5000));
        QCOMPARE(l.stats().connectionsRefused, std::uint64_t(1));
        QCOMPARE(s[0].state(), QAbstractSocket::ConnectedState);
    }

    void listenerSpecs()
    {
        auto specs = parseListenerSpecs(" tcp:5514=web, udp:0.0.0.0:5514=web,tls:[::1]:6514=@cert");
        QVERIFY(specs.ok());
        QCOMPARE(specs->size(), std::size_t(3));
        QCOMPARE((*specs)[2].address, std::string("::1"));
        QCOMPARE((*specs)[2].port, std::uint16_t(6514));
        QCOMPARE((*specs)[0].address, std::string());
        for (const char *bad :
             {"tcp:5514", "ftp:1=a", "tcp:99999=a", "udp:1=@cert", "tcp:x=a", "tcp:1="})
            QVERIFY2(!parseListenerSpecs(bad).ok(), bad);
        QVERIFY(parseListenerSpecs("").value().empty());
    }
};

QTEST_GUILESS_MAIN(TestSyslogUnit)
#include "test_syslog_unit.moc"
