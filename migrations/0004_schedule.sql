-- The digest schedule's memory: the last fire time handled per story, so missed runs are
-- caught up once after downtime (not once per missed tick), and a fresh install does not
-- send an old week on its first start.
CREATE TABLE digest_runs (
    story_id     TEXT PRIMARY KEY,
    last_fire_at INTEGER NOT NULL
);

-- Items per week on a story (the digest's chart) without reading the items themselves.
CREATE INDEX story_items_relevant_at ON story_items (story_id, relevant, at);
