//! One story's week as a digest: gather what the store knows into a `DigestInput`, compose and
//! render it, keep it, and hand it to the outbox. `storyline digest`, the daemon's schedule
//! and the tests all go through here; `digest` itself stays pure.

pub mod archive;
mod gather;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::digest::history::CHART_WEEKS;
use crate::digest::{self, DigestInput, FailingSource, Rendered, Templates};
use crate::store::{Store, StoreError};
use crate::story::{StoryDef, StoryError};
use crate::value::week::IsoWeek;

/// Weeks of history on the digest's chart.

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
    pub week: IsoWeek,
    pub digest: digest::Digest,
    pub rendered: Rendered,
}

/// Compose and render the digest of `story` for a period. Deterministic: the same stored data
/// gives the same digest, whenever it runs (`now` only stamps "generated at"). Memory follows
/// what the digest shows, not the size of the week (see `gather`).
pub async fn make(
    store: &Store,
    config: &Config,
    templates: &Templates,
    story: &StoryDef,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Edition, WeeklyError> {
    let tz = config.timezone;
    let (week, (start, end)) = bounds(period, now, tz);
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
    let input = gather(store, config, story, week, (start, end), now).await?;
    let digest = digest::compose(&input);
    let rendered = digest::render(&digest, templates)?;
    Ok(Edition {
        week,
        digest,
        rendered,
    })
}

/// The week a period is labelled with, and its bounds `[start, end)`.
pub fn bounds(
    period: Period,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> (IsoWeek, (DateTime<Utc>, DateTime<Utc>)) {
    match period {
        Period::Week(w) => (w, w.range(tz)),
        Period::Since(start) => (IsoWeek::containing(now, tz), (start, now)),
    }
}

/// Everything the digest shows, read from the store.
pub async fn gather(
    store: &Store,
    config: &Config,
    story: &StoryDef,
    week: IsoWeek,
    (week_start, week_end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> Result<DigestInput, WeeklyError> {
    let tz = config.timezone;
    let lists = gather::lists(store, &story.id, (week_start, week_end), tz).await?;
    let mut first_week = week;
    for _ in 1..CHART_WEEKS {
        first_week = first_week.prev();
    }
    let mut weekly_counts = Vec::new();
    let mut w = first_week;
    for _ in 0..CHART_WEEKS {
        // The week being digested counts up to the period's end (`--since` ends now).
        let (from, until) = w.range(tz);
        let until = if w == week { week_end } else { until };
        let n = store
            .story_item_count(&story.id, from.timestamp(), until.timestamp())
            .await?;
        weekly_counts.push((w, n));
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
        developments: lists.developments,
        updates: lists.updates,
        discussions: lists.discussions,
        timeline: lists.timeline,
        unlisted: lists.unlisted,
        weekly_counts,
        failing_sources,
        // A past week reads the same whenever it is rendered: it is "as of" its end.
        generated_at: now.min(week_end),
    })
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
            archive::keep(store, config, story, week, &edition, now).await?;
        }
    }
    Ok(DueOutcome::Composed {
        week,
        file,
        quiet,
        queued,
    })
}
