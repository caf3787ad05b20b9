//! The alert loop: send what is due, then sleep until the next retry or lease end, a tick, or
//! a wake-up from the poller after a round decided new alerts.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::alert::{Alerts, Sender};
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::refresh::Context;

pub(super) async fn run(
    ctx: Context,
    clock: Clock,
    alerts: Arc<Alerts>,
    sender: Sender,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
) {
    let tick = ctx.config.daemon.tick;
    loop {
        match crate::alert::drain(&sender, &ctx.store, &alerts, &clock, &ctx.shutdown).await {
            Ok(report) => metrics.record_alerts(&report),
            Err(e) => tracing::error!(error = %e, "alert outbox drain failed"),
        }
        let wait = match ctx.store.next_alert_due().await {
            Ok(next) => next
                .and_then(|t| (t - clock.now()).to_std().ok())
                .unwrap_or(tick)
                .clamp(Duration::from_millis(200), tick),
            Err(_) => tick,
        };
        tokio::select! {
            () = ctx.shutdown.cancelled() => break,
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
