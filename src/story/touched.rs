//! The events a page touched, with their span and headline as they now stand.

use std::collections::{HashMap, HashSet};

use super::cluster::Clusterer;
use super::definition::StoryDef;
use super::report;
use super::StoryError;
use crate::store::{DecisionRow, EventRow, ItemRow, ReportMember, Store, StoryBatch};

/// The touched events' rows: span from the clusterer, headline from their members (stored
/// and decided now), founder as recorded.
pub(super) async fn events(
    store: &Store,
    story: &StoryDef,
    clusterer: &Clusterer,
    batch: &StoryBatch,
    founders: &HashMap<String, i64>,
    items: &HashMap<i64, &ItemRow>,
) -> Result<Vec<EventRow>, StoryError> {
    let touched: HashSet<String> = batch
        .decisions
        .iter()
        .filter_map(|d| d.event_id.clone())
        .collect();
    let mut ids: Vec<String> = touched.into_iter().collect();
    ids.sort();
    let stored = store.story_event_members(&story.id, &ids).await?;
    // Grouped once: a round that touches every event would otherwise scan all decisions
    // for each event.
    let mut stored_by_event: HashMap<&str, Vec<&ReportMember>> = HashMap::new();
    for m in &stored {
        stored_by_event
            .entry(m.event_id.as_str())
            .or_default()
            .push(m);
    }
    let mut now_by_event: HashMap<&str, Vec<&DecisionRow>> = HashMap::new();
    for d in &batch.decisions {
        if let Some(e) = d.event_id.as_deref() {
            now_by_event.entry(e).or_default().push(d);
        }
    }
    let mut out = Vec::new();
    for id in ids {
        let now_here: &[&DecisionRow] = now_by_event.get(id.as_str()).map_or(&[], Vec::as_slice);
        let decided_now: HashSet<i64> = now_here.iter().map(|d| d.item_id).collect();
        let mut members: Vec<ReportMember> = stored_by_event
            .get(id.as_str())
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|m| !decided_now.contains(&m.item.id))
            .map(|m| (*m).clone())
            .collect();
        // Members decided now are not in the store yet.
        for d in now_here {
            if let Some(item) = items.get(&d.item_id) {
                members.push(ReportMember {
                    event_id: id.clone(),
                    at: d.at,
                    terms: d.terms.clone(),
                    item: (*item).clone(),
                });
            }
        }
        let Some(span) = clusterer.span(&id) else {
            continue;
        };
        let refs: Vec<&ReportMember> = members.iter().collect();
        let founder = match founders.get(&id) {
            Some(f) => *f,
            None => match store.story_event(&story.id, &id).await {
                Ok(e) => e.founder_item,
                Err(_) => members.first().map_or(0, |m| m.item.id),
            },
        };
        out.push(EventRow {
            story_id: story.id.clone(),
            event_id: id,
            founder_item: founder,
            first_at: span.first_at,
            last_at: span.last_at,
            headline: report::choose_headline(&refs),
        });
    }
    Ok(out)
}
