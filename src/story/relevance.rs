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
    /// It does not name the story, but clearly reports a recent development of it: it shares
    /// that event's distinctive words.
    EventContext,
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
    /// Every reason, for reading a stored label back.
    pub const ALL: &'static [Reason] = &[
        Reason::Named,
        Reason::InContext,
        Reason::TakesEverything,
        Reason::SamePage,
        Reason::CommentOn,
        Reason::EventContext,
        Reason::OtherVersion,
        Reason::Excluded,
        Reason::PassingMention,
        Reason::TooLittle,
        Reason::Nothing,
    ];

    /// Short label, stored with the decision.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Named => "named",
            Reason::InContext => "in_context",
            Reason::TakesEverything => "takes_everything",
            Reason::SamePage => "same_page",
            Reason::CommentOn => "comment_on",
            Reason::EventContext => "event_context",
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
            Reason::EventContext => "it reports a recent development of the story",
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
        let title_old = self.find_other_versions(&mut title_f, &mut evidence);
        let body_old = self.find_other_versions(&mut body_f, &mut evidence);
        let title_named = self.find_named(&title_f, &mut evidence);
        let body_named = self.find_named(&body_f, &mut evidence);
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

    /// Find another version of a versioned story name ("Llama 3.1" for "Llama 4", "2.0 Flash"
    /// for "2.5 Flash"), and mask it with the capitalized words that continue its name, so a
    /// story alias inside another version's name ("Gemini 2.0 Flash-Lite") does not count.
    fn find_other_versions(&self, f: &mut FieldText, ev: &mut Vec<Evidence>) -> bool {
        let mut found = false;
        for i in 0..f.tokens.len() {
            let t = &f.tokens[i];
            if !is_version(t) || f.masked[i] {
                continue;
            }
            let hit = self.versioned.iter().find(|v| {
                if same_version(t, &v.version) {
                    return false;
                }
                if v.name_first {
                    i > 0 && f.tokens[i - 1] == v.name && !f.masked[i - 1]
                } else {
                    // "10 Pro tips" is not a version of "2.5 Pro": only a dotted number is.
                    t.contains('.') && f.tokens.get(i + 1) == Some(&v.name)
                }
            });
            let Some(v) = hit else { continue };
            let (start, mut end) = if v.name_first {
                (i - 1, i + 1)
            } else {
                (i, i + 2)
            };
            while end < f.tokens.len() && end - i <= VERSION_NAME_WORDS && f.capital[end] {
                end += 1;
            }
            let words = f.tokens[start..(start + 2).min(f.tokens.len())].join(" ");
            let seen = ev.iter().any(
                |e| matches!(e, Evidence::OtherVersion { found, field } if *found == words && *field == f.field),
            );
            if !seen {
                ev.push(Evidence::OtherVersion {
                    found: words,
                    field: f.field,
                });
            }
            for m in &mut f.masked[start..end] {
                *m = true;
            }
            found = true;
        }
        found
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
                let window: Vec<(&str, bool)> = (lo..hi)
                    .filter(|&i| (i < start || i >= end) && !f.masked[i])
                    .map(|i| (f.stems[i].as_str(), f.capital[i]))
                    .collect();
                let near: Vec<&str> = (start.saturating_sub(AGAINST_WINDOW)
                    ..(end + AGAINST_WINDOW).min(f.tokens.len()))
                    .filter(|&i| i < start || i >= end)
                    .map(|i| f.stems[i].as_str())
                    .collect();
                let has = |w: &WordSet| {
                    w.stems.iter().zip(&w.names).all(|(s, name)| {
                        window
                            .iter()
                            .any(|(t, capital)| *t == s.as_str() && (*capital || !name))
                    })
                };
                let near_has = |w: &WordSet| w.stems.iter().all(|s| near.contains(&s.as_str()));
                if let Some(w) = a.against.iter().find(|w| near_has(w)) {
                    found = Some(Evidence::OtherSense {
                        term: a.label.clone(),
                        word: w.label.clone(),
                        field: f.field,
                    });
                    break;
                }
                // In a Title Case headline every word has a capital, so a name-like term
                // ("Tech Behemoth Meta Posts Record Revenue") may be the common word: it needs
                // two different context words to count.
                let needed = if a.name && f.field == Field::Title && title_case(f) {
                    2
                } else {
                    1
                };
                let mut near_words = a.context.iter().filter(|w| has(w));
                if let Some(w) = near_words.next() {
                    if 1 + near_words.count() >= needed {
                        found = Some(Evidence::InContext {
                            term: a.label.clone(),
                            context: w.label.clone(),
                            field: f.field,
                        });
                    }
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

/// Is the field written in Title Case (most of its longer words capitalized)?
fn title_case(f: &FieldText) -> bool {
    let words: Vec<bool> = f
        .tokens
        .iter()
        .zip(&f.capital)
        .filter(|(t, _)| t.chars().count() >= 4 && t.chars().all(char::is_alphabetic))
        .map(|(_, c)| *c)
        .collect();
    words.len() >= 3 && words.iter().filter(|c| **c).count() * 5 >= words.len() * 4
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
