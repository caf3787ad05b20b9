//! `storyline sources add|list|remove|import|export`: sources kept in the database next to the
//! config file's own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use url::Url;

use crate::app::{App, Settings};
use crate::clock::Clock;
use crate::config::{Config, Origin};
use crate::discovery;
use crate::sites::Site;
use crate::source::SourceId;
use crate::store::{SourceRow, StoreError};

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Fetch URL once and follow it: a feed as a feed; an HTML page that advertises feeds
    /// through its first feed (unless --kind page); any other page as a watched page.
    Add {
        url: String,
        /// Id for the new source (default: derived from its title or host).
        #[arg(long)]
        id: Option<String>,
        /// Follow it as this kind instead of guessing.
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
    },
    /// Every source with its kind, last fetch, status, failures, last error and next due time.
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Stop following a source added with `sources add` or `sources import`, and drop its items.
    Remove { id: String },
    /// Add the feeds and links of an OPML file (nothing is fetched until the next poll).
    Import { file: PathBuf },
    /// Write every source as OPML 2.0 to FILE, or to standard output.
    Export { file: Option<PathBuf> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Feed,
    Page,
}

pub(crate) async fn run(
    settings: Settings,
    clock: Clock,
    now: DateTime<Utc>,
    cmd: SourcesCommand,
) -> anyhow::Result<ExitCode> {
    let ctx = App::build(settings, None, clock, now).await?;
    let code = match cmd {
        SourcesCommand::Add { url, id, kind } => {
            super::sources_add::add(&ctx, now, &url, id.as_deref(), kind).await?
        }
        SourcesCommand::List { json } => list(&ctx, now, json).await?,
        SourcesCommand::Remove { id } => remove(&ctx, &id).await?,
        SourcesCommand::Import { file } => import(&ctx, now, &file).await?,
        SourcesCommand::Export { file } => export(&ctx, file.as_deref()).await?,
    };
    ctx.store.close().await;
    Ok(code)
}

