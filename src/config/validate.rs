//! Checks on the config's own values: limits, duplicate ids, and stories that name sources
//! the config does not have. The message names the key.
//!
//! What only a domain module can judge (the schedule, templates, alerts, mail) is checked when
//! `app::Settings` turns the config into the app's types, still at load.

use std::collections::HashSet;
use std::time::Duration;

use super::Config;

impl Config {
    pub(super) fn validate(&self) -> Result<(), String> {
        self.validate_fetch()?;
        let sources = self.validate_sources()?;
        self.validate_stories(&sources)
    }

    fn validate_fetch(&self) -> Result<(), String> {
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
        Ok(())
    }

    /// The source ids, each once.
    fn validate_sources(&self) -> Result<HashSet<&str>, String> {
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
        Ok(seen)
    }

    fn validate_stories(&self, sources: &HashSet<&str>) -> Result<(), String> {
        let mut story_ids = HashSet::new();
        for (i, st) in self.stories.iter().enumerate() {
            if !crate::value::source::is_valid_id(&st.id) {
                return Err(format!(
                    "story[{i}].id: \"{}\" must be lowercase letters, digits and dashes",
                    st.id
                ));
            }
            if !story_ids.insert(st.id.as_str()) {
                return Err(format!("story[{i}].id: duplicate id \"{}\"", st.id));
            }
            for s in &st.sources {
                if !sources.contains(s.as_str()) {
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Origin};

    #[test]
    fn duplicate_source_ids_are_rejected() {
        let text = "[[source]]\nid = \"a\"\nurl = \"http://x/\"\n[[source]]\nid = \"a\"\nurl = \"http://y/\"\n";
        let msg = Config::parse(text, Origin::File("test.toml".into()))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("duplicate"), "{msg}");
    }
}
