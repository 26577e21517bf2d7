#include "idl/kafka/admin.h"

#include "internal.h"

#include <algorithm>
#include <thread>

namespace idl::kafka {

namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline, int cap)
{
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 1, cap));
}

} // namespace

Result<std::unique_ptr<Admin>> Admin::create(Config config)
{
    auto conf = detail::makeConf({}, config);
    if (!conf)
        return conf.error();
    std::unique_ptr<Admin> a(new Admin());
    char errstr[512];
    a->m_rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, errstr, sizeof errstr);
    if (!a->m_rk) {
        rd_kafka_conf_destroy(*conf);
        return makeError(ErrorCode::BadRequest, std::string("kafka: admin: ") + errstr);
    }
    return a;
}

Admin::~Admin()
{
    if (m_rk)
        rd_kafka_destroy(m_rk);
}

Result<void> Admin::createTopics(const std::vector<std::string> &names, int partitions,
                                 int replicationFactor, std::chrono::milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    char errstr[512];
    std::vector<rd_kafka_NewTopic_t *> topics;
    const auto freeTopics = [&] {
        for (auto *t : topics)
            rd_kafka_NewTopic_destroy(t);
    };
    for (const auto &name : names) {
        rd_kafka_NewTopic_t *t = rd_kafka_NewTopic_new(name.c_str(), partitions, replicationFactor,
                                                       errstr, sizeof errstr);
        if (!t) {
            freeTopics();
            return makeError(ErrorCode::BadRequest, "kafka: create topic " + name + ": " + errstr);
        }
        topics.push_back(t);
    }
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(m_rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    const int ms = static_cast<int>(timeout.count());
    rd_kafka_AdminOptions_set_request_timeout(opts, ms, errstr, sizeof errstr);
    rd_kafka_AdminOptions_set_operation_timeout(opts, ms, errstr, sizeof errstr);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(m_rk);
    rd_kafka_CreateTopics(m_rk, topics.data(), topics.size(), opts, queue);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, ms + 5000);
    Result<void> result;
    if (!ev) {
        result = makeError(ErrorCode::Timeout, "kafka: create topics: no answer in time");
    } else if (rd_kafka_event_error(ev)) {
        result = detail::toError(rd_kafka_event_error(ev), "create topics",
                                 rd_kafka_event_error_string(ev));
    } else {
        size_t count = 0;
        const rd_kafka_topic_result_t **results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &count);
        for (size_t i = 0; i < count && result.ok(); ++i) {
            const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
            if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                const char *why = rd_kafka_topic_result_error_string(results[i]);
                result = detail::toError(
                    err, std::string("create topic ") + rd_kafka_topic_result_name(results[i]),
                    why ? why : "");
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(opts);
    freeTopics();
    if (!result)
        return result;
    return waitForTopics(names, std::chrono::milliseconds(remainingMs(deadline, ms)));
}

Result<void> Admin::waitForMetadata(std::chrono::milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR__TIMED_OUT;
    do {
        const struct rd_kafka_metadata *md = nullptr;
        last = rd_kafka_metadata(m_rk, 0, nullptr, &md, remainingMs(deadline, 1000));
        if (last == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const bool any = md->broker_cnt > 0;
            rd_kafka_metadata_destroy(md);
            if (any)
                return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (Clock::now() < deadline);
    Error e = detail::toError(last, "metadata", "no broker answered in time");
    e.code = ErrorCode::Unavailable;
    return e;
}

Result<void> Admin::waitForTopics(const std::vector<std::string> &names,
                                  std::chrono::milliseconds timeout)
{
    const auto deadline = Clock::now() + timeout;
    std::string missing;
    do {
        const struct rd_kafka_metadata *md = nullptr;
        if (rd_kafka_metadata(m_rk, 1, nullptr, &md, remainingMs(deadline, 2000)) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            missing.clear();
            for (const auto &name : names) {
                bool ready = false;
                for (int t = 0; t < md->topic_cnt; ++t) {
                    const auto &topic = md->topics[t];
                    if (name != topic.topic)
                        continue;
                    ready = topic.err == RD_KAFKA_RESP_ERR_NO_ERROR && topic.partition_cnt > 0;
                    for (int p = 0; ready && p < topic.partition_cnt; ++p)
                        ready = topic.partitions[p].leader >= 0 &&
                                topic.partitions[p].err == RD_KAFKA_RESP_ERR_NO_ERROR;
                }
                if (!ready)
                    missing += (missing.empty() ? "" : ", ") + name;
            }
            rd_kafka_metadata_destroy(md);
            if (missing.empty())
                return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (Clock::now() < deadline);
    return makeError(ErrorCode::Timeout,
                     "kafka: topics not ready in time: " + (missing.empty() ? "?" : missing));
}

Result<int> Admin::partitionCount(const std::string &topic, std::chrono::milliseconds timeout)
{
    const struct rd_kafka_metadata *md = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(m_rk, 1, nullptr, &md, static_cast<int>(timeout.count()));
    if (err)
        return detail::toError(err, "metadata");
    int count = -1;
    for (int t = 0; t < md->topic_cnt; ++t) {
        if (topic == md->topics[t].topic && md->topics[t].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            count = md->topics[t].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    if (count < 0)
        return makeError(ErrorCode::NotFound, "kafka: topic " + topic + " does not exist");
    return count;
}

Result<std::pair<int64_t, int64_t>> Admin::watermarks(const std::string &topic, int32_t partition,
                                                      std::chrono::milliseconds timeout)
{
    int64_t low = -1;
    int64_t high = -1;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        m_rk, topic.c_str(), partition, &low, &high, static_cast<int>(timeout.count()));
    if (err)
        return detail::toError(err, "watermarks");
    return std::pair<int64_t, int64_t>(low, high);
}

} // namespace idl::kafka
