//! One reader of documents: fetched bytes, their content type and URL become a feed or an
//! article page, the same way for the poller, `storyline inspect` and `storyline sources add`.
//!
//! When the source's kind is known the body is read as that kind and nothing else (a feed
//! source that starts serving HTML is an error, not a page). Only a body of unknown kind is
//! sniffed: an HTML page is a page, anything else must be a feed.

use url::Url;

use crate::page::{self, Page};
use crate::parse::{self, Document, ParseError};
use crate::value::source::SourceKind;

/// What a body was read as.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// A feed, already adjusted for the site it came from ([`crate::sites::adapt`]).
    Feed(Document),
    /// An article page, with everything the page watcher extracted.
    Page(Box<Page>),
}

impl Reading {
    /// The entries to store: a feed's, or the page as one `html-page` entry.
    pub fn into_document(self) -> Document {
        match self {
            Reading::Feed(doc) => doc,
            Reading::Page(page) => (*page).into_document(),
        }
    }
}

/// Read `body`, fetched from `url`, as a source of `kind` is read; with no kind, sniff it.
pub fn read_body(
    body: &[u8],
    content_type: Option<&str>,
    url: &Url,
    kind: Option<SourceKind>,
) -> Result<Reading, ParseError> {
    match kind {
        Some(SourceKind::Feed) => read_feed(body, content_type, url),
        Some(SourceKind::Page) => {
            page::read_html(body, content_type, url).map(|p| Reading::Page(Box::new(p)))
        }
        None if page::is_html(body, content_type) => {
            page::read_html(body, content_type, url).map(|p| Reading::Page(Box::new(p)))
        }
        None => match read_feed(body, content_type, url) {
            // The feed parser saw HTML the page reader refused: its reason says more.
            Err(ParseError::HtmlPage) => {
                page::read_html(body, content_type, url).map(|p| Reading::Page(Box::new(p)))
            }
            other => other,
        },
    }
}

fn read_feed(body: &[u8], content_type: Option<&str>, url: &Url) -> Result<Reading, ParseError> {
    let doc = parse::parse_feed(body, content_type, Some(url))?;
    Ok(Reading::Feed(crate::sites::adapt(url, body, doc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://site.example/post/").unwrap()
    }

    const PAGE: &[u8] = b"<html><head><title>T</title></head><body><p>Text</p></body></html>";
    const FEED: &[u8] = br#"<rss version="2.0"><channel><title>F</title><item><title>i</title>
        <link>https://site.example/i</link></item></channel></rss>"#;

    #[test]
    fn a_known_kind_is_read_as_that_kind_only() {
        assert_eq!(
            read_body(PAGE, Some("text/html"), &url(), Some(SourceKind::Feed)),
            Err(ParseError::HtmlPage)
        );
        assert!(matches!(
            read_body(FEED, None, &url(), Some(SourceKind::Page)),
            Err(ParseError::NotAPage(_))
        ));
        assert!(matches!(
            read_body(PAGE, None, &url(), Some(SourceKind::Page)),
            Ok(Reading::Page(p)) if p.meta.title.as_deref() == Some("T")
        ));
    }

    #[test]
    fn an_unknown_kind_is_sniffed() {
        assert!(matches!(
            read_body(PAGE, None, &url(), None),
            Ok(Reading::Page(_))
        ));
        // Static servers label feeds text/html; the body decides.
        assert!(matches!(
            read_body(FEED, Some("text/html"), &url(), None),
            Ok(Reading::Feed(d)) if d.title.as_deref() == Some("F")
        ));
        // HTML under a type no page arrives as: the page reader's reason, not the feed's.
        assert_eq!(
            read_body(PAGE, Some("image/png"), &url(), None),
            Err(ParseError::NotAPage("the server sent image/png".into()))
        );
    }

    #[test]
    fn feeds_are_adapted_for_their_site_and_pages_become_one_entry() {
        let body = crate::sites::fixtures::real("hnrss_newest_q_AI_4items_trimmed.xml");
        let u = Url::parse("http://127.0.0.1:8080/newest?q=AI").unwrap();
        let doc = read_body(&body, None, &u, Some(SourceKind::Feed))
            .unwrap()
            .into_document();
        assert_eq!(doc.entries[0].points, Some(1));
        let page = read_body(PAGE, None, &url(), None).unwrap().into_document();
        assert_eq!(page.format, Some(parse::Format::HtmlPage));
        assert_eq!(page.entries.len(), 1);
    }
}
