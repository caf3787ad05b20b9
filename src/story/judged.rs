//! An item read and judged for a story: its verdict, clustering words and pages, or the small
//! record a miss keeps.

use std::collections::HashMap;

use super::cluster::{Doc, Terms};
use super::decide;
use super::relevance::{Matcher, Reason, Verdict};
use super::terms::page_keys;
use super::text::{self, Analyzer};
use super::timing;
use crate::store::{FetchMarks, ItemRow, PendingItem};

/// A pending item read and judged.
pub(super) struct Judged {
    pub pending: PendingItem,
    pub verdict: Verdict,
    /// The plain-text body the verdict read; emptied once the clustering words are taken.
    pub body: String,
    pub at: i64,
    pub terms: Terms,
    pub url_keys: Vec<String>,
    /// Holds two or more of the story's context words (see `Matcher::context_words_in`).
    pub in_field: bool,
}

impl Judged {
    /// Forget the item's text: a page of a broad story would otherwise hold all of it.
    pub fn drop_text(&mut self) {
        self.pending.item.summary = None;
        self.pending.item.content = None;
        self.body = String::new();
    }
}

/// An undecided item in which nothing of the story was found: most items of a big round.
/// It only matters if it shares a page with a story item, so until the page's story items
/// are placed it is kept this small, not as a whole row; if it shares none, no decision is
/// stored for it at all (see `migrations/0005_story_queue.sql`).
pub(super) struct Miss {
    pub id: i64,
    pub at: i64,
    pub keys: Vec<String>,
}

/// Is an item that its words leave out still possibly a report of a recent event? Not when
/// the definition rules it out (an exclusion, another version, a passing mention), nor when
/// it holds no word of the story's vocabulary at all.
pub(super) fn may_report_an_event(matcher: &Matcher, j: &Judged) -> bool {
    let it = &j.pending.item;
    // A release that does not name the story is routine, whatever it resembles.
    if j.verdict.relevant || decide::is_release(&it.guid, it.title.as_deref()) {
        return false;
    }
    match j.verdict.reason {
        Reason::TooLittle => true,
        Reason::Nothing => [&it.title, &it.summary, &it.content]
            .into_iter()
            .flatten()
            .any(|t| matcher.may_relate(t)),
        _ => false,
    }
}

/// Judge one item as it is read: the verdict, when it counts, and the pages it is.
pub(super) fn judge(
    matcher: &Matcher,
    analyzer: &Analyzer,
    pending: PendingItem,
    marks: &HashMap<String, FetchMarks>,
) -> Judged {
    let it = &pending.item;
    let (verdict, mut body) = decide::judge(matcher, it);
    // A comment or a decided item that changed needs its words whatever its verdict.
    if body.is_empty() && (it.parent_guid.is_some() || pending.prev_relevant.is_some()) {
        body = text::item_body(it.summary.as_deref(), it.content.as_deref());
    }
    let at = pending
        .prev_at
        .unwrap_or_else(|| timing::item_time(it, marks.get(&it.source_id)));
    // Clustering words only for what may enter an event; most items of a busy install
    // are not the story.
    let terms = if verdict.relevant || it.parent_guid.is_some() || pending.prev_relevant.is_some() {
        item_terms(analyzer, it, &body)
    } else {
        Terms::default()
    };
    let url_keys = page_keys(
        [&it.canonical_url, &it.url, &it.discussion_url]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(std::iter::once(it.guid.as_str())),
    );
    let mut j = Judged {
        pending,
        verdict,
        body,
        at,
        terms,
        url_keys,
        in_field: false,
    };
    // A relevant item's text has given its verdict and words; a page of a broad story would
    // otherwise hold every item's text until it is placed.
    if j.verdict.relevant {
        j.drop_text();
    }
    j
}

pub(super) fn item_terms(analyzer: &Analyzer, it: &ItemRow, body: &str) -> Terms {
    let link = it.canonical_url.as_deref().or(it.url.as_deref());
    let title = it.title.as_deref().unwrap_or_default();
    Terms::from_item(analyzer, title, it.outlet_name.as_deref(), body, link)
}

pub(super) fn doc_of(j: &Judged) -> Doc {
    Doc {
        item_id: j.pending.item.id,
        at: j.at,
        terms: j.terms.clone(),
        url_keys: j.url_keys.clone(),
    }
}
