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
use std::fmt;

use serde::Serialize;

use super::definition::StoryDef;
use super::text::{is_stopword, tokenize, tokenize_cased, Analyzer};

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

/// Where in an item something was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Title,
    Body,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Title => "title",
            Field::Body => "body",
        })
    }
}

/// One finding about an item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A story phrase or alias, named outright.
    Named {
        phrase: String,
        alias: bool,
        field: Field,
    },
    /// An ambiguous term that counts because `context` is near it.
    InContext {
        term: String,
        context: String,
        field: Field,
    },
    /// An ambiguous term with no context word near it.
    NoContext { term: String, field: Field },
    /// A name-like term written in lowercase: the common word, not the name.
    NotAName { term: String, field: Field },
    /// An ambiguous term next to a word of its other sense.
    OtherSense {
        term: String,
        word: String,
        field: Field,
    },
    /// An exclusion phrase.
    Excluded { phrase: String, field: Field },
    /// Another version of a named thing ("Llama 3.1").
    OtherVersion { found: String, field: Field },
}

/// Why an item is in or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The story is named.
    Named,
    /// Ambiguous terms in context.
    InContext,
    /// The story has nothing to match and takes every item.
    TakesEverything,
    /// A link to the same page as a story item.
    SamePage,
    /// A comment on a story item.
    CommentOn,
    /// Only another version of a named thing.
    OtherVersion,
    /// An exclusion phrase, and the story is not named.
    Excluded,
    /// The story is named only in passing under an unrelated title.
    PassingMention,
    /// Too little evidence.
    TooLittle,
    /// Nothing of the story at all.
    Nothing,
}

impl Reason {
    /// Short label, stored with the decision.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Named => "named",
            Reason::InContext => "in_context",
            Reason::TakesEverything => "takes_everything",
            Reason::SamePage => "same_page",
            Reason::CommentOn => "comment_on",
            Reason::OtherVersion => "other_version",
            Reason::Excluded => "excluded",
            Reason::PassingMention => "passing_mention",
            Reason::TooLittle => "too_little",
            Reason::Nothing => "nothing",
        }
    }

    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Named => "the story is named",
            Reason::InContext => "story words appear in the story's context",
            Reason::TakesEverything => "the story takes every item of its sources",
            Reason::SamePage => "it links to the same page as a story item",
            Reason::CommentOn => "it comments on a story item",
            Reason::OtherVersion => "it is about another version, not this story",
            Reason::Excluded => "an exclusion matched and the story is not named",
            Reason::PassingMention => "the story is named only in passing",
            Reason::TooLittle => "too little evidence",
            Reason::Nothing => "nothing of the story",
        }
    }
}

/// The decision for one item and story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub relevant: bool,
    pub score: f32,
    pub reason: Reason,
    pub evidence: Vec<Evidence>,
}

impl Verdict {
    /// Nothing of the story found.
    pub fn nothing() -> Verdict {
        Verdict {
            relevant: false,
            score: 0.0,
            reason: Reason::Nothing,
            evidence: Vec::new(),
        }
    }

    /// Is this exactly [`Verdict::nothing`]: out, with no score and no evidence?
    pub fn is_nothing(&self) -> bool {
        !self.relevant
            && self.score == 0.0
            && self.reason == Reason::Nothing
            && self.evidence.is_empty()
    }

    /// One line: decision, reason and the strongest evidence.
    pub fn summary(&self) -> String {
        let what = if self.relevant { "in" } else { "out" };
        let strongest: Vec<String> = self
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Named { phrase, field, .. } => Some(format!("\"{phrase}\" ({field})")),
                Evidence::InContext {
                    term,
                    context,
                    field,
                } => Some(format!("\"{term}\" with \"{context}\" ({field})")),
                Evidence::OtherVersion { found, .. } => Some(format!("\"{found}\"")),
                Evidence::Excluded { phrase, .. } => Some(format!("excluded \"{phrase}\"")),
                _ => None,
            })
            .take(3)
            .collect();
        if strongest.is_empty() {
            format!("{what}: {}", self.reason.describe())
        } else {
            format!(
                "{what}: {}: {}",
                self.reason.describe(),
                strongest.join(", ")
            )
        }
    }
}

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

