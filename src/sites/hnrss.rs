//! hnrss.org feeds: each description ends with "Comments URL", "Points" and "# Comments" lines.
//! Points and comment counts are kept as discussion signals and the HN item URL as the
//! discussion link (the item link is the story's own URL).

use scraper::Html;

use crate::parse::{Document, Entry};

const HN_ITEM: &str = "https://news.ycombinator.com/item?id=";

pub(super) fn adapt(doc: &mut Document) {
    for e in &mut doc.entries {
        adapt_entry(e);
    }
}

fn adapt_entry(e: &mut Entry) {
    let Some(summary) = e.summary.as_deref().or(e.content.as_deref()) else {
        return;
    };
    // Cheap test first: most feeds are not hnrss.
    if !summary.contains("Points:") {
        return;
    }
    let text: String = Html::parse_fragment(summary)
        .root_element()
        .text()
        .collect::<Vec<_>>()
        .join("\n");
    let points = number_after(&text, "Points:");
    let comments = number_after(&text, "# Comments:");
    let comments_url = value_after(&text, "Comments URL:").filter(|u| u.starts_with(HN_ITEM));
    let id_url = e.id.starts_with(HN_ITEM).then(|| e.id.clone());
    // Only an hnrss description has both an HN link and a Points line.
    let Some(discussion) = comments_url.or(id_url) else {
        return;
    };
    e.points = e.points.or(points);
    e.comments = e.comments.or(comments);
    e.discussion_url.get_or_insert(discussion);
}

/// The text on the same line after `label`, trimmed.
fn value_after(text: &str, label: &str) -> Option<String> {
    let at = text.find(label)?;
    let rest = text[at + label.len()..].trim_start_matches([' ', '\t']);
    let line = rest.lines().find(|l| !l.trim().is_empty())?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

fn number_after(text: &str, label: &str) -> Option<i64> {
    let value = value_after(text, label)?;
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::fixtures;

    #[test]
    fn points_comments_and_discussion_come_from_the_description() {
        let doc = fixtures::adapted(
            "hnrss_newest_q_AI_4items_trimmed.xml",
            "http://127.0.0.1:8080/newest?q=AI",
        );
        assert_eq!(doc.entries.len(), 4);
        let first = &doc.entries[0];
        assert_eq!(
            first.title.as_deref(),
            Some("Show HN: Excalidraw Architect MCP for AI Based IDEs")
        );
        assert_eq!(
            first.link.as_deref(),
            Some("https://github.com/BV-Venky/excalidraw-architect-mcp")
        );
        assert_eq!(first.points, Some(1));
        assert_eq!(first.comments, Some(0));
        assert_eq!(
            first.discussion_url.as_deref(),
            Some("https://news.ycombinator.com/item?id=47289785")
        );
        for e in &doc.entries {
            assert!(e.points.is_some() && e.comments.is_some(), "{:?}", e.title);
            assert!(e
                .discussion_url
                .as_deref()
                .is_some_and(|u| u.starts_with(HN_ITEM)));
        }
    }

    #[test]
    fn a_points_line_without_an_hn_link_is_left_alone() {
        let mut e = Entry {
            id: "https://blog.example/post".into(),
            summary: Some("<p>Points: 12 on the scoreboard</p>".into()),
            ..Entry::default()
        };
        adapt_entry(&mut e);
        assert_eq!(e.points, None);
        assert_eq!(e.discussion_url, None);
    }
}
