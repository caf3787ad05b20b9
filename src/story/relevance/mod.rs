//! Does an item belong to a story? Decided per item from its title and body, with every
//! piece of evidence kept so `storyline explain` can show why.
//!
//! Evidence, strongest first: a story phrase or alias named outright; an ambiguous term with a
//! context word near it (and no word of its other sense); nothing else. An older version of a
//! named thing ("Llama 3.1" for a "Llama 4" story) keeps an item out unless the story is
//! named in the title, and an exclusion ("meta-analysis") keeps it out unless the story is
//! named at all. A phrase met only in the body counts fully when the title shares a story
//! word with it, and barely when it is a passing mention under an unrelated title.

use std::collections::HashSet;

use super::definition::StoryDef;
use super::text::{is_stopword, tokenize, tokenize_cased, Analyzer};

mod judge;
mod verdict;

use judge::is_version;
pub use verdict::{Evidence, Field, Reason, Verdict};

const TITLE_NAMED: f32 = 3.0;
const BODY_NAMED: f32 = 2.0;
const BODY_PASSING: f32 = 0.5;
const TITLE_CONTEXT: f32 = 2.0;
const BODY_CONTEXT: f32 = 1.0;
/// A named story or an ambiguous term in context in the title reaches it alone; body-only
/// context needs two different terms.
const THRESHOLD: f32 = 2.0;
/// How far (in words) a context word may be from an ambiguous term in a body.
const BODY_WINDOW: usize = 12;
/// How far (in words) a word of another sense may be from an ambiguous term ("tech
/// behemoth", "Ford Maverick").
const AGAINST_WINDOW: usize = 5;

/// A word sequence to find, as lowercase tokens.
#[derive(Debug, Clone)]
struct Pattern {
    label: String,
    tokens: Vec<String>,
    alias: bool,
}

#[derive(Debug, Clone)]
struct WordSet {
    label: String,
    stems: Vec<String>,
    /// Per word: written with a capital in the definition, a name ("Behemoth" the model, not
    /// "a tech behemoth"), so it counts only capitalized in the text.
    names: Vec<bool>,
}

#[derive(Debug, Clone)]
struct Ambiguous {
    label: String,
    tokens: Vec<String>,
    /// Written with a capital in the definition: only counts capitalized in the text.
    name: bool,
    context: Vec<WordSet>,
    against: Vec<WordSet>,
}

/// A named thing with a version, from any story term holding a version number: "llama" "4"
/// (the name first, as in "Llama 4") or "2.5" "pro" (the version first, as in "2.5 Pro").
#[derive(Debug, Clone)]
struct Versioned {
    name: String,
    version: String,
    name_first: bool,
}

/// How many capitalized words after another version's number belong to that version's name
/// ("Gemini 2.0 Flash-Lite" is a 2.0 product, whatever a "Flash-Lite" alias says).
const VERSION_NAME_WORDS: usize = 3;

/// A story definition compiled for matching.
#[derive(Debug)]
pub struct Matcher {
    takes_everything: bool,
    named: Vec<Pattern>,
    ambiguous: Vec<Ambiguous>,
    exclude: Vec<Pattern>,
    versioned: Vec<Versioned>,
    /// Story words: a title holding one is on the story's subject.
    anchors: HashSet<String>,
    /// The first word of every term that can make a decision. Text holding none of them is
    /// decided "nothing" in one pass, without tokenizing: most items of a busy install are
    /// not the story. `None` when a word is not ASCII (the scan folds ASCII case only).
    triggers: Option<aho_corasick::AhoCorasick>,
    /// The trigger words and the first word of every context word: text holding none of
    /// them cannot be about the story even without naming it (see [`Matcher::may_relate`]).
    vocabulary: Option<aho_corasick::AhoCorasick>,
    analyzer: Analyzer,
}

/// Tokens of one field with their stems and which positions an exclusion covers.
struct FieldText {
    field: Field,
    tokens: Vec<String>,
    capital: Vec<bool>,
    stems: Vec<String>,
    masked: Vec<bool>,
}

impl Matcher {
    /// False only when `raw` (title, summary or content as stored, HTML and all) cannot hold
    /// any term that decides: none of the trigger words appears, and no numeric character
    /// reference could spell one. Lets callers skip preparing the text of most items.
    pub fn may_match(&self, raw: &str) -> bool {
        match &self.triggers {
            Some(t) => self.takes_everything || raw.contains("&#") || t.is_match(raw),
            None => true,
        }
    }

    /// False only when `raw` holds no word of the story's definition at all, context words
    /// included: such an item can neither be judged the story's nor report one of its events
    /// without naming it. A superset of [`Matcher::may_match`].
    pub fn may_relate(&self, raw: &str) -> bool {
        match &self.vocabulary {
            Some(v) => self.takes_everything || raw.contains("&#") || v.is_match(raw),
            None => true,
        }
    }

