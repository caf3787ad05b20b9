//! A story's week read for its digest without holding the week: the members it shows stream
//! past one row at a time, grouped by event, and only what the digest lists is read whole.
//! Sorts that cannot follow an index spill to a temporary file (see
//! [`Store::spilling_connection`]), so a week of any size is read in bounded memory.
//!
//! Lookups of an event's members name their index: without statistics SQLite's planner
//! prefers the shown-time index and scans every member shown before the period, once per
//! event (the week report took a second on the render benchmark's database that way); the
//! event index answers from the event's first entries.

use futures_util::TryStreamExt as _;
use sqlx::pool::PoolConnection;
use sqlx::Sqlite;

use super::{Result, Store, StoreError};

pub use sections::{Section, SectionRow};

/// The rowids (`m.rid`) of the story's (?1) members a period [?2, ?3) shows: those shown in
/// it, and older ones whose page changed in it. The two parts are disjoint.
macro_rules! period_members {
    () => {
        "WITH m(rid) AS ( \
             SELECT rowid FROM story_items \
             WHERE story_id = ?1 AND event_id IS NOT NULL AND shown_at >= ?2 AND shown_at < ?3 \
             UNION ALL \
             SELECT DISTINCT si.rowid FROM story_updates u \
             JOIN story_items si ON si.story_id = u.story_id AND si.item_id = u.item_id \
             WHERE u.story_id = ?1 AND u.at >= ?2 AND u.at < ?3 \
               AND si.event_id IS NOT NULL AND si.shown_at < ?2) "
    };
}

/// Whether the event of `si` was shown before the period starts (?2): its members in the
/// period are an update's, not a development's. Shown times are never before item times, so
/// the event index finds the answer at its first entries.
macro_rules! older_event {
    ($si:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM story_items f INDEXED BY story_items_event_at \
                WHERE f.story_id = ?1 AND f.event_id = ",
            $si,
            ".event_id AND f.at < ?2 AND f.shown_at < ?2)"
        )
    };
}

// After the macros, which it uses.
mod sections;

/// A member a period shows, with what its digest reads of it (no text).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WeekMember {
    pub event_id: String,
    pub at: i64,
    pub item_id: i64,
    pub source_id: String,
    pub guid: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub published_at: Option<i64>,
    pub outlet_name: Option<String>,
    pub parent_guid: Option<String>,
    pub points: Option<i64>,
    pub comments: Option<i64>,
    pub discussion_url: Option<String>,
    /// Its event was shown before the period: this is an update's member.
    pub older: bool,
    /// What its page's last change in the period changed, when it changed.
    pub note: Option<String>,
}

/// An event shown before a period, and when it was first reported.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EarlierEvent {
    pub event_id: String,
    pub first_at: i64,
}

impl Store {
    /// A connection whose sorts and temporary tables go to a temporary file rather than
    /// memory (the pool keeps them in memory, which is faster for small ones), so sorting a
    /// big week costs disk, not memory. It is closed when dropped, taking the setting along.
    async fn spilling_connection(&self) -> Result<PoolConnection<Sqlite>> {
        let mut conn = self.pool.acquire().await?;
        conn.close_on_drop();
        sqlx::query("PRAGMA temp_store = FILE")
            .execute(&mut *conn)
            .await?;
        Ok(conn)
    }

