//! Source identity and kinds: the domain values a `[[source]]` entry is parsed into.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// A source's config id: lowercase ASCII letters, digits, `-`, `_` and `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SourceId(String);

impl SourceId {
    pub fn parse(s: &str) -> Result<SourceId, String> {
        if is_valid_id(s) {
            Ok(SourceId(s.to_string()))
        } else {
            Err(format!(
                "\"{s}\" is not a valid id: use 1-64 lowercase letters, digits, '-', '_' or '.'"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
        })
}

/// What a source is and how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// An RSS, Atom, RDF or JSON feed.
    #[default]
    Feed,
    /// An article page with no feed: metadata and main text are watched.
    Page,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::Page => "page",
        }
    }

    pub fn from_db(s: &str) -> SourceKind {
        match s {
            "page" => SourceKind::Page,
            _ => SourceKind::Feed,
        }
    }
}

/// Accept only absolute http(s) URLs; drop the fragment, which servers never see.
pub fn parse_source_url(s: &str) -> Result<Url, String> {
    let mut url = Url::parse(s.trim()).map_err(|e| format!("\"{s}\" is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "\"{s}\": only http and https URLs are supported, not {other}"
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("\"{s}\" has no host"));
    }
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_restricted() {
        assert!(SourceId::parse("hn-llama_2.x").is_ok());
        assert!(SourceId::parse("").is_err());
        assert!(SourceId::parse("Has Space").is_err());
        assert!(SourceId::parse("UPPER").is_err());
    }

    #[test]
    fn urls_must_be_http() {
        assert!(parse_source_url("https://example.org/feed#top").is_ok());
        assert_eq!(
            parse_source_url("https://example.org/feed#top")
                .unwrap()
                .as_str(),
            "https://example.org/feed"
        );
        assert!(parse_source_url("file:///etc/passwd").is_err());
        assert!(parse_source_url("not a url").is_err());
    }
}
