//! One polling round: `run_cycle(now)` is what the CLI, the daemon and the tests all call.
//!
//! Fetches run concurrently (bounded in total and per host); parsing and turning entries into
//! rows happen in the fetch task; every store write goes through this one loop, which writes
//! the sources that are ready in one transaction (a source's items and its fetch record
//! always together), so SQLite sees a single writer and a crash mid-round loses nothing
//! already committed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use url::Url;

use crate::fetch::{FetchError, FetchOutcome, Fetched, Fetcher, Validators};
use crate::parse::{self, Entry};
use crate::store::{Batch, FetchRecord, NewItem, SourceRow, SourceStatus, StoreError};
use crate::story::Screen;
use crate::value::source::SourceKind;

/// Most sources written in one transaction.
const WRITE_GROUP: usize = 64;

/// Longest wait between retries of a failing source.
const MAX_BACKOFF: Duration = Duration::from_secs(7 * 24 * 3600);

/// Everything a polling round needs: the app handle, under the name this module has used.
/// `App` is the one handle now; this alias keeps `Context` working while other branches that
/// say `refresh::Context` land, and goes once they have.
pub type Context = crate::app::App;

/// Which sources a round polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Enabled sources whose next due time has come.
    Due,
    /// Every enabled source, now.
    All,
    /// Just these sources, now.
    Only(Vec<String>),
}

