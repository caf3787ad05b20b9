//! What kind of document a body is, read from its first markup: JSON, an HTML page, one of the
//! feed dialects, or something else; and whether feed-rs can take it as it is.

/// The document kinds told apart before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Json,
    Html,
    /// `<rss>` (any version) or a bare `<channel>` (CDF, headless RSS).
    Rss,
    /// `<rdf:RDF>`: RSS 1.0 and 0.90.
    Rdf,
    /// `<feed>` or a lone `<entry>`: Atom 1.0, 0.3 and their pre-release names.
    Atom,
    /// Markup whose root is none of the above.
    OtherXml,
    /// No markup at all.
    Text,
}

/// The first element of a document and what came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sniffed<'a> {
    pub kind: Kind,
    /// The root element's qualified name, as written.
    pub root: &'a str,
    /// The root's `version` attribute.
    pub version: Option<&'a str>,
    /// The root's default namespace (`xmlns`).
    pub default_ns: Option<&'a str>,
    /// A DOCTYPE with an internal subset (it may define entities feed-rs cannot expand), or an
    /// XML declaration out of place (quick-xml would switch encodings mid-stream on it).
    pub irregular_prolog: bool,
}

/// Atom 1.0's namespace.
pub(crate) const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

impl Sniffed<'_> {
    /// Whether feed-rs reads this document the way feedparser does, so it can skip the repair
    /// pass (the result is still checked afterwards).
    pub(crate) fn feed_rs_ready(&self) -> bool {
        if self.irregular_prolog {
            return false;
        }
        match self.kind {
            Kind::Rss => {
                self.root == "rss"
                    && self.default_ns.is_none()
                    && matches!(self.version, Some("2.0" | "0.91" | "0.92"))
            }
            Kind::Atom => self.root == "feed" && self.default_ns == Some(ATOM_NS),
            _ => false,
        }
    }
}

/// Classify `text` (already decoded, XML declaration skipped) by its first markup.
pub(crate) fn sniff(text: &str) -> Sniffed<'_> {
    let mut s = Sniffed {
        kind: Kind::Text,
        root: "",
        version: None,
        default_ns: None,
        irregular_prolog: false,
    };
    let mut rest = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    // An HTML DOCTYPE decides only when the root is not a feed's (feeds have been seen behind
    // copy-pasted XHTML DOCTYPEs).
    let mut html_doctype = false;
    if rest.starts_with('{') {
        s.kind = Kind::Json;
        return s;
    }
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        if let Some(body) = rest.strip_prefix("<!--") {
            rest = body.find("-->").map_or("", |end| &body[end + 3..]);
        } else if let Some(body) = rest.strip_prefix("<?") {
            if body.get(..3).is_some_and(|t| t.eq_ignore_ascii_case("xml"))
                && body[3..].starts_with(|c: char| c.is_whitespace())
            {
                s.irregular_prolog = true;
            }
            rest = body.find("?>").map_or("", |end| &body[end + 2..]);
        } else if let Some(body) = rest.strip_prefix("<!") {
            let end = body.find('>').unwrap_or(body.len());
            let decl = &body[..end];
            if decl
                .get(..12)
                .is_some_and(|d| d.eq_ignore_ascii_case("doctype html"))
            {
                html_doctype = true;
            }
            if decl.contains('[') {
                s.irregular_prolog = true;
                // The internal subset may hold '>' characters: skip to its closing "]>".
                let close = body.find("]>").map_or(body.len(), |i| i + 2);
                rest = &body[close..];
            } else {
                rest = body.get(end + 1..).unwrap_or("");
            }
        } else {
            read_root(&rest[1..], &mut s);
            if html_doctype && matches!(s.kind, Kind::OtherXml) {
                s.kind = Kind::Html;
            }
            return s;
        }
    }
    if html_doctype {
        s.kind = Kind::Html;
    }
    s
}

/// How far into a document junk may precede the feed (a server's warning text, a stray tag).
const JUNK_WINDOW: usize = 4096;

/// Where a feed's root element starts when something that is not a feed comes first.
pub(crate) fn feed_root_after_junk(text: &str) -> Option<usize> {
    let window = &text.as_bytes()[..text.len().min(JUNK_WINDOW)];
    ["<rss", "<feed", "<rdf:RDF", "<RDF"]
        .iter()
        .filter_map(|tag| {
            memchr::memmem::find_iter(window, tag.as_bytes()).find(|&at| {
                window
                    .get(at + tag.len())
                    .is_some_and(|&b| b == b'>' || b.is_ascii_whitespace())
            })
        })
        .min()
}

