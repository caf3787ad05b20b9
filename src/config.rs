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

use crate::secret::Secret;
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
    /// `[[alert]]`: pushes when a story moves (see `alert::settings`).
    #[serde(default, rename = "alert")]
    pub alerts: Vec<crate::alert::AlertConfig>,
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

/// `[smtp]`: the server that digests and confirmation mails go through.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Defaults by `tls`: 587 for STARTTLS, 465 for TLS, 25 for none.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default)]
    pub username: Option<String>,
    /// Name of the environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password (a trailing newline is ignored).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// "Storyline <digest@example.org>".
    #[serde(deserialize_with = "de_mailbox")]
    pub from: lettre::message::Mailbox,
    #[serde(default, deserialize_with = "de_opt_mailbox")]
    pub reply_to: Option<lettre::message::Mailbox>,
    /// Longest wait to connect (with TLS and login), and to send one message.
    #[serde(default = "default_smtp_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: only for a relay on the same machine.
    None,
}

fn default_smtp_timeout() -> Duration {
    Duration::from_secs(60)
}

impl SmtpConfig {
    /// The configured port, or the usual one for the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }

    /// Read the password from `password_env` or `password_file`; `env` looks variables up.
    pub fn password(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Secret>, String> {
        if let Some(var) = &self.password_env {
            return env(var)
                .filter(|v| !v.is_empty())
                .map(|v| Some(Secret::new(v)))
                .ok_or_else(|| format!("smtp.password_env: ${var} is not set"));
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("smtp.password_file: cannot read {}: {e}", path.display()))?;
            let pw = text.trim_end_matches(['\r', '\n']);
            if pw.is_empty() {
                return Err(format!("smtp.password_file: {} is empty", path.display()));
            }
            return Ok(Some(Secret::new(pw)));
        }
        Ok(None)
    }
}

/// `[mail]`: delivery pace, retries, list identity and the key that signs links.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// At most this many messages per second (small providers throttle).
    pub rate_per_second: f64,
    /// HMAC key for links in mail; prefer `secret_env` or `STORYLINE_SECRET`.
    pub secret: Option<Secret>,
    /// Name of the environment variable holding the key.
    pub secret_env: Option<String>,
    /// How long a confirmation link stays valid.
    #[serde(deserialize_with = "de_duration")]
    pub confirm_ttl: Duration,
    /// An address gets at most one confirmation mail per this interval.
    #[serde(deserialize_with = "de_duration")]
    pub confirm_interval: Duration,
    /// List-Id template; `{story}` is replaced by the story id.
    /// Default: `{story}.storyline.<host of web.base_url>`.
    pub list_id: Option<String>,
    /// A delivery that keeps failing transiently is given up after this many attempts.
    pub max_attempts: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            rate_per_second: 5.0,
            secret: None,
            secret_env: None,
            confirm_ttl: Duration::from_secs(48 * 3600),
            confirm_interval: Duration::from_secs(10 * 60),
            list_id: None,
            max_attempts: 8,
        }
    }
}

/// The variable read for the HMAC key when the config names none.
pub const SECRET_ENV: &str = "STORYLINE_SECRET";

