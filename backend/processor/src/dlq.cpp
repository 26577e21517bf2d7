#include "idl/processor/dlq.h"

#include "idl/kafka/admin.h"
#include "idl/kafka/consumer.h"
#include "idl/kafka/producer.h"
#include "idl/processor/envelope.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>

namespace idl::processor {

namespace {

constexpr std::int64_t kOffsetBeginning = -2;
constexpr std::int64_t kOffsetStored = -1001;

bool selectedByCode(const DlqRecord &r, const DlqQuery &q)
{
    return q.code.empty() || r.header(headers::kErrorCode) == q.code;
}

DlqRecord toRecord(const kafka::Message &m)
{
    DlqRecord r;
    r.partition = m.partition();
    r.offset = m.offset();
    r.timestampMs = m.timestampMs();
    if (auto k = m.key())
        r.key = std::string(*k);
    r.value = std::string(m.value());
    r.headers = m.headers();
    return r;
}

// Reads records until `idle` passes with nothing new; calls `take` for each (false = stop).
template <typename Fn>
Result<void> drain(kafka::Consumer &consumer, std::chrono::milliseconds idle, Fn take)
{
    auto lastSeen = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - lastSeen < idle) {
        auto polled = consumer.poll(std::chrono::milliseconds(100));
        if (!polled)
            continue; // transient (broker hiccup): keep polling until idle
        if (!polled->has_value())
            continue;
        lastSeen = std::chrono::steady_clock::now();
        if (!take(**polled))
            break;
    }
    return {};
}

Result<std::vector<kafka::TopicPartition>> partitionsOf(const std::string &bootstrap,
                                                        const std::string &topic, const DlqQuery &q,
                                                        std::int64_t offset)
{
    if (q.partition)
        return std::vector<kafka::TopicPartition>{
            {topic, *q.partition, q.offset ? *q.offset : offset}};
    auto admin = kafka::Admin::create({{"bootstrap.servers", bootstrap}});
    if (!admin)
        return admin.error();
    auto count = (*admin)->partitionCount(topic);
    if (!count)
        return count.error();
    std::vector<kafka::TopicPartition> parts;
    for (int p = 0; p < *count; ++p)
        parts.push_back({topic, p, offset});
    return parts;
}

} // namespace

std::string DlqRecord::header(std::string_view name) const
{
    for (auto it = headers.rbegin(); it != headers.rend(); ++it)
        if (it->key == name)
            return it->value.value_or(std::string());
    return {};
}

kafka::Headers replayHeaders(const kafka::Headers &dead)
{
    kafka::Headers out;
    std::int64_t replays = 0;
    for (const kafka::Header &h : dead) {
        if (h.key == headers::kReplays) {
            if (h.value)
                std::from_chars(h.value->data(), h.value->data() + h.value->size(), replays);
            continue;
        }
        if (!headers::isEnvelope(h.key))
            out.push_back(h);
    }
    out.push_back({std::string(headers::kReplays), std::to_string(replays + 1)});
    return out;
}

Result<void> scanDlq(const std::string &bootstrap, const std::string &topic, const DlqQuery &query,
                     std::optional<std::int64_t> window,
                     const std::function<bool(DlqRecord &&)> &take, std::chrono::milliseconds idle)
{
    auto admin = kafka::Admin::create({{"bootstrap.servers", bootstrap}});
    if (!admin)
        return admin.error();
    std::vector<std::int32_t> partitions;
    if (query.partition) {
        partitions.push_back(*query.partition);
    } else {
        auto count = (*admin)->partitionCount(topic);
        if (!count)
            return count.error();
        for (int p = 0; p < *count; ++p)
            partitions.push_back(p);
    }
    // Where each partition starts and ends for this read.
    std::vector<kafka::TopicPartition> assignment;
    std::map<std::int32_t, std::int64_t> end;
    for (std::int32_t p : partitions) {
        auto wm = (*admin)->watermarks(topic, p);
        if (!wm)
            return wm.error();
        const auto [low, high] = *wm;
        std::int64_t start = low;
        if (query.partition && query.offset)
            start = *query.offset;
        else if (window)
            start = std::max(low, high - *window);
        if (start >= high)
            continue; // nothing (more) there
        assignment.push_back({topic, p, start});
        end[p] = high;
    }
    if (assignment.empty())
        return {};
    kafka::ConsumerOptions co;
    co.config = {{"bootstrap.servers", bootstrap},
                 {"isolation.level", "read_committed"},
                 {"group.id", "idl-admin-dlq-reader"}};
    auto consumer = kafka::Consumer::create(std::move(co));
    if (!consumer)
        return consumer.error();
    if (auto r = (*consumer)->assign(assignment); !r)
        return r.error();
    const bool exact = query.partition && query.offset;
    // A partition is read once a record at its last offset, or just before it (the processor
    // writes dead letters in transactions: a commit marker takes the last offset), was seen.
    auto lastSeen = std::chrono::steady_clock::now();
    while (!end.empty() && std::chrono::steady_clock::now() - lastSeen < idle) {
        auto polled = (*consumer)->poll(std::chrono::milliseconds(50));
        if (!polled || !polled->has_value())
            continue; // nothing yet, or a transient broker error: keep polling until idle
        lastSeen = std::chrono::steady_clock::now();
        const kafka::Message &m = **polled;
        auto e = end.find(m.partition());
        if (e == end.end())
            continue;
        if (m.offset() + 2 >= e->second)
            end.erase(e);
        if (exact && m.offset() != *query.offset)
            return {};
        DlqRecord rec = toRecord(m);
        if (selectedByCode(rec, query) && !take(std::move(rec)))
            return {};
        if (exact)
            return {};
    }
    return {};
}

