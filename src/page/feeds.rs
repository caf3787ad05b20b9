//! Feed autodiscovery: `<link rel="alternate" type="application/rss+xml|atom+xml|feed+json">`.

use std::fmt;

use scraper::{Html, Selector};
use serde::Serialize;
use url::Url;

use super::meta::absolute;

/// The feed formats a page can advertise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedLinkKind {
    Rss,
    Atom,
    Json,
}

impl FeedLinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedLinkKind::Rss => "rss",
            FeedLinkKind::Atom => "atom",
            FeedLinkKind::Json => "json",
        }
    }

    fn from_type(t: &str) -> Option<FeedLinkKind> {
        match t.split(';').next()?.trim().to_ascii_lowercase().as_str() {
            "application/rss+xml" | "application/rdf+xml" => Some(FeedLinkKind::Rss),
            "application/atom+xml" => Some(FeedLinkKind::Atom),
            "application/feed+json" => Some(FeedLinkKind::Json),
            _ => None,
        }
    }
}

/// A feed a page advertises, resolved to an absolute URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedLink {
    pub url: String,
    pub title: Option<String>,
    pub kind: FeedLinkKind,
}

/// As `inspect` and `sources add` list it: `URL (kind, "title")`.
impl fmt::Display for FeedLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}", self.url, self.kind.as_str())?;
        if let Some(t) = &self.title {
            write!(f, ", \"{t}\"")?;
        }
        f.write_str(")")
    }
}

/// Every advertised feed in document order, relative links resolved against `base` (or the
/// page's `<base href>`), duplicates dropped.
pub(crate) fn discover(doc: &Html, base: &Url) -> Vec<FeedLink> {
    let Ok(sel) = Selector::parse("link[href][type]") else {
        return Vec::new();
    };
    let base = Selector::parse("base[href]")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| base.join(h.trim()).ok())
        .unwrap_or_else(|| base.clone());
    let mut out: Vec<FeedLink> = Vec::new();
    for link in doc.select(&sel) {
        let el = link.value();
        let is_alternate = el.attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|t| t.eq_ignore_ascii_case("alternate"))
        });
        let Some(kind) = el.attr("type").and_then(FeedLinkKind::from_type) else {
            continue;
        };
        let Some(url) = el.attr("href").and_then(|h| absolute(h, &base)) else {
            continue;
        };
        if !is_alternate || out.iter().any(|f| f.url == url) {
            continue;
        }
        let title = el
            .attr("title")
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty());
        out.push(FeedLink { url, title, kind });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_are_found_resolved_and_deduplicated() {
        let html = r#"<head>
            <link rel="alternate" type="application/rss+xml" title="Site » Feed" href="/feed/">
            <link rel="alternate" type="application/json+oembed" href="/oembed">
            <link rel="stylesheet" type="text/css" href="/s.css">
            <link rel="ALTERNATE" type="application/atom+xml" href="atom.xml">
            <link rel="alternate" type="application/feed+json; charset=utf-8" href="https://x.example/feed.json">
            <link rel="alternate" type="application/rss+xml" href="/feed/">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            </head>"#;
        let base = Url::parse("https://site.example/2025/04/post/").unwrap();
        let feeds = discover(&Html::parse_document(html), &base);
        let urls: Vec<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://site.example/feed/",
                "https://site.example/2025/04/post/atom.xml",
                "https://x.example/feed.json"
            ]
        );
        assert_eq!(feeds[0].title.as_deref(), Some("Site » Feed"));
        assert_eq!(feeds[1].kind, FeedLinkKind::Atom);
        assert_eq!(feeds[2].kind, FeedLinkKind::Json);
    }
}
