// dlq.list, dlq.get, dlq.replay: the dead-letter topic for admins, within their app scope.
// Reading and replaying use the processor's own DLQ code (idl/processor/dlq.h), the same as
// `idl-admin dlq`; what the gateway adds is the app scope and the replay marks in
// PostgreSQL (dlq_replays) that make a dead letter replay at most once.
#include "handlers.h"
#include "idl/core/timestamp.h"
#include "idl/pg/connection.h"
#include "idl/processor/dlq.h"
#include "idl/processor/envelope.h"
#include "idl/protocol/replies.h"
#include "session.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <set>

namespace idl::gateway {
namespace {

namespace hdr = processor::headers;

// A replay of everything a filter selects sends at most this many at once ("more" says so).
constexpr std::size_t kMaxReplayAll = 10000;
// Reasons are cut in lists (dlq.get has the whole text).
constexpr std::size_t kMaxReasonBytes = 1000;

std::int64_t headerInt(const processor::DlqRecord &r, std::string_view name, std::int64_t def)
{
    const std::string v = r.header(name);
    std::int64_t n = def;
    if (v.empty() || std::from_chars(v.data(), v.data() + v.size(), n).ec != std::errc())
        return def;
    return n;
}

protocol::DeadLetter summarize(const processor::DlqRecord &r, bool fullReason)
{
    protocol::DeadLetter d;
    d.partition = r.partition;
    d.offset = r.offset;
    d.deadAtNs = headerInt(r, hdr::kDeadAt, r.timestampMs > 0 ? r.timestampMs * 1'000'000 : 0);
    d.firstSeenNs = headerInt(r, hdr::kFirstSeen, 0);
    d.app = r.key.value_or(std::string());
    d.code = r.header(hdr::kErrorCode);
    d.reason = r.header(hdr::kErrorMessage);
    if (!fullReason && d.reason.size() > kMaxReasonBytes)
        d.reason = d.reason.substr(0, kMaxReasonBytes) + "...";
    d.attempts = headerInt(r, hdr::kAttempts, 0);
    d.sourceTopic = r.header(hdr::kSourceTopic);
    d.sourcePartition = headerInt(r, hdr::kSourcePartition, -1);
    d.sourceOffset = headerInt(r, hdr::kSourceOffset, -1);
    d.bytes = static_cast<std::int64_t>(r.value.size());
    return d;
}

// What a filter selects, resolved at one time.
struct Selection
{
    std::string code;
    std::string app;
    std::int64_t fromNs = std::numeric_limits<std::int64_t>::min();
    std::int64_t toNs = std::numeric_limits<std::int64_t>::max();
    std::vector<std::string> scope; // the admin's apps; empty: every app

    bool operator()(const protocol::DeadLetter &d) const
    {
        if (!app.empty() && d.app != app)
            return false;
        if (!scope.empty() && std::find(scope.begin(), scope.end(), d.app) == scope.end())
            return false;
        return d.deadAtNs >= fromNs && d.deadAtNs < toNs;
    }
};

Result<Selection> resolve(const protocol::DlqFilter &f, const Identity &who)
{
    Selection s;
    s.code = f.code;
    s.app = f.app;
    s.scope = who.apps;
    const std::int64_t now = nowNs();
    if (!f.from.empty()) {
        auto v = protocol::parseTimeArg(f.from, now);
        if (!v)
            return v.error();
        s.fromNs = *v;
    }
    if (!f.to.empty()) {
        auto v = protocol::parseTimeArg(f.to, now);
        if (!v)
            return v.error();
        s.toNs = *v;
    }
    return s;
}

std::string intArray(const std::vector<std::int64_t> &values)
{
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i)
        out += (i ? "," : "") + std::to_string(values[i]);
    return out + "}";
}

// Fills replayedAt/By of the dead letters replayed before.
Result<void> attachReplays(pg::Connection &db, const std::string &topic,
                           std::vector<protocol::DeadLetter> &items)
{
    if (items.empty())
        return {};
    std::vector<std::int64_t> parts, offsets;
    for (const auto &d : items) {
        parts.push_back(d.partition);
        offsets.push_back(d.offset);
    }
    auto rows = db.query(
        "SELECT partition, \"offset\", to_char(replayed_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), replayed_by FROM dlq_replays WHERE topic = $1 "
        "AND (partition, \"offset\") IN (SELECT * FROM unnest($2::int[], $3::bigint[]))",
        {topic, intArray(parts), intArray(offsets)});
    if (!rows)
        return rows.error();
    std::map<std::pair<std::int64_t, std::int64_t>, std::pair<std::string, std::string>> marks;
    for (int i = 0; i < rows->rowCount(); ++i)
        marks[{toInt(rows->value(i, 0)), toInt(rows->value(i, 1))}] = {
            std::string(rows->value(i, 2)), std::string(rows->value(i, 3))};
    for (auto &d : items) {
        auto it = marks.find({d.partition, d.offset});
        if (it != marks.end())
            std::tie(d.replayedAt, d.replayedBy) = it->second;
    }
    return {};
}

} // namespace

