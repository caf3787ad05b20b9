//! What a round writes and reads back: decision rows and page updates out, members in as
//! clustering documents.

use std::collections::HashMap;

use super::cluster::{Doc, EventSpan, Placement, Terms};
use super::definition::StoryDef;
use super::judged::Judged;
use super::terms::page_keys;
use super::timing;
use crate::store::{DecisionRow, FetchMarks, MemberRow, UpdateRow};

pub(super) fn decision(
    story: &StoryDef,
    j: &Judged,
    p: Option<&Placement>,
    shown_at: i64,
) -> DecisionRow {
    DecisionRow {
        story_id: story.id.clone(),
        item_id: j.pending.item.id,
        relevant: p.is_some(),
        score: f64::from(j.verdict.score),
        reason: j.verdict.reason.as_str().to_string(),
        summary: j.verdict.summary(),
        at: j.at,
        shown_at,
        seen_hash: j.pending.item.content_hash.clone(),
        terms: if p.is_some() {
            j.terms.encode()
        } else {
            String::new()
        },
        event_id: p.map(|p| p.event_id.clone()),
        joined: p.map(|p| p.join.kind().to_string()),
        peer_item: p.and_then(|p| p.join.peer()),
        similarity: p.and_then(|p| p.join.score()).map(f64::from),
        shared: None,
    }
}

/// A watched page's change, or an item the feed itself marks as changed, as an update of
/// its event.
pub(super) fn page_update(
    story: &StoryDef,
    j: &Judged,
    event: &str,
    marks: &HashMap<String, FetchMarks>,
) -> Option<UpdateRow> {
    let it = &j.pending.item;
    let updated_at = it.updated_at?;
    let is_page = j.pending.source_kind.as_deref() == Some("page");
    if !is_page && it.change_note.is_none() {
        return None;
    }
    Some(UpdateRow {
        story_id: story.id.clone(),
        item_id: it.id,
        event_id: event.to_string(),
        updated_at,
        at: timing::observed_time(updated_at, marks.get(&it.source_id)),
        note: it.change_note.clone(),
    })
}

pub(super) fn member_doc(m: &MemberRow) -> Doc {
    Doc {
        item_id: m.item_id,
        at: m.at,
        terms: Terms::decode(&m.terms),
        url_keys: page_keys(
            [&m.canonical_url, &m.url, &m.discussion_url]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .chain(std::iter::once(m.guid.as_str())),
        ),
    }
}

pub(super) fn member_span(m: &MemberRow) -> EventSpan {
    EventSpan {
        id: m.event_id.clone(),
        first_at: m.first_at,
        last_at: m.last_at,
    }
}
