-- When readers are told: an item counts for the week it happened in (`at`), unless that
-- week's digest was already cut when the item first reached the store (a feed down for a week,
-- a page found late). Then it shows in the first digest cut after it arrived: `shown_at` is
-- the start of that week (see story::shown). Reports of a week read members by `shown_at`.
ALTER TABLE story_items ADD COLUMN shown_at INTEGER;
UPDATE story_items SET shown_at = at;

-- When each week's digest of a story was first cut (composed in any format). Weeks are
-- stored as their bounds, so reading them needs no time zone.
CREATE TABLE story_cuts (
    story_id   TEXT NOT NULL,
    week_start INTEGER NOT NULL,
    week_end   INTEGER NOT NULL,
    cut_at     INTEGER NOT NULL,
    PRIMARY KEY (story_id, week_start)
);

-- The members a week shows, by when they are shown.
DROP INDEX IF EXISTS story_items_member_at;
CREATE INDEX story_items_member_shown ON story_items (story_id, shown_at, item_id)
    WHERE event_id IS NOT NULL;

-- Why an item joined its event, for `storyline explain`: the event words it shares (joined
-- for its words) or the page it shares (joined for a link), space-separated.
ALTER TABLE story_items ADD COLUMN shared TEXT;

