-- Dead letters replayed through the gateway (dlq.replay): one row per dead-letter record,
-- written in the transaction that is committed only once Kafka has acknowledged the replayed
-- record. A dead letter that has a row is never replayed again, so a replayed event lands
-- once however often (and by however many admins) replay is asked for.
CREATE TABLE dlq_replays (
    topic text NOT NULL,
    partition int NOT NULL,
    "offset" bigint NOT NULL,
    replayed_at timestamptz NOT NULL DEFAULT now(),
    replayed_by text NOT NULL,
    PRIMARY KEY (topic, partition, "offset")
);
