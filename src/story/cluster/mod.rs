//! Events: items reporting the same development, across outlets.
//!
//! A batch of new items (one polling round) is placed in two steps. First the batch is split
//! into groups: items linking to the same page, or close in time (two days) and in words, were
//! reported together. Then each group, oldest first, joins an existing event or founds one:
//! - a group containing a page an event already has joins that event;
//! - a lone report joins an event when similar enough, with a bar that rises as the event
//!   ages (`JOIN_LONE` + `JOIN_LONE_PER_DAY` × days);
//! - within three days of an event's first report, a group of reports joins it at
//!   `JOIN_NEAR_GROUP`;
//! - later, a burst of several reports is a new development unless it is nearly the same news
//!   (`JOIN_BURST`);
//! - a lone report that would only be a follow-up, and is younger than `SETTLE`, waits for the
//!   next round: if it is in fact the first report of a new development, the reports that
//!   follow make a burst with it.
//!
//! Similarity of an item to an event is the larger of its best cosine with one of the event's
//! items and its cosine with the event's centroid (TF-IDF over stemmed words; see
//! [`super::terms`]). Candidates come from an inverted index and time windows, so the cost of
//! placing an item grows with its neighbourhood, not with the story.

use std::collections::{HashMap, HashSet};

use sha2::{Digest as _, Sha256};

pub use super::terms::{page_key, page_keys, Idf, Terms};
use super::terms::{Spread, Vector, Weighting};

mod batch;
mod context;
mod memory;

const DAY: i64 = 86_400;
/// Items of one batch at least this similar, within `GROUP_WINDOW`, were reported together.
pub const GROUP: f32 = 0.20;
const GROUP_WINDOW: i64 = 2 * DAY;
/// Within `NEAR` of an event's first report, the similarity for a group of reports to join it:
/// several reports together are a development of their own unless clearly about the same
/// thing.
pub const JOIN_NEAR_GROUP: f32 = 0.25;
const NEAR: i64 = 3 * DAY;
/// Similarity for a burst of reports to join an older event rather than found a new one.
pub const JOIN_BURST: f32 = 0.40;
/// Similarity for a lone report to join an event, plus a rise per day of
/// the event's age.
pub const JOIN_LONE: f32 = 0.11;
pub const JOIN_LONE_PER_DAY: f32 = 0.0035;
/// A lone report that would be only a follow-up waits this long for reports like it.
pub const SETTLE: i64 = 36 * 3600;
/// An event takes no items more than this long after its latest item,
const OPEN_AFTER_LAST: i64 = 21 * DAY;
/// nor more than this long after its first report,
const OPEN_AFTER_FIRST: i64 = 45 * DAY;
/// nor this much earlier than its first report.
const OPEN_BEFORE_FIRST: i64 = 2 * DAY;
/// An item is compared one to one with at most this many of an event's latest items (and
/// with its centroid), and looks up at most this many recent items per word, so a
/// pathological feed of near-identical items cannot make placing quadratic.
const RECENT: usize = 64;
/// An item or group is compared with at most this many candidates: those sharing most words.
const MAX_CANDIDATES: usize = 64;

/// How close (cosine with the event's centroid, without the words that name the story) an
/// item that does not name the story must be to a recent event of it to be taken as a report
/// of that event,
pub const CONTEXT_JOIN: f32 = 0.24;
/// or, when the item holds two or more of the story's context words (it is plainly in the
/// story's field: "Google" and "reasoning model"), this close. Both bars sit in the gaps
/// between reports and unrelated items measured on the public replays (docs/STORY.md).
pub const CONTEXT_JOIN_IN_FIELD: f32 = 0.16;
/// and how many of the event's distinctive words (not the story's own) it must share.
const CONTEXT_SHARED: usize = 2;
/// Such an item may come this long before the event's first report (time zones, dates),
const CONTEXT_BEFORE_FIRST: i64 = DAY;
/// and this long after it: later, only a report that names the story is news of it.
const CONTEXT_AFTER_FIRST: i64 = 14 * DAY;

