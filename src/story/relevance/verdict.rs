//! What relevance found in an item, kept whole so `storyline explain` can show why.

use std::fmt;

use serde::Serialize;

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
