//! The feed parse: decode, sniff, then feed-rs, directly when the document is plain RSS 2.0 or
//! Atom 1.0 and feed-rs reads it completely, through the repair pass otherwise.

use std::panic::{catch_unwind, AssertUnwindSafe};

use url::Url;

use super::charset;
use super::convert::convert;
use super::entity::has_non_xml_entities;
use super::json::parse_json_feed;
use super::repair::repair;
use super::sniff::{feed_root_after_junk, sniff, Kind, Sniffed};
use super::{Document, Format, ParseError};

/// Parse a feed body. `content_type` is the HTTP header when there is one; `base` resolves
/// relative links.
///
/// Never panics: the whole parse runs under `catch_unwind`, and a panic in a dependency is
/// reported as [`ParseError::Malformed`].
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
) -> Result<Document, ParseError> {
    catch_unwind(AssertUnwindSafe(|| {
        parse_unguarded(body, content_type, base, Route::Fastest)
    }))
    .unwrap_or_else(|_| {
        Err(ParseError::Malformed(
            "the parser gave up on this document".into(),
        ))
    })
}

/// Which way a document may take to feed-rs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Straight to feed-rs when it can read the document whole, else through the repair pass.
    Fastest,
    /// Always through the repair pass (tests compare the two routes).
    #[cfg(test)]
    Repair,
}

/// The parse without its panic guard (tests call it to prove nothing panics inside).
pub(crate) fn parse_unguarded(
    body: &[u8],
    content_type: Option<&str>,
    base: Option<&Url>,
    route: Route,
) -> Result<Document, ParseError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let decoded = charset::decode(body, content_type);
    tracing::trace!(encoding = decoded.encoding, "decoded feed body");
    let mut text = decoded.text();
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let mut sniffed = sniff(text);
    if matches!(sniffed.kind, Kind::OtherXml | Kind::Text) {
        if let Some(at) = feed_root_after_junk(text) {
            text = &text[at..];
            sniffed = sniff(text);
        }
    }
    let format = match sniffed.kind {
        Kind::Json => return parse_json_feed(text, base),
        Kind::Html => return Err(ParseError::HtmlPage),
        Kind::Text => return Err(ParseError::NotAFeed("no markup found".into())),
        Kind::OtherXml => {
            return Err(ParseError::NotAFeed(format!(
                "root element <{}>",
                sniffed.root.chars().take(40).collect::<String>()
            )))
        }
        Kind::Rss => Format::Rss,
        Kind::Rdf => Format::Rdf,
        Kind::Atom => Format::Atom,
    };
    if route == Route::Fastest && direct_candidate(text, &sniffed) {
        if let Ok(feed) = run_feed_rs(text, base) {
            if complete(text, sniffed.kind, &feed) {
                return Ok(convert(feed, format, base));
            }
        }
    }
    let canonical = repair(text, base, format)?;
    let feed = run_feed_rs(&canonical, None)
        .map_err(|e| ParseError::Malformed(format!("after repair: {e}")))?;
    Ok(convert(feed, format, base))
}

/// Whether feed-rs may read `text` as it is: a dialect it knows, in a shape it reads
/// (`Sniffed::feed_rs_ready`), with no entity it cannot expand and no XML declaration past
/// the start. Its result is still checked by `complete`.
fn direct_candidate(text: &str, sniffed: &Sniffed<'_>) -> bool {
    sniffed.feed_rs_ready() && !has_non_xml_entities(text) && !has_stray_declaration(text)
}

/// Whether `body` takes the direct route to feed-rs (tests check that it is the common one).
#[cfg(test)]
pub(crate) fn takes_direct_route(body: &[u8]) -> bool {
    let decoded = charset::decode(body, None);
    let text = decoded.text();
    let sniffed = sniff(text);
    direct_candidate(text, &sniffed)
        && run_feed_rs(text, None).is_ok_and(|feed| complete(text, sniffed.kind, &feed))
}

