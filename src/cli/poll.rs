//! `storyline poll`: one polling round, one line per source, a total.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use crate::app::{App, Settings};
use crate::refresh::{self, CycleReport, Progress, Selection, SourceReport, SourceResult};
use crate::value::clock::Clock;

pub(crate) async fn run(
    settings: Settings,
    clock: Clock,
    now: DateTime<Utc>,
    selection: &Selection,
) -> anyhow::Result<ExitCode> {
    // Secrets first: a missing one stops the run before anything is fetched.
    let alerts = match settings.alerts(&crate::mail::process_env) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let ctx = App::build(settings, None, clock, now).await?;
    crate::alert::begin(&ctx.store, &alerts, now)
        .await
        .context("cannot record when the alerts began")?;
    let bar = Bar::new();
    let report = match refresh::run_cycle(&ctx, now, selection, &bar).await {
        Ok(r) => r,
        Err(refresh::CycleError::UnknownSource(id)) => {
            bar.finish();
            eprintln!("error: no source with id \"{id}\" (see `storyline sources list`)");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e).context("polling round failed"),
    };
    bar.finish();
    print_report(&report);
    if !alerts.is_empty() {
        send_alerts(&ctx, &alerts, now).await?;
    }
    ctx.store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Decide what the round announces and send what is due, as the daemon does after a round.
async fn send_alerts(
    ctx: &App,
    alerts: &crate::alert::Alerts,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    use crate::alert;
    let decided = alert::decide(&ctx.store, alerts, now)
        .await
        .context("cannot decide alerts")?;
    let sender =
        alert::Sender::new(&ctx.config.fetch, ctx.fetcher.policy()).map_err(anyhow::Error::msg)?;
    // The drain's clock starts at the round's `now`, not the run's: what the round decided is
    // judged as of when it was decided, however long the round took (replays stay the same).
    let clock = crate::value::clock::Clock::tokio_from(now);
    let sent = alert::drain(&sender, &ctx.store, alerts, &clock, &ctx.shutdown)
        .await
        .context("cannot send alerts")?;
    println!(
        "alerts: {} new, {} sent, {} to retry, {} failed",
        decided.queued, sent.sent, sent.retried, sent.failed
    );
    Ok(())
}

fn print_report(report: &CycleReport) {
    let width = report
        .sources
        .iter()
        .map(|s| s.source.len())
        .max()
        .unwrap_or(0);
    for s in &report.sources {
        println!("{:width$}  {}", s.source, describe(s));
    }
    let not_modified = report
        .sources
        .iter()
        .filter(|s| s.result == SourceResult::NotModified)
        .count();
    println!(
        "{} sources: {} new, {} updated, {} not modified, {} failed",
        report.sources.len(),
        report.new_items(),
        report.updated_items(),
        not_modified,
        report.failed()
    );
}

pub(crate) fn describe(s: &SourceReport) -> String {
    match &s.result {
        SourceResult::Stored {
            new,
            updated,
            over_cap,
        } => {
            let mut out = format!("{new} new, {updated} updated");
            if *over_cap > 0 {
                out.push_str(&format!(" ({over_cap} more held back by the per-poll cap)"));
            }
            out
        }
        SourceResult::NotModified => "not modified".into(),
        SourceResult::Reference { stored: true } => "static reference stored".into(),
        SourceResult::Reference { stored: false } => "static reference (not fetched)".into(),
        SourceResult::RateLimited { until } => {
            format!(
                "rate limited; next try after {}",
                until.format("%Y-%m-%d %H:%M UTC")
            )
        }
        SourceResult::Gone => "gone (410): disabled".into(),
        SourceResult::Failed { error, retry_at } => format!(
            "failed: {error}; retrying after {}",
            retry_at.format("%Y-%m-%d %H:%M UTC")
        ),
    }
}

/// A progress bar on a terminal, nothing otherwise.
pub(crate) struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    pub(crate) fn new() -> Bar {
        if std::io::stderr().is_terminal() {
            Bar(Some(indicatif::ProgressBar::new(0)))
        } else {
            Bar(None)
        }
    }
    pub(crate) fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn start(&self, total: usize) {
        if let Some(b) = &self.0 {
            b.set_length(total as u64);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} sources  {msg}")
            {
                b.set_style(style);
            }
        }
    }
    fn source_done(&self, report: &SourceReport) {
        if let Some(b) = &self.0 {
            b.set_message(report.source.clone());
            b.inc(1);
        }
    }
}
