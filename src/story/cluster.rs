//! Events: items reporting the same development, across outlets.
//!
//! An item joins an event when it links to the same page as one of its items (canonical URLs,
//! so tracking parameters and relative links do not matter), else when its title and lead are
//! similar enough to one of the event's items within a time window. Similarity is the cosine
//! of TF-IDF vectors over stemmed content words, with title words counting most and the
//! document frequencies taken from the story's own items (so the story's name, present
//! everywhere, weighs little and what is particular to one development weighs much). Joining
//! an event days after its first report (a follow-up) needs a higher similarity than joining
//! on the day. Candidates come from an inverted index restricted to a time window, so
//! placing an item costs the size of its neighbourhood, not of the story.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use super::text::{is_stopword, slug_words, strip_outlet_suffix, tokenize, Analyzer};

const DAY: i64 = 86_400;
/// Similarity to join an event within `NEAR` of its first report.
pub const JOIN_NEAR: f32 = 0.30;
/// Similarity to join an older event (a follow-up).
pub const JOIN_FOLLOW_UP: f32 = 0.42;
/// Up to this long after an event's first report, joining it needs only `JOIN_NEAR`.
const NEAR: i64 = 3 * DAY;
/// An event takes no similar items more than this long after its latest item.
const OPEN_AFTER_LAST: i64 = 14 * DAY;
/// Nor more than this long after its first report.
const OPEN_AFTER_FIRST: i64 = 35 * DAY;
/// Nor items this much earlier than its first report.
const OPEN_BEFORE_FIRST: i64 = 2 * DAY;
/// Body words read for similarity: the lead.
const LEAD_WORDS: usize = 40;
/// Terms in more than this share of the story's items say nothing about one event and are
/// skipped when looking up candidates.
const COMMON_SHARE: f32 = 0.5;

/// The words of an item that clustering compares, stemmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    pub title: Vec<String>,
    /// Words of the link's slug that the title lacks (a link aggregator's only text).
    pub slug: Vec<String>,
    /// The lead of the body.
    pub lead: Vec<String>,
}

impl Terms {
    /// Read an item's title, plain-text body and link.
    pub fn from_item(
        analyzer: &Analyzer,
        title: &str,
        outlet: Option<&str>,
        body: &str,
        url: Option<&str>,
    ) -> Terms {
        let title = analyzer.content_stems(strip_outlet_suffix(title, outlet));
        let slug: Vec<String> = url
            .map(slug_words)
            .unwrap_or_default()
            .iter()
            .filter(|w| !is_stopword(w))
            .map(|w| analyzer.stem(w))
            .filter(|s| !title.contains(s))
            .collect();
        let mut lead: Vec<String> = tokenize(body)
            .iter()
            .filter(|t| !is_stopword(t))
            .take(LEAD_WORDS)
            .map(|t| analyzer.stem(t))
            .collect();
        // A body that only repeats the title (Google News) adds nothing.
        if lead.iter().all(|w| title.contains(w) || w.is_empty()) {
            lead.clear();
        }
        Terms { title, slug, lead }
    }

    /// Compact stored form: "title words|slug words|lead words".
    pub fn encode(&self) -> String {
        format!(
            "{}|{}|{}",
            self.title.join(" "),
            self.slug.join(" "),
            self.lead.join(" ")
        )
    }

    /// The inverse of [`Terms::encode`]; anything unreadable reads as no words.
    pub fn decode(s: &str) -> Terms {
        let mut parts = s.splitn(3, '|');
        let mut words = || -> Vec<String> {
            parts
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect()
        };
        Terms {
            title: words(),
            slug: words(),
            lead: words(),
        }
    }

    fn distinct(&self) -> impl Iterator<Item = &String> {
        let mut seen = std::collections::HashSet::new();
        self.title
            .iter()
            .chain(&self.slug)
            .chain(&self.lead)
            .filter(move |t| seen.insert(t.as_str()))
    }
}

/// Document frequencies over a story's items.
#[derive(Debug, Clone, Default)]
pub struct Idf {
    docs: u32,
    df: HashMap<String, u32>,
}

impl Idf {
    /// Count one item's terms.
    pub fn add(&mut self, terms: &Terms) {
        self.docs += 1;
        for t in terms.distinct() {
            *self.df.entry(t.clone()).or_default() += 1;
        }
    }

    /// Smoothed inverse document frequency; unseen terms weigh most.
    pub fn weight(&self, term: &str) -> f32 {
        let df = self.df.get(term).copied().unwrap_or(0) as f32;
        ((1.0 + self.docs as f32) / (1.0 + df)).ln() + 1.0
    }

