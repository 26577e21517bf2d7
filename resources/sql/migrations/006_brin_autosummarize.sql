-- 006_brin_autosummarize: the BRIN index on ts again, with autosummarize and 32 pages per range.
--
-- Before, block ranges filled by the writer stayed unsummarized until a VACUUM of the partition
-- (autovacuum rarely vacuums an insert-only table soon), and an unsummarized range matches every
-- time-range scan: right after a load, a one-hour query read the whole day's partition
-- (docs/benchmarks.md, Gateway: "Rows Removed by Index Recheck: 3,120,377"). With autosummarize
-- each range is queued for summarization as soon as the writer moves on to the next one, and
-- autovacuum summarizes it within autovacuum_naptime (1 min by default); the writer's
-- maintenance (retention loop) also summarizes every partition it visits. 32 pages per range
-- (256 KiB, ~1,000 rows of ~240 B) instead of 128 makes a range scan read less beyond its edges;
-- the index stays a few hundred KB per million rows. Measured in docs/benchmarks.md (Peer).
DROP INDEX IF EXISTS logs_ts_brin;
CREATE INDEX logs_ts_brin ON logs USING brin (ts) WITH (pages_per_range = 32, autosummarize = on);
