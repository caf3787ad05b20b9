//! feed-rs's model to Storyline's: decoded titles, chosen links, dates, and stable identities.

use chrono::{DateTime, Utc};
use feed_rs::model::{self, Text};
use sha2::{Digest as _, Sha256};
use url::Url;

use super::text::{html_to_text, looks_like_html, squash_whitespace};
use super::{resolve_link, Document, Entry, Format};

/// Convert a feed-rs feed read from a document of `format`.
pub(crate) fn convert(f: model::Feed, format: Format, base: Option<&Url>) -> Document {
    let entries = f
        .entries
        .into_iter()
        .map(|e| entry_of(e, format, base))
        .collect();
    Document {
        format: Some(format),
        title: f
            .title
            .as_ref()
            .map(|t| text_of(t, format))
            .filter(|t| !t.is_empty()),
        link: pick_link(&f.links, base),
        entries,
    }
}

fn entry_of(e: model::Entry, format: Format, base: Option<&Url>) -> Entry {
    // Media RSS's title is the fallback for an entry without one, as in the repair pass.
    let media_title = e.media.iter().find_map(|m| m.title.as_ref());
    let title = e
        .title
        .as_ref()
        .map(|t| text_of(t, format))
        .filter(|t| !t.is_empty())
        .or_else(|| media_title.map(|t| squash_whitespace(&t.content)))
        .filter(|t| !t.is_empty());
    let id = Some(e.id.trim().to_string()).filter(|id| !id.is_empty());
    let mut link = pick_link(&e.links, base);
    if link.is_none() {
        // Without a link, an id that is a web address is the best link there is (feedparser
        // does the same for Atom ids and RSS guids).
        link = id
            .as_deref()
            .filter(|id| is_web_address(id))
            .map(str::to_string);
    }
    let published = e.published.or(e.updated);
    let author = e
        .authors
        .into_iter()
        .next()
        .and_then(|a| a.name.or(a.email))
        .map(|a| squash_whitespace(&a))
        .filter(|a| !a.is_empty());
    Entry {
        id: entry_identity(id, link.as_deref(), title.as_deref(), published),
        title,
        link,
        summary: e
            .summary
            .map(|s| s.content)
            .filter(|s| !s.trim().is_empty()),
        content: e
            .content
            .and_then(|c| c.body)
            .filter(|c| !c.trim().is_empty()),
        author,
        published,
        updated: e.updated,
        ..Entry::default()
    }
}

fn is_web_address(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The entry's page: the first link that is neither a related resource (enclosure, self,
/// replies...) nor a comments link.
fn pick_link(links: &[model::Link], base: Option<&Url>) -> Option<String> {
    links
        .iter()
        .filter(|l| l.target.is_none() && !l.href.trim().is_empty())
        .find(|l| {
            l.rel
                .as_deref()
                .is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
        })
        .map(|l| resolve_link(&l.href, base))
}

fn text_of(t: &Text, format: Format) -> String {
    let subtype = t.content_type.subty().as_str();
    let html = subtype.eq_ignore_ascii_case("html") || subtype.eq_ignore_ascii_case("xhtml+xml");
    title_text(
        &t.content,
        html,
        matches!(format, Format::Rss | Format::Rdf),
    )
}

/// A title as text: HTML is reduced to its text; plain text is taken as is, except that for
/// RSS (where titles carry no type) text that looks like HTML is treated as HTML, as feedparser
/// does. Whitespace runs become one space.
pub(crate) fn title_text(raw: &str, html: bool, guess_html: bool) -> String {
    if html || (guess_html && looks_like_html(raw)) {
        html_to_text(raw)
    } else {
        squash_whitespace(raw)
    }
}

/// Identity stable across polls: the feed's guid/id, else the link, else a hash of title and
/// date.
pub(crate) fn entry_identity(
    id: Option<String>,
    link: Option<&str>,
    title: Option<&str>,
    date: Option<DateTime<Utc>>,
) -> String {
    id.or_else(|| link.map(str::to_string))
        .unwrap_or_else(|| fallback_id(title, date.map(|d| d.to_rfc3339()).as_deref()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_prefers_id_then_link_then_hash() {
        assert_eq!(entry_identity(Some("g".into()), Some("l"), None, None), "g");
        assert_eq!(entry_identity(None, Some("l"), None, None), "l");
        let a = entry_identity(None, None, Some("Title"), None);
        assert_eq!(a, entry_identity(None, None, Some("Title"), None));
        assert!(a.starts_with("urn:storyline:"));
        assert_ne!(a, entry_identity(None, None, Some("Other"), None));
    }

    #[test]
    fn titles_decode_by_type() {
        assert_eq!(title_text("<b>A</b> &amp; B", true, false), "A & B");
        assert_eq!(title_text("Tom &amp; Jerry", false, true), "Tom & Jerry");
        assert_eq!(
            title_text("Tom &amp; Jerry", false, false),
            "Tom &amp; Jerry"
        );
        assert_eq!(title_text("  a\n  b ", false, true), "a b");
    }
}