/// An item as clustering sees it.
#[derive(Debug, Clone)]
pub struct Doc {
    pub item_id: i64,
    /// When the item counts (unix seconds): published, else when it appeared.
    pub at: i64,
    pub terms: Terms,
    /// Canonical URLs of the pages the item is or links to.
    pub url_keys: Vec<String>,
}

/// An event's identity and time span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpan {
    pub id: String,
    pub first_at: i64,
    pub last_at: i64,
}

/// How an item came to be in its event.
#[derive(Debug, Clone, PartialEq)]
pub enum Join {
    /// It started the event.
    Founded,
    /// It links to the same page as `item_id`.
    SamePage { item_id: i64 },
    /// It comments on `item_id`.
    CommentOn { item_id: i64 },
    /// Its words are close to those of `item_id`.
    Similar { item_id: i64, score: f32 },
    /// It is the next release of the project `item_id` is a release of.
    Release { item_id: i64 },
    /// It does not name the story but shares these distinctive words with its event, whose
    /// closest item is `item_id`.
    Context {
        item_id: i64,
        score: f32,
        shared: Vec<String>,
    },
}

impl Join {
    /// The stored label of [`Join::Context`].
    pub const CONTEXT: &'static str = "context";

    /// Stored label.
    pub fn kind(&self) -> &'static str {
        match self {
            Join::Founded => "founded",
            Join::SamePage { .. } => "same_page",
            Join::CommentOn { .. } => "comment_on",
            Join::Similar { .. } => "similar",
            Join::Release { .. } => "release",
            Join::Context { .. } => "context",
        }
    }

    /// The item it was matched to, if any.
    pub fn peer(&self) -> Option<i64> {
        match self {
            Join::Founded => None,
            Join::SamePage { item_id }
            | Join::CommentOn { item_id }
            | Join::Release { item_id }
            | Join::Similar { item_id, .. }
            | Join::Context { item_id, .. } => Some(*item_id),
        }
    }

    /// The similarity, when that is how it joined.
    pub fn score(&self) -> Option<f32> {
        match self {
            Join::Similar { score, .. } | Join::Context { score, .. } => Some(*score),
            _ => None,
        }
    }

    /// The event words it shares, when it joined for them.
    pub fn shared(&self) -> &[String] {
        match self {
            Join::Context { shared, .. } => shared,
            _ => &[],
        }
    }
}

/// Where an item went.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub event_id: String,
    pub join: Join,
}

struct Member {
    item_id: i64,
    event: usize,
    vector: Vector,
}

struct Event {
    span: EventSpan,
    members: Vec<usize>,
    centroid: HashMap<u32, f32>,
}

impl Event {
    fn centroid_norm(&self) -> f32 {
        self.centroid.values().map(|w| w * w).sum::<f32>().sqrt()
    }
}

/// Places items into events.
pub struct Clusterer {
    weights: Weighting,
    /// Items that joined an event without naming the story (see [`Clusterer::add_follower`]).
    followers: HashMap<i64, usize>,
    events: Vec<Event>,
    event_index: HashMap<String, usize>,
    members: Vec<Member>,
    postings: HashMap<u32, Vec<usize>>,
    pages: HashMap<String, (usize, i64)>,
    by_item: HashMap<i64, usize>,
}

/// A stable event id from the item that founded it.
pub fn event_id(story: &str, source: &str, guid: &str) -> String {
    let mut h = Sha256::new();
    for part in [story, source, guid] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("ev-{hex}")
}

impl Clusterer {
    /// An empty clusterer weighting terms by `idf`.
    pub fn new(idf: Idf) -> Clusterer {
        Clusterer {
            weights: Weighting::new(idf),
            followers: HashMap::new(),
            events: Vec::new(),
            event_index: HashMap::new(),
            members: Vec::new(),
            postings: HashMap::new(),
            pages: HashMap::new(),
            by_item: HashMap::new(),
        }
    }

    /// Count a page's relevant items into the document frequencies before placing them.
    pub fn count(&mut self, terms: &[&Terms]) {
        self.weights.count(terms);
    }

