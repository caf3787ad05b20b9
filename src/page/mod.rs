//! Article pages without a feed: metadata, main text, advertised feeds, and what changed
//! between two versions.
//!
//! Pure and synchronous like `parse`: bytes in, a [`Page`] (or a one-entry [`Document`]) out.

mod change;
mod date;
mod decode;
mod feeds;
mod jsonld;
mod meta;
mod text;

use scraper::Html;
use url::Url;

use crate::parse::{Document, Entry, Format, Outlet, ParseError};

pub use change::{describe_change, describe_update, Revision};
pub use feeds::{FeedLink, FeedLinkKind};
pub use meta::PageMeta;

/// Everything the page watcher reads from one article page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The URL the page was fetched from (after redirects).
    pub url: Url,
    pub meta: PageMeta,
    /// Visible main text, paragraphs separated by a blank line.
    pub text: String,
    /// Feeds the page advertises, in document order.
    pub feeds: Vec<FeedLink>,
}

impl Page {
    /// The page's identity: its canonical URL, else the URL it was fetched from.
    pub fn id(&self) -> String {
        self.meta
            .canonical_url
            .clone()
            .unwrap_or_else(|| self.url.to_string())
    }

    /// The page as a one-entry document (format `html-page`).
    pub fn into_document(self) -> Document {
        let id = self.id();
        let m = self.meta;
        // The site's home is taken from the canonical URL when there is one: the fetched URL
        // may be a mirror, a redirect target or a test server.
        let home = Url::parse(&id)
            .ok()
            .and_then(|u| site_root(&u))
            .or_else(|| site_root(&self.url));
        let outlet = m.site_name.clone().map(|name| Outlet {
            name,
            url: home.clone(),
        });
        let entry = Entry {
            id: id.clone(),
            title: m.title.clone(),
            link: Some(id),
            summary: m.description,
            content: (!self.text.is_empty()).then_some(self.text),
            author: m.author,
            published: m.published.or(m.modified),
            updated: m.modified,
            outlet,
            ..Entry::default()
        };
        Document {
            format: Some(Format::HtmlPage),
            title: m.site_name.or(m.title),
            link: home,
            entries: vec![entry],
        }
    }
}

fn site_root(url: &Url) -> Option<String> {
    matches!(url.scheme(), "http" | "https")
        .then(|| url.join("/").ok().map(|u| u.to_string()))
        .flatten()
}

/// Read an article page fully: metadata, main text and advertised feeds.
///
/// Fails with a clear [`ParseError`] when the body is not HTML (a PDF, a feed, JSON) or when
/// the page has neither a title nor any text.
pub fn read_html(body: &[u8], content_type: Option<&str>, url: &Url) -> Result<Page, ParseError> {
    let html = decode::decode_html(body, content_type)?;
    let doc = Html::parse_document(&html);
    let meta = meta::extract(&doc, url);
    let text = text::main_text(&doc);
    if meta.title.is_none() && text.is_empty() {
        return Err(ParseError::NotAPage(
            "the page has no title and no text".into(),
        ));
    }
    let feeds = feeds::discover(&doc, url);
    Ok(Page {
        url: url.clone(),
        meta,
        text,
        feeds,
    })
}

/// Read an article page as a one-entry document (format `html-page`): id and link are the
/// canonical URL (else `url`), summary the description, content the main text, published the
/// publication time (else the modification time), updated the modification time.
pub fn read_page(
    body: &[u8],
    content_type: Option<&str>,
    url: &Url,
) -> Result<Document, ParseError> {
    read_html(body, content_type, url).map(Page::into_document)
}

/// Is this body an HTML page (as opposed to a feed or anything else)? Used when a URL's kind
/// is not known yet.
pub fn is_html(body: &[u8], content_type: Option<&str>) -> bool {
    decode::decode_html(body, content_type).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://news.example/story").unwrap()
    }

    #[test]
    fn odd_bodies_give_errors_or_pages_never_panics() {
        let long_attr = format!(
            "<html><head><meta property=\"og:title\" content=\"{}\">",
            "x".repeat(100_000)
        );
        let inputs: Vec<Vec<u8>> = vec![
            b"\xff\xfe\x00<\x00h\x00t\x00m\x00l".to_vec(),
            b"<html><head><title>T".to_vec(),
            b"<html><body><p>Unclosed <b><i>tags".to_vec(),
            b"<html>\xc3\x28 invalid utf-8 <title>\xe2\x82</title>".to_vec(),
            b"<!doctype html><script type=\"application/ld+json\">[[[[{\"@type\":\"Article\"".to_vec(),
            b"<html><head><link rel=canonical href=\"http://[::1\"><link rel=alternate type=application/rss+xml href=\"::\">".to_vec(),
            long_attr.into_bytes(),
            vec![0u8; 4096],
        ];
        for body in inputs {
            let _ = read_html(&body, None, &url());
            let _ = read_html(&body, Some("text/html; charset=bogus"), &url());
        }
    }

    #[test]
    fn a_page_with_no_title_and_no_text_is_a_clear_error() {
        let err = read_page(
            b"<html><head></head><body><nav>Menu</nav></body></html>",
            None,
            &url(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "not an article page: the page has no title and no text"
        );
        let err = read_page(b"{\"json\": true}", Some("application/json"), &url()).unwrap_err();
        assert!(err.to_string().contains("application/json"), "{err}");
    }

    #[test]
    fn the_entry_falls_back_to_the_fetched_url_and_the_modified_time() {
        let html = br#"<html><head><title>Only a title</title>
            <meta property="article:modified_time" content="2025-04-07T10:00:00Z"></head>
            <body><p>Body.</p></body></html>"#;
        let doc = read_page(html, Some("text/html"), &url()).unwrap();
        let e = &doc.entries[0];
        assert_eq!(e.id, "https://news.example/story");
        assert_eq!(e.link.as_deref(), Some("https://news.example/story"));
        assert_eq!(e.title.as_deref(), Some("Only a title"));
        assert_eq!(e.content.as_deref(), Some("Body."));
        assert_eq!(e.published, e.updated);
        assert!(e.published.is_some());
    }
}
