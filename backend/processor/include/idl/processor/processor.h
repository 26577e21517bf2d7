#pragma once

#include "idl/core/result.h"
#include "idl/kafka/common.h"
#include "idl/kafka/group_watcher.h"
#include "idl/processor/backoff.h"
#include "idl/processor/pipeline.h"
#include "idl/processor/redactor.h"
#include "idl/processor/sampler.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace idl::processor {

// Everything one processor instance needs.
struct ProcessorOptions
{
    std::string bootstrap = "127.0.0.1:9092";
    std::string instanceId = "p0"; // transactional.id = "idl-processor-<instanceId>"
    std::string groupId = "idl-processor";
    std::string rawTopic = "idl.logs.raw";
    std::string eventsTopic = "idl.logs.events";
    std::string retryTopic = "idl.logs.retry";
    std::string dlqTopic = "idl.logs.dlq";
    PipelineOptions pipeline;
    std::vector<RedactionRule> redaction = builtinRedactionRules();
    std::vector<SampleRule> sampling;
    BackoffPolicy backoff;
    // A transaction commits as soon as no more input is ready (natural batching: an event
    // that arrives at an idle processor is committed at once, batches grow by themselves
    // under load), but at most once per batchMinInterval (each commit costs the broker a few
    // requests and markers, so under load this bounds their rate), or earlier when one of the
    // upper bounds is hit.
    std::chrono::milliseconds batchMinInterval{10}; // between the starts of two commits
    // Load-adaptive interval: after a commit that took T, the next one starts at the earliest
    // batchIntervalFactor x T after it, within [batchMinInterval, batchMaxInterval]. An idle
    // processor's commits are quick (the interval stays near its minimum); under load they
    // take longer, so transactions get fewer and larger. 0 = always batchMinInterval.
    int batchIntervalFactor = 2;
    std::chrono::milliseconds batchMaxInterval{50};
    int batchMaxEvents = 10'000;                     // records per transaction at most
    std::size_t batchMaxBytes = 16u * 1024u * 1024u; // input bytes per transaction at most
    std::chrono::milliseconds batchMaxWait{100};     // a transaction stays open at most this
    std::chrono::milliseconds transactionTimeout{60'000};
    std::chrono::milliseconds sessionTimeout{10'000}; // consumer group session
    bool staticMembership = true; // group.instance.id = transactional.id (fast restarts)
    // Not ready when commits keep failing this long, or (see groupNotReady) when the process
    // holds no partition this long while a raw partition's committed offset stands still
    // behind its end.
    std::chrono::milliseconds stallTimeout{60'000};
    // This member watches the group's committed offsets on the raw topic (one per process):
    // idl_processor_consumer_lag{topic,partition} and stalled partitions.
    bool watchGroup = false;
    kafka::Config consumerExtra; // extra librdkafka consumer properties
    kafka::Config producerExtra; // extra librdkafka producer properties
    // Called from the worker thread when the processor stops on its own (fatal error).
    std::function<void(const Error &)> onFatal;
};

// Counters of one processor (also exported as Prometheus metrics; updated per committed
// transaction, so they count exactly what became visible).
struct ProcessorStats
{
    std::uint64_t consumed = 0;
    std::uint64_t produced = 0;
    std::uint64_t dropped = 0;
    std::uint64_t retried = 0;
    std::uint64_t deadLettered = 0;
    std::uint64_t redacted = 0;
    std::uint64_t transactions = 0;
    std::uint64_t aborts = 0;
};

// A consume-transform-produce worker: a consumer in group `groupId` on the raw and retry
// topics, a transactional producer, and the Pipeline in between. Each transaction holds the
// outputs (events, retry, DLQ records) of a batch plus the consumed offsets, so a crash at
// any moment neither loses nor duplicates an event on the events topic (read_committed).
//
// Lifecycle: construct → start() (creates the Kafka clients, fences older instances with
// the same transactional.id, starts the worker thread) → stop() (commits the open batch,
// leaves the group). Public methods are thread-safe; librdkafka's threads and the worker
// thread stay inside.
class Processor
{
public:
    explicit Processor(ProcessorOptions options);
    ~Processor();
    Processor(const Processor &) = delete;
    Processor &operator=(const Processor &) = delete;

    Result<void> start();
    void stop();

    // Empty when ready (clients up, commits succeeding), else why not.
    std::string notReadyReason() const;
    ProcessorStats stats() const;
    // How long this member has held no partition (zero while it holds some).
    std::chrono::milliseconds unassignedFor() const;
    // The raw partitions whose committed offset has stood still behind the partition's end
    // for stallTimeout (watchGroup member only; empty when none or not watching).
    kafka::StalledPartitions stalledPartitions() const;
    // The raw partitions this member holds, and for how long.
    std::map<std::int32_t, std::chrono::milliseconds> rawPartitionsHeld() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Readiness of a process's members: the first member's reason, else kafka::stallNotReady (a
// stalled raw partition held here for stallTimeout, or no partition held for stallTimeout
// while the group leaves raw partitions stalled).
std::string groupNotReady(const std::vector<Processor *> &members,
                          std::chrono::milliseconds stallTimeout);

} // namespace idl::processor
