-- Sources and their fetch state; items and their identity.
-- Times are INTEGER unix seconds (UTC).

CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL,
    -- URL as configured; `url` is where we fetch now (a permanent redirect moves it).
    config_url           TEXT NOT NULL,
    url                  TEXT NOT NULL,
    title                TEXT,
    origin               TEXT NOT NULL DEFAULT 'config',
    enabled              INTEGER NOT NULL DEFAULT 1,
    poll                 INTEGER NOT NULL DEFAULT 1,
    interval_secs        INTEGER NOT NULL,
    note                 TEXT,
    etag                 TEXT,
    last_modified        TEXT,
    last_fetch_at        INTEGER,
    last_success_at      INTEGER,
    last_status          TEXT,
    last_http_status     INTEGER,
    last_error           TEXT,
    failing_since        INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_due_at          INTEGER NOT NULL DEFAULT 0,
    disabled_reason      TEXT,
    flagged              TEXT,
    created_at           INTEGER NOT NULL
);

CREATE TABLE items (
    id             INTEGER PRIMARY KEY,
    source_id      TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    guid           TEXT NOT NULL,
    url            TEXT,
    canonical_url  TEXT,
    title          TEXT,
    summary        TEXT,
    content        TEXT,
    author         TEXT,
    outlet_name    TEXT,
    outlet_url     TEXT,
    published_at   INTEGER,
    first_seen_at  INTEGER NOT NULL,
    updated_at     INTEGER,
    change_note    TEXT,
    content_hash   TEXT NOT NULL,
    parent_guid    TEXT,
    points         INTEGER,
    comments       INTEGER,
    discussion_url TEXT,
    UNIQUE (source_id, guid)
);

CREATE INDEX items_published_at ON items (published_at);
CREATE INDEX items_first_seen_at ON items (first_seen_at);
CREATE INDEX items_canonical_url ON items (canonical_url);