pub(super) fn bad_input(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The interval a new source gets: the configured default, never faster than the site allows.
pub(super) fn interval_for(config: &Config, url: &Url) -> Duration {
    let default = config.fetch.default_interval;
    match Site::from_url(url).and_then(Site::min_interval) {
        Some((floor, _)) => default.max(floor),
        None => default,
    }
}

pub(super) fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

pub(super) async fn source_exists(ctx: &App, id: &str) -> Result<bool, StoreError> {
    match ctx.store.source(id).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// One row of `sources list --json`.
#[derive(Debug, Serialize)]
struct ListedSource<'a> {
    id: &'a str,
    kind: &'a str,
    origin: &'a str,
    url: &'a str,
    title: Option<&'a str>,
    enabled: bool,
    poll: bool,
    interval_secs: i64,
    items: i64,
    last_fetch: Option<String>,
    status: String,
    http_status: Option<i64>,
    consecutive_failures: i64,
    failing_since: Option<String>,
    last_error: Option<&'a str>,
    next_due: Option<String>,
    flagged: Option<&'a str>,
}

/// The state of a source in plain words.
fn status_words(s: &SourceRow) -> String {
    if !s.poll {
        return "static reference".into();
    }
    if let Some(reason) = &s.disabled_reason {
        return format!("disabled: {reason}");
    }
    if !s.enabled {
        return if s.origin == "config" {
            "disabled (no longer in the config)".into()
        } else {
            "disabled".into()
        };
    }
    match (s.last_status.as_deref(), s.last_http_status) {
        (None, _) => "never fetched".into(),
        (Some("ok"), _) => "ok".into(),
        (Some("not_modified"), _) => "ok (not modified)".into(),
        (Some("rate_limited"), Some(code)) => format!("rate limited (HTTP {code})"),
        (Some("rate_limited"), None) => "rate limited".into(),
        (Some("gone"), _) => "gone (HTTP 410)".into(),
        (Some("error"), Some(code)) => format!("failing (HTTP {code})"),
        (Some("error"), None) => "failing".into(),
        (Some(other), _) => other.replace('_', " "),
    }
}

fn next_due_words(s: &SourceRow, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (s.enabled && s.poll && s.disabled_reason.is_none()).then(|| s.next_due().max(now))
}

/// A static reference is recorded, never fetched: it has no last fetch to show.
fn last_fetch(s: &SourceRow) -> Option<DateTime<Utc>> {
    s.poll.then(|| s.last_fetch()).flatten()
}

fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

async fn list(ctx: &App, now: DateTime<Utc>, json: bool) -> anyhow::Result<ExitCode> {
    let sources = ctx.store.sources().await?;
    let counts = ctx.store.item_counts().await?;
    if json {
        let rows: Vec<ListedSource<'_>> = sources
            .iter()
            .map(|s| ListedSource {
                id: &s.id,
                kind: &s.kind,
                origin: &s.origin,
                url: &s.url,
                title: s.title.as_deref(),
                enabled: s.enabled,
                poll: s.poll,
                interval_secs: s.interval_secs,
                items: counts.get(&s.id).copied().unwrap_or(0),
                last_fetch: last_fetch(s).map(|t| t.to_rfc3339()),
                status: status_words(s),
                http_status: s.last_http_status,
                consecutive_failures: s.consecutive_failures,
                failing_since: s.failing_since().map(|t| t.to_rfc3339()),
                last_error: s.last_error.as_deref(),
                next_due: next_due_words(s, now).map(|t| t.to_rfc3339()),
                flagged: s.flagged.as_deref(),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if sources.is_empty() {
        println!("no sources; add one with `storyline sources add URL`");
        return Ok(ExitCode::SUCCESS);
    }
    let width = sources.iter().map(|s| s.id.len()).max().unwrap_or(2).max(2);
    println!(
        "{:width$}  {:4}  {:6}  {:16}  {:>5}  {:>5}  {:16}  STATUS",
        "ID", "KIND", "ORIGIN", "LAST FETCH (UTC)", "FAILS", "ITEMS", "NEXT DUE (UTC)"
    );
    for s in &sources {
        let next = match next_due_words(s, now) {
            Some(t) if t <= now => "now".to_string(),
            Some(t) => fmt_time(t),
            None => "-".into(),
        };
        println!(
            "{:width$}  {:4}  {:6}  {:16}  {:>5}  {:>5}  {:16}  {}",
            s.id,
            s.kind,
            s.origin,
            last_fetch(s).map_or("-".into(), fmt_time),
            s.consecutive_failures,
            counts.get(&s.id).copied().unwrap_or(0),
            next,
            status_words(s)
        );
        if let (Some(err), true) = (&s.last_error, s.consecutive_failures > 0) {
            let since = s
                .failing_since()
                .map(|t| format!(" (failing since {})", fmt_time(t)))
                .unwrap_or_default();
            println!("{:width$}  last error: {err}{since}", "");
        }
        if let Some(flag) = &s.flagged {
            println!("{:width$}  note: {flag}", "");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(ctx: &App, id: &str) -> anyhow::Result<ExitCode> {
    if ctx.config.source(id).is_some() {
        let place = match &ctx.config.origin {
            Origin::File(p) => format!("the config file {}; remove its [[source]] entry there", p.display()),
            Origin::Preset => "the built-in preset; run `storyline config init`, then remove its [[source]] entry from storyline.toml".into(),
        };
        return Ok(bad_input(format!("source \"{id}\" comes from {place}")));
    }
    let items = ctx.store.item_counts().await?.get(id).copied().unwrap_or(0);
    match ctx.store.remove_source(id).await {
        Ok(()) => {
            println!("removed \"{id}\" and its {items} stored items");
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::NotFound) => Ok(bad_input(format!(
            "no source with id \"{id}\" (see `storyline sources list`)"
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn import(ctx: &App, now: DateTime<Utc>, file: &Path) -> anyhow::Result<ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return Ok(bad_input(format!("cannot read {}: {e}", file.display()))),
    };
    let found = match crate::opml::parse(&text) {
        Ok(f) => f,
        Err(e) => return Ok(bad_input(format!("{}: {e}", file.display()))),
    };
    let mut taken: Vec<String> = ctx
        .store
        .sources()
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let (mut added, mut skipped) = (0usize, 0usize);
    for s in found {
        if let Some(existing) = ctx.store.source_by_url(s.url.as_str()).await? {
            println!(
                "skipped {} (line {}): already followed as \"{}\"",
                s.url, s.line, existing.id
            );
            skipped += 1;
            continue;
        }
        let id = match s
            .id
            .as_ref()
            .filter(|id| !taken.iter().any(|t| t == id.as_str()))
        {
            Some(id) => id.clone(),
            None => {
                let hint = s.title.as_deref().or(s.id.as_ref().map(SourceId::as_str));
                match discovery::derive_id(hint, &s.url, |c| taken.iter().any(|t| t == c)) {
                    Ok(id) => id,
                    Err(e) => return Ok(bad_input(format!("line {}: {e}", s.line))),
                }
            }
        };
        let interval = interval_for(&ctx.config, &s.url);
        ctx.store
            .add_source(
                id.as_str(),
                s.kind,
                s.url.as_str(),
                s.title.as_deref(),
                secs(interval),
                now,
            )
            .await?;
        println!("added {} \"{id}\": {}", s.kind.as_str(), s.url);
        taken.push(id.to_string());
        added += 1;
    }
    println!("imported {added} sources, skipped {skipped}; the next poll fetches them");
    Ok(ExitCode::SUCCESS)
}

async fn export(ctx: &App, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let sources = ctx.store.sources().await?;
    let rows: Vec<crate::opml::ExportSource<'_>> = sources
        .iter()
        .map(|s| crate::opml::ExportSource {
            id: &s.id,
            title: s.title.as_deref(),
            url: &s.url,
            kind: s.kind(),
        })
        .collect();
    let xml = crate::opml::render(&rows, "Storyline sources").map_err(anyhow::Error::msg)?;
    match file {
        Some(path) => {
            std::fs::write(path, xml)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} sources to {}", rows.len(), path.display());
        }
        None => print!("{xml}"),
    }
    Ok(ExitCode::SUCCESS)
}
