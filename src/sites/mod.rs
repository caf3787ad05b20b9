//! Site-specific readings of well-known feeds: Reddit threads, Google News searches, hnrss and
//! GitHub releases.
//!
//! Each adapter recognises its site by the document's shape (Reddit `t3_`/`t1_` ids, an RSS
//! `<source>` element, hnrss "Points:" lines, GitHub `tag:github.com,2008:Repository/` ids),
//! not only by host, so the same reading applies to a mirror or a loopback test server. Adapters
//! only fill in or tidy fields; an entry no adapter recognises passes through unchanged.

mod github;
mod google_news;
mod hnrss;
mod reddit;

use std::time::Duration;

use url::Url;

use crate::forum::Forum;
use crate::parse::{Document, Format};

/// Sites with a reading of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    Reddit,
    GoogleNews,
    Hnrss,
    GitHubReleases,
}

impl Site {
    /// Recognise a site from a source URL alone (for config checks, before any fetch).
    pub fn from_url(url: &Url) -> Option<Site> {
        let host = url.host_str()?.to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host);
        if Forum::from_host(host) == Some(Forum::Reddit) {
            Some(Site::Reddit)
        } else if host == "news.google.com" {
            Some(Site::GoogleNews)
        } else if host == "hnrss.org" {
            Some(Site::Hnrss)
        } else if host == "github.com" && url.path().ends_with("/releases.atom") {
            Some(Site::GitHubReleases)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Site::Reddit => "Reddit",
            Site::GoogleNews => "Google News",
            Site::Hnrss => "hnrss",
            Site::GitHubReleases => "GitHub releases",
        }
    }

    /// The shortest polling interval the site's own rules or published advice allow, with the
    /// reason, for `config check` to warn about.
    pub fn min_interval(self) -> Option<(Duration, &'static str)> {
        match self {
            // Reddit caches listings for 30 s and throttles unauthenticated clients hard
            // (403/429); a thread or search feed changes on the scale of hours.
            Site::Reddit => Some((
                Duration::from_secs(30 * 60),
                "Reddit throttles anonymous feed readers (403/429); poll at most every 30m",
            )),
            // Google News search feeds are rebuilt a few times an hour and rate-limit bursts.
            Site::GoogleNews => Some((
                Duration::from_secs(60 * 60),
                "Google News rate-limits search feeds; poll at most every 1h",
            )),
            Site::Hnrss | Site::GitHubReleases => None,
        }
    }
}

/// Adjust a parsed document for the site it came from. `body` is the raw response the
/// document was parsed from: some signals (RSS `<source>`) are not kept by the feed parser.
pub fn adapt(url: &Url, body: &[u8], mut doc: Document) -> Document {
    if doc.format == Some(Format::HtmlPage) {
        return doc;
    }
    reddit::adapt(&mut doc);
    google_news::adapt(url, body, &mut doc);
    hnrss::adapt(&mut doc);
    github::adapt(&mut doc);
    doc
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! The real fixtures the adapters are tested on.

    pub fn real(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../shared/fixtures/real/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Parse and adapt a fixture as the poller would, as if served from `url`.
    pub fn adapted(name: &str, url: &str) -> crate::parse::Document {
        let body = real(name);
        let url = url::Url::parse(url).unwrap();
        let doc = crate::parse::parse_feed(&body, None, Some(&url)).unwrap();
        super::adapt(&url, &body, doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_are_recognised_by_url() {
        let site = |u: &str| Site::from_url(&Url::parse(u).unwrap());
        assert_eq!(
            site("https://www.reddit.com/r/LocalLLaMA/new.rss"),
            Some(Site::Reddit)
        );
        assert_eq!(
            site("https://news.google.com/rss/search?q=x"),
            Some(Site::GoogleNews)
        );
        assert_eq!(site("https://hnrss.org/newest?q=AI"), Some(Site::Hnrss));
        assert_eq!(
            site("https://github.com/meta-llama/llama-models/releases.atom"),
            Some(Site::GitHubReleases)
        );
        assert_eq!(site("https://github.com/meta-llama/llama-models"), None);
        assert_eq!(site("https://notreddit.com/feed"), None);
    }

    #[test]
    fn plain_feeds_pass_through_unchanged() {
        let body = fixtures::real("meta_ai_blog_rss2_olshansk.xml");
        let url = Url::parse("http://127.0.0.1:9/feed.xml").unwrap();
        let doc = crate::parse::parse_feed(&body, None, Some(&url)).unwrap();
        assert_eq!(adapt(&url, &body, doc.clone()), doc);
    }
}
