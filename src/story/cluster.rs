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

    /// Keep memory bounded by the open events, not the round: past `max_members` held
    /// members, forget the events whose latest item is oldest until half remain. An event
    /// forgotten here can still be joined through its pages and its comments' parents (the
    /// store has them); only resemblance to it is no longer looked for, which matters little
    /// for the oldest events of a huge round.
    pub fn shed(&mut self, max_members: usize) {
        if self.members.len() <= max_members {
            return;
        }
        let mut order: Vec<usize> = (0..self.events.len()).collect();
        order.sort_by_key(|&e| std::cmp::Reverse((self.events[e].span.last_at, e)));
        let mut keep = vec![false; self.events.len()];
        let mut held = 0;
        for e in order {
            let n = self.events[e].members.len();
            if held > 0 && held + n > max_members / 2 {
                break;
            }
            keep[e] = true;
            held += n;
        }
        let old_events = std::mem::take(&mut self.events);
        let old_members = std::mem::take(&mut self.members);
        let mut moved: Vec<Option<usize>> = vec![None; old_events.len()];
        self.event_index.clear();
        for (e, ev) in old_events.into_iter().enumerate() {
            if keep[e] {
                moved[e] = Some(self.events.len());
                self.event_index
                    .insert(ev.span.id.clone(), self.events.len());
                self.events.push(Event {
                    members: Vec::new(),
                    ..ev
                });
            }
        }
        self.postings.clear();
        self.by_item.clear();
        for m in old_members {
            let Some(e) = moved[m.event] else { continue };
            if m.vector.0.is_empty() {
                // A member past its event's latest: the store still has it.
                continue;
            }
            let slot = self.members.len();
            for (t, _) in &m.vector.0 {
                self.postings.entry(*t).or_default().push(slot);
            }
            self.by_item.insert(m.item_id, slot);
            self.events[e].members.push(slot);
            self.members.push(Member { event: e, ..m });
        }
        self.followers.retain(|_, e| moved[*e].is_some());
        for e in self.followers.values_mut() {
            *e = moved[*e].unwrap_or(*e);
        }
        // The pages of members no longer held are found through the store.
        let held =
            |item: &i64| self.by_item.contains_key(item) || self.followers.contains_key(item);
        self.pages
            .retain(|_, (e, item)| moved[*e].is_some() && held(item));
        for (e, _) in self.pages.values_mut() {
            *e = moved[*e].unwrap_or(*e);
        }
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

    /// The recent event an item that does not name the story clearly reports, if any: the
    /// closest event open around its time that it resembles by at least `CONTEXT_JOIN` and
    /// with which it shares at least `CONTEXT_SHARED` distinctive words, none of them one of
    /// `story_words` (the definition's own words say the story, not which development).
    pub fn context_match(
        &mut self,
        doc: &Doc,
        story_words: &HashSet<String>,
        in_field: bool,
    ) -> Option<(EventSpan, Join)> {
        let bar = if in_field {
            CONTEXT_JOIN_IN_FIELD
        } else {
            CONTEXT_JOIN
        };
        let v = self.weights.vector(&doc.terms);
        let mut candidates: Vec<usize> = Vec::new();
        for (t, _) in &v.0 {
            if self.weights.is_common(*t) {
                continue;
            }
            if let Some(list) = self.postings.get(t) {
                candidates.extend(
                    list[list.len().saturating_sub(RECENT)..]
                        .iter()
                        .map(|&m| self.members[m].event),
                );
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        // The item and each event without the words that name the story.
        let keep = |c: &Clusterer, t: u32| !story_words.contains(c.weights.term(t));
        let item = self.without(v.0.iter().map(|&(t, w)| (t, w)), &keep);
        let mut best: Option<(f32, usize, i64, Vec<String>)> = None;
        for e in candidates {
            let span = self.events[e].span.clone();
            if doc.at < span.first_at - CONTEXT_BEFORE_FIRST
                || doc.at > span.first_at + CONTEXT_AFTER_FIRST
            {
                continue;
            }
            let centroid: Vec<(u32, f32)> = self.events[e]
                .centroid
                .iter()
                .map(|(&t, &w)| (t, w))
                .collect();
            let centroid = self.without(centroid.into_iter(), &keep);
            let mut overlap: Vec<(f32, u32)> = item
                .iter()
                .filter(|(t, _)| !self.weights.is_common(**t))
                .filter_map(|(t, w)| centroid.get(t).map(|c| (w * c, *t)))
                .collect();
            overlap.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let shared: Vec<String> = overlap
                .iter()
                .map(|(_, t)| self.weights.term(*t).to_string())
                .collect();
            if shared.len() < CONTEXT_SHARED {
                continue;
            }
            // The event as a whole, not its one closest report: an item sharing a stray
            // phrase with one report is not news of the event.
            let score = cosine(&item, &centroid);
            let mut peer = (f32::MIN, 0);
            let members: Vec<usize> = recent(&self.events[e].members).to_vec();
            for m in members {
                let mv: Vec<(u32, f32)> = self.members[m].vector.0.clone();
                let s = cosine(&item, &self.without(mv.into_iter(), &keep));
                if s > peer.0 {
                    peer = (s, self.members[m].item_id);
                }
            }
            let peer = peer.1;
            tracing::trace!(item = doc.item_id, event = %span.id, score, in_field, ?shared, "context candidate");
            if score >= bar && best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, e, peer, shared));
            }
        }
        let (score, e, item_id, shared) = best?;
        Some((
            self.events[e].span.clone(),
            Join::Context {
                item_id,
                score,
                shared,
            },
        ))
    }

    /// A weighted vector without the terms `keep` refuses.
    fn without(
        &self,
        terms: impl Iterator<Item = (u32, f32)>,
        keep: &dyn Fn(&Clusterer, u32) -> bool,
    ) -> HashMap<u32, f32> {
        terms.filter(|&(t, _)| keep(self, t)).collect()
    }

    /// The words of `doc` that count most toward its event `event_id` (for explain): its
    /// distinctive words in the event's centroid, heaviest first, at most `n`.
    pub fn shared_words(&mut self, doc: &Doc, event_id: &str, n: usize) -> Vec<String> {
        let v = self.weights.vector(&doc.terms);
        let Some(&e) = self.event_index.get(event_id) else {
            return Vec::new();
        };
        let centroid = &self.events[e].centroid;
        let mut shared: Vec<(f32, u32)> =
            v.0.iter()
                .filter_map(|(t, w)| centroid.get(t).map(|c| (w * c, *t)))
                .collect();
        shared.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        shared
            .into_iter()
            .take(n)
            .map(|(_, t)| self.weights.term(t).to_string())
            .collect()
    }

    /// Similarity of two items under this clusterer's weights (for explain and tests).
    pub fn similarity(&mut self, a: &Terms, b: &Terms) -> f32 {
        let va = self.weights.vector(a);
        let vb = self.weights.vector(b);
        va.dot(&vb)
    }

    /// Place one round's items. `None` for an item means it waits for the next round (a lone
    /// follow-up younger than `SETTLE` at `now`). `new_id` names an event after its founder.
    pub fn place_batch(
        &mut self,
        docs: &[Doc],
        now: i64,
        new_id: &mut dyn FnMut(&Doc) -> String,
    ) -> Vec<Option<Placement>> {
        let vectors: Vec<Vector> = docs.iter().map(|d| self.weights.vector(&d.terms)).collect();
        let mut out: Vec<Option<Placement>> = vec![None; docs.len()];
        let mut spread = Spread::default();
        let mut tally = Tally::default();
        for group in self.groups(docs, &vectors, &mut spread) {
            let first = docs[group[0]].at;
            let target = self.matching_event(docs, &vectors, &group, &mut spread, &mut tally);
            let lone_follow_up = matches!(&target, Some(Target { url: None, .. }))
                && group.len() == 1
                && target
                    .as_ref()
                    .is_some_and(|t| first - self.events[t.event].span.first_at > NEAR);
            if lone_follow_up && now - docs[group[0]].at < SETTLE {
                continue;
            }
            let (event, mut founder) = match &target {
                Some(t) => (t.event, None),
                None => {
                    let span = EventSpan {
                        id: new_id(&docs[group[0]]),
                        first_at: first,
                        last_at: first,
                    };
                    (self.event_slot(&span), Some(group[0]))
                }
            };
            for &i in &group {
                let join = if founder == Some(i) {
                    founder = None;
                    Join::Founded
                } else if let Some((_, item_id)) = target
                    .as_ref()
                    .and_then(|t| t.url.filter(|(doc, _)| *doc == i))
                {
                    Join::SamePage { item_id }
                } else {
                    self.closest_member(&vectors[i], event, &mut spread)
                };
                self.index(&docs[i], vectors[i].clone(), event);
                out[i] = Some(Placement {
                    event_id: self.events[event].span.id.clone(),
                    join,
                });
            }
        }
        out
    }

    /// Split a batch into groups reported together, each sorted by time, groups by their
    /// first item.
    fn groups(&self, docs: &[Doc], vectors: &[Vector], spread: &mut Spread) -> Vec<Vec<usize>> {
        let mut tally = Tally::default();
        let mut order: Vec<usize> = (0..docs.len()).collect();
        order.sort_by_key(|&i| (docs[i].at, docs[i].item_id));
        let mut parent: Vec<usize> = (0..docs.len()).collect();
        let mut local: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut local_pages: HashMap<&str, usize> = HashMap::new();
        for &i in &order {
            let mut candidates: Vec<usize> = Vec::new();
            for (t, _) in &vectors[i].0 {
                if !self.weights.is_common(*t) {
                    if let Some(list) = local.get(t) {
                        candidates.extend(&list[list.len().saturating_sub(RECENT)..]);
                    }
                }
            }
            let candidates = most_shared(&candidates, MAX_CANDIDATES, &mut tally);
            spread.load(&vectors[i]);
            for j in candidates {
                if (docs[i].at - docs[j].at).abs() <= GROUP_WINDOW
                    && spread.dot(&vectors[j]) >= GROUP
                {
                    union(&mut parent, i, j);
                }
            }
            for k in &docs[i].url_keys {
                match local_pages.get(k.as_str()) {
                    Some(&j) => union(&mut parent, i, j),
                    None => {
                        local_pages.insert(k, i);
                    }
                }
            }
            for (t, _) in &vectors[i].0 {
                local.entry(*t).or_default().push(i);
            }
        }
        let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
        for &i in &order {
            groups.entry(find(&mut parent, i)).or_default().push(i);
        }
        let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
        groups.sort_by_key(|g| (docs[g[0]].at, docs[g[0]].item_id));
        groups
    }

    /// The event a group should join, if any.
    fn matching_event(
        &self,
        docs: &[Doc],
        vectors: &[Vector],
        group: &[usize],
        spread: &mut Spread,
        tally: &mut Tally,
    ) -> Option<Target> {
        for &i in group {
            for k in &docs[i].url_keys {
                if let Some(&(event, item_id)) = self.pages.get(k) {
                    return Some(Target {
                        event,
                        url: Some((i, item_id)),
                    });
                }
            }
        }
        let first = docs[group[0]].at;
        let mut found: Vec<usize> = Vec::new();
        for &i in group {
            for (t, _) in &vectors[i].0 {
                if self.weights.is_common(*t) {
                    continue;
                }
                if let Some(list) = self.postings.get(t) {
                    let mut events: Vec<usize> = list[list.len().saturating_sub(RECENT)..]
                        .iter()
                        .map(|&m| self.members[m].event)
                        .collect();
                    // One vote per event and term: an event counts by the words it shares.
                    events.sort_unstable();
                    events.dedup();
                    found.extend(events);
                }
            }
        }
        let mut best: Option<(f32, usize)> = None;
        let mut candidates: Vec<usize> = most_shared(&found, MAX_CANDIDATES, tally)
            .into_iter()
            .filter(|&e| {
                let span = &self.events[e].span;
                !(first < span.first_at - OPEN_BEFORE_FIRST
                    || first > span.last_at + OPEN_AFTER_LAST
                    || first > span.first_at + OPEN_AFTER_FIRST)
            })
            .collect();
        candidates.sort_unstable();
        let norms: Vec<f32> = candidates
            .iter()
            .map(|&e| self.events[e].centroid_norm())
            .collect();
        // Each event's score is its best over the group's items; one item spread at a time.
        let mut scores = vec![0.0f32; candidates.len()];
        for &i in group {
            spread.load(&vectors[i]);
            for (k, &e) in candidates.iter().enumerate() {
                let ev = &self.events[e];
                let single = recent(&ev.members)
                    .iter()
                    .map(|&m| spread.dot(&self.members[m].vector))
                    .fold(0.0, f32::max);
                let s = single.max(vectors[i].cosine_with_sum(&ev.centroid, norms[k]));
                scores[k] = scores[k].max(s);
            }
        }
        for (k, &e) in candidates.iter().enumerate() {
            let span = &self.events[e].span;
            let score = scores[k];
            let age = first - span.first_at;
            let bar = join_bar(group.len(), age);
            let margin = score - bar;
            tracing::trace!(
                items = ?group.iter().map(|&i| docs[i].item_id).collect::<Vec<_>>(),
                event = %span.id, score, bar, age_days = age / DAY, "event candidate"
            );
            if margin >= 0.0 && best.is_none_or(|(b, _)| margin > b) {
                best = Some((margin, e));
            }
        }
        best.map(|(_, event)| Target { event, url: None })
    }

    fn closest_member(&self, v: &Vector, event: usize, spread: &mut Spread) -> Join {
        let mut best: Option<(f32, i64)> = None;
        spread.load(v);
        for &m in recent(&self.events[event].members) {
            let s = spread.dot(&self.members[m].vector);
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, self.members[m].item_id));
            }
        }
        match best {
            Some((score, item_id)) => Join::Similar { item_id, score },
            None => Join::Founded,
        }
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

    fn index(&mut self, doc: &Doc, vector: Vector, event: usize) {
        let m = self.members.len();
        for (t, w) in &vector.0 {
            let list = self.postings.entry(*t).or_default();
            list.push(m);
            // Only a term's latest members are ever looked up: keep no more.
            if list.len() > 2 * RECENT {
                list.drain(..list.len() - RECENT);
            }
            *self.events[event].centroid.entry(*t).or_default() += w;
        }
        for key in &doc.url_keys {
            self.pages
                .entry(key.clone())
                .or_insert((event, doc.item_id));
        }
        self.by_item.insert(doc.item_id, m);
        let ev = &mut self.events[event];
        ev.members.push(m);
        ev.span.first_at = ev.span.first_at.min(doc.at);
        ev.span.last_at = ev.span.last_at.max(doc.at);
        self.members.push(Member {
            item_id: doc.item_id,
            event,
            vector,
        });
        // Only an event's latest members are compared with (its centroid keeps the rest):
        // a huge event holds no more words than a small one.
        let ev = &mut self.events[event];
        if ev.members.len() > 2 * RECENT {
            let old: Vec<usize> = ev.members.drain(..ev.members.len() - RECENT).collect();
            for o in old {
                self.members[o].vector = Vector::default();
            }
        }
    }
}

