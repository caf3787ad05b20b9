//! `storyline serve`: one process that polls on time, serves the web site, and stops cleanly.
//!
//! It runs an [`App`] built by the caller (`App::build`, with the run's mail and clock). Every
//! task runs on one `TaskTracker` and watches one `CancellationToken` (the app's `shutdown`).
//! On shutdown: stop taking new work, give in-flight work `shutdown_grace` to finish, then
//! return.

mod alerts;
mod digests;
mod outbox;
mod poller;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::app::App;
use crate::metrics::Metrics;
use crate::value::clock::Clock;
use crate::web::{self, AppState};

/// Run the daemon until `shutdown` resolves. The caller binds the listener (port 0 in tests).
/// Mail goes out when `app.mail` is set; the one `Mail` serves confirmations and digests, so
/// they share one pace.
pub async fn run(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::default());
    let token = app.shutdown.clone();
    let tracker = TaskTracker::new();
    let grace = app.config.daemon.shutdown_grace;
    let tick = app.config.daemon.tick;
    let clock = &app.clock;
    let mail = app.mail.clone();

    // A secret an alert names must be there at start, not at the first development.
    let alerts = Arc::new(crate::alert::Alerts::from_config(
        &app.config,
        &app.stories,
        &crate::mail::process_env,
    )?);
    crate::alert::begin(&app.store, &alerts, clock.now()).await?;
    let state = AppState {
        store: app.store.clone(),
        config: app.config.clone(),
        stories: app.stories.clone(),
        metrics: metrics.clone(),
        clock: clock.clone(),
        // A poll round may legitimately take a while; three ticks without a beat is a stall.
        heartbeat_max_age: tick * 3 + Duration::from_secs(60),
        subscribe: mail
            .clone()
            .map(|m| Arc::new(web::subscribe::SubscribeState::new(m))),
    };
    let router = web::router(state)?;
    let web_token = token.clone();
    tracker.spawn(async move {
        // Client addresses feed the subscribe form's per-client limit.
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(async move { web_token.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "web server stopped");
        }
    });
    let wake_alerts = Arc::new(tokio::sync::Notify::new());
    let hook = (!alerts.is_empty()).then(|| poller::AlertHook {
        alerts: alerts.clone(),
        wake: wake_alerts.clone(),
    });
    tracker.spawn(poller::run(app.clone(), metrics.clone(), hook));
    if !alerts.is_empty() {
        let sender = crate::alert::Sender::new(&app.config.fetch, app.fetcher.policy())
            .map_err(anyhow::Error::msg)?;
        tracker.spawn(alerts::run(
            app.clone(),
            alerts,
            sender,
            metrics.clone(),
            wake_alerts,
        ));
    }
    let wake_outbox = Arc::new(tokio::sync::Notify::new());
    tracker.spawn(digests::run(app.clone(), wake_outbox.clone()));
    if let Some(mail) = mail {
        tracker.spawn(outbox::run(app.clone(), mail, metrics.clone(), wake_outbox));
    }
    tracker.close();

    tokio::select! {
        () = shutdown => tracing::info!("shutdown requested"),
        () = token.cancelled() => {}
        () = tracker.wait() => tracing::warn!("all daemon tasks ended on their own"),
    }
    token.cancel();
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(grace = ?grace, "tasks still running after the grace period; exiting anyway");
    }
    app.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Sleep until `next_due` (clamped to 200 ms .. one tick; a tick when unknown or overdue), a
/// wake-up, or shutdown. False when the daemon is stopping. The outbox and alert loops both wait this way.
async fn wait_until_due(
    app: &App,
    wake: &tokio::sync::Notify,
    next_due: Option<chrono::DateTime<chrono::Utc>>,
) -> bool {
    let tick = app.config.daemon.tick;
    wait_for(&app.clock, tick, &app.shutdown, wake, next_due).await
}

async fn wait_for(
    clock: &Clock,
    tick: Duration,
    shutdown: &CancellationToken,
    wake: &tokio::sync::Notify,
    next_due: Option<chrono::DateTime<chrono::Utc>>,
) -> bool {
    // A row still overdue right after a drain means the drain stopped short (the server is
    // down, the row is leased elsewhere): wait a tick rather than spin on it.
    let wait = match next_due.map(|t| (t - clock.now()).to_std()) {
        Some(Ok(d)) => d.clamp(Duration::from_millis(200), tick),
        _ => tick,
    };
    tokio::select! {
        () = shutdown.cancelled() => false,
        () = wake.notified() => true,
        () = tokio::time::sleep(wait) => true,
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the daemon");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use tokio::sync::Notify;
    use tokio::time::Instant;

    /// On tokio's paused clock: each wait is exactly as long as the rule says, with no real
    /// time spent.
    #[tokio::test(start_paused = true)]
    async fn a_loop_sleeps_until_its_next_due_row_at_most_a_tick_and_stops_at_once() {
        let start: DateTime<Utc> = "2025-06-02T09:00:00Z".parse().unwrap();
        let clock = Clock::tokio_from(start);
        let tick = Duration::from_secs(60);
        let (stop, wake) = (CancellationToken::new(), Notify::new());
        let waited = |due: Option<DateTime<Utc>>| {
            let (clock, stop, wake) = (&clock, &stop, &wake);
            async move {
                let t0 = Instant::now();
                let go_on = wait_for(clock, tick, stop, wake, due).await;
                (go_on, t0.elapsed())
            }
        };
        let secs = chrono::Duration::seconds;
        let five = (true, Duration::from_secs(5));
        assert_eq!(waited(Some(start + secs(5))).await, five);
        let later = Some(start + secs(3600));
        assert_eq!(waited(later).await, (true, tick), "at most a tick");
        assert_eq!(waited(None).await, (true, tick), "nothing due: a tick");
        let now = clock.now();
        let soon = (true, Duration::from_millis(200));
        assert_eq!(waited(Some(now)).await, soon, "due now");
        let overdue = Some(clock.now() - secs(1));
        assert_eq!(waited(overdue).await, (true, tick), "overdue: no spinning");
        wake.notify_one();
        assert_eq!(waited(None).await, (true, Duration::ZERO), "woken");
        stop.cancel();
        assert_eq!(waited(None).await, (false, Duration::ZERO), "stopping");
    }
}
