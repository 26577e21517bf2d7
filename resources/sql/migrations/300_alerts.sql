-- 300_alerts: alert rules on the logs, their per-series state, the history of state changes
-- and the notification outbox (docs/alerts.md). Evaluated by idl-alerter.
--
-- alert_rules: like saved_queries (200, 201): owner is the token's name; private rules are
-- visible to their owner only, shared ones to the tokens whose app scope covers `apps` (the
-- saving token's apps, NULL = every app). The rule only ever counts events of `apps`.
-- condition: 'above' (count > threshold), 'below' (count < threshold), 'absent' (no event at
-- all in the window). group_by '' = one series, 'app' / 'host' = one series per value.
-- for_ms: the condition holds this long (pending) before the series fires. resolve_ms: a
-- firing series resolves once the condition has been false this long (0: at the first
-- evaluation where it is false). targets: [{"kind":"webhook"|"slack","url":"http(s)://..."}].
-- next_eval_at: when the rule is due; an evaluator claims due rules with FOR UPDATE SKIP
-- LOCKED and moves next_eval_at in the transaction that stores what it found.
CREATE TABLE alert_rules (
    uuid uuid PRIMARY KEY,
    owner text NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    query text NOT NULL CHECK (octet_length(query) <= 4096),
    window_ms bigint NOT NULL CHECK (window_ms BETWEEN 1000 AND 604800000),
    condition text NOT NULL CHECK (condition IN ('above', 'below', 'absent')),
    threshold bigint NOT NULL DEFAULT 0 CHECK (threshold >= 0),
    group_by text NOT NULL DEFAULT '' CHECK (group_by IN ('', 'app', 'host')),
    interval_ms bigint NOT NULL CHECK (interval_ms BETWEEN 1000 AND 86400000),
    for_ms bigint NOT NULL DEFAULT 0 CHECK (for_ms BETWEEN 0 AND 604800000),
    resolve_ms bigint NOT NULL DEFAULT 0 CHECK (resolve_ms BETWEEN 0 AND 604800000),
    severity text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    targets jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(targets) = 'array'
                                              AND octet_length(targets::text) <= 16384),
    enabled boolean NOT NULL DEFAULT true,
    shared boolean NOT NULL DEFAULT false,
    apps text[],
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    next_eval_at timestamptz NOT NULL DEFAULT now(),
    last_eval_at timestamptz,
    last_error text
);
CREATE INDEX alert_rules_due ON alert_rules (next_eval_at) WHERE enabled;
CREATE INDEX alert_rules_owner ON alert_rules (owner, name);

-- alert_series: the state of each series of a rule ('' when the rule has no group_by).
-- since: when the series entered its state; clear_since: when the condition last became
-- false while firing (for resolve_ms). Written only by the evaluator holding the rule's lock.
CREATE TABLE alert_series (
    rule uuid NOT NULL REFERENCES alert_rules (uuid) ON DELETE CASCADE,
    series text NOT NULL,
    state text NOT NULL CHECK (state IN ('ok', 'pending', 'firing')),
    since timestamptz NOT NULL,
    clear_since timestamptz,
    value bigint NOT NULL,
    evaluated_at timestamptz NOT NULL,
    PRIMARY KEY (rule, series)
);
CREATE INDEX alert_series_active ON alert_series (rule) WHERE state <> 'ok';

-- alert_history: one row per state change of a series, written in the same transaction as
-- the new state. to_state 'ok' after 'firing' is a resolution.
CREATE TABLE alert_history (
    id bigserial PRIMARY KEY,
    rule uuid NOT NULL REFERENCES alert_rules (uuid) ON DELETE CASCADE,
    series text NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    value bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_history_rule ON alert_history (rule, id);

-- alert_notifications: the outbox. One row per (transition to or from firing, target),
-- written in the transition's transaction; a sender claims due rows with FOR UPDATE SKIP
-- LOCKED, posts them and records the outcome (delivered, or a retry at next_attempt_at with
-- exponential back-off, or failed after the last attempt).
CREATE TABLE alert_notifications (
    id bigserial PRIMARY KEY,
    history_id bigint NOT NULL REFERENCES alert_history (id) ON DELETE CASCADE,
    rule uuid NOT NULL REFERENCES alert_rules (uuid) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('webhook', 'slack')),
    url text NOT NULL,
    payload text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status int,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (history_id, kind, url)
);
CREATE INDEX alert_notifications_due ON alert_notifications (next_attempt_at)
    WHERE status = 'pending';
