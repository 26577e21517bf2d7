-- 001_logs: the log events table, partitioned by event time (ns since the epoch).
--
-- Plain PostgreSQL: native range partitioning on ts, one partition per UTC day, named
-- logs_pYYYYMMDD, created ahead of time by idl_ensure_log_partition() (the writer calls it
-- for today and the next days, and for every day a batch touches before it COPYs).
-- TimescaleDB (installed and preloaded): a hypertable with one-day chunks instead; the
-- function below then does nothing. See docs/storage.md.
--
-- Indexes follow the measurements in docs/storage.md: BRIN on ts (cheap to maintain) and a
-- b-tree on (app, ts) for the usual "this app, this time range" filter. No text index on the
-- message: a trigram GIN index costs ~85% of the ingest rate.
DO $$
DECLARE
    use_timescale boolean;
BEGIN
    use_timescale :=
        EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
        OR (EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
            AND current_setting('shared_preload_libraries', true) LIKE '%timescaledb%');
    IF use_timescale THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        CREATE TABLE logs (
            id uuid NOT NULL,
            ts bigint NOT NULL,
            received bigint NOT NULL,
            level smallint NOT NULL,
            app text NOT NULL,
            host text NOT NULL,
            message text NOT NULL,
            attrs jsonb NOT NULL DEFAULT '{}',
            trace_id text,
            span_id text
        );
        PERFORM create_hypertable('logs', 'ts', chunk_time_interval => 86400000000000);
    ELSE
        CREATE TABLE logs (
            id uuid NOT NULL,
            ts bigint NOT NULL,
            received bigint NOT NULL,
            level smallint NOT NULL,
            app text NOT NULL,
            host text NOT NULL,
            message text NOT NULL,
            attrs jsonb NOT NULL DEFAULT '{}',
            trace_id text,
            span_id text
        ) PARTITION BY RANGE (ts);
    END IF;
END
$$;

COMMENT ON TABLE logs IS 'Log events; ts/received in ns since the Unix epoch; level 0 trace .. 5 fatal';

CREATE INDEX logs_ts_brin ON logs USING brin (ts);
CREATE INDEX logs_app_ts ON logs (app, ts);

-- Whether logs is a TimescaleDB hypertable (otherwise natively partitioned).
CREATE FUNCTION idl_logs_is_hypertable() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'logs'::regclass)
$$;

-- Creates (if absent) the daily partition holding event time p_ts and returns its name;
-- NULL under TimescaleDB (chunks are created on insert). Safe to call concurrently.
CREATE FUNCTION idl_ensure_log_partition(p_ts bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    day_ns constant bigint := 86400000000000;
    start_ns bigint;
    part text;
BEGIN
    IF idl_logs_is_hypertable() THEN
        RETURN NULL;
    END IF;
    IF p_ts < 0 THEN
        RAISE EXCEPTION 'event time % is before 1970', p_ts;
    END IF;
    start_ns := p_ts - (p_ts % day_ns);
    part := 'logs_p' || to_char(to_timestamp(start_ns / 1000000000) AT TIME ZONE 'UTC', 'YYYYMMDD');
    IF to_regclass(part) IS NOT NULL THEN
        RETURN part;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('idl_logs_partitions'));
    IF to_regclass(part) IS NOT NULL THEN
        RETURN part;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF logs FOR VALUES FROM (%s) TO (%s)',
                   part, start_ns, start_ns + day_ns);
    RETURN part;
END
$$;

-- Daily partitions of logs with their bounds (ns), oldest first; empty under TimescaleDB.
CREATE FUNCTION idl_log_partitions()
RETURNS TABLE (name text, from_ns bigint, to_ns bigint) LANGUAGE sql STABLE AS $$
    SELECT c.relname::text,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''?(-?\d+)''?\)'))[1]::bigint,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''?(-?\d+)''?\)'))[1]::bigint
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'logs'::regclass AND c.relkind = 'r'
    ORDER BY 2
$$;

-- Today and the next two days exist from the start.
SELECT idl_ensure_log_partition(
           (extract(epoch FROM now())::bigint + d * 86400) * 1000000000)
FROM generate_series(0, 2) AS d;
