//! Story tables: relevance decisions, events and their members, page updates, and the fetch
//! marks that date undated items.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{to_ts, ItemRow, Result, Store};

/// Item columns prefixed for joins, in [`ItemRow`] order.
macro_rules! item_columns_i {
    () => {
        "i.id, i.source_id, i.guid, i.url, i.canonical_url, i.title, i.summary, i.content, \
         i.author, i.outlet_name, i.outlet_url, i.published_at, i.first_seen_at, i.updated_at, \
         i.change_note, i.content_hash, i.parent_guid, i.points, i.comments, i.discussion_url"
    };
}

/// An item that has no decision for a story yet, or whose content changed since.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingItem {
    #[sqlx(flatten)]
    pub item: ItemRow,
    pub source_kind: Option<String>,
    /// The earlier decision, when there is one.
    pub prev_relevant: Option<bool>,
    pub prev_event: Option<String>,
    pub prev_at: Option<i64>,
}

/// The two latest fetch times of a source, as story processing saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchMarks {
    pub last: i64,
    pub prev: Option<i64>,
}

/// An item in an event, with what clustering needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub item_id: i64,
    /// How it joined its event (`Join::kind`).
    pub joined: Option<String>,
    pub source_id: String,
    pub title: Option<String>,
    pub at: i64,
    pub terms: String,
    pub event_id: String,
    pub first_at: i64,
    pub last_at: i64,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub discussion_url: Option<String>,
    pub guid: String,
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DecisionRow {
    pub story_id: String,
    pub item_id: i64,
    pub relevant: bool,
    pub score: f64,
    pub reason: String,
    pub summary: String,
    pub at: i64,
    /// When readers are told of it (see migrations/0008_story_shown.sql).
    pub shown_at: i64,
    pub seen_hash: String,
    pub terms: String,
    pub event_id: Option<String>,
    pub joined: Option<String>,
    pub peer_item: Option<i64>,
    pub similarity: Option<f64>,
    /// The event words (or the page) it shares with its event, space-separated.
    pub shared: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub story_id: String,
    pub event_id: String,
    pub founder_item: i64,
    pub first_at: i64,
    pub last_at: i64,
    pub headline: String,
}

/// A week whose digest was cut: `[week_start, week_end)` and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Cut {
    pub week_start: i64,
    pub week_end: i64,
    pub cut_at: i64,
}

/// A story item whose content changed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UpdateRow {
    pub story_id: String,
    pub item_id: i64,
    pub event_id: String,
    pub updated_at: i64,
    pub at: i64,
    pub note: Option<String>,
}

/// A decided item whose content changed and stays where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    pub story_id: String,
    pub item_id: i64,
    pub seen_hash: String,
    pub summary: String,
    pub terms: String,
}

/// Everything one round of story processing writes, written at once.
#[derive(Debug, Clone, Default)]
pub struct StoryBatch {
    pub decisions: Vec<DecisionRow>,
    pub refreshes: Vec<Refresh>,
    pub events: Vec<EventRow>,
    pub updates: Vec<UpdateRow>,
}

/// An event member with the item fields a report shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportMember {
    pub event_id: String,
    pub at: i64,
    pub terms: String,
    #[sqlx(flatten)]
    pub item: ItemRow,
}

/// An event member with just what choosing the event's headline looks at.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeadlineMember {
    pub event_id: String,
    pub at: i64,
    pub shown_at: i64,
    pub terms: String,
    pub item_id: i64,
    pub guid: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub outlet_name: Option<String>,
    pub parent_guid: Option<String>,
    pub points: Option<i64>,
    pub comments: Option<i64>,
    pub discussion_url: Option<String>,
}

/// The columns of a [`PendingItem`]. An undecided item that the ingest screen found quiet
/// under key ?3 (see `migrations/0005_story_queue.sql`) comes without its text: nothing in it
/// can make it the story's, and not reading it back is most of the cost of a big round.
macro_rules! pending_columns {
    () => {
        "SELECT i.id, i.source_id, i.guid, i.url, i.canonical_url, i.title, \
         CASE WHEN si.item_id IS NULL AND q.quiet_under = ?3 THEN NULL ELSE i.summary END \
             AS summary, \
         CASE WHEN si.item_id IS NULL AND q.quiet_under = ?3 THEN NULL ELSE i.content END \
             AS content, \
         i.author, i.outlet_name, i.outlet_url, i.published_at, i.first_seen_at, i.updated_at, \
         i.change_note, i.content_hash, i.parent_guid, i.points, i.comments, i.discussion_url, \
         s.kind AS source_kind, si.relevant AS prev_relevant, si.event_id AS prev_event, \
         si.at AS prev_at "
    };
}

