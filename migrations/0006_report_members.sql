-- Event members, for a week's report, which reads only the members its week shows and the
-- first few of each event (its first report and headline). Without these it read every
-- member row, and its item, up to the week's end. Partial: event members are a small share
-- of the decisions.

-- The first members of each event: an event's members in time order.
CREATE INDEX story_items_event_at ON story_items (story_id, event_id, at, item_id)
    WHERE event_id IS NOT NULL;

-- The members counted in a week.
CREATE INDEX story_items_member_at ON story_items (story_id, at, item_id)
    WHERE event_id IS NOT NULL;
