-- 011_ts_btree: a b-tree on ts on every daily partition, the open one included.
--
-- "The newest 100 events matching X" is a backward scan of a ts b-tree that stops after
-- 100 / selectivity rows (a few thousand for a substring or attribute filter matching 1-3 %),
-- where without one the whole time range is read and sorted (docs/benchmarks.md, Peer). Before,
-- only closed partitions had it (the writer's maintenance built `<partition>_closed_ts`); the
-- writer COPYs in near time order, so on the open partition the index grows at its right edge
-- and costs little (measured in docs/benchmarks.md, Writer: raw COPY with and without it).
--
-- Created ON ONLY the parent: nothing is built here under a lock on a partition that holds
-- rows. Every partition created from now on gets its own copy with CREATE TABLE ... PARTITION
-- OF (idl_ensure_log_partition), empty. Existing partitions: the empty ones (today and the
-- days ahead on a new database) get theirs below; the others get theirs from the writer's
-- maintenance with CREATE INDEX CONCURRENTLY (an existing `<partition>_closed_ts` is attached
-- as it is), which attaches each to logs_ts; logs_ts is valid once every partition has one.
-- TimescaleDB: create_hypertable() already made a b-tree on ts (logs_ts_idx) on every chunk.
-- The b-tree indexes on exactly (ts) of one partition, valid and attached to logs_ts first.
CREATE FUNCTION idl_partition_ts_btrees(p_part regclass)
RETURNS TABLE (index_name text, valid boolean, attached boolean) LANGUAGE sql STABLE AS $$
    SELECT c.relname::text, i.indisvalid,
           EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am a ON a.oid = c.relam
    JOIN pg_attribute t ON t.attrelid = i.indrelid AND t.attnum = i.indkey[0]
    WHERE i.indrelid = p_part AND a.amname = 'btree' AND i.indnatts = 1 AND t.attname = 'ts'
      AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indoption[0] = 0
    ORDER BY 2 DESC, 3 DESC, 1
$$;

DO $$
DECLARE
    p record;
    has_rows boolean;
BEGIN
    IF idl_logs_is_hypertable() THEN
        RETURN;
    END IF;
    CREATE INDEX IF NOT EXISTS logs_ts ON ONLY logs (ts);
    FOR p IN SELECT name FROM idl_log_partitions() LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', p.name) INTO has_rows;
        IF NOT has_rows AND NOT EXISTS (SELECT 1 FROM idl_partition_ts_btrees(p.name::regclass)) THEN
            EXECUTE format('CREATE INDEX %I ON %I (ts)', p.name || '_ts', p.name);
            EXECUTE format('ALTER INDEX logs_ts ATTACH PARTITION %I', p.name || '_ts');
        END IF;
    END LOOP;
END
$$;