    /// Items held with their words (members of the events in memory).
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Add an item already in an event (loaded from the store).
    pub fn add_member(&mut self, doc: &Doc, event: &EventSpan) {
        let idx = self.event_slot(event);
        let vector = self.weights.vector(&doc.terms);
        self.index(doc, vector, idx);
    }

    /// Add an item that joined for resembling its event without naming the story: it belongs
    /// to the event, but its words are not the event's, so no later item joins through them
    /// (one loose report must not pull in the next).
    pub fn add_follower(&mut self, doc: &Doc, event: &EventSpan) {
        let idx = self.event_slot(event);
        for key in &doc.url_keys {
            self.pages.entry(key.clone()).or_insert((idx, doc.item_id));
        }
        self.followers.insert(doc.item_id, idx);
    }

    /// A known event's span as it stands.
    pub fn span(&self, id: &str) -> Option<EventSpan> {
        self.event_index
            .get(id)
            .map(|&i| self.events[i].span.clone())
    }

    /// The event an item was put in, this round or before.
    pub fn event_of(&self, item_id: i64) -> Option<EventSpan> {
        self.by_item
            .get(&item_id)
            .map(|&m| self.members[m].event)
            .or_else(|| self.followers.get(&item_id).copied())
            .map(|e| self.events[e].span.clone())
    }

    /// Does an item of a known event have one of these pages?
    pub fn knows_page(&self, keys: &[String]) -> bool {
        keys.iter().any(|k| self.pages.contains_key(k))
    }

    /// The event and item that have one of these pages.
    pub fn page_owner(&self, keys: &[String]) -> Option<(String, i64)> {
        keys.iter().find_map(|k| {
            self.pages
                .get(k)
                .map(|&(e, item)| (self.events[e].span.id.clone(), item))
        })
    }

    /// Put `doc` into a known event for a reason decided elsewhere (a comment on one of its
    /// items, or a link to one of its pages).
    pub fn place_with(&mut self, doc: &Doc, event: &EventSpan, join: Join) -> Placement {
        if matches!(join, Join::Context { .. }) {
            self.add_follower(doc, event);
        } else {
            self.add_member(doc, event);
        }
        let idx = self.event_slot(event);
        Placement {
            event_id: self.events[idx].span.id.clone(),
            join,
        }
    }

    /// Similarity of two items under this clusterer's weights (for explain and tests).
    pub fn similarity(&mut self, a: &Terms, b: &Terms) -> f32 {
        let va = self.weights.vector(a);
        let vb = self.weights.vector(b);
        va.dot(&vb)
    }

    fn event_slot(&mut self, span: &EventSpan) -> usize {
        if let Some(&i) = self.event_index.get(&span.id) {
            return i;
        }
        self.events.push(Event {
            span: span.clone(),
            members: Vec::new(),
            centroid: HashMap::new(),
        });
        self.event_index
            .insert(span.id.clone(), self.events.len() - 1);
        self.events.len() - 1
    }
}

/// The similarity a group of `size` reports needs to join an event `age` seconds after its
/// first report. A lone report's bar only rises with the event's age: a report a day after an
/// event's first is no less likely to be about it than one four days after. A group is a
/// development of its own unless close to a fresh event, or nearly the same news as an old one.
pub fn join_bar(size: usize, age: i64) -> f32 {
    if size <= 1 {
        JOIN_LONE + JOIN_LONE_PER_DAY * (age.max(0) as f32 / DAY as f32)
    } else if age <= NEAR {
        JOIN_NEAR_GROUP
    } else {
        JOIN_BURST
    }
}

/// Cosine of two sparse vectors.
fn cosine(a: &HashMap<u32, f32>, b: &HashMap<u32, f32>) -> f32 {
    let norm = |v: &HashMap<u32, f32>| v.values().map(|w| w * w).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na <= 0.0 || nb <= 0.0 {
        return 0.0;
    }
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .map(|(t, w)| w * large.get(t).copied().unwrap_or(0.0))
        .sum::<f32>()
        / (na * nb)
}

fn recent(members: &[usize]) -> &[usize] {
    &members[members.len().saturating_sub(RECENT)..]
}

#[cfg(test)]
mod tests;
