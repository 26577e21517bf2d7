-- 003_kafka_offsets: per consumer group and topic partition, the next Kafka offset to read.
-- Written in the same transaction as the rows of a batch (exactly once in storage); on
-- partition assignment the writer seeks to next_offset.
CREATE TABLE kafka_offsets (
    consumer_group text NOT NULL,
    topic text NOT NULL,
    partition int NOT NULL,
    next_offset bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);
