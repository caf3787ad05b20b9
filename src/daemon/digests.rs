//! The digest loop: compose each story's week when its schedule fires, then wake the outbox.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::app::App;
use crate::weekly::{self, DueOutcome};

/// Longest sleep between checks, so a changed system clock is noticed within the hour.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

pub(super) async fn run(app: App, outbox: Arc<Notify>) {
    let clock = &app.clock;
    loop {
        let now = clock.now();
        match weekly::compose_due(&app, now).await {
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
        let wait = app
            .schedule
            .next_after(clock.now())
            .and_then(|next| (next - clock.now()).to_std().ok())
            .unwrap_or(MAX_SLEEP)
            .clamp(Duration::from_millis(200), MAX_SLEEP);
        tokio::select! {
            () = app.shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
