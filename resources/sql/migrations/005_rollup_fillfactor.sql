-- 005_rollup_fillfactor: leave room in each page of log_rollup_minute so the writer's count
-- updates (INSERT ... ON CONFLICT DO UPDATE, many per batch when a batch spans many minutes)
-- stay heap-only (HOT): the new row version goes to the same page, neither index gets a new
-- entry, and no bottom-up index deletion pass is needed. Profile and measurements:
-- docs/benchmarks.md (Writer). Applies to pages written from now on.
ALTER TABLE log_rollup_minute SET (fillfactor = 60);
