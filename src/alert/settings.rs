//! `[[alert]]` in the config (`config::AlertConfig`, plain data): how it is checked at load,
//! and the resolved form (secrets read from the environment) that deciding and sending use.

use std::collections::HashSet;
use std::time::Duration;

use url::Url;

use crate::config::{AlertConfig, AlertKind};
use crate::fetch::guard::is_non_public;
use crate::value::secret::Secret;

/// Check the alerts against each other, the stories and the fetch settings; the message
/// names the entry and the key.
pub fn validate(
    alerts: &[AlertConfig],
    story_ids: &[String],
    allow_private_addresses: bool,
) -> Result<(), String> {
    let mut ids = HashSet::new();
    for (i, a) in alerts.iter().enumerate() {
        let at = format!("alert[{i}]");
        if !crate::value::source::is_valid_id(&a.id) {
            return Err(format!(
                "{at}.id: \"{}\" must be lowercase letters, digits and dashes",
                a.id
            ));
        }
        let at = format!("alert[{i}] \"{}\"", a.id);
        if !ids.insert(a.id.as_str()) {
            return Err(format!("{at}.id: duplicate id"));
        }
        if !story_ids.iter().any(|s| s == &a.story) {
            return Err(format!(
                "{at}.story: no story with id \"{}\" (stories: {})",
                a.story,
                story_ids.join(", ")
            ));
        }
        if a.min_outlets == 0 {
            return Err(format!("{at}.min_outlets: must be at least 1"));
        }
        if a.max_age < Duration::from_secs(3600) {
            return Err(format!("{at}.max_age: must be at least 1h"));
        }
        validate_target(a, &at, allow_private_addresses)?;
    }
    Ok(())
}

fn validate_target(a: &AlertConfig, at: &str, allow_private: bool) -> Result<(), String> {
    for (key, var) in [("secret_env", &a.secret_env), ("token_env", &a.token_env)] {
        if let Some(v) = var {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!(
                    "{at}.{key}: \"{v}\" is not an environment variable name"
                ));
            }
        }
    }
    if a.secret_env.is_some() && a.kind != AlertKind::Webhook {
        return Err(format!(
            "{at}.secret_env: only webhooks are signed; {} has no signature header",
            a.kind.as_str()
        ));
    }
    match (a.kind, &a.room) {
        (AlertKind::Matrix, None) => {
            return Err(format!(
                "{at}.room: a Matrix alert needs the room id (\"!abc:example.org\")"
            ))
        }
        (AlertKind::Matrix, Some(room)) if !(room.starts_with('!') && room.contains(':')) => {
            return Err(format!(
                "{at}.room: \"{room}\" is not a room id like \"!abc:example.org\" \
                 (an alias such as #room:server will not do)"
            ))
        }
        (AlertKind::Matrix, Some(_)) if a.token_env.is_none() => {
            return Err(format!(
                "{at}.token_env: a Matrix alert needs the variable holding its access token"
            ))
        }
        (AlertKind::Webhook | AlertKind::Ntfy, Some(_)) => {
            return Err(format!("{at}.room: only Matrix alerts have a room"))
        }
        _ => {}
    }
    if a.kind == AlertKind::Ntfy && a.url.path().trim_matches('/').is_empty() {
        return Err(format!(
            "{at}.url: an ntfy URL names the topic, like \"https://ntfy.sh/my-topic\""
        ));
    }
    let ip = match a.url.host() {
        Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::V6(v6)),
        _ => None,
    };
    if let Some(ip) = ip.filter(|ip| !allow_private && is_non_public(*ip)) {
        return Err(format!(
            "{at}.url: {ip} is a private, loopback or link-local address; alerts are \
             refused there unless fetch.allow_private_addresses = true"
        ));
    }
    Ok(())
}

/// An alert ready to decide and send: the config entry with its secrets read.
#[derive(Debug, Clone)]
pub struct Target {
    pub config: AlertConfig,
    pub secret: Option<Secret>,
    pub token: Option<Secret>,
}

impl Target {
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// Read the secrets the entry names; `env` looks variables up.
    pub fn resolve(
        config: &AlertConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, String> {
        let read =
            |key: &str, var: &Option<String>, min: usize| -> Result<Option<Secret>, String> {
                let Some(var) = var else { return Ok(None) };
                match env(var).filter(|v| !v.is_empty()) {
                    Some(v) if v.len() >= min => Ok(Some(Secret::new(v))),
                    Some(_) => Err(format!(
                        "alert \"{}\": {key} ${var} must be at least {min} characters",
                        config.id
                    )),
                    None => Err(format!("alert \"{}\": {key} ${var} is not set", config.id)),
                }
            };
        Ok(Target {
            secret: read("secret_env", &config.secret_env, 16)?,
            token: read("token_env", &config.token_env, 1)?,
            config: config.clone(),
        })
    }
}

/// The URL as logs and listings show it: scheme, host and port. Webhook paths and ntfy
/// topics often work as passwords.
pub fn shown_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{}://{host}:{p}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Origin};

