#pragma once

#include "idl/core/result.h"
#include "idl/kafka/common.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Reading and replaying the dead-letter topic (used by `idl-admin dlq`).
namespace idl::processor {

// One dead letter: the original key, value and headers plus the processor's envelope.
struct DlqRecord
{
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t timestampMs = -1;
    std::optional<std::string> key;
    std::string value;
    kafka::Headers headers;

    // Last value of a header, or "".
    std::string header(std::string_view name) const;
};

// Which dead letters to read.
struct DlqQuery
{
    std::optional<std::int32_t> partition; // only this partition
    std::optional<std::int64_t> offset;    // with partition: exactly this record
    std::string code;                      // only this error code (e.g. "too_large")
    std::size_t limit = 100;               // at most this many
};

// Reads dead letters (read_committed) up to the end each partition had when the read began
// (its high watermark), so a read returns as soon as it has seen everything; `idle` bounds
// the wait for records that never come (an aborted transaction at the end). `window`: only
// the last `window` offsets of each partition (the newest dead letters); unset: from the
// start. Calls take(record) for each record the query selects; take returns false to stop.
Result<void> scanDlq(const std::string &bootstrap, const std::string &topic, const DlqQuery &query,
                     std::optional<std::int64_t> window,
                     const std::function<bool(DlqRecord &&)> &take,
                     std::chrono::milliseconds idle = std::chrono::seconds(2));

// The selected dead letters from the start of each partition, up to the query's limit.
Result<std::vector<DlqRecord>> readDlq(const std::string &bootstrap, const std::string &topic,
                                       const DlqQuery &query,
                                       std::chrono::milliseconds idle = std::chrono::seconds(2));

// Sends dead letters back to a topic with their original key, value and headers (the
// envelope removed, idl-replays incremented): idempotent producer, acks=all. finish() is Ok
// only once every record sent was acknowledged.
class Replayer
{
public:
    static Result<std::unique_ptr<Replayer>> create(const std::string &bootstrap,
                                                    std::string targetTopic);
    ~Replayer();
    Result<void> send(const DlqRecord &record);
    Result<void> finish(std::chrono::milliseconds timeout = std::chrono::seconds(30));

private:
    Replayer() = default;
    struct Impl;
    std::unique_ptr<Impl> d;
};

// How to replay.
struct ReplayOptions
{
    std::string bootstrap;
    std::string dlqTopic = "idl.logs.dlq";
    std::string targetTopic = "idl.logs.raw";
    DlqQuery query;
    // Without a partition/offset/code selection, replay continues where the last replay
    // stopped: the consumer group `groupId` remembers it (committed after every record was
    // acknowledged). `all` starts from the beginning instead (and commits nothing).
    bool all = false;
    std::string groupId = "idl-dlq-replay";
    bool dryRun = false;
};

// What a replay did.
struct ReplayReport
{
    std::size_t replayed = 0;
    std::vector<std::string> ids; // "partition:offset" of each replayed dead letter
};

// Sends the selected dead letters back to the target topic with their original key, value
// and headers (the envelope removed, idl-replays incremented). Idempotent producer,
// acks=all; fails (and commits nothing) unless every record was acknowledged.
Result<ReplayReport> replayDlq(const ReplayOptions &options,
                               std::chrono::milliseconds idle = std::chrono::seconds(2));

// The headers a replayed record carries.
kafka::Headers replayHeaders(const kafka::Headers &dead);

} // namespace idl::processor