    /// Every member the period `[from, until)` of the story shows, grouped by event (events
    /// in id order), each event's members in report order (published, undated last, then
    /// source and guid), handed to `f` one at a time.
    pub async fn each_week_member<E: From<StoreError>>(
        &self,
        story_id: &str,
        (from, until): (i64, i64),
        mut f: impl FnMut(WeekMember) -> Result<(), E>,
    ) -> Result<(), E> {
        const Q: &str = concat!(
            period_members!(),
            "SELECT si.event_id, si.at, si.item_id, i.source_id, i.guid, i.url, i.title, \
                    i.published_at, i.outlet_name, i.parent_guid, i.points, i.comments, \
                    i.discussion_url, ",
            older_event!("si"),
            " AS older, \
                    (SELECT u.note FROM story_updates u \
                     INDEXED BY sqlite_autoindex_story_updates_1 \
                     WHERE u.story_id = ?1 \
                     AND u.item_id = si.item_id AND u.at >= ?2 AND u.at < ?3 \
                     ORDER BY u.at DESC, u.updated_at DESC LIMIT 1) AS note \
             FROM m JOIN story_items si ON si.rowid = m.rid JOIN items i ON i.id = si.item_id \
             ORDER BY si.event_id, i.published_at IS NULL, i.published_at, i.source_id, i.guid"
        );
        let mut conn = self.spilling_connection().await?;
        let mut rows = sqlx::query_as::<_, WeekMember>(Q)
            .bind(story_id)
            .bind(from)
            .bind(until)
            .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(StoreError::from)? {
            f(row)?;
        }
        Ok(())
    }

    /// The comments among the members the period shows: source, the thread's guid, and when
    /// the comment counts.
    pub async fn each_week_comment(
        &self,
        story_id: &str,
        (from, until): (i64, i64),
        mut f: impl FnMut(String, String, i64),
    ) -> Result<()> {
        const Q: &str = concat!(
            period_members!(),
            "SELECT i.source_id, i.parent_guid, si.at \
             FROM m JOIN story_items si ON si.rowid = m.rid JOIN items i ON i.id = si.item_id \
             WHERE i.parent_guid IS NOT NULL"
        );
        let mut rows = sqlx::query_as::<_, (String, String, i64)>(Q)
            .bind(story_id)
            .bind(from)
            .bind(until)
            .fetch(&self.pool);
        while let Some((source, parent, at)) = rows.try_next().await? {
            f(source, parent, at);
        }
        Ok(())
    }

    /// Every event of the story shown before `from`, with its first report among the members
    /// shown before `until`, in no particular order: the timeline before a period.
    pub async fn each_earlier_event(
        &self,
        story_id: &str,
        (from, until): (i64, i64),
        mut f: impl FnMut(EarlierEvent),
    ) -> Result<()> {
        // The distinct events come off the event index in order; each first report is the
        // first entry of that index shown in time.
        const Q: &str = concat!(
            "SELECT e.event_id, \
                    (SELECT f.at FROM story_items f INDEXED BY story_items_event_at \
                        WHERE f.story_id = ?1 \
                     AND f.event_id = e.event_id AND f.shown_at < ?3 \
                     ORDER BY f.at, f.item_id LIMIT 1) AS first_at \
             FROM (SELECT DISTINCT event_id FROM story_items \
                   WHERE story_id = ?1 AND event_id IS NOT NULL) e WHERE ",
            older_event!("e")
        );
        let mut rows = sqlx::query_as::<_, EarlierEvent>(Q)
            .bind(story_id)
            .bind(from)
            .bind(until)
            .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            f(row);
        }
        Ok(())
    }

    /// The text a digest quotes from each item, by source and guid: its summary, else its
    /// content.
    pub async fn item_texts(
        &self,
        items: &[(&str, &str)],
    ) -> Result<Vec<(String, String, Option<String>)>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<Sqlite>::new(
            "SELECT source_id, guid, COALESCE(summary, content) FROM items \
             WHERE (source_id, guid) IN (VALUES ",
        );
        let mut list = q.separated(", ");
        for (source, guid) in items {
            list.push("(")
                .push_bind_unseparated(*source)
                .push_unseparated(", ")
                .push_bind_unseparated(*guid)
                .push_unseparated(")");
        }
        q.push(")");
        Ok(q.build_query_as().fetch_all(&self.pool).await?)
    }

    /// How many relevant items of the story count in `[from, until)`.
    pub async fn story_item_count(&self, story_id: &str, from: i64, until: i64) -> Result<u32> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM story_items \
             WHERE story_id = ?1 AND relevant = 1 AND at >= ?2 AND at < ?3",
        )
        .bind(story_id)
        .bind(from)
        .bind(until)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
