-- 004_retention_policies: per-app time to live. Apps without a row use the writer's
-- retention.default. A TTL shorter than the default is applied with bounded batched
-- deletes; whole daily partitions are dropped once older than every TTL that applies.
CREATE TABLE retention_policies (
    app text PRIMARY KEY,
    ttl interval NOT NULL CHECK (ttl > interval '0')
);
