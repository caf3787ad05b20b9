//! The fetch side of a round: which source starts when, the fetch, and the parse beside it.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use url::Url;

use super::dispatch::Dispatch;
use super::{to_new_item, Limits, Outcome, Parsed, Polled};
use crate::app::App;
use crate::fetch::{FetchError, FetchOutcome, Fetched, Fetcher, Validators};
use crate::store::SourceRow;
use crate::story::Screen;
use crate::value::source::SourceKind;

/// Fetch `sources` in order, at most `fetch.concurrency` at once and `per_host_concurrency`
/// per host, each result sent to the writer; returns the dispatcher's task.
pub(super) fn spawn_fetches(
    ctx: &App,
    sources: Vec<SourceRow>,
    screen: &Arc<Screen>,
    tx: mpsc::Sender<Polled>,
    limits: Limits,
) -> tokio::task::JoinHandle<()> {
    let total = ctx.config.fetch.concurrency.max(1);
    let mut dispatch = Dispatch::new(sources, ctx.config.fetch.per_host_concurrency);
    let limits = Shared {
        room: Arc::new(Semaphore::new(limits.in_flight_bytes)),
        most: limits.in_flight_bytes,
        // Parsing is CPU work: more parsers than cores only hold more bodies at once (and,
        // each on its own blocking thread, more malloc arenas).
        parsers: Arc::new(Semaphore::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        )),
    };
    let fetcher = ctx.fetcher.clone();
    let shutdown = ctx.shutdown.clone();
    let screen = screen.clone();
    tokio::spawn(async move {
        let mut running = JoinSet::new();
        let mut hosts = HashMap::new();
        loop {
            while running.len() < total && !shutdown.is_cancelled() {
                let Some(started) = dispatch.next() else {
                    break;
                };
                let (fetcher, screen, limits, tx) =
                    (fetcher.clone(), screen.clone(), limits.clone(), tx.clone());
                let task = running.spawn(async move {
                    let source = started.source;
                    let (result, room) = poll_one(&fetcher, &source, screen, &limits).await;
                    let _ = tx
                        .send(Polled {
                            source,
                            result,
                            _room: room,
                        })
                        .await;
                });
                hosts.insert(task.id(), started.host);
            }
            let id = match running.join_next_with_id().await {
                Some(Ok((id, ()))) => id,
                Some(Err(e)) => e.id(),
                None => break,
            };
            if let Some(host) = hosts.remove(&id) {
                dispatch.finished(host);
            }
        }
    })
}

/// What the fetch tasks of a round share.
#[derive(Clone)]
struct Shared {
    /// Permits are bytes of bodies held between fetch and write.
    room: Arc<Semaphore>,
    /// All of `room`'s permits.
    most: usize,
    parsers: Arc<Semaphore>,
}

async fn poll_one(
    fetcher: &Fetcher,
    source: &SourceRow,
    screen: Arc<Screen>,
    limits: &Shared,
) -> (Result<Outcome, FetchError>, Option<OwnedSemaphorePermit>) {
    let url = match Url::parse(&source.url) {
        Ok(u) => u,
        Err(e) => {
            let e = FetchError::Refused(format!("stored URL is invalid: {e}"));
            return (Err(e), None);
        }
    };
    let validators = Validators {
        etag: source.etag.clone(),
        last_modified: source.last_modified.clone(),
    };
    let outcome = match fetcher.fetch(&url, &validators).await {
        Ok(o) => o,
        Err(e) => return (Err(e), None),
    };
    let result = match outcome {
        FetchOutcome::Fetched(f) => {
            // A body bigger than the whole allowance takes all of it, alone.
            let bytes = f.body.len().clamp(1, limits.most);
            let room = limits
                .room
                .clone()
                .acquire_many_owned(u32::try_from(bytes).unwrap_or(u32::MAX))
                .await
                .ok();
            let kind = source.kind();
            let id = source.id.clone();
            let parser = limits.parsers.clone().acquire_owned().await.ok();
            // Parsing is CPU work on a body we already hold; it stays off the writer.
            let parsed =
                tokio::task::spawn_blocking(move || parse_fetched(kind, *f, &id, Some(&screen)))
                    .await
                    .map_err(|e| FetchError::Body(format!("parser task failed: {e}")));
            drop(parser);
            return (parsed, room);
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
    };
    (Ok(result), None)
}

/// Read a fetched body as the source's kind and turn the entries into rows (screened for the
/// stories, when there is a screen).
pub(super) fn parse_fetched(
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
