#include "idl/kafka/producer.h"

#include "internal.h"

namespace idl::kafka {

namespace {

// The per-message opaque of produce() with its own callback: a DeliverySink that owns the
// callback and is deleted after its one report.
struct CallbackSink final : DeliverySink
{
    explicit CallbackSink(DeliveryCallback cb) : callback(std::move(cb)) {}
    void delivered(int32_t, int64_t, const Error *) override {}
    DeliveryCallback callback;
};

// Queues one message (copied) on a topic handle; `sink` gets its delivery report.
Result<void> produceOn(rd_kafka_t *rk, rd_kafka_topic_t *rkt, std::string_view topicName,
                       std::optional<std::string_view> key, std::string_view value,
                       const Headers &headers, DeliverySink *sink, int32_t partition)
{
    rd_kafka_headers_t *hdrs = nullptr;
    if (!headers.empty()) {
        hdrs = rd_kafka_headers_new(headers.size());
        for (const Header &h : headers)
            rd_kafka_header_add(hdrs, h.key.data(), static_cast<ssize_t>(h.key.size()),
                                h.value ? h.value->data() : nullptr,
                                h.value ? static_cast<ssize_t>(h.value->size()) : 0);
    }
    // The RD_KAFKA_V_* macros do not parenthesize their arguments: pass plain variables.
    void *keyData = key ? const_cast<char *>(key->data()) : nullptr;
    const size_t keySize = key ? key->size() : 0;
    void *valueData = const_cast<char *>(value.data());
    const size_t valueSize = value.size();
    // The macros type-check their arguments with GNU statement expressions, which clang's
    // -Wpedantic reports where they expand (GCC does not, they come from a system header).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif
    const rd_kafka_resp_err_t err =
        rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(valueData, valueSize), RD_KAFKA_V_KEY(keyData, keySize),
                          RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(sink), RD_KAFKA_V_END);
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    if (err) {
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        return detail::toError(err, "produce to " + std::string(topicName));
    }
    return {};
}

} // namespace

// Handlers shared with librdkafka's threads; the client opaque points here.
struct Producer::Callbacks
{
    DeliveryCallback onDelivery;
    std::function<void(const Error &)> onError;

    static void deliveryReport(rd_kafka_t *, const rd_kafka_message_t *m, void *opaque)
    {
        auto *sink = static_cast<DeliverySink *>(m->_private);
        auto *owned = dynamic_cast<CallbackSink *>(sink);
        if (sink && !owned) {
            // produceTo(): the sink is the caller's; only a failure builds an Error.
            try {
                if (m->err) {
                    const Error error = detail::toError(m->err, "delivery");
                    sink->delivered(m->partition, m->offset, &error);
                } else {
                    sink->delivered(m->partition, m->offset, nullptr);
                }
            } catch (...) {
                detail::log(3, "DELIVERY", "a delivery sink threw; exception ignored");
            }
            return;
        }
        std::unique_ptr<CallbackSink> own(owned);
        const DeliveryCallback *cb = own ? &own->callback : nullptr;
        if (!cb || !*cb)
            cb = &static_cast<Callbacks *>(opaque)->onDelivery;
        DeliveryReport report;
        report.topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        report.partition = m->partition;
        report.offset = m->offset;
        if (m->err)
            report.error = detail::toError(m->err, "delivery");
        if (*cb) {
            try {
                (*cb)(report);
            } catch (...) {
                detail::log(3, "DELIVERY", "a delivery callback threw; exception ignored");
            }
        } else if (m->err) {
            detail::log(3, "DELIVERY", report.error->message);
        }
    }

    static void clientError(rd_kafka_t *rk, int err, const char *reason, void *opaque)
    {
        auto code = static_cast<rd_kafka_resp_err_t>(err);
        std::string fatal;
        if (code == RD_KAFKA_RESP_ERR__FATAL) {
            char buf[512];
            code = rd_kafka_fatal_error(rk, buf, sizeof buf);
            fatal = buf;
        }
        const Error error = detail::toError(code, "producer", fatal.empty() ? reason : fatal);
        const auto &handler = static_cast<Callbacks *>(opaque)->onError;
        if (handler)
            handler(error);
        else
            detail::log(3, "ERROR", error.message);
    }
};

