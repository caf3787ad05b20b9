//! `storyline alerts test|list|drain`: try an alert's receiver, see what was sent and what
//! failed, and send what is due.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use tokio_util::sync::CancellationToken;

use crate::alert::{self, Alerts, Sender};
use crate::app::Settings;
use crate::store::AlertDeliveryRow;
use crate::value::clock::Clock;

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Send a sample alert through one configured alert now (quiet hours do not apply) and
    /// show the receiver's answer.
    Test {
        /// The alert's id (`[[alert]] id`).
        id: String,
    },
    /// The last deliveries, newest first: state, attempts and the receiver's last reply.
    List {
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print JSON: `{alerts: [{alert_id, state, count}], deliveries: [{id, alert_id,
        /// event_id, headline, state, attempts, last_status, last_reply, ...}]}`.
        #[arg(long)]
        json: bool,
    },
    /// Send every alert that is due, then stop (`serve` and `poll` do this on their own).
    Drain,
}

pub(crate) async fn run(
    settings: &Settings,
    action: Action,
    clock: Clock,
) -> anyhow::Result<ExitCode> {
    let config = &settings.config;
    if let Action::List { limit, json } = action {
        return list(settings, limit, json).await;
    }
    if config.alerts.is_empty() {
        eprintln!("error: no [[alert]] in the config");
        return Ok(ExitCode::from(2));
    }
    let alerts = match settings.alerts(&crate::mail::process_env) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let sender =
        Sender::new(&config.fetch, alert::policy_of(&config.fetch)).map_err(anyhow::Error::msg)?;
    match action {
        Action::Test { id } => test(&alerts, &sender, &id, &clock).await,
        Action::Drain => drain(settings, &alerts, &sender, &clock).await,
        Action::List { .. } => unreachable!("handled above"),
    }
}

async fn test(
    alerts: &Alerts,
    sender: &Sender,
    id: &str,
    clock: &Clock,
) -> anyhow::Result<ExitCode> {
    let Some(target) = alerts.get(id) else {
        let known: Vec<&str> = alerts.targets().iter().map(|t| t.id()).collect();
        eprintln!(
            "error: no alert with id \"{id}\" (alerts: {})",
            known.join(", ")
        );
        return Ok(ExitCode::from(2));
    };
    let now = clock.now();
    let payload = alert::payload::sample(alerts.story(&target.config.story), now);
    let mut key = [0u8; 8];
    let _ = getrandom::getrandom(&mut key);
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let req = alert::request::build(target, &payload, &format!("storyline-test-{key}"), now)
        .map_err(anyhow::Error::msg)?;
    let to = format!(
        "{} {}",
        target.config.kind.as_str(),
        alert::shown_url(&target.config.url)
    );
    match sender.send(&req, now).await {
        Ok(d) => {
            println!("sent to {to}: {}", d.reply);
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            eprintln!("error: {to} did not take the alert: {}", f.reply);
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn drain(
    settings: &Settings,
    alerts: &Alerts,
    sender: &Sender,
    clock: &Clock,
) -> anyhow::Result<ExitCode> {
    let store = settings.open_store().await?;
    // Ctrl-C lets the alert in flight finish and records it; the rest stays queued.
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    let signal = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    let report = alert::drain(sender, &store, alerts, clock, &cancel).await;
    signal.abort();
    let r = report.context("cannot work through the alert outbox")?;
    let next = store.next_alert_due().await?;
    store.close().await;
    println!(
        "alerts: sent {}, retry later {}, failed {}",
        r.sent, r.retried, r.failed
    );
    if let Some(at) = next {
        println!("next attempt due {}", at.format("%Y-%m-%d %H:%M:%S UTC"));
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(settings: &Settings, limit: u32, json: bool) -> anyhow::Result<ExitCode> {
    let store = settings.open_store().await?;
    let counts = store.alert_counts().await?;
    let rows = store.recent_alert_deliveries(limit).await?;
    store.close().await;
    if json {
        let deliveries: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["headline"] = headline(r).into();
                v
            })
            .collect();
        let v = serde_json::json!({ "alerts": counts, "deliveries": deliveries });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    for a in &settings.config.alerts {
        let n = |state: &str| {
            counts
                .iter()
                .find(|c| c.alert_id == a.id && c.state == state)
                .map_or(0, |c| c.count)
        };
        println!(
            "{} ({} {}, story {}): {} sent, {} pending, {} failed",
            a.id,
            a.kind.as_str(),
            alert::shown_url(&a.url),
            a.story,
            n("sent"),
            n("pending") + n("sending"),
            n("failed")
        );
    }
    if rows.is_empty() {
        println!("no alert sent or queued yet");
        return Ok(ExitCode::SUCCESS);
    }
    println!();
    for r in &rows {
        print_row(r);
    }
    Ok(ExitCode::SUCCESS)
}

/// The development's headline as the alert gave it.
fn headline(r: &AlertDeliveryRow) -> String {
    serde_json::from_str::<alert::Payload>(&r.payload)
        .map(|p| p.event.headline)
        .unwrap_or_default()
}

fn print_row(r: &AlertDeliveryRow) {
    let when = match (r.state.as_str(), r.sent_at) {
        ("sent", Some(t)) => format!("sent {}", t.format("%Y-%m-%d %H:%M UTC")),
        ("pending", _) => format!("due {}", r.next_attempt_at.format("%Y-%m-%d %H:%M UTC")),
        (state, _) => state.to_string(),
    };
    let headline = headline(r);
    let what = if r.subject == "event" {
        String::new()
    } else {
        " (page update)".to_string()
    };
    println!(
        "#{} {} {:7} attempts {}  {when}  {headline}{what}",
        r.id, r.alert_id, r.state, r.attempts
    );
    if r.state != "sent" {
        if let Some(reply) = &r.last_reply {
            println!("    last reply: {reply}");
        }
    }
}
