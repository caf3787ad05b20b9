//! The shape of the config file: one serde struct per table, with its defaults. Plain data:
//! what a value means to the app is decided by the module that uses it. The tables about what
//! Storyline sends (`[smtp]`, `[mail]`, `[[alert]]`) are in `delivery`.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use url::Url;

use super::delivery::{AlertConfig, MailConfig, SmtpConfig};
use super::parse::{de_duration, de_opt_duration, de_source_id, de_timezone, de_url};
use super::Origin;
use crate::value::source::{SourceId, SourceKind};

/// The whole configuration, as written (and checked by `validate`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Path of the SQLite database file; relative paths are relative to the working directory.
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// IANA time zone used to cut weeks for digests.
    #[serde(default = "default_timezone", deserialize_with = "de_timezone")]
    pub timezone: chrono_tz::Tz,
    #[serde(default)]
    pub fetch: FetchConfig,
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    #[serde(default, rename = "story")]
    pub stories: Vec<StoryConfig>,
    #[serde(default)]
    pub digest: DigestConfig,
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub daemon: DaemonConfig,
    /// The SMTP server; without it digests go to files and nothing is mailed.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub mail: MailConfig,
    /// `[[alert]]`: pushes when a story moves (checked and resolved by `alert::settings`).
    #[serde(default, rename = "alert")]
    pub alerts: Vec<AlertConfig>,
    #[serde(skip, default = "default_origin")]
    pub origin: Origin,
}

fn default_origin() -> Origin {
    Origin::Preset
}

fn default_database() -> PathBuf {
    PathBuf::from("storyline.db")
}

fn default_timezone() -> chrono_tz::Tz {
    chrono_tz::UTC
}

impl Config {
    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id.as_str() == id)
    }
}

/// How Storyline talks to servers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    pub user_agent: String,
    /// Whole-request timeout (connect, headers and body).
    #[serde(deserialize_with = "de_duration")]
    pub timeout: Duration,
    #[serde(deserialize_with = "de_duration")]
    pub connect_timeout: Duration,
    pub max_body_bytes: u64,
    pub concurrency: usize,
    pub per_host_concurrency: usize,
    /// Allow sources on loopback, private and link-local addresses (SSRF guard off).
    pub allow_private_addresses: bool,
    /// Interval for sources that do not set their own.
    #[serde(deserialize_with = "de_duration")]
    pub default_interval: Duration,
    /// A source never gets more new items than this from one poll; the rest wait.
    pub max_new_items_per_poll: usize,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: default_user_agent(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            concurrency: 32,
            per_host_concurrency: 2,
            allow_private_addresses: false,
            default_interval: Duration::from_secs(3600),
            max_new_items_per_poll: 500,
        }
    }
}

/// `storyline/<version> (+project URL)`: honest and descriptive, as Reddit and others require.
pub fn default_user_agent() -> String {
    format!(
        "storyline/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// When and how digests are made.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestConfig {
    /// Cron line (5 fields, or 6 with seconds first), in `timezone`.
    pub schedule: String,
    /// Whether a week with no new development is still sent.
    pub send_empty: bool,
    /// Directory whose templates override the built-in ones (same file names).
    pub templates: Option<PathBuf>,
    /// Where digests are written when they are not mailed.
    pub output_dir: PathBuf,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            schedule: "0 8 * * Mon".into(),
            send_empty: false,
            templates: None,
            output_dir: PathBuf::from("digests"),
        }
    }
}

/// The daemon's web listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Address to listen on.
    pub listen: std::net::SocketAddr,
    /// Public URL of the site, for links in mail.
    #[serde(deserialize_with = "de_url")]
    pub base_url: Url,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: Url::parse("http://127.0.0.1:8080/").expect("static URL"),
        }
    }
}

/// How the daemon runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// How long in-flight fetches and sends get to finish after SIGTERM.
    #[serde(deserialize_with = "de_duration")]
    pub shutdown_grace: Duration,
    /// Longest sleep between checks for due sources.
    #[serde(deserialize_with = "de_duration")]
    pub tick: Duration,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            shutdown_grace: Duration::from_secs(10),
            tick: Duration::from_secs(60),
        }
    }
}

/// One `[[source]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    #[serde(deserialize_with = "de_source_id")]
    pub id: SourceId,
    #[serde(deserialize_with = "de_url")]
    pub url: Url,
    #[serde(default)]
    pub kind: SourceKind,
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub interval: Option<Duration>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `false` keeps the source as a static reference: stored once from this entry, never fetched.
    #[serde(default = "yes")]
    pub poll: bool,
    #[serde(default)]
    pub title: Option<String>,
    /// Publication date of a static reference (`poll = false`).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

impl SourceConfig {
    /// The polling interval, falling back to the fetch default.
    pub fn interval_or(&self, fetch: &FetchConfig) -> Duration {
        self.interval.unwrap_or(fetch.default_interval)
    }

    /// The static reference date as a UTC instant (midnight).
    pub fn date_utc(&self) -> Option<DateTime<Utc>> {
        self.date
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|dt| dt.and_utc())
    }
}

/// One `[[story]]`: what identifies it, and which sources feed it. A story with no phrases,
/// aliases or ambiguous terms takes every item of its sources (a plain digest).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoryConfig {
    pub id: String,
    pub title: String,
    /// A short name for mail subjects ("Llama 4"); defaults to the title.
    #[serde(default)]
    pub short_title: Option<String>,
    /// Phrases that identify the story on their own ("Llama 4").
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Other names of the same things ("Llama-4", "Meta Superintelligence Labs").
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Words that count only next to a context word ("Behemoth" with "Meta").
    #[serde(default)]
    pub ambiguous: Vec<AmbiguousTerm>,
    /// Phrases that keep an item out ("meta-analysis").
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Source ids that feed this story; empty means every source.
    #[serde(default)]
    pub sources: Vec<String>,
}

/// A word that names the story only in the right company ("Behemoth" near "Meta").
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AmbiguousTerm {
    pub term: String,
    /// Words that make the term count when they occur near it; an entry of several words
    /// needs all of them ("AI lab").
    pub context: Vec<String>,
    /// Words that mark the other sense ("game" near "Behemoth"); they veto the context.
    #[serde(default)]
    pub against: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        Config::parse(text, Origin::File("test.toml".into())).expect("valid")
    }

    #[test]
    fn empty_config_gets_defaults() {
        let c = parse("");
        assert_eq!(c.database, PathBuf::from("storyline.db"));
        assert_eq!(c.fetch.max_body_bytes, 10 * 1024 * 1024);
        assert!(!c.fetch.allow_private_addresses);
        assert!(c.fetch.user_agent.starts_with("storyline/"));
    }
}
