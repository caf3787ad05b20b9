//! Configuration: one TOML file, parsed once at the edge into typed values.
//!
//! Lookup order: `--config PATH`, then `STORYLINE_CONFIG`, then `./storyline.toml`, else the
//! built-in Llama 4 preset (`config/preset.toml`, embedded). Unknown keys and bad values are
//! rejected with the key's name and the reason; nothing reads configuration from a global.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::source::{SourceId, SourceKind};

/// The preset written by `storyline config init` and used when no config file exists.
pub const PRESET: &str = include_str!("../config/preset.toml");

/// Where the configuration came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Preset,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Preset => f.write_str("built-in Llama 4 preset"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {origin}: {message}")]
    Invalid { origin: Origin, message: String },
}

/// The whole configuration, validated.
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

/// One `[[story]]`: what identifies it, and which sources feed it. A story with no phrases,
/// aliases or ambiguous terms takes every item of its sources (a plain digest).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoryConfig {
    pub id: String,
    pub title: String,
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

impl Config {
    /// Parse a TOML document and validate it.
    pub fn parse(text: &str, origin: Origin) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: origin.clone(),
            message,
        };
        let mut config: Config = toml::from_str(text).map_err(|e| invalid(describe_toml(&e)))?;
        config.origin = origin.clone();
        config.validate().map_err(invalid)?;
        Ok(config)
    }

    /// Resolve the config file per the lookup order and load it.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let local = PathBuf::from("storyline.toml");
                local.exists().then_some(local)
            }
        };
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Config::parse(&text, Origin::File(path))
            }
            None => Config::parse(PRESET, Origin::Preset),
        }
    }

    fn validate(&self) -> Result<(), String> {
        let f = &self.fetch;
        if f.concurrency == 0 {
            return Err("fetch.concurrency: must be at least 1".into());
        }
        if f.per_host_concurrency == 0 {
            return Err("fetch.per_host_concurrency: must be at least 1".into());
        }
        if f.max_body_bytes < 1024 {
            return Err("fetch.max_body_bytes: must be at least 1024".into());
        }
        if f.max_new_items_per_poll == 0 {
            return Err("fetch.max_new_items_per_poll: must be at least 1".into());
        }
        if f.timeout.is_zero() {
            return Err("fetch.timeout: must be more than zero".into());
        }
        if f.user_agent.trim().is_empty() {
            return Err("fetch.user_agent: must not be empty".into());
        }
        let mut seen = HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            if !seen.insert(s.id.as_str()) {
                return Err(format!("source[{i}].id: duplicate id \"{}\"", s.id));
            }
            if let Some(iv) = s.interval {
                if iv < Duration::from_secs(60) {
                    return Err(format!(
                        "source[{i}].interval: {} is too short; the minimum is 1m",
                        humantime::format_duration(iv)
                    ));
                }
            }
        }
        let mut story_ids = HashSet::new();
        for (i, st) in self.stories.iter().enumerate() {
            if !crate::source::is_valid_id(&st.id) {
                return Err(format!(
                    "story[{i}].id: \"{}\" must be lowercase letters, digits and dashes",
                    st.id
                ));
            }
            if !story_ids.insert(st.id.as_str()) {
                return Err(format!("story[{i}].id: duplicate id \"{}\"", st.id));
            }
            for s in &st.sources {
                if !seen.contains(s.as_str()) {
                    return Err(format!("story[{i}].sources: no source with id \"{s}\""));
                }
            }
            for (j, a) in st.ambiguous.iter().enumerate() {
                if a.term.trim().is_empty() {
                    return Err(format!("story[{i}].ambiguous[{j}].term: must not be empty"));
                }
                if a.context.iter().all(|c| c.trim().is_empty()) {
                    return Err(format!(
                        "story[{i}].ambiguous[{j}].context: \"{}\" needs at least one context word",
                        a.term
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id.as_str() == id)
    }
}

/// toml's own messages carry the line, column and key; keep them on one line.
fn describe_toml(e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(_) => {
            let shown = e.to_string();
            // "TOML parse error at line 3, column 1\n  |\n3 | ...\n  |\nunknown field ..."
            let first = shown.lines().next().unwrap_or_default();
            format!(
                "{}: {msg}",
                first.trim_start_matches("TOML parse error ").trim()
            )
        }
        None => msg,
    }
}

/// Parse "30s", "15m", "6h", "7d", "1h 30m".
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("\"{s}\" is not a duration like 30s, 15m, 6h or 7d ({e})"))
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s).map_err(serde::de::Error::custom)
}

fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_duration(d).map(Some)
}

fn de_url<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    let s = String::deserialize(d)?;
    crate::source::parse_source_url(&s).map_err(serde::de::Error::custom)
}

fn de_source_id<'de, D: Deserializer<'de>>(d: D) -> Result<SourceId, D::Error> {
    let s = String::deserialize(d)?;
    SourceId::parse(&s).map_err(serde::de::Error::custom)
}

fn de_timezone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<chrono_tz::Tz>()
        .map_err(|_| serde::de::Error::custom(format!("\"{s}\" is not an IANA time zone")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Origin::File("test.toml".into()))
    }

    #[test]
    fn empty_config_gets_defaults() {
        let c = parse("").expect("empty config is valid");
        assert_eq!(c.database, PathBuf::from("storyline.db"));
        assert_eq!(c.fetch.max_body_bytes, 10 * 1024 * 1024);
        assert!(!c.fetch.allow_private_addresses);
        assert!(c.fetch.user_agent.starts_with("storyline/"));
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let err = parse("[fetch]\ntimeout = \"5s\"\nbogus = 1\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("bogus"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn bad_values_name_the_key_and_reason() {
        let msg = parse("[fetch]\ntimeout = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("soon") && msg.contains("duration"), "{msg}");
        let msg = parse("[[source]]\nid = \"a\"\nurl = \"ftp://x/\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("http"), "{msg}");
        let msg = parse("[[source]]\nid = \"Bad Id\"\nurl = \"http://x/\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("Bad Id"), "{msg}");
        let msg = parse("[fetch]\nconcurrency = 0\n").unwrap_err().to_string();
        assert!(msg.contains("fetch.concurrency"), "{msg}");
    }

    #[test]
    fn duplicate_source_ids_are_rejected() {
        let text = "[[source]]\nid = \"a\"\nurl = \"http://x/\"\n[[source]]\nid = \"a\"\nurl = \"http://y/\"\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(msg.contains("duplicate"), "{msg}");
    }

    #[test]
    fn the_preset_is_valid() {
        let c = Config::parse(PRESET, Origin::Preset).expect("preset parses");
        assert!(!c.sources.is_empty());
    }
}
