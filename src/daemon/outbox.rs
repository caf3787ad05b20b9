//! The outbox loop: send what is due, then sleep until the next retry, a tick, or a wake-up
//! from the digest loop or the subscribe pages.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::app::App;
use crate::mail::Mail;
use crate::metrics::Metrics;

pub(super) async fn run(app: App, mail: Mail, metrics: Arc<Metrics>, wake: Arc<Notify>) {
    let clock = &app.clock;
    let tick = app.config.daemon.tick;
    loop {
        match crate::mail::drain_outbox(
            &mail.mailer,
            &app.store,
            &mail.settings,
            clock,
            &app.shutdown,
        )
        .await
        {
            Ok(report) => {
                metrics.record_deliveries(report.sent);
                if report.sent + report.retried + report.failed > 0 {
                    tracing::info!(
                        sent = report.sent,
                        retried = report.retried,
                        failed = report.failed,
                        "outbox drained"
                    );
                }
                if let Some(why) = report.stopped {
                    tracing::warn!(reason = %why, "outbox paused; retrying later");
                }
            }
            Err(e) => tracing::error!(error = %e, "outbox drain failed"),
        }
        let wait = match app.store.outbox_counts(None).await {
            Ok(c) => c
                .next_due
                .and_then(|t| (t - clock.now()).to_std().ok())
                .unwrap_or(tick)
                .clamp(Duration::from_millis(200), tick),
            Err(_) => tick,
        };
        tokio::select! {
            () = app.shutdown.cancelled() => break,
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
