//! A week's JSON report read section by section, in the report's order, for writing as it
//! is read (`story::week_json`).

use futures_util::TryStreamExt as _;

use super::super::{HeadlineMember, Result, Store, StoreError};

/// Which part of a week's JSON report a [`SectionRow`] stream reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Events first shown in the period, with all their members (each in the period).
    Developments,
    /// Older events with members in the period: their first members, then those members.
    Updates,
    /// Every event shown before the period's end: its first members.
    Timeline,
}

/// A row of a section: one of an event's first members (`part` 0, for its headline) or one
/// of its members in the period (`part` 1), with the event's first report (`event_first`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SectionRow {
    pub part: i64,
    pub event_first: i64,
    pub event_id: String,
    pub at: i64,
    pub item_id: i64,
    pub shown_at: i64,
    pub terms: String,
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
}

impl SectionRow {
    /// What choosing the event's headline reads of it.
    pub fn headline_member(&self) -> HeadlineMember {
        HeadlineMember {
            event_id: self.event_id.clone(),
            at: self.at,
            shown_at: self.shown_at,
            terms: self.terms.clone(),
            item_id: self.item_id,
            guid: self.guid.clone(),
            url: self.url.clone(),
            title: self.title.clone(),
            outlet_name: self.outlet_name.clone(),
            parent_guid: self.parent_guid.clone(),
            points: self.points,
            comments: self.comments,
            discussion_url: self.discussion_url.clone(),
        }
    }
}

/// The columns of a section row after `part, event_first, event_id`; `$terms` is the
/// clustering words, or `''` where no headline is chosen from the row.
macro_rules! section_columns {
    ($terms:literal) => {
        concat!(
            "si.at, si.item_id, COALESCE(si.shown_at, si.at) AS shown_at, ",
            $terms,
            " AS terms, i.source_id, i.guid, i.url, i.title, i.published_at, i.outlet_name, \
             i.parent_guid, i.points, i.comments, i.discussion_url "
        )
    };
}

/// `ev(event_id, first_at)`: the events `e(event_id)` selects, with each one's first report
/// among its members shown before ?3.
macro_rules! with_first_at {
    ($e:expr) => {
        concat!(
            "ev(event_id, first_at) AS (SELECT e.event_id, \
                 (SELECT f.at FROM story_items f INDEXED BY story_items_event_at \
                  WHERE f.story_id = ?1 AND f.event_id = e.event_id AND f.shown_at < ?3 \
                  ORDER BY f.at, f.item_id LIMIT 1) \
             FROM ",
            $e,
            ") "
        )
    };
}

/// Part 0: each event of `ev`'s first ?4 members shown before ?3.
macro_rules! first_members {
    () => {
        concat!(
            "SELECT 0 AS part, ev.first_at AS event_first, ev.event_id, ",
            section_columns!("si.terms"),
            "FROM ev JOIN story_items si ON si.rowid IN \
                 (SELECT f.rowid FROM story_items f INDEXED BY story_items_event_at \
                  WHERE f.story_id = ?1 AND f.event_id = ev.event_id AND f.shown_at < ?3 \
                  ORDER BY f.at, f.item_id LIMIT ?4) \
             JOIN items i ON i.id = si.item_id "
        )
    };
}

/// Part 1: the period's members (`m`) of the events of `ev`.
macro_rules! period_members_of_ev {
    ($terms:literal) => {
        concat!(
            "SELECT 1 AS part, ev.first_at AS event_first, ev.event_id, ",
            section_columns!($terms),
            "FROM m JOIN story_items si ON si.rowid = m.rid \
             JOIN ev ON ev.event_id = si.event_id JOIN items i ON i.id = si.item_id "
        )
    };
}

/// The events of the period's members, `$older` choosing those shown before it or not.
macro_rules! period_events {
    ($older:literal) => {
        concat!(
            period_members!(),
            ", ",
            with_first_at!(concat!(
                "(SELECT DISTINCT si.event_id FROM m \
                  JOIN story_items si ON si.rowid = m.rid) e WHERE ",
                $older,
                older_event!("e")
            ))
        )
    };
}

/// Developments: every member of each is in the period, so its first members are the first
/// rows of its part 1, which carry the clustering words for its headline.
const DEVELOPMENTS: &str = concat!(
    period_events!("NOT "),
    period_members_of_ev!("si.terms"),
    "ORDER BY 2, 3, 4, 5"
);

const UPDATES: &str = concat!(
    period_events!(""),
    first_members!(),
    "UNION ALL ",
    period_members_of_ev!("''"),
    "ORDER BY 2, 3, 1, 4, 5"
);

const TIMELINE: &str = concat!(
    "WITH ",
    with_first_at!(
        "(SELECT DISTINCT event_id FROM story_items \
          WHERE story_id = ?1 AND event_id IS NOT NULL) e"
    ),
    first_members!(),
    "WHERE ev.first_at IS NOT NULL ORDER BY 2, 3, 4, 5"
);

const DEVELOPMENT_COUNT: &str = concat!(period_events!("NOT "), "SELECT COUNT(*) FROM ev");
const UPDATE_COUNT: &str = concat!(period_events!(""), "SELECT COUNT(*) FROM ev");
const TIMELINE_COUNT: &str = concat!(
    "WITH ",
    with_first_at!(
        "(SELECT DISTINCT event_id FROM story_items \
          WHERE story_id = ?1 AND event_id IS NOT NULL) e"
    ),
    "SELECT COUNT(*) FROM ev WHERE ev.first_at IS NOT NULL"
);

impl Store {
    /// How many events one section of the story's period `[from, until)` lists, counted in
    /// SQL: what a listing that prints its size first needs before it streams the rows.
    pub async fn section_event_count(
        &self,
        story_id: &str,
        section: Section,
        (from, until): (i64, i64),
    ) -> Result<u64> {
        let q = match section {
            Section::Developments => DEVELOPMENT_COUNT,
            Section::Updates => UPDATE_COUNT,
            Section::Timeline => TIMELINE_COUNT,
        };
        let (n,): (i64,) = sqlx::query_as(q)
            .bind(story_id)
            .bind(from)
            .bind(until)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The rows of one section of the story's period `[from, until)`, in the report's order:
    /// events by first report then id; for each, its first `per_event` members (part 0; for
    /// developments, its part 1 begins with them), then its members in the period (part 1),
    /// each by time then item.
    pub async fn each_section_row<E: From<StoreError>>(
        &self,
        story_id: &str,
        section: Section,
        (from, until): (i64, i64),
        per_event: usize,
        mut f: impl FnMut(SectionRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let q = match section {
            Section::Developments => DEVELOPMENTS,
            Section::Updates => UPDATES,
            Section::Timeline => TIMELINE,
        };
        let mut conn = self.spilling_connection().await?;
        let mut rows = sqlx::query_as::<_, SectionRow>(q)
            .bind(story_id)
            .bind(from)
            .bind(until)
            .bind(i64::try_from(per_event).unwrap_or(i64::MAX))
            .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(StoreError::from)? {
            f(row)?;
        }
        Ok(())
    }
}
