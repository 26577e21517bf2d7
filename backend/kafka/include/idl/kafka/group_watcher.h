#pragma once

// Watches a consumer group from outside: every few seconds, the group's committed offset on
// each partition of one topic against the partition's end. Exports the lag of every
// partition (also those no member holds) as PREFIX_consumer_lag{topic,partition} and the
// number of partitions whose committed offset has stood still behind the end for
// stallTimeout (their consumer is gone, stuck, or cannot commit) as PREFIX_stalled_partitions,
// logs a stall when one starts, and tells which partitions stall (stallNotReady below). The
// processor (raw topic) and the writer (events topic) both use it for /readyz.
#include "idl/core/result.h"
#include "idl/kafka/common.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace idl::kafka {

struct GroupWatcherOptions
{
    Config config; // bootstrap.servers, group.id (read only: the watcher never joins), ...
    std::string topic;
    std::chrono::milliseconds stallTimeout{60'000};
    // Metric names, written out in full by each service (so they can be found by name):
    // "idl_processor_stalled_partitions", "idl_processor_consumer_lag".
    std::string stalledMetric;
    std::string lagMetric;
    std::string topicMeaning; // in the metrics' help: "raw topic", "events topic"
};

// The partitions of the watched topic that stood still behind their end for stallTimeout.
struct StalledPartitions
{
    std::set<std::int32_t> partitions;
    std::string
        report; // "TOPIC partition N: L records behind, committed offset unchanged for S s; ..."
    bool empty() const { return partitions.empty(); }
};

// Lifecycle: construct → start() (creates its clients and thread) → stop() (or destructor).
// stalled() is thread-safe.
class GroupWatcher
{
public:
    explicit GroupWatcher(GroupWatcherOptions options);
    ~GroupWatcher();
    GroupWatcher(const GroupWatcher &) = delete;
    GroupWatcher &operator=(const GroupWatcher &) = delete;

    Result<void> start();
    void stop();
    StalledPartitions stalled() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Readiness of a process whose group members are watched by a GroupWatcher (empty when
// ready, else why not):
// - not ready when one of the stalled partitions has been held by this process for
//   stallTimeout (heldFor: the watched topic's partitions this process holds, and since how
//   long): its member does not get on with it;
// - not ready when the process has held no partition at all for stallTimeout (unassignedFor,
//   0 while it holds some) while the group leaves partitions stalled: their consumer is gone
//   or stuck, and they should come to this process.
std::string stallNotReady(const StalledPartitions &stalled,
                          const std::map<std::int32_t, std::chrono::milliseconds> &heldFor,
                          std::chrono::milliseconds unassignedFor,
                          std::chrono::milliseconds stallTimeout);

} // namespace idl::kafka
