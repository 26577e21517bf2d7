-- 012_message_statistics: 500 statistics samples for the message column (PostgreSQL's default
-- is 100), on every partition, the ones created from now on included.
--
-- A substring filter (`message COLLATE "C" ILIKE '%connection reset%'`) is estimated from the
-- column's histogram: with 100 entries a text in 0.7 % of the messages is most often in none of
-- them, the planner then assumes 0.01 % of the rows (its floor), decides that "the newest 100"
-- means reading the whole range and sorts it, where a backward scan of the ts b-tree (011) stops
-- after ~15,000 rows: on a partition without a trigram index (today's) the substring first page
-- of 1M rows took 1,656 ms instead of 31 ms (EXPLAIN ANALYZE, docs/benchmarks.md, Peer). With
-- 500 entries that text is estimated at ~0.6 % and the index is used; texts rarer than ~0.1 %
-- keep the full scan, which is the right plan for them. Cost: ANALYZE (autovacuum, the
-- maintenance's VACUUM ANALYZE) samples 150,000 rows instead of 30,000, off the write path.
--
-- SET STATISTICS on the parent reaches the partitions there are (it takes only SHARE UPDATE
-- EXCLUSIVE: writes and reads go on); a partition made by CREATE TABLE ... PARTITION OF does not
-- inherit it, so idl_ensure_log_partition() sets it on each new one. TimescaleDB: the statement
-- on the hypertable reaches its chunks.
ALTER TABLE logs ALTER COLUMN message SET STATISTICS 500;

-- As in 001, plus the message statistics target on the new partition.
CREATE OR REPLACE FUNCTION idl_ensure_log_partition(p_ts bigint) RETURNS text LANGUAGE plpgsql AS $$
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
    EXECUTE format('ALTER TABLE %I ALTER COLUMN message SET STATISTICS 500', part);
    RETURN part;
END
$$;
