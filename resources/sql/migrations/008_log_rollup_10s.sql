-- 008_log_rollup_10s: exact event counts per 10 s, app and level, for the charts whose buckets
-- are not whole minutes (the console draws a 50-minute range in 30 s buckets, a 15-minute one in
-- 10 s buckets: before, those counted raw rows, ~230 ms per million events). Maintained by the
-- writer in the same transaction as the rows (like log_rollup_minute, 002); no host column, so
-- it stays small: at most 8,640 x apps x levels rows a day. The gateway reads it when the
-- filter names only app and level and the range and bucket are whole multiples of 10 s
-- (query::buildAggregate). Retention removes its rows with the minute rollups.
--
-- Rows already stored are counted into it here, with writes to logs held off (SHARE lock) so
-- that no batch lands between the count and the first writer that maintains the table: the
-- migration takes as long as one scan of logs.
CREATE TABLE log_rollup_10s (
    bucket bigint NOT NULL,
    app text NOT NULL,
    level smallint NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (bucket, app, level)
) WITH (fillfactor = 60);

LOCK TABLE logs IN SHARE MODE;
INSERT INTO log_rollup_10s (bucket, app, level, count)
SELECT ts - ts % 10000000000, app, level, count(*)
FROM logs
GROUP BY 1, 2, 3;