/// A named thing with a version ("llama" "4"), from phrases ending in a number.
#[derive(Debug, Clone)]
struct Versioned {
    name: String,
    version: String,
}

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
        let word_set = |s: &String| WordSet {
            label: s.clone(),
            stems: tokenize(s).iter().map(|t| analyzer.stem(t)).collect(),
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
        let versioned: Vec<Versioned> = named
            .iter()
            .filter(|p| p.tokens.len() >= 2)
            .filter_map(|p| {
                let last = p.tokens.last()?;
                is_version(last).then(|| Versioned {
                    name: p.tokens[p.tokens.len() - 2].clone(),
                    version: last.clone(),
                })
            })
            .collect();
        let first_words: Vec<&String> = named
            .iter()
            .chain(exclude.iter())
            .filter_map(|p| p.tokens.first())
            .chain(ambiguous.iter().filter_map(|a| a.tokens.first()))
            .chain(versioned.iter().map(|v: &Versioned| &v.name))
            .collect();
        let triggers = if first_words.iter().all(|w| w.is_ascii()) {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(first_words.iter().map(|w| w.as_str()))
                .ok()
        } else {
            None
        };
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
            analyzer,
        }
    }

    /// Decide one item from its title and (plain-text) body.
    pub fn judge(&self, title: &str, body: &str) -> Verdict {
        if self.takes_everything {
            return Verdict {
                relevant: true,
                score: 0.0,
                reason: Reason::TakesEverything,
                evidence: Vec::new(),
            };
        }
        if let Some(t) = &self.triggers {
            if !t.is_match(title) && !t.is_match(body) {
                return Verdict::nothing();
            }
        }
        let mut evidence = Vec::new();
        let mut title_f = self.field(Field::Title, title);
        let mut body_f = self.field(Field::Body, body);
        self.mask_exclusions(&mut title_f, &mut evidence);
        self.mask_exclusions(&mut body_f, &mut evidence);
        let title_named = self.find_named(&title_f, &mut evidence);
        let body_named = self.find_named(&body_f, &mut evidence);
        let title_old = self.find_other_versions(&title_f, &mut evidence);
        let body_old = self.find_other_versions(&body_f, &mut evidence);
        let title_ctx = self.find_ambiguous(&title_f, &mut evidence);
        let body_ctx = self.find_ambiguous(&body_f, &mut evidence);
        let excluded = evidence
            .iter()
            .any(|e| matches!(e, Evidence::Excluded { .. }));
        let anchored = title_f
            .tokens
            .iter()
            .zip(&title_f.masked)
            .any(|(t, m)| !m && self.anchors.contains(t));

        let mut score = 0.0;
        if title_named > 0 {
            score += TITLE_NAMED;
        }
        if body_named > 0 {
            score += if anchored { BODY_NAMED } else { BODY_PASSING };
        }
        score += TITLE_CONTEXT * title_ctx as f32 + BODY_CONTEXT * body_ctx as f32;

        let named_any = title_named + body_named > 0;
        // Another version in the title outweighs anything but the story named there; in the
        // body, anything but the story named or in context in the title.
        let other_version =
            (title_old && title_named == 0) || (body_old && !named_any && title_ctx == 0);
        let (relevant, reason) = if other_version {
            (false, Reason::OtherVersion)
        } else if excluded && !named_any {
            (false, Reason::Excluded)
        } else if score >= THRESHOLD {
            let reason = if title_named > 0 || (body_named > 0 && anchored) {
                Reason::Named
            } else {
                Reason::InContext
            };
            (true, reason)
        } else if body_named > 0 {
            (false, Reason::PassingMention)
        } else if evidence.is_empty() {
            (false, Reason::Nothing)
        } else {
            (false, Reason::TooLittle)
        };
        Verdict {
            relevant,
            score,
            reason,
            evidence,
        }
    }

    fn field(&self, field: Field, text: &str) -> FieldText {
        let (tokens, capital): (Vec<String>, Vec<bool>) = tokenize_cased(text).into_iter().unzip();
        // Stems serve only the context windows of ambiguous terms; most fields have none.
        let any_ambiguous = self
            .ambiguous
            .iter()
            .any(|a| tokens.iter().any(|t| a.tokens.first() == Some(t)));
        let stems = if any_ambiguous {
            tokens.iter().map(|t| self.analyzer.stem(t)).collect()
        } else {
            vec![String::new(); tokens.len()]
        };
        let masked = vec![false; tokens.len()];
        FieldText {
            field,
            tokens,
            capital,
            stems,
            masked,
        }
    }

    fn mask_exclusions(&self, f: &mut FieldText, ev: &mut Vec<Evidence>) {
        for p in &self.exclude {
            let hits = find_seq(&f.tokens, &p.tokens);
            if !hits.is_empty() {
                ev.push(Evidence::Excluded {
                    phrase: p.label.clone(),
                    field: f.field,
                });
            }
            for start in hits {
                for m in &mut f.masked[start..start + p.tokens.len()] {
                    *m = true;
                }
            }
        }
    }

    /// Count named phrases; masks what they cover so ambiguous terms inside them are not
    /// counted twice.
    fn find_named(&self, f: &FieldText, ev: &mut Vec<Evidence>) -> usize {
        let mut n = 0;
        for p in &self.named {
            let hit = (0..f.tokens.len()).any(|i| {
                matches_versioned(&f.tokens[i..], &p.tokens)
                    && !f.masked[i..i + p.tokens.len()].iter().any(|m| *m)
            });
            if hit {
                n += 1;
                ev.push(Evidence::Named {
                    phrase: p.label.clone(),
                    alias: p.alias,
                    field: f.field,
                });
            }
        }
        n
    }

    fn find_other_versions(&self, f: &FieldText, ev: &mut Vec<Evidence>) -> bool {
        for v in &self.versioned {
            for i in 0..f.tokens.len().saturating_sub(1) {
                let next = &f.tokens[i + 1];
                if f.tokens[i] == v.name
                    && !f.masked[i]
                    && is_version(next)
                    && !same_version(next, &v.version)
                {
                    ev.push(Evidence::OtherVersion {
                        found: format!("{} {next}", f.tokens[i]),
                        field: f.field,
                    });
                    return true;
                }
            }
        }
        false
    }

    /// Count distinct ambiguous terms that occur with context and without their other sense.
    fn find_ambiguous(&self, f: &FieldText, ev: &mut Vec<Evidence>) -> usize {
        let mut n = 0;
        for a in &self.ambiguous {
            let hits: Vec<usize> = find_seq(&f.tokens, &a.tokens)
                .into_iter()
                .filter(|&i| !f.masked[i..i + a.tokens.len()].iter().any(|m| *m))
                .collect();
            if hits.is_empty() {
                continue;
            }
            let named: Vec<usize> = hits
                .iter()
                .copied()
                .filter(|&i| !a.name || f.capital[i])
                .collect();
            if named.is_empty() {
                ev.push(Evidence::NotAName {
                    term: a.label.clone(),
                    field: f.field,
                });
                continue;
            }
            let mut found: Option<Evidence> = None;
            for &start in &named {
                let end = start + a.tokens.len();
                let (lo, hi) = match f.field {
                    Field::Title => (0, f.tokens.len()),
                    Field::Body => (
                        start.saturating_sub(BODY_WINDOW),
                        (end + BODY_WINDOW).min(f.tokens.len()),
                    ),
                };
                let window: Vec<&str> = (lo..hi)
                    .filter(|&i| (i < start || i >= end) && !f.masked[i])
                    .map(|i| f.stems[i].as_str())
                    .collect();
                let near: Vec<&str> = (start.saturating_sub(AGAINST_WINDOW)
                    ..(end + AGAINST_WINDOW).min(f.tokens.len()))
                    .filter(|&i| i < start || i >= end)
                    .map(|i| f.stems[i].as_str())
                    .collect();
                let has = |w: &WordSet| w.stems.iter().all(|s| window.contains(&s.as_str()));
                let near_has = |w: &WordSet| w.stems.iter().all(|s| near.contains(&s.as_str()));
                if let Some(w) = a.against.iter().find(|w| near_has(w)) {
                    found = Some(Evidence::OtherSense {
                        term: a.label.clone(),
                        word: w.label.clone(),
                        field: f.field,
                    });
                    break;
                }
                if let Some(w) = a.context.iter().find(|w| has(w)) {
                    found = Some(Evidence::InContext {
                        term: a.label.clone(),
                        context: w.label.clone(),
                        field: f.field,
                    });
                }
            }
            match found {
                Some(e @ Evidence::InContext { .. }) => {
                    n += 1;
                    ev.push(e);
                }
                Some(e) => ev.push(e),
                None => ev.push(Evidence::NoContext {
                    term: a.label.clone(),
                    field: f.field,
                }),
            }
        }
        n
    }
}

/// Start positions of `pat` in `tokens`.
fn find_seq(tokens: &[String], pat: &[String]) -> Vec<usize> {
    if pat.is_empty() || tokens.len() < pat.len() {
        return Vec::new();
    }
    (0..=tokens.len() - pat.len())
        .filter(|&i| tokens[i..i + pat.len()] == *pat)
        .collect()
}

/// Does `tokens` start with `pat`, a final version number also matching its minor versions
/// ("llama 4" matches "llama 4.1")?
fn matches_versioned(tokens: &[String], pat: &[String]) -> bool {
    if tokens.len() < pat.len() {
        return false;
    }
    pat.iter()
        .zip(tokens)
        .enumerate()
        .all(|(i, (p, t))| p == t || (i + 1 == pat.len() && is_version(p) && same_version(t, p)))
}

/// "4", "3.1": digits and dots, starting with a digit.
fn is_version(t: &str) -> bool {
    t.starts_with(|c: char| c.is_ascii_digit()) && t.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// `found` is the wanted version or one of its minor versions ("4.1" for "4").
fn same_version(found: &str, wanted: &str) -> bool {
    found == wanted
        || found
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
#[path = "relevance_tests.rs"]
mod tests;
