#pragma once

#include "idl/kafka/common.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

struct rd_kafka_s;
struct rd_kafka_topic_s;

namespace idl::kafka {

class Consumer;

// The outcome of one produced message, reported once per message.
struct DeliveryReport
{
    std::string topic;
    int32_t partition = -1;
    int64_t offset = -1;        // valid when error is empty
    std::optional<Error> error; // set when the message was not acknowledged
    bool ok() const { return !error.has_value(); }
};

// Called once per message from the poll thread (or from poll() in manual mode).
using DeliveryCallback = std::function<void(const DeliveryReport &)>;

// Receives the delivery reports of messages produced with Producer::produceTo(): one call
// per message, from the poll thread (or poll() in manual mode). One sink may serve many
// messages (e.g. every event of one request); it must outlive their reports.
class DeliverySink
{
public:
    virtual ~DeliverySink() = default;
    // error is null when the message was acknowledged.
    virtual void delivered(int32_t partition, int64_t offset, const Error *error) = 0;
};

// A topic resolved once inside a Producer (see Producer::topic()), so that producing to it
// does not look the name up per message. Valid while its Producer lives.
class TopicHandle
{
public:
    TopicHandle() = default;
    // The topic's name.
    const std::string &name() const { return m_name; }
    bool valid() const { return m_rkt != nullptr; }

private:
    friend class Producer;
    rd_kafka_topic_s *m_rkt = nullptr;
    std::string m_name;
};

// How a Producer is built.
struct ProducerOptions
{
    Config config;                              // at least bootstrap.servers
    bool pollThread = true;                     // false: call poll() yourself to get reports
    DeliveryCallback onDelivery;                // for messages produced without their own callback
    std::function<void(const Error &)> onError; // client-level errors (broker down, fatal)
};

// A Kafka producer (acks=all, enable.idempotence=true unless overridden). Lifecycle:
// create() → produce()… → destructor flushes (up to 10 s), then reports every message still
// pending as failed (purged) before it destroys the client. produce() and flush() are thread
// safe; delivery callbacks run on the producer's poll thread (or the caller of poll()).
class Producer
{
public:
    static Result<std::unique_ptr<Producer>> create(ProducerOptions options);
    ~Producer();
    Producer(const Producer &) = delete;
    Producer &operator=(const Producer &) = delete;

    // Queues one message (copied). A full local queue is ErrorCode::Overloaded: back off.
    // partition -1 lets the partitioner choose (by key hash).
    Result<void> produce(std::string_view topic, std::optional<std::string_view> key,
                         std::string_view value, const Headers &headers = {},
                         DeliveryCallback onDelivery = {}, int32_t partition = -1);
    // Resolves a topic once for produceTo(); the handle is released with the Producer.
    Result<TopicHandle> topic(std::string_view name);
    // The fast path: queues one message (copied) to a resolved topic; its delivery report goes
    // to `sink` (nullptr: ProducerOptions::onDelivery). No allocation besides librdkafka's own
    // message and headers. Errors as produce().
    Result<void> produceTo(const TopicHandle &topic, std::optional<std::string_view> key,
                           std::string_view value, const Headers &headers, DeliverySink *sink,
                           int32_t partition = -1);
    // Serves delivery reports (manual mode); returns how many events were served.
    int poll(std::chrono::milliseconds timeout);
    // Waits until every queued message is acknowledged or failed; Timeout if some remain.
    Result<void> flush(std::chrono::milliseconds timeout);
    // Messages queued or in flight.
    int outstanding() const;
    // A fatal client error (e.g. idempotence broken), if one happened; the producer is then
    // unusable and must be recreated.
    std::optional<Error> fatalError() const;

    // ---- Transactions (config "transactional.id" set; see src/transactions.cpp) ----
    // After a failed call: fatalError() set -> the producer is unusable (e.g. fenced by a
    // newer instance with the same transactional.id); otherwise abortTransaction() and retry.

    // Registers the transactional.id with the coordinator and fences older instances.
    Result<void> initTransactions(std::chrono::milliseconds timeout);
    // Starts a transaction; every produce() until commit/abort belongs to it.
    Result<void> beginTransaction();
    // Adds the consumer's offsets (next offsets to read) to the open transaction, with the
    // consumer's group metadata (so a zombie of an older group generation is fenced).
    Result<void> sendOffsetsToTransaction(const std::vector<TopicPartition> &offsets,
                                          const Consumer &consumer,
                                          std::chrono::milliseconds timeout);
    // Flushes and commits the open transaction; a retriable failure is retried inside.
    Result<void> commitTransaction(std::chrono::milliseconds timeout);
    // Aborts the open transaction (pending messages are purged).
    Result<void> abortTransaction(std::chrono::milliseconds timeout);

private:
    Producer() = default;
    rd_kafka_s *m_rk = nullptr;
    struct Callbacks;
    std::unique_ptr<Callbacks> m_callbacks;
    std::mutex m_topicsMutex;
    std::vector<rd_kafka_topic_s *> m_topics; // handles given out by topic()
    std::atomic<bool> m_stop{false};
    std::thread m_poller;
};

} // namespace idl::kafka