    /// Read a config and check its alerts as the load does (`app::Settings`), against the
    /// built-in story, the only one these configs have.
    fn parse(alerts: &str) -> Result<Config, String> {
        let c = Config::parse(alerts, Origin::File("t.toml".into())).map_err(|e| e.to_string())?;
        let story = crate::story::StoryDef::builtin().map_err(|e| e.to_string())?;
        validate(&c.alerts, &[story.id], c.fetch.allow_private_addresses)?;
        Ok(c)
    }

    const HOOK: &str = "[[alert]]\nid = \"hook\"\nstory = \"llama-4\"\nkind = \"webhook\"\n\
                        url = \"https://hooks.example.org/s\"\n";

    #[test]
    fn bad_alerts_are_refused_at_load_with_the_key() {
        let cases = [
            (
                HOOK.replace("llama-4", "llama-5"),
                "no story with id \"llama-5\"",
            ),
            (
                HOOK.replace("https://hooks.example.org/s", "ftp://x/"),
                "http",
            ),
            (
                HOOK.replace("https://hooks.example.org/s", "not a url"),
                "not a URL",
            ),
            (HOOK.replace("webhook", "sms"), "sms"),
            (format!("{HOOK}min_outlets = 0\n"), "min_outlets"),
            (format!("{HOOK}quiet_hours = \"late\"\n"), "22:00-07:00"),
            (format!("{HOOK}max_age = \"5m\"\n"), "max_age"),
            (format!("{HOOK}room = \"!a:b\"\n"), "only Matrix"),
            (
                format!("{HOOK}secret_env = \"has space\"\n"),
                "environment variable",
            ),
            (format!("{HOOK}colour = \"red\"\n"), "colour"),
            (format!("{HOOK}{HOOK}"), "duplicate id"),
            (HOOK.replace("\"hook\"", "\"Hook 1\""), "lowercase"),
            (
                HOOK.replace("hooks.example.org", "127.0.0.1:9000"),
                "allow_private_addresses",
            ),
            (
                HOOK.replace("webhook", "ntfy").replace("/s\"", "/\"") + "secret_env = \"K\"\n",
                "secret_env",
            ),
            (
                HOOK.replace("webhook", "ntfy").replace("/s\"", "/\""),
                "names the topic",
            ),
            (HOOK.replace("webhook", "matrix"), "room id"),
            (
                HOOK.replace("webhook", "matrix") + "room = \"#news:example.org\"\n",
                "alias",
            ),
            (
                HOOK.replace("webhook", "matrix") + "room = \"!r:example.org\"\n",
                "token_env",
            ),
        ];
        for (text, want) in cases {
            let msg = parse(&text).expect_err(&text);
            assert!(msg.contains(want), "{text}\n=> {msg}");
        }
        let private = format!(
            "[fetch]\nallow_private_addresses = true\n{}",
            HOOK.replace("hooks.example.org", "127.0.0.1:9000")
        );
        assert!(parse(&private).is_ok());
        let matrix = HOOK.replace("webhook", "matrix")
            + "room = \"!r:example.org\"\ntoken_env = \"MATRIX_TOKEN\"\n";
        assert!(parse(&matrix).is_ok());
    }

    #[test]
    fn secrets_come_from_the_environment() {
        let c = parse(&format!("{HOOK}secret_env = \"HOOK_KEY\"\n")).unwrap();
        let a = &c.alerts[0];
        let env = |k: &str| (k == "HOOK_KEY").then(|| "k".repeat(32));
        let t = Target::resolve(a, &env).unwrap();
        assert_eq!(t.secret.unwrap().expose().len(), 32);
        let msg = Target::resolve(a, &|_| None).unwrap_err();
        assert!(msg.contains("$HOOK_KEY is not set"), "{msg}");
        let short = Target::resolve(a, &|_| Some("short".into())).unwrap_err();
        assert!(short.contains("at least 16"), "{short}");
    }

    /// The alert examples in README.md and docs/OPERATIONS.md are what operators copy.
    #[test]
    fn the_documented_examples_are_valid() {
        for (doc, text) in [
            ("README.md", include_str!("../../README.md")),
            ("OPERATIONS.md", include_str!("../../docs/OPERATIONS.md")),
        ] {
            let block = text
                .split("```toml\n")
                .skip(1)
                .map(|b| b.split("```").next().unwrap_or_default())
                .find(|b| b.contains("[[alert]]"))
                .unwrap_or_else(|| panic!("{doc} shows an [[alert]]"));
            let c = parse(block).unwrap_or_else(|e| panic!("{doc}: {e}"));
            let kinds: Vec<AlertKind> = c.alerts.iter().map(|a| a.kind).collect();
            assert_eq!(
                kinds,
                [AlertKind::Webhook, AlertKind::Ntfy, AlertKind::Matrix],
                "{doc}"
            );
        }
    }

    #[test]
    fn shown_urls_hide_the_path() {
        let u = Url::parse("https://ntfy.sh/secret-topic").unwrap();
        assert_eq!(shown_url(&u), "https://ntfy.sh/…");
        let u = Url::parse("http://127.0.0.1:8080/hook/abc").unwrap();
        assert_eq!(shown_url(&u), "http://127.0.0.1:8080/…");
    }
}