impl MailConfig {
    /// The HMAC key: `secret`, else `$secret_env`, else `$STORYLINE_SECRET`.
    pub fn secret(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, String> {
        let (value, origin) = if let Some(s) = &self.secret {
            (Some(s.expose().to_string()), "mail.secret".to_string())
        } else if let Some(var) = &self.secret_env {
            (env(var), format!("mail.secret_env (${var})"))
        } else {
            (env(SECRET_ENV), format!("${SECRET_ENV}"))
        };
        match value {
            Some(v) if v.len() >= 32 => Ok(Secret::new(v)),
            Some(_) => Err(format!("{origin}: the key must be at least 32 characters")),
            None => Err(format!(
                "mail needs a signing key: {origin} is not set; set ${SECRET_ENV}, or \
                 [mail] secret_env or secret, to 32 or more random characters \
                 (`storyline config init` writes one; or `openssl rand -hex 32`)"
            )),
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
        self.digest_schedule()?;
        self.validate_templates()?;
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
        self.validate_mail()?;
        crate::alert::validate(
            &self.alerts,
            &self.story_ids()?,
            self.fetch.allow_private_addresses,
        )
    }

    /// The ids of the configured stories, or of the built-in one when there are none.
    pub fn story_ids(&self) -> Result<Vec<String>, String> {
        if self.stories.is_empty() {
            let builtin = crate::story::StoryDef::builtin().map_err(|e| e.to_string())?;
            return Ok(vec![builtin.id]);
        }
        Ok(self.stories.iter().map(|s| s.id.clone()).collect())
    }

    /// A configured template directory is read and parsed now, so a wrong path or a broken
    /// template stops `config check` and `serve` at start, not the first digest a week later.
    fn validate_templates(&self) -> Result<(), String> {
        let Some(dir) = &self.digest.templates else {
            return Ok(());
        };
        crate::digest::Templates::load(Some(dir)).map_err(|e| {
            let mut message = format!("digest.templates: {e}");
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                message.push_str(&format!(": {c}"));
                cause = c.source();
            }
            message
        })?;
        Ok(())
    }

    fn validate_mail(&self) -> Result<(), String> {
        let m = &self.mail;
        if !(m.rate_per_second >= 0.01 && m.rate_per_second <= 10_000.0) {
            return Err("mail.rate_per_second: must be between 0.01 and 10000".into());
        }
        if m.max_attempts == 0 {
            return Err("mail.max_attempts: must be at least 1".into());
        }
        if m.confirm_ttl < Duration::from_secs(60) {
            return Err("mail.confirm_ttl: must be at least 1m".into());
        }
        if let Some(t) = &m.list_id {
            if self.stories.len() > 1 && !t.contains("{story}") {
                return Err(
                    "mail.list_id: must contain {story} when there are several stories".into(),
                );
            }
            let sample = t.replace("{story}", "story");
            if !is_dot_atom(&sample) {
                return Err(format!(
                    "mail.list_id: \"{t}\" must be dot-separated letters, digits and dashes"
                ));
            }
        }
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() {
                return Err("smtp.host: must not be empty".into());
            }
            if smtp.password_env.is_some() && smtp.password_file.is_some() {
                return Err("smtp: set password_env or password_file, not both".into());
            }
            let has_password = smtp.password_env.is_some() || smtp.password_file.is_some();
            if has_password != smtp.username.is_some() {
                return Err(
                    "smtp: username and a password (password_env or password_file) \
                            go together"
                        .into(),
                );
            }
            if smtp.timeout.is_zero() {
                return Err("smtp.timeout: must be more than zero".into());
            }
            if has_password && smtp.tls == SmtpTls::None && !is_local_host(&smtp.host) {
                return Err(format!(
                    "smtp.tls: \"none\" would send the password in the clear to {}; \
                     use \"starttls\" or \"tls\"",
                    smtp.host
                ));
            }
        }
        Ok(())
    }

    /// The digest schedule, parsed (validated at load, so this only fails on a config built
    /// by hand).
    pub fn digest_schedule(&self) -> Result<crate::schedule::Schedule, String> {
        crate::schedule::Schedule::parse(&self.digest.schedule, self.timezone)
            .map_err(|e| format!("digest.schedule: {e}"))
    }

    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id.as_str() == id)
    }
}

