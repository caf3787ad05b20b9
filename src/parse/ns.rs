//! XML namespaces as the repair pass sees them: which family an element belongs to, with the
//! old and unofficial names of RSS and Atom folded into one "feed" family, as feedparser does.

use std::borrow::Cow;

use super::soup::Element;

/// The namespace families the repair pass distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    /// No namespace, or any name RSS and Atom have gone by.
    Feed,
    Dc,
    Dcterms,
    Content,
    Xhtml,
    Rdf,
    Media,
    Other,
}

/// Namespace names that mean "the feed's own vocabulary".
const FEED_NAMESPACES: &[&str] = &[
    "http://www.w3.org/2005/atom",
    "http://purl.org/atom/ns#",
    "http://purl.org/echo/",
    "http://purl.org/pie/",
    "http://example.com/newformat#",
    "http://example.com/necho",
    "uri/of/echo/namespace#",
    "http://purl.org/rss/1.0/",
    "http://purl.org/rss/2.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://backend.userland.com/rss",
    "http://backend.userland.com/rss2",
    "http://blogs.law.harvard.edu/tech/rss",
    "http://channel.netscape.com/rdf/simple/0.9/",
];

fn classify(uri: &str) -> Ns {
    let uri = uri.trim();
    let lower = uri.to_ascii_lowercase();
    let lower = lower.as_str();
    if uri.is_empty() || FEED_NAMESPACES.contains(&lower) {
        return Ns::Feed;
    }
    match lower.trim_end_matches('/') {
        "http://purl.org/dc/elements/1.1" | "http://purl.org/dc/elements/1.0" => Ns::Dc,
        "http://purl.org/dc/terms" => Ns::Dcterms,
        "http://purl.org/rss/1.0/modules/content" => Ns::Content,
        "http://www.w3.org/1999/xhtml" => Ns::Xhtml,
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#" => Ns::Rdf,
        "http://search.yahoo.com/mrss" => Ns::Media,
        _ => Ns::Other,
    }
}

/// What an undeclared prefix most likely means (feeds often forget the declaration).
fn conventional(prefix: &str) -> Ns {
    match prefix.to_ascii_lowercase().as_str() {
        "atom" | "atom03" | "atom10" | "rss" | "rss1" => Ns::Feed,
        "dc" => Ns::Dc,
        "dcterms" => Ns::Dcterms,
        "content" => Ns::Content,
        "xhtml" | "html" => Ns::Xhtml,
        "rdf" => Ns::Rdf,
        "media" => Ns::Media,
        _ => Ns::Other,
    }
}

/// The namespace declarations in force at a point of the tree.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scope {
    /// (prefix, family); the empty prefix is the default namespace. Later entries win.
    bindings: Vec<(String, Ns)>,
}

impl Scope {
    /// The scope inside `element`: this scope plus the element's own declarations.
    pub(crate) fn enter(&self, element: &Element) -> Cow<'_, Scope> {
        let declares = |name: &str| name == "xmlns" || name.starts_with("xmlns:");
        if !element.attrs.iter().any(|(name, _)| declares(name)) {
            return Cow::Borrowed(self);
        }
        let mut inner = self.clone();
        for (name, value) in &element.attrs {
            if name == "xmlns" {
                // feedparser reads a document's own elements whatever its default namespace
                // is called; only a known other vocabulary (XHTML) keeps its meaning.
                let ns = match classify(value) {
                    Ns::Other => Ns::Feed,
                    known => known,
                };
                inner.bindings.push((String::new(), ns));
            } else if let Some(prefix) = name.strip_prefix("xmlns:") {
                inner.bindings.push((prefix.to_string(), classify(value)));
            }
        }
        Cow::Owned(inner)
    }

    /// The family of `element`'s name in this scope (which must include its declarations).
    pub(crate) fn of(&self, element: &Element) -> Ns {
        let prefix = element.prefix().unwrap_or_default();
        self.bindings
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, ns)| *ns)
            .unwrap_or_else(|| {
                if prefix.is_empty() {
                    Ns::Feed
                } else {
                    conventional(prefix)
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::super::soup::parse_tree;
    use super::*;

    #[test]
    fn old_feed_namespaces_are_the_feed_family() {
        let root = parse_tree(
            "<rss xmlns=\"http://backend.userland.com/rss2\" xmlns:x=\"http://purl.org/atom/ns#\" \
             xmlns:d=\"http://purl.org/dc/elements/1.1/\" xmlns:o=\"urn:other\"><a/></rss>",
        )
        .unwrap();
        let outer = Scope::default();
        let scope = outer.enter(&root);
        let ns = |name: &str| {
            let e = Element {
                name: name.to_string(),
                ..Element::default()
            };
            scope.of(&e)
        };
        assert_eq!(ns("title"), Ns::Feed);
        assert_eq!(ns("x:title"), Ns::Feed);
        assert_eq!(ns("d:creator"), Ns::Dc);
        assert_eq!(ns("o:title"), Ns::Other);
        assert_eq!(ns("content:encoded"), Ns::Content);
        assert_eq!(ns("unknown:thing"), Ns::Other);
        let odd = parse_tree("<rss xmlns=\"http://example.com/mine\"/>").unwrap();
        let plain = Element {
            name: "item".into(),
            ..Element::default()
        };
        assert_eq!(Scope::default().enter(&odd).of(&plain), Ns::Feed);
    }
}
