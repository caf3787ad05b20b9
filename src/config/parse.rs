//! Reading the config: the file by the lookup order, TOML into the serde structs (durations,
//! URLs, addresses and time zones as values), errors told in words with the line and key, and
//! the secrets a config only names (environment variables, a password file).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use url::Url;

use super::{Config, ConfigError, MailConfig, Origin, SmtpConfig, PRESET};
use crate::value::quiet::QuietHours;
use crate::value::secret::Secret;
use crate::value::source::SourceId;

/// The variable read for the HMAC key when the config names none.
pub const SECRET_ENV: &str = "STORYLINE_SECRET";

impl Config {
    /// Parse a TOML document and check its values (see `validate`).
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
}

impl SmtpConfig {
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

pub(super) fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s).map_err(serde::de::Error::custom)
}

pub(super) fn de_opt_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    de_duration(d).map(Some)
}

pub(super) fn de_url<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    let s = String::deserialize(d)?;
    crate::value::source::parse_source_url(&s).map_err(serde::de::Error::custom)
}

pub(super) fn de_source_id<'de, D: Deserializer<'de>>(d: D) -> Result<SourceId, D::Error> {
    let s = String::deserialize(d)?;
    SourceId::parse(&s).map_err(serde::de::Error::custom)
}

pub(super) fn de_quiet<'de, D: Deserializer<'de>>(d: D) -> Result<Option<QuietHours>, D::Error> {
    let s = String::deserialize(d)?;
    QuietHours::parse(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

pub(super) fn de_mailbox<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<lettre::message::Mailbox, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|e| {
        serde::de::Error::custom(format!(
            "\"{s}\" is not a mail address like \"Name <name@example.org>\" ({e})"
        ))
    })
}

pub(super) fn de_opt_mailbox<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<lettre::message::Mailbox>, D::Error> {
    de_mailbox(d).map(Some)
}

pub(super) fn de_timezone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
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
}
