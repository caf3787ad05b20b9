//! Shared test support: a loopback feed server, a loopback SMTP sink, MIME reading and config
//! helpers.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test support fails loudly by design

pub mod alert_sink;
pub mod changing_feeds;
pub mod crash;
pub mod crash_checks;
pub mod feed_server;
pub mod mime;
pub mod python;
pub mod raw_server;
pub mod replay;
mod sandbox;
pub mod score;
pub mod smtp_sink;

#[allow(unused_imports)] // each test binary uses a different part
pub use sandbox::{own_fixture, real_fixture, Run, Sandbox, Server};

use std::path::Path;

use chrono::{DateTime, Utc};
use storyline::app::{App, Settings};
use storyline::config::{Config, Origin};
use storyline::fetch::AddressPolicy;
use storyline::value::clock::Clock;

pub fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(rel)
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test time")
        .with_timezone(&Utc)
}

/// A config with the database in `dir`, loopback allowed, and `extra` TOML appended.
pub fn config(dir: &Path, extra: &str) -> Config {
    let text = format!(
        "database = \"{}\"\n[fetch]\nallow_private_addresses = true\n{extra}",
        dir.join("test.db").display()
    );
    Config::parse(&text, Origin::File("test.toml".into())).expect("test config is valid")
}

/// [`config`], checked and resolved as every run's config is (`Settings::from_config`).
pub fn settings(dir: &Path, extra: &str) -> Settings {
    Settings::from_config(config(dir, extra)).expect("test config is valid")
}

/// Build the app (no mail, the system clock) with a fetcher that can reach nothing but
/// 127.0.0.1, so a broken guard shows up as a failed test, never as traffic elsewhere.
pub async fn open(config: Config, now: DateTime<Utc>) -> App {
    let settings = Settings::from_config(config).expect("test config is valid");
    App::build_with_policy(
        settings,
        None,
        Clock::System,
        now,
        AddressPolicy::LoopbackOnly,
    )
    .await
    .expect("app builds")
}

/// `app` with its mail set up from its config as `serve` does (secrets from no environment),
/// for a daemon that is to mail.
pub fn with_mail(app: App) -> App {
    let mail = storyline::mail::Mail::from_config(&app.config, &app.stories, &|_| None)
        .expect("mail sets up");
    App { mail, ..app }
}