/// feed-rs on `text`; a panic inside it (quick-xml asserts on some inputs) is an error like any
/// other, so the direct route falls back to the repair pass.
fn run_feed_rs(text: &str, base: Option<&Url>) -> Result<feed_rs::model::Feed, String> {
    let parse = || {
        feed_rs::parser::Builder::new()
            .sanitize_content(false)
            .base_uri(base.map(Url::as_str))
            // Identity is decided in `convert` (guid/id, else link, else a hash of title and
            // date); feed-rs would otherwise invent a random one.
            .id_generator(|_, _, _| String::new())
            // Every date element goes through the one lenient reader, which reads what
            // feed-rs's own does and the many forms it does not (feedparser's).
            .timestamp_parser(super::date::parse_date)
            .build()
            .parse(text.as_bytes())
            .map_err(|e| e.to_string())
    };
    catch_unwind(AssertUnwindSafe(parse))
        .unwrap_or_else(|_| Err("feed-rs gave up on this document".to_string()))
}

/// An XML declaration past the start makes quick-xml switch decoders mid-stream (and assert).
fn has_stray_declaration(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, b"<?xml").any(|at| {
        bytes
            .get(at + 5)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'?')
    })
}

/// Whether feed-rs read everything feedparser would: one entry per item/entry start tag
/// (outside CDATA and comments), titles that are text (feed-rs keeps only the text before a
/// title's first child element), no key element in a case feed-rs does not match (feedparser
/// reads `<ITEM>` and `<Title>` too), no Atom-style `<link href>` in RSS (feed-rs reads RSS
/// links from their text only), no `<dc:title>`, and no Media RSS title feed-rs may have missed.
fn complete(text: &str, kind: Kind, feed: &feed_rs::model::Feed) -> bool {
    let bytes = text.as_bytes();
    let mut entries = 0;
    let mut pos = 0;
    while let Some(at) = memchr::memchr(b'<', &bytes[pos..]).map(|i| pos + i) {
        let rest = &bytes[at + 1..];
        pos = at + 1;
        if rest.starts_with(b"![CDATA[") {
            match memchr::memmem::find(rest, b"]]>") {
                Some(end) => pos += end + 3,
                None => return false,
            }
            continue;
        }
        if rest.starts_with(b"!--") {
            match memchr::memmem::find(rest, b"-->") {
                Some(end) => pos += end + 3,
                None => return false,
            }
            continue;
        }
        if is_tag(rest, "dc:title") {
            // feedparser titles entries by Dublin Core too; feed-rs does not read it.
            return false;
        }
        let Some(name) = KEY_TAGS.iter().find(|name| is_tag(rest, name)) else {
            continue;
        };
        if !rest.starts_with(name.as_bytes()) {
            return false;
        }
        let after_name = &rest[name.len()..];
        match *name {
            "item" | "entry" => entries += 1,
            "title" if !title_is_text(after_name) => return false,
            "link" if kind == Kind::Rss && tag_has_href(after_name) => return false,
            _ => {}
        }
    }
    // feed-rs keeps a Media RSS title only with a <media:content>; the repair pass finds every
    // one, for entries that lack a title of their own.
    let untitled = feed.entries.iter().any(|e| e.title.is_none());
    entries == feed.entries.len()
        && !(untitled && memchr::memmem::find(bytes, b"<media:title").is_some())
}

/// Elements whose spelling decides what feed-rs reads.
const KEY_TAGS: &[&str] = &["item", "entry", "title", "link"];

/// Whether `rest` (the text after a `<`) opens the element `name`, in any letter case.
fn is_tag(rest: &[u8], name: &str) -> bool {
    rest.len() > name.len()
        && rest[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        && matches!(rest[name.len()], b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')
}

fn tag_has_href(after_name: &[u8]) -> bool {
    let tag = &after_name[..memchr::memchr(b'>', after_name).unwrap_or(after_name.len())];
    memchr::memmem::find(tag, b"href").is_some()
}

/// Whether a title's content (the text after `<title`) is text: CDATA sections are text to
/// feed-rs, markup anywhere else is not.
fn title_is_text(after_name: &[u8]) -> bool {
    let Some(open_end) = memchr::memchr(b'>', after_name) else {
        return false;
    };
    if after_name[..open_end].ends_with(b"/") {
        return true;
    }
    let inner = &after_name[open_end + 1..];
    let mut inner = &inner[..memchr::memmem::find(inner, b"</title").unwrap_or(inner.len())];
    loop {
        match memchr::memchr(b'<', inner) {
            None => return true,
            Some(lt) if inner[lt..].starts_with(b"<![CDATA[") => {
                match memchr::memmem::find(&inner[lt..], b"]]>") {
                    Some(end) => inner = &inner[lt + end + 3..],
                    None => return false,
                }
            }
            Some(_) => return false,
        }
    }
}
