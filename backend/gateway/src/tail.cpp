#include "tail.h"

#include "idl/protocol/replies.h"

#include "idl/core/json_codec.h"
#include "idl/gateway/wire.h"
#include "idl/kafka/admin.h"
#include "idl/kafka/consumer.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/query/sql.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace idl::gateway {
namespace {

// A catch-up reader hands off to the hub once it is at most this many offsets behind it
// (summed over partitions): what the hub keeps aside meanwhile stays small.
constexpr std::int64_t kHandOffGap = 1000;

metrics::Counter &droppedCounter()
{
    static auto &c = metrics::Registry::global().counter(
        "idl_gateway_tail_dropped_total", "Live-tail events dropped because a client was slow");
    return c;
}
metrics::Counter &skippedCounter()
{
    static auto &c = metrics::Registry::global().counter(
        "idl_gateway_tail_undecoded_total",
        "Events the shared tail consumer did not decode: no attached tail can want their app");
    return c;
}
metrics::Counter &liveCounter()
{
    static auto &c = metrics::Registry::global().counter(
        "idl_gateway_tail_events_total", "Live-tail events queued for clients (after filtering)");
    return c;
}
metrics::Counter &catchUpCounter()
{
    static auto &c = metrics::Registry::global().counter(
        "idl_gateway_tail_catchups_total",
        "Tails that read history or Kafka on their own before joining the shared consumer");
    return c;
}

metrics::Counter &lateHistoryCounter()
{
    static auto &c = metrics::Registry::global().counter(
        "idl_gateway_tail_late_history_total",
        "History rows stored while a tail read its history, into ranges it had already read "
        "(sent at the end of the history)");
    return c;
}
metrics::Counter &handOffCounter(bool hubAhead)
{
    static auto &ahead = metrics::Registry::global().counter(
        "idl_gateway_tail_handoffs_total", "Catch-up readers handing off to the shared consumer",
        {{"hub", "ahead"}});
    static auto &level = metrics::Registry::global().counter(
        "idl_gateway_tail_handoffs_total", "Catch-up readers handing off to the shared consumer",
        {{"hub", "level"}});
    return hubAhead ? ahead : level;
}

std::int64_t parseInt(std::string_view v)
{
    std::int64_t x = 0;
    std::from_chars(v.data(), v.data() + v.size(), x);
    return x;
}

// A Kafka reader of the events topic from exact positions (manual assignment, no group).
Result<std::unique_ptr<kafka::Consumer>>
positionedReader(const std::string &bootstrap, const std::string &topic, const Positions &from)
{
    kafka::ConsumerOptions co;
    co.config = {{"bootstrap.servers", bootstrap},
                 {"group.id", "idl-gateway-tail-unused"},
                 {"fetch.wait.max.ms", "10"},
                 {"fetch.error.backoff.ms", "50"},
                 // back within about a second of a restarted broker (default: up to 10 s)
                 {"reconnect.backoff.max.ms", "1000"},
                 {"enable.auto.offset.store", "false"}};
    auto consumer = kafka::Consumer::create(std::move(co));
    if (!consumer)
        return consumer.error();
    std::vector<kafka::TopicPartition> tps;
    for (const auto &[p, o] : from)
        tps.push_back({topic, p, o});
    if (auto a = (*consumer)->assign(tps); !a)
        return a.error();
    return std::move(consumer).value();
}

// Key order of the history: (ts, id) as PostgreSQL orders (bigint, uuid); lower-case UUID
// text compares like the uuid bytes.
struct Key
{
    std::int64_t ts = 0;
    std::string id;
};
std::string lowerId(std::string_view id)
{
    std::string out(id);
    for (char &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
bool keyLessEq(const Key &a, const Key &b)
{
    return a.ts < b.ts || (a.ts == b.ts && a.id <= b.id);
}

} // namespace

// --- TailHub -------------------------------------------------------------------------------

TailHub::TailHub(std::string bootstrap, std::string topic)
    : m_bootstrap(std::move(bootstrap)), m_topic(std::move(topic))
{}

TailHub::~TailHub()
{
    stop();
}

void TailHub::start()
{
    m_thread = std::thread([this] { run(); });
}

void TailHub::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

Result<int> TailHub::waitReady(std::chrono::milliseconds timeout)
{
    std::unique_lock lock(m_mutex);
    if (!m_cv.wait_for(lock, timeout, [&] { return m_ready.load() || m_stop.load(); }) || !m_ready)
        return makeError(ErrorCode::Unavailable, "events topic unavailable");
    return m_partitions;
}

std::int64_t TailHub::next(std::int32_t p) const
{
    if (!m_ready || p < 0 || p >= m_partitions)
        return 0;
    return m_next[static_cast<std::size_t>(p)].load(std::memory_order_acquire);
}

std::size_t TailHub::attached() const
{
    std::lock_guard lock(m_mutex);
    return m_subs.size();
}

Positions TailHub::attach(TailSubscription *s, const Positions &at, bool pending)
{
    std::lock_guard lock(m_mutex);
    Positions from;
    for (int p = 0; p < m_partitions; ++p) {
        auto it = at.find(p);
        const std::int64_t a = it == at.end() ? 0 : it->second;
        from[p] = std::max(a, m_next[static_cast<std::size_t>(p)].load());
    }
    s->m_from = from;
    s->m_pending = pending;
    if (!s->m_attached)
        m_subs.push_back(s);
    m_keyWanted.clear();
    s->m_attached = true;
    if (!pending) {
        std::lock_guard sl(s->m_mutex);
        for (const auto &[p, o] : from)
            s->m_consumed[p] = std::max(s->m_consumed[p], o);
        s->m_live = true;
    }
    return from;
}

void TailHub::goLive(TailSubscription *s)
{
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        std::lock_guard sl(s->m_mutex);
        s->m_pending = false;
        for (const auto &[p, o] : s->m_from)
            s->m_consumed[p] = std::max(s->m_consumed[p], o);
        wake = s->m_queue.empty() && !s->m_aside.empty();
        for (auto &item : s->m_aside) {
            if (s->full(s->m_queue, s->m_queuedBytes, item.json->size())) {
                ++s->m_dropped;
                droppedCounter().inc();
                continue;
            }
            s->m_queuedBytes += item.json->size();
            s->m_queue.push_back(std::move(item));
        }
        s->m_aside.clear();
        s->m_asideBytes = 0;
        s->m_live = true;
    }
    if (wake)
        s->m_wake();
}

void TailHub::detach(TailSubscription *s)
{
    std::lock_guard lock(m_mutex);
    m_subs.erase(std::remove(m_subs.begin(), m_subs.end(), s), m_subs.end());
    s->m_attached = false;
    m_keyWanted.clear();
}

bool TailHub::keyWanted(std::string_view key)
{
    if (m_subs.empty())
        return false;
    const std::string k(key);
    if (const auto it = m_keyWanted.find(k); it != m_keyWanted.end())
        return it->second;
    const bool wanted = std::any_of(m_subs.begin(), m_subs.end(),
                                    [&](const TailSubscription *s) { return s->mayWantApp(key); });
    if (m_keyWanted.size() >= 4096)
        m_keyWanted.clear();
    m_keyWanted.emplace(k, wanted);
    return wanted;
}

Result<void> TailHub::setUp()
{
    auto admin = kafka::Admin::create({{"bootstrap.servers", m_bootstrap}});
    if (!admin)
        return admin.error();
    auto count = (*admin)->partitionCount(m_topic);
    if (!count)
        return count.error();
    Positions start;
    for (std::int32_t p = 0; p < *count; ++p) {
        auto wm = (*admin)->watermarks(m_topic, p);
        if (!wm)
            return wm.error();
        start[p] = wm->second;
    }
    auto next = std::make_unique<std::atomic<std::int64_t>[]>(static_cast<std::size_t>(*count));
    for (const auto &[p, o] : start)
        next[static_cast<std::size_t>(p)].store(o);
    std::lock_guard lock(m_mutex);
    m_next = std::move(next);
    m_partitions = *count;
    return {};
}

void TailHub::run()
{
    while (!m_stop && !m_ready) {
        if (auto r = setUp(); r) {
            {
                std::lock_guard lock(m_mutex);
                m_ready = true;
            }
            m_cv.notify_all();
            break;
        } else {
            jlog::warn("live tail: events topic unavailable, retrying",
                       {{"topic", QString::fromStdString(m_topic)}});
        }
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, std::chrono::seconds(1), [&] { return m_stop.load(); });
    }
    if (m_stop)
        return;
    Positions start;
    for (int p = 0; p < m_partitions; ++p)
        start[p] = m_next[static_cast<std::size_t>(p)].load();
    auto consumer = positionedReader(m_bootstrap, m_topic, start);
    if (!consumer) {
        jlog::error("live tail: cannot create the shared consumer",
                    {{"error", QString::fromStdString(consumer.error().message)}});
        return;
    }
    EventDecoder decoder;
    while (!m_stop) {
        auto m = (*consumer)->poll(std::chrono::milliseconds(100));
        if (!m || !m->has_value())
            continue;
        const kafka::Message &msg = **m;
        const std::int32_t p = msg.partition();
        if (p < 0 || p >= m_partitions)
            continue; // a partition added after the start: not followed (docs/protocol.md)
        if (const auto key = msg.key()) {
            std::lock_guard lock(m_mutex);
            if (!keyWanted(*key)) { // nobody can want it: not decoded, the position moves on
                m_next[static_cast<std::size_t>(p)].store(msg.offset() + 1,
                                                          std::memory_order_release);
                skippedCounter().inc();
                continue;
            }
        }
        auto ev = decoder.decodeEvent(msg.value());
        std::lock_guard lock(m_mutex);
        if (ev) {
            std::shared_ptr<const std::string> json; // encoded once, for the first taker
            for (TailSubscription *s : m_subs)
                s->offer(p, msg.offset(), *ev, json);
        }
        m_next[static_cast<std::size_t>(p)].store(msg.offset() + 1, std::memory_order_release);
    }
    (*consumer)->close();
}