/// Every item with no decision for story ?1 yet, or whose content changed since it.
const PENDING_ITEMS: &str = concat!(
    pending_columns!(),
    "FROM items i LEFT JOIN story_queue q ON q.item_id = i.id AND q.seq <= ?2 \
     LEFT JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
     LEFT JOIN sources s ON s.id = i.source_id \
     WHERE si.item_id IS NULL OR si.seen_hash != i.content_hash ORDER BY i.id"
);

/// As [`PENDING_ITEMS`], of the items queued up to seq ?2 only.
const QUEUED_ITEMS: &str = concat!(
    pending_columns!(),
    "FROM story_queue q JOIN items i ON i.id = q.item_id \
     LEFT JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
     LEFT JOIN sources s ON s.id = i.source_id \
     WHERE q.seq <= ?2 AND (si.item_id IS NULL OR si.seen_hash != i.content_hash) \
     ORDER BY i.id"
);

/// Which items a story looks at in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// Every item without a current decision (the story is new or its definition changed),
    /// not just the queued ones.
    pub all: bool,
    /// The last queue seq this round looks at (see [`Store::story_queue_end`]).
    pub upto: Option<i64>,
    /// The current story screen's key: quiet marks under another key are not trusted.
    pub quiet_key: i64,
}

/// Event ids per `IN (...)` list.
const EVENT_BATCH: usize = 500;

/// Decision rows per multi-row INSERT (16 parameters each).
const DECISION_BATCH: usize = 64;

