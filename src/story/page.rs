//! One page of a story's round: the items judged, sorted into reports, discussions, misses
//! and items that may report an event without naming the story; placed into events; and the
//! decisions, events and updates to write, as one batch.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::cluster::{event_id, Clusterer, Doc, Join, Placement, Terms};
use super::decide;
use super::definition::StoryDef;
use super::judged::{doc_of, item_terms, may_report_an_event, Judged, Miss};
use super::placing::{place_discussion, place_release, promote, Places};
use super::relevance::{Matcher, Reason};
use super::rows::{decision, member_doc, member_span, page_update};
use super::shown::Cuts;
use super::text::Analyzer;
use super::{touched, ProcessReport, StoryError};
use crate::store::{FetchMarks, ItemRow, Refresh, Store, StoryBatch};

/// How many shared words a decision keeps for `storyline explain`.
const SHOWN_WORDS: usize = 6;
/// Events read from the store at the start of a round at most: the most recently active.
const MAX_LOADED_EVENTS: i64 = 5_000;
/// How far back events stay open to new items, from the newest item's time.
const LOOKBACK: i64 = 40 * 86_400;

/// What a story's round holds from page to page.
pub(super) struct Round<'a> {
    pub store: &'a Store,
    pub story: &'a StoryDef,
    pub matcher: &'a Matcher,
    pub analyzer: &'a Analyzer,
    pub marks: &'a HashMap<String, FetchMarks>,
    pub cuts: Cuts,
    /// The definition changed: everything is decided again, as of when it was first seen.
    pub changed: bool,
    pub now: DateTime<Utc>,
    pub clusterer: Clusterer,
    /// Whether the store's open events are in the clusterer yet (read at the first page).
    pub loaded: Option<()>,
    /// Each release feed's latest release this round: (event, item).
    pub series: HashMap<String, (String, i64)>,
    /// Reports held back for a later round (they stay queued).
    pub held: &'a mut Vec<i64>,
    pub report: ProcessReport,
}

