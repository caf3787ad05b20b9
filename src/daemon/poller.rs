//! The polling loop: run a round over due sources, then sleep until the next source is due
//! (at most one tick), so a source is fetched close to its time without busy-waiting.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::refresh::{self, Context, Quiet, Selection};

pub(super) async fn run(ctx: Context, clock: Clock, metrics: Arc<Metrics>) {
    let tick = ctx.config.daemon.tick;
    loop {
        let now = clock.now();
        metrics.beat(now);
        match refresh::run_cycle(&ctx, now, &Selection::Due, &Quiet).await {
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
            }
            // A failing round (e.g. the disk is full) is logged and retried next tick; it
            // never takes the daemon down.
            Err(e) => tracing::error!(error = %e, "poll round failed"),
        }
        let wait = match ctx.store.next_due().await {
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
            () = ctx.shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