/// What happened to one source in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceResult {
    Stored {
        new: usize,
        updated: usize,
        over_cap: usize,
    },
    NotModified,
    /// A static reference stored from the config (never fetched).
    Reference {
        stored: bool,
    },
    RateLimited {
        until: DateTime<Utc>,
    },
    Gone,
    Failed {
        error: String,
        retry_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceReport {
    pub source: String,
    pub result: SourceResult,
    /// Row ids of items stored or changed by this round.
    pub new_items: Vec<i64>,
    pub updated_items: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct CycleReport {
    pub sources: Vec<SourceReport>,
    /// What story processing did after the fetches.
    pub stories: crate::story::ProcessReport,
}

impl CycleReport {
    pub fn new_items(&self) -> usize {
        self.sources.iter().map(|s| s.new_items.len()).sum()
    }
    pub fn updated_items(&self) -> usize {
        self.sources.iter().map(|s| s.updated_items.len()).sum()
    }
    pub fn failed(&self) -> usize {
        self.sources
            .iter()
            .filter(|s| {
                matches!(
                    s.result,
                    SourceResult::Failed { .. }
                        | SourceResult::RateLimited { .. }
                        | SourceResult::Gone
                )
            })
            .count()
    }
}

/// Observes a round as it goes (the CLI draws a progress bar).
pub trait Progress: Send + Sync {
    fn start(&self, _total: usize) {}
    fn source_done(&self, _report: &SourceReport) {}
}

/// A progress observer that does nothing.
pub struct Quiet;
impl Progress for Quiet {}

#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error("no source with id \"{0}\"")]
    UnknownSource(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("story processing failed: {0}")]
    Story(#[from] crate::story::StoryError),
}

/// What a fetch task hands back to the writer.
struct Polled {
    source: SourceRow,
    result: Result<Outcome, FetchError>,
}

/// A fetched and parsed body, already turned into rows.
struct Parsed {
    items: Result<Vec<NewItem>, parse::ParseError>,
    validators: Validators,
    moved_to: Option<Url>,
    http_status: u16,
}

enum Outcome {
    Parsed(Box<Parsed>),
    NotModified(Validators),
    RateLimited {
        status: u16,
        retry_after: Option<crate::fetch::RetryAfter>,
    },
    Gone,
}

/// Run one polling round at `now`.
pub async fn run_cycle(
    ctx: &Context,
    now: DateTime<Utc>,
    selection: &Selection,
    progress: &dyn Progress,
) -> Result<CycleReport, CycleError> {
    let sources = select(ctx, now, selection).await?;
    progress.start(sources.len());
    let mut report = CycleReport::default();

    let (fetchable, references): (Vec<SourceRow>, Vec<SourceRow>) =
        sources.into_iter().partition(|s| s.poll);
    for s in references {
        let r = store_reference(ctx, &s, now).await?;
        progress.source_done(&r);
        report.sources.push(r);
    }

    let started = std::time::Instant::now();
    let stories = ctx.stories.clone();
    let screen = Arc::new(Screen::new(&stories));
    let (tx, mut rx) = mpsc::channel::<Polled>(WRITE_GROUP);
    let mut tasks = spawn_fetches(ctx, fetchable, &screen, tx);
    let mut group = Vec::with_capacity(WRITE_GROUP);
    // Whatever has arrived while the last group was being written goes in the next one, so
    // a slow round writes one source at a time and a fast one a few dozen per commit.
    while rx.recv_many(&mut group, WRITE_GROUP).await > 0 {
        let mut batch = ctx.store.batch().await?;
        let mut done = Vec::with_capacity(group.len());
        for polled in group.drain(..) {
            done.push(write_outcome(&mut batch, ctx, polled, now).await?);
        }
        batch.commit().await?;
        for r in done {
            progress.source_done(&r);
            report.sources.push(r);
        }
    }
    while tasks.join_next().await.is_some() {}
    report.sources.sort_by(|a, b| a.source.cmp(&b.source));
    // Stories stay current with every round. The items above are committed already, so a
    // failure here loses nothing and the next round picks the same items up again.
    let fetched = started.elapsed();
    report.stories = crate::story::process(&ctx.store, &stories, now).await?;
    tracing::debug!(
        fetch_and_store = ?fetched,
        stories = ?(started.elapsed() - fetched),
        "poll round timings"
    );
    Ok(report)
}

async fn select(
    ctx: &Context,
    now: DateTime<Utc>,
    selection: &Selection,
) -> Result<Vec<SourceRow>, CycleError> {
    Ok(match selection {
        Selection::Due => ctx.store.due_sources(now).await?,
        Selection::All => ctx
            .store
            .sources()
            .await?
            .into_iter()
            .filter(|s| s.enabled && s.disabled_reason.is_none())
            .collect(),
        Selection::Only(ids) => {
            let mut out = Vec::new();
            for id in ids {
                match ctx.store.source(id).await {
                    Ok(s) => out.push(s),
                    Err(StoreError::NotFound) => return Err(CycleError::UnknownSource(id.clone())),
                    Err(e) => return Err(e.into()),
                }
            }
            out
        }
    })
}

fn spawn_fetches(
    ctx: &Context,
    sources: Vec<SourceRow>,
    screen: &Arc<Screen>,
    tx: mpsc::Sender<Polled>,
) -> JoinSet<()> {
    let total = Arc::new(Semaphore::new(ctx.config.fetch.concurrency));
    let per_host = ctx.config.fetch.per_host_concurrency;
    let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut tasks = JoinSet::new();
    for source in sources {
        let host = Url::parse(&source.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let host_sem = hosts
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(per_host)))
            .clone();
        let total = total.clone();
        let fetcher = ctx.fetcher.clone();
        let shutdown = ctx.shutdown.clone();
        let screen = screen.clone();
        let tx = tx.clone();
        tasks.spawn(async move {
            // Semaphores are never closed, so acquiring only fails if they were; then the
            // task simply does nothing.
            let Ok(_host) = host_sem.acquire_owned().await else {
                return;
            };
            let Ok(_slot) = total.acquire_owned().await else {
                return;
            };
            if shutdown.is_cancelled() {
                return;
            }
            let result = poll_one(&fetcher, &source, screen).await;
            let _ = tx.send(Polled { source, result }).await;
        });
    }
    tasks
}

async fn poll_one(
    fetcher: &Fetcher,
    source: &SourceRow,
    screen: Arc<Screen>,
) -> Result<Outcome, FetchError> {
    let url = Url::parse(&source.url)
        .map_err(|e| FetchError::Refused(format!("stored URL is invalid: {e}")))?;
    let validators = Validators {
        etag: source.etag.clone(),
        last_modified: source.last_modified.clone(),
    };
    Ok(match fetcher.fetch(&url, &validators).await? {
        FetchOutcome::Fetched(f) => {
            let kind = source.kind();
            let id = source.id.clone();
            // Parsing is CPU work on a body we already hold; it stays off the writer.
            tokio::task::spawn_blocking(move || parse_fetched(kind, *f, &id, Some(&screen)))
                .await
                .map_err(|e| FetchError::Body(format!("parser task failed: {e}")))?
        }
        FetchOutcome::NotModified { validators } => Outcome::NotModified(validators),
        FetchOutcome::RateLimited {
            status,
            retry_after,
        } => Outcome::RateLimited {
            status,
            retry_after,
        },
        FetchOutcome::Gone => Outcome::Gone,
    })
}

/// Read a fetched body as the source's kind and turn the entries into rows (screened for the
/// stories, when there is a screen).
fn parse_fetched(
    kind: SourceKind,
    f: Fetched,
    source_id: &str,
    screen: Option<&Screen>,
) -> Outcome {
    let doc = crate::read::read_body(&f.body, f.content_type.as_deref(), &f.final_url, Some(kind));
    let items = doc.map(|d| {
        d.into_document()
            .entries
            .iter()
            .map(|e| {
                let mut it = to_new_item(e, &f.final_url);
                if let Some(screen) = screen {
                    screen.mark(source_id, &mut it);
                }
                it
            })
            .collect()
    });
    Outcome::Parsed(Box::new(Parsed {
        items,
        validators: f.validators,
        moved_to: f.moved_to,
        http_status: f.status,
    }))
}

/// Store a response fetched outside a round exactly as a poll would (items, validators, next
/// due time). `storyline sources add` fetches a new source once and keeps what it got, so the
/// first poll does not repeat the request.
pub async fn ingest_fetched(
    ctx: &Context,
    source_id: &str,
    fetched: Fetched,
    now: DateTime<Utc>,
) -> Result<SourceReport, StoreError> {
    let source = ctx.store.source(source_id).await?;
    // Unscreened: story processing reads these back in full, as it always may.
    let result = Ok(parse_fetched(source.kind(), fetched, source_id, None));
    let mut batch = ctx.store.batch().await?;
    let report = write_outcome(&mut batch, ctx, Polled { source, result }, now).await?;
    batch.commit().await?;
    Ok(report)
}

async fn write_outcome(
    batch: &mut Batch,
    ctx: &Context,
    polled: Polled,
    now: DateTime<Utc>,
) -> Result<SourceReport, StoreError> {
    let Polled { source, result } = polled;
    let interval = Duration::from_secs(source.interval_secs.max(60) as u64);
    let on_time = now + jittered(interval, &source.id);
    let failures = source.consecutive_failures as u32 + 1;
    let backoff_at = now + backoff(interval, failures);
    let mut record = FetchRecord {
        status: SourceStatus::Ok,
        http_status: None,
        error: None,
        etag: source.etag.clone(),
        last_modified: source.last_modified.clone(),
        moved_to: None,
        next_due: on_time,
        disable_reason: None,
        flagged: None,
    };
    let mut report = SourceReport {
        source: source.id.clone(),
        result: SourceResult::NotModified,
        new_items: Vec::new(),
        updated_items: Vec::new(),
    };
    match result {
        Ok(Outcome::Parsed(p)) => {
            let Parsed {
                items,
                validators,
                moved_to,
                http_status,
            } = *p;
            record.http_status = Some(http_status);
            match items {
                Ok(mut items) => {
                    if source.kind() == SourceKind::Page {
                        note_page_changes(batch, &source, &mut items).await?;
                    }
                    let cap = ctx.config.fetch.max_new_items_per_poll;
                    let stored = batch.store_items(&source.id, &items, now, cap).await?;
                    record.etag = validators.etag;
                    record.last_modified = validators.last_modified;
                    record.moved_to = moved_to.map(|u| u.to_string());
                    if stored.over_cap > 0 {
                        record.flagged = Some(format!(
                            "{} new items in one poll (cap {cap}); {} left for later polls — \
                             does this feed change its ids every time?",
                            stored.new.len() + stored.over_cap,
                            stored.over_cap
                        ));
                    }
                    report.result = SourceResult::Stored {
                        new: stored.new.len(),
                        updated: stored.updated.len(),
                        over_cap: stored.over_cap,
                    };
                    report.new_items = stored.new;
                    report.updated_items = stored.updated;
                }
                Err(e) => {
                    record.status = SourceStatus::Error;
                    record.error = Some(e.to_string());
                    record.next_due = backoff_at;
                    report.result = SourceResult::Failed {
                        error: e.to_string(),
                        retry_at: backoff_at,
                    };
                }
            }
        }
        Ok(Outcome::NotModified(v)) => {
            record.status = SourceStatus::NotModified;
            record.http_status = Some(304);
            record.etag = v.etag.or(record.etag);
            record.last_modified = v.last_modified.or(record.last_modified);
        }
        Ok(Outcome::RateLimited {
            status,
            retry_after,
        }) => {
            // Never sooner than the server asked, nor sooner than our own backoff.
            let until = retry_after.map_or(backoff_at, |r| r.resolve(now).max(backoff_at));
            record.status = SourceStatus::RateLimited;
            record.http_status = Some(status);
            record.error = Some(format!(
                "rate limited (HTTP {status}); retrying after {}",
                until.to_rfc3339()
            ));
            record.next_due = until;
            report.result = SourceResult::RateLimited { until };
        }
        Ok(Outcome::Gone) => {
            record.status = SourceStatus::Gone;
            record.http_status = Some(410);
            record.error = Some("the server says this feed is gone for good (410)".into());
            record.disable_reason = Some("410 Gone".into());
            report.result = SourceResult::Gone;
        }
        Err(e) => {
            record.status = SourceStatus::Error;
            record.error = Some(e.to_string());
            if let FetchError::Status(code) = e {
                record.http_status = Some(code);
            }
            record.next_due = backoff_at;
            report.result = SourceResult::Failed {
                error: e.to_string(),
                retry_at: backoff_at,
            };
        }
    }
    batch.record_fetch(&source.id, now, &record).await?;
    Ok(report)
}

/// A static reference: stored once from the config's own metadata, never fetched.
async fn store_reference(
    ctx: &Context,
    source: &SourceRow,
    now: DateTime<Utc>,
) -> Result<SourceReport, StoreError> {
    let cfg = ctx.config.source(&source.id);
    let item = NewItem {
        guid: source.url.clone(),
        url: Some(source.url.clone()),
        canonical_url: crate::value::canon::canonical_url(&source.url, None),
        title: source.title.clone(),
        summary: source.note.clone(),
        published_at: cfg.and_then(|c| c.date_utc()),
        content_hash: content_hash(&[
            source.title.as_deref(),
            Some(&source.url),
            source.note.as_deref(),
        ]),
        ..NewItem::default()
    };
    let stored = ctx.store.store_items(&source.id, &[item], now, 1).await?;
    let record = FetchRecord {
        status: SourceStatus::Ok,
        http_status: None,
        error: None,
        etag: None,
        last_modified: None,
        moved_to: None,
        next_due: now
            + jittered(
                Duration::from_secs(source.interval_secs.max(60) as u64),
                &source.id,
            ),
        disable_reason: None,
        flagged: None,
    };
    ctx.store.record_fetch(&source.id, now, &record).await?;
    Ok(SourceReport {
        source: source.id.clone(),
        result: SourceResult::Reference {
            stored: !stored.new.is_empty(),
        },
        new_items: stored.new,
        updated_items: stored.updated,
    })
}

/// A watched page is one item: say what changed since the stored version, so a digest can
/// print "1 paragraph added".
async fn note_page_changes(
    batch: &mut Batch,
    source: &SourceRow,
    items: &mut [NewItem],
) -> Result<(), StoreError> {
    let stored = batch.items_of_source(&source.id).await?;
    for it in items {
        let Some(old) = stored.iter().find(|o| o.guid == it.guid) else {
            continue;
        };
        if old.content_hash == it.content_hash {
            continue;
        }
        let before = crate::page::Revision {
            title: old.title.as_deref(),
            summary: old.summary.as_deref(),
            text: old.content.as_deref().unwrap_or_default(),
            published: old.published(),
        };
        let after = crate::page::Revision {
            title: it.title.as_deref(),
            summary: it.summary.as_deref(),
            text: it.content.as_deref().unwrap_or_default(),
            published: it.published_at,
        };
        it.change_note = crate::page::describe_update(&before, &after);
    }
    Ok(())
}

/// Entry → row: canonical URL, outlet, and a content hash of what a reader would see change.
pub fn to_new_item(e: &Entry, base: &Url) -> NewItem {
    let canonical_url = e
        .link
        .as_deref()
        .and_then(|l| crate::value::canon::canonical_url(l, Some(base)));
    let published = e.published.map(|d| d.to_rfc3339());
    NewItem {
        guid: e.id.clone(),
        url: e.link.clone(),
        canonical_url,
        title: e.title.clone(),
        summary: e.summary.clone(),
        content: e.content.clone(),
        author: e.author.clone(),
        outlet_name: e.outlet.as_ref().map(|o| o.name.clone()),
        outlet_url: e.outlet.as_ref().and_then(|o| o.url.clone()),
        published_at: e.published,
        content_hash: content_hash(&[
            e.title.as_deref(),
            e.link.as_deref(),
            e.summary.as_deref(),
            e.content.as_deref(),
            published.as_deref(),
        ]),
        parent_guid: e.parent.clone(),
        points: e.points,
        comments: e.comments,
        discussion_url: e.discussion_url.clone(),
        change_note: None,
        quiet_under: None,
    }
}

pub fn content_hash(parts: &[Option<&str>]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.unwrap_or_default().as_bytes());
        h.update([0x1f]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The source's interval plus up to 10% spread, fixed per source, so 200 sources with the
/// same interval do not all fire in the same second.
fn jittered(interval: Duration, id: &str) -> chrono::Duration {
    let h = Sha256::digest(id.as_bytes());
    let frac = u16::from_le_bytes([h[0], h[1]]) as f64 / u16::MAX as f64;
    let secs = interval.as_secs_f64() * (1.0 + 0.1 * frac);
    chrono::Duration::seconds(secs as i64)
}

/// Exponential backoff from the interval: 1×, 2×, 4×… capped at 7 days.
pub fn backoff(interval: Duration, failures: u32) -> chrono::Duration {
    let factor = 2u64.saturating_pow(failures.saturating_sub(1).min(20));
    let secs = interval
        .as_secs()
        .saturating_mul(factor)
        .min(MAX_BACKOFF.as_secs());
    chrono::Duration::seconds(secs as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_seven_days() {
        let h = Duration::from_secs(3600);
        assert_eq!(backoff(h, 1), chrono::Duration::hours(1));
        assert_eq!(backoff(h, 2), chrono::Duration::hours(2));
        assert_eq!(backoff(h, 4), chrono::Duration::hours(8));
        assert_eq!(backoff(h, 30), chrono::Duration::days(7));
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_is_stable() {
        let h = Duration::from_secs(3600);
        let a = jittered(h, "a");
        assert_eq!(a, jittered(h, "a"));
        assert!(a >= chrono::Duration::hours(1) && a <= chrono::Duration::minutes(66));
    }
}
