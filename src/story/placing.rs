//! Placing what is not a plain report: comments and links to a story item's page (with the
//! item they discuss), misses that share such a page, and releases (in their project's
//! series).

use std::collections::{HashMap, HashSet};

use super::cluster::{event_id, Clusterer, EventSpan, Join, Placement, Terms};
use super::decide;
use super::definition::StoryDef;
use super::judged::{doc_of, item_terms, judge, Judged, Miss};
use super::relevance::{Matcher, Reason, Verdict};
use super::rows::member_span;
use super::text::{self, Analyzer};
use super::StoryError;
use crate::store::{FetchMarks, MemberRow, PendingItem, Store};

/// Place a release in its project's series: the event of the same source's previous release
/// (this round's, else the store's), or, for a series' first, like any report.
pub(super) async fn place_release(
    store: &Store,
    story: &StoryDef,
    clusterer: &mut Clusterer,
    series: &mut HashMap<String, (String, i64)>,
    j: &Judged,
) -> Result<Placement, StoryError> {
    let it = &j.pending.item;
    let doc = doc_of(j);
    let mut previous: Option<(EventSpan, i64)> = series
        .get(&it.source_id)
        .and_then(|(event, item)| clusterer.span(event).map(|s| (s, *item)));
    if previous.is_none() {
        for m in store
            .story_source_members(&story.id, &it.source_id, 20)
            .await?
        {
            if decide::is_release(&m.guid, m.title.as_deref()) {
                let span = clusterer
                    .span(&m.event_id)
                    .unwrap_or_else(|| member_span(&m));
                previous = Some((span, m.item_id));
                break;
            }
        }
    }
    let placement = match previous {
        Some((span, item_id)) => clusterer.place_with(&doc, &span, Join::Release { item_id }),
        None => {
            let founder = event_id(&story.id, &it.source_id, &it.guid);
            clusterer
                .place_batch(std::slice::from_ref(&doc), i64::MAX, &mut |_| {
                    founder.clone()
                })
                .pop()
                .flatten()
                .unwrap_or(Placement {
                    event_id: founder.clone(),
                    join: Join::Founded,
                })
        }
    };
    series.insert(it.source_id.clone(), (placement.event_id.clone(), it.id));
    Ok(placement)
}

/// What placing a miss needs besides the clusterer and the round's lists.
pub(super) struct Places<'a> {
    pub store: &'a Store,
    pub story: &'a StoryDef,
    pub matcher: &'a Matcher,
    pub analyzer: &'a Analyzer,
    pub marks: &'a HashMap<String, FetchMarks>,
    pub member_pages: &'a HashSet<String>,
}

impl Places<'_> {
    /// Place a miss that shares a page with a story item (as [`place_discussion`] would);
    /// the others stay out, with nothing stored.
    pub async fn miss(
        &self,
        m: Miss,
        clusterer: &mut Clusterer,
        round: &mut HashMap<(String, String), i64>,
        promoted: &mut Vec<(Judged, Placement)>,
    ) -> Result<(), StoryError> {
        let shares =
            clusterer.knows_page(&m.keys) || m.keys.iter().any(|k| self.member_pages.contains(k));
        if shares {
            let item = self.store.item(m.id).await?;
            let pending = PendingItem {
                item,
                source_kind: None,
                prev_relevant: None,
                prev_event: None,
                prev_at: None,
            };
            let mut j = judge(self.matcher, self.analyzer, pending, self.marks);
            let placed = place_discussion(
                self.store,
                self.story,
                clusterer,
                round,
                self.member_pages,
                &mut j,
            )
            .await?;
            if let Some(p) = placed {
                let it = &j.pending.item;
                round.insert((it.source_id.clone(), it.guid.clone()), it.id);
                promoted.push((j, p));
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Place a comment with the item it comments on, and an item that links to a story item's
/// page with that item; a relevant comment whose parent is unknown is placed on its own.
/// Irrelevant items that do neither stay out.
pub(super) async fn place_discussion(
    store: &Store,
    story: &StoryDef,
    clusterer: &mut Clusterer,
    round: &HashMap<(String, String), i64>,
    member_pages: &HashSet<String>,
    j: &mut Judged,
) -> Result<Option<Placement>, StoryError> {
    let item = &j.pending.item;
    let doc = doc_of(j);
    if let Some(parent) = &item.parent_guid {
        // The post may have come in this round.
        let here = round
            .get(&(item.source_id.clone(), parent.clone()))
            .and_then(|&id| clusterer.event_of(id).map(|span| (id, span)));
        if let Some((peer, span)) = here {
            promote(&mut j.verdict, Reason::CommentOn);
            return Ok(Some(clusterer.place_with(
                &doc,
                &span,
                Join::CommentOn { item_id: peer },
            )));
        }
        if let Some(m) = store
            .story_member_by_guid(&story.id, &item.source_id, parent)
            .await?
        {
            promote(&mut j.verdict, Reason::CommentOn);
            let span = clusterer
                .span(&m.event_id)
                .unwrap_or_else(|| member_span(&m));
            return Ok(Some(clusterer.place_with(
                &doc,
                &span,
                Join::CommentOn { item_id: m.item_id },
            )));
        }
    }
    let mut peer = clusterer.page_owner(&doc.url_keys);
    let mut outside: Option<MemberRow> = None;
    if peer.is_none() {
        // Most items link to pages no story item has: skip the lookup for them.
        for key in doc.url_keys.iter().filter(|k| member_pages.contains(*k)) {
            if let Some(m) = store.story_member_by_page(&story.id, key).await? {
                peer = Some((m.event_id.clone(), m.item_id));
                outside = Some(m);
                break;
            }
        }
    }
    if let Some((event, item_id)) = peer {
        let span = clusterer
            .span(&event)
            .or_else(|| outside.as_ref().map(member_span));
        if let Some(span) = span {
            if !j.verdict.relevant {
                promote(&mut j.verdict, Reason::SamePage);
                if j.terms == Terms::default() {
                    let body = text::item_body(item.summary.as_deref(), item.content.as_deref());
                    j.terms = item_terms(&Analyzer::new(), item, &body);
                }
            }
            let doc = doc_of(j);
            return Ok(Some(clusterer.place_with(
                &doc,
                &span,
                Join::SamePage { item_id },
            )));
        }
    }
    if !j.verdict.relevant {
        return Ok(None);
    }
    let founder = event_id(&story.id, &item.source_id, &item.guid);
    Ok(clusterer
        .place_batch(std::slice::from_ref(&doc), i64::MAX, &mut |_| {
            founder.clone()
        })
        .pop()
        .flatten())
}

pub(super) fn promote(v: &mut Verdict, reason: Reason) {
    v.relevant = true;
    v.reason = reason;
}
