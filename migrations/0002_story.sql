-- Stories: relevance decisions per (story, item), events and their members, page updates.
-- Times are INTEGER unix seconds (UTC).

-- The definition each story's stored decisions were made under; a new fingerprint redoes them.
CREATE TABLE story_defs (
    story_id     TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    changed_at   INTEGER NOT NULL
);

-- One decision per story and item. `at` is when the item counts for weeks: published, else
-- an estimate of when it appeared (see story::timing).
CREATE TABLE story_items (
    story_id    TEXT NOT NULL,
    item_id     INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    relevant    INTEGER NOT NULL,
    score       REAL NOT NULL,
    reason      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    -- The item's content hash when decided; a change is looked at again.
    seen_hash   TEXT NOT NULL,
    -- Clustering words, encoded (story::cluster::Terms); empty for irrelevant items.
    terms       TEXT NOT NULL DEFAULT '',
    event_id    TEXT,
    joined      TEXT,
    peer_item   INTEGER,
    similarity  REAL,
    decided_at  INTEGER NOT NULL,
    PRIMARY KEY (story_id, item_id)
);

CREATE INDEX story_items_event ON story_items (story_id, event_id);
CREATE INDEX story_items_item ON story_items (item_id);

CREATE TABLE story_events (
    story_id     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    founder_item INTEGER NOT NULL,
    first_at     INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    headline     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (story_id, event_id)
);

CREATE INDEX story_events_last ON story_events (story_id, last_at);

-- A story item whose content changed (a watched page gaining an update).
CREATE TABLE story_updates (
    story_id    TEXT NOT NULL,
    item_id     INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    note        TEXT,
    PRIMARY KEY (story_id, item_id, updated_at)
);

CREATE INDEX story_updates_at ON story_updates (story_id, at);

-- The two latest fetch times of each source as story processing saw them: an undated item
-- appeared somewhere between the two.
CREATE TABLE story_fetches (
    source_id      TEXT PRIMARY KEY,
    last_fetch_at  INTEGER NOT NULL,
    prev_fetch_at  INTEGER
);
