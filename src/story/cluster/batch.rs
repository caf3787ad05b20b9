//! Placing a round's items: split the batch into groups reported together, then each group
//! joins the event it matches or founds one (the rules are in the module above).

use std::collections::HashMap;

use super::*;

impl Clusterer {
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
}

/// The event a group joins, and the page that decided it, if one did: (doc, peer item).
struct Target {
    event: usize,
    url: Option<(usize, i64)>,
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
