#include "idl/kafka/consumer.h"

#include "internal.h"

#include <cstring>

namespace idl::kafka {

// ---- Message ----

void Message::Deleter::operator()(rd_kafka_message_s *m) const noexcept
{
    rd_kafka_message_destroy(m);
}

std::string_view Message::topic() const
{
    return m_msg->rkt ? rd_kafka_topic_name(m_msg->rkt) : "";
}

int32_t Message::partition() const
{
    return m_msg->partition;
}

int64_t Message::offset() const
{
    return m_msg->offset;
}

std::optional<std::string_view> Message::key() const
{
    if (!m_msg->key)
        return std::nullopt;
    return std::string_view(static_cast<const char *>(m_msg->key), m_msg->key_len);
}

std::string_view Message::value() const
{
    if (!m_msg->payload)
        return {};
    return std::string_view(static_cast<const char *>(m_msg->payload), m_msg->len);
}

Headers Message::headers() const
{
    Headers out;
    rd_kafka_headers_t *hdrs = nullptr;
    if (rd_kafka_message_headers(m_msg.get(), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return out;
    const char *name = nullptr;
    const void *value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == 0; ++i) {
        Header h{name, std::nullopt};
        if (value)
            h.value = std::string(static_cast<const char *>(value), size);
        out.push_back(std::move(h));
    }
    return out;
}

std::optional<std::string_view> Message::header(std::string_view name) const
{
    rd_kafka_headers_t *hdrs = nullptr;
    if (rd_kafka_message_headers(m_msg.get(), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return std::nullopt;
    const void *value = nullptr;
    size_t size = 0;
    if (rd_kafka_header_get_last(hdrs, std::string(name).c_str(), &value, &size) != 0 || !value)
        return std::nullopt;
    return std::string_view(static_cast<const char *>(value), size);
}

int64_t Message::timestampMs() const
{
    rd_kafka_timestamp_type_t type;
    return rd_kafka_message_timestamp(m_msg.get(), &type);
}

// ---- Consumer ----

// Handlers called by librdkafka inside poll(); the client opaque points here.
struct Consumer::Callbacks
{
    RebalanceHandler onRebalance;
    std::function<void(const Error &)> onError;

    void report(const Error &error) const
    {
        if (onError)
            onError(error);
        else
            detail::log(3, "ERROR", error.message);
    }

    static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t *parts, void *opaque)
    {
        auto *self = static_cast<Callbacks *>(opaque);
        const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
        std::vector<TopicPartition> list = detail::toVector(parts);
        const bool assigning = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        const RebalanceKind kind = assigning                      ? RebalanceKind::Assigned
                                   : rd_kafka_assignment_lost(rk) ? RebalanceKind::Lost
                                                                  : RebalanceKind::Revoked;
        if (self->onRebalance) {
            try {
                self->onRebalance(kind, list);
            } catch (...) {
                self->report(makeError(ErrorCode::Internal, "kafka: rebalance handler threw"));
            }
        }
        rd_kafka_error_t *error = nullptr;
        rd_kafka_resp_err_t classic = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (assigning) {
            rd_kafka_topic_partition_list_t *out = detail::toList(list);
            if (cooperative)
                error = rd_kafka_incremental_assign(rk, out);
            else
                classic = rd_kafka_assign(rk, out);
            rd_kafka_topic_partition_list_destroy(out);
        } else {
            if (cooperative)
                error = rd_kafka_incremental_unassign(rk, parts);
            else
                classic = rd_kafka_assign(rk, nullptr);
        }
        if (error) {
            self->report(detail::toError(rd_kafka_error_code(error), "rebalance",
                                         rd_kafka_error_string(error)));
            rd_kafka_error_destroy(error);
        } else if (classic) {
            self->report(detail::toError(classic, "rebalance"));
        }
    }

    static void clientError(rd_kafka_t *, int err, const char *reason, void *opaque)
    {
        static_cast<Callbacks *>(opaque)->report(
            detail::toError(static_cast<rd_kafka_resp_err_t>(err), "consumer", reason));
    }
};

Result<std::unique_ptr<Consumer>> Consumer::create(ConsumerOptions options)
{
    const Config defaults{{"enable.auto.commit", "false"},
                          {"auto.offset.reset", "earliest"},
                          {"enable.partition.eof", "false"},
                          // back within 1 s of a restarted broker (librdkafka: up to 10 s)
                          {"reconnect.backoff.max.ms", "1000"}};
    auto conf = detail::makeConf(defaults, options.config);
    if (!conf)
        return conf.error();
    std::unique_ptr<Consumer> c(new Consumer());
    c->m_callbacks = std::make_unique<Callbacks>(
        Callbacks{std::move(options.onRebalance), std::move(options.onError)});
    rd_kafka_conf_set_opaque(*conf, c->m_callbacks.get());
    rd_kafka_conf_set_rebalance_cb(*conf, &Callbacks::rebalance);
    rd_kafka_conf_set_error_cb(*conf, &Callbacks::clientError);
    char errstr[512];
    c->m_rk = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, errstr, sizeof errstr);
    if (!c->m_rk) {
        rd_kafka_conf_destroy(*conf);
        return makeError(ErrorCode::BadRequest, std::string("kafka: consumer: ") + errstr);
    }
    rd_kafka_poll_set_consumer(c->m_rk);
    return c;
}

Consumer::~Consumer()
{
    if (!m_rk)
        return;
    close();
    rd_kafka_destroy(m_rk);
}

void Consumer::close()
{
    if (m_closed || !m_rk)
        return;
    m_closed = true;
    rd_kafka_consumer_close(m_rk);
}

Result<void> Consumer::subscribe(const std::vector<std::string> &topics)
{
    rd_kafka_topic_partition_list_t *list =
        rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
    for (const auto &t : topics)
        rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(m_rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err)
        return detail::toError(err, "subscribe");
    return {};
}

Result<void> Consumer::assign(const std::vector<TopicPartition> &partitions)
{
    rd_kafka_topic_partition_list_t *list = detail::toList(partitions);
    const rd_kafka_resp_err_t err = rd_kafka_assign(m_rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err)
        return detail::toError(err, "assign");
    return {};
}

Result<std::optional<Message>> Consumer::poll(std::chrono::milliseconds timeout)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(m_rk, static_cast<int>(timeout.count()));
    if (!m)
        return std::optional<Message>();
    if (m->err) {
        const rd_kafka_resp_err_t err = m->err;
        Error error = detail::toError(err, "consume", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return std::optional<Message>();
        return error;
    }
    return std::optional<Message>(Message(m));
}

Result<void> Consumer::commit(const Message &message, bool async)
{
    return commit(
        {TopicPartition{std::string(message.topic()), message.partition(), message.offset() + 1}},
        async);
}

Result<void> Consumer::commit(const std::vector<TopicPartition> &offsets, bool async)
{
    rd_kafka_topic_partition_list_t *list = detail::toList(offsets);
    const rd_kafka_resp_err_t err = rd_kafka_commit(m_rk, list, async ? 1 : 0);
    rd_kafka_topic_partition_list_destroy(list);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        return detail::toError(err, "commit");
    return {};
}

Result<void> Consumer::commitConsumed(bool async)
{
    const rd_kafka_resp_err_t err = rd_kafka_commit(m_rk, nullptr, async ? 1 : 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        return detail::toError(err, "commit");
    return {};
}

Result<void> Consumer::seek(const TopicPartition &position, std::chrono::milliseconds timeout)
{
    rd_kafka_topic_partition_list_t *list = detail::toList({position});
    rd_kafka_error_t *error =
        rd_kafka_seek_partitions(m_rk, list, static_cast<int>(timeout.count()));
    Result<void> result;
    if (error) {
        result = detail::toError(rd_kafka_error_code(error), "seek", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (list->elems[0].err) {
        result = detail::toError(list->elems[0].err, "seek");
    }
    rd_kafka_topic_partition_list_destroy(list);
    return result;
}

std::vector<TopicPartition> Consumer::assignment() const
{
    rd_kafka_topic_partition_list_t *list = nullptr;
    if (rd_kafka_assignment(m_rk, &list) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return {};
    std::vector<TopicPartition> out = detail::toVector(list);
    rd_kafka_topic_partition_list_destroy(list);
    return out;
}

Result<void> Consumer::pause(const std::vector<TopicPartition> &partitions)
{
    rd_kafka_topic_partition_list_t *list = detail::toList(partitions);
    const rd_kafka_resp_err_t err = rd_kafka_pause_partitions(m_rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err)
        return detail::toError(err, "pause");
    return {};
}

Result<void> Consumer::resume(const std::vector<TopicPartition> &partitions)
{
    rd_kafka_topic_partition_list_t *list = detail::toList(partitions);
    const rd_kafka_resp_err_t err = rd_kafka_resume_partitions(m_rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err)
        return detail::toError(err, "resume");
    return {};
}

Result<std::vector<TopicPartition>>
Consumer::committed(const std::vector<TopicPartition> &partitions,
                    std::chrono::milliseconds timeout)
{
    rd_kafka_topic_partition_list_t *list = detail::toList(partitions);
    const rd_kafka_resp_err_t err =
        rd_kafka_committed(m_rk, list, static_cast<int>(timeout.count()));
    Result<std::vector<TopicPartition>> result = detail::toVector(list);
    if (err)
        result = detail::toError(err, "committed offsets");
    rd_kafka_topic_partition_list_destroy(list);
    return result;
}

std::optional<Error> Consumer::fatalError() const
{
    return detail::fatalError(m_rk, "consumer");
}

std::pair<int64_t, int64_t> Consumer::cachedWatermarks(const std::string &topic,
                                                       int32_t partition) const
{
    int64_t low = -1;
    int64_t high = -1;
    if (rd_kafka_get_watermark_offsets(m_rk, topic.c_str(), partition, &low, &high))
        return {-1, -1};
    return {low, high};
}

} // namespace idl::kafka
