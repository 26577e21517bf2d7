-- The app scope a saved query was saved under: the saving token's apps (NULL = every app).
-- A shared query is visible to, and changed by, only the tokens whose scope covers it: an
-- unscoped token sees every shared query; a token scoped to apps A sees the shared queries
-- saved under a non-empty subset of A. Queries saved before this migration were saved by
-- tokens of any scope: they are kept unscoped (visible to unscoped tokens and their owner).
ALTER TABLE saved_queries ADD COLUMN apps text[];