fn read_root<'a>(tag: &'a str, s: &mut Sniffed<'a>) {
    let name_end = tag
        .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>'))
        .unwrap_or(tag.len());
    s.root = &tag[..name_end];
    let local = s.root.rsplit(':').next().unwrap_or_default();
    s.kind = match local.to_ascii_lowercase().as_str() {
        "rss" | "channel" | "item" => Kind::Rss,
        "rdf" => Kind::Rdf,
        "feed" | "entry" => Kind::Atom,
        "html" | "head" | "body" => Kind::Html,
        _ => Kind::OtherXml,
    };
    let tag_end = tag.find('>').unwrap_or(tag.len());
    let attrs = &tag[name_end..tag_end];
    s.version = attribute(attrs, "version");
    s.default_ns = attribute(attrs, "xmlns");
}

/// A quoted attribute's value in the text of a start tag.
fn attribute<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while let Some(pos) = rest.find(name) {
        let before_ok = attrs.len() == rest.len() && pos == 0
            || rest[..pos].ends_with(|c: char| c.is_whitespace());
        let after = rest[pos + name.len()..].trim_start();
        if before_ok {
            if let Some(value) = after.strip_prefix('=') {
                let value = value.trim_start();
                if let Some(q @ ('"' | '\'')) = value.chars().next() {
                    return value[1..].find(q).map(|end| &value[1..1 + end]);
                }
            }
        }
        rest = &rest[pos + name.len()..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_dialect() {
        assert_eq!(sniff("<rss version=\"2.0\">").kind, Kind::Rss);
        assert_eq!(sniff("<!-- c --><rdf:RDF xmlns:rdf=\"x\">").kind, Kind::Rdf);
        assert_eq!(sniff("<feed version=\"0.3\">").kind, Kind::Atom);
        assert_eq!(sniff("  {\"version\": 1}").kind, Kind::Json);
        assert_eq!(sniff("<!DOCTYPE html><html>").kind, Kind::Html);
        assert_eq!(sniff("<!DOCTYPE html>\n<head><title>x").kind, Kind::Html);
        assert_eq!(
            sniff("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML\"><rss>").kind,
            Kind::Rss
        );
        assert_eq!(sniff("<HTML><body>").kind, Kind::Html);
        assert_eq!(sniff("<urlset>").kind, Kind::OtherXml);
        assert_eq!(sniff("no markup").kind, Kind::Text);
    }

    #[test]
    fn only_plain_rss_2_and_atom_1_go_straight_to_feed_rs() {
        assert!(sniff("<rss version=\"2.0\" xmlns:dc=\"x\">").feed_rs_ready());
        assert!(sniff("<feed xmlns=\"http://www.w3.org/2005/Atom\">").feed_rs_ready());
        assert!(!sniff("<rss>").feed_rs_ready());
        assert!(!sniff("<rss version=\"0.94\">").feed_rs_ready());
        assert!(
            !sniff("<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\">")
                .feed_rs_ready()
        );
        assert!(
            !sniff("<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">").feed_rs_ready()
        );
        assert!(!sniff("<!DOCTYPE rss [<!ENTITY a \"b\">]><rss version=\"2.0\">").feed_rs_ready());
        assert!(!sniff("<!-- x --><?xml version=\"1.0\"?><rss version=\"2.0\">").feed_rs_ready());
    }

    #[test]
    fn finds_a_feed_behind_junk() {
        let text = "Warning: something<br />\n<?xml version=\"1.0\"?><rss version=\"2.0\">";
        assert_eq!(sniff(text).kind, Kind::OtherXml);
        let at = feed_root_after_junk(text).unwrap();
        assert!(text[at..].starts_with("<rss version"));
        assert_eq!(feed_root_after_junk("<urlset><url>x</url></urlset>"), None);
        assert_eq!(feed_root_after_junk("<p>a <feeder> b</p>"), None);
    }

    #[test]
    fn reads_root_attributes() {
        let s = sniff("<rss\n version='0.91' xmlns:version=\"no\">");
        assert_eq!(s.version, Some("0.91"));
        assert_eq!(s.default_ns, None);
    }
}
