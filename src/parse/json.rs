//! JSON Feed 1.0 and 1.1, read leniently.
//!
//! feed-rs rejects a whole feed when one field has an unexpected type (a numeric `id`, a
//! missing feed `title`, an attachment without `mime_type`), all common in the wild; this
//! reader takes each field it can use and ignores the rest.

use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use super::convert::{entry_identity, title_text};
use super::date::parse_date;
use super::{resolve_link, Document, Entry, Format, ParseError};

/// Read a JSON Feed document.
pub(crate) fn parse_json_feed(text: &str, base: Option<&Url>) -> Result<Document, ParseError> {
    let root: Value =
        serde_json::from_str(text).map_err(|e| ParseError::Malformed(format!("JSON: {e}")))?;
    let version = root
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !version.contains("jsonfeed.org/version/") {
        return Err(ParseError::NotAFeed(
            "JSON without a JSON Feed version".into(),
        ));
    }
    let items = root
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let feed_author = author_of(&root);
    let entries = items
        .iter()
        .filter(|item| item.is_object())
        .map(|item| entry_of(item, base, feed_author.as_deref()))
        .collect();
    Ok(Document {
        format: Some(Format::JsonFeed),
        title: string(&root, "title").map(|t| title_text(&t, false, true)),
        link: string(&root, "home_page_url").map(|u| resolve_link(&u, base)),
        entries,
    })
}

fn entry_of(item: &Value, base: Option<&Url>, feed_author: Option<&str>) -> Entry {
    let title = string(item, "title")
        .map(|t| title_text(&t, false, true))
        .filter(|t| !t.is_empty());
    let link = string(item, "url")
        .or_else(|| string(item, "external_url"))
        .map(|u| resolve_link(&u, base));
    let published = date(item, "date_published");
    let updated = date(item, "date_modified");
    let published = published.or(updated);
    let content = string(item, "content_html").or_else(|| string(item, "content_text"));
    let summary = string(item, "summary");
    let id = entry_identity(
        string(item, "id"),
        link.as_deref(),
        title.as_deref(),
        published,
    );
    Entry {
        id,
        title,
        link,
        summary,
        content,
        author: author_of(item).or_else(|| feed_author.map(str::to_string)),
        published,
        updated,
        ..Entry::default()
    }
}

/// A field as text: strings as they are, numbers written out (JSON Feed 1.0 ids may be numbers).
fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// JSON Feed asks for RFC 3339; feeds write whatever their CMS writes, so read it leniently.
fn date(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    parse_date(&string(v, key)?)
}

/// The first author's name: 1.1's `authors` array, else 1.0's `author` object.
fn author_of(v: &Value) -> Option<String> {
    let first = v
        .get("authors")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .or_else(|| v.get("author"))?;
    string(first, "name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_feed_1_0_with_numeric_ids_and_no_title() {
        let doc = parse_json_feed(
            r#"{"version": "https://jsonfeed.org/version/1", "author": {"name": "Ann"},
                "items": [{"id": 42, "url": "/a", "title": "One &amp; two",
                           "content_text": "text", "date_published": "2025-04-05T10:00:00-04:00"}]}"#,
            Url::parse("https://example.org/feed.json").ok().as_ref(),
        )
        .unwrap();
        assert_eq!(doc.format, Some(Format::JsonFeed));
        assert_eq!(doc.title, None);
        let e = &doc.entries[0];
        assert_eq!(e.id, "42");
        assert_eq!(e.link.as_deref(), Some("https://example.org/a"));
        assert_eq!(e.title.as_deref(), Some("One & two"));
        assert_eq!(e.author.as_deref(), Some("Ann"));
        assert_eq!(
            e.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2025-04-05T14:00:00+00:00")
        );
    }

    #[test]
    fn reads_json_feed_1_1_authors_and_summary() {
        let doc = parse_json_feed(
            r#"{"version": "https://jsonfeed.org/version/1.1", "title": "T",
                "items": [{"url": "https://e.org/x", "summary": "s", "content_html": "<p>h</p>",
                           "authors": [{"name": "Bo"}], "date_modified": "2025-01-02T00:00:00Z"}]}"#,
            None,
        )
        .unwrap();
        let e = &doc.entries[0];
        assert_eq!(e.id, "https://e.org/x");
        assert_eq!(e.summary.as_deref(), Some("s"));
        assert_eq!(e.content.as_deref(), Some("<p>h</p>"));
        assert_eq!(e.author.as_deref(), Some("Bo"));
        assert_eq!(e.published, e.updated);
    }

    #[test]
    fn other_json_is_not_a_feed() {
        assert!(matches!(
            parse_json_feed(r#"{"items": []}"#, None),
            Err(ParseError::NotAFeed(_))
        ));
        assert!(matches!(
            parse_json_feed("{", None),
            Err(ParseError::Malformed(_))
        ));
    }
}
