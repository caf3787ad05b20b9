//! Everything a digest shows of a story's week, read from the store without holding the week.
//!
//! The week's members stream past once, grouped by event, each event tallied as it goes
//! ([`Tally`]); only the developments and updates the digest lists, the discussions it shows
//! and the timeline lines it prints are kept, and only those are read further: their
//! headlines from the first members of each, and the excerpt from the first reports of one
//! development at a time. What is left out is counted ([`Unlisted`]). So memory follows what
//! the digest shows, not how many items the week has. Composition keeps the same lists from a
//! whole week (`digest::compose`), so the digest reads the same either way.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::WeeklyError;
use crate::digest::compose::{
    development_rank, excerpt_source, update_rank, TOP_DEVELOPMENTS, TOP_DISCUSSIONS, TOP_UPDATES,
};
use crate::digest::history::TIMELINE_MAX;
use crate::digest::{DiscussionIn, EventIn, ItemIn, Tally, TimelineIn, Unlisted, UpdateIn};
use crate::store::{from_ts, EarlierEvent, HeadlineMember, Store, WeekMember};
use crate::story::headline::{choose_headline, looks_like_discussion, HEADLINE_POOL};

/// What the digest lists of a week, read from the store.
pub(super) struct Lists {
    pub developments: Vec<EventIn>,
    pub updates: Vec<UpdateIn>,
    pub discussions: Vec<DiscussionIn>,
    pub timeline: Vec<TimelineIn>,
    pub unlisted: Unlisted,
}

/// Read the lists a digest of the story's period `[start, end)` shows.
pub(super) async fn lists(
    store: &Store,
    story_id: &str,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    tz: chrono_tz::Tz,
) -> Result<Lists, WeeklyError> {
    let period = (start.timestamp(), end.timestamp());
    // Comments first: a thread is shown for its comments, wherever they are in the week.
    let mut comments: HashMap<(String, String), (i64, i64)> = HashMap::new();
    store
        .each_week_comment(story_id, period, |source, parent, at| {
            let c = comments.entry((source, parent)).or_default();
            c.0 += 1;
            if (period.0..period.1).contains(&at) {
                c.1 += 1;
            }
        })
        .await?;
    let mut week = Week::new(period, comments);
    store
        .each_week_member(story_id, period, |m| {
            week.add(m);
            Ok::<_, WeeklyError>(())
        })
        .await?;
    week.close();

    let mut unlisted = Unlisted::default();
    let mut developments = week.developments.finish();
    unlisted.developments = week.development_count - developments.len();
    let listed_outlets: HashSet<&str> = developments
        .iter()
        .flat_map(|d| d.reports.outlet_names())
        .collect();
    unlisted.outlets = week.outlets.len() - listed_outlets.len();
    let mut updates = week.updates.finish();
    unlisted.updates = week.update_count - updates.len();
    let discussions = week.threads.finish();

    // The story so far: the latest earlier developments that fit beside the week's.
    let room = TIMELINE_MAX.saturating_sub(developments.len());
    let mut earlier = Top::new(room);
    let mut earlier_count = 0;
    store
        .each_earlier_event(story_id, period, |e| {
            earlier_count += 1;
            let date = timeline_date(e.first_at, tz, start);
            earlier.push((Reverse((date, e.event_id.clone())), e));
        })
        .await?;
    let earlier: Vec<EarlierEvent> = earlier.finish();
    unlisted.timeline = earlier_count - earlier.len();

    let ids: Vec<String> = developments
        .iter()
        .map(|d| d.id.clone())
        .chain(updates.iter().map(|u| u.event_id.clone()))
        .chain(earlier.iter().map(|e| e.event_id.clone()))
        .collect();
    let pools = store
        .story_event_heads(story_id, &ids, HEADLINE_POOL, Some(period.1))
        .await?;
    let mut by_event: HashMap<&str, Vec<&HeadlineMember>> = HashMap::new();
    for m in &pools {
        by_event.entry(&m.event_id).or_default().push(m);
    }
    let headline = |id: &str| choose_headline(by_event.get(id).map_or(&[][..], Vec::as_slice));
    let mut timeline = Vec::new();
    for d in &mut developments {
        d.headline = headline(&d.id);
        timeline.push(TimelineIn {
            id: d.id.clone(),
            headline: d.headline.clone(),
            date: timeline_date(d.first_seen.timestamp(), tz, start),
        });
        add_excerpt_text(store, d).await?;
    }
    for u in &mut updates {
        u.headline = headline(&u.event_id);
    }
    for e in earlier {
        timeline.push(TimelineIn {
            headline: headline(&e.event_id),
            id: e.event_id,
            date: timeline_date(e.first_at, tz, start),
        });
    }
    Ok(Lists {
        developments,
        updates,
        discussions,
        timeline,
        unlisted,
    })
}

