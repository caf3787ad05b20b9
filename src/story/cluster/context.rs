//! Joining by context: a report that does not name the story may join a recent story event it
//! clearly resembles.

use super::*;

impl Clusterer {
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
}
