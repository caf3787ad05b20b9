//! The events a page touched, with their span and headline as they now stand.

use std::collections::{HashMap, HashSet};

use super::cluster::Clusterer;
use super::definition::StoryDef;
use super::headline::{choose_headline, HEADLINE_POOL};
use super::StoryError;
use crate::store::{DecisionRow, EventRow, HeadlineMember, ItemRow, Store, StoryBatch};

/// The touched events' rows: span from the clusterer, headline from their first members
/// (stored, and decided now), founder as recorded. Reads only the members a headline can come
/// from, so a page that touches a huge event reads forty of its rows, not all of them.
pub(super) async fn events(
    store: &Store,
    story: &StoryDef,
    clusterer: &Clusterer,
    batch: &StoryBatch,
    founders: &HashMap<String, i64>,
    items: &HashMap<i64, &ItemRow>,
) -> Result<Vec<EventRow>, StoryError> {
    let mut now_by_event: HashMap<&str, Vec<&DecisionRow>> = HashMap::new();
    for d in &batch.decisions {
        if let Some(e) = d.event_id.as_deref() {
            now_by_event.entry(e).or_default().push(d);
        }
    }
    let mut ids: Vec<String> = now_by_event.keys().map(|e| e.to_string()).collect();
    ids.sort();
    // Members decided now may be stored already (decided again): read as many more as could
    // be left out for it.
    let most_now = now_by_event.values().map(Vec::len).max().unwrap_or(0);
    let stored = store
        .story_event_heads(&story.id, &ids, HEADLINE_POOL + most_now, None)
        .await?;
    let mut stored_by_event: HashMap<&str, Vec<&HeadlineMember>> = HashMap::new();
    for m in &stored {
        stored_by_event
            .entry(m.event_id.as_str())
            .or_default()
            .push(m);
    }
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !founders.contains_key(id.as_str()))
        .cloned()
        .collect();
    let recorded = store.story_event_founders(&story.id, &unknown).await?;
    let mut out = Vec::new();
    for id in ids {
        let now_here: &[&DecisionRow] = now_by_event.get(id.as_str()).map_or(&[], Vec::as_slice);
        let decided_now: HashSet<i64> = now_here.iter().map(|d| d.item_id).collect();
        let mut members: Vec<HeadlineMember> = stored_by_event
            .get(id.as_str())
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|m| !decided_now.contains(&m.item_id))
            .map(|m| (*m).clone())
            .collect();
        // Members decided now are not in the store yet.
        for d in now_here {
            if let Some(item) = items.get(&d.item_id) {
                members.push(head_of(&id, d, item));
            }
        }
        let Some(span) = clusterer.span(&id) else {
            continue;
        };
        let refs: Vec<&HeadlineMember> = members.iter().collect();
        let founder = founders
            .get(&id)
            .or_else(|| recorded.get(&id))
            .copied()
            .unwrap_or_else(|| {
                members
                    .iter()
                    .min_by_key(|m| (m.at, m.item_id))
                    .map_or(0, |m| m.item_id)
            });
        out.push(EventRow {
            story_id: story.id.clone(),
            event_id: id,
            founder_item: founder,
            first_at: span.first_at,
            last_at: span.last_at,
            headline: choose_headline(&refs),
        });
    }
    Ok(out)
}

fn head_of(event: &str, d: &DecisionRow, i: &ItemRow) -> HeadlineMember {
    HeadlineMember {
        event_id: event.to_string(),
        at: d.at,
        shown_at: d.shown_at,
        terms: d.terms.clone(),
        item_id: i.id,
        guid: i.guid.clone(),
        url: i.url.clone(),
        title: i.title.clone(),
        outlet_name: i.outlet_name.clone(),
        parent_guid: i.parent_guid.clone(),
        points: i.points,
        comments: i.comments,
        discussion_url: i.discussion_url.clone(),
    }
}
