//! Why an item is in or out of each story, and which event it joined and how.

use std::fmt::Write as _;

use super::decide;
use super::definition::StoryDef;
use super::relevance::{Evidence, Matcher, Verdict};
use super::StoryError;
use crate::store::{from_ts, DecisionRow, EventRow, ItemRow, Store, StoreError};

/// One story's view of one item.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub story: StoryDef,
    /// The item judged now, under the current definition.
    pub verdict: Verdict,
    /// The stored decision, when the item has been processed.
    pub stored: Option<DecisionRow>,
    /// The event it belongs to.
    pub event: Option<EventRow>,
    /// Waiting for story processing; when not, no stored decision means "out, nothing found".
    pub queued: bool,
}

impl Explanation {
    /// What differs between the stored decision and the verdict judged now, if anything
    /// (see [`decide::agreement`]); nothing while the item waits in the queue.
    pub fn disagreement(&self) -> Option<String> {
        if self.queued {
            return None;
        }
        decide::agreement(&self.verdict, self.stored.as_ref())
    }
}

/// Judge `item` for every story and gather the stored decisions and events.
pub async fn explain(
    store: &Store,
    stories: &[StoryDef],
    item: &ItemRow,
) -> Result<Vec<Explanation>, StoryError> {
    let decisions = store.story_decisions_of(item.id).await?;
    let queued = store.is_queued(item.id).await?;
    let mut out = Vec::new();
    for story in stories {
        if !story.takes_source(&item.source_id) {
            continue;
        }
        let (verdict, _) = decide::judge(&Matcher::new(story), item);
        let stored = decisions.iter().find(|d| d.story_id == story.id).cloned();
        let event = match stored.as_ref().and_then(|d| d.event_id.as_deref()) {
            Some(id) => match store.story_event(&story.id, id).await {
                Ok(e) => Some(e),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        out.push(Explanation {
            story: story.clone(),
            verdict,
            stored,
            event,
            queued,
        });
    }
    Ok(out)
}

/// The explanation as text for a terminal.
pub fn render(item: &ItemRow, explanations: &[Explanation], tz: chrono_tz::Tz) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "item {}  source {}  guid {}",
        item.id, item.source_id, item.guid
    );
    let _ = writeln!(
        s,
        "title: {}",
        item.title.as_deref().unwrap_or("(untitled)")
    );
    if let Some(u) = &item.url {
        let _ = writeln!(s, "url:   {u}");
    }
    if explanations.is_empty() {
        let _ = writeln!(s, "\nno story reads this item's source");
    }
    for e in explanations {
        let _ = writeln!(s, "\nstory {} ({})", e.story.id, e.story.title);
        for ev in &e.verdict.evidence {
            let _ = writeln!(s, "  {}", describe(ev));
        }
        if e.verdict.evidence.is_empty() {
            let _ = writeln!(s, "  no story phrase, alias or ambiguous term found");
        }
        let _ = writeln!(
            s,
            "  score {:.1} -> {}: {}",
            e.verdict.score,
            if e.verdict.relevant { "IN" } else { "OUT" },
            e.verdict.reason.describe()
        );
        match &e.stored {
            None if e.queued => {
                let _ = writeln!(s, "  not processed yet (run `storyline poll`)");
            }
            None => {
                let _ = writeln!(s, "  processed: out, nothing of the story in it");
            }
            Some(d) => {
                let stored = if d.relevant { "in" } else { "out" };
                if d.relevant != e.verdict.relevant {
                    let why = super::relevance::Reason::ALL
                        .iter()
                        .find(|r| r.as_str() == d.reason)
                        .map_or(d.reason.as_str(), |r| r.describe());
                    let _ = writeln!(s, "  stored decision: {stored}: {why}");
                }
                if let Some(diff) = e.disagreement() {
                    let _ = writeln!(
                        s,
                        "  warning: the stored decision does not follow from the text: {diff}"
                    );
                }
                let _ = writeln!(
                    s,
                    "  counts at {}",
                    from_ts(d.at).with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
                );
                if let Some(ev) = &e.event {
                    let _ = writeln!(s, "  event {}: {}", ev.event_id, ev.headline);
                    let _ = writeln!(
                        s,
                        "    first report {}",
                        from_ts(ev.first_at).with_timezone(&tz).format("%Y-%m-%d")
                    );
                    let shared = d.shared.as_deref().unwrap_or_default();
                    let words = || {
                        shared
                            .split_whitespace()
                            .map(|w| format!("\"{w}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let how = match (d.joined.as_deref(), d.peer_item, d.similarity) {
                        (Some("founded"), _, _) => "it founded the event".to_string(),
                        (Some("same_page"), Some(p), _) if !shared.is_empty() => {
                            format!("it links to the same page as item {p}: {shared}")
                        }
                        (Some("same_page"), Some(p), _) => {
                            format!("it links to the same page as item {p}")
                        }
                        (Some("comment_on"), Some(p), _) => format!("it comments on item {p}"),
                        (Some("release"), Some(p), _) => {
                            format!("it is the next release of the project item {p} released")
                        }
                        (Some("similar"), Some(p), Some(sim)) => format!(
                            "its words are close to item {p}'s (similarity {sim:.2}); \
                             event words it shares: {}",
                            words()
                        ),
                        (Some("context"), Some(p), Some(sim)) => format!(
                            "it does not name the story, but shares the event's words {} \
                             (closest item {p}, similarity {sim:.2})",
                            words()
                        ),
                        (j, _, _) => j.unwrap_or("unknown").to_string(),
                    };
                    let _ = writeln!(s, "    joined: {how}");
                }
            }
        }
    }
    s
}

fn describe(e: &Evidence) -> String {
    match e {
        Evidence::Named {
            phrase,
            alias,
            field,
        } => format!(
            "{}: \"{phrase}\" in the {field}",
            if *alias { "alias" } else { "phrase" }
        ),
        Evidence::InContext {
            term,
            context,
            field,
        } => format!("ambiguous: \"{term}\" counts: \"{context}\" is near it in the {field}"),
        Evidence::NoContext { term, field } => {
            format!("ambiguous: \"{term}\" does not count: no context word near it in the {field}")
        }
        Evidence::NotAName { term, field } => format!(
            "ambiguous: \"{term}\" does not count: written in lowercase in the {field}, the common word"
        ),
        Evidence::OtherSense { term, word, field } => format!(
            "ambiguous: \"{term}\" does not count: \"{word}\" marks another sense in the {field}"
        ),
        Evidence::Excluded { phrase, field } => {
            format!("exclusion: \"{phrase}\" in the {field}")
        }
        Evidence::OtherVersion { found, field } => {
            format!("version: \"{found}\" in the {field} is another version")
        }
    }
}
