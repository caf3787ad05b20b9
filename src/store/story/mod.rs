//! Story tables: relevance decisions, events and their members, page updates, and the fetch
//! marks that date undated items.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{push_in_list, to_ts, ItemRow, Result, Store};

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

// Declared last: the SQL column macros above are visible to them.
mod members;
mod queue;
mod write;
