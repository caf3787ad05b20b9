-- Items stored or changed since story processing last looked at them. Story processing reads
-- its pending items from here instead of scanning every item, and drains it when every story
-- has seen them; an item queued again (changed before it was looked at) gets a new seq.
--
-- An item that is no longer queued and has no story_items row for a story was looked at and
-- found to hold nothing of it (most items of a busy install): no row is kept for those.
CREATE TABLE story_queue (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id     INTEGER NOT NULL UNIQUE,
    -- Set when, at ingest, no story in the screen with this key could have taken the item:
    -- then its text need not be read back to decide it.
    quiet_under INTEGER
);

-- Whatever was stored before this table existed is looked at once more.
INSERT INTO story_queue (item_id) SELECT id FROM items;
