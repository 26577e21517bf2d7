#pragma once

// An in-process stand-in for idl-gateway speaking protocol v1 (docs/protocol.md) over a real
// QWebSocketServer on 127.0.0.1, over an in-memory data set. It decodes requests and encodes
// every reply with idl::protocol (the gateway's own definitions) and filters with the query
// language's evaluator, so it cannot drift from the real gateway in shape; the contract test
// (tests/gateway/test_gateway_contract.cpp) runs one scripted conversation against both and
// requires the same replies. Lets the console's models be tested (and benchmarked) without
// the stack. Lives in the thread that creates it (the benchmark runs it in its own thread).
//
// Not modelled: rate limits, in-flight limits, tokens.*, tail history (`since`): a tail only
// gets the frames the test pushes. Dead letters are a list the test fills (`deadLetters`).
// Alerts: rules are stored here (`alertRules`, every one visible: the fake has one admin
// identity), alerts.rules.test counts the in-memory events with the query evaluator,
// alerts.firing and alerts.history answer what the test fills in (`alertSeries`,
// `alertChanges`, newest last), and pushAlertState() pushes an alert.state to every
// authenticated connection (idl-alerter is not modelled).

#include "idl/core/log_event.h"
#include "idl/core/timestamp.h"
#include "idl/protocol/replies.h"
#include "idl/protocol/requests.h"
#include "idl/query/evaluator.h"
#include "idl/query/parser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QSet>
#include <QUuid>
#include <QWebSocket>
#include <QWebSocketServer>

#include <algorithm>
#include <limits>
#include <map>
#include <utility>
#include <vector>

namespace idl::console::testing {

// One stored event of the fake data set. `id` must be a UUID-shaped text (36 characters), as
// keyset cursors carry it.
struct FakeEvent
{
    qint64 ts = 0;
    QString id;
    QString level;
    QString app;
    QString host;
    QString message;
    QJsonObject attrs;

    idl::LogEvent toEvent() const
    {
        idl::LogEvent e;
        e.id = id.toStdString();
        e.tsNs = ts;
        e.receivedNs = ts + 1000;
        e.level = idl::parseLevel(level.toStdString()).value_or(idl::Level::Info);
        e.app = app.toStdString();
        e.host = host.toStdString();
        e.message = message.toStdString();
        e.attrsJson = QJsonDocument(attrs).toJson(QJsonDocument::Compact).toStdString();
        return e;
    }
    // The event as a protocol row object.
    QJsonObject toJson(unsigned columns = protocol::ColAll) const
    {
        std::string out;
        protocol::appendEvent(out, toEvent(), columns);
        return QJsonDocument::fromJson(QByteArray::fromStdString(out)).object();
    }
};

class FakeGateway : public QObject
{
    Q_OBJECT
public:
    QString token = QStringLiteral("idt_test_secret");
    std::vector<FakeEvent> events; // any order; sorted on use
    int queriesSeen = 0;
    int tailStarts = 0;
    QJsonObject lastTailStart;
    QJsonObject lastQuery;
    std::vector<protocol::SavedQuery> saved;
    // Dead letters (dlq.*), newest last; replay marks them (once) and counts in `replayed`.
    struct FakeDeadLetter
    {
        protocol::DeadLetter letter;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string payload;
    };
    std::vector<FakeDeadLetter> deadLetters;
    QStringList replayed; // ids sent back, in order
    std::vector<protocol::AlertRule> alertRules;
    std::vector<protocol::AlertSeries> alertSeries;  // what alerts.firing lists
    std::vector<protocol::AlertChange> alertChanges; // what alerts.history pages, newest last
    QStringList exportChunks; // when set, `export` replays these (id placeholder "@ID@")
    qint64 exportRowCount = 0;

    explicit FakeGateway(QObject *parent = nullptr)
        : QObject(parent),
          m_server(QStringLiteral("fake-gateway"), QWebSocketServer::NonSecureMode, this)
    {
        connect(&m_server, &QWebSocketServer::newConnection, this, &FakeGateway::onNew);
    }

    ~FakeGateway() override
    {
        // The connections still open are ours (QWebSocketServer hands them out without a
        // parent): they must not call back into the members below while going, and must go
        // (LeakSanitizer found the last test's connection left at exit).
        const auto clients = std::exchange(m_clients, {});
        for (QWebSocket *c : clients) {
            c->disconnect(this);
            c->abort();
            delete c;
        }
        m_server.close();
    }

