//! `storyline mail test|drain`: check the SMTP setup, and send what the outbox holds.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use tokio_util::sync::CancellationToken;

use crate::app::Settings;
use crate::mail::{self, message, Mail, SubscriberEmail};
use crate::value::clock::Clock;

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Send one short message and show the server's answer.
    Test {
        /// Recipient.
        #[arg(long, value_name = "ADDR")]
        to: String,
    },
    /// Send every delivery that is due, until none is (later retries stay queued).
    Drain,
}

pub(crate) async fn run(
    settings: &Settings,
    action: Action,
    clock: Clock,
) -> anyhow::Result<ExitCode> {
    let mail = match settings.mail(&mail::process_env) {
        Ok(Some(m)) => m,
        Ok(None) => {
            eprintln!("error: no [smtp] section in the config: nothing can be mailed");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    match action {
        Action::Test { to } => test(&mail, &to, clock).await,
        Action::Drain => drain(settings, &mail, clock).await,
    }
}

async fn test(mail: &Mail, to: &str, clock: Clock) -> anyhow::Result<ExitCode> {
    let to = match SubscriberEmail::parse(to) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "error: \"{}\" is not a usable address: {e}",
                to.escape_debug()
            );
            return Ok(ExitCode::from(2));
        }
    };
    let msg = message::test_message(&mail.settings, &to, clock.now())?;
    match mail.mailer.send(&msg).await {
        Ok(reply) => {
            println!("sent to {to} via {}: {reply}", mail.mailer.server());
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            eprintln!(
                "error: {} did not take the message: {}",
                mail.mailer.server(),
                f.reply
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn drain(settings: &Settings, mail: &Mail, clock: Clock) -> anyhow::Result<ExitCode> {
    let store = settings.open_store().await?;
    // Ctrl-C lets the message in flight finish and records it; the rest stays queued.
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    let signal = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    let report = mail::drain_outbox(&mail.mailer, &store, &mail.settings, &clock, &cancel).await;
    signal.abort();
    let report = report.context("cannot work through the outbox")?;
    let counts = store.outbox_counts(None).await?;
    store.close().await;
    let recovered = if report.recovered > 0 {
        format!(" ({} interrupted sends resent)", report.recovered)
    } else {
        String::new()
    };
    println!(
        "sent {}, retry later {}, failed {}{recovered}",
        report.sent, report.retried, report.failed
    );
    if report.held_elsewhere > 0 {
        println!(
            "{} being sent by another run (serve, or another drain); left to it",
            report.held_elsewhere
        );
    }
    match counts.next_due {
        Some(at) if counts.pending > 0 => println!(
            "outbox: {} pending (next attempt {}), {} sent, {} failed",
            counts.pending,
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            counts.sent,
            counts.failed
        ),
        _ => println!(
            "outbox: nothing pending, {} sent, {} failed",
            counts.sent, counts.failed
        ),
    }
    if let Some(why) = report.stopped {
        eprintln!("error: stopped early: {why}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
