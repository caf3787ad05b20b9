//! Story processing after every poll: for each story, decide the queued items and place them
//! into events, a page at a time, each page written in one transaction.
//!
//! A weekly round of an ordinary story fits in one page. A huge round (a story that takes
//! every item of thousands of feeds) is worked through page by page: what is held is the page
//! and the events open in memory, not the round. Items are read in the order they were stored
//! and placed oldest first within their page. The queue is drained once every story has seen
//! it, so a crash leaves the rest to the next run; a decided item is not decided twice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;

use super::cluster::{Clusterer, Idf, Terms};
use super::definition::StoryDef;
use super::judged::judge;
use super::page::Round;
use super::relevance::Matcher;
use super::shown::Cuts;
use super::text::Analyzer;
use super::{ProcessReport, StoryError};
use crate::store::{FetchMarks, Pending, Store};

/// How much a round holds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Items read, judged, placed and written together.
    pub page_items: usize,
    /// Event members held in memory with their words at most (see [`Clusterer::shed`]).
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            page_items: 2_000,
            max_members: 20_000,
        }
    }
}

/// Decide and cluster every item that needs it, for every story.
pub async fn process(
    store: &Store,
    stories: &[StoryDef],
    now: DateTime<Utc>,
) -> Result<ProcessReport, StoryError> {
    process_with(store, stories, now, Limits::default()).await
}

/// As [`process`], holding at most what `limits` says.
pub async fn process_with(
    store: &Store,
    stories: &[StoryDef],
    now: DateTime<Utc>,
    limits: Limits,
) -> Result<ProcessReport, StoryError> {
    let marks = store.sync_fetch_marks().await?;
    // Read before any story looks, so what is queued meanwhile waits for the next round.
    let queued = store.story_queue_end().await?;
    let quiet_key = super::screen::key_of(stories);
    let mut total = ProcessReport::default();
    let analyzer = Analyzer::new();
    // Reports held back for a later round stay queued, whichever story held them.
    let mut held: Vec<i64> = Vec::new();
    for story in stories {
        let which = Pending {
            all: false,
            upto: queued,
            quiet_key,
        };
        let r = process_story(
            store, story, &marks, &analyzer, which, now, limits, &mut held,
        )
        .await?;
        total.decided += r.decided;
        total.relevant += r.relevant;
        total.new_events += r.new_events;
        total.joined += r.joined;
        total.updates += r.updates;
    }
    if let Some(upto) = queued {
        held.sort_unstable();
        held.dedup();
        store.drain_story_queue(upto, &held).await?;
    }
    Ok(total)
}

#[allow(clippy::too_many_arguments)]
async fn process_story(
    store: &Store,
    story: &StoryDef,
    marks: &HashMap<String, FetchMarks>,
    analyzer: &Analyzer,
    mut which: Pending,
    now: DateTime<Utc>,
    limits: Limits,
    held: &mut Vec<i64>,
) -> Result<ProcessReport, StoryError> {
    let fingerprint = story.fingerprint();
    let changed =
        store.story_fingerprint(&story.id).await?.as_deref() != Some(fingerprint.as_str());
    if changed {
        store.reset_story(&story.id, &fingerprint, now).await?;
        which.all = true;
    } else if which.upto.is_none() {
        return Ok(ProcessReport::default());
    }
    let t0 = std::time::Instant::now();
    // Document frequencies over the story's items so far; each page adds its own.
    let mut idf = Idf::naming(story.name_stems(analyzer));
    let mut terms = store.story_terms(&story.id);
    while let Some(t) = terms.next().await {
        idf.add(&Terms::decode(&t?));
    }
    drop(terms);
    let matcher = Matcher::new(story);
    let mut round = Round {
        store,
        story,
        matcher: &matcher,
        analyzer,
        marks,
        cuts: Cuts::new(store.story_cuts(&story.id).await?),
        changed,
        now,
        clusterer: Clusterer::new(idf),
        loaded: None,
        series: HashMap::new(),
        held,
        report: ProcessReport::default(),
    };
    let mut page = Vec::with_capacity(limits.page_items.min(256));
    let mut rows = store.pending_story_items_stream(&story.id, which);
    loop {
        let next = rows.next().await.transpose()?;
        let done = next.is_none();
        if let Some(p) = next {
            if story.takes_source(&p.item.source_id) {
                page.push(judge(&matcher, analyzer, p, marks));
            }
        }
        if page.len() >= limits.page_items.max(1) || (done && !page.is_empty()) {
            let batch = round.place(std::mem::take(&mut page)).await?;
            store.save_story_batch(&batch, now).await?;
            round.clusterer.shed(limits.max_members);
        }
        if done {
            break;
        }
    }
    tracing::debug!(story = %story.id, decided = round.report.decided, relevant = round.report.relevant, elapsed = ?t0.elapsed(), "story processed");
    Ok(round.report)
}
