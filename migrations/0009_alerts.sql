-- Alerts: a push when a story moves (`[[alert]]` in the config). Times are INTEGER unix
-- seconds (UTC).

-- When each configured alert was first seen. Developments decided before it never alert, so
-- adding an alert to a running install does not replay the story's history.
CREATE TABLE alert_marks (
    alert_id  TEXT PRIMARY KEY,
    story_id  TEXT NOT NULL,
    since     INTEGER NOT NULL
);

-- The alert outbox: one row per (alert, subject), written in the transaction that decides to
-- alert, so a development alerts once however often it is reported or the process restarts.
-- `subject` is `event` for a new development, `update:<item id>:<updated_at>` for a page
-- update of one.
--
-- pending -> sending -> sent | failed. A row is claimed by one process (`owner`) until
-- `lease_until`; a `sending` row whose lease ran out (its sender died mid-send) is claimed
-- again and resent with the same idempotency key and the same body, so receivers can fold
-- the two.
CREATE TABLE alert_deliveries (
    id              INTEGER PRIMARY KEY,
    alert_id        TEXT NOT NULL,
    story_id        TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    -- What the alert says, fixed when it is decided (JSON; alert::Payload).
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    owner           TEXT,
    lease_until     INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status     INTEGER,
    last_reply      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (alert_id, event_id, subject)
);

CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at);
