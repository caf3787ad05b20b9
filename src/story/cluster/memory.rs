//! What the clusterer holds: each placed item's vector in the postings and its event's
//! centroid, bounded by the open events rather than by the round.

use super::*;

impl Clusterer {
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

    pub(super) fn index(&mut self, doc: &Doc, vector: Vector, event: usize) {
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
