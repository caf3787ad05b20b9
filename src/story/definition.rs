//! Story definitions: the config's `[[story]]` entries, or the built-in Llama 4 story when
//! there are none. A definition is data; the matching algorithm is the same for every story.

use std::collections::HashSet;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::text::{self, Analyzer};
use crate::config::{AmbiguousTerm, Config, StoryConfig};

/// The built-in story, in the same shape as a `[[story]]` entry.
pub const BUILTIN_LLAMA4: &str = include_str!("llama4.toml");

/// Bumped when relevance or clustering rules change, so stored decisions are redone.
const RULES_VERSION: u32 = 2;

/// What identifies a story and which sources feed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoryDef {
    pub id: String,
    pub title: String,
    /// A short name for mail subjects; not part of what decides relevance.
    #[serde(skip)]
    pub short_title: Option<String>,
    /// Phrases that name the story on their own ("Llama 4").
    pub phrases: Vec<String>,
    /// Other names, as strong as phrases ("Meta Superintelligence Labs").
    pub aliases: Vec<String>,
    /// Words that count only with context ("Behemoth" near "Meta").
    pub ambiguous: Vec<AmbiguousTerm>,
    /// Other senses of story words ("meta-analysis"); they keep an item out unless the story
    /// is named outright.
    pub exclude: Vec<String>,
    /// Source ids feeding the story; empty means all.
    pub sources: Vec<String>,
}

/// The embedded story file does not parse: a build mistake, caught when the config loads (and
/// by this module's tests), never later.
#[derive(Debug, thiserror::Error)]
#[error("the built-in story definition is invalid: {0}")]
pub struct BuiltinError(String);

impl StoryDef {
    /// The stems of the phrases that name the story: they say an item is the story's, not which
    /// development it reports. (Aliases and ambiguous terms often name one development: "Deep
    /// Think", "Computer Use".)
    pub(super) fn name_stems(&self, analyzer: &Analyzer) -> HashSet<String> {
        self.phrases
            .iter()
            .flat_map(|w| text::tokenize(w))
            .map(|t| analyzer.stem(&t))
            .collect()
    }

    /// A definition from a config entry.
    pub fn from_config(c: &StoryConfig) -> StoryDef {
        let clean = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        StoryDef {
            id: c.id.clone(),
            title: c.title.clone(),
            short_title: c.short_title.clone(),
            phrases: clean(&c.phrases),
            aliases: clean(&c.aliases),
            ambiguous: c.ambiguous.clone(),
            exclude: clean(&c.exclude),
            sources: c.sources.clone(),
        }
    }

    /// The built-in Llama 4 story, fed by every source.
    pub fn builtin() -> Result<StoryDef, BuiltinError> {
        let c: StoryConfig =
            toml::from_str(BUILTIN_LLAMA4).map_err(|e| BuiltinError(e.to_string()))?;
        Ok(StoryDef::from_config(&c))
    }

    /// The stories a config defines, or the built-in one when it defines none. Resolved once,
    /// at load, by `app::Settings`; everything after that takes the list from the app.
    pub fn all_from(config: &Config) -> Result<Vec<StoryDef>, BuiltinError> {
        if config.stories.is_empty() {
            Ok(vec![StoryDef::builtin()?])
        } else {
            Ok(config.stories.iter().map(StoryDef::from_config).collect())
        }
    }

    /// True when the story reads items of this source.
    pub fn takes_source(&self, source_id: &str) -> bool {
        self.sources.is_empty() || self.sources.iter().any(|s| s == source_id)
    }

    /// A story with nothing to match takes every item of its sources.
    pub fn takes_everything(&self) -> bool {
        self.phrases.is_empty() && self.aliases.is_empty() && self.ambiguous.is_empty()
    }

    /// Changes whenever the definition or the rules change; stored decisions made under
    /// another fingerprint are redone.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(RULES_VERSION.to_le_bytes());
        h.update(json.as_bytes());
        h.finalize()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;

    #[test]
    fn the_builtin_story_parses_and_takes_every_source() {
        let d = StoryDef::builtin().unwrap();
        assert_eq!(d.id, "llama-4");
        assert!(d.phrases.iter().any(|p| p == "Llama 4"));
        assert!(d.takes_source("anything"));
        assert!(!d.takes_everything());
    }

    #[test]
    fn config_stories_replace_the_builtin_one() {
        let c = Config::parse(
            "[[source]]\nid = \"a\"\nurl = \"http://x/\"\n\
             [[story]]\nid = \"all\"\ntitle = \"Everything from a\"\nsources = [\"a\"]\n",
            Origin::File("t.toml".into()),
        )
        .unwrap();
        let all = StoryDef::all_from(&c).unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[0].takes_everything());
        assert!(all[0].takes_source("a") && !all[0].takes_source("b"));
        let none = Config::parse("", Origin::Preset).unwrap();
        assert_eq!(StoryDef::all_from(&none).unwrap()[0].id, "llama-4");
    }

    #[test]
    fn fingerprints_follow_the_definition() {
        let a = StoryDef::builtin().unwrap();
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.exclude.push("something".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
