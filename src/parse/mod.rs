//! Bytes in, entries out: charset, format detection, a lenient front end and feed-rs.
//!
//! Pure and synchronous; never panics (every parse runs under `catch_unwind`); gives every entry
//! a stable identity (guid/id, else link, else a hash of title + date).
//!
//! # How a body is read
//! 1. `charset`: bytes to UTF-8 (BOM, UTF-16/32 sniffing, HTTP charset, XML declaration,
//!    then UTF-8 and windows-1252), the XML declaration skipped.
//! 2. `sniff`: JSON, an HTML page (an error on a feed source), RSS, RDF or Atom.
//! 3. JSON Feed goes to `json`. Plain RSS 2.0 and Atom 1.0 go straight to feed-rs, and the
//!    result is kept if feed-rs read the whole document (`feed::complete`).
//! 4. Everything else (version-less RSS, RDF, Atom 0.3, HTML entities, ill-formed XML, ...)
//!    goes through the repair pass: `soup` reads any text into a tree, `repair` maps every
//!    dialect onto `canonical` Atom 1.0 (with `ns`, `construct`), which feed-rs reads.
//! 5. `convert` turns feed-rs's model into [`Document`]: decoded titles, links, dates, ids.
//!
//! Every date, in a feed (feed-rs calls it for each date element), a JSON Feed or an article
//! page, is read by one lenient reader, [`parse_date`] (`date`).

mod canonical;
mod charset;
mod construct;
mod convert;
mod date;
mod entity;
mod feed;
mod json;
mod ns;
mod repair;
mod sniff;
mod soup;
mod text;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

pub use date::parse_date;
pub use feed::parse_feed;
pub use text::{cut, html_words};

/// The document formats Storyline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    #[serde(rename = "rss")]
    Rss,
    #[serde(rename = "rdf")]
    Rdf,
    #[serde(rename = "atom")]
    Atom,
    #[serde(rename = "json-feed")]
    JsonFeed,
    #[serde(rename = "html-page")]
    HtmlPage,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Rdf => "rdf",
            Format::Atom => "atom",
            Format::JsonFeed => "json-feed",
            Format::HtmlPage => "html-page",
        }
    }
}

/// A parsed feed (or page), not yet stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub format: Option<Format>,
    pub title: Option<String>,
    /// The site's home page, when the feed names it.
    pub link: Option<String>,
    pub entries: Vec<Entry>,
}

/// One entry as Storyline sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// Stable identity: guid/id, else link, else a hash of title + date.
    pub id: String,
    pub title: Option<String>,
    /// Absolute link (resolved against the document's URL).
    pub link: Option<String>,
    /// Summary or description, HTML as given by the feed.
    pub summary: Option<String>,
    /// Full content, HTML as given by the feed.
    pub content: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// The outlet that published the reported article, when the feed aggregates others
    /// (Google News `<source>`).
    pub outlet: Option<Outlet>,
    /// Discussion signals (hnrss Points/Comments).
    pub points: Option<i64>,
    pub comments: Option<i64>,
    /// The entry this one comments on (a Reddit `t1_` comment's `t3_` post id).
    pub parent: Option<String>,
    /// Where the discussion lives (the HN item URL), when it differs from `link`.
    pub discussion_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlet {
    pub name: String,
    pub url: Option<String>,
}

/// Why a document could not be read as a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a feed: got an HTML page")]
    HtmlPage,
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("empty document")]
    Empty,
    #[error("malformed feed: {0}")]
    Malformed(String),
    /// A page source whose body is not a readable article page.
    #[error("not an article page: {0}")]
    NotAPage(String),
}

/// Resolve `href` against `base`, keeping it as written when it cannot be resolved.
pub fn resolve_link(href: &str, base: Option<&Url>) -> String {
    let href = href.trim();
    match base {
        Some(base) => base
            .join(href)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| href.to_string()),
        None => href.to_string(),
    }
}