    bool listen(quint16 port = 0) { return m_server.listen(QHostAddress::LocalHost, port); }
    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/ws").arg(port())); }
    int connectionCount() const { return static_cast<int>(m_clients.size()); }

    // Sends a live tail frame to every active tail.
    void pushTail(const QJsonArray &rows, qint64 dropped = 0, qint64 offset = 0)
    {
        for (auto it = m_tails.begin(); it != m_tails.end(); ++it) {
            std::string out;
            protocol::beginTailEvents(out, it.value().toStdString(), false);
            for (qsizetype i = 0; i < rows.size(); ++i) {
                if (i)
                    out.push_back(',');
                out +=
                    QJsonDocument(rows[i].toObject()).toJson(QJsonDocument::Compact).toStdString();
            }
            protocol::endTailEvents(out, static_cast<std::uint64_t>(dropped),
                                    static_cast<std::uint64_t>(dropped), {{0, offset}});
            sendText(it.key(), out);
        }
    }
    // Same, with a pre-serialised frame body (benchmark: no JSON work on this side).
    void pushTailText(const QString &textWithoutId)
    {
        for (auto it = m_tails.begin(); it != m_tails.end(); ++it) {
            QString t = textWithoutId;
            t.replace(QStringLiteral("\"@ID@\""), QStringLiteral("\"%1\"").arg(it.value()));
            it.key()->sendTextMessage(t);
        }
    }
    int activeTails() const { return static_cast<int>(m_tails.size()); }

    // Pushes {"type":"alert.state",...} to every authenticated connection (and records the
    // change in alertChanges, as the real history would have it).
    void pushAlertState(const protocol::AlertChange &change)
    {
        alertChanges.push_back(change);
        for (QWebSocket *c : std::as_const(m_authed))
            sendText(c, protocol::alertStateMessage(change));
    }

    // Closes every connection (as a restarting gateway would).
    void dropAll()
    {
        const auto clients = m_clients;
        m_tails.clear();
        for (QWebSocket *c : clients)
            c->abort();
    }

private:
    void onNew()
    {
        while (QWebSocket *ws = m_server.nextPendingConnection()) {
            m_clients.append(ws);
            connect(ws, &QWebSocket::textMessageReceived, this,
                    [this, ws](const QString &t) { onText(ws, t); });
            connect(ws, &QWebSocket::disconnected, this, [this, ws] {
                m_clients.removeOne(ws);
                m_tails.remove(ws);
                m_authed.remove(ws);
                ws->deleteLater();
            });
        }
    }

    static void sendText(QWebSocket *ws, const std::string &json)
    {
        ws->sendTextMessage(QString::fromStdString(json));
    }
    static void error(QWebSocket *ws, const std::string &id, const Error &e)
    {
        sendText(ws, protocol::errorMessage(id, e));
    }
    static protocol::Identity tester() { return protocol::Identity{"tester", "admin", {}}; }

    // The filter and range of a request; nullopt after answering the error.
    std::optional<std::pair<query::Node, protocol::Interval>>
    filter(QWebSocket *ws, const std::string &id, const std::string &q,
           const protocol::Range &range) const
    {
        auto ast = query::parse(q);
        if (!ast) {
            error(ws, id, ast.error());
            return std::nullopt;
        }
        auto interval = protocol::resolveRange(range, nowNs());
        if (!interval) {
            error(ws, id, interval.error());
            return std::nullopt;
        }
        return std::make_pair(std::move(ast).value(), *interval);
    }

