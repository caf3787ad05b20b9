//! The ingest-time screen: which new items no story could take, found while the fetch task
//! still holds their text (on the fetch tasks' threads, beside parsing), so that story
//! processing decides them without reading their text back from the database.
//!
//! It runs the same trigger prefilter as the relevance decision ([`Matcher::may_match`]); an
//! item is quiet when, for every story that takes its source, no field may match and it
//! comments on nothing. The key names the set of definitions the screen was built from:
//! processing trusts a quiet mark only under the same key.

use sha2::{Digest as _, Sha256};

use super::definition::StoryDef;
use super::relevance::Matcher;
use crate::store::NewItem;

pub struct Screen {
    key: i64,
    stories: Vec<(StoryDef, Matcher)>,
}

impl Screen {
    pub fn new(stories: &[StoryDef]) -> Screen {
        Screen {
            key: key_of(stories),
            stories: stories
                .iter()
                .map(|s| (s.clone(), Matcher::new(s)))
                .collect(),
        }
    }

    /// Mark `item` of `source_id` quiet when no story could take it.
    pub fn mark(&self, source_id: &str, item: &mut NewItem) {
        item.quiet_under = self.is_quiet(source_id, item).then_some(self.key);
    }

    fn is_quiet(&self, source_id: &str, item: &NewItem) -> bool {
        if item.parent_guid.is_some() {
            return false;
        }
        let fields = [&item.title, &item.summary, &item.content];
        self.stories
            .iter()
            .filter(|(def, _)| def.takes_source(source_id))
            .all(|(_, m)| {
                fields
                    .iter()
                    .filter_map(|f| f.as_deref())
                    .all(|t| !m.may_relate(t))
            })
    }
}

/// The key of a set of story definitions: the same stories, in any order, give the same key.
pub fn key_of(stories: &[StoryDef]) -> i64 {
    let mut prints: Vec<String> = stories
        .iter()
        .map(|s| format!("{}={}", s.id, s.fingerprint()))
        .collect();
    prints.sort();
    let mut h = Sha256::new();
    for p in &prints {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    i64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(title: &str, summary: &str) -> NewItem {
        NewItem {
            guid: title.into(),
            title: Some(title.into()),
            summary: Some(summary.into()),
            ..NewItem::default()
        }
    }

    #[test]
    fn an_item_naming_no_story_is_quiet_and_one_that_might_is_not() {
        let stories = vec![StoryDef::builtin().unwrap()];
        let screen = Screen::new(&stories);
        let mut off = item("Rust 1.95 released", "<p>A new compiler.</p>");
        screen.mark("any", &mut off);
        assert_eq!(off.quiet_under, Some(key_of(&stories)));
        let mut on = item("Weekly roundup", "<p>Meta ships Llama 4 Scout.</p>");
        screen.mark("any", &mut on);
        assert_eq!(on.quiet_under, None);
        let mut comment = item("Rust 1.95 released", "");
        comment.parent_guid = Some("t3_abc".into());
        screen.mark("any", &mut comment);
        assert_eq!(comment.quiet_under, None);
    }

    #[test]
    fn the_key_follows_the_definitions_not_their_order() {
        let a = StoryDef::builtin().unwrap();
        let mut b = a.clone();
        b.id = "other".into();
        assert_eq!(
            key_of(&[a.clone(), b.clone()]),
            key_of(&[b.clone(), a.clone()])
        );
        let mut c = b.clone();
        c.exclude.push("something".into());
        assert_ne!(key_of(&[a.clone(), b]), key_of(&[a, c]));
    }

    #[test]
    fn a_story_that_does_not_take_the_source_does_not_count() {
        let mut only = StoryDef::builtin().unwrap();
        only.sources = vec!["elsewhere".into()];
        let screen = Screen::new(&[only]);
        let mut it = item("Meta ships Llama 4", "");
        screen.mark("here", &mut it);
        assert!(it.quiet_under.is_some());
    }
}
