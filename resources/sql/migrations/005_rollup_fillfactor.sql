-- 005_rollup_fillfactor: leave half of each page of log_rollup_minute free, so the writer's
-- count updates (INSERT ... ON CONFLICT DO UPDATE, several per batch on the same rows) stay
-- heap-only (HOT): the new row version goes to the same page and no index gets a new entry.
-- Applies to pages written from now on. Measured in docs/benchmarks.md (Writer).
ALTER TABLE log_rollup_minute SET (fillfactor = 50);
