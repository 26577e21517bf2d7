-- 200_gateway: query gateway objects (see docs/protocol.md).
--
-- gateway_tokens: access tokens of console users and scripts. A token is
-- "idt_<prefix>_<secret>"; only SHA-256 of the whole text is stored, the 12-character prefix
-- is the public lookup id. role: viewer < editor < admin. apps NULL = every app, otherwise
-- the token only ever sees these apps. Revocation sets revoked_at.
CREATE TABLE gateway_tokens (
    prefix text PRIMARY KEY CHECK (prefix ~ '^[a-z0-9]{12}$'),
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    apps text[],
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX gateway_tokens_name ON gateway_tokens (name);

-- saved_queries: named queries with a time range as the user wrote it ("-1h", RFC 3339, ...).
-- owner is the token's name (a user keeps their queries across token rotation). Private ones
-- are visible to their owner only; shared ones to everybody, changed by editors and admins.
CREATE TABLE saved_queries (
    uuid uuid PRIMARY KEY,
    owner text NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    query text NOT NULL CHECK (octet_length(query) <= 4096),
    range_from text NOT NULL DEFAULT '-15m',
    range_to text NOT NULL DEFAULT 'now',
    shared boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saved_queries_owner ON saved_queries (owner, name);
CREATE INDEX saved_queries_shared ON saved_queries (name) WHERE shared;