// --- TailSubscription ----------------------------------------------------------------------

TailSubscription::TailSubscription(TailOptions options, std::function<void()> wake)
    : m_opt(std::move(options)), m_wake(std::move(wake))
{}

TailSubscription::~TailSubscription()
{
    stop();
}

void TailSubscription::start()
{
    if (!m_opt.sinceNs && !m_opt.resume && m_opt.hub->ready()) {
        // Live from now: no catch-up, the hub's position is the start.
        publishStart(m_opt.hub->attach(this, {}, false));
        return;
    }
    m_thread = std::thread([this] { run(); });
}

void TailSubscription::stop()
{
    m_stop = true;
    m_request->cancel();
    m_room.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    m_opt.hub->detach(this);
}

Positions TailSubscription::startPositions() const
{
    std::lock_guard lock(m_mutex);
    return m_start;
}

std::size_t TailSubscription::queued() const
{
    std::lock_guard lock(m_mutex);
    return m_queue.size();
}

bool TailSubscription::mayWantApp(std::string_view app) const
{
    if (!m_opt.apps.empty() &&
        std::find(m_opt.apps.begin(), m_opt.apps.end(), app) == m_opt.apps.end())
        return false;
    return !m_opt.matcher || m_opt.matcher->mayMatchApp(app);
}

