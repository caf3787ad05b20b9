//! Atom 1.0 documents (RFC 4287), written with quick-xml so every text and attribute is
//! escaped by the writer, never by hand. Characters XML 1.0 cannot carry at all (most C0
//! controls, U+FFFE/U+FFFF) are dropped first: a feed title may hold anything.

use std::borrow::Cow;
use std::io;

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use sha2::{Digest as _, Sha256};

const NS: &str = "http://www.w3.org/2005/Atom";

/// A feed: its metadata and entries (newest first, as readers expect).
#[derive(Debug, Clone)]
pub(super) struct Feed {
    pub id: String,
    pub title: String,
    pub subtitle: String,
    /// The latest `updated` of its entries (or a fixed time when it has none).
    pub updated: DateTime<Utc>,
    /// The feed's own URL (`rel="self"`).
    pub self_url: String,
    /// The page it follows (`rel="alternate"`).
    pub page_url: String,
    pub entries: Vec<Entry>,
}

/// An entry.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub id: String,
    pub title: String,
    pub updated: DateTime<Utc>,
    pub published: Option<DateTime<Utc>>,
    /// `rel="alternate"`, an HTML page.
    pub link: Option<String>,
    /// `rel="related"` links with a title each (an outlet's report).
    pub related: Vec<(String, String)>,
    /// HTML, carried escaped as `type="html"`.
    pub content_html: String,
}

/// A stable `urn:uuid:` for `key`: the same key gives the same id wherever the site is
/// served from, so moving `web.base_url` does not make old entries look new. RFC 9562
/// version 8 (name-based, SHA-256).
pub(super) fn urn(key: &str) -> String {
    let h = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The document, UTF-8.
pub(super) fn write(feed: &Feed) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    // Writing into a Vec cannot fail.
    let _ = write_feed(&mut w, feed);
    let mut out = w.into_inner();
    out.push(b'\n');
    out
}

fn write_feed(w: &mut Writer<Vec<u8>>, feed: &Feed) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.create_element("feed")
        .with_attribute(("xmlns", NS))
        .write_inner_content(|w| {
            text(w, "id", &feed.id)?;
            text(w, "title", &feed.title)?;
            text(w, "subtitle", &feed.subtitle)?;
            text(w, "updated", &date(feed.updated))?;
            w.create_element("author")
                .write_inner_content(|w| text(w, "name", "Storyline").map(|_| ()))?;
            link(
                w,
                "self",
                &feed.self_url,
                Some("application/atom+xml"),
                None,
            )?;
            link(w, "alternate", &feed.page_url, Some("text/html"), None)?;
            w.create_element("generator")
                .with_attribute(("version", env!("CARGO_PKG_VERSION")))
                .write_text_content(BytesText::new("Storyline"))?;
            for e in &feed.entries {
                write_entry(w, e)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_entry(w: &mut Writer<Vec<u8>>, e: &Entry) -> io::Result<()> {
    w.create_element("entry").write_inner_content(|w| {
        text(w, "id", &e.id)?;
        text(w, "title", &e.title)?;
        if let Some(p) = e.published {
            text(w, "published", &date(p))?;
        }
        text(w, "updated", &date(e.updated))?;
        if let Some(href) = &e.link {
            link(w, "alternate", href, Some("text/html"), None)?;
        }
        for (href, title) in &e.related {
            link(w, "related", href, None, Some(title))?;
        }
        w.create_element("content")
            .with_attribute(("type", "html"))
            .write_text_content(BytesText::new(&xml_chars(&e.content_html)))?;
        Ok(())
    })?;
    Ok(())
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_chars(value)))?;
    Ok(())
}

fn link(
    w: &mut Writer<Vec<u8>>,
    rel: &str,
    href: &str,
    kind: Option<&str>,
    title: Option<&str>,
) -> io::Result<()> {
    let href = xml_chars(href);
    let mut el = w
        .create_element("link")
        .with_attribute(("rel", rel))
        .with_attribute(("href", href.as_ref()));
    if let Some(kind) = kind {
        el = el.with_attribute(("type", kind));
    }
    let title = title.map(xml_chars);
    if let Some(title) = title.as_deref() {
        el = el.with_attribute(("title", title));
    }
    el.write_empty()?;
    Ok(())
}

/// RFC 3339, as Atom's date constructs require.
fn date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `s` without the characters XML 1.0 does not allow anywhere, even escaped.
fn xml_chars(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| allowed(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn urns_are_stable_version_8_uuids() {
        let a = urn("storyline:edition:llama-4:2025-W15");
        assert_eq!(a, urn("storyline:edition:llama-4:2025-W15"));
        assert_ne!(a, urn("storyline:edition:llama-4:2025-W16"));
        let hex = a.trim_start_matches("urn:uuid:");
        assert_eq!(hex.len(), 36);
        assert_eq!(&hex[14..15], "8", "{a}");
        assert!(matches!(&hex[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn hostile_text_is_escaped_and_forbidden_characters_dropped() {
        let evil = "<script>alert(\"x\")</script> & \u{1}\u{0}\u{FFFF}'q'";
        let feed = Feed {
            id: "urn:x".into(),
            title: evil.into(),
            subtitle: String::new(),
            updated: at("2025-04-14T08:00:00Z"),
            self_url: "http://127.0.0.1/f?a=1&b=\"2\"".into(),
            page_url: "http://127.0.0.1/".into(),
            entries: vec![Entry {
                id: "urn:y".into(),
                title: evil.into(),
                updated: at("2025-04-14T08:00:00Z"),
                published: None,
                link: None,
                related: vec![("http://a.example/".into(), evil.into())],
                content_html: format!("<p>{evil}</p>"),
            }],
        };
        let xml = String::from_utf8(write(&feed)).unwrap_or_default();
        assert!(!xml.contains("<script"), "{xml}");
        assert!(!xml.contains('\u{1}') && !xml.contains('\u{0}') && !xml.contains('\u{FFFF}'));
        assert!(xml.contains("&lt;script&gt;"), "{xml}");
        assert!(xml.contains("a=1&amp;b=&quot;2&quot;"), "{xml}");
        // Read back, the text is the original minus what XML cannot carry.
        let doc = crate::parse::parse_feed(xml.as_bytes(), None, None);
        let doc = doc.unwrap_or_else(|e| panic!("{e}: {xml}"));
        let want = "<script>alert(\"x\")</script> & 'q'";
        assert_eq!(doc.title.as_deref(), Some(want));
        assert_eq!(doc.entries[0].title.as_deref(), Some(want));
    }
}
