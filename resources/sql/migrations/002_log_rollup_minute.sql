-- 002_log_rollup_minute: exact per-minute event counts for the charts, maintained by the
-- writer in the same transaction as the rows it stores (so it always equals the raw rows).
-- bucket = start of the minute of the event time, ns since the epoch.
CREATE TABLE log_rollup_minute (
    bucket bigint NOT NULL,
    app text NOT NULL,
    host text NOT NULL,
    level smallint NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (bucket, app, host, level)
);
CREATE INDEX log_rollup_minute_app_bucket ON log_rollup_minute (app, bucket);
