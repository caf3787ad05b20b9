//! What is at a URL a user wants to follow: a feed, an HTML page that advertises feeds, or an
//! article page; and a readable id for it when the user gives none.

use url::Url;

use crate::page::Page;
use crate::parse::{Document, ParseError};
use crate::read::{self, Reading};
use crate::value::source::SourceId;

/// Longest id derived from a title; room is left for a "-2" suffix.
const MAX_DERIVED_ID: usize = 48;

/// The result of looking at one fetched body.
#[derive(Debug, Clone)]
pub enum Found {
    /// The body is a feed.
    Feed(Document),
    /// An HTML page that advertises at least one feed (`<link rel="alternate">`).
    PageWithFeeds(Page),
    /// An HTML page with no advertised feed.
    Page(Page),
}

/// Classify a fetched body of unknown kind ([`crate::read`] sniffs it): an HTML page, with the
/// feeds it advertises, or a feed.
pub fn classify(body: &[u8], content_type: Option<&str>, url: &Url) -> Result<Found, ParseError> {
    Ok(match read::read_body(body, content_type, url, None)? {
        Reading::Feed(doc) => Found::Feed(doc),
        Reading::Page(page) if page.feeds.is_empty() => Found::Page(*page),
        Reading::Page(page) => Found::PageWithFeeds(*page),
    })
}

/// A readable, unused id: from `title` when there is one ("The Verge AI" → "the-verge-ai"), else
/// from the URL's host; "-2", "-3"… are appended while `taken` says the id is in use.
pub fn derive_id(
    title: Option<&str>,
    url: &Url,
    taken: impl Fn(&str) -> bool,
) -> Result<SourceId, String> {
    let base = title
        .map(slug)
        .filter(|s| !s.is_empty())
        .or_else(|| url.host_str().map(host_slug))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "source".to_string());
    (1..=1000u32)
        .map(|n| match n {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        })
        .find(|candidate| !taken(candidate))
        .ok_or_else(|| format!("ids \"{base}\" to \"{base}-1000\" are all taken; pass --id"))
        .and_then(|candidate| SourceId::parse(&candidate))
}

/// Lowercase ASCII letters and digits, words joined by '-', cut at a word boundary.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_string();
    if out.len() > MAX_DERIVED_ID {
        let cut = out[..MAX_DERIVED_ID].rfind('-').unwrap_or(MAX_DERIVED_ID);
        out.truncate(cut);
    }
    out
}

fn host_slug(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(MAX_DERIVED_ID)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn ids_come_from_titles_then_hosts() {
        let u = url("https://www.kulu-media.com/feed/");
        assert_eq!(
            derive_id(Some("Kulu Media » Feed"), &u, |_| false)
                .unwrap()
                .as_str(),
            "kulu-media-feed"
        );
        assert_eq!(
            derive_id(None, &u, |_| false).unwrap().as_str(),
            "kulu-media.com"
        );
        assert_eq!(
            derive_id(Some("»«"), &u, |_| false).unwrap().as_str(),
            "kulu-media.com"
        );
        let long = "A very long article title that goes on and on about Llama 4 Behemoth";
        let id = derive_id(Some(long), &u, |_| false).unwrap();
        assert!(id.as_str().len() <= MAX_DERIVED_ID, "{id}");
        assert!(!id.as_str().ends_with('-'));
    }

    #[test]
    fn taken_ids_get_a_number() {
        let u = url("http://127.0.0.1:8080/feed.xml");
        let id = derive_id(Some("Feed"), &u, |s| s == "feed" || s == "feed-2").unwrap();
        assert_eq!(id.as_str(), "feed-3");
        assert_eq!(
            derive_id(None, &u, |_| false).unwrap().as_str(),
            "127.0.0.1"
        );
    }

    #[test]
    fn bodies_are_classified() {
        let u = url("https://site.example/post/");
        let page = b"<html><head><title>T</title>\
            <link rel=alternate type=application/atom+xml href=/atom.xml></head><p>x</p></html>";
        assert!(matches!(
            classify(page, Some("text/html"), &u),
            Ok(Found::PageWithFeeds(p)) if p.feeds[0].url == "https://site.example/atom.xml"
        ));
        let plain = b"<html><head><title>T</title></head><body><p>Text</p></body></html>";
        assert!(matches!(classify(plain, None, &u), Ok(Found::Page(_))));
        let feed = br#"<rss version="2.0"><channel><title>F</title><item><title>i</title>
            <link>https://site.example/i</link></item></channel></rss>"#;
        // Static servers label feeds text/html; the body decides.
        assert!(matches!(
            classify(feed, Some("text/html"), &u),
            Ok(Found::Feed(d)) if d.title.as_deref() == Some("F")
        ));
        assert!(classify(b"%PDF-1.4", Some("application/pdf"), &u).is_err());
    }
}