impl Store {
    /// The fingerprint a story's decisions were made under.
    pub async fn story_fingerprint(&self, story_id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT fingerprint FROM story_defs WHERE story_id = ?1")
                .bind(story_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// Forget a story's decisions and events (its definition changed) and record the new
    /// fingerprint, in one transaction.
    pub async fn reset_story(
        &self,
        story_id: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for q in [
            "DELETE FROM story_items WHERE story_id = ?1",
            "DELETE FROM story_events WHERE story_id = ?1",
            "DELETE FROM story_updates WHERE story_id = ?1",
        ] {
            sqlx::query(q).bind(story_id).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO story_defs (story_id, fingerprint, changed_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (story_id) DO UPDATE SET fingerprint = excluded.fingerprint, \
             changed_at = excluded.changed_at",
        )
        .bind(story_id)
        .bind(fingerprint)
        .bind(to_ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Move each source's fetch marks along when it was fetched since the last look, and
    /// return them all.
    pub async fn sync_fetch_marks(&self) -> Result<HashMap<String, FetchMarks>> {
        sqlx::query(
            "INSERT INTO story_fetches (source_id, last_fetch_at, prev_fetch_at) \
             SELECT id, last_fetch_at, NULL FROM sources WHERE last_fetch_at IS NOT NULL \
             ON CONFLICT (source_id) DO UPDATE SET \
                 prev_fetch_at = story_fetches.last_fetch_at, \
                 last_fetch_at = excluded.last_fetch_at \
             WHERE excluded.last_fetch_at != story_fetches.last_fetch_at",
        )
        .execute(&self.pool)
        .await?;
        let rows: Vec<(String, i64, Option<i64>)> =
            sqlx::query_as("SELECT source_id, last_fetch_at, prev_fetch_at FROM story_fetches")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(s, last, prev)| (s, FetchMarks { last, prev }))
            .collect())
    }

    /// Items without a decision for the story, or changed since theirs, oldest first, one row
    /// at a time, so a caller can keep only what it needs of each (a first round over a big
    /// install holds every item otherwise).
    pub fn pending_story_items_stream<'a>(
        &'a self,
        story_id: &'a str,
        which: Pending,
    ) -> futures_util::stream::BoxStream<'a, Result<PendingItem>> {
        use futures_util::StreamExt as _;
        let q = if which.all {
            PENDING_ITEMS
        } else {
            QUEUED_ITEMS
        };
        let rows = sqlx::query_as(q)
            .bind(story_id)
            .bind(which.upto.unwrap_or(-1))
            .bind(which.quiet_key)
            .fetch(&self.pool);
        rows.map(|r| r.map_err(super::StoreError::from)).boxed()
    }

    /// The last seq in the story queue, if anything is queued.
    pub async fn story_queue_end(&self) -> Result<Option<i64>> {
        let (end,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM story_queue")
            .fetch_one(&self.pool)
            .await?;
        Ok(end)
    }

    /// Is the item waiting for story processing to look at it?
    pub async fn is_queued(&self, item_id: i64) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT seq FROM story_queue WHERE item_id = ?1")
            .bind(item_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Forget queue entries up to `upto`: every story has looked at them. Entries queued
    /// since (a new item, or one changed again) have a higher seq and stay.
    ///
    /// `keep` are items a story holds back for a later round (a report too young to place):
    /// they stay queued, so they are looked at again and never counted as decided.
    pub async fn drain_story_queue(&self, upto: i64, keep: &[i64]) -> Result<()> {
        let mut q =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("DELETE FROM story_queue WHERE seq <= ");
        q.push_bind(upto);
        if !keep.is_empty() {
            q.push(" AND item_id NOT IN (");
            let mut ids = q.separated(", ");
            for id in keep {
                ids.push_bind(id);
            }
            q.push(")");
        }
        q.build().execute(&self.pool).await?;
        Ok(())
    }

    /// The weeks of a story whose digest has been cut, and when, oldest first.
    pub async fn story_cuts(&self, story_id: &str) -> Result<Vec<Cut>> {
        Ok(sqlx::query_as(
            "SELECT week_start, week_end, cut_at FROM story_cuts WHERE story_id = ?1 \
             ORDER BY week_start",
        )
        .bind(story_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Record that the digest of the week `[start, end)` is cut at `at`, unless it was cut
    /// before: what reaches the store later shows in a later week.
    pub async fn record_story_cut(
        &self,
        story_id: &str,
        start: i64,
        end: i64,
        at: i64,
    ) -> Result<Cut> {
        sqlx::query(
            "INSERT OR IGNORE INTO story_cuts (story_id, week_start, week_end, cut_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(story_id)
        .bind(start)
        .bind(end)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_as(
            "SELECT week_start, week_end, cut_at FROM story_cuts \
             WHERE story_id = ?1 AND week_start = ?2",
        )
        .bind(story_id)
        .bind(start)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The latest members of `source_id` in the story's events, newest first (a release
    /// series continues in the event of its previous release).
    pub async fn story_source_members(
        &self,
        story_id: &str,
        source_id: &str,
        limit: i64,
    ) -> Result<Vec<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT si.item_id, si.joined, i.source_id, i.title, si.at, si.terms, si.event_id, \
                    e.first_at, e.last_at, i.url, i.canonical_url, i.discussion_url, i.guid \
             FROM items i \
             JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
             JOIN story_events e ON e.story_id = si.story_id AND e.event_id = si.event_id \
             WHERE i.source_id = ?2 ORDER BY si.at DESC, si.item_id DESC LIMIT ?3",
        )
        .bind(story_id)
        .bind(source_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Clustering words of every relevant item of the story (for document frequencies).
    ///
    /// One row at a time: a broad story has as many members as items, and only their counts
    /// are kept.
    pub fn story_terms<'a>(
        &'a self,
        story_id: &'a str,
    ) -> futures_util::stream::BoxStream<'a, Result<String>> {
        use futures_util::StreamExt as _;
        sqlx::query_as::<_, (String,)>(
            "SELECT terms FROM story_items WHERE story_id = ?1 AND relevant = 1 \
             AND event_id IS NOT NULL",
        )
        .bind(story_id)
        .fetch(&self.pool)
        .map(|r| r.map(|(t,)| t).map_err(super::StoreError::from))
        .boxed()
    }

    /// Members of the story's events that were still active at `since` or later: of the
    /// `events` most recently active at most.
    pub async fn story_members_since(
        &self,
        story_id: &str,
        since: i64,
        events: i64,
    ) -> Result<Vec<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT si.item_id, si.joined, i.source_id, i.title, si.at, si.terms, si.event_id, \
                    e.first_at, e.last_at, i.url, i.canonical_url, i.discussion_url, i.guid \
             FROM story_events e \
             JOIN story_items si ON si.story_id = e.story_id AND si.event_id = e.event_id \
             JOIN items i ON i.id = si.item_id \
             WHERE e.story_id = ?1 AND e.event_id IN (SELECT event_id FROM story_events \
                   WHERE story_id = ?1 AND last_at >= ?2 ORDER BY last_at DESC LIMIT ?3) \
             ORDER BY si.at, si.item_id",
        )
        .bind(story_id)
        .bind(since)
        .bind(events)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A story item (in an event) whose page is `url`, with its event.
    pub async fn story_member_by_page(
        &self,
        story_id: &str,
        url: &str,
    ) -> Result<Option<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT si.item_id, si.joined, i.source_id, i.title, si.at, si.terms, si.event_id, \
                    e.first_at, e.last_at, i.url, i.canonical_url, i.discussion_url, i.guid \
             FROM items i \
             JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
             JOIN story_events e ON e.story_id = si.story_id AND e.event_id = si.event_id \
             WHERE i.canonical_url = ?2 ORDER BY si.at LIMIT 1",
        )
        .bind(story_id)
        .bind(url)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Which of these page keys (canonical URLs) are pages of the story's event members.
    pub async fn story_member_pages_among(
        &self,
        story_id: &str,
        keys: &[&str],
    ) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in keys.chunks(EVENT_BATCH) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT DISTINCT i.canonical_url FROM items i \
                 JOIN story_items si ON si.item_id = i.id AND si.story_id = ",
            );
            q.push_bind(story_id)
                .push(" WHERE si.event_id IS NOT NULL AND i.canonical_url IN (");
            let mut list = q.separated(", ");
            for k in chunk {
                list.push_bind(*k);
            }
            q.push(")");
            let rows: Vec<(String,)> = q.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(|(u,)| u));
        }
        Ok(out)
    }

