//! Feed parsing: the guarded front end around feed-rs.

use std::panic::{catch_unwind, AssertUnwindSafe};

use sha2::{Digest as _, Sha256};
use url::Url;

use super::{resolve_link, Document, Entry, Format, ParseError};

/// Parse a feed body. `content_type` is the HTTP header when there is one; `base` resolves
/// relative links.
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
) -> Result<Document, ParseError> {
    let _ = content_type;
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    if looks_like_html(body) {
        return Err(ParseError::HtmlPage);
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        feed_rs::parser::Builder::new()
            .sanitize_content(false)
            .build()
            .parse(body)
    }))
    .map_err(|_| ParseError::Malformed("the parser gave up on this document".into()))?
    .map_err(|e| ParseError::NotAFeed(e.to_string()))?;
    Ok(convert(parsed, base))
}

fn looks_like_html(body: &[u8]) -> bool {
    let head: String = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn convert(f: feed_rs::model::Feed, base: Option<&Url>) -> Document {
    let format = match f.feed_type {
        feed_rs::model::FeedType::Atom => Format::Atom,
        feed_rs::model::FeedType::JSON => Format::JsonFeed,
        feed_rs::model::FeedType::RSS1 => Format::Rdf,
        _ => Format::Rss,
    };
    let entries = f
        .entries
        .into_iter()
        .map(|e| {
            let link = e.links.first().map(|l| resolve_link(&l.href, base));
            let title = e.title.map(|t| t.content);
            let published = e.published.or(e.updated);
            let id = if !e.id.is_empty() {
                e.id
            } else if let Some(l) = &link {
                l.clone()
            } else {
                fallback_id(
                    title.as_deref(),
                    published.map(|d| d.to_rfc3339()).as_deref(),
                )
            };
            Entry {
                id,
                title,
                link,
                summary: e.summary.map(|s| s.content),
                content: e.content.and_then(|c| c.body),
                author: e.authors.first().and_then(|a| a.name.clone()),
                published,
                updated: e.updated,
                ..Entry::default()
            }
        })
        .collect();
    Document {
        format: Some(format),
        title: f.title.map(|t| t.content),
        link: f.links.first().map(|l| resolve_link(&l.href, base)),
        entries,
    }
}

/// Identity for entries with neither id nor link: a hash of title + date, never random.
pub(crate) fn fallback_id(title: Option<&str>, date: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(title.unwrap_or_default().as_bytes());
    h.update([0]);
    h.update(date.unwrap_or_default().as_bytes());
    let digest = h.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("urn:storyline:{hex}")
}
