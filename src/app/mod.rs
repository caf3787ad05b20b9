//! The application, built once: [`Settings::load`] checks the config and turns it into the
//! app's types, then [`App::build`] opens what a run works with (the store, migrated and with
//! the config's sources recorded; the fetcher; mail when the run sends it; the clock). The
//! daemon, the CLI commands that poll, compose or edit sources, and the tests all get their
//! [`App`] here, the way zero2prod's `Application::build` is the one place its server is put
//! together. The daemon still takes its listener and shutdown future from the caller
//! (mini-redis's `server::run`), so tests bind port 0 and stop it when they like.

mod settings;

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

pub use settings::Settings;

use crate::config::Config;
use crate::digest::Templates;
use crate::fetch::{AddressPolicy, Fetcher};
use crate::mail::Mail;
use crate::store::Store;
use crate::story::StoryDef;
use crate::value::clock::Clock;
use crate::value::schedule::Schedule;

/// Everything a run works with; cheap to clone (each clone shares the store, the fetcher's
/// client and the shutdown signal).
#[derive(Debug, Clone)]
pub struct App {
    pub config: Arc<Config>,
    /// The configured stories, else the built-in one; resolved once at load.
    pub stories: Arc<Vec<StoryDef>>,
    /// When digests are due, parsed once at load.
    pub schedule: Schedule,
    pub templates: Arc<Templates>,
    pub store: Store,
    pub fetcher: Fetcher,
    /// Set up when the run sends mail (the daemon); `None` when it mails nothing or there is
    /// no `[smtp]`. One `Mail` per run, so every sender shares one pace.
    pub mail: Option<Mail>,
    pub clock: Clock,
    /// Cancelled on shutdown: no new fetch starts, the ones in flight finish.
    pub shutdown: CancellationToken,
}

impl App {
    /// Build the app from checked settings. `mail` is the run's mail, set up from the same
    /// settings before anything was opened ([`Settings::mail`]), or `None`; `now` is when the
    /// run starts (it stamps the sources recorded from the config).
    pub async fn build(
        settings: Settings,
        mail: Option<Mail>,
        clock: Clock,
        now: DateTime<Utc>,
    ) -> anyhow::Result<App> {
        let policy = if settings.config.fetch.allow_private_addresses {
            AddressPolicy::Any
        } else {
            AddressPolicy::PublicOnly
        };
        App::build_with_policy(settings, mail, clock, now, policy).await
    }

    /// As [`App::build`], with an explicit address policy (tests pin it to loopback).
    pub async fn build_with_policy(
        settings: Settings,
        mail: Option<Mail>,
        clock: Clock,
        now: DateTime<Utc>,
        policy: AddressPolicy,
    ) -> anyhow::Result<App> {
        let store = settings.open_store().await?;
        let config = settings.config;
        store
            .sync_sources(&config.sources, &config.fetch, now)
            .await
            .context("cannot record the configured sources")?;
        let fetcher = Fetcher::with_policy(&config.fetch, policy)?;
        Ok(App {
            config,
            stories: settings.stories,
            schedule: settings.schedule,
            templates: settings.templates,
            store,
            fetcher,
            mail,
            clock,
            shutdown: CancellationToken::new(),
        })
    }
}
