//! One story's week as a digest: gather what the store knows into a `DigestInput`, compose and
//! render it, keep it, and hand it to the outbox. `storyline digest`, the daemon's schedule
//! and the tests all go through here; `digest` itself stays pure.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::config::Config;
use crate::digest::{
    self, DigestInput, DiscussionIn, EventIn, FailingSource, ItemIn, Rendered, Templates,
    TimelineIn, UpdateIn,
};
use crate::store::{Store, StoreError};
use crate::story::report::{is_discussion, EventReport, ReportItem};
use crate::story::{self, StoryDef, StoryError, WeekReport};
use crate::value::week::IsoWeek;

/// Weeks of history on the digest's chart.
const CHART_WEEKS: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum WeeklyError {
    #[error(transparent)]
    Story(#[from] StoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Digest(#[from] digest::DigestError),
    #[error(transparent)]
    Outbox(#[from] crate::mail::OutboxError),
    #[error("cannot write the digest file: {0}")]
    Io(#[from] std::io::Error),
}

/// What a digest covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// One ISO week, cut in the configured time zone.
    Week(IsoWeek),
    /// From a moment until now.
    Since(DateTime<Utc>),
}

/// A story's week, composed and rendered.
#[derive(Debug, Clone)]
pub struct Edition {
    pub report: WeekReport,
    pub digest: digest::Digest,
    pub rendered: Rendered,
}

/// Compose and render the digest of `story` for a period. Deterministic: the same stored data
/// gives the same digest, whenever it runs (`now` only stamps "generated at").
pub async fn make(
    store: &Store,
    config: &Config,
    templates: &Templates,
    story: &StoryDef,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Edition, WeeklyError> {
    let tz = config.timezone;
    let (week, (start, end)) = match period {
        Period::Week(w) => (w, w.range(tz)),
        Period::Since(start) => (IsoWeek::containing(now, tz), (start, now)),
    };
    if matches!(period, Period::Week(_)) && now >= end {
        // The week's digest is cut: what reaches the store from now on is told next week.
        store
            .record_story_cut(
                &story.id,
                start.timestamp(),
                end.timestamp(),
                now.timestamp(),
            )
            .await?;
    }
    let report = story::period_report(store, story, week, start, end, tz).await?;
    let input = gather(store, config, story, &report, (start, end), now).await?;
    let digest = digest::compose(&input);
    let rendered = digest::render(&digest, templates)?;
    Ok(Edition {
        report,
        digest,
        rendered,
    })
}

/// Everything the digest shows, read from the store.
pub async fn gather(
    store: &Store,
    config: &Config,
    story: &StoryDef,
    report: &WeekReport,
    (week_start, week_end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> Result<DigestInput, WeeklyError> {
    let tz = config.timezone;
    let week = report.week;
    let mut first_week = week;
    for _ in 1..CHART_WEEKS {
        first_week = first_week.prev();
    }
    let times = store
        .story_item_times(
            &story.id,
            first_week.range(tz).0.timestamp(),
            week_end.timestamp(),
        )
        .await?;
    let mut counts: HashMap<IsoWeek, u32> = HashMap::new();
    for t in times {
        let w = IsoWeek::containing(crate::store::from_ts(t), tz);
        *counts.entry(w).or_default() += 1;
    }
    let mut weekly_counts = Vec::new();
    let mut w = first_week;
    for _ in 0..CHART_WEEKS {
        weekly_counts.push((w, counts.get(&w).copied().unwrap_or(0)));
        w = w.next();
    }
    let failing_sources = store
        .sources()
        .await?
        .into_iter()
        .filter(|s| s.enabled)
        .filter_map(|s| {
            Some(FailingSource {
                since: s.failing_since()?,
                error: s.last_error.clone().unwrap_or_else(|| "failing".into()),
                title: s.title.clone(),
                id: s.id,
            })
        })
        .collect();
    Ok(DigestInput {
        story_id: story.id.clone(),
        story_title: story.title.clone(),
        short_title: story.short_title.clone(),
        week,
        week_start,
        week_end,
        timezone: tz,
        developments: report.developments.iter().map(event_in).collect(),
        updates: report.updates.iter().map(update_in).collect(),
        discussions: discussions(report, week_start.timestamp(), week_end.timestamp()),
        timeline: report
            .timeline
            .iter()
            .map(|t| TimelineIn {
                id: t.id.clone(),
                headline: t.headline.clone(),
                date: local_midnight(&t.date, tz).unwrap_or(week_start),
            })
            .collect(),
        weekly_counts,
        failing_sources,
        // A past week reads the same whenever it is rendered: it is "as of" its end.
        generated_at: now.min(week_end),
    })
}

fn item_in(i: &ReportItem) -> ItemIn {
    ItemIn {
        source: i.source.clone(),
        guid: i.guid.clone(),
        url: i.url.clone(),
        title: i.title.clone(),
        published: i.row.published(),
        outlet: i.outlet.clone(),
        summary_html: i.row.summary.clone().or_else(|| i.row.content.clone()),
    }
}

fn event_in(e: &EventReport) -> EventIn {
    EventIn {
        id: e.id.clone(),
        headline: e.headline.clone(),
        first_seen: DateTime::parse_from_rfc3339(&e.first_seen)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default(),
        items: e.items.iter().map(item_in).collect(),
    }
}

fn update_in(e: &EventReport) -> UpdateIn {
    let changed: Vec<&str> = e.items.iter().filter_map(|i| i.change.as_deref()).collect();
    let what = match changed.first() {
        Some(note) => format!("page updated: {note}"),
        None if e.items.len() == 1 => "1 new report".to_string(),
        None => format!("{} new reports", e.items.len()),
    };
    UpdateIn {
        event_id: e.id.clone(),
        headline: e.headline.clone(),
        what,
        when: e
            .items
            .iter()
            .map(|i| crate::store::from_ts(i.at))
            .max()
            .unwrap_or_default(),
        items: e.items.iter().map(item_in).collect(),
    }
}

/// Threads (Reddit posts, HN items) among the week's story items, with their comment counts:
/// a thread's own count when the feed gives one (hnrss), else its stored comments.
fn discussions(report: &WeekReport, start: i64, end: i64) -> Vec<DiscussionIn> {
    let all: Vec<&ReportItem> = report
        .developments
        .iter()
        .chain(&report.updates)
        .flat_map(|e| &e.items)
        .collect();
    let mut comments: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    for c in all.iter().filter(|i| i.row.parent_guid.is_some()) {
        let parent = c.row.parent_guid.as_deref().unwrap_or_default();
        let entry = comments.entry((c.source.as_str(), parent)).or_default();
        entry.0 += 1;
        if (start..end).contains(&c.at) {
            entry.1 += 1;
        }
    }
    let mut seen = std::collections::HashSet::new();
    all.iter()
        .filter(|i| i.row.parent_guid.is_none() && is_discussion(&i.row))
        .filter(|i| seen.insert((i.source.as_str(), i.guid.as_str())))
        .filter(|i| {
            let new = (start..end).contains(&i.at);
            new || comments
                .get(&(i.source.as_str(), i.guid.as_str()))
                .is_some_and(|c| c.1 > 0)
        })
        .map(|i| {
            let (stored, fresh) = comments
                .get(&(i.source.as_str(), i.guid.as_str()))
                .copied()
                .unwrap_or_default();
            let url = i
                .row
                .discussion_url
                .clone()
                .or_else(|| i.url.clone())
                .unwrap_or_else(|| i.guid.clone());
            DiscussionIn {
                title: i.title.clone().unwrap_or_default(),
                site: site_name(&url),
                url,
                points: i.row.points,
                // Comments stored from the thread's own feed count too; with neither, the
                // count is unknown, not 0.
                comments: i.row.comments.or((stored > 0).then_some(stored)),
                new_comments: fresh,
            }
        })
        .collect()
}

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

fn local_midnight(date: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// What the schedule did for one story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueOutcome {
    /// First start: the schedule begins now; no old week is sent.
    Started,
    /// Nothing due since the last fire handled.
    NotDue,
    /// The week was composed, written to `file`, kept for the web archive, and (unless quiet,
    /// or mail is not set up) queued.
    Composed {
        week: IsoWeek,
        file: std::path::PathBuf,
        quiet: bool,
        queued: u64,
    },
}

/// The daemon's digest step: for each story whose schedule fired since the last fire handled,
/// compose the last complete week once (missed fires after downtime collapse into one),
/// write it to `digest.output_dir`, keep it for the web archive, and, unless it is a quiet
/// week that is not to be sent, queue it for subscribers when mail is configured.
pub async fn compose_due(
    app: &crate::app::App,
    now: DateTime<Utc>,
) -> Result<Vec<(String, DueOutcome)>, WeeklyError> {
    let (store, config, templates) = (&app.store, &app.config, &app.templates);
    let mail = app.mail.as_ref();
    let mut out = Vec::new();
    for story in app.stories.iter() {
        let Some(fire) = app.schedule.last_at_or_before(now) else {
            out.push((story.id.clone(), DueOutcome::NotDue));
            continue;
        };
        let outcome = match store.digest_last_fire(&story.id).await? {
            None => {
                store.set_digest_last_fire(&story.id, fire).await?;
                DueOutcome::Started
            }
            Some(handled) if handled >= fire => DueOutcome::NotDue,
            Some(_) => {
                let outcome = compose_one(store, config, templates, mail, story, fire, now).await?;
                store.set_digest_last_fire(&story.id, fire).await?;
                outcome
            }
        };
        out.push((story.id.clone(), outcome));
    }
    Ok(out)
}

async fn compose_one(
    store: &Store,
    config: &Config,
    templates: &Templates,
    mail: Option<&crate::mail::Mail>,
    story: &StoryDef,
    fire: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DueOutcome, WeeklyError> {
    let week = IsoWeek::last_complete(fire, config.timezone);
    let edition = make(store, config, templates, story, Period::Week(week), now).await?;
    let file = config
        .digest
        .output_dir
        .join(format!("{}-{week}.html", story.id));
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    tokio::fs::write(&file, &edition.rendered.html).await?;
    let quiet = edition.digest.quiet;
    let mut queued = 0;
    let r = &edition.rendered;
    match mail {
        Some(mail) if edition.digest.should_send(config.digest.send_empty) => {
            let parts = crate::store::NewDigest {
                story_id: &story.id,
                week,
                subject: &r.subject,
                text: &r.text,
                html: &r.email_html,
                chart_png: Some(&r.chart_png),
            };
            queued = crate::mail::queue_digest(store, &mail.settings, &parts, now)
                .await?
                .queued;
        }
        // Kept for the web archive when nothing is mailed: no mail set up, or a quiet week.
        _ => {
            crate::archive::keep(store, config, story, week, &edition, now).await?;
        }
    }
    Ok(DueOutcome::Composed {
        week,
        file,
        quiet,
        queued,
    })
}
