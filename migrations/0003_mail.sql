-- Mail: subscribers and the story lists they are on, each week's digest stored once, and the
-- outbox of deliveries (one per digest and subscriber). Times are INTEGER unix seconds (UTC).

CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at      INTEGER NOT NULL,
    -- When the last confirmation mail went out: an address gets at most one per interval.
    confirm_sent_at INTEGER
);

-- One row per (subscriber, story list). Unsubscribing keeps the row (state) so an operator
-- can see who left; `storyline subscribers remove` deletes the subscriber and everything below.
CREATE TABLE subscriptions (
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    story_id        TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
    origin          TEXT NOT NULL CHECK (origin IN ('operator', 'web')),
    created_at      INTEGER NOT NULL,
    confirmed_at    INTEGER,
    unsubscribed_at INTEGER,
    PRIMARY KEY (subscriber_id, story_id)
);

CREATE INDEX subscriptions_story_state ON subscriptions (story_id, state);

-- The rendered digest, once per (story, week); every subscriber's message is built from this
-- row at send time, so a resend after a crash is the same message.
CREATE TABLE digests (
    id          INTEGER PRIMARY KEY,
    story_id    TEXT NOT NULL,
    week        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text        TEXT NOT NULL,
    html        TEXT NOT NULL,
    chart_png   BLOB,
    composed_at INTEGER NOT NULL,
    UNIQUE (story_id, week)
);

-- pending -> sending -> sent | failed; `sending` found at start-up means the outcome is unknown
-- (a crash mid-send): it goes back to pending and is resent with the same Message-ID.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    digest_id       INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_reply      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (digest_id, subscriber_id)
);

CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