/// Read the texts of a development's first reports and keep only the one its excerpt comes
/// from: one development's texts at a time are in memory, never the week's.
async fn add_excerpt_text(store: &Store, d: &mut EventIn) -> Result<(), WeeklyError> {
    let keys: Vec<(&str, &str)> = d
        .reports
        .first
        .iter()
        .map(|i| (i.source.as_str(), i.guid.as_str()))
        .collect();
    let texts: HashMap<(String, String), Option<String>> = store
        .item_texts(&keys)
        .await?
        .into_iter()
        .map(|(s, g, t)| ((s, g), t))
        .collect();
    for i in &mut d.reports.first {
        i.summary_html = texts
            .get(&(i.source.clone(), i.guid.clone()))
            .cloned()
            .flatten();
    }
    let source = excerpt_source(d);
    for (k, i) in d.reports.first.iter_mut().enumerate() {
        if Some(k) != source {
            i.summary_html = None;
        }
    }
    Ok(())
}

/// The day a timeline line is dated by: local midnight of the first report's day.
fn timeline_date(first_at: i64, tz: chrono_tz::Tz, fallback: DateTime<Utc>) -> DateTime<Utc> {
    let day = from_ts(first_at).with_timezone(&tz).format("%Y-%m-%d");
    local_midnight(&day.to_string(), tz).unwrap_or(fallback)
}