/// toml's own messages carry the line, column and key; keep them on one line.
fn describe_toml(e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    let msg = match story_field_hint(&msg) {
        Some(hint) => format!("{msg}\n  {hint}"),
        None => msg,
    };
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

/// A story's keys written at the top of the config (a story file's shape pasted in): say where
/// they belong.
fn story_field_hint(msg: &str) -> Option<String> {
    let field = msg.strip_prefix("unknown field `")?.split('`').next()?;
    if !msg.contains("`story`") {
        return None;
    }
    match field {
        "ambiguous" => Some(
            "`[[ambiguous]]` belongs to a story: in a config file write it as \
             `[[story.ambiguous]]`, below the `[[story]]` it belongs to (a story file on its \
             own, like the built-in src/story/llama4.toml, writes `[[ambiguous]]`)"
                .to_string(),
        ),
        "id" | "title" | "short_title" | "phrases" | "aliases" | "exclude" | "sources" => {
            Some(format!(
                "`{field}` belongs to a story: put it below a `[[story]]` line (see README, \
                 \"Defining a story\")"
            ))
        }
        _ => None,
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

/// `localhost` or a loopback address: a relay on this machine.
fn is_local_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Letters, digits and dashes in dot-separated labels (Message-ID and List-Id right sides).
pub fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn de_mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<lettre::message::Mailbox, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|e| {
        serde::de::Error::custom(format!(
            "\"{s}\" is not a mail address like \"Name <name@example.org>\" ({e})"
        ))
    })
}

fn de_opt_mailbox<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<lettre::message::Mailbox>, D::Error> {
    de_mailbox(d).map(Some)
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

    /// The built-in story file's shape pasted into a config: the error says where its tables
    /// go, in words.
    #[test]
    fn a_story_table_at_the_top_says_where_it_belongs() {
        let pasted = "[[story]]\nid = \"x\"\ntitle = \"X\"\nphrases = [\"X 1\"]\n\
                      [[ambiguous]]\nterm = \"Y\"\ncontext = [\"z\"]\n";
        let e = Config::parse(pasted, Origin::File("t.toml".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("write it as `[[story.ambiguous]]`"), "{e}");
        let ok = pasted.replace("[[ambiguous]]", "[[story.ambiguous]]");
        let c = Config::parse(&ok, Origin::File("t.toml".into())).unwrap();
        assert_eq!(c.stories[0].ambiguous[0].term, "Y");
        let top = Config::parse("phrases = [\"X\"]\n", Origin::File("t.toml".into()))
            .unwrap_err()
            .to_string();
        assert!(top.contains("below a `[[story]]` line"), "{top}");
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
    fn bad_schedule_is_rejected_at_load() {
        let msg = parse("[digest]\nschedule = \"weekly\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("digest.schedule"), "{msg}");
        assert!(parse("[digest]\nschedule = \"0 0 8 * * Mon\"\n").is_ok());
    }

    /// A wrong template directory is a config error naming the path; one that overrides a
    /// single file is fine.
    #[test]
    fn template_directory_is_checked_at_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let with =
            |path: &Path| format!("[digest]\ntemplates = {:?}\n", path.display().to_string());
        let gone = dir.path().join("nope");
        let msg = parse(&with(&gone)).unwrap_err().to_string();
        assert!(
            msg.contains(&format!(
                "digest.templates: {}: the template directory does not exist",
                gone.display()
            )),
            "{msg}"
        );

        std::fs::write(dir.path().join("digest.txt.tera"), "{{ subject }}").expect("write");
        assert!(parse(&with(dir.path())).is_ok());

        std::fs::write(dir.path().join("digest.html.tera"), "{% if %}").expect("write");
        let msg = parse(&with(dir.path())).unwrap_err().to_string();
        let file = dir.path().join("digest.html.tera");
        assert!(
            msg.contains(&format!("{} does not parse", file.display())),
            "{msg}"
        );
        assert!(msg.contains("1:"), "the spot is shown: {msg}");
    }

    #[test]
    fn duplicate_source_ids_are_rejected() {
        let text = "[[source]]\nid = \"a\"\nurl = \"http://x/\"\n[[source]]\nid = \"a\"\nurl = \"http://y/\"\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(msg.contains("duplicate"), "{msg}");
    }

    const SMTP: &str =
        "[smtp]\nhost = \"mail.example.org\"\nfrom = \"Storyline <d@example.org>\"\n";

    #[test]
    fn smtp_and_mail_sections_get_defaults() {
        let c = parse(SMTP).expect("minimal smtp");
        let smtp = c.smtp.as_ref().expect("smtp");
        assert_eq!((smtp.tls, smtp.port()), (SmtpTls::Starttls, 587));
        assert_eq!(smtp.timeout, Duration::from_secs(60));
        assert_eq!(c.mail.rate_per_second, 5.0);
        assert_eq!(c.mail.max_attempts, 8);
        assert_eq!(c.mail.confirm_ttl, Duration::from_secs(48 * 3600));
        let tls = parse(&format!("{SMTP}tls = \"tls\"\n")).expect("tls");
        assert_eq!(tls.smtp.expect("smtp").port(), 465);
        assert!(parse("").expect("empty").smtp.is_none());
    }

    #[test]
    fn bad_mail_settings_name_the_key() {
        let cases = [
            (format!("{SMTP}tls = \"ssl\"\n"), "ssl"),
            (
                SMTP.replace("Storyline <d@example.org>", "not an address"),
                "is not a mail address",
            ),
            (
                format!("{SMTP}username = \"u\"\n"),
                "username and a password",
            ),
            (
                format!("{SMTP}password_env = \"P\"\npassword_file = \"/p\"\nusername = \"u\"\n"),
                "not both",
            ),
            (
                format!("{SMTP}tls = \"none\"\nusername = \"u\"\npassword_env = \"P\"\n"),
                "in the clear",
            ),
            (
                "[mail]\nrate_per_second = 0\n".into(),
                "mail.rate_per_second",
            ),
            ("[mail]\nmax_attempts = 0\n".into(), "mail.max_attempts"),
            ("[mail]\nlist_id = \"bad id\"\n".into(), "mail.list_id"),
            (
                "[mail]\nlist_id = \"news.example.org\"\n\
                 [[story]]\nid = \"a\"\ntitle = \"A\"\n[[story]]\nid = \"b\"\ntitle = \"B\"\n"
                    .into(),
                "{story}",
            ),
        ];
        for (text, want) in cases {
            let msg = parse(&text).expect_err(&text).to_string();
            assert!(msg.contains(want), "{text}: {msg}");
        }
        // A relay on this machine may take a password without TLS.
        let local = SMTP.replace("mail.example.org", "127.0.0.1");
        assert!(parse(&format!(
            "{local}tls = \"none\"\nusername = \"u\"\npassword_env = \"P\"\n"
        ))
        .is_ok());
    }

    #[test]
    fn the_signing_key_comes_from_config_or_environment() {
        let env = |k: &str| (k == "KEY").then(|| "k".repeat(40));
        let c = parse("[mail]\nsecret_env = \"KEY\"\n").expect("valid");
        assert_eq!(c.mail.secret(&env).expect("found").expose().len(), 40);
        let msg = c.mail.secret(&|_| None).expect_err("missing").to_string();
        assert!(msg.contains("$KEY"), "{msg}");
        let c = parse("").expect("valid");
        assert!(c.mail.secret(&|_| None).is_err());
        let from_default = |k: &str| (k == SECRET_ENV).then(|| "s".repeat(32));
        assert!(c.mail.secret(&from_default).is_ok());
        let inline = parse(&format!("[mail]\nsecret = \"{}\"\n", "i".repeat(32))).expect("valid");
        assert!(!format!("{inline:?}").contains(&"i".repeat(32)));
    }

    /// contrib/storyline.example.toml is what operators copy; it must stay valid, need only
    /// the environment the unit's /etc/storyline/env provides, and fit the systemd unit.
    #[test]
    fn the_example_deployment_config_is_valid_and_fits_the_unit() {
        const EXAMPLE: &str = include_str!("../contrib/storyline.example.toml");
        const UNIT: &str = include_str!("../contrib/storyline.service");
        let c = Config::parse(EXAMPLE, Origin::File("storyline.example.toml".into()))
            .expect("the example parses");
        let env = |k: &str| match k {
            "STORYLINE_SECRET" => Some("s".repeat(64)),
            "STORYLINE_SMTP_PASSWORD" => Some("password".to_string()),
            _ => None,
        };
        let mail = crate::mail::Mail::from_config(&c, &env).expect("mail sets up");
        assert!(mail.is_some(), "the example mails digests");
        assert!(crate::mail::Mail::from_config(&c, &|_| None).is_err());
        let smtp = c.smtp.as_ref().expect("smtp");
        assert_eq!(smtp.tls, SmtpTls::Starttls);
        assert!(smtp.password_env.is_some(), "no password in the file");
        assert!(c.mail.secret.is_none(), "no signing key in the file");
        assert_eq!(c.web.base_url.scheme(), "https");
        assert!(c.web.listen.ip().is_loopback(), "behind a reverse proxy");
        assert!(!c.fetch.allow_private_addresses);
        assert!(!c.sources.is_empty());

        // The unit may write only under its StateDirectory, and stops the daemon for good
        // after TimeoutStopSec.
        let unit = |key: &str| {
            UNIT.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("{key} in the unit"))
        };
        let state = Path::new("/var/lib").join(unit("StateDirectory"));
        assert!(c.database.starts_with(&state), "{}", c.database.display());
        assert!(c.digest.output_dir.starts_with(&state));
        assert_eq!(unit("WorkingDirectory"), state.display().to_string());
        // systemd reads a bare number as seconds.
        let stop = match unit("TimeoutStopSec").parse::<u64>() {
            Ok(secs) => Duration::from_secs(secs),
            Err(_) => parse_duration(unit("TimeoutStopSec")).expect("a duration"),
        };
        assert!(
            c.daemon.shutdown_grace + Duration::from_secs(5) <= stop,
            "shutdown_grace {:?} leaves no margin before TimeoutStopSec {stop:?}",
            c.daemon.shutdown_grace
        );
    }

    #[test]
    fn the_preset_is_valid() {
        let c = Config::parse(PRESET, Origin::Preset).expect("preset parses");
        assert!(!c.sources.is_empty());
    }
}