    fn common(&self, term: &str) -> bool {
        self.docs >= 20
            && self.df.get(term).copied().unwrap_or(0) as f32 > COMMON_SHARE * self.docs as f32
    }
}

/// A weighted, normalised term vector, sorted by term.
#[derive(Debug, Clone, Default)]
struct Vector(Vec<(u32, f32)>);

impl Vector {
    fn dot(&self, other: &Vector) -> f32 {
        let (mut i, mut j, mut s) = (0, 0, 0.0);
        while i < self.0.len() && j < other.0.len() {
            match self.0[i].0.cmp(&other.0[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    s += self.0[i].1 * other.0[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        s
    }
}

/// An item as clustering sees it.
#[derive(Debug, Clone)]
pub struct Doc {
    pub item_id: i64,
    /// When the item counts (unix seconds): published, else when it was first seen.
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
}

impl Join {
    /// Stored label.
    pub fn kind(&self) -> &'static str {
        match self {
            Join::Founded => "founded",
            Join::SamePage { .. } => "same_page",
            Join::CommentOn { .. } => "comment_on",
            Join::Similar { .. } => "similar",
        }
    }

    /// The item it was matched to, if any.
    pub fn peer(&self) -> Option<i64> {
        match self {
            Join::Founded => None,
            Join::SamePage { item_id }
            | Join::CommentOn { item_id }
            | Join::Similar { item_id, .. } => Some(*item_id),
        }
    }

    /// The similarity, when that is how it joined.
    pub fn score(&self) -> Option<f32> {
        match self {
            Join::Similar { score, .. } => Some(*score),
            _ => None,
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
    at: i64,
    event: usize,
    vector: Vector,
}

/// Places items into events, one at a time, in time order.
pub struct Clusterer<'a> {
    idf: &'a Idf,
    vocab: HashMap<String, u32>,
    events: Vec<EventSpan>,
    event_index: HashMap<String, usize>,
    members: Vec<Member>,
    postings: HashMap<u32, Vec<usize>>,
    pages: HashMap<String, (usize, i64)>,
    common_terms: std::collections::HashSet<u32>,
}

/// The comparison form of a page URL: canonical (tracking parameters and fragment gone), and
/// only for pages that are articles, not a site's front page, which unrelated items share.
pub fn page_key(url: &str) -> Option<String> {
    let canon = crate::canon::canonical_url(url, None)?;
    let parsed = url::Url::parse(&canon).ok()?;
    let is_front = parsed.path().trim_matches('/').is_empty() && parsed.query().is_none();
    (!is_front).then_some(canon)
}

/// The pages an item is or points to: its link, canonical link and discussion page, and its
/// guid when that is a URL.
pub fn page_keys<'u>(urls: impl IntoIterator<Item = &'u str>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for k in urls.into_iter().filter_map(page_key) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
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

impl<'a> Clusterer<'a> {
    /// An empty clusterer weighting terms by `idf`.
    pub fn new(idf: &'a Idf) -> Clusterer<'a> {
        Clusterer {
            idf,
            vocab: HashMap::new(),
            events: Vec::new(),
            event_index: HashMap::new(),
            members: Vec::new(),
            postings: HashMap::new(),
            pages: HashMap::new(),
            common_terms: std::collections::HashSet::new(),
        }
    }

    /// Add an item already in an event (loaded from the store).
    pub fn add_member(&mut self, doc: &Doc, event: &EventSpan) {
        let idx = match self.event_index.get(&event.id) {
            Some(&i) => i,
            None => {
                self.events.push(event.clone());
                self.event_index
                    .insert(event.id.clone(), self.events.len() - 1);
                self.events.len() - 1
            }
        };
        self.index(doc, idx);
    }

    /// The spans of all events known to the clusterer, as they stand.
    pub fn events(&self) -> &[EventSpan] {
        &self.events
    }

    /// Put `doc` into an event: an existing one or a new one founded by it.
    pub fn place(&mut self, doc: &Doc, new_event_id: impl FnOnce() -> String) -> Placement {
        let (idx, join) = match self.best_match(doc) {
            Some(found) => found,
            None => {
                let id = new_event_id();
                let idx = match self.event_index.get(&id) {
                    Some(&i) => i,
                    None => {
                        self.events.push(EventSpan {
                            id: id.clone(),
                            first_at: doc.at,
                            last_at: doc.at,
                        });
                        self.event_index.insert(id, self.events.len() - 1);
                        self.events.len() - 1
                    }
                };
                (idx, Join::Founded)
            }
        };
        self.index(doc, idx);
        let ev = &mut self.events[idx];
        ev.first_at = ev.first_at.min(doc.at);
        ev.last_at = ev.last_at.max(doc.at);
        Placement {
            event_id: ev.id.clone(),
            join,
        }
    }

    /// Put `doc` into a known event for a reason decided elsewhere (a comment on one of its
    /// items, or a link to one of its pages).
    pub fn place_with(&mut self, doc: &Doc, event: &EventSpan, join: Join) -> Placement {
        self.add_member(doc, event);
        let idx = self.event_index.get(&event.id).copied().unwrap_or(0);
        let ev = &mut self.events[idx];
        ev.first_at = ev.first_at.min(doc.at);
        ev.last_at = ev.last_at.max(doc.at);
        Placement {
            event_id: ev.id.clone(),
            join,
        }
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
                .map(|&(e, item)| (self.events[e].id.clone(), item))
        })
    }

    /// A known event's span as it stands.
    pub fn span(&self, id: &str) -> Option<EventSpan> {
        self.event_index.get(id).map(|&i| self.events[i].clone())
    }

    /// Similarity of two items under this clusterer's weights (for explain and tests).
    pub fn similarity(&mut self, a: &Terms, b: &Terms) -> f32 {
        let va = self.vectorize_terms(a);
        let vb = self.vectorize_terms(b);
        va.dot(&vb)
    }

    fn best_match(&mut self, doc: &Doc) -> Option<(usize, Join)> {
        for key in &doc.url_keys {
            if let Some(&(event, item_id)) = self.pages.get(key) {
                return Some((event, Join::SamePage { item_id }));
            }
        }
        let v = self.vectorize(doc);
        let mut candidates: Vec<usize> = Vec::new();
        for (term, _) in &v.0 {
            if self.common_terms.contains(term) {
                continue;
            }
            if let Some(list) = self.postings.get(term) {
                candidates.extend(list.iter().copied().filter(|&m| {
                    (self.members[m].at - doc.at).abs() <= OPEN_AFTER_FIRST + OPEN_AFTER_LAST
                }));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(usize, f32, i64, f32)> = None;
        for m in candidates {
            let member = &self.members[m];
            let score = v.dot(&member.vector);
            let ev = &self.events[member.event];
            if doc.at < ev.first_at - OPEN_BEFORE_FIRST
                || doc.at > ev.last_at + OPEN_AFTER_LAST
                || doc.at > ev.first_at + OPEN_AFTER_FIRST
            {
                continue;
            }
            let bar = if doc.at - ev.first_at <= NEAR {
                JOIN_NEAR
            } else {
                JOIN_FOLLOW_UP
            };
            let margin = score - bar;
            if margin >= 0.0 && best.is_none_or(|(_, bm, _, _)| margin > bm) {
                best = Some((member.event, margin, member.item_id, score));
            }
        }
        best.map(|(event, _, item_id, score)| (event, Join::Similar { item_id, score }))
    }

    fn index(&mut self, doc: &Doc, event: usize) {
        let vector = self.vectorize(doc);
        let m = self.members.len();
        for (t, _) in &vector.0 {
            self.postings.entry(*t).or_default().push(m);
        }
        for key in &doc.url_keys {
            self.pages.entry(key.clone()).or_insert((event, doc.item_id));
        }
        self.members.push(Member {
            item_id: doc.item_id,
            at: doc.at,
            event,
            vector,
        });
    }

    fn vectorize(&mut self, doc: &Doc) -> Vector {
        self.vectorize_terms(&doc.terms)
    }

    /// Title words count twice, slug words once, lead words half (at most twice).
    fn vectorize_terms(&mut self, terms: &Terms) -> Vector {
        let mut tf: HashMap<&str, f32> = HashMap::new();
        for t in &terms.title {
            tf.insert(t, 2.0);
        }
        for t in &terms.slug {
            *tf.entry(t).or_default() += 1.0;
        }
        let mut lead: HashMap<&str, f32> = HashMap::new();
        for t in &terms.lead {
            let c = lead.entry(t).or_default();
            *c = (*c + 0.5).min(1.0);
        }
        for (t, c) in lead {
            *tf.entry(t).or_default() += c;
        }
        let mut v: Vec<(u32, f32)> = tf
            .into_iter()
            .map(|(t, f)| (self.term_id(t), f * self.idf.weight(t)))
            .collect();
        v.sort_unstable_by_key(|(t, _)| *t);
        let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut v {
                *w /= norm;
            }
        }
        Vector(v)
    }

    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.vocab.get(term) {
            return id;
        }
        let id = self.vocab.len() as u32;
        self.vocab.insert(term.to_string(), id);
        if self.idf.common(term) {
            self.common_terms.insert(id);
        }
        id
    }
}

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
