#pragma once

#include "idl/kafka/common.h"

#include <chrono>
#include <memory>

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace idl::kafka {

// One consumed record. Owns librdkafka's message; the views stay valid while it lives.
class Message
{
public:
    std::string_view topic() const;
    int32_t partition() const;
    int64_t offset() const;
    // The key, or std::nullopt for a null key.
    std::optional<std::string_view> key() const;
    std::string_view value() const;
    // Every header in order (copied).
    Headers headers() const;
    // The last value of header `name`, if present and not null.
    std::optional<std::string_view> header(std::string_view name) const;
    // Record timestamp in milliseconds since the epoch, or -1.
    int64_t timestampMs() const;

private:
    friend class Consumer;
    struct Deleter
    {
        void operator()(rd_kafka_message_s *m) const noexcept;
    };
    explicit Message(rd_kafka_message_s *m) : m_msg(m) {}
    std::unique_ptr<rd_kafka_message_s, Deleter> m_msg;
};

// What a rebalance does to this consumer's assignment.
enum class RebalanceKind { Assigned, Revoked, Lost };

// Called inside poll() on a rebalance. On Assigned the handler may set each partition's
// offset (e.g. offsets stored in PostgreSQL); the consumer then assigns them.
using RebalanceHandler = std::function<void(RebalanceKind, std::vector<TopicPartition> &)>;

// How a Consumer is built.
struct ConsumerOptions
{
    Config config; // bootstrap.servers, and group.id for subscribe()/commit()
    RebalanceHandler onRebalance;
    std::function<void(const Error &)> onError; // client-level errors (broker down, ...)
};

// A Kafka consumer, in group mode (subscribe) or manual mode (assign). Defaults:
// enable.auto.commit=false, auto.offset.reset=earliest. Lifecycle: create() → subscribe() or
// assign() → poll()… → close() (also done by the destructor: leaves the group cleanly).
// Use from one thread; rebalance handlers run inside poll() on that thread.
class Consumer
{
public:
    static Result<std::unique_ptr<Consumer>> create(ConsumerOptions options);
    ~Consumer();
    Consumer(const Consumer &) = delete;
    Consumer &operator=(const Consumer &) = delete;

    // Joins the group (group.id) for these topics.
    Result<void> subscribe(const std::vector<std::string> &topics);
    // Manual mode: consume exactly these partitions from their offsets.
    Result<void> assign(const std::vector<TopicPartition> &partitions);
    // The next message, std::nullopt on timeout, or an error (usually transient: keep polling).
    Result<std::optional<Message>> poll(std::chrono::milliseconds timeout);
    // Commits offset+1 of this message (synchronously unless async).
    Result<void> commit(const Message &message, bool async = false);
    // Commits these offsets (the offset is the next one to read).
    Result<void> commit(const std::vector<TopicPartition> &offsets, bool async = false);
    // Commits the offsets after every message poll() returned so far (e.g. when revoked).
    Result<void> commitConsumed(bool async = false);
    // Moves an assigned partition's read position.
    Result<void> seek(const TopicPartition &position, std::chrono::milliseconds timeout);
    // The current assignment.
    std::vector<TopicPartition> assignment() const;
    // Stops fetching these assigned partitions (poll() keeps serving rebalances) / restarts.
    Result<void> pause(const std::vector<TopicPartition> &partitions);
    Result<void> resume(const std::vector<TopicPartition> &partitions);
    // Low and high watermark of a partition as last seen by the fetcher (no network call);
    // {-1, -1} when not known yet.
    std::pair<int64_t, int64_t> cachedWatermarks(const std::string &topic, int32_t partition) const;
    // The offsets the group (group.id) committed for these partitions, assigned to this member
    // or not (offset -1001 where it committed none). A consumer that never subscribes can ask
    // for any group without joining it. (Not Admin's ListConsumerGroupOffsets: librdkafka
    // 2.0-2.4 crash on its NOT_COORDINATOR answer, librdkafka issue 5040, which a broker gives
    // while it loads the offsets topic, e.g. after a restart.)
    Result<std::vector<TopicPartition>> committed(const std::vector<TopicPartition> &partitions,
                                                  std::chrono::milliseconds timeout);
    // A fatal client error, if one happened (e.g. this static member was fenced by another
    // consumer with the same group.instance.id): the consumer then never consumes again and
    // must be replaced by a new one.
    std::optional<Error> fatalError() const;
    // Leaves the group and stops librdkafka's threads; idempotent.
    void close();

private:
    friend class Producer; // reads the group metadata for transactional offset commits
    Consumer() = default;
    struct Callbacks;
    rd_kafka_s *m_rk = nullptr;
    std::unique_ptr<Callbacks> m_callbacks;
    bool m_closed = false;
};

} // namespace idl::kafka
