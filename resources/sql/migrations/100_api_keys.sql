-- 100_api_keys: ingestion API keys of the collector (see docs/security.md).
-- A key is "idl_<prefix>_<secret>"; only its SHA-256 is stored. The prefix is public and is
-- the lookup id. app NULL = the key may send events for any app; otherwise only for that app.
-- Revocation sets revoked_at; collectors notice it within their key cache TTL.
CREATE TABLE api_keys (
    prefix text PRIMARY KEY CHECK (prefix ~ '^[a-z0-9]{12}$'),
    key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
    name text NOT NULL DEFAULT '',
    app text,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_name ON api_keys (name);
