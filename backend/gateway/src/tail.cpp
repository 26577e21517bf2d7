#include "tail.h"

#include "idl/protocol/replies.h"

#include "idl/core/json_codec.h"
#include "idl/gateway/wire.h"
#include "idl/kafka/admin.h"
#include "idl/kafka/consumer.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/query/sql.h"

#include <algorithm>
#include <charconv>

namespace idl::gateway {
namespace {

metrics::Counter &droppedCounter()
{
    static auto &c = metrics::Registry::global().counter(
        "idl_gateway_tail_dropped_total", "Live-tail events dropped because a client was slow");
    return c;
}
metrics::Counter &liveCounter()
{
    static auto &c = metrics::Registry::global().counter(
        "idl_gateway_tail_events_total", "Live-tail events queued for clients (after filtering)");
    return c;
}

} // namespace

TailSubscription::TailSubscription(TailOptions options, std::function<void()> wake)
    : m_opt(std::move(options)), m_wake(std::move(wake))
{}

TailSubscription::~TailSubscription()
{
    stop();
}

void TailSubscription::start()
{
    m_thread = std::thread([this] { run(); });
}

void TailSubscription::stop()
{
    m_stop = true;
    m_request->cancel();
    m_room.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

std::map<std::int32_t, std::int64_t> TailSubscription::startPositions() const
{
    std::lock_guard lock(m_mutex);
    return m_start;
}

std::size_t TailSubscription::queued() const
{
    std::lock_guard lock(m_mutex);
    return m_queue.size();
}

TailSubscription::Batch TailSubscription::take(std::size_t maxItems)
{
    Batch b;
    {
        std::lock_guard lock(m_mutex);
        if (!m_queue.empty())
            b.history = m_queue.front().partition < 0;
        while (!m_queue.empty() && b.items.size() < maxItems &&
               (m_queue.front().partition < 0) == b.history) {
            Item &it = m_queue.front();
            if (it.partition >= 0)
                m_delivered[it.partition] = it.offset + 1;
            m_queuedBytes -= it.json.size();
            b.items.push_back(std::move(it));
            m_queue.pop_front();
        }
        // With nothing left queued, every consumed event was delivered, filtered out or
        // counted as dropped: the positions may move past all of them.
        if (m_queue.empty())
            m_delivered = m_consumed;
        b.positions = m_delivered;
        b.dropped = m_dropped;
        m_dropped = 0;
        if (m_error && !m_errorTaken && m_queue.empty()) {
            b.error = m_error;
            m_errorTaken = true;
        }
    }
    m_room.notify_all();
    return b;
}

bool TailSubscription::pushHistory(Item item)
{
    bool wasEmpty = false;
    {
        std::unique_lock lock(m_mutex);
        m_room.wait(lock, [&] { return m_stop.load() || !full(item); });
        if (m_stop)
            return false;
        wasEmpty = m_queue.empty();
        m_queuedBytes += item.json.size();
        m_queue.push_back(std::move(item));
    }
    if (wasEmpty)
        m_wake();
    return true;
}

void TailSubscription::pushLive(Item item)
{
    bool wasEmpty = false;
    {
        std::lock_guard lock(m_mutex);
        m_consumed[item.partition] = item.offset + 1;
        if (full(item)) {
            ++m_dropped;
            droppedCounter().inc();
            return;
        }
        wasEmpty = m_queue.empty();
        m_queuedBytes += item.json.size();
        m_queue.push_back(std::move(item));
    }
    liveCounter().inc();
    if (wasEmpty)
        m_wake();
}

void TailSubscription::setError(Error e)
{
    {
        std::lock_guard lock(m_mutex);
        m_error = std::move(e);
    }
    m_wake();
}

void TailSubscription::run()
{
    auto r = runInner();
    if (!r && !m_stop)
        setError(r.error());
}

Result<void> TailSubscription::runInner()
{
    auto admin = kafka::Admin::create({{"bootstrap.servers", m_opt.bootstrap}});
    if (!admin)
        return admin.error();
    auto count = (*admin)->partitionCount(m_opt.topic);
    if (!count)
        return makeError(ErrorCode::Unavailable,
                         "events topic unavailable: " + count.error().message);

    std::map<std::int32_t, std::int64_t> start;
    auto publishStart = [&] {
        {
            std::lock_guard lock(m_mutex);
            m_start = start;
            m_consumed = start;
            m_delivered = start;
        }
        m_started = true;
        m_wake();
    };

    if (m_opt.resume) {
        for (std::int32_t p = 0; p < *count; ++p) {
            auto it = m_opt.resume->find(p);
            std::int64_t off = it == m_opt.resume->end() ? 0 : it->second;
            auto wm = (*admin)->watermarks(m_opt.topic, p);
            if (wm && off < wm->first) {
                off = wm->first;
                m_truncated = true;
            }
            if (wm && off > wm->second)
                off = wm->second;
            start[p] = off;
        }
        publishStart();
    } else if (m_opt.sinceNs) {
        auto conn = pg::Connection::connect(m_opt.dsn, std::chrono::seconds(5));
        if (!conn)
            return makeError(ErrorCode::Unavailable, "database unavailable");
        auto &db = *conn;
        if (auto e = db.exec(
                "SET statement_timeout = " + std::to_string(m_opt.statementTimeout.count()) +
                // The history snapshot waits while the client takes its events; a client
                // that stalls longer than this loses the tail (an error) instead of holding
                // the snapshot, and the locks it keeps on `logs`, for ever.
                "; SET idle_in_transaction_session_timeout = " +
                std::to_string(m_opt.statementTimeout.count()) +
                "; SET lock_timeout = '5s'; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            !e)
            return e.error();
        // The stored offsets and the history rows come from one snapshot; the writer commits
        // both in one transaction, so offsets mark exactly where the stored rows end.
        auto offs = db.query("SELECT partition, next_offset FROM kafka_offsets "
                             "WHERE consumer_group = $1 AND topic = $2",
                             {m_opt.writerGroup, m_opt.topic});
        if (!offs)
            return makeError(ErrorCode::Unavailable, offs.error().message);
        for (std::int32_t p = 0; p < *count; ++p)
            start[p] = 0;
        for (int i = 0; i < offs->rowCount(); ++i) {
            std::int32_t p = 0;
            std::int64_t o = 0;
            auto pv = offs->value(i, 0);
            auto ov = offs->value(i, 1);
            std::from_chars(pv.data(), pv.data() + pv.size(), p);
            std::from_chars(ov.data(), ov.data() + ov.size(), o);
            start[p] = o;
        }
        publishStart();

        query::QueryOptions qo;
        qo.fromNs = *m_opt.sinceNs;
        qo.order = query::SortOrder::Asc;
        qo.limit = 1000;
        qo.allowedApps = m_opt.apps;
        for (;;) {
            auto q = query::buildQuery(m_opt.ast, qo);
            if (!q)
                return q.error();
            pg::Params params(q->params.begin(), q->params.end());
            m_request->attach(db);
            auto rows = db.query(q->sql, params);
            m_request->detach();
            if (m_stop)
                return {};
            if (!rows)
                return rows.error();
            for (int i = 0; i < rows->rowCount(); ++i) {
                Item it;
                appendRowJson(it.json, *rows, i);
                if (!pushHistory(std::move(it)))
                    return {};
            }
            if (rows->rowCount() < qo.limit)
                break;
            const int last = rows->rowCount() - 1;
            std::int64_t ts = 0;
            auto tv = rows->value(last, 1);
            std::from_chars(tv.data(), tv.data() + tv.size(), ts);
            qo.cursor = query::Cursor{ts, std::string(rows->value(last, 0))};
        }
        (void)db.exec("COMMIT");
        // Let the session send the history before live events compete for queue room: a
        // live event arriving while history fills the queue would otherwise be dropped at the
        // seam although the client keeps up.
        std::unique_lock lock(m_mutex);
        m_room.wait(lock, [&] { return m_stop.load() || m_queue.empty(); });
    } else {
        for (std::int32_t p = 0; p < *count; ++p) {
            auto wm = (*admin)->watermarks(m_opt.topic, p);
            if (!wm)
                return makeError(ErrorCode::Unavailable, "events topic unavailable");
            start[p] = wm->second;
        }
        publishStart();
    }
    admin->reset();

    kafka::ConsumerOptions co;
    co.config = {{"bootstrap.servers", m_opt.bootstrap},
                 {"group.id", "idl-gateway-tail-unused"},
                 {"fetch.wait.max.ms", "10"},
                 {"fetch.error.backoff.ms", "50"},
                 {"enable.auto.offset.store", "false"}};
    auto consumer = kafka::Consumer::create(std::move(co));
    if (!consumer)
        return consumer.error();
    std::vector<kafka::TopicPartition> tps;
    for (const auto &[p, o] : start)
        tps.push_back({m_opt.topic, p, o});
    if (auto a = (*consumer)->assign(tps); !a)
        return a.error();

    EventDecoder decoder;
    while (!m_stop) {
        auto m = (*consumer)->poll(std::chrono::milliseconds(100));
        if (!m || !m->has_value())
            continue;
        const kafka::Message &msg = **m;
        Item it;
        it.partition = msg.partition();
        it.offset = msg.offset();
        auto ev = decoder.decodeEvent(msg.value());
        bool keep = ev.ok();
        if (keep && m_opt.sinceNs && ev->tsNs < *m_opt.sinceNs)
            keep = false;
        if (keep && !m_opt.apps.empty() &&
            std::find(m_opt.apps.begin(), m_opt.apps.end(), ev->app) == m_opt.apps.end())
            keep = false;
        if (keep && m_opt.matcher && !m_opt.matcher->matches(*ev))
            keep = false;
        if (!keep) {
            std::lock_guard lock(m_mutex);
            m_consumed[it.partition] = it.offset + 1;
            continue;
        }
        protocol::appendEvent(it.json, *ev, protocol::ColAll);
        pushLive(std::move(it));
    }
    (*consumer)->close();
    return {};
}

} // namespace idl::gateway
