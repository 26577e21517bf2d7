#pragma once

#include "idl/core/result.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idl::kafka {

// librdkafka configuration properties, e.g. {"bootstrap.servers", "127.0.0.1:9092"}.
using Config = std::map<std::string, std::string>;

// One Kafka record header; a header may carry no value (null).
struct Header
{
    std::string key;
    std::optional<std::string> value;
};
using Headers = std::vector<Header>;

// A topic partition with an offset (for assignments, seeks and commits). Offset -1001 means
// "stored/committed offset" (librdkafka's RD_KAFKA_OFFSET_INVALID).
struct TopicPartition
{
    std::string topic;
    int32_t partition = 0;
    int64_t offset = -1001;

    friend bool operator==(const TopicPartition &, const TopicPartition &) = default;
};

// Receives librdkafka's log lines (syslog level 0..7, facility, message) from any thread.
using LogHandler = std::function<void(int level, std::string_view facility, std::string_view)>;

// Replaces the process-wide handler for librdkafka log lines (default: stderr, level <= 4).
// Thread safe; applies to every client from the next log line on.
void setLogHandler(LogHandler handler);

} // namespace idl::kafka