bool TailSubscription::wants(const LogEvent &ev) const
{
    if (m_opt.sinceNs && ev.tsNs < *m_opt.sinceNs)
        return false;
    if (!m_opt.apps.empty() &&
        std::find(m_opt.apps.begin(), m_opt.apps.end(), ev.app) == m_opt.apps.end())
        return false;
    return !m_opt.matcher || m_opt.matcher->matches(ev);
}

void TailSubscription::offer(std::int32_t partition, std::int64_t offset, const LogEvent &ev,
                             std::shared_ptr<const std::string> &json)
{
    auto f = m_from.find(partition);
    if (f == m_from.end() || offset < f->second || !wants(ev))
        return; // below `from` the catch-up reader delivers it; positions follow the hub
    if (!json) {
        auto s = std::make_shared<std::string>();
        protocol::appendEvent(*s, ev, protocol::ColAll);
        json = std::move(s);
    }
    bool wasEmpty = false;
    {
        std::lock_guard lock(m_mutex);
        auto &q = m_pending ? m_aside : m_queue;
        auto &bytes = m_pending ? m_asideBytes : m_queuedBytes;
        if (full(q, bytes, json->size())) {
            ++m_dropped;
            droppedCounter().inc();
            return;
        }
        wasEmpty = !m_pending && m_queue.empty();
        bytes += json->size();
        q.push_back(Item{json, partition, offset, nullptr});
    }
    liveCounter().inc();
    if (wasEmpty)
        m_wake();
}

