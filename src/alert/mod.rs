//! Alerts: a push within one poll of a new development, once per development, to a webhook,
//! an ntfy topic or a Matrix room.
//!
//! After each polling round, [`decide`] records one outbox row per (alert, development) that
//! is new since the alert began, fresh (`max_age`) and reported by `min_outlets` outlets, all
//! in one transaction; then [`drain`] sends what is due, like the mail outbox: claimed with an
//! owner and a lease, retried with backoff, resent after a crash with the same idempotency key
//! and body, failures kept with the receiver's reply.
//!
//! - [`settings`]: `[[alert]]`, checked at load; secrets resolved at start.
//! - [`QuietHours`] (`crate::value::quiet`): quiet hours in the config's time zone.
//! - [`payload`]: what an alert says, fixed when decided.
//! - [`request`]: the payload as a webhook, ntfy or Matrix request (and the signature).
//! - [`sender`]: reqwest behind the SSRF guard, and what an answer means.
//! - `decide` and `outbox`: deciding and draining.

mod decide;
mod outbox;
pub mod payload;
pub mod request;
pub mod sender;
pub mod settings;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

pub use crate::value::quiet::QuietHours;
pub use decide::{begin, decide, DecideReport};
pub use outbox::{drain, retry_delay, DrainReport, MAX_ATTEMPTS};
pub use payload::{Payload, PayloadKind, StoryRef};
pub use sender::{policy_of, Delivered, Failure, Sender};
pub use settings::{shown_url, validate, Target};

pub use crate::config::{AlertConfig, AlertKind};
use crate::config::{Config, WebConfig};
use crate::store::StoreError;
use crate::story::StoryDef;

/// Alerts cannot be set up, decided or sent.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The configured alerts with their secrets, and what their messages name: ready to decide
/// and send. Built once at the edge.
#[derive(Debug, Clone)]
pub struct Alerts {
    targets: Vec<Target>,
    stories: HashMap<String, StoryRef>,
    tz: chrono_tz::Tz,
}

impl Alerts {
    /// Resolve the config's alerts for its `stories` (resolved once, by `app::Settings`);
    /// `env` looks variables up. Fails when a variable an alert names is not set.
    pub fn from_config(
        config: &Config,
        stories: &[StoryDef],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Alerts, AlertError> {
        let targets = config
            .alerts
            .iter()
            .map(|a| Target::resolve(a, env))
            .collect::<Result<Vec<_>, _>>()
            .map_err(AlertError::Setup)?;
        let page = story_page(&config.web);
        let stories = stories
            .iter()
            .map(|d| {
                // Each story has its page on the site (`/stories/<story>`).
                let url = page
                    .as_ref()
                    .and_then(|base| base.join(&format!("stories/{}", d.id)).ok())
                    .map(|u| u.to_string());
                let story = StoryRef {
                    id: d.id.clone(),
                    title: d.title.clone(),
                    url,
                };
                (d.id.clone(), story)
            })
            .collect();
        Ok(Alerts {
            targets,
            stories,
            tz: config.timezone,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    pub fn get(&self, id: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.id() == id)
    }

    /// The story as alerts name it.
    pub fn story(&self, id: &str) -> StoryRef {
        self.stories.get(id).cloned().unwrap_or_else(|| StoryRef {
            id: id.to_string(),
            title: id.to_string(),
            url: None,
        })
    }

    /// When something of `target` due at `at` may go, given its quiet hours.
    pub fn release(&self, target: &Target, at: DateTime<Utc>) -> DateTime<Utc> {
        match &target.config.quiet_hours {
            Some(q) => q.release(at, self.tz),
            None => at,
        }
    }
}

/// The site, when `[web] base_url` is set; the built-in default is a loopback address no one
/// receiving an alert elsewhere could open.
fn story_page(web: &WebConfig) -> Option<url::Url> {
    (web.base_url != WebConfig::default().base_url).then(|| web.base_url.clone())
}