/// The event a group joins, and the page that decided it, if one did: (doc, peer item).
struct Target {
    event: usize,
    url: Option<(usize, i64)>,
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

/// The `cap` values that occur most often in `found` (the candidates sharing most words),
/// ties to the lower; in ascending order. Comparing an item with every candidate that shares
/// any word would make a broad story's round quadratic. Counted in `tally`, reused across
/// calls, so a call costs the candidates it sees, not a sort of them.
fn most_shared(found: &[usize], cap: usize, tally: &mut Tally) -> Vec<usize> {
    for &v in found {
        if v >= tally.counts.len() {
            tally.counts.resize(v + 1, 0);
        }
        if tally.counts[v] == 0 {
            tally.seen.push(v);
        }
        tally.counts[v] += 1;
    }
    let mut counted: Vec<(usize, u32)> = tally
        .seen
        .drain(..)
        .map(|v| (v, std::mem::take(&mut tally.counts[v])))
        .collect();
    if counted.len() > cap {
        counted.select_nth_unstable_by(cap - 1, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        counted.truncate(cap);
    }
    let mut out: Vec<usize> = counted.into_iter().map(|(v, _)| v).collect();
    out.sort_unstable();
    out
}

/// Counts by index for [`most_shared`], zero between calls.
#[derive(Debug, Default)]
struct Tally {
    counts: Vec<u32>,
    seen: Vec<usize>,
}

fn recent(members: &[usize]) -> &[usize] {
    &members[members.len().saturating_sub(RECENT)..]
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
