//! Reddit Atom feeds. A thread's `.rss` holds the post (`t3_…`) followed by its comments
//! (`t1_…`, titled "/u/NAME on TITLE"); each comment is linked to its post so a digest can say
//! "14 new comments" instead of listing them.

use crate::parse::Document;

const POST: &str = "t3_";
const COMMENT: &str = "t1_";

pub(super) fn adapt(doc: &mut Document) {
    if !doc.entries.iter().any(|e| e.id.starts_with(COMMENT)) {
        return;
    }
    let first_post = doc
        .entries
        .iter()
        .find(|e| e.id.starts_with(POST))
        .map(|e| e.id.clone());
    for e in doc.entries.iter_mut().filter(|e| e.id.starts_with(COMMENT)) {
        if e.parent.is_none() {
            e.parent = e
                .link
                .as_deref()
                .and_then(post_id_from_link)
                .or_else(|| first_post.clone());
        }
    }
}

/// `…/comments/<post>/<slug>/<comment>/` → `t3_<post>`.
fn post_id_from_link(link: &str) -> Option<String> {
    let url = url::Url::parse(link).ok()?;
    let mut segments = url.path_segments()?;
    segments.find(|s| *s == "comments")?;
    let post = segments
        .next()
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))?;
    Some(format!("{POST}{post}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Entry;
    use crate::sites::fixtures;

    #[test]
    fn subreddit_listing_has_no_comments_to_link() {
        let doc = fixtures::adapted(
            "reddit_r_LocalLLaMA_new_atom_3entries.xml",
            "https://www.reddit.com/r/LocalLLaMA/new.rss",
        );
        let ids: Vec<&str> = doc.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["t3_1utbros", "t3_1ut3z4y", "t3_1ut0n1p"]);
        assert!(doc.entries.iter().all(|e| e.parent.is_none()));
        assert_eq!(doc.entries[2].title.as_deref(), Some("Is LM Arena over?"));
    }

    #[test]
    fn comments_point_at_their_post() {
        let entry = |id: &str, link: &str| Entry {
            id: id.into(),
            link: Some(link.into()),
            ..Entry::default()
        };
        let mut doc = Document {
            entries: vec![
                entry(
                    "t3_1id6gcj",
                    "https://www.reddit.com/r/L/comments/1id6gcj/slug/",
                ),
                entry(
                    "t1_ma1",
                    "https://www.reddit.com/r/L/comments/1id6gcj/slug/ma1/",
                ),
                // A comment whose link does not name the post falls back to the thread's post.
                entry("t1_ma2", "https://www.reddit.com/user/x/"),
            ],
            ..Document::default()
        };
        adapt(&mut doc);
        assert_eq!(doc.entries[0].parent, None);
        assert_eq!(doc.entries[1].parent.as_deref(), Some("t3_1id6gcj"));
        assert_eq!(doc.entries[2].parent.as_deref(), Some("t3_1id6gcj"));
    }
}
