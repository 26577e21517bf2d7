#include "internal.h"

#include <cstdio>
#include <memory>
#include <mutex>

namespace idl::kafka {

namespace {

std::mutex g_logMutex;
std::shared_ptr<const LogHandler> g_logHandler;

void logTrampoline(const rd_kafka_t *, int level, const char *facility, const char *message)
{
    detail::log(level, facility ? facility : "", message ? message : "");
}

} // namespace

void setLogHandler(LogHandler handler)
{
    std::lock_guard lock(g_logMutex);
    g_logHandler = handler ? std::make_shared<const LogHandler>(std::move(handler)) : nullptr;
}

namespace detail {

void log(int level, std::string_view facility, std::string_view message)
{
    std::shared_ptr<const LogHandler> handler;
    {
        std::lock_guard lock(g_logMutex);
        handler = g_logHandler;
    }
    if (handler) {
        (*handler)(level, facility, message);
        return;
    }
    if (level <= 4)
        std::fprintf(stderr, "rdkafka[%d] %.*s: %.*s\n", level, static_cast<int>(facility.size()),
                     facility.data(), static_cast<int>(message.size()), message.data());
}

Result<rd_kafka_conf_t *> makeConf(const Config &defaults, const Config &config)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    const auto apply = [&](const Config &c) -> Result<void> {
        for (const auto &[key, value] : c) {
            if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
                RD_KAFKA_CONF_OK)
                return makeError(ErrorCode::BadRequest,
                                 "kafka: configuration " + key + ": " + errstr);
        }
        return {};
    };
    for (const Config *c : {&defaults, &config}) {
        if (auto r = apply(*c); !r) {
            rd_kafka_conf_destroy(conf);
            return r.error();
        }
    }
    rd_kafka_conf_set_log_cb(conf, &logTrampoline);
    return conf;
}

Error toError(rd_kafka_resp_err_t err, std::string_view what, std::string_view reason)
{
    ErrorCode code = ErrorCode::Unavailable;
    switch (err) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        code = ErrorCode::Overloaded;
        break;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        code = ErrorCode::Timeout;
        break;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        code = ErrorCode::NotFound;
        break;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
        code = ErrorCode::Conflict;
        break;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        code = ErrorCode::TooLarge;
        break;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        code = ErrorCode::Cancelled;
        break;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        code = ErrorCode::BadRequest;
        break;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__STATE:
        code = ErrorCode::Internal;
        break;
    default:
        break;
    }
    std::string message = "kafka: " + std::string(what) + ": ";
    message += reason.empty() ? std::string(rd_kafka_err2str(err)) : std::string(reason);
    message += " (" + std::string(rd_kafka_err2name(err)) + ")";
    return makeError(code, std::move(message));
}

std::optional<Error> fatalError(rd_kafka_t *rk, std::string_view what)
{
    char buf[512];
    const rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk, buf, sizeof buf);
    if (!err)
        return std::nullopt;
    Error e = toError(err, std::string(what) + " fatal error", buf);
    e.code = ErrorCode::Internal;
    return e;
}

std::vector<TopicPartition> toVector(const rd_kafka_topic_partition_list_t *list)
{
    std::vector<TopicPartition> out;
    if (!list)
        return out;
    out.reserve(static_cast<size_t>(list->cnt));
    for (int i = 0; i < list->cnt; ++i) {
        const auto &e = list->elems[i];
        out.push_back(TopicPartition{e.topic, e.partition, e.offset});
    }
    return out;
}

rd_kafka_topic_partition_list_t *toList(const std::vector<TopicPartition> &partitions)
{
    auto *list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
    for (const auto &p : partitions)
        rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = p.offset;
    return list;
}

} // namespace detail
} // namespace idl::kafka