Result<std::unique_ptr<Producer>> Producer::create(ProducerOptions options)
{
    // A broker that restarts (or a cluster member that failed over) is reconnected to within
    // 1 s instead of librdkafka's 10 s back-off ceiling; callers may set their own.
    const Config defaults{
        {"acks", "all"}, {"enable.idempotence", "true"}, {"reconnect.backoff.max.ms", "1000"}};
    auto conf = detail::makeConf(defaults, options.config);
    if (!conf)
        return conf.error();
    std::unique_ptr<Producer> p(new Producer());
    p->m_callbacks = std::make_unique<Callbacks>(
        Callbacks{std::move(options.onDelivery), std::move(options.onError)});
    rd_kafka_conf_set_opaque(*conf, p->m_callbacks.get());
    rd_kafka_conf_set_dr_msg_cb(*conf, &Callbacks::deliveryReport);
    rd_kafka_conf_set_error_cb(*conf, &Callbacks::clientError);
    char errstr[512];
    p->m_rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, errstr, sizeof errstr);
    if (!p->m_rk) {
        rd_kafka_conf_destroy(*conf);
        return makeError(ErrorCode::BadRequest, std::string("kafka: producer: ") + errstr);
    }
    if (options.pollThread) {
        Producer *raw = p.get();
        p->m_poller = std::thread([raw] {
            while (!raw->m_stop.load(std::memory_order_relaxed))
                rd_kafka_poll(raw->m_rk, 100);
        });
    }
    return p;
}

Producer::~Producer()
{
    if (!m_rk)
        return;
    rd_kafka_flush(m_rk, 10'000);
    m_stop = true;
    if (m_poller.joinable())
        m_poller.join();
    // Whatever is still pending is reported as failed (purged), never dropped unseen.
    rd_kafka_purge(m_rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int i = 0; i < 20 && rd_kafka_outq_len(m_rk) > 0; ++i)
        rd_kafka_poll(m_rk, 50);
    for (rd_kafka_topic_t *rkt : m_topics)
        rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(m_rk);
}

Result<void> Producer::produce(std::string_view topic, std::optional<std::string_view> key,
                               std::string_view value, const Headers &headers,
                               DeliveryCallback onDelivery, int32_t partition)
{
    // What RD_KAFKA_V_TOPIC does inside librdkafka: a topic reference for this one call.
    const std::string topicName(topic);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(m_rk, topicName.c_str(), nullptr);
    if (!rkt)
        return detail::toError(rd_kafka_last_error(), "produce to " + topicName);
    auto cb = onDelivery ? std::make_unique<CallbackSink>(std::move(onDelivery)) : nullptr;
    auto r = produceOn(m_rk, rkt, topicName, key, value, headers, cb.get(), partition);
    rd_kafka_topic_destroy(rkt);
    if (r)
        cb.release(); // owned by the delivery report now
    return r;
}

Result<TopicHandle> Producer::topic(std::string_view name)
{
    const std::string topicName(name);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(m_rk, topicName.c_str(), nullptr);
    if (!rkt)
        return detail::toError(rd_kafka_last_error(), "topic " + topicName);
    {
        std::lock_guard lock(m_topicsMutex);
        m_topics.push_back(rkt);
    }
    TopicHandle h;
    h.m_rkt = rkt;
    h.m_name = topicName;
    return h;
}

Result<void> Producer::produceTo(const TopicHandle &topic, std::optional<std::string_view> key,
                                 std::string_view value, const Headers &headers, DeliverySink *sink,
                                 int32_t partition)
{
    if (!topic.m_rkt)
        return makeError(ErrorCode::BadRequest, "kafka: produce to an unresolved topic");
    return produceOn(m_rk, topic.m_rkt, topic.m_name, key, value, headers, sink, partition);
}

int Producer::poll(std::chrono::milliseconds timeout)
{
    return rd_kafka_poll(m_rk, static_cast<int>(timeout.count()));
}

Result<void> Producer::flush(std::chrono::milliseconds timeout)
{
    const rd_kafka_resp_err_t err = rd_kafka_flush(m_rk, static_cast<int>(timeout.count()));
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
        return makeError(ErrorCode::Timeout, "kafka: flush: " + std::to_string(outstanding()) +
                                                 " message(s) still pending");
    if (err)
        return detail::toError(err, "flush");
    return {};
}

int Producer::outstanding() const
{
    return rd_kafka_outq_len(m_rk);
}

std::optional<Error> Producer::fatalError() const
{
    return detail::fatalError(m_rk, "producer");
}

} // namespace idl::kafka