    /// A story item (in an event) of `source_id` with this guid (a comment's parent).
    pub async fn story_member_by_guid(
        &self,
        story_id: &str,
        source_id: &str,
        guid: &str,
    ) -> Result<Option<MemberRow>> {
        Ok(sqlx::query_as(
            "SELECT si.item_id, si.joined, i.source_id, i.title, si.at, si.terms, si.event_id, \
                    e.first_at, e.last_at, i.url, i.canonical_url, i.discussion_url, i.guid \
             FROM items i \
             JOIN story_items si ON si.item_id = i.id AND si.story_id = ?1 \
             JOIN story_events e ON e.story_id = si.story_id AND e.event_id = si.event_id \
             WHERE i.source_id = ?2 AND i.guid = ?3 LIMIT 1",
        )
        .bind(story_id)
        .bind(source_id)
        .bind(guid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Members of the given events with their items, grouped by event, oldest first within
    /// each.
    pub async fn story_event_members(
        &self,
        story_id: &str,
        event_ids: &[String],
    ) -> Result<Vec<ReportMember>> {
        let mut out = Vec::new();
        // A round can touch thousands of events: many per statement, not one each.
        for chunk in event_ids.chunks(EVENT_BATCH) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
                "SELECT si.event_id, si.at, si.terms, ",
                item_columns_i!(),
                " FROM story_items si JOIN items i ON i.id = si.item_id WHERE si.story_id = "
            ));
            q.push_bind(story_id).push(" AND si.event_id IN (");
            let mut ids = q.separated(", ");
            for id in chunk {
                ids.push_bind(id);
            }
            q.push(") ORDER BY si.event_id, si.at, i.id");
            out.extend(
                q.build_query_as::<ReportMember>()
                    .fetch_all(&self.pool)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The first `per_event` members (by time, then item) of each of these events, narrow:
    /// what choosing a headline reads.
    pub async fn story_event_heads(
        &self,
        story_id: &str,
        event_ids: &[String],
        per_event: usize,
    ) -> Result<Vec<HeadlineMember>> {
        let mut out = Vec::new();
        for chunk in event_ids.chunks(EVENT_BATCH) {
            // Per event, the first entries of its member index and no more (a subquery
            // correlated with each member would read an event's members once per member).
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("WITH e(event_id) AS (VALUES ");
            let mut ids = q.separated(", ");
            for id in chunk {
                ids.push("(")
                    .push_bind_unseparated(id)
                    .push_unseparated(")");
            }
            q.push(
                ") SELECT si.event_id, si.at, COALESCE(si.shown_at, si.at) AS shown_at, \
                        si.terms, si.item_id, i.guid, i.url, i.title, i.outlet_name, \
                        i.parent_guid, i.points, i.comments, i.discussion_url \
                 FROM e JOIN story_items si ON si.rowid IN (SELECT f.rowid FROM story_items f \
                     WHERE f.story_id = ",
            );
            q.push_bind(story_id)
                .push(" AND f.event_id = e.event_id ORDER BY f.at, f.item_id LIMIT ")
                .push_bind(i64::try_from(per_event).unwrap_or(i64::MAX))
                .push(") JOIN items i ON i.id = si.item_id");
            q.push(" ORDER BY si.event_id, si.at, si.item_id");
            out.extend(
                q.build_query_as::<HeadlineMember>()
                    .fetch_all(&self.pool)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The founding item of each of these events that the store has.
    pub async fn story_event_founders(
        &self,
        story_id: &str,
        event_ids: &[String],
    ) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::new();
        for chunk in event_ids.chunks(EVENT_BATCH) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT event_id, founder_item FROM story_events WHERE story_id = ",
            );
            q.push_bind(story_id).push(" AND event_id IN (");
            let mut ids = q.separated(", ");
            for id in chunk {
                ids.push_bind(id);
            }
            q.push(")");
            let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// The first `per_event` members (by time, then item) of each of the story's events among
    /// those counted before `until`, oldest first.
    pub async fn story_first_members(
        &self,
        story_id: &str,
        until: i64,
        per_event: usize,
    ) -> Result<Vec<HeadlineMember>> {
        // Per event, the ranking reads its first entries of the member index and stops; rows
        // and items are looked up only for the members it keeps, by the rowid the index
        // holds (the (story, item) key would cost a second B-tree search per member).
        const Q: &str = "SELECT si.event_id, si.at, COALESCE(si.shown_at, si.at) AS shown_at, \
                    si.terms, si.item_id, i.guid, i.url, i.title, \
                    i.outlet_name, i.parent_guid, i.points, i.comments, i.discussion_url \
             FROM (SELECT DISTINCT event_id FROM story_items \
                   WHERE story_id = ?1 AND event_id IS NOT NULL) e \
             JOIN story_items si ON si.rowid IN \
                  (SELECT f.rowid FROM story_items f \
                   WHERE f.story_id = ?1 AND f.event_id = e.event_id AND f.shown_at < ?2 \
                   ORDER BY f.at, f.item_id LIMIT ?3) \
             JOIN items i ON i.id = si.item_id \
             ORDER BY si.at, si.item_id";
        Ok(sqlx::query_as(Q)
            .bind(story_id)
            .bind(until)
            .bind(i64::try_from(per_event).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?)
    }

    /// The members a period `[from, until)` shows, with their items, oldest first: those
    /// counted in it, and older ones whose page changed in it.
    pub async fn story_period_members(
        &self,
        story_id: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<ReportMember>> {
        const Q: &str = concat!(
            "SELECT si.event_id, si.at, si.terms, ",
            item_columns_i!(),
            " FROM story_items si JOIN items i ON i.id = si.item_id \
             WHERE si.story_id = ?1 AND si.event_id IS NOT NULL AND si.shown_at < ?3 \
               AND (si.shown_at >= ?2 OR si.item_id IN (SELECT item_id FROM story_updates \
                    WHERE story_id = ?1 AND at >= ?2 AND at < ?3)) \
             ORDER BY si.at, i.id"
        );
        Ok(sqlx::query_as(Q)
            .bind(story_id)
            .bind(from)
            .bind(until)
            .fetch_all(&self.pool)
            .await?)
    }

    /// When each relevant item of the story counts, for items counted in `[from, until)`.
    pub async fn story_item_times(
        &self,
        story_id: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT at FROM story_items \
             WHERE story_id = ?1 AND relevant = 1 AND at >= ?2 AND at < ?3",
        )
        .bind(story_id)
        .bind(from)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Page updates of the story's items counted in `[from, until)`.
    pub async fn story_updates_between(
        &self,
        story_id: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<UpdateRow>> {
        Ok(sqlx::query_as(
            "SELECT story_id, item_id, event_id, updated_at, at, note FROM story_updates \
             WHERE story_id = ?1 AND at >= ?2 AND at < ?3 ORDER BY at, item_id",
        )
        .bind(story_id)
        .bind(from)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every story's decision about one item.
    pub async fn story_decisions_of(&self, item_id: i64) -> Result<Vec<DecisionRow>> {
        Ok(sqlx::query_as(
            "SELECT story_id, item_id, relevant, score, reason, summary, at, \
                    COALESCE(shown_at, at) AS shown_at, seen_hash, terms, \
                    event_id, joined, peer_item, similarity, shared \
             FROM story_items WHERE item_id = ?1 ORDER BY story_id",
        )
        .bind(item_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One event.
    pub async fn story_event(&self, story_id: &str, event_id: &str) -> Result<EventRow> {
        Ok(sqlx::query_as(
            "SELECT story_id, event_id, founder_item, first_at, last_at, headline \
             FROM story_events WHERE story_id = ?1 AND event_id = ?2",
        )
        .bind(story_id)
        .bind(event_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Write one round's decisions, events and updates in a single transaction: a crash
    /// leaves all of it or none, and the undecided items are simply decided again.
    pub async fn save_story_batch(&self, b: &StoryBatch, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // Many rows per statement: each statement is a round trip to sqlx's SQLite thread.
        for chunk in b.decisions.chunks(DECISION_BATCH) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO story_items (story_id, item_id, relevant, score, reason, summary, \
                     at, shown_at, seen_hash, terms, event_id, joined, peer_item, similarity, \
                     shared, decided_at) ",
            );
            q.push_values(chunk, |mut row, d| {
                row.push_bind(&d.story_id)
                    .push_bind(d.item_id)
                    .push_bind(d.relevant)
                    .push_bind(d.score)
                    .push_bind(&d.reason)
                    .push_bind(&d.summary)
                    .push_bind(d.at)
                    .push_bind(d.shown_at)
                    .push_bind(&d.seen_hash)
                    .push_bind(&d.terms)
                    .push_bind(&d.event_id)
                    .push_bind(&d.joined)
                    .push_bind(d.peer_item)
                    .push_bind(d.similarity)
                    .push_bind(&d.shared)
                    .push_bind(to_ts(now));
            });
            q.push(
                " ON CONFLICT (story_id, item_id) DO UPDATE SET relevant = excluded.relevant, \
                     score = excluded.score, reason = excluded.reason, \
                     summary = excluded.summary, at = excluded.at, \
                     shown_at = excluded.shown_at, \
                     seen_hash = excluded.seen_hash, terms = excluded.terms, \
                     event_id = excluded.event_id, joined = excluded.joined, \
                     peer_item = excluded.peer_item, similarity = excluded.similarity, \
                     shared = excluded.shared, \
                     decided_at = excluded.decided_at",
            );
            q.build().execute(&mut *tx).await?;
        }
        for r in &b.refreshes {
            sqlx::query(
                "UPDATE story_items SET seen_hash = ?2, summary = ?3, terms = ?4, \
                 decided_at = ?5 WHERE item_id = ?1 AND story_id = ?6",
            )
            .bind(r.item_id)
            .bind(&r.seen_hash)
            .bind(&r.summary)
            .bind(&r.terms)
            .bind(to_ts(now))
            .bind(&r.story_id)
            .execute(&mut *tx)
            .await?;
        }
        for e in &b.events {
            sqlx::query(
                "INSERT INTO story_events (story_id, event_id, founder_item, first_at, last_at, \
                     headline, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (story_id, event_id) DO UPDATE SET first_at = excluded.first_at, \
                     last_at = excluded.last_at, headline = excluded.headline",
            )
            .bind(&e.story_id)
            .bind(&e.event_id)
            .bind(e.founder_item)
            .bind(e.first_at)
            .bind(e.last_at)
            .bind(&e.headline)
            .bind(to_ts(now))
            .execute(&mut *tx)
            .await?;
        }
        for u in &b.updates {
            sqlx::query(
                "INSERT OR IGNORE INTO story_updates (story_id, item_id, event_id, updated_at, \
                     at, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(&u.story_id)
            .bind(u.item_id)
            .bind(&u.event_id)
            .bind(u.updated_at)
            .bind(u.at)
            .bind(&u.note)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
