//! The outbox loop: send what is due, then sleep until the next retry, a tick, or a wake-up
//! from the digest loop or the subscribe pages.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::app::App;
use crate::mail::Mail;
use crate::metrics::Metrics;

pub(super) async fn run(app: App, mail: Mail, metrics: Arc<Metrics>, wake: Arc<Notify>) {
    let clock = &app.clock;
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
        let next = app
            .store
            .outbox_counts(None)
            .await
            .ok()
            .and_then(|c| c.next_due);
        if !super::wait_until_due(&app, &wake, next).await {
            break;
        }
    }
}
