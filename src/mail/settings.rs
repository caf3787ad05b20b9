//! What mail needs from the config, in one place: the `[mail]` and `[smtp]` values checked at
//! load ([`check`]), and resolved once at start ([`MailSettings`]): the signing key, the
//! sender, the lists (one per story) and the links back to the site.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use url::Url;

use super::token::{Purpose, TokenKey};
use crate::config::{Config, SmtpTls};
use crate::story::StoryDef;

/// Mail cannot be set up from this config.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("mail is not configured: add an [smtp] section")]
    NoSmtp,
    #[error("no [[story]] is configured, so there is no list to subscribe to")]
    NoStories,
    #[error("{0}")]
    Invalid(String),
}

/// One story's mailing list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryList {
    pub story_id: String,
    pub title: String,
    /// RFC 2919 list identifier, e.g. `llama-4.storyline.example.org`.
    pub list_id: String,
}

/// Mail settings resolved from the config.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The site's public URL, ending in `/`.
    pub base_url: Url,
    pub key: TokenKey,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub rate_per_second: f64,
    pub confirm_ttl: Duration,
    pub confirm_interval: Duration,
    pub max_attempts: u32,
    pub lists: Vec<StoryList>,
    /// Right-hand side of Message-IDs: the sender's domain.
    pub id_domain: String,
}

impl MailSettings {
    /// Resolve from `config` for its `stories` (the ones people can subscribe to, resolved
    /// once by `app::Settings`); `env` looks environment variables up (the HMAC key may live
    /// there). Fails without `[smtp]`, without a key, or without a story.
    pub fn from_config(
        config: &Config,
        stories: &[StoryDef],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<MailSettings, SettingsError> {
        let smtp = config.smtp.as_ref().ok_or(SettingsError::NoSmtp)?;
        let secret = config.mail.secret(env).map_err(SettingsError::Invalid)?;
        let key = TokenKey::new(&secret).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        if stories.is_empty() {
            return Err(SettingsError::NoStories);
        }
        let mut base_url = config.web.base_url.clone();
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        let host = base_url
            .host_str()
            .filter(|h| is_dot_atom(h))
            .unwrap_or("localhost")
            .to_string();
        let template = config
            .mail
            .list_id
            .clone()
            .unwrap_or_else(|| format!("{{story}}.storyline.{host}"));
        let lists = stories
            .iter()
            .map(|s| StoryList {
                story_id: s.id.clone(),
                title: s.title.clone(),
                list_id: template.replace("{story}", &s.id),
            })
            .collect();
        let id_domain = smtp.from.email.domain().to_ascii_lowercase();
        if !is_dot_atom(&id_domain) {
            return Err(SettingsError::Invalid(format!(
                "smtp.from: the domain \"{id_domain}\" cannot name Message-IDs"
            )));
        }
        Ok(MailSettings {
            base_url,
            key,
            from: smtp.from.clone(),
            reply_to: smtp.reply_to.clone(),
            rate_per_second: config.mail.rate_per_second,
            confirm_ttl: config.mail.confirm_ttl,
            confirm_interval: config.mail.confirm_interval,
            max_attempts: config.mail.max_attempts,
            lists,
            id_domain,
        })
    }

    /// The list of one story.
    pub fn list(&self, story_id: &str) -> Option<&StoryList> {
        self.lists.iter().find(|l| l.story_id == story_id)
    }

    /// A page of the site, e.g. `unsubscribe`, with one query parameter.
    pub fn link(&self, path: &str, key: &str, value: &str) -> Url {
        let mut url = self.base_url.clone();
        url.set_path(&format!("{}{path}", self.base_url.path()));
        url.query_pairs_mut().append_pair(key, value);
        url
    }

    /// The one-click unsubscribe link for (subscriber at `address`, story); it never expires.
    pub fn unsubscribe_url(&self, subscriber_id: i64, address: &str, story_id: &str) -> Url {
        let token = self.key.sign(
            subscriber_id,
            address,
            &Purpose::Unsubscribe(story_id.into()),
            None,
        );
        self.link("unsubscribe", "token", &token)
    }

    /// The confirmation link for the pending `stories` of the subscriber at `address`, valid
    /// for `confirm_ttl`.
    pub fn confirm_url(
        &self,
        subscriber_id: i64,
        address: &str,
        stories: &[String],
        now: DateTime<Utc>,
    ) -> Url {
        let ttl = chrono::Duration::from_std(self.confirm_ttl).unwrap_or(chrono::Duration::MAX);
        let expires = now.checked_add_signed(ttl);
        let token = self.key.sign(
            subscriber_id,
            address,
            &Purpose::Confirm(stories.to_vec()),
            expires,
        );
        self.link("confirm", "token", &token)
    }

    /// The address people can write to instead of clicking (`List-Unsubscribe` mailto).
    pub fn contact(&self) -> &lettre::Address {
        &self.reply_to.as_ref().unwrap_or(&self.from).email
    }
}

/// Check the `[mail]` and `[smtp]` values of a config at load; the message names the key.
/// Secrets are not read here: they are looked up at start, by [`MailSettings::from_config`].
pub fn check(config: &Config) -> Result<(), String> {
    let m = &config.mail;
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
        if config.stories.len() > 1 && !t.contains("{story}") {
            return Err("mail.list_id: must contain {story} when there are several stories".into());
        }
        let sample = t.replace("{story}", "story");
        if !is_dot_atom(&sample) {
            return Err(format!(
                "mail.list_id: \"{t}\" must be dot-separated letters, digits and dashes"
            ));
        }
    }
    if let Some(smtp) = &config.smtp {
        if smtp.host.trim().is_empty() {
            return Err("smtp.host: must not be empty".into());
        }
        if smtp.password_env.is_some() && smtp.password_file.is_some() {
            return Err("smtp: set password_env or password_file, not both".into());
        }
        let has_password = smtp.password_env.is_some() || smtp.password_file.is_some();
        if has_password != smtp.username.is_some() {
            return Err(
                "smtp: username and a password (password_env or password_file) go together".into(),
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

/// `localhost` or a loopback address: a relay on this machine.
fn is_local_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Letters, digits and dashes in dot-separated labels (Message-ID and List-Id right sides).
fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
