//! Mail: subscribers' addresses, signed links, each week's digest queued once per subscriber in
//! an SQLite outbox, and delivery over SMTP with retries, a steady pace and crash safety.
//!
//! - [`address`]: `SubscriberEmail`, the only way an address gets in.
//! - [`token`]: HMAC-signed links (confirm, unsubscribe) and form tokens.
//! - [`settings`]: what mail needs from the config, checked at load and resolved once.
//! - [`message`]: the digest copy, the confirmation and the test message, byte-stable.
//! - [`transport`]: lettre over SMTP, the sending pace, and what a failure means.
//! - [`outbox`]: `queue_digest` and `drain_outbox`.
//! - [`lease`]: which run is sending a delivery, and when another may take it back.

pub mod address;
pub mod lease;
pub mod message;
pub mod outbox;
pub mod settings;
pub mod token;
pub mod transport;

use std::sync::Arc;

pub use address::{AddressError, SubscriberEmail};
pub use outbox::{drain_outbox, queue_digest, DrainReport, OutboxError, QueueOutcome};
pub use settings::{MailSettings, SettingsError, StoryList};
pub use transport::{FailureKind, Mailer, Reply, SendFailure, TransportError};

use crate::config::Config;
use crate::story::StoryDef;

/// Mail cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{0}")]
    Password(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// Everything needed to send: the transport and the resolved settings. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Mail {
    pub mailer: Mailer,
    pub settings: Arc<MailSettings>,
}

impl Mail {
    /// Set mail up from the config, with one list per story of `stories`; `Ok(None)` when
    /// there is no `[smtp]` (digests then go to files only). `env` looks up environment
    /// variables (the password and key may be there).
    pub fn from_config(
        config: &Config,
        stories: &[StoryDef],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Mail>, SetupError> {
        let Some(smtp) = &config.smtp else {
            return Ok(None);
        };
        let settings = MailSettings::from_config(config, stories, env)?;
        if settings.base_url.scheme() != "https" {
            // Links in mail point here; big providers only honour one-click over HTTPS.
            tracing::warn!(
                base_url = %settings.base_url,
                "web.base_url is not https: set it to the site's public https address so \
                 confirm and unsubscribe links work for subscribers"
            );
        }
        let password = smtp.password(env).map_err(SetupError::Password)?;
        let mailer = Mailer::new(smtp, password, settings.rate_per_second)?;
        Ok(Some(Mail {
            mailer,
            settings: Arc::new(settings),
        }))
    }
}

/// Look variables up in the process environment (for [`Mail::from_config`] at the edge).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
