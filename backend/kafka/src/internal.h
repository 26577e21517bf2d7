#pragma once

#include "idl/kafka/common.h"

#include <librdkafka/rdkafka.h>

namespace idl::kafka::detail {

// Builds a librdkafka configuration: defaults first, then the caller's properties. Installs
// the process-wide log trampoline.
Result<rd_kafka_conf_t *> makeConf(const Config &defaults, const Config &config);

// Maps a librdkafka error to a stable error code, with "what: reason" as message.
// The client's fatal error, if one happened (code Internal: the client is unusable).
std::optional<Error> fatalError(rd_kafka_t *rk, std::string_view what);
Error toError(rd_kafka_resp_err_t err, std::string_view what, std::string_view reason = {});

// Copies a librdkafka partition list to a vector and back.
std::vector<TopicPartition> toVector(const rd_kafka_topic_partition_list_t *list);
rd_kafka_topic_partition_list_t *toList(const std::vector<TopicPartition> &partitions);

// Forwards a line to the process-wide log handler.
void log(int level, std::string_view facility, std::string_view message);

} // namespace idl::kafka::detail