    /// Compile a definition.
    pub fn new(def: &StoryDef) -> Matcher {
        let analyzer = Analyzer::new();
        let pattern = |s: &String, alias: bool| Pattern {
            label: s.clone(),
            tokens: tokenize(s),
            alias,
        };
        let named: Vec<Pattern> = def
            .phrases
            .iter()
            .map(|p| pattern(p, false))
            .chain(def.aliases.iter().map(|p| pattern(p, true)))
            .filter(|p| !p.tokens.is_empty())
            .collect();
        let word_set = |s: &String| {
            let (tokens, names): (Vec<String>, Vec<bool>) = tokenize_cased(s).into_iter().unzip();
            WordSet {
                label: s.clone(),
                stems: tokens.iter().map(|t| analyzer.stem(t)).collect(),
                names,
            }
        };
        let ambiguous: Vec<Ambiguous> = def
            .ambiguous
            .iter()
            .map(|a| Ambiguous {
                label: a.term.clone(),
                tokens: tokenize(&a.term),
                name: a.term.trim().starts_with(char::is_uppercase),
                context: a
                    .context
                    .iter()
                    .map(word_set)
                    .filter(|w| !w.stems.is_empty())
                    .collect(),
                against: a
                    .against
                    .iter()
                    .map(word_set)
                    .filter(|w| !w.stems.is_empty())
                    .collect(),
            })
            .filter(|a| !a.tokens.is_empty())
            .collect();
        let exclude: Vec<Pattern> = def
            .exclude
            .iter()
            .map(|p| pattern(p, false))
            .filter(|p| !p.tokens.is_empty())
            .collect();
        let mut versioned: Vec<Versioned> = Vec::new();
        for tokens in named
            .iter()
            .map(|p| &p.tokens)
            .chain(ambiguous.iter().map(|a| &a.tokens))
        {
            for (i, t) in tokens.iter().enumerate() {
                if !is_version(t) {
                    continue;
                }
                let before = i.checked_sub(1).and_then(|j| tokens.get(j));
                let (name, name_first) = match (before, tokens.get(i + 1)) {
                    (Some(b), _) if !is_version(b) => (b, true),
                    (_, Some(a)) if !is_version(a) => (a, false),
                    _ => continue,
                };
                let v = Versioned {
                    name: name.clone(),
                    version: t.clone(),
                    name_first,
                };
                if !versioned
                    .iter()
                    .any(|w| w.name == v.name && w.version == v.version)
                {
                    versioned.push(v);
                }
            }
        }
        let first_words: Vec<&String> = named
            .iter()
            .chain(exclude.iter())
            .filter_map(|p| p.tokens.first())
            .chain(ambiguous.iter().filter_map(|a| a.tokens.first()))
            .chain(versioned.iter().map(|v: &Versioned| &v.name))
            .collect();
        let context_words: Vec<String> = def
            .ambiguous
            .iter()
            .flat_map(|a| a.context.iter())
            .filter_map(|c| tokenize(c).into_iter().next())
            .collect();
        let scan = |words: &[&String]| {
            if words.iter().all(|w| w.is_ascii()) {
                aho_corasick::AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(words.iter().map(|w| w.as_str()))
                    .ok()
            } else {
                None
            }
        };
        let triggers = scan(&first_words);
        let all_words: Vec<&String> = first_words
            .iter()
            .copied()
            .chain(context_words.iter())
            .collect();
        let vocabulary = scan(&all_words);
        let anchors = named
            .iter()
            .flat_map(|p| p.tokens.iter())
            .chain(ambiguous.iter().flat_map(|a| a.tokens.iter()))
            .filter(|t| !is_stopword(t) && !t.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .cloned()
            .collect();
        Matcher {
            takes_everything: def.takes_everything(),
            named,
            ambiguous,
            exclude,
            versioned,
            anchors,
            triggers,
            vocabulary,
            analyzer,
        }
    }

    /// The story's context words an item holds: each context entry whose words all occur in
    /// the title, or all in the body. Two of them tell an item of the story's field ("Google",
    /// "reasoning model") from one that shares a single word with it.
    pub fn context_words_in(&self, title: &str, body: &str) -> Vec<String> {
        let stems = |text: &str| -> HashSet<String> {
            tokenize(text)
                .iter()
                .map(|t| self.analyzer.stem(t))
                .collect()
        };
        let (t, b) = (stems(title), stems(body));
        let mut found: Vec<String> = Vec::new();
        for w in self.ambiguous.iter().flat_map(|a| &a.context) {
            let label = w.label.to_lowercase();
            if found.contains(&label) {
                continue;
            }
            let all_in = |set: &HashSet<String>| w.stems.iter().all(|s| set.contains(s));
            if all_in(&t) || all_in(&b) {
                found.push(label);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests;
