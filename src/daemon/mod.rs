//! `storyline serve`: one process that polls on time, serves the web site, and stops cleanly.
//!
//! Every task runs on one `TaskTracker` and watches one `CancellationToken` (the context's
//! `shutdown`). On shutdown: stop taking new work, give in-flight work `shutdown_grace` to
//! finish, then return.

mod alerts;
mod digests;
mod outbox;
mod poller;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::refresh::Context;
use crate::web::{self, AppState};

/// Run the daemon until `shutdown` resolves. The caller binds the listener (port 0 in tests).
pub async fn run(
    ctx: Context,
    clock: Clock,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::default());
    let token = ctx.shutdown.clone();
    let tracker = TaskTracker::new();
    let grace = ctx.config.daemon.shutdown_grace;
    let tick = ctx.config.daemon.tick;

    // One Mail for the whole daemon, so confirmations and digests share one pace.
    let mail = crate::mail::Mail::from_config(&ctx.config, &crate::mail::process_env)?;
    // A secret an alert names must be there at start, not at the first development.
    let alerts = Arc::new(crate::alert::Alerts::from_config(
        &ctx.config,
        &crate::mail::process_env,
    )?);
    crate::alert::begin(&ctx.store, &alerts, clock.now()).await?;
    // Bad templates stop the start, not the first digest a week later.
    let templates = Arc::new(crate::digest::Templates::load(
        ctx.config.digest.templates.as_deref(),
    )?);
    let state = AppState {
        store: ctx.store.clone(),
        config: ctx.config.clone(),
        stories: Arc::new(crate::story::StoryDef::all_from(&ctx.config)?),
        metrics: metrics.clone(),
        clock: clock.clone(),
        // A poll round may legitimately take a while; three ticks without a beat is a stall.
        heartbeat_max_age: tick * 3 + Duration::from_secs(60),
        subscribe: mail
            .clone()
            .map(|m| Arc::new(web::subscribe::SubscribeState::new(m))),
    };
    let app = web::router(state)?;
    let web_token = token.clone();
    tracker.spawn(async move {
        // Client addresses feed the subscribe form's per-client limit.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(listener, app)
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
    tracker.spawn(poller::run(
        ctx.clone(),
        clock.clone(),
        metrics.clone(),
        hook,
    ));
    if !alerts.is_empty() {
        let sender = crate::alert::Sender::new(&ctx.config.fetch, ctx.fetcher.policy())
            .map_err(anyhow::Error::msg)?;
        tracker.spawn(alerts::run(
            ctx.clone(),
            clock.clone(),
            alerts,
            sender,
            metrics.clone(),
            wake_alerts,
        ));
    }
    let wake_outbox = Arc::new(tokio::sync::Notify::new());
    tracker.spawn(digests::run(
        ctx.clone(),
        clock.clone(),
        templates,
        mail.clone(),
        wake_outbox.clone(),
    ));
    if let Some(mail) = mail {
        tracker.spawn(outbox::run(
            ctx.clone(),
            clock.clone(),
            mail,
            metrics.clone(),
            wake_outbox,
        ));
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
    ctx.store.close().await;
    tracing::info!("stopped");
    Ok(())
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
