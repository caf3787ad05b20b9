//! Discussion sites (Reddit, Hacker News, Lobsters): which hosts they are, what a digest calls
//! them, and how they throttle. The one owner of these host rules.
//!
//! A leaf value module: it imports nothing of the crate, so `fetch` (which may import only its
//! config), `sites` (only `parse`), `story` and `weekly` can all ask it.

use url::Url;

/// A site whose items are discussions of news rather than news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forum {
    Reddit,
    HackerNews,
    Lobsters,
}

impl Forum {
    /// The forum at `host`, in any case. Reddit is every subdomain of reddit.com (www., old.,
    /// np., …); Hacker News only its news host.
    pub fn from_host(host: &str) -> Option<Forum> {
        let host = host.to_ascii_lowercase();
        if host == "reddit.com" || host.ends_with(".reddit.com") {
            Some(Forum::Reddit)
        } else if host == "news.ycombinator.com" {
            Some(Forum::HackerNews)
        } else if host == "lobste.rs" {
            Some(Forum::Lobsters)
        } else {
            None
        }
    }

    /// The forum a URL is on.
    pub fn from_url(url: &Url) -> Option<Forum> {
        url.host_str().and_then(Forum::from_host)
    }

    /// The forum a URL written as text is on (`None` when it is not a URL).
    pub fn from_link(link: &str) -> Option<Forum> {
        Url::parse(link).ok().as_ref().and_then(Forum::from_url)
    }

    /// The site's name as a digest prints it.
    pub fn name(self) -> &'static str {
        match self {
            Forum::Reddit => "Reddit",
            Forum::HackerNews => "Hacker News",
            // Digests have always shown Lobsters by its host.
            Forum::Lobsters => "lobste.rs",
        }
    }

    /// Does a 403 from this site mean "slow down" rather than "forbidden"? Reddit answers
    /// clients it wants to slow down with 403.
    pub fn throttles_with_403(self) -> bool {
        matches!(self, Forum::Reddit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forums_are_known_by_host() {
        let cases = [
            ("reddit.com", Some(Forum::Reddit)),
            ("www.reddit.com", Some(Forum::Reddit)),
            ("old.reddit.com", Some(Forum::Reddit)),
            ("np.reddit.com", Some(Forum::Reddit)),
            ("WWW.Reddit.COM", Some(Forum::Reddit)),
            ("notreddit.com", None),
            ("reddit.com.example", None),
            ("news.ycombinator.com", Some(Forum::HackerNews)),
            ("ycombinator.com", None),
            ("hnrss.org", None),
            ("lobste.rs", Some(Forum::Lobsters)),
            ("news.example", None),
        ];
        for (host, want) in cases {
            assert_eq!(Forum::from_host(host), want, "{host}");
        }
        assert_eq!(
            Forum::from_link("https://www.reddit.com/r/LocalLLaMA/comments/x/y/"),
            Some(Forum::Reddit)
        );
        assert_eq!(Forum::from_link("not a url"), None);
    }

    #[test]
    fn only_reddit_throttles_with_403() {
        assert!(Forum::Reddit.throttles_with_403());
        assert!(!Forum::HackerNews.throttles_with_403());
        assert!(!Forum::Lobsters.throttles_with_403());
    }
}
