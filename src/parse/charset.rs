//! Bytes to text: which character encoding a feed is in, and decoding it to UTF-8.
//!
//! Evidence is weighed in this order, strongest first:
//! 1. a byte-order mark (UTF-8, UTF-16, UTF-32);
//! 2. the null-byte pattern of UTF-16/32 text without a BOM (`00 3C 00 3F` is `<?` in UTF-16BE);
//! 3. the HTTP `Content-Type` charset;
//! 4. the XML declaration's `encoding`;
//! 5. UTF-8, then windows-1252 (which decodes any byte), as feedparser falls back.
//!
//! A declared encoding (3, 4) is tried only if the bytes decode in it without error, so a
//! mislabelled feed still reads; a declared UTF-16/32 on bytes without nulls is ignored, since
//! the declaration itself could not have been read that way.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// Text decoded from a feed body, with the XML declaration (if any) already skipped.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    text: Cow<'a, str>,
    start: usize,
    /// Name of the encoding the bytes were read in.
    pub encoding: &'static str,
}

impl Decoded<'_> {
    /// The document from its first byte after a BOM and the XML declaration.
    pub(crate) fn text(&self) -> &str {
        self.text.get(self.start..).unwrap_or_default()
    }
}

/// UTF-32 is not in the WHATWG set `encoding_rs` implements, so it is decoded by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Utf32 {
    Be,
    Le,
}

/// Decode `body` to UTF-8 text, weighing the evidence as the module docs describe.
pub(crate) fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let (text, encoding) = decode_text(body, content_type);
    // The declaration is skipped, not rewritten: the text is UTF-8 now whatever it names, and
    // feed-rs would otherwise decode it a second time by the declared name.
    let start = declaration_span(&text).map_or(0, |span| span.end);
    Decoded {
        text,
        start,
        encoding,
    }
}

fn decode_text<'a>(body: &'a [u8], content_type: Option<&str>) -> (Cow<'a, str>, &'static str) {
    if let Some((utf32, bom_len)) = utf32_bom(body) {
        return (
            Cow::Owned(decode_utf32(&body[bom_len..], utf32)),
            utf32.name(),
        );
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let (text, _) = encoding.decode_without_bom_handling(&body[bom_len..]);
        return (text, encoding.name());
    }
    match sniff_nulls(body) {
        Some(Sniffed::Utf32(utf32)) => {
            return (Cow::Owned(decode_utf32(body, utf32)), utf32.name());
        }
        Some(Sniffed::Utf16(encoding)) => {
            let (text, _) = encoding.decode_without_bom_handling(body);
            return (text, encoding.name());
        }
        None => {}
    }
    let declared = [
        content_type.and_then(http_charset),
        prolog_encoding_label(body),
    ];
    let candidates = declared
        .into_iter()
        .flatten()
        .filter_map(|label| Encoding::for_label(label.trim().as_bytes()))
        .filter(usable_for_ascii_bytes)
        .chain([UTF_8]);
    for encoding in candidates {
        if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(body) {
            return (text, encoding.name());
        }
    }
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(body);
    (text, WINDOWS_1252.name())
}

/// Encodings a label may name for bytes that are ASCII-compatible (no null pattern found).
fn usable_for_ascii_bytes(encoding: &&'static Encoding) -> bool {
    let e = *encoding;
    // "replacement" would turn the whole feed into U+FFFD; UTF-16 cannot be what the bytes are.
    e != encoding_rs::REPLACEMENT && e != UTF_16LE && e != UTF_16BE
}

impl Utf32 {
    fn name(self) -> &'static str {
        match self {
            Utf32::Be => "UTF-32BE",
            Utf32::Le => "UTF-32LE",
        }
    }
}

fn utf32_bom(body: &[u8]) -> Option<(Utf32, usize)> {
    match body {
        [0x00, 0x00, 0xFE, 0xFF, ..] => Some((Utf32::Be, 4)),
        [0xFF, 0xFE, 0x00, 0x00, ..] => Some((Utf32::Le, 4)),
        _ => None,
    }
}