    // Events matching a filter and a range, in the request's order.
    std::vector<idl::LogEvent> matching(const query::Node &ast, const protocol::Interval &range,
                                        bool asc) const
    {
        auto matcher = query::Matcher::create(ast);
        std::vector<idl::LogEvent> out;
        for (const auto &fe : events) {
            idl::LogEvent e = fe.toEvent();
            if (e.tsNs >= range.fromNs && e.tsNs < range.toNs && matcher && matcher->matches(e))
                out.push_back(std::move(e));
        }
        std::sort(out.begin(), out.end(), [asc](const idl::LogEvent &a, const idl::LogEvent &b) {
            const auto ka = std::tie(a.tsNs, a.id);
            const auto kb = std::tie(b.tsNs, b.id);
            return asc ? ka < kb : kb < ka;
        });
        return out;
    }
    // Drops the events up to and including the cursor's (keyset on (ts, id)).
    static void skipCursor(std::vector<idl::LogEvent> &rows, const std::string &cursor, bool asc)
    {
        if (cursor.empty())
            return;
        const auto c = protocol::decodeCursor(cursor);
        std::erase_if(rows, [&](const idl::LogEvent &e) {
            const auto k = std::tie(e.tsNs, e.id);
            const auto kc = std::tie(c->first, c->second);
            return asc ? k <= kc : k >= kc;
        });
    }

    // Sends `rows` messages of `chunk` rows; with progress for exports.
    static void sendRows(QWebSocket *ws, const std::string &id,
                         const std::vector<idl::LogEvent> &rows, std::int64_t chunk,
                         unsigned columns, bool progress)
    {
        std::int64_t seq = 0;
        for (std::size_t b = 0; b < rows.size(); b += static_cast<std::size_t>(chunk)) {
            const std::size_t e = std::min(rows.size(), b + static_cast<std::size_t>(chunk));
            std::string out;
            protocol::beginRows(out, id, seq++);
            for (std::size_t i = b; i < e; ++i) {
                if (i > b)
                    out.push_back(',');
                protocol::appendEvent(out, rows[i], columns);
            }
            std::optional<protocol::Progress> p;
            if (progress)
                p = protocol::Progress{static_cast<std::int64_t>(e),
                                       double(e) / double(rows.size())};
            protocol::endRows(out, p);
            sendText(ws, out);
        }
    }

