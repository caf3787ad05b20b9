//! One round of story processing: decide pending items, place them into events, and write
//! it all at once.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use futures_util::StreamExt as _;

use super::cluster::{event_id, Clusterer, Doc, EventSpan, Idf, Join, Placement, Terms};
use super::decide;
use super::definition::StoryDef;
use super::relevance::{Matcher, Reason, Verdict};
use super::report;
use super::shown::Cuts;
use super::terms::page_keys;
use super::text::{self, Analyzer};
use super::{timing, ProcessReport, StoryError};
use crate::store::{
    DecisionRow, EventRow, FetchMarks, MemberRow, Pending, PendingItem, Refresh, ReportMember,
    Store, StoryBatch, UpdateRow,
};

/// How many shared words a decision keeps for `storyline explain`.
const SHOWN_WORDS: usize = 6;

/// How far back events stay open to new items, from the newest item's time.
const LOOKBACK: i64 = 40 * 86_400;

/// Decide and cluster every item that needs it, for every story.
pub async fn process(
    store: &Store,
    stories: &[StoryDef],
    now: DateTime<Utc>,
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
        let r = process_story(
            store, story, &marks, &analyzer, queued, quiet_key, now, &mut held,
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

/// A pending item read and judged.
struct Judged {
    pending: PendingItem,
    verdict: Verdict,
    /// The plain-text body the verdict read; emptied once the clustering words are taken.
    body: String,
    at: i64,
    terms: Terms,
    url_keys: Vec<String>,
    /// Holds two or more of the story's context words (see `Matcher::context_words_in`).
    in_field: bool,
}

impl Judged {
    /// Forget the item's text: a round of a broad story would otherwise hold all of it.
    fn drop_text(&mut self) {
        self.pending.item.summary = None;
        self.pending.item.content = None;
        self.body = String::new();
    }
}

/// Is an item that its words leave out still possibly a report of a recent event? Not when
/// the definition rules it out (an exclusion, another version, a passing mention), nor when
/// it holds no word of the story's vocabulary at all.
fn may_report_an_event(matcher: &Matcher, j: &Judged) -> bool {
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

/// The stems of the phrases that name the story: they say an item is the story's, not which
/// development it reports. (Aliases and ambiguous terms often name one development: "Deep
/// Think", "Computer Use".)
fn story_words(story: &StoryDef, analyzer: &Analyzer) -> HashSet<String> {
    story
        .phrases
        .iter()
        .flat_map(|w| text::tokenize(w))
        .map(|t| analyzer.stem(&t))
        .collect()
}

/// Place a release in its project's series: the event of the same source's previous release
/// (this round's, else the store's), or, for a series' first, like any report.
async fn place_release(
    store: &Store,
    story: &StoryDef,
    clusterer: &mut Clusterer<'_>,
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

#[allow(clippy::too_many_arguments)]
async fn process_story(
    store: &Store,
    story: &StoryDef,
    marks: &HashMap<String, FetchMarks>,
    analyzer: &Analyzer,
    queued: Option<i64>,
    quiet_key: i64,
    now: DateTime<Utc>,
    held: &mut Vec<i64>,
) -> Result<ProcessReport, StoryError> {
    let fingerprint = story.fingerprint();
    let changed =
        store.story_fingerprint(&story.id).await?.as_deref() != Some(fingerprint.as_str());
    if changed {
        store.reset_story(&story.id, &fingerprint, now).await?;
    } else if queued.is_none() {
        return Ok(ProcessReport::default());
    }
    let which = Pending {
        all: changed,
        upto: queued,
        quiet_key,
    };
    let t0 = std::time::Instant::now();
    let matcher = Matcher::new(story);
    let mut report = ProcessReport::default();
    let mut batch = StoryBatch::default();
    let mut fresh: Vec<Judged> = Vec::new();
    let mut misses: Vec<Miss> = Vec::new();
    // Items out by their words that may still report a recent event of the story.
    let mut context: Vec<Judged> = Vec::new();
    let mut rows = store.pending_story_items_stream(&story.id, which);
    while let Some(p) = rows.next().await {
        let p = p?;
        if !story.takes_source(&p.item.source_id) {
            continue;
        }
        let mut j = judge(&matcher, analyzer, p, marks);
        report.decided += 1;
        if j.pending.prev_relevant.is_none()
            && j.pending.item.parent_guid.is_none()
            && may_report_an_event(&matcher, &j)
        {
            j.terms = item_terms(analyzer, &j.pending.item, &j.body);
            let title = decide::relevance_title(&j.pending.item);
            j.in_field = matcher.context_words_in(title, &j.body).len() >= 2;
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
        // The text has given its verdict and clustering words; only an item out for a reason
        // other than finding nothing may need it again (a link to a story item pulls it in,
        // and its words are read then). A round of a story that takes everything would
        // otherwise hold every item's text.
        if j.verdict.relevant
            || (j.verdict.reason == Reason::Nothing && j.pending.prev_relevant.is_none())
        {
            j.drop_text();
        }
        j.body = String::new();
        match (&j.pending.prev_relevant, &j.pending.prev_event) {
            // A story item that changed stays in its event; a watched page's change is news.
            (Some(true), Some(event)) => {
                if let Some(u) = page_update(story, &j, event, marks) {
                    batch.updates.push(u);
                    report.updates += 1;
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

    drop(rows);
    let t_judged = t0.elapsed();
    if report.decided == 0 {
        return Ok(report);
    }
    // Document frequencies over the story's items, old and new.
    let mut idf = Idf::naming(story_words(story, analyzer));
    for t in store.story_terms(&story.id).await? {
        idf.add(&Terms::decode(&t));
    }
    for j in fresh.iter().filter(|j| j.verdict.relevant) {
        idf.add(&j.terms);
    }

    let mut clusterer = Clusterer::new(&idf);
    let times = || {
        fresh
            .iter()
            .chain(&context)
            .map(|j| j.at)
            .chain(misses.iter().map(|m| m.at))
    };
    let newest = times().max().unwrap_or(0);
    let oldest = times().min().unwrap_or(newest);
    for m in store
        .story_members_since(&story.id, oldest.min(newest - LOOKBACK))
        .await?
    {
        if m.joined.as_deref() == Some(Join::CONTEXT) {
            clusterer.add_follower(&member_doc(&m), &member_span(&m));
        } else {
            clusterer.add_member(&member_doc(&m), &member_span(&m));
        }
    }

    // Reports first, as one batch; then what discusses them: comments, and items that only
    // link to a story item's page.
    fresh.sort_by_key(|j| (j.at, j.pending.item.id));
    let (reports, discussions): (Vec<usize>, Vec<usize>) = (0..fresh.len())
        .filter(|&i| fresh[i].verdict.relevant || !fresh[i].url_keys.is_empty())
        .partition(|&i| fresh[i].verdict.relevant && fresh[i].pending.item.parent_guid.is_none());
    // A release continues its project's series: placed after the round's other reports, in
    // the event of the series' previous release.
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
    let placed = clusterer.place_batch(&docs, now.timestamp(), &mut name);
    let mut placements: HashMap<usize, Option<Placement>> = HashMap::new();
    let mut deferred: HashSet<usize> = HashSet::new();
    for (k, p) in placed.into_iter().enumerate() {
        if p.is_none() {
            deferred.insert(reports[k]);
        }
        placements.insert(reports[k], p);
    }
    let mut series: HashMap<String, (String, i64)> = HashMap::new();
    for &i in &releases {
        let p = place_release(store, story, &mut clusterer, &mut series, &fresh[i]).await?;
        placements.insert(i, Some(p));
    }
    // Misses are not in it: a comment's parent only counts once placed, and a miss that gets
    // placed is added when it is.
    let mut round: HashMap<(String, String), i64> = fresh
        .iter()
        .map(|j| {
            let it = &j.pending.item;
            ((it.source_id.clone(), it.guid.clone()), it.id)
        })
        .collect();
    let member_pages = if discussions.is_empty() && misses.is_empty() && context.is_empty() {
        HashSet::new()
    } else {
        store.story_member_pages(&story.id).await?
    };
    // Discussions and misses in time order, as if they were one list: a miss that shares a
    // page with a story item is read back in full and placed like any discussion.
    misses.sort_by_key(|m| (m.at, m.id));
    let mut promoted: Vec<(Judged, Placement)> = Vec::new();
    let mut missed = misses.into_iter().peekable();
    let places = Places {
        store,
        story,
        matcher: &matcher,
        analyzer,
        marks,
        member_pages: &member_pages,
    };
    for &i in &discussions {
        let before = (fresh[i].at, fresh[i].pending.item.id);
        while let Some(m) = missed.next_if(|m| (m.at, m.id) < before) {
            places
                .miss(m, &mut clusterer, &mut round, &mut promoted)
                .await?;
        }
        let p = place_discussion(
            store,
            story,
            &mut clusterer,
            &round,
            &member_pages,
            &mut fresh[i],
        )
        .await?;
        placements.insert(i, p);
    }
    for m in missed {
        places
            .miss(m, &mut clusterer, &mut round, &mut promoted)
            .await?;
    }
    // Items that do not name the story, against the events as they stand after this round's
    // reports: one that clearly reports a recent event joins it.
    context.sort_by_key(|j| (j.at, j.pending.item.id));
    let words = story_words(story, analyzer);
    let mut context_placed: Vec<Option<Placement>> = Vec::with_capacity(context.len());
    for j in &mut context {
        // A link to a story item's page says more than resembling its event.
        let linked = clusterer.knows_page(&j.url_keys)
            || j.url_keys.iter().any(|k| member_pages.contains(k));
        let mut placed = None;
        if linked {
            placed =
                place_discussion(store, story, &mut clusterer, &round, &member_pages, j).await?;
        }
        if placed.is_none() {
            let doc = doc_of(j);
            if let Some((span, join)) = clusterer.context_match(&doc, &words, j.in_field) {
                promote(&mut j.verdict, Reason::EventContext);
                placed = Some(clusterer.place_with(&doc, &span, join));
            }
        }
        context_placed.push(placed);
    }
    for &i in &deferred {
        held.push(fresh[i].pending.item.id);
    }
    let cuts = Cuts::new(store.story_cuts(&story.id).await?);
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
                report.new_events += 1;
            }
            Some(_) => report.joined += 1,
            None => {}
        }
        if placement.is_some() {
            report.relevant += 1;
        }
        // Late for a week already cut: placed now, after that week's digest was composed.
        // A changed definition re-decides everything as if it had always been the definition.
        let placed_at = if changed {
            j.pending.item.first_seen_at
        } else {
            now.timestamp()
        };
        let shown_at = cuts.shown_at(j.at, placed_at);
        let shared = match placement.as_ref().map(|p| &p.join) {
            Some(Join::Context { shared, .. }) => Some(shared.join(" ")),
            Some(Join::Similar { .. }) => placement.as_ref().map(|p| {
                clusterer
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

    // Events touched this round get their span and headline recomputed.
    let touched: HashSet<String> = batch
        .decisions
        .iter()
        .filter_map(|d| d.event_id.clone())
        .collect();
    let items: HashMap<i64, &crate::store::ItemRow> = fresh
        .iter()
        .chain(promoted.iter().map(|(j, _)| j))
        .chain(&context)
        .map(|j| (j.pending.item.id, &j.pending.item))
        .collect();
    batch.events = touched_events(
        store, story, &clusterer, &touched, &batch, &founders, &items,
    )
    .await?;
    let t_clustered = t0.elapsed();
    store.save_story_batch(&batch, now).await?;
    tracing::debug!(story = %story.id, decided = report.decided, stored = batch.decisions.len(), load_and_judge = ?t_judged, cluster = ?(t_clustered - t_judged), save = ?(t0.elapsed() - t_clustered), "story timings");
    Ok(report)
}

/// An undecided item in which nothing of the story was found: most items of a big round.
/// It only matters if it shares a page with a story item, so until the round's story items
/// are placed it is kept this small, not as a whole row; if it shares none, no decision is
/// stored for it at all (see `migrations/0005_story_queue.sql`).
struct Miss {
    id: i64,
    at: i64,
    keys: Vec<String>,
}

/// What placing a miss needs besides the clusterer and the round's lists.
struct Places<'a> {
    store: &'a Store,
    story: &'a StoryDef,
    matcher: &'a Matcher,
    analyzer: &'a Analyzer,
    marks: &'a HashMap<String, FetchMarks>,
    member_pages: &'a HashSet<String>,
}

impl Places<'_> {
    /// Place a miss that shares a page with a story item (as [`place_discussion`] would);
    /// the others stay out, with nothing stored.
    async fn miss(
        &self,
        m: Miss,
        clusterer: &mut Clusterer<'_>,
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

fn judge(
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
    Judged {
        pending,
        verdict,
        body,
        at,
        terms,
        url_keys,
        in_field: false,
    }
}

fn item_terms(analyzer: &Analyzer, it: &crate::store::ItemRow, body: &str) -> Terms {
    let link = it.canonical_url.as_deref().or(it.url.as_deref());
    let title = it.title.as_deref().unwrap_or_default();
    Terms::from_item(analyzer, title, it.outlet_name.as_deref(), body, link)
}

fn doc_of(j: &Judged) -> Doc {
    Doc {
        item_id: j.pending.item.id,
        at: j.at,
        terms: j.terms.clone(),
        url_keys: j.url_keys.clone(),
    }
}

/// Place a comment with the item it comments on, and an item that links to a story item's
/// page with that item; a relevant comment whose parent is unknown is placed on its own.
/// Irrelevant items that do neither stay out.
async fn place_discussion(
    store: &Store,
    story: &StoryDef,
    clusterer: &mut Clusterer<'_>,
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

fn promote(v: &mut Verdict, reason: Reason) {
    v.relevant = true;
    v.reason = reason;
}

fn decision(story: &StoryDef, j: &Judged, p: Option<&Placement>, shown_at: i64) -> DecisionRow {
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
fn page_update(
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

async fn touched_events(
    store: &Store,
    story: &StoryDef,
    clusterer: &Clusterer<'_>,
    touched: &HashSet<String>,
    batch: &StoryBatch,
    founders: &HashMap<String, i64>,
    items: &HashMap<i64, &crate::store::ItemRow>,
) -> Result<Vec<EventRow>, StoryError> {
    let ids: Vec<String> = touched.iter().cloned().collect();
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

fn member_doc(m: &MemberRow) -> Doc {
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

fn member_span(m: &MemberRow) -> EventSpan {
    EventSpan {
        id: m.event_id.clone(),
        first_at: m.first_at,
        last_at: m.last_at,
    }
}