enum Sniffed {
    Utf16(&'static Encoding),
    Utf32(Utf32),
}

/// Recognise BOM-less UTF-16/32 by where the nulls fall in the first four bytes (XML starts
/// with an ASCII character, so one of each code unit's bytes is zero).
fn sniff_nulls(body: &[u8]) -> Option<Sniffed> {
    match body {
        [0, 0, 0, a, ..] if *a != 0 => Some(Sniffed::Utf32(Utf32::Be)),
        [a, 0, 0, 0, ..] if *a != 0 => Some(Sniffed::Utf32(Utf32::Le)),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some(Sniffed::Utf16(UTF_16BE)),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some(Sniffed::Utf16(UTF_16LE)),
        _ => None,
    }
}

fn decode_utf32(bytes: &[u8], order: Utf32) -> String {
    bytes
        .chunks_exact(4)
        .map(|c| {
            let quad = [c[0], c[1], c[2], c[3]];
            let code = match order {
                Utf32::Be => u32::from_be_bytes(quad),
                Utf32::Le => u32::from_le_bytes(quad),
            };
            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect()
}

/// The `charset` parameter of a `Content-Type` header value.
pub(crate) fn http_charset(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']))
            .filter(|v| !v.is_empty())
    })
}

/// The `encoding` named by an XML declaration at the start of ASCII-compatible bytes.
fn prolog_encoding_label(body: &[u8]) -> Option<&str> {
    let head = &body[..body.len().min(1024)];
    let head = match std::str::from_utf8(head) {
        Ok(s) => s,
        // Cut inside a multi-byte sequence or past the declaration into legacy bytes: the
        // declaration itself is ASCII, so the valid prefix holds it.
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    let decl = declaration_span(head)?;
    pseudo_attribute(&head[decl.clone()], "encoding")
}

/// Byte range of a leading `<?xml ...?>` declaration (after optional whitespace).
fn declaration_span(text: &str) -> Option<std::ops::Range<usize>> {
    let lead = text.len() - text.trim_start().len();
    let rest = &text.as_bytes()[lead..];
    let is_decl = rest.len() > 5
        && rest[..5].eq_ignore_ascii_case(b"<?xml")
        && (rest[5].is_ascii_whitespace() || rest[5] == b'?');
    if !is_decl {
        return None;
    }
    let end = text[lead..].find("?>")?;
    Some(lead..lead + end + 2)
}

/// The value of `name="..."` (or single-quoted) inside an XML declaration.
fn pseudo_attribute<'t>(decl: &'t str, name: &str) -> Option<&'t str> {
    let mut rest = decl;
    while let Some(pos) = rest.find(name) {
        let after = rest[pos + name.len()..].trim_start();
        if let Some(after) = after.strip_prefix('=') {
            let after = after.trim_start();
            let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let value = &after[1..];
            let end = value.find(quote)?;
            return Some(&value[..end]);
        }
        rest = &rest[pos + name.len()..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss><t>caf\u{e9}</t></rss>";

    fn latin1(s: &str) -> Vec<u8> {
        s.chars().map(|c| c as u32 as u8).collect()
    }

    fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend(if big_endian {
                [0xFE, 0xFF]
            } else {
                [0xFF, 0xFE]
            });
        }
        for unit in s.encode_utf16() {
            out.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn prolog_encoding_is_applied_and_the_declaration_skipped() {
        let body = latin1(DOC);
        let d = decode(&body, None);
        assert_eq!(d.text(), "<rss><t>café</t></rss>");
        assert_eq!(d.encoding, "windows-1252");
    }

    #[test]
    fn http_charset_beats_the_prolog() {
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><t>\u{0439}</t>";
        let bytes = encoding_rs::KOI8_R.encode(body).0.into_owned();
        let d = decode(&bytes, Some("application/rss+xml; charset=\"KOI8-R\""));
        assert_eq!(d.encoding, "KOI8-R");
        assert_eq!(d.text(), "<t>й</t>");
    }

    #[test]
    fn bom_beats_http_charset_and_prolog() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend(DOC.as_bytes());
        let d = decode(&bytes, Some("text/xml; charset=windows-1251"));
        assert_eq!(d.encoding, "UTF-8");
        assert_eq!(d.text(), "<rss><t>café</t></rss>");
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss>\u{e9}</rss>";
        for big_endian in [true, false] {
            for bom in [true, false] {
                let body = utf16(doc, big_endian, bom);
                let d = decode(&body, Some("text/xml; charset=utf-8"));
                assert_eq!(d.text(), "<rss>é</rss>", "be={big_endian} bom={bom}");
            }
        }
    }

    #[test]
    fn utf32_with_and_without_bom() {
        let doc = "<?xml version=\"1.0\"?><rss>\u{1F999}</rss>";
        let be: Vec<u8> = doc.chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        let le: Vec<u8> = doc.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
        let mut be_bom = vec![0, 0, 0xFE, 0xFF];
        be_bom.extend(&be);
        for bytes in [be, le, be_bom] {
            assert_eq!(decode(&bytes, None).text(), "<rss>\u{1F999}</rss>");
        }
    }

    #[test]
    fn undeclared_legacy_bytes_fall_back_to_windows_1252() {
        let d = decode(b"<rss><t>\x93quoted\x94 caf\xe9</t></rss>", None);
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(d.text(), "<rss><t>\u{201c}quoted\u{201d} café</t></rss>");
    }

    #[test]
    fn a_wrong_utf8_declaration_falls_back_too() {
        let body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><t>caf\xe9</t>";
        assert_eq!(decode(body, None).text(), "<t>café</t>");
    }

    #[test]
    fn a_utf16_label_on_ascii_bytes_is_ignored() {
        let body = b"<?xml version=\"1.0\" encoding=\"utf-16\"?><rss>ok</rss>";
        let d = decode(body, Some("text/xml; charset=utf-16"));
        assert_eq!(d.text(), "<rss>ok</rss>");
        assert_eq!(d.encoding, "UTF-8");
    }

    #[test]
    fn valid_utf8_is_borrowed_not_copied() {
        let body = "<rss>caf\u{e9}</rss>".as_bytes();
        let d = decode(body, None);
        assert!(matches!(d.text, Cow::Borrowed(_)));
    }

    #[test]
    fn http_charset_parameter_parsing() {
        assert_eq!(http_charset("text/xml; Charset=UTF-8"), Some("UTF-8"));
        assert_eq!(http_charset("text/xml;charset='latin1'"), Some("latin1"));
        assert_eq!(http_charset("text/xml"), None);
        assert_eq!(http_charset("text/xml; charset="), None);
    }
}
