//! The digest loop: compose each story's week when its schedule fires, then wake the outbox.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::digest::Templates;
use crate::mail::Mail;
use crate::refresh::Context;
use crate::weekly::{self, DueOutcome};

/// Longest sleep between checks, so a changed system clock is noticed within the hour.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

pub(super) async fn run(
    ctx: Context,
    clock: Clock,
    templates: Arc<Templates>,
    mail: Option<Mail>,
    outbox: Arc<Notify>,
) {
    let schedule = match ctx.config.digest_schedule() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "digest schedule unusable; no digests will be made");
            return;
        }
    };
    loop {
        let now = clock.now();
        match weekly::compose_due(&ctx.store, &ctx.config, &templates, mail.as_ref(), now).await {
            Ok(done) => {
                for (story, outcome) in done {
                    if let DueOutcome::Composed {
                        week,
                        file,
                        quiet,
                        queued,
                    } = outcome
                    {
                        tracing::info!(%story, %week, file = %file.display(), quiet, queued, "digest composed");
                        if queued > 0 {
                            outbox.notify_one();
                        }
                    }
                }
            }
            // Retried at the next check; the fire stays unhandled until it succeeds.
            Err(e) => tracing::error!(error = %e, "composing digests failed"),
        }
        let wait = schedule
            .next_after(clock.now())
            .and_then(|next| (next - clock.now()).to_std().ok())
            .unwrap_or(MAX_SLEEP)
            .clamp(Duration::from_millis(200), MAX_SLEEP);
        tokio::select! {
            () = ctx.shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
