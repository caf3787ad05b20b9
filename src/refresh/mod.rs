//! One polling round: `run_cycle(now)` is what the CLI, the daemon and the tests all call.
//!
//! Fetches run concurrently (bounded in total and per host, started one by one by
//! [`dispatch`], so a round holds a task per fetch in flight, not per source); parsing and
//! turning entries into rows happen beside the fetch, at most one parser per core; every store
//! write goes through this one loop, which writes the sources that are ready in one
//! transaction (a source's items and its fetch record always together), so SQLite sees a
//! single writer and a crash mid-round loses nothing already committed. What waits between
//! fetch and write is bounded in bytes ([`Limits`]), so a round's memory does not grow with
//! its number of sources.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use url::Url;

use crate::app::App;
use crate::fetch::{FetchError, Fetched, Validators};
use crate::parse::{self};
use crate::store::{NewItem, SourceRow, StoreError};
use crate::story::Screen;

mod dispatch;
mod due;
mod fetch;
mod item;
mod write;

pub use due::backoff;
use due::jittered;
pub use item::{content_hash, to_new_item};

use fetch::{parse_fetched, spawn_fetches};
use write::{store_reference, write_outcome};

/// What one round holds at most between the network and the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of fetched bodies waiting to be parsed or written. A fetch task waits for room
    /// before it parses, so a writer that falls behind (a slow disk, a busy machine) stops
    /// the fetches instead of letting parsed rows pile up in front of it; 8 MiB keeps a write
    /// group of typical feeds (30–80 KB each) ready while the last one is written. A body
    /// bigger than the whole allowance takes all of it, alone.
    pub in_flight_bytes: usize,
    /// Sources written in one transaction at most, and results waiting for the writer.
    pub write_group: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            in_flight_bytes: 8 << 20,
            write_group: 64,
        }
    }
}

/// Longest a write group waits for more sources before it is written.
const GATHER: Duration = Duration::from_millis(20);

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
    /// The body's share of [`Limits::in_flight_bytes`], given back once the writer is done
    /// with it.
    _room: Option<OwnedSemaphorePermit>,
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
    ctx: &App,
    now: DateTime<Utc>,
    selection: &Selection,
    progress: &dyn Progress,
) -> Result<CycleReport, CycleError> {
    run_cycle_with(ctx, now, selection, progress, Limits::default()).await
}

/// As [`run_cycle`], holding at most what `limits` says (tests shrink them to prove the
/// bound changes nothing stored).
pub async fn run_cycle_with(
    ctx: &App,
    now: DateTime<Utc>,
    selection: &Selection,
    progress: &dyn Progress,
    limits: Limits,
) -> Result<CycleReport, CycleError> {
    let limits = Limits {
        in_flight_bytes: limits.in_flight_bytes.clamp(1, u32::MAX as usize),
        write_group: limits.write_group.max(1),
    };
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
    let (tx, mut rx) = mpsc::channel::<Polled>(limits.write_group);
    let fetches = spawn_fetches(ctx, fetchable, &screen, tx, limits);
    let mut group = Vec::with_capacity(limits.write_group);
    // Whatever has arrived while the last group was being written goes in the next one, and
    // the group waits a moment for more: a commit rewrites the same B-tree pages however few
    // sources it holds, and with at most one parser per core results arrive one by one.
    let mut writing = Duration::ZERO;
    let mut commits = 0usize;
    while rx.recv_many(&mut group, limits.write_group).await > 0 {
        let until = tokio::time::Instant::now() + GATHER;
        while group.len() < limits.write_group {
            let room = limits.write_group - group.len();
            match tokio::time::timeout_at(until, rx.recv_many(&mut group, room)).await {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        commits += 1;
        let t = std::time::Instant::now();
        let mut batch = ctx.store.batch().await?;
        let mut done = Vec::with_capacity(group.len());
        for polled in group.drain(..) {
            done.push(write_outcome(&mut batch, ctx, polled, now).await?);
        }
        batch.commit().await?;
        writing += t.elapsed();
        for r in done {
            progress.source_done(&r);
            report.sources.push(r);
        }
    }
    // The dispatcher ends once its last fetch has handed its result over; it only fails if
    // it panicked, and then the sources it had not started are simply not in the report.
    let _ = fetches.await;
    report.sources.sort_by(|a, b| a.source.cmp(&b.source));
    // Stories stay current with every round. The items above are committed already, so a
    // failure here loses nothing and the next round picks the same items up again.
    let fetched = started.elapsed();
    report.stories = crate::story::process(&ctx.store, &stories, now).await?;
    tracing::debug!(
        fetch_and_store = ?fetched,
        of_which_writing = ?writing,
        commits,
        stories = ?(started.elapsed() - fetched),
        "poll round timings"
    );
    Ok(report)
}

async fn select(
    ctx: &App,
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

/// Store a response fetched outside a round exactly as a poll would (items, validators, next
/// due time). `storyline sources add` fetches a new source once and keeps what it got, so the
/// first poll does not repeat the request.
pub async fn ingest_fetched(
    ctx: &App,
    source_id: &str,
    fetched: Fetched,
    now: DateTime<Utc>,
) -> Result<SourceReport, StoreError> {
    let source = ctx.store.source(source_id).await?;
    // Unscreened: story processing reads these back in full, as it always may.
    let result = Ok(parse_fetched(source.kind(), fetched, source_id, None));
    let mut batch = ctx.store.batch().await?;
    let polled = Polled {
        source,
        result,
        _room: None,
    };
    let report = write_outcome(&mut batch, ctx, polled, now).await?;
    batch.commit().await?;
    Ok(report)
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
