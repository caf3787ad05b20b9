//! Configuration: one TOML file, parsed once at the edge into typed values.
//!
//! Lookup order: `--config PATH`, then `STORYLINE_CONFIG`, then `./storyline.toml`, else the
//! built-in Llama 4 preset (`config/preset.toml`, embedded). Unknown keys and bad values are
//! rejected with the key's name and the reason; nothing reads configuration from a global.
//!
//! The config is data and depends on no domain module: `app::Settings` turns it into the
//! app's types (stories, the schedule, templates, alerts, mail) and checks what only they can.
//!
//! - `types`: the serde structs, one per table, with their defaults; `delivery` holds the
//!   tables about what goes out (`[smtp]`, `[mail]`, `[[alert]]`).
//! - `parse`: the file, TOML, durations and addresses, friendly errors, secrets from the
//!   environment.
//! - `validate`: limits, duplicate ids, stories that name unknown sources.

mod delivery;
mod parse;
mod types;
mod validate;

use std::path::PathBuf;

pub use delivery::{AlertConfig, AlertKind, MailConfig, SmtpConfig, SmtpTls};
pub use parse::{parse_duration, SECRET_ENV};
pub use types::{
    default_user_agent, AmbiguousTerm, Config, DaemonConfig, DigestConfig, FetchConfig,
    SourceConfig, StoryConfig, WebConfig,
};

/// The preset written by `storyline config init` and used when no config file exists.
pub const PRESET: &str = include_str!("../../config/preset.toml");

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
