//! The one place an item's text is judged for a story. Story processing and `storyline
//! explain` both call [`judge`], so what explain shows is what processing stored; what
//! processing adds on top (a shared page, a comment's parent, a release series, a recent
//! event the item clearly reports) is recorded with the decision and checked by
//! [`agreement`].

use super::relevance::{Matcher, Reason, Verdict};
use super::text;
use crate::store::{DecisionRow, ItemRow};

/// GitHub release entries: `tag:github.com,2008:Repository/<id>/<tag>`.
const GITHUB_RELEASE: &str = "tag:github.com,2008:Repository/";

/// Judge an item's own words. Text in which no word of the story's definition appears is
/// decided "nothing" without being prepared, which is what [`Matcher::judge`] would find.
pub fn judge(matcher: &Matcher, item: &ItemRow) -> (Verdict, String) {
    let title = relevance_title(item);
    let raw = [
        Some(title),
        item.summary.as_deref(),
        item.content.as_deref(),
    ];
    if raw.iter().flatten().all(|t| !matcher.may_match(t)) {
        return (Verdict::nothing(), String::new());
    }
    let body = text::item_body(item.summary.as_deref(), item.content.as_deref());
    (matcher.judge(title, &body), body)
}

/// The title in the item's own words. A GitHub release titled by its tag alone is shown as
/// "`<repository> <tag>`" (see `sites::github`); the repository's name is ours, not the
/// release's, and a release whose notes say nothing of the story is routine, not news.
pub fn relevance_title(item: &ItemRow) -> &str {
    let title = item.title.as_deref().unwrap_or_default();
    let Some(tag) = release_tag(&item.guid) else {
        return title;
    };
    match title.strip_suffix(tag) {
        Some(repo) if repo.ends_with(' ') && !repo.trim().contains(' ') => &title[repo.len()..],
        _ => title,
    }
}

/// The tag of a release entry, when the item is one: a GitHub release, or an entry whose
/// title starts with a version tag ("v0.2.1: ...", "1.4.0").
pub fn release_tag(guid: &str) -> Option<&str> {
    let rest = guid.strip_prefix(GITHUB_RELEASE)?;
    let (_, tag) = rest.split_once('/')?;
    (!tag.is_empty()).then_some(tag)
}

/// Is the item one release of a software project's series (a release feed's entry)?
pub fn is_release(item_guid: &str, title: Option<&str>) -> bool {
    release_tag(item_guid).is_some() || title.is_some_and(starts_with_version_tag)
}

/// "v0.2.1: fixes", "1.4.0", "gemini-cli v0.3.0": a version tag opens the title (after at
/// most one word naming the project).
fn starts_with_version_tag(title: &str) -> bool {
    let words: Vec<&str> = title.split_whitespace().collect();
    // "3.5 reasons to upgrade" opens with a number, not a tag: a tag has a "v", a third
    // part, a colon after it, or the title to itself.
    let is_tag = |w: &str, alone: bool| {
        let bare = w.trim_end_matches(':');
        let (v, digits) = match bare.strip_prefix('v') {
            Some(d) => (true, d),
            None => (false, bare),
        };
        let shaped = digits.contains('.')
            && digits.starts_with(|c: char| c.is_ascii_digit())
            && digits
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        shaped && (v || alone || w.ends_with(':') || digits.matches('.').count() >= 2)
    };
    match words.as_slice() {
        [only] => is_tag(only, true),
        [first, ..] if is_tag(first, false) => true,
        [_, second] => is_tag(second, true),
        _ => false,
    }
}

/// Reasons processing stores when it takes in an item its text alone leaves out.
pub const PROMOTIONS: &[Reason] = &[Reason::SamePage, Reason::CommentOn, Reason::EventContext];

/// Does a stored decision follow from the text verdict judged now? `None` when it does, else
/// what differs. No stored row means "nothing of the story" (or not processed yet).
pub fn agreement(verdict: &Verdict, stored: Option<&DecisionRow>) -> Option<String> {
    let Some(d) = stored else {
        return (!verdict.is_nothing()).then(|| {
            format!(
                "no decision stored, but the text gives \"{}\"",
                verdict.summary()
            )
        });
    };
    let promoted = PROMOTIONS.iter().any(|r| r.as_str() == d.reason);
    let consistent = if verdict.relevant {
        d.relevant && d.reason == verdict.reason.as_str()
    } else if d.relevant {
        promoted
    } else {
        d.reason == verdict.reason.as_str()
    };
    let same_score = (d.score - f64::from(verdict.score)).abs() < 1e-6;
    (!consistent || !same_score).then(|| {
        format!(
            "stored {} ({}, score {:.1}) but the text gives {} ({}, score {:.1})",
            if d.relevant { "in" } else { "out" },
            d.reason,
            d.score,
            if verdict.relevant { "in" } else { "out" },
            verdict.reason.as_str(),
            verdict.score
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(guid: &str, title: &str) -> ItemRow {
        ItemRow {
            guid: guid.into(),
            title: Some(title.into()),
            ..ItemRow::default()
        }
    }

    #[test]
    fn a_release_is_judged_by_its_own_words_not_the_repository_name() {
        let r = row("tag:github.com,2008:Repository/1/v0.1.5", "acme-cli v0.1.5");
        assert_eq!(relevance_title(&r), "v0.1.5");
        let named = row(
            "tag:github.com,2008:Repository/1/v0.2.1",
            "v0.2.1: Acme 4 template fixes",
        );
        assert_eq!(relevance_title(&named), "v0.2.1: Acme 4 template fixes");
        let plain = row("https://x.example/a", "acme-cli v0.1.5");
        assert_eq!(relevance_title(&plain), "acme-cli v0.1.5");
    }

    #[test]
    fn releases_are_recognised_by_feed_id_or_a_leading_version_tag() {
        assert!(is_release("tag:github.com,2008:Repository/1/v1", None));
        assert!(is_release("x", Some("v0.2.1: fixes")));
        assert!(is_release("x", Some("1.4.0")));
        assert!(is_release("x", Some("acme-cli v0.3.0")));
        assert!(!is_release("x", Some("Acme 4.1 is out")));
        assert!(!is_release("x", Some("Version 2 of the plan")));
        assert!(!is_release("x", Some("3.5 reasons to upgrade now")));
    }
}