namespace handlers {

void dlqList(Session &session, const std::string &id, const protocol::DlqList &request)
{
    if (!requireRole(session, id, Role::Admin, "dead letters need"))
        return;
    auto sel = resolve(request.filter, session.identity());
    if (!sel)
        return session.sendError(id, sel.error());
    const GatewayOptions &o = session.gateway()->opt;
    session.runJob(id, "dlq.list",
                   [sel = std::move(sel).value(), limit = request.limit,
                    bootstrap = o.kafkaBootstrap, topic = o.kafkaDlqTopic, window = o.dlqScanWindow,
                    id](pg::Connection &db, const Session::Emit &emit,
                        const std::shared_ptr<RequestState> &state) -> Result<void> {
                       processor::DlqQuery q;
                       q.code = sel.code;
                       std::vector<protocol::DeadLetter> items;
                       auto r = processor::scanDlq(
                           bootstrap, topic, q, window, [&](processor::DlqRecord &&rec) {
                               protocol::DeadLetter d = summarize(rec, false);
                               if (sel(d))
                                   items.push_back(std::move(d));
                               return !state->cancelled();
                           });
                       if (!r)
                           return r.error();
                       if (state->cancelled())
                           return makeError(ErrorCode::Cancelled, "cancelled by the client");
                       // Newest first.
                       std::sort(items.begin(), items.end(), [](const auto &a, const auto &b) {
                           return std::tie(b.deadAtNs, b.partition, b.offset) <
                                  std::tie(a.deadAtNs, a.partition, a.offset);
                       });
                       const bool more = static_cast<std::int64_t>(items.size()) > limit;
                       if (more)
                           items.resize(static_cast<std::size_t>(limit));
                       if (auto m = attachReplays(db, topic, items); !m)
                           return m.error();
                       emit(protocol::dlqListMessage(id, items, more), true);
                       return {};
                   });
}

void dlqGet(Session &session, const std::string &id, const protocol::DlqGet &request)
{
    if (!requireRole(session, id, Role::Admin, "dead letters need"))
        return;
    const GatewayOptions &o = session.gateway()->opt;
    Selection scope;
    scope.scope = session.identity().apps;
    session.runJob(
        id, "dlq.get",
        [scope, request, bootstrap = o.kafkaBootstrap, topic = o.kafkaDlqTopic,
         id](pg::Connection &db, const Session::Emit &emit,
             const std::shared_ptr<RequestState> &) -> Result<void> {
            processor::DlqQuery q;
            q.partition = request.partition;
            q.offset = request.offset;
            std::optional<processor::DlqRecord> found;
            auto r = processor::scanDlq(bootstrap, topic, q, std::nullopt,
                                        [&](processor::DlqRecord &&rec) {
                                            found = std::move(rec);
                                            return false;
                                        });
            if (!r)
                return r.error();
            std::vector<protocol::DeadLetter> one;
            if (found)
                one.push_back(summarize(*found, true));
            if (one.empty() || !scope(one.front())) // out of scope: as if it did not exist
                return makeError(ErrorCode::NotFound,
                                 "no dead letter " +
                                     protocol::formatDlqId(request.partition, request.offset));
            if (auto m = attachReplays(db, topic, one); !m)
                return m.error();
            std::vector<std::pair<std::string, std::string>> headers;
            for (const auto &h : found->headers)
                headers.emplace_back(h.key, h.value.value_or(std::string()));
            emit(protocol::dlqResultMessage(id, one.front(), headers, found->value), true);
            return {};
        });
}

void dlqReplay(Session &session, const std::string &id, const protocol::DlqReplay &request)
{
    if (!requireRole(session, id, Role::Admin, "dead letters need"))
        return;
    auto sel = resolve(request.filter, session.identity());
    if (!sel)
        return session.sendError(id, sel.error());
    const GatewayOptions &o = session.gateway()->opt;
    session.runJob(
        id, "dlq.replay",
        [sel = std::move(sel).value(), request, who = session.identity().user,
         bootstrap = o.kafkaBootstrap, topic = o.kafkaDlqTopic, target = o.kafkaRawTopic,
         id](pg::Connection &db, const Session::Emit &emit,
             const std::shared_ptr<RequestState> &state) -> Result<void> {
            // 1. The dead letters to replay: the ids asked for (each must exist and be in
            //    scope), or everything the filter selects (at most kMaxReplayAll at once).
            std::set<std::pair<std::int32_t, std::int64_t>> wanted;
            for (const auto &s : request.ids)
                wanted.insert(*protocol::parseDlqId(s));
            processor::DlqQuery q;
            q.code = request.all ? sel.code : std::string();
            std::vector<processor::DlqRecord> records;
            bool more = false;
            Selection inScope; // asked for by id: only the app scope applies
            inScope.scope = sel.scope;
            auto r = processor::scanDlq(
                bootstrap, topic, q, std::nullopt, [&](processor::DlqRecord &&rec) {
                    if (state->cancelled())
                        return false;
                    const protocol::DeadLetter d = summarize(rec, false);
                    if (request.all) {
                        if (!sel(d))
                            return true;
                        if (records.size() == kMaxReplayAll) {
                            more = true;
                            return false;
                        }
                        records.push_back(std::move(rec));
                        return true;
                    }
                    if (wanted.erase({rec.partition, rec.offset}) && inScope(d))
                        records.push_back(std::move(rec));
                    return !wanted.empty();
                });
            if (!r)
                return r.error();
            if (state->cancelled())
                return makeError(ErrorCode::Cancelled, "cancelled by the client");
            if (!request.all && records.size() != request.ids.size()) {
                std::set<std::pair<std::int32_t, std::int64_t>> got;
                for (const auto &rec : records)
                    got.insert({rec.partition, rec.offset});
                for (const auto &s : request.ids) {
                    const auto po = *protocol::parseDlqId(s);
                    if (!got.count(po))
                        return makeError(ErrorCode::NotFound,
                                         "no dead letter " + s + "; nothing replayed");
                }
            }
            // 2. Mark them in PostgreSQL; the rows that were already there were replayed
            //    before and are skipped. A concurrent replay of the same record waits for
            //    this transaction and then skips it.
            std::vector<std::int64_t> parts, offsets;
            for (const auto &rec : records) {
                parts.push_back(rec.partition);
                offsets.push_back(rec.offset);
            }
            if (auto b = db.begin(); !b)
                return b.error();
            auto marked =
                db.query("INSERT INTO dlq_replays (topic, partition, \"offset\", replayed_by) "
                         "SELECT $1, p, o, $4 FROM unnest($2::int[], $3::bigint[]) AS t(p, o) "
                         "ON CONFLICT DO NOTHING RETURNING partition, \"offset\"",
                         {topic, intArray(parts), intArray(offsets), who});
            if (!marked) {
                (void)db.rollback();
                return marked.error();
            }
            std::set<std::pair<std::int64_t, std::int64_t>> fresh;
            for (int i = 0; i < marked->rowCount(); ++i)
                fresh.insert({toInt(marked->value(i, 0)), toInt(marked->value(i, 1))});
            // 3. Send the fresh ones; commit the marks only once Kafka acknowledged them all.
            std::vector<std::string> ids;
            if (!fresh.empty()) {
                auto replayer = processor::Replayer::create(bootstrap, target);
                if (!replayer) {
                    (void)db.rollback();
                    return replayer.error();
                }
                for (const auto &rec : records) {
                    if (!fresh.count({rec.partition, rec.offset}))
                        continue;
                    if (auto s = (*replayer)->send(rec); !s) {
                        (void)db.rollback();
                        return s.error();
                    }
                    ids.push_back(protocol::formatDlqId(rec.partition, rec.offset));
                }
                if (auto f = (*replayer)->finish(); !f) {
                    (void)db.rollback();
                    return makeError(f.error().code,
                                     f.error().message + "; none marked as replayed");
                }
            }
            if (auto c = db.commit(); !c)
                return c.error();
            emit(protocol::dlqReplayResultMessage(
                     id, static_cast<std::int64_t>(fresh.size()),
                     static_cast<std::int64_t>(records.size() - fresh.size()), ids, more),
                 true);
            return {};
        });
}

} // namespace handlers
} // namespace idl::gateway
