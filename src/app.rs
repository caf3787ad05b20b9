//! Wiring: from a loaded config to a ready `refresh::Context` (store opened, migrated, and the
//! config's sources synced into it).

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::fetch::{AddressPolicy, Fetcher};
use crate::refresh::Context;
use crate::store::Store;

/// Open the database named by `config`, sync its sources, and build the fetcher.
pub async fn open(config: Config, now: DateTime<Utc>) -> anyhow::Result<Context> {
    let policy = if config.fetch.allow_private_addresses {
        AddressPolicy::Any
    } else {
        AddressPolicy::PublicOnly
    };
    open_with_policy(config, now, policy).await
}

/// As [`open`], with an explicit address policy (tests pin it to loopback).
pub async fn open_with_policy(
    config: Config,
    now: DateTime<Utc>,
    policy: AddressPolicy,
) -> anyhow::Result<Context> {
    let store = Store::open(&config.database)
        .await
        .with_context(|| format!("cannot use database {}", config.database.display()))?;
    store
        .sync_sources(&config.sources, &config.fetch, now)
        .await
        .context("cannot record the configured sources")?;
    let fetcher = Fetcher::with_policy(&config.fetch, policy)?;
    Ok(Context {
        config: Arc::new(config),
        store,
        fetcher,
        shutdown: CancellationToken::new(),
    })
}
