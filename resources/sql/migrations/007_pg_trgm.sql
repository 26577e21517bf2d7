-- 007_pg_trgm: trigram matching for the search indexes of closed partitions.
--
-- The writer's maintenance (retention loop, step 4, docs/storage.md) builds on every daily
-- partition whose day is over a trigram GIN index `(message COLLATE "C" gin_trgm_ops)` and a
-- b-tree on ts, with CREATE INDEX CONCURRENTLY. The open partition (today) stays index-light:
-- a trigram index maintained on every COPY costs ~85 % of the ingest rate (docs/storage.md).
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension (PostgreSQL 13+): the
-- database owner may create it. Where it is missing or not allowed, this migration notes it and
-- goes on; closed partitions then get only the b-tree, and substring searches scan rows as
-- before (same results, slower).
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm not available (%): substring search over closed partitions scans rows',
        SQLERRM;
END
$$;