TailSubscription::Batch TailSubscription::take(std::size_t maxItems)
{
    Batch b;
    {
        std::lock_guard lock(m_mutex);
        if (!m_queue.empty())
            b.history = m_queue.front().seam != nullptr;
        std::shared_ptr<const Positions> seam;
        while (!m_queue.empty() && b.items.size() < maxItems &&
               (m_queue.front().seam != nullptr) == b.history) {
            Item &it = m_queue.front();
            if (it.seam)
                seam = it.seam;
            else
                m_delivered[it.partition] = it.offset + 1;
            m_queuedBytes -= it.json->size();
            b.items.push_back(std::move(it));
            m_queue.pop_front();
        }
        if (b.history) {
            b.positions = *seam;
        } else {
            // With nothing left queued, every event read so far was delivered, filtered out
            // or counted as dropped: the positions may move past all of them (past what the
            // hub dispatched, once the tail is live).
            if (m_queue.empty()) {
                const bool live = m_live.load();
                for (const auto &[p, o] : m_consumed) {
                    std::int64_t &d = m_delivered[p];
                    d = std::max({d, o, live ? m_opt.hub->next(p) : 0});
                }
            }
            b.positions = m_delivered;
        }
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

bool TailSubscription::pushWait(Item item)
{
    bool wasEmpty = false;
    {
        std::unique_lock lock(m_mutex);
        m_room.wait(lock, [&] {
            return m_stop.load() || !full(m_queue, m_queuedBytes, item.json->size());
        });
        if (m_stop)
            return false;
        wasEmpty = m_queue.empty();
        if (!item.seam)
            m_consumed[item.partition] = item.offset + 1;
        m_queuedBytes += item.json->size();
        m_queue.push_back(std::move(item));
    }
    if (wasEmpty)
        m_wake();
    return true;
}

void TailSubscription::publishStart(const Positions &start)
{
    {
        std::lock_guard lock(m_mutex);
        m_start = start;
        for (const auto &[p, o] : start) {
            m_consumed[p] = std::max(m_consumed[p], o);
            m_delivered[p] = std::max(m_delivered[p], o);
        }
    }
    m_started = true;
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
    auto r = catchUp();
    if (!r && !m_stop)
        setError(r.error());
}

Result<void> TailSubscription::catchUp()
{
    auto count = m_opt.hub->waitReady(std::chrono::seconds(10));
    if (!count)
        return count.error();
    if (!m_opt.sinceNs && !m_opt.resume) {
        publishStart(m_opt.hub->attach(this, {}, false));
        return {};
    }
    catchUpCounter().inc();
    Positions at;
    if (m_opt.resume) {
        auto admin = kafka::Admin::create({{"bootstrap.servers", m_opt.bootstrap}});
        if (!admin)
            return admin.error();
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
            at[p] = off;
        }
        publishStart(at);
    } else {
        auto end = readHistory(*count);
        if (!end)
            return end.error();
        at = std::move(end).value();
    }
    if (m_stop)
        return {};
    return follow(std::move(at));
}

Result<Positions> TailSubscription::readHistory(int partitions)
{
    // Page i: one short transaction reads the writer's offsets S_i and the rows after the
    // previous page's last key. marks[i] = (last key of page i, S_i); the last page's key
    // range is open.
    struct Mark
    {
        std::optional<Key> upper;
        std::shared_ptr<const Positions> offsets;
    };
    std::vector<Mark> marks;
    query::QueryOptions qo;
    qo.fromNs = *m_opt.sinceNs;
    qo.order = query::SortOrder::Asc;
    qo.limit = std::max(1, m_opt.historyPage);
    qo.allowedApps = m_opt.apps;
    for (;;) {
        auto q = query::buildQuery(m_opt.ast, qo);
        if (!q)
            return q.error();
        auto offsets = std::make_shared<Positions>();
        std::vector<Item> rows;
        std::optional<Key> last;
        {
            auto lease = m_opt.pool->acquire();
            if (!lease)
                return lease.error();
            pg::Connection &db = **lease;
            m_request->attach(db);
            struct Detach
            {
                RequestState &r;
                ~Detach() { r.detach(); }
            } detach{*m_request};
            if (m_stop)
                return Positions{};
            if (auto b = db.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !b)
                return b.error();
            // The stored offsets and the rows come from one snapshot; the writer commits both
            // in one transaction, so the offsets mark exactly where the stored rows end.
            auto offs = db.query("SELECT partition, next_offset FROM kafka_offsets "
                                 "WHERE consumer_group = $1 AND topic = $2",
                                 {m_opt.writerGroup, m_opt.topic});
            if (!offs)
                return m_stop ? Result<Positions>(Positions{})
                              : makeError(ErrorCode::Unavailable, offs.error().message);
            for (std::int32_t p = 0; p < partitions; ++p)
                (*offsets)[p] = 0;
            for (int i = 0; i < offs->rowCount(); ++i)
                (*offsets)[static_cast<std::int32_t>(parseInt(offs->value(i, 0)))] =
                    parseInt(offs->value(i, 1));
            pg::Params params(q->params.begin(), q->params.end());
            auto page = db.query(q->sql, params);
            if (m_stop)
                return Positions{};
            if (!page)
                return page.error();
            if (auto c = db.exec("COMMIT"); !c)
                return c.error();
            for (int i = 0; i < page->rowCount(); ++i) {
                auto json = std::make_shared<std::string>();
                appendRowJson(*json, *page, i);
                rows.push_back(Item{std::move(json), -1, -1, offsets});
            }
            if (page->rowCount() > 0) {
                const int n = page->rowCount() - 1;
                last = Key{parseInt(page->value(n, 1)), lowerId(page->value(n, 0))};
                qo.cursor = query::Cursor{last->ts, std::string(page->value(n, 0))};
            }
        }
        // The transaction is over and the connection back in the pool: now wait for room.
        if (marks.empty())
            publishStart(*offsets);
        const bool more = static_cast<std::int64_t>(rows.size()) == qo.limit;
        marks.push_back(Mark{more ? last : std::nullopt, offsets});
        for (auto &it : rows) {
            if (!pushWait(std::move(it)))
                return Positions{};
        }
        if (!more)
            break;
    }
    const Positions &first = *marks.front().offsets;
    const std::shared_ptr<const Positions> end = marks.back().offsets;
    // Rows stored while the pages were read, in key ranges already read: their offsets are in
    // [S_1, S_n), above the offsets of the page that covered their key. Read those offsets
    // from Kafka and send what the pages missed as the end of the history.
    Positions from;
    for (const auto &[p, o] : *end) {
        auto it = first.find(p);
        const std::int64_t f = it == first.end() ? 0 : it->second;
        if (f < o)
            from[p] = f;
    }
    if (from.empty())
        return *end;
    auto reader = positionedReader(m_opt.bootstrap, m_opt.topic, from);
    if (!reader)
        return reader.error();
    EventDecoder decoder;
    while (!from.empty() && !m_stop) {
        auto m = (*reader)->poll(std::chrono::milliseconds(100));
        if (!m || !m->has_value())
            continue;
        const kafka::Message &msg = **m;
        const std::int32_t p = msg.partition();
        auto f = from.find(p);
        if (f == from.end())
            continue;
        const std::int64_t stop = end->at(p);
        if (msg.offset() >= stop - 1)
            from.erase(f); // the writer stored up to stop - 1: this partition is done
        if (msg.offset() >= stop)
            continue;
        auto ev = decoder.decodeEvent(msg.value());
        if (!ev || !wants(*ev))
            continue;
        const Key key{ev->tsNs, lowerId(ev->id)};
        auto page = std::find_if(marks.begin(), marks.end(), [&](const Mark &mk) {
            return !mk.upper || keyLessEq(key, *mk.upper);
        });
        if (msg.offset() < page->offsets->at(p))
            continue; // that page's snapshot had it
        auto json = std::make_shared<std::string>();
        protocol::appendEvent(*json, *ev, protocol::ColAll);
        lateHistoryCounter().inc();
        if (!pushWait(Item{std::move(json), -1, -1, end}))
            return Positions{};
    }
    (*reader)->close();
    return *end;
}

Result<void> TailSubscription::follow(Positions at)
{
    {
        std::lock_guard lock(m_mutex);
        for (const auto &[p, o] : at) {
            m_consumed[p] = std::max(m_consumed[p], o);
            m_delivered[p] = std::max(m_delivered[p], o);
        }
    }
    TailHub &hub = *m_opt.hub;
    Positions c = at; // next offset to read per partition
    std::optional<Positions> from;
    std::unique_ptr<kafka::Consumer> reader;
    EventDecoder decoder;
    while (!m_stop) {
        if (!from) {
            std::int64_t gap = 0;
            for (const auto &[p, o] : c)
                gap += std::max<std::int64_t>(0, hub.next(p) - o);
            if (gap <= kHandOffGap) {
                from = hub.attach(this, c, true);
                handOffCounter(*from != c).inc();
            }
        }
        if (from && std::all_of(from->begin(), from->end(),
                                [&](const auto &po) { return c[po.first] >= po.second; })) {
            hub.goLive(this);
            if (reader)
                reader->close();
            return {};
        }
        if (!reader) {
            auto r = positionedReader(m_opt.bootstrap, m_opt.topic, c);
            if (!r)
                return r.error();
            reader = std::move(r).value();
        }
        auto m = reader->poll(std::chrono::milliseconds(100));
        if (!m || !m->has_value())
            continue;
        const kafka::Message &msg = **m;
        const std::int32_t p = msg.partition();
        const std::int64_t o = msg.offset();
        if (o < c[p])
            continue;
        c[p] = o + 1;
        if (from && o >= from->at(p))
            continue; // the hub delivers it
        auto ev = decoder.decodeEvent(msg.value());
        if (!ev || !wants(*ev)) {
            std::lock_guard lock(m_mutex);
            m_consumed[p] = std::max(m_consumed[p], o + 1);
            continue;
        }
        auto json = std::make_shared<std::string>();
        protocol::appendEvent(*json, *ev, protocol::ColAll);
        if (!pushWait(Item{std::move(json), p, o, nullptr}))
            return {};
    }
    return {};
}

} // namespace idl::gateway
