// Transactional producer calls (consume-transform-produce with offsets in the transaction).
#include "idl/kafka/consumer.h"
#include "idl/kafka/producer.h"

#include "internal.h"

namespace idl::kafka {

namespace {

// Converts (and destroys) a librdkafka error object; fatal errors become Internal.
Result<void> take(rd_kafka_error_t *error, std::string_view what)
{
    if (!error)
        return {};
    Error e = detail::toError(rd_kafka_error_code(error), what, rd_kafka_error_string(error));
    if (rd_kafka_error_is_fatal(error))
        e.code = ErrorCode::Internal;
    rd_kafka_error_destroy(error);
    return e;
}

} // namespace

Result<void> Producer::initTransactions(std::chrono::milliseconds timeout)
{
    return take(rd_kafka_init_transactions(m_rk, static_cast<int>(timeout.count())),
                "init transactions");
}

Result<void> Producer::beginTransaction()
{
    return take(rd_kafka_begin_transaction(m_rk), "begin transaction");
}

Result<void> Producer::sendOffsetsToTransaction(const std::vector<TopicPartition> &offsets,
                                                const Consumer &consumer,
                                                std::chrono::milliseconds timeout)
{
    if (offsets.empty())
        return {};
    rd_kafka_consumer_group_metadata_t *meta = rd_kafka_consumer_group_metadata(consumer.m_rk);
    if (!meta)
        return makeError(ErrorCode::BadRequest, "kafka: send offsets: consumer has no group");
    rd_kafka_topic_partition_list_t *list = detail::toList(offsets);
    rd_kafka_error_t *error =
        rd_kafka_send_offsets_to_transaction(m_rk, list, meta, static_cast<int>(timeout.count()));
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_consumer_group_metadata_destroy(meta);
    return take(error, "send offsets to transaction");
}

Result<void> Producer::commitTransaction(std::chrono::milliseconds timeout)
{
    for (int attempt = 0;; ++attempt) {
        rd_kafka_error_t *error =
            rd_kafka_commit_transaction(m_rk, static_cast<int>(timeout.count()));
        if (error && rd_kafka_error_is_retriable(error) && attempt < 3) {
            rd_kafka_error_destroy(error);
            continue;
        }
        return take(error, "commit transaction");
    }
}

Result<void> Producer::abortTransaction(std::chrono::milliseconds timeout)
{
    return take(rd_kafka_abort_transaction(m_rk, static_cast<int>(timeout.count())),
                "abort transaction");
}

} // namespace idl::kafka
