//! The tables about what Storyline sends: `[smtp]` and `[mail]` for digests and
//! confirmations, `[[alert]]` for pushes. Plain data like the rest of `types`; `mail::settings`
//! and `alert::settings` check and resolve them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::parse::{de_duration, de_mailbox, de_opt_mailbox, de_quiet, de_url};
use crate::value::quiet::QuietHours;
use crate::value::secret::Secret;

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

/// One `[[alert]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// Names the alert in `storyline alerts test ID`, the outbox and metrics.
    pub id: String,
    /// The story whose new developments it announces.
    pub story: String,
    pub kind: AlertKind,
    /// Webhook: where to POST. ntfy: the topic URL. Matrix: the homeserver's base URL.
    #[serde(deserialize_with = "de_url")]
    pub url: Url,
    /// Webhook only: the variable holding the HMAC-SHA256 key that signs each request.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// The variable holding a bearer token (`Authorization: Bearer`); Matrix needs one.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Matrix only: the room id (`!abc:example.org`).
    #[serde(default)]
    pub room: Option<String>,
    /// Alert only once a development has been reported by this many outlets.
    #[serde(default = "one")]
    pub min_outlets: usize,
    /// `"22:00-07:00"` in the config's time zone: alerts due then wait until it ends.
    #[serde(default, deserialize_with = "de_quiet")]
    pub quiet_hours: Option<QuietHours>,
    /// Also alert when a page of a development changes (off by default).
    #[serde(default)]
    pub updates: bool,
    /// A development whose first report is older than this is old news found late (a new
    /// source's backlog, a changed story) and does not alert.
    #[serde(default = "week", deserialize_with = "de_duration")]
    pub max_age: Duration,
}

/// How an alert is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// JSON POSTed to a URL, optionally signed.
    Webhook,
    /// Plain text POSTed to an ntfy topic, with Title, Click and Tags headers.
    Ntfy,
    /// An `m.room.message` PUT into a Matrix room.
    Matrix,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Webhook => "webhook",
            AlertKind::Ntfy => "ntfy",
            AlertKind::Matrix => "matrix",
        }
    }
}

fn one() -> usize {
    1
}

fn week() -> Duration {
    Duration::from_secs(7 * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Origin};

    fn parse(text: &str) -> Config {
        Config::parse(text, Origin::File("test.toml".into())).expect("valid")
    }

    const SMTP: &str =
        "[smtp]\nhost = \"mail.example.org\"\nfrom = \"Storyline <d@example.org>\"\n";

    #[test]
    fn smtp_and_mail_sections_get_defaults() {
        let c = parse(SMTP);
        let smtp = c.smtp.as_ref().expect("smtp");
        assert_eq!((smtp.tls, smtp.port()), (SmtpTls::Starttls, 587));
        assert_eq!(smtp.timeout, Duration::from_secs(60));
        assert_eq!(c.mail.rate_per_second, 5.0);
        assert_eq!(c.mail.max_attempts, 8);
        assert_eq!(c.mail.confirm_ttl, Duration::from_secs(48 * 3600));
        let tls = parse(&format!("{SMTP}tls = \"tls\"\n"));
        assert_eq!(tls.smtp.expect("smtp").port(), 465);
        assert!(parse("").smtp.is_none());
    }

    #[test]
    fn an_alert_gets_defaults() {
        let c = parse(
            "[[alert]]\nid = \"hook\"\nstory = \"llama-4\"\nkind = \"webhook\"\n\
             url = \"https://hooks.example.org/s\"\n",
        );
        let a = &c.alerts[0];
        assert_eq!(
            (a.kind, a.min_outlets, a.updates),
            (AlertKind::Webhook, 1, false)
        );
        assert_eq!(a.max_age, Duration::from_secs(7 * 86_400));
        assert!(a.quiet_hours.is_none() && a.secret_env.is_none());
    }
}
