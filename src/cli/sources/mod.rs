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
use crate::config::{Config, Origin};
use crate::sites::Site;
use crate::store::{SourceRow, StoreError};
use crate::value::clock::Clock;
use crate::value::source::SourceId;

mod add;
mod discovery;
mod list;
mod outline;

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
            add::add(&ctx, now, &url, id.as_deref(), kind).await?
        }
        SourcesCommand::List { json } => list::list(&ctx, now, json).await?,
        SourcesCommand::Remove { id } => remove(&ctx, &id).await?,
        SourcesCommand::Import { file } => outline::import(&ctx, now, &file).await?,
        SourcesCommand::Export { file } => outline::export(&ctx, file.as_deref()).await?,
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
