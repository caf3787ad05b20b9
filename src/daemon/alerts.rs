//! The alert loop: send what is due, then sleep until the next retry or lease end, a tick, or
//! a wake-up from the poller after a round decided new alerts.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::alert::{Alerts, Sender};
use crate::app::App;
use crate::metrics::Metrics;

pub(super) async fn run(
    app: App,
    alerts: Arc<Alerts>,
    sender: Sender,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
) {
    let clock = &app.clock;
    loop {
        match crate::alert::drain(&sender, &app.store, &alerts, clock, &app.shutdown).await {
            Ok(report) => metrics.record_alerts(&report),
            Err(e) => tracing::error!(error = %e, "alert outbox drain failed"),
        }
        let next = app.store.next_alert_due().await.ok().flatten();
        if !super::wait_until_due(&app, &wake, next).await {
            break;
        }
    }
}