fn local_midnight(date: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The `n` smallest of what is pushed, by key; memory stays at twice `n`.
struct Top<K: Ord, V> {
    n: usize,
    kept: Vec<(K, V)>,
}

impl<K: Ord, V> Top<K, V> {
    fn new(n: usize) -> Self {
        Top {
            n,
            kept: Vec::new(),
        }
    }

    fn push(&mut self, kv: (K, V)) {
        self.kept.push(kv);
        if self.kept.len() >= 2 * self.n.max(1) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.kept.sort_by(|a, b| a.0.cmp(&b.0));
        self.kept.truncate(self.n);
    }

    /// The kept values, smallest key first.
    fn finish(mut self) -> Vec<V> {
        self.trim();
        self.kept.into_iter().map(|(_, v)| v).collect()
    }
}

type DevelopmentKey = (Reverse<usize>, Reverse<usize>, DateTime<Utc>, String);
type UpdateKey = (
    Reverse<usize>,
    Reverse<usize>,
    Reverse<DateTime<Utc>>,
    String,
);
/// Composition's order of threads, then the order the week lists them in.
type ThreadKey = (
    (Reverse<Option<i64>>, Reverse<Option<i64>>, String, String),
    (bool, i64, i64),
);

/// The week as it streams past: the event being read and what is kept of those read.
struct Week {
    period: (i64, i64),
    comments: HashMap<(String, String), (i64, i64)>,
    open: Option<Open>,
    developments: Top<DevelopmentKey, EventIn>,
    development_count: usize,
    /// Every outlet of every development, lowercased.
    outlets: HashSet<String>,
    updates: Top<UpdateKey, UpdateIn>,
    update_count: usize,
    threads: Top<ThreadKey, DiscussionIn>,
}

/// The event being read.
struct Open {
    event_id: String,
    older: bool,
    reports: Tally,
    first_at: i64,
    last_at: i64,
    /// The first changed page, by time then item: (at, item, note).
    changed: Option<(i64, i64, String)>,
}

impl Week {
    fn new(period: (i64, i64), comments: HashMap<(String, String), (i64, i64)>) -> Week {
        Week {
            period,
            comments,
            open: None,
            developments: Top::new(TOP_DEVELOPMENTS),
            development_count: 0,
            outlets: HashSet::new(),
            updates: Top::new(TOP_UPDATES),
            update_count: 0,
            threads: Top::new(TOP_DISCUSSIONS),
        }
    }

    fn add(&mut self, m: WeekMember) {
        if self.open.as_ref().is_some_and(|o| o.event_id != m.event_id) {
            self.close();
        }
        self.thread(&m);
        let open = self.open.get_or_insert_with(|| Open {
            event_id: m.event_id.clone(),
            older: m.older,
            reports: Tally::default(),
            first_at: m.at,
            last_at: m.at,
            changed: None,
        });
        open.first_at = open.first_at.min(m.at);
        open.last_at = open.last_at.max(m.at);
        if let Some(note) = &m.note {
            if open
                .changed
                .as_ref()
                .is_none_or(|c| (m.at, m.item_id) < (c.0, c.1))
            {
                open.changed = Some((m.at, m.item_id, note.clone()));
            }
        }
        open.reports.add(ItemIn {
            source: m.source_id,
            guid: m.guid,
            url: m.url,
            title: m.title,
            published: m.published_at.map(from_ts),
            outlet: m.outlet_name,
            summary_html: None,
        });
    }

    /// Keep a thread (a Reddit post, an HN item) that is new in the week or has new comments
    /// in it, with its comment counts, when it is among the most discussed so far.
    fn thread(&mut self, m: &WeekMember) {
        let is_thread = m.parent_guid.is_none()
            && looks_like_discussion(
                m.points.is_some() || m.comments.is_some(),
                m.discussion_url.is_some(),
                m.url.as_deref(),
                &m.guid,
            );
        if !is_thread {
            return;
        }
        let (stored, fresh) = self
            .comments
            .get(&(m.source_id.clone(), m.guid.clone()))
            .copied()
            .unwrap_or_default();
        if !(self.period.0..self.period.1).contains(&m.at) && fresh == 0 {
            return;
        }
        let url = m
            .discussion_url
            .clone()
            .or_else(|| m.url.clone())
            .unwrap_or_else(|| m.guid.clone());
        let d = DiscussionIn {
            title: m.title.clone().unwrap_or_default(),
            site: site_name(&url),
            url,
            points: m.points,
            // Comments stored from the thread's own feed count too; with neither, the count
            // is unknown, not 0.
            comments: m.comments.or((stored > 0).then_some(stored)),
            new_comments: fresh,
        };
        let key = (
            (
                Reverse(d.points),
                Reverse(d.comments),
                d.title.clone(),
                d.url.clone(),
            ),
            (m.older, m.at, m.item_id),
        );
        self.threads.push((key, d));
    }

    /// Finish the event being read: a development or an update, kept if it ranks.
    fn close(&mut self) {
        let Some(o) = self.open.take() else {
            return;
        };
        if o.older {
            self.update_count += 1;
            let what = match o.changed {
                Some((_, _, note)) => format!("page updated: {note}"),
                None if o.reports.count == 1 => "1 new report".to_string(),
                None => format!("{} new reports", o.reports.count),
            };
            let u = UpdateIn {
                event_id: o.event_id,
                headline: String::new(),
                what,
                when: from_ts(o.last_at),
                reports: o.reports,
            };
            let (a, b, c, id) = update_rank(&u);
            self.updates.push(((a, b, c, id.to_string()), u));
        } else {
            self.development_count += 1;
            self.outlets
                .extend(o.reports.outlet_names().map(str::to_string));
            let d = EventIn {
                id: o.event_id,
                headline: String::new(),
                first_seen: from_ts(o.first_at),
                reports: o.reports,
            };
            let (a, b, c, id) = development_rank(&d);
            self.developments.push(((a, b, c, id.to_string()), d));
        }
    }
}

/// "Reddit", "Hacker News", else the host.
fn site_name(url: &str) -> String {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    match crate::forum::Forum::from_host(&host) {
        Some(forum) => forum.name().into(),
        None => host.trim_start_matches("www.").to_string(),
    }
}