Result<std::vector<DlqRecord>> readDlq(const std::string &bootstrap, const std::string &topic,
                                       const DlqQuery &query, std::chrono::milliseconds idle)
{
    std::vector<DlqRecord> out;
    auto r = scanDlq(
        bootstrap, topic, query, std::nullopt,
        [&](DlqRecord &&rec) {
            out.push_back(std::move(rec));
            return out.size() < query.limit;
        },
        idle);
    if (!r)
        return r.error();
    if (query.partition && query.offset && out.empty())
        return makeError(ErrorCode::NotFound, "no dead letter at " +
                                                  std::to_string(*query.partition) + ":" +
                                                  std::to_string(*query.offset));
    return out;
}

struct Replayer::Impl
{
    std::string target;
    std::unique_ptr<kafka::Producer> producer;
    std::atomic<int> failed{0};
    std::size_t sent = 0;
};

Result<std::unique_ptr<Replayer>> Replayer::create(const std::string &bootstrap,
                                                   std::string targetTopic)
{
    std::unique_ptr<Replayer> r(new Replayer);
    r->d = std::make_unique<Impl>();
    r->d->target = std::move(targetTopic);
    kafka::ProducerOptions po;
    po.config = {{"bootstrap.servers", bootstrap}};
    Impl *impl = r->d.get();
    po.onDelivery = [impl](const kafka::DeliveryReport &rep) {
        if (!rep.ok())
            impl->failed.fetch_add(1);
    };
    auto p = kafka::Producer::create(std::move(po));
    if (!p)
        return p.error();
    r->d->producer = std::move(p).value();
    return r;
}

Replayer::~Replayer() = default;

Result<void> Replayer::send(const DlqRecord &rec)
{
    const std::optional<std::string_view> key =
        rec.key ? std::optional<std::string_view>(*rec.key) : std::nullopt;
    for (;;) {
        auto pr = d->producer->produce(d->target, key, rec.value, replayHeaders(rec.headers));
        if (pr) {
            ++d->sent;
            return {};
        }
        if (pr.error().code != ErrorCode::Overloaded)
            return pr.error();
        d->producer->poll(std::chrono::milliseconds(10)); // queue full: let deliveries drain
    }
}

Result<void> Replayer::finish(std::chrono::milliseconds timeout)
{
    if (auto f = d->producer->flush(timeout); !f)
        return f.error();
    if (d->failed.load() > 0)
        return makeError(ErrorCode::Unavailable, std::to_string(d->failed.load()) + " of " +
                                                     std::to_string(d->sent) +
                                                     " replayed record(s) were not acknowledged");
    return {};
}

Result<ReplayReport> replayDlq(const ReplayOptions &o, std::chrono::milliseconds idle)
{
    const bool selective = o.query.partition || o.query.offset || !o.query.code.empty();
    const bool useGroup = !selective && !o.all;
    auto parts =
        partitionsOf(o.bootstrap, o.dlqTopic, o.query, useGroup ? kOffsetStored : kOffsetBeginning);
    if (!parts)
        return parts.error();
    kafka::ConsumerOptions co;
    co.config = {{"bootstrap.servers", o.bootstrap},
                 {"isolation.level", "read_committed"},
                 {"group.id", useGroup ? o.groupId : std::string("idl-admin-dlq-reader")},
                 {"auto.offset.reset", "earliest"}};
    auto consumer = kafka::Consumer::create(std::move(co));
    if (!consumer)
        return consumer.error();
    if (auto r = (*consumer)->assign(*parts); !r)
        return r.error();

    std::unique_ptr<Replayer> replayer;
    if (!o.dryRun) {
        auto p = Replayer::create(o.bootstrap, o.targetTopic);
        if (!p)
            return p.error();
        replayer = std::move(p).value();
    }

    ReplayReport report;
    std::map<std::int32_t, std::int64_t> next; // offsets to commit (group mode)
    const bool exact = o.query.partition && o.query.offset;
    Result<void> produceError;
    auto r = drain(**consumer, idle, [&](const kafka::Message &m) {
        if (exact && m.offset() != *o.query.offset)
            return false;
        DlqRecord rec = toRecord(m);
        next[rec.partition] = rec.offset + 1;
        if (!selectedByCode(rec, o.query))
            return true;
        if (replayer) {
            if (auto pr = replayer->send(rec); !pr) {
                produceError = pr.error();
                return false;
            }
        }
        ++report.replayed;
        report.ids.push_back(std::to_string(rec.partition) + ":" + std::to_string(rec.offset));
        return !exact && report.replayed < o.query.limit;
    });
    if (!r)
        return r.error();
    if (!produceError)
        return produceError.error();
    if (replayer) {
        if (auto f = replayer->finish(); !f)
            return makeError(f.error().code, f.error().message + "; nothing committed");
    }
    if (exact && report.replayed == 0)
        return makeError(ErrorCode::NotFound, "no dead letter at " +
                                                  std::to_string(*o.query.partition) + ":" +
                                                  std::to_string(*o.query.offset));
    if (useGroup && !o.dryRun && !next.empty()) {
        std::vector<kafka::TopicPartition> offsets;
        for (const auto &[p, off] : next)
            offsets.push_back({o.dlqTopic, p, off});
        if (auto c = (*consumer)->commit(offsets); !c)
            return c.error();
    }
    return report;
}

} // namespace idl::processor
