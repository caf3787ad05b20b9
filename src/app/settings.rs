//! The config turned into the app's own types, once, at load: the stories resolved (the
//! built-in one when none is configured), the digest schedule parsed, the templates compiled,
//! and what only a domain module can judge checked (alerts by `alert`, mail by
//! `mail::settings`). After this nothing about the config can fail but secrets, which are read
//! from the environment when a run sets mail or alerts up.
//!
//! `config` itself stays plain data and depends on none of these modules; this is where they
//! meet.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use crate::alert::{AlertError, Alerts};
use crate::config::{Config, ConfigError, Origin};
use crate::digest::Templates;
use crate::mail::{Mail, SetupError};
use crate::store::Store;
use crate::story::StoryDef;
use crate::value::schedule::Schedule;

/// A checked config and what it resolves to.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Arc<Config>,
    /// The configured stories, else the built-in one.
    pub stories: Arc<Vec<StoryDef>>,
    pub schedule: Schedule,
    pub templates: Arc<Templates>,
}

impl Settings {
    /// Find the config file by the lookup order (see `config`), load and check it.
    pub fn load(explicit: Option<&Path>) -> Result<Settings, ConfigError> {
        Settings::from_config(Config::load(explicit)?)
    }

    /// Parse a TOML document and check it.
    pub fn parse(text: &str, origin: Origin) -> Result<Settings, ConfigError> {
        Settings::from_config(Config::parse(text, origin)?)
    }

    /// Check a parsed config against the domain and resolve it. A wrong schedule, template
    /// directory, alert or mail setting stops `config check` and every command at start, not
    /// the first digest or alert a week later.
    pub fn from_config(config: Config) -> Result<Settings, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: config.origin.clone(),
            message,
        };
        let schedule = Schedule::parse(&config.digest.schedule, config.timezone)
            .map_err(|e| invalid(format!("digest.schedule: {e}")))?;
        let templates = load_templates(&config).map_err(invalid)?;
        let stories = StoryDef::all_from(&config).map_err(|e| invalid(e.to_string()))?;
        crate::mail::settings::check(&config).map_err(invalid)?;
        let ids: Vec<String> = stories.iter().map(|s| s.id.clone()).collect();
        crate::alert::validate(&config.alerts, &ids, config.fetch.allow_private_addresses)
            .map_err(invalid)?;
        Ok(Settings {
            config: Arc::new(config),
            stories: Arc::new(stories),
            schedule,
            templates: Arc::new(templates),
        })
    }

    /// Mail for these settings; `Ok(None)` without `[smtp]`. `env` looks up the secrets the
    /// config names (SMTP password, signing key).
    pub fn mail(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Mail>, SetupError> {
        Mail::from_config(&self.config, &self.stories, env)
    }

    /// The configured alerts with their secrets read through `env`.
    pub fn alerts(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Alerts, AlertError> {
        Alerts::from_config(&self.config, &self.stories, env)
    }

    /// Open (and migrate) the database, for commands that only read or edit what is stored.
    pub async fn open_store(&self) -> anyhow::Result<Store> {
        let path = &self.config.database;
        Store::open(path)
            .await
            .with_context(|| format!("cannot use database {}", path.display()))
    }
}

/// The built-in templates, with the configured directory's overrides, compiled once.
fn load_templates(config: &Config) -> Result<Templates, String> {
    Templates::load(config.digest.templates.as_deref()).map_err(|e| {
        let mut message = format!("digest.templates: {e}");
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            message.push_str(&format!(": {c}"));
            cause = c.source();
        }
        message
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::config::{parse_duration, SmtpTls, PRESET};

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, Origin::File("test.toml".into()))
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

    /// An alert is checked against the stories at load (its own rules are tested in
    /// `alert::settings`).
    #[test]
    fn an_alert_for_an_unknown_story_is_rejected_at_load() {
        let hook = "[[alert]]\nid = \"hook\"\nstory = \"llama-5\"\nkind = \"webhook\"\n\
                    url = \"https://hooks.example.org/s\"\n";
        let msg = parse(hook).unwrap_err().to_string();
        assert!(msg.contains("no story with id \"llama-5\""), "{msg}");
        assert!(parse(&hook.replace("llama-5", "llama-4")).is_ok());
    }

    const SMTP: &str =
        "[smtp]\nhost = \"mail.example.org\"\nfrom = \"Storyline <d@example.org>\"\n";

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

    /// contrib/storyline.example.toml is what operators copy; it must stay valid, need only
    /// the environment the unit's /etc/storyline/env provides, and fit the systemd unit.
    #[test]
    fn the_example_deployment_config_is_valid_and_fits_the_unit() {
        const EXAMPLE: &str = include_str!("../../contrib/storyline.example.toml");
        const UNIT: &str = include_str!("../../contrib/storyline.service");
        let s = Settings::parse(EXAMPLE, Origin::File("storyline.example.toml".into()))
            .expect("the example parses");
        let env = |k: &str| match k {
            "STORYLINE_SECRET" => Some("s".repeat(64)),
            "STORYLINE_SMTP_PASSWORD" => Some("password".to_string()),
            _ => None,
        };
        let mail = s.mail(&env).expect("mail sets up");
        assert!(mail.is_some(), "the example mails digests");
        assert!(s.mail(&|_| None).is_err());
        let c = &s.config;
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
        let s = Settings::parse(PRESET, Origin::Preset).expect("preset parses");
        assert!(!s.config.sources.is_empty());
    }
}
