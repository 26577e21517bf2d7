#pragma once

#include "idl/core/result.h"
#include "idl/kafka/common.h"
#include "idl/kafka/group_watcher.h"
#include "idl/pg/connection.h"
#include "idl/writer/sanitize.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace idl::writer {

// Everything the writer needs; filled from idl::Config by writer_config.h.
struct WriterOptions
{
    std::string kafkaBootstrap = "127.0.0.1:9092";
    std::string topic = "idl.logs.events";
    std::string group = "idl-writer";
    std::string dlqTopic = "idl.logs.dlq";
    kafka::Config kafkaExtra;         // more librdkafka properties (consumer and producer)
    kafka::Config kafkaConsumerExtra; // consumer-only properties (session.timeout.ms, ...)
    std::string pgDsn;
    int batchMaxEvents = 50000;
    // A batch is stored as soon as nothing more is ready and no batch is in flight, at most
    // once per batchMinInterval (each store is a PostgreSQL transaction with rollups, offsets
    // and a WAL flush); the count, byte and time bounds cap a batch under load.
    std::chrono::milliseconds batchMinInterval{10};
    // Load-adaptive interval: after a store that took T, the next one starts at the earliest
    // batchIntervalFactor x T after the last start, within [batchMinInterval,
    // batchMaxInterval] (quick stores at idle keep it near its minimum; slow ones under load
    // make batches fewer and larger). 0 = always batchMinInterval.
    int batchIntervalFactor = 2;
    std::chrono::milliseconds batchMaxInterval{50};
    std::chrono::milliseconds batchMaxTime{200};
    std::int64_t batchMaxBytes = 16 * 1024 * 1024; // payload bytes per batch
    pg::CopyFormat copyFormat = pg::CopyFormat::Binary;
    std::chrono::milliseconds retryInitial{100};
    std::chrono::milliseconds retryMax{5000};
    std::int64_t maxFutureNs = 3600LL * 1'000'000'000;
    // Events older than now - this are dead-lettered (0: accept any age).
    std::chrono::seconds maxEventAge{0};
    bool migrate = true; // apply schema migrations at start
    // Which of the process's group members this is (idl-writer runs writer.consumers of
    // them): labels its gauges and suffixes a static group.instance.id.
    int member = 0;
};

// Counters of one writer, for tests and logs (the same figures go to the metrics registry).
struct WriterStats
{
    std::uint64_t rowsWritten = 0;
    std::uint64_t batches = 0;
    std::uint64_t deadLettered = 0;
    std::uint64_t sanitized = 0;
    std::uint64_t dbErrors = 0;
    std::uint64_t fenced = 0;
};

// Consumes the events topic as a member of a consumer group and stores every event in
// PostgreSQL exactly once: batches (by count, bytes and time) are COPYed together with their
// rollups and the next Kafka offsets in one transaction; on assignment the consumer seeks to
// the offsets stored in PostgreSQL. While PostgreSQL is away it pauses its partitions,
// retries with exponential back-off and jitter, reports not-ready, and resumes by itself.
//
// Pipelined: while one batch is stored (COPY, rollups, offsets, COMMIT) by a task on its own
// thread, the worker thread reads and decodes the next; a batch is handed over only once the
// one before it is committed (its fences are that batch's new offsets), and a rebalance waits
// for the batch in flight before it touches the partitions.
//
// Lifecycle: start() launches one worker thread (the Kafka consumer lives on it) and returns;
// connecting and migrating happen there, retried until they work. stop() (or the destructor)
// finishes the thread, leaving the group cleanly; a half-built batch is not stored (it is
// re-read by whoever gets its partitions). notReadyReason() and stats() are thread-safe.
class Writer
{
public:
    explicit Writer(WriterOptions options);
    ~Writer();
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;

    Result<void> start();
    void stop();

    // Empty when consuming and storing normally; otherwise why not (for /readyz).
    std::string notReadyReason() const;
    WriterStats stats() const;
    // The partitions this member holds, and for how long.
    std::map<std::int32_t, std::chrono::milliseconds> partitionsHeld() const;
    // How long this member has held no partition (zero while it holds some).
    std::chrono::milliseconds unassignedFor() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// The watcher of the group's committed offsets on the events topic (one per process):
// idl_writer_consumer_lag{topic,partition} (also of partitions no member holds) and
// idl_writer_stalled_partitions; Kafka's committed offsets follow every stored batch
// (PostgreSQL holds the ones that count).
kafka::GroupWatcherOptions groupWatcherOptions(const WriterOptions &options,
                                               std::chrono::milliseconds stallTimeout);

// Readiness of a process's writers: the first member's reason, else kafka::stallNotReady (a
// stalled partition held here for stallTimeout, or none held for stallTimeout while the
// group leaves partitions stalled). watcher may be null (not watching).
std::string groupNotReady(const std::vector<Writer *> &members, const kafka::GroupWatcher *watcher,
                          std::chrono::milliseconds stallTimeout);

} // namespace idl::writer
