//! The polling loop: run a round over due sources, then sleep until the next source is due
//! (at most one tick), so a source is fetched close to its time without busy-waiting.

use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::metrics::Metrics;
use crate::refresh::{self, Quiet, Selection};

/// What the poller needs to decide alerts after a round and wake the alert loop.
pub(super) struct AlertHook {
    pub alerts: Arc<crate::alert::Alerts>,
    pub wake: Arc<tokio::sync::Notify>,
}

pub(super) async fn run(app: App, metrics: Arc<Metrics>, alerts: Option<AlertHook>) {
    let clock = &app.clock;
    let tick = app.config.daemon.tick;
    loop {
        let now = clock.now();
        metrics.beat(now);
        match refresh::run_cycle(&app, now, &Selection::Due, &Quiet).await {
            Ok(report) => {
                if !report.sources.is_empty() {
                    tracing::info!(
                        sources = report.sources.len(),
                        new = report.new_items(),
                        failed = report.failed(),
                        "poll round done"
                    );
                }
                metrics.record_cycle(&report);
                if let Some(hook) = &alerts {
                    // A failure here loses nothing: the next round decides the same alerts.
                    match crate::alert::decide(&app.store, &hook.alerts, now).await {
                        Ok(d) if d.queued > 0 => hook.wake.notify_one(),
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "deciding alerts failed"),
                    }
                }
            }
            // A failing round (e.g. the disk is full) is logged and retried next tick; it
            // never takes the daemon down.
            Err(e) => tracing::error!(error = %e, "poll round failed"),
        }
        let wait = match app.store.next_due().await {
            Ok(Some(due)) => (due - clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_secs(1), tick),
            Ok(None) => tick,
            Err(e) => {
                tracing::error!(error = %e, "cannot read next due time");
                tick
            }
        };
        tokio::select! {
            () = app.shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