impl Round<'_> {
    /// Place one page and return what to write for it.
    pub async fn place(&mut self, page: Vec<Judged>) -> Result<StoryBatch, StoryError> {
        let story = self.story;
        let t0 = std::time::Instant::now();
        let mut batch = StoryBatch::default();
        let mut fresh: Vec<Judged> = Vec::new();
        let mut misses: Vec<Miss> = Vec::new();
        // Items out by their words that may still report a recent event of the story.
        let mut context: Vec<Judged> = Vec::new();
        for mut j in page {
            self.report.decided += 1;
            if j.pending.prev_relevant.is_none()
                && j.pending.item.parent_guid.is_none()
                && may_report_an_event(self.matcher, &j)
            {
                j.terms = item_terms(self.analyzer, &j.pending.item, &j.body);
                let title = decide::relevance_title(&j.pending.item);
                j.in_field = self.matcher.context_words_in(title, &j.body).len() >= 2;
                j.drop_text();
                context.push(j);
                continue;
            }
            if j.verdict.is_nothing()
                && j.pending.prev_relevant.is_none()
                && j.pending.item.parent_guid.is_none()
            {
                misses.push(Miss {
                    id: j.pending.item.id,
                    at: j.at,
                    keys: j.url_keys,
                });
                continue;
            }
            // The text has given its verdict and clustering words; only an item out for a
            // reason other than finding nothing may need it again (a link to a story item
            // pulls it in, and its words are read then).
            if j.verdict.relevant
                || (j.verdict.reason == Reason::Nothing && j.pending.prev_relevant.is_none())
            {
                j.drop_text();
            }
            j.body = String::new();
            match (&j.pending.prev_relevant, &j.pending.prev_event) {
                // A story item that changed stays in its event; a watched page's change is
                // news.
                (Some(true), Some(event)) => {
                    if let Some(u) = page_update(story, &j, event, self.marks) {
                        batch.updates.push(u);
                        self.report.updates += 1;
                    }
                    batch.refreshes.push(Refresh {
                        story_id: story.id.clone(),
                        item_id: j.pending.item.id,
                        seen_hash: j.pending.item.content_hash.clone(),
                        summary: j.verdict.summary(),
                        terms: j.terms.encode(),
                    });
                }
                _ => fresh.push(j),
            }
        }
        let relevant: Vec<&Terms> = fresh
            .iter()
            .filter(|j| j.verdict.relevant)
            .map(|j| &j.terms)
            .collect();
        self.clusterer.count(&relevant);
        if self.loaded.is_none() {
            self.load_events(&fresh, &context, &misses).await?;
        }

        let t_sorted = t0.elapsed();
        // Reports first, as one batch; then what discusses them: comments, and items that
        // only link to a story item's page.
        fresh.sort_by_key(|j| (j.at, j.pending.item.id));
        let (reports, discussions): (Vec<usize>, Vec<usize>) = (0..fresh.len())
            .filter(|&i| fresh[i].verdict.relevant || !fresh[i].url_keys.is_empty())
            .partition(|&i| {
                fresh[i].verdict.relevant && fresh[i].pending.item.parent_guid.is_none()
            });
        // A release continues its project's series: placed after the page's other reports,
        // in the event of the series' previous release.
        let (releases, reports): (Vec<usize>, Vec<usize>) = reports.into_iter().partition(|&i| {
            let it = &fresh[i].pending.item;
            decide::is_release(&it.guid, it.title.as_deref())
        });
        let docs: Vec<Doc> = reports.iter().map(|&i| doc_of(&fresh[i])).collect();
        let mut name = |d: &Doc| {
            let j = reports
                .iter()
                .map(|&i| &fresh[i])
                .find(|j| j.pending.item.id == d.item_id);
            j.map_or_else(
                || format!("ev-item-{}", d.item_id),
                |j| event_id(&story.id, &j.pending.item.source_id, &j.pending.item.guid),
            )
        };
        let placed = self
            .clusterer
            .place_batch(&docs, self.now.timestamp(), &mut name);
        let t_placed = t0.elapsed();
        let mut placements: HashMap<usize, Option<Placement>> = HashMap::new();
        let mut deferred: HashSet<usize> = HashSet::new();
        for (k, p) in placed.into_iter().enumerate() {
            if p.is_none() {
                deferred.insert(reports[k]);
            }
            placements.insert(reports[k], p);
        }
        for &i in &releases {
            let p = place_release(
                self.store,
                story,
                &mut self.clusterer,
                &mut self.series,
                &fresh[i],
            )
            .await?;
            placements.insert(i, Some(p));
        }
        // Misses are not in it: a comment's parent only counts once placed, and a miss that
        // gets placed is added when it is.
        let mut round: HashMap<(String, String), i64> = fresh
            .iter()
            .map(|j| {
                let it = &j.pending.item;
                ((it.source_id.clone(), it.guid.clone()), it.id)
            })
            .collect();
        // Which of the pages these items link to are story items' pages already stored.
        let keys: Vec<&str> = discussions
            .iter()
            .flat_map(|&i| fresh[i].url_keys.iter())
            .chain(misses.iter().flat_map(|m| m.keys.iter()))
            .chain(context.iter().flat_map(|j| j.url_keys.iter()))
            .map(String::as_str)
            .collect::<HashSet<&str>>()
            .into_iter()
            .collect();
        let member_pages = if keys.is_empty() {
            HashSet::new()
        } else {
            self.store
                .story_member_pages_among(&story.id, &keys)
                .await?
        };
        // Discussions and misses in time order, as if they were one list: a miss that
        // shares a page with a story item is read back in full and placed like any
        // discussion.
        misses.sort_by_key(|m| (m.at, m.id));
        let mut promoted: Vec<(Judged, Placement)> = Vec::new();
        let mut missed = misses.into_iter().peekable();
        let places = Places {
            store: self.store,
            story,
            matcher: self.matcher,
            analyzer: self.analyzer,
            marks: self.marks,
            member_pages: &member_pages,
        };
        for &i in &discussions {
            let before = (fresh[i].at, fresh[i].pending.item.id);
            while let Some(m) = missed.next_if(|m| (m.at, m.id) < before) {
                places
                    .miss(m, &mut self.clusterer, &mut round, &mut promoted)
                    .await?;
            }
            let p = place_discussion(
                self.store,
                story,
                &mut self.clusterer,
                &round,
                &member_pages,
                &mut fresh[i],
            )
            .await?;
            placements.insert(i, p);
        }
        for m in missed {
            places
                .miss(m, &mut self.clusterer, &mut round, &mut promoted)
                .await?;
        }
        // Items that do not name the story, against the events as they stand after this
        // page's reports: one that clearly reports a recent event joins it.
        context.sort_by_key(|j| (j.at, j.pending.item.id));
        let words = story.name_stems(self.analyzer);
        let mut context_placed: Vec<Option<Placement>> = Vec::with_capacity(context.len());
        for j in &mut context {
            // A link to a story item's page says more than resembling its event.
            let linked = self.clusterer.knows_page(&j.url_keys)
                || j.url_keys.iter().any(|k| member_pages.contains(k));
            let mut placed = None;
            if linked {
                placed = place_discussion(
                    self.store,
                    story,
                    &mut self.clusterer,
                    &round,
                    &member_pages,
                    j,
                )
                .await?;
            }
            if placed.is_none() {
                let doc = doc_of(j);
                if let Some((span, join)) = self.clusterer.context_match(&doc, &words, j.in_field) {
                    promote(&mut j.verdict, Reason::EventContext);
                    placed = Some(self.clusterer.place_with(&doc, &span, join));
                }
            }
            context_placed.push(placed);
        }
        for &i in &deferred {
            self.held.push(fresh[i].pending.item.id);
        }
        let mut founders: HashMap<String, i64> = HashMap::new();
        let decided = fresh
            .iter()
            .enumerate()
            .filter(|(i, _)| !deferred.contains(i))
            .map(|(i, j)| (j, placements.remove(&i).flatten()))
            .chain(promoted.iter().map(|(j, p)| (j, Some(p.clone()))))
            .chain(context.iter().zip(context_placed))
            // An item with nothing of the story that reports no event keeps no row.
            .filter(|(j, p)| p.is_some() || !j.verdict.is_nothing());
        for (j, placement) in decided {
            match &placement {
                Some(p) if p.join == Join::Founded => {
                    founders.insert(p.event_id.clone(), j.pending.item.id);
                    self.report.new_events += 1;
                }
                Some(_) => self.report.joined += 1,
                None => {}
            }
            if placement.is_some() {
                self.report.relevant += 1;
            }
            // Late for a week already cut: placed now, after that week's digest was
            // composed. A changed definition re-decides everything as if it had always been
            // the definition.
            let placed_at = if self.changed {
                j.pending.item.first_seen_at
            } else {
                self.now.timestamp()
            };
            let shown_at = self.cuts.shown_at(j.at, placed_at);
            let shared = match placement.as_ref().map(|p| &p.join) {
                Some(Join::Context { shared, .. }) => Some(shared.join(" ")),
                Some(Join::Similar { .. }) => placement.as_ref().map(|p| {
                    self.clusterer
                        .shared_words(&doc_of(j), &p.event_id, SHOWN_WORDS)
                        .join(" ")
                }),
                Some(Join::SamePage { .. }) => j.url_keys.first().cloned(),
                _ => None,
            };
            let mut row = decision(story, j, placement.as_ref(), shown_at);
            row.shared = shared;
            batch.decisions.push(row);
        }

        let t_decided = t0.elapsed();
        // Events touched by this page get their span and headline recomputed.
        let items: HashMap<i64, &ItemRow> = fresh
            .iter()
            .chain(promoted.iter().map(|(j, _)| j))
            .chain(&context)
            .map(|j| (j.pending.item.id, &j.pending.item))
            .collect();
        batch.events = touched::events(
            self.store,
            story,
            &self.clusterer,
            &batch,
            &founders,
            &items,
        )
        .await?;
        tracing::debug!(story = %story.id, sorted = ?t_sorted, placed = ?(t_placed - t_sorted), decided = ?(t_decided - t_placed), touched = ?(t0.elapsed() - t_decided), "story page");
        Ok(batch)
    }

    /// Read the events open around the first page's items, as the store has them.
    async fn load_events(
        &mut self,
        fresh: &[Judged],
        context: &[Judged],
        misses: &[Miss],
    ) -> Result<(), StoryError> {
        self.loaded = Some(());
        let times = || {
            fresh
                .iter()
                .chain(context)
                .map(|j| j.at)
                .chain(misses.iter().map(|m| m.at))
        };
        let newest = times().max().unwrap_or(0);
        let oldest = times().min().unwrap_or(newest);
        for m in self
            .store
            .story_members_since(
                &self.story.id,
                oldest.min(newest - LOOKBACK),
                MAX_LOADED_EVENTS,
            )
            .await?
        {
            if m.joined.as_deref() == Some(Join::CONTEXT) {
                self.clusterer
                    .add_follower(&member_doc(&m), &member_span(&m));
            } else {
                self.clusterer.add_member(&member_doc(&m), &member_span(&m));
            }
        }
        Ok(())
    }
}
