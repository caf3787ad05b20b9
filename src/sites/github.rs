//! GitHub `releases.atom`: the item title carries the tag as well as the release name (a bare
//! "v0.2.0" becomes "llama-models v0.2.0"), and the release notes are the content.

use crate::parse::{Document, Entry};

const RELEASE_ID: &str = "tag:github.com,2008:Repository/";

pub(super) fn adapt(doc: &mut Document) {
    let feed_repo = doc
        .title
        .as_deref()
        .and_then(|t| t.strip_prefix("Release notes from "))
        .map(|r| r.trim().to_string());
    for e in &mut doc.entries {
        let Some(tag) = tag_of(&e.id) else { continue };
        let repo = e
            .link
            .as_deref()
            .and_then(repo_from_link)
            .or_else(|| feed_repo.clone());
        e.title = Some(release_title(&tag, e.title.as_deref(), repo.as_deref()));
        move_notes_to_content(e);
    }
}

/// `tag:github.com,2008:Repository/41881900/1.22.2` → `1.22.2` (tags may contain `/`).
fn tag_of(id: &str) -> Option<String> {
    let rest = id.strip_prefix(RELEASE_ID)?;
    let (repo_id, tag) = rest.split_once('/')?;
    (repo_id.chars().all(|c| c.is_ascii_digit()) && !tag.is_empty()).then(|| tag.to_string())
}

/// `https://github.com/OWNER/REPO/releases/tag/TAG` → `REPO`.
fn repo_from_link(link: &str) -> Option<String> {
    let url = url::Url::parse(link).ok()?;
    let segs: Vec<&str> = url.path_segments()?.collect();
    (segs.len() >= 3 && segs[2] == "releases" && !segs[1].is_empty()).then(|| segs[1].to_string())
}

/// The tag always shows: a title that already names it is kept, one that does not gets
/// "tag: " in front, and a bare tag gets the repository name so "v0.2.0" says of what.
fn release_title(tag: &str, title: Option<&str>, repo: Option<&str>) -> String {
    let title = title.map(str::trim).filter(|t| !t.is_empty());
    match title {
        Some(t) if t != tag && t.contains(tag) => t.to_string(),
        Some(t) if t != tag => format!("{tag}: {t}"),
        _ => match repo {
            Some(repo) => format!("{repo} {tag}"),
            None => tag.to_string(),
        },
    }
}

/// Release notes belong in `content`; a parser that put them in `summary` is corrected.
fn move_notes_to_content(e: &mut Entry) {
    if e.content.is_none() {
        e.content = e.summary.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::fixtures;

    #[test]
    fn bare_tags_get_the_repository_name() {
        let doc = fixtures::adapted(
            "github_releases_atom_vscode_2018.xml",
            "http://127.0.0.1:8080/gh/vscode/releases.atom",
        );
        let titles: Vec<&str> = doc
            .entries
            .iter()
            .filter_map(|e| e.title.as_deref())
            .collect();
        assert_eq!(titles, ["vscode 1.22.2", "vscode 1.22.1"]);
        assert_eq!(
            doc.entries[0].content.as_deref(),
            Some("<p>update release number</p>")
        );
    }

    #[test]
    fn release_names_keep_or_gain_the_tag() {
        let doc = fixtures::adapted(
            "github_releases_atom_neversink_2020.xml",
            "https://github.com/NeverSinkDev/NeverSink-Filter/releases.atom",
        );
        let first = &doc.entries[0];
        assert_eq!(
            first.title.as_deref(),
            Some("NeverSink's itemfilter - version 7.8.2 - Major improvement to higher strictnesses and Economy Update #2")
        );
        assert!(first
            .content
            .as_deref()
            .is_some_and(|c| c.contains("[TIERING] Most tierlists have been adjusted")));
        assert_eq!(
            release_title("v1.0", Some("First stable"), Some("r")),
            "v1.0: First stable"
        );
        assert_eq!(release_title("v1.0", None, None), "v1.0");
        assert_eq!(
            tag_of("tag:github.com,2008:Repository/1/feature/x").as_deref(),
            Some("feature/x")
        );
        assert_eq!(tag_of("tag:github.com,2008:Repository/abc/x"), None);
    }
}
