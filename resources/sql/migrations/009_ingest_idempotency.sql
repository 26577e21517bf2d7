-- 009_ingest_idempotency: the events of ingestion requests sent with an Idempotency-Key
-- header, one row per event: (the sender's key id, the client's key, the event's index among
-- the request's accepted events). The writer inserts these rows in the transaction that COPYs
-- the events' rows and skips every event whose row was there already, so a request resent
-- with the same key (after a lost answer, a collector crash, a 503 after a partial produce)
-- is stored once, however its events are split across writer batches, writers, collectors
-- and processor restarts. Requests without the header add no row. Rows older than the
-- writer's retention.idempotency-keys (24h) are deleted by its maintenance (the BRIN index
-- on created_at finds them; rows are appended in time order).
CREATE TABLE ingest_idempotency (
    scope text NOT NULL,
    key text NOT NULL,
    idx int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key, idx)
);
CREATE INDEX ingest_idempotency_created ON ingest_idempotency USING brin (created_at);