    void onText(QWebSocket *ws, const QString &text)
    {
        std::string id;
        auto envelope = protocol::decodeEnvelope(text.toUtf8(), &id);
        if (!envelope)
            return error(ws, id, envelope.error());
        const auto &types = protocol::requestTypes();
        if (std::find(types.begin(), types.end(), envelope->type) == types.end())
            return error(ws, id,
                         makeError(ErrorCode::BadRequest, "unknown type " + envelope->type));
        const bool authed = m_authed.contains(ws);
        if (!authed && envelope->type != "hello" && envelope->type != "auth" &&
            envelope->type != "ping")
            return error(ws, id, makeError(ErrorCode::Unauthenticated, "authenticate first"));
        auto request = protocol::decodeRequest(*envelope);
        if (!request)
            return error(ws, id, request.error());
        std::visit([&](const auto &r) { handle(ws, id, envelope->body, r); }, *request);
    }

    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::Hello &r)
    {
        if (std::find(r.versions.begin(), r.versions.end(), protocol::kVersion) ==
            r.versions.end()) {
            error(ws, id,
                  makeError(ErrorCode::BadRequest, "no common protocol version (server: 1)"));
            ws->close(QWebSocketProtocol::CloseCodeProtocolError,
                      QStringLiteral("no common protocol version"));
            return;
        }
        if (!r.token.empty()) {
            if (QString::fromStdString(r.token) == token)
                m_authed.insert(ws);
            else
                error(ws, id, makeError(ErrorCode::Unauthenticated, "invalid credentials"));
        }
        const protocol::Identity who = tester();
        sendText(ws, protocol::helloMessage(id, "fake-gateway/1",
                                            m_authed.contains(ws) ? &who : nullptr, {}));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &, const protocol::Auth &r)
    {
        if (QString::fromStdString(r.token) != token)
            return error(ws, id, makeError(ErrorCode::Unauthenticated, "invalid credentials"));
        m_authed.insert(ws);
        sendText(ws, protocol::authOkMessage(id, tester()));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &, const protocol::Ping &)
    {
        sendText(ws, protocol::pongMessage(id));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &body,
                const protocol::Query &r)
    {
        ++queriesSeen;
        lastQuery = body;
        const auto f = filter(ws, id, r.q, r.range);
        if (!f)
            return;
        const auto &[ast, range] = *f;
        const bool asc = r.order == protocol::Order::Asc;
        auto rows = matching(ast, range, asc);
        skipCursor(rows, r.cursor, asc);
        std::string cursor;
        if (static_cast<std::int64_t>(rows.size()) > r.limit) {
            rows.resize(static_cast<std::size_t>(r.limit));
            cursor = protocol::encodeCursor(rows.back().tsNs, rows.back().id);
        }
        sendRows(ws, id, rows, r.chunk, protocol::ColAll, false);
        sendText(ws, protocol::doneMessage(id, static_cast<std::int64_t>(rows.size()), cursor, 1));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::Export &r)
    {
        if (!exportChunks.isEmpty()) {
            // Benchmark replay: pre-serialised `rows` messages, then `done`.
            const QString quotedId = QStringLiteral("\"%1\"").arg(QString::fromStdString(id));
            for (QString chunk : std::as_const(exportChunks))
                ws->sendTextMessage(chunk.replace(QStringLiteral("\"@ID@\""), quotedId));
            sendText(ws, protocol::doneMessage(id, exportRowCount, {}, 1));
            return;
        }
        const auto f = filter(ws, id, r.q, r.range);
        if (!f)
            return;
        const auto &[ast, range] = *f;
        const bool asc = r.order == protocol::Order::Asc;
        auto rows = matching(ast, range, asc);
        skipCursor(rows, r.cursor, asc);
        sendRows(ws, id, rows, r.chunk, protocol::columnSet(r), true);
        sendText(ws, protocol::doneMessage(id, static_cast<std::int64_t>(rows.size()), {}, 1));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::Aggregate &r)
    {
        const auto f = filter(ws, id, r.q, r.range);
        if (!f)
            return;
        const auto &[ast, range] = *f;
        protocol::AggregateResult a;
        a.bucketMs = r.bucketMs ? r.bucketMs : 60000;
        a.source = "raw";
        const std::int64_t bucket = a.bucketMs * 1'000'000;
        a.fromNs = range.fromNs - range.fromNs % bucket;
        a.toNs = range.toNs % bucket ? range.toNs - range.toNs % bucket + bucket : range.toNs;
        if ((a.toNs - a.fromNs) / bucket > 2000)
            return error(ws, id, makeError(ErrorCode::BadRequest, "more than 2000 buckets"));
        a.buckets.resize(static_cast<std::size_t>((a.toNs - a.fromNs) / bucket));
        std::map<std::string, std::int64_t> totals;
        for (const auto &e : matching(ast, {a.fromNs, a.toNs}, true)) {
            const std::string key = r.split == "app" ? e.app : std::string(levelName(e.level));
            ++a.buckets[static_cast<std::size_t>((e.tsNs - a.fromNs) / bucket)][key];
            ++totals[key];
            ++a.total;
        }
        if (r.split == "app") {
            for (const auto &[k, c] : totals)
                a.keys.push_back(k);
        } else {
            a.keys = {"trace", "debug", "info", "warn", "error", "fatal"};
        }
        sendText(ws, protocol::aggregateResultMessage(id, a));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &, const protocol::Top &r)
    {
        const auto f = filter(ws, id, r.q, r.range);
        if (!f)
            return;
        const auto &[ast, range] = *f;
        std::map<std::string, std::int64_t> counts;
        for (const auto &e : matching(ast, range, true))
            ++counts[r.field == "host" ? e.host : e.app];
        protocol::TopResult t;
        t.field = r.field;
        t.source = "raw";
        for (const auto &[v, c] : counts)
            t.items.push_back({v, c});
        std::stable_sort(t.items.begin(), t.items.end(),
                         [](const auto &a, const auto &b) { return a.count > b.count; });
        if (static_cast<std::int64_t>(t.items.size()) > r.limit)
            t.items.resize(static_cast<std::size_t>(r.limit));
        sendText(ws, protocol::topResultMessage(id, t));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &body,
                const protocol::TailStart &r)
    {
        auto ast = query::parse(r.q);
        if (!ast)
            return error(ws, id, ast.error());
        ++tailStarts;
        lastTailStart = body;
        m_tails.insert(ws, QString::fromStdString(id));
        sendText(ws, protocol::tailStartedMessage(id, "idl.logs.events", {{0, 0}}, false));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::TailStop &r)
    {
        if (m_tails.value(ws) == QString::fromStdString(r.target))
            m_tails.remove(ws);
        sendText(ws, protocol::okMessage(id));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::Cancel &r)
    {
        // Only tails are still running here (queries answer at once).
        if (m_tails.value(ws) == QString::fromStdString(r.target)) {
            m_tails.remove(ws);
            error(ws, r.target, makeError(ErrorCode::Cancelled, "cancelled by the client"));
        }
        sendText(ws, protocol::okMessage(id));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::SavedList &)
    {
        auto items = saved;
        std::sort(items.begin(), items.end(), [](const auto &a, const auto &b) {
            return std::tie(a.name, a.uuid) < std::tie(b.name, b.uuid);
        });
        sendText(ws, protocol::savedListMessage(id, items));
    }
    protocol::SavedQuery *findSaved(const std::string &uuid)
    {
        auto it =
            std::find_if(saved.begin(), saved.end(), [&](const auto &s) { return s.uuid == uuid; });
        return it == saved.end() ? nullptr : &*it;
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::SavedGet &r)
    {
        if (auto *s = findSaved(r.uuid))
            return sendText(ws, protocol::savedResultMessage(id, *s));
        error(ws, id, makeError(ErrorCode::NotFound, "no such saved query"));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::SavedPut &r)
    {
        if (auto p = query::parse(r.q); !p)
            return error(ws, id, p.error());
        const std::string now = formatRfc3339Nanos(nowNs()).substr(0, 19) + "Z";
        protocol::SavedQuery *s = nullptr;
        if (r.uuid.empty()) {
            saved.push_back({});
            s = &saved.back();
            s->uuid = QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
            s->owner = "tester";
            s->created = now;
        } else if (!(s = findSaved(r.uuid))) {
            return error(ws, id, makeError(ErrorCode::NotFound, "no such saved query"));
        }
        s->name = r.name;
        s->q = r.q;
        s->from = r.range.from;
        s->to = r.range.to;
        s->shared = r.shared;
        s->updated = now;
        sendText(ws, protocol::savedResultMessage(id, *s));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::SavedDelete &r)
    {
        if (!findSaved(r.uuid))
            return error(ws, id, makeError(ErrorCode::NotFound, "no such saved query"));
        std::erase_if(saved, [&](const auto &s) { return s.uuid == r.uuid; });
        sendText(ws, protocol::okMessage(id));
    }
    // Dead letters the filter selects, newest first; nullopt after answering the error.
    std::optional<std::vector<const FakeDeadLetter *>>
    selectDead(QWebSocket *ws, const std::string &id, const protocol::DlqFilter &f)
    {
        std::int64_t from = std::numeric_limits<std::int64_t>::min();
        std::int64_t to = std::numeric_limits<std::int64_t>::max();
        for (auto [text, bound] : {std::pair{&f.from, &from}, std::pair{&f.to, &to}}) {
            if (text->empty())
                continue;
            auto v = protocol::parseTimeArg(*text, nowNs());
            if (!v) {
                error(ws, id, v.error());
                return std::nullopt;
            }
            *bound = *v;
        }
        std::vector<const FakeDeadLetter *> out;
        for (auto it = deadLetters.rbegin(); it != deadLetters.rend(); ++it) {
            const auto &d = it->letter;
            if ((f.code.empty() || d.code == f.code) && (f.app.empty() || d.app == f.app) &&
                d.deadAtNs >= from && d.deadAtNs < to)
                out.push_back(&*it);
        }
        return out;
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::DlqList &r)
    {
        auto sel = selectDead(ws, id, r.filter);
        if (!sel)
            return;
        std::vector<protocol::DeadLetter> items;
        for (const auto *d : *sel)
            if (static_cast<std::int64_t>(items.size()) < r.limit)
                items.push_back(d->letter);
        sendText(ws, protocol::dlqListMessage(id, items,
                                              static_cast<std::int64_t>(sel->size()) > r.limit));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::DlqGet &r)
    {
        for (const auto &d : deadLetters) {
            if (d.letter.partition == r.partition && d.letter.offset == r.offset)
                return sendText(ws, protocol::dlqResultMessage(id, d.letter, d.headers, d.payload));
        }
        error(ws, id,
              makeError(ErrorCode::NotFound, "no dead letter " + std::to_string(r.partition) + ":" +
                                                 std::to_string(r.offset)));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::DlqReplay &r)
    {
        std::vector<FakeDeadLetter *> chosen;
        if (r.all) {
            auto sel = selectDead(ws, id, r.filter);
            if (!sel)
                return;
            for (const auto *d : *sel)
                chosen.push_back(const_cast<FakeDeadLetter *>(d));
        } else {
            for (const auto &want : r.ids) {
                const auto po = protocol::parseDlqId(want);
                auto it = std::find_if(deadLetters.begin(), deadLetters.end(), [&](const auto &d) {
                    return d.letter.partition == po->first && d.letter.offset == po->second;
                });
                if (it == deadLetters.end())
                    return error(ws, id,
                                 makeError(ErrorCode::NotFound,
                                           "no dead letter " + want + "; nothing replayed"));
                chosen.push_back(&*it);
            }
        }
        std::vector<std::string> ids;
        std::int64_t skipped = 0;
        for (FakeDeadLetter *d : chosen) {
            if (!d->letter.replayedAt.empty()) {
                ++skipped;
                continue;
            }
            d->letter.replayedAt = formatRfc3339Millis(nowNs());
            d->letter.replayedBy = "tester";
            ids.push_back(std::to_string(d->letter.partition) + ":" +
                          std::to_string(d->letter.offset));
            replayed << QString::fromStdString(ids.back());
        }
        sendText(ws, protocol::dlqReplayResultMessage(id, static_cast<std::int64_t>(ids.size()),
                                                      skipped, ids, false));
    }
    protocol::AlertRule *findRule(const std::string &uuid)
    {
        auto it = std::find_if(alertRules.begin(), alertRules.end(),
                               [&](const auto &r) { return r.rule.uuid == uuid; });
        return it == alertRules.end() ? nullptr : &*it;
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::AlertsRulesList &)
    {
        auto items = alertRules;
        std::sort(items.begin(), items.end(), [](const auto &a, const auto &b) {
            return std::tie(a.rule.name, a.rule.uuid) < std::tie(b.rule.name, b.rule.uuid);
        });
        sendText(ws, protocol::alertRulesListMessage(id, items));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::AlertsRulesGet &r)
    {
        if (auto *rule = findRule(r.uuid))
            return sendText(ws, protocol::alertRuleResultMessage(id, *rule));
        error(ws, id, makeError(ErrorCode::NotFound, "no such alert rule"));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::AlertsRulesPut &r)
    {
        if (auto p = query::parse(r.rule.q); !p)
            return error(ws, id, p.error());
        const std::string now = formatRfc3339Millis(nowNs());
        protocol::AlertRule *rule = nullptr;
        if (r.rule.uuid.empty()) {
            alertRules.push_back({});
            rule = &alertRules.back();
            rule->owner = "tester";
            rule->created = now;
        } else if (!(rule = findRule(r.rule.uuid))) {
            return error(ws, id, makeError(ErrorCode::NotFound, "no such alert rule"));
        }
        const std::string uuid =
            r.rule.uuid.empty() ? QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString()
                                : r.rule.uuid;
        rule->rule = r.rule;
        rule->rule.uuid = uuid;
        rule->updated = now;
        rule->lastError.clear();
        sendText(ws, protocol::alertRuleResultMessage(id, *rule));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::AlertsRulesDelete &r)
    {
        if (!findRule(r.uuid))
            return error(ws, id, makeError(ErrorCode::NotFound, "no such alert rule"));
        std::erase_if(alertRules, [&](const auto &x) { return x.rule.uuid == r.uuid; });
        std::erase_if(alertSeries, [&](const auto &x) { return x.rule == r.uuid; });
        std::erase_if(alertChanges, [&](const auto &x) { return x.rule == r.uuid; });
        sendText(ws, protocol::okMessage(id));
    }
    // What the evaluator counts, over the in-memory events: per series key, in [from, to).
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::AlertsRulesTest &r)
    {
        auto ast = query::parse(r.rule.q);
        if (!ast)
            return error(ws, id, ast.error());
        const std::int64_t now = nowNs(), windowNs = r.rule.windowMs * 1'000'000;
        protocol::AlertTestResult t;
        t.windowMs = r.rule.windowMs;
        t.toNs = now;
        t.fromNs = now - r.windows * windowNs;
        t.condition = r.rule.condition;
        t.threshold = r.rule.threshold;
        std::map<std::string, std::int64_t> totals;
        if (r.rule.groupBy.empty())
            totals[""] = 0;
        t.buckets.resize(static_cast<std::size_t>(r.windows));
        for (std::size_t i = 0; i < t.buckets.size(); ++i)
            t.buckets[i].tNs = t.fromNs + static_cast<std::int64_t>(i) * windowNs;
        for (const auto &e : matching(*ast, {t.fromNs, t.toNs}, true)) {
            const std::string key = r.rule.groupBy == "app"    ? e.app
                                    : r.rule.groupBy == "host" ? e.host
                                                               : std::string();
            ++totals[key];
            ++t.buckets[static_cast<std::size_t>((e.tsNs - t.fromNs) / windowNs)].counts[key];
        }
        std::vector<std::pair<std::int64_t, std::string>> byCount;
        for (const auto &[k, c] : totals)
            byCount.push_back({-c, k});
        std::sort(byCount.begin(), byCount.end());
        for (const auto &[c, k] : byCount) {
            if (static_cast<std::int64_t>(t.keys.size()) == r.maxSeries) {
                t.truncated = true;
                break;
            }
            t.keys.push_back(k);
        }
        for (auto &b : t.buckets) {
            std::erase_if(b.counts, [&](const auto &kv) {
                return std::find(t.keys.begin(), t.keys.end(), kv.first) == t.keys.end();
            });
            for (const auto &k : t.keys) {
                const auto it = b.counts.find(k);
                const std::int64_t c = it == b.counts.end() ? 0 : it->second;
                const bool holds = r.rule.condition == "above"   ? c > r.rule.threshold
                                   : r.rule.condition == "below" ? c < r.rule.threshold
                                                                 : c == 0;
                if (holds)
                    b.holds.push_back(k);
            }
        }
        sendText(ws, protocol::alertTestResultMessage(id, t));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::AlertsFiring &r)
    {
        if (!r.rule.empty() && !findRule(r.rule))
            return error(ws, id, makeError(ErrorCode::NotFound, "no such alert rule"));
        std::vector<protocol::AlertSeries> items;
        for (const auto &s : alertSeries) {
            if ((r.rule.empty() || s.rule == r.rule) && s.state != "ok")
                items.push_back(s);
        }
        std::stable_sort(items.begin(), items.end(), [](const auto &a, const auto &b) {
            return (a.state == "firing") > (b.state == "firing");
        });
        sendText(ws, protocol::alertsFiringMessage(id, items));
    }
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &,
                const protocol::AlertsHistory &r)
    {
        if (!r.rule.empty() && !findRule(r.rule))
            return error(ws, id, makeError(ErrorCode::NotFound, "no such alert rule"));
        std::int64_t from = std::numeric_limits<std::int64_t>::min();
        std::int64_t to = std::numeric_limits<std::int64_t>::max();
        for (auto [text, bound] : {std::pair{&r.from, &from}, std::pair{&r.to, &to}}) {
            if (!text->empty())
                *bound = *protocol::parseTimeArg(*text, nowNs()); // checked by the decoder
        }
        const std::int64_t before = r.cursor.empty() ? std::numeric_limits<std::int64_t>::max()
                                                     : *protocol::decodeHistoryCursor(r.cursor);
        std::vector<protocol::AlertChange> items;
        bool more = false;
        for (auto it = alertChanges.rbegin(); it != alertChanges.rend(); ++it) {
            if ((!r.rule.empty() && it->rule != r.rule) || it->atNs < from || it->atNs >= to ||
                it->history >= before)
                continue;
            if (static_cast<std::int64_t>(items.size()) == r.limit) {
                more = true;
                break;
            }
            items.push_back(*it);
        }
        sendText(ws,
                 protocol::alertsHistoryMessage(
                     id, items, more ? protocol::encodeHistoryCursor(items.back().history) : ""));
    }
    template <class Other>
    void handle(QWebSocket *ws, const std::string &id, const QJsonObject &, const Other &)
    {
        error(ws, id, makeError(ErrorCode::Forbidden, "not supported by the fake gateway"));
    }

    QWebSocketServer m_server;
    QList<QWebSocket *> m_clients;
    QMap<QWebSocket *, QString> m_tails;
    QSet<QWebSocket *> m_authed;
};

} // namespace idl::console::testing
