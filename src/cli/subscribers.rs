//! `storyline subscribers add|list|remove`: the operator's view of who gets the digest.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::app::Settings;
use crate::mail::SubscriberEmail;
use crate::store::{DeliveryRow, Store, SubscriberRow, SubscriptionRow, SubscriptionState};
use crate::story::StoryDef;

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Add an address, confirmed (the operator vouches for it).
    Add {
        address: String,
        /// Story to subscribe to (repeatable); default: every configured story.
        #[arg(long = "story", value_name = "ID")]
        stories: Vec<String>,
    },
    /// Show subscribers, their lists, and deliveries that failed or are being retried.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete an address with its subscriptions and pending deliveries.
    Remove { address: String },
}

pub(crate) async fn run(
    settings: &Settings,
    action: Action,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let store = settings.open_store().await?;
    let code = match action {
        Action::Add { address, stories } => {
            add(&settings.stories, &store, &address, stories, now).await?
        }
        Action::List { json } => list(&store, json).await?,
        Action::Remove { address } => remove(&store, &address).await?,
    };
    store.close().await;
    Ok(code)
}

async fn add(
    defined: &[StoryDef],
    store: &Store,
    address: &str,
    stories: Vec<String>,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let email = match SubscriberEmail::parse(address) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "error: \"{}\" is not a usable address: {e}",
                address.escape_debug()
            );
            return Ok(ExitCode::from(2));
        }
    };
    let stories = if stories.is_empty() {
        defined.iter().map(|s| s.id.clone()).collect()
    } else {
        if let Some(bad) = stories
            .iter()
            .find(|s| !defined.iter().any(|c| &c.id == *s))
        {
            let known: Vec<&str> = defined.iter().map(|s| s.id.as_str()).collect();
            eprintln!(
                "error: no story \"{bad}\" (configured: {})",
                known.join(", ")
            );
            return Ok(ExitCode::from(2));
        }
        stories
    };
    store
        .add_confirmed_subscriber(email.as_str(), &stories, now)
        .await
        .context("cannot add the subscriber")?;
    println!("{email}: confirmed for {}", stories.join(", "));
    Ok(ExitCode::SUCCESS)
}

async fn remove(store: &Store, address: &str) -> anyhow::Result<ExitCode> {
    let removed = store
        .remove_subscriber(address.trim())
        .await
        .context("cannot remove the subscriber")?;
    if removed {
        println!("{}: removed", address.trim());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: no subscriber \"{}\"", address.trim().escape_debug());
        Ok(ExitCode::from(2))
    }
}

/// One subscriber as `list` shows it.
#[derive(Debug, serde::Serialize)]
struct Entry {
    id: i64,
    email: String,
    created_at: DateTime<Utc>,
    subscriptions: Vec<SubscriptionRow>,
    sent: usize,
    pending: usize,
    failed: usize,
    /// Deliveries that failed, or are pending after a failed attempt.
    problems: Vec<DeliveryRow>,
}

async fn entry(store: &Store, s: SubscriberRow) -> anyhow::Result<Entry> {
    let subscriptions = store.subscriptions_of(s.id).await?;
    let deliveries = store.deliveries_of_subscriber(s.id).await?;
    let count = |state: &str| deliveries.iter().filter(|d| d.state == state).count();
    let (sent, pending, failed) = (
        count("sent"),
        count("pending") + count("sending"),
        count("failed"),
    );
    let problems = deliveries
        .into_iter()
        .filter(|d| d.state == "failed" || (d.state != "sent" && d.last_reply.is_some()))
        .collect();
    Ok(Entry {
        id: s.id,
        email: s.email,
        created_at: crate::store::from_ts(s.created_at),
        subscriptions,
        sent,
        pending,
        failed,
        problems,
    })
}

async fn list(store: &Store, json: bool) -> anyhow::Result<ExitCode> {
    let mut entries = Vec::new();
    for s in store
        .subscribers()
        .await
        .context("cannot read subscribers")?
    {
        entries.push(entry(store, s).await.context("cannot read subscriptions")?);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = entries.iter().map(|e| e.email.len()).max().unwrap_or(0);
    for e in &entries {
        let lists: Vec<String> = e
            .subscriptions
            .iter()
            .map(|s| format!("{} {} ({})", s.story_id, s.state.as_str(), s.origin))
            .collect();
        println!(
            "{:width$}  {}  [{} sent, {} pending, {} failed]",
            e.email,
            lists.join(", "),
            e.sent,
            e.pending,
            e.failed
        );
        for d in &e.problems {
            let when = if d.state == "failed" {
                "failed".to_string()
            } else {
                format!(
                    "retrying at {}",
                    d.next_attempt_at.format("%Y-%m-%d %H:%M UTC")
                )
            };
            println!(
                "{:width$}    {} {} {when} after {} attempt{}: {}",
                "",
                d.story_id,
                d.week,
                d.attempts,
                if d.attempts == 1 { "" } else { "s" },
                d.last_reply.as_deref().unwrap_or("-")
            );
        }
    }
    let states: Vec<SubscriptionState> = entries
        .iter()
        .flat_map(|e| e.subscriptions.iter().map(|s| s.state))
        .collect();
    let n = |st: SubscriptionState| states.iter().filter(|s| **s == st).count();
    println!(
        "{} subscribers: {} confirmed, {} pending, {} unsubscribed subscriptions; {} failed deliveries",
        entries.len(),
        n(SubscriptionState::Confirmed),
        n(SubscriptionState::Pending),
        n(SubscriptionState::Unsubscribed),
        entries.iter().map(|e| e.failed).sum::<usize>()
    );
    Ok(ExitCode::SUCCESS)
}
