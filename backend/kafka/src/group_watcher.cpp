#include "idl/kafka/group_watcher.h"

#include "idl/kafka/admin.h"
#include "idl/kafka/consumer.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace idl::kafka {

namespace {
using Clock = std::chrono::steady_clock;
} // namespace

struct GroupWatcher::Impl
{
    explicit Impl(GroupWatcherOptions o) : opt(std::move(o)) {}

    GroupWatcherOptions opt;
    std::unique_ptr<Admin> admin;
    // Reads the group's committed offsets; never subscribes, so it never joins the group.
    // (Not Admin's ListConsumerGroupOffsets: librdkafka issue 5040, see Consumer::committed.)
    std::unique_ptr<Consumer> reader;
    std::thread thread;
    mutable std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    StalledPartitions stalled;

    metrics::Registry &reg = metrics::Registry::global();
    metrics::Gauge &stalledGauge =
        reg.gauge(opt.stalledMetric,
                  "Partitions of the " + opt.topicMeaning +
                      " whose committed offset stood still behind the end for "
                      "kafka.stall-timeout (their consumer is gone, stuck, or cannot commit)");

    static void warn(std::string_view what, const std::string &detail)
    {
        jlog::warn(what, {{"detail", QString::fromStdString(detail)}});
    }

    void run()
    {
        const auto interval = std::clamp<std::chrono::milliseconds>(
            opt.stallTimeout / 4, std::chrono::seconds(1), std::chrono::seconds(5));
        struct Seen
        {
            std::int64_t committed = -1;
            Clock::time_point since; // committed unchanged (and behind the end) since
        };
        std::map<std::int32_t, Seen> seen;
        std::unique_lock lock(mutex);
        while (!stopping) {
            lock.unlock();
            StalledPartitions now;
            auto count = admin->partitionCount(opt.topic, std::chrono::seconds(5));
            std::vector<TopicPartition> parts;
            for (int p = 0; count && p < *count; ++p)
                parts.push_back({opt.topic, p, -1001});
            auto committed = count ? reader->committed(parts, std::chrono::seconds(5))
                                   : Result<std::vector<TopicPartition>>(count.error());
            if (!committed) {
                warn("group watcher", committed.error().message);
            } else {
                const auto t = Clock::now();
                for (const TopicPartition &tp : *committed) {
                    auto marks =
                        admin->watermarks(opt.topic, tp.partition, std::chrono::seconds(5));
                    if (!marks)
                        continue;
                    const auto [low, high] = *marks;
                    const std::int64_t from = tp.offset >= 0 ? tp.offset : low;
                    const std::int64_t lag = std::max<std::int64_t>(0, high - from);
                    reg.gauge(opt.lagMetric,
                              "Records of the " + opt.topicMeaning +
                                  " after the group's committed offset",
                              {{"topic", opt.topic}, {"partition", std::to_string(tp.partition)}})
                        .set(static_cast<double>(lag));
                    auto [it, fresh] = seen.try_emplace(tp.partition, Seen{from, t});
                    if (!fresh && (it->second.committed != from || lag == 0))
                        it->second = {from, t};
                    if (lag > 0 && t - it->second.since >= opt.stallTimeout) {
                        const auto secs =
                            std::chrono::duration_cast<std::chrono::seconds>(t - it->second.since)
                                .count();
                        now.partitions.insert(tp.partition);
                        now.report += (now.report.empty() ? opt.topic + " " : "; ") +
                                      std::string("partition ") + std::to_string(tp.partition) +
                                      ": " + std::to_string(lag) +
                                      " records behind, committed offset unchanged for " +
                                      std::to_string(secs) + " s";
                    }
                }
            }
            stalledGauge.set(static_cast<double>(now.partitions.size()));
            lock.lock();
            if (!now.empty() && stalled.empty())
                warn("partitions stalled", now.report);
            else if (now.empty() && !stalled.empty())
                jlog::info("partitions no longer stalled",
                           {{"topic", QString::fromStdString(opt.topic)}});
            stalled = std::move(now);
            wake.wait_for(lock, interval, [this] { return stopping; });
        }
    }
};

GroupWatcher::GroupWatcher(GroupWatcherOptions options)
    : d(std::make_unique<Impl>(std::move(options)))
{}

GroupWatcher::~GroupWatcher()
{
    stop();
}

Result<void> GroupWatcher::start()
{
    Config ac = d->opt.config;
    ac.erase("group.id");
    auto admin = Admin::create(std::move(ac));
    if (!admin)
        return admin.error();
    ConsumerOptions co;
    co.config = d->opt.config;
    auto reader = Consumer::create(std::move(co));
    if (!reader)
        return reader.error();
    d->admin = std::move(admin).value();
    d->reader = std::move(reader).value();
    d->thread = std::thread([impl = d.get()] { impl->run(); });
    return {};
}

void GroupWatcher::stop()
{
    if (!d->thread.joinable())
        return;
    {
        std::lock_guard lock(d->mutex);
        d->stopping = true;
    }
    d->wake.notify_all();
    d->thread.join();
    d->reader.reset();
    d->admin.reset();
}

StalledPartitions GroupWatcher::stalled() const
{
    std::lock_guard lock(d->mutex);
    return d->stalled;
}

std::string stallNotReady(const StalledPartitions &stalled,
                          const std::map<std::int32_t, std::chrono::milliseconds> &heldFor,
                          std::chrono::milliseconds unassignedFor,
                          std::chrono::milliseconds stallTimeout)
{
    if (stalled.empty())
        return {};
    const auto secs = [](std::chrono::milliseconds d) {
        return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
    };
    for (const std::int32_t p : stalled.partitions)
        if (auto it = heldFor.find(p); it != heldFor.end() && it->second >= stallTimeout)
            return "partition " + std::to_string(p) + " held here for " + secs(it->second) +
                   " s without progress: " + stalled.report;
    if (unassignedFor >= stallTimeout)
        return "no partition assigned for " + secs(unassignedFor) + " s while " + stalled.report;
    return {};
}

} // namespace idl::kafka
