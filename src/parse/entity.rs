//! Character and entity references: `&amp;`, `&#38;`, `&#x26;` and every HTML5 named entity
//! (html5ever's table; quick-xml's optional one maps 444 of its names to wrong characters).

use std::borrow::Cow;

/// Longest entity name we look up; anything longer is not a reference.
const MAX_REFERENCE_LEN: usize = 32;

/// Decode one reference body (the part between `&` and `;`): `amp`, `#38`, `#x26`, or any HTML5
/// named entity. `None` when it is not a reference we know.
pub(crate) fn resolve_reference(name: &str) -> Option<Expansion> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        // NUL and surrogates are not characters; feedparser drops such references as well.
        let ch = char::from_u32(code).filter(|&c| c != '\0')?;
        return Some(Expansion(ch, None));
    }
    named_entity(name)
}

/// The HTML5 named entities, from html5ever's table (the keys end with `;`).
pub(crate) fn named_entity(name: &str) -> Option<Expansion> {
    // Build "name;" on the stack: this runs for every reference in a repaired feed.
    let mut key = [0u8; MAX_REFERENCE_LEN + 1];
    let len = name.len();
    if len == 0 || len > MAX_REFERENCE_LEN {
        return None;
    }
    key[..len].copy_from_slice(name.as_bytes());
    key[len] = b';';
    let key = std::str::from_utf8(&key[..=len]).ok()?;
    let &(first, second) = markup5ever::data::NAMED_ENTITIES.get(key)?;
    // The table also lists every prefix of every name, mapped to 0.
    let first = char::from_u32(first).filter(|&c| c != '\0')?;
    Some(Expansion(
        first,
        char::from_u32(second).filter(|&c| c != '\0'),
    ))
}

/// What a reference stands for: one character, or two for a few HTML5 entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expansion(char, Option<char>);

impl Expansion {
    /// Append the characters to `out`.
    pub(crate) fn push_to(self, out: &mut String) {
        out.push(self.0);
        if let Some(c) = self.1 {
            out.push(c);
        }
    }
}

/// Whether `text` uses an entity reference beyond XML's five (`&hellip;`), which strict XML
/// readers cannot expand. CDATA sections are skipped: `&nbsp;` there is literal text.
pub(crate) fn has_non_xml_entities(text: &str) -> bool {
    let bytes = text.as_bytes();
    let cdata_open = memchr::memmem::Finder::new(b"<![CDATA[");
    let cdata_close = memchr::memmem::Finder::new(b"]]>");
    let mut pos = 0;
    while pos < bytes.len() {
        let segment_end = cdata_open
            .find(&bytes[pos..])
            .map_or(bytes.len(), |i| pos + i);
        if segment_has_entities(&text[pos..segment_end]) {
            return true;
        }
        pos = cdata_close
            .find(&bytes[segment_end..])
            .map_or(bytes.len(), |i| segment_end + i + 3);
    }
    false
}

fn segment_has_entities(segment: &str) -> bool {
    memchr::memchr_iter(b'&', segment.as_bytes()).any(|i| {
        let after = &segment[i + 1..];
        let name = word_at(after);
        !name.is_empty()
            && after[name.len()..].starts_with(';')
            && !matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
    })
}

/// Decode character and entity references; a `&` that starts no known reference stays as is.
pub(crate) fn decode_references(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let resolved = after
            .find(';')
            .filter(|&end| end > 0 && end <= MAX_REFERENCE_LEN)
            .and_then(|end| resolve_reference(&after[..end]).map(|r| (r, end)));
        match resolved {
            Some((chars, end)) => {
                chars.push_to(&mut out);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The run of word characters (letters, digits, `_`) at the start of `s`.
pub(crate) fn word_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_decode_named_numeric_and_hex() {
        assert_eq!(decode_references("a &amp; b"), "a & b");
        assert_eq!(decode_references("&hellip;&#8217;&#x2019;&#X41;"), "…’’A");
        assert_eq!(
            decode_references("&scaron;&Alpha;&epsilon;&lang;"),
            "šΑε\u{27e8}"
        );
        assert_eq!(decode_references("&NotEqualTilde;"), "\u{2242}\u{338}");
        assert_eq!(decode_references("caf&eacute;"), "café");
    }

    #[test]
    fn unknown_or_bare_ampersands_stay() {
        assert_eq!(decode_references("AT&T & co"), "AT&T & co");
        assert_eq!(decode_references("&nosuchentity;"), "&nosuchentity;");
        assert_eq!(decode_references("&am;"), "&am;");
        assert_eq!(decode_references("&#0;&#xD800;"), "&#0;&#xD800;");
        assert_eq!(decode_references("trailing &"), "trailing &");
    }

    #[test]
    fn spots_entities_strict_xml_lacks() {
        assert!(has_non_xml_entities("a &hellip; b"));
        assert!(!has_non_xml_entities(
            "a &amp; b &#8230; &#x2026; &lt; AT&T"
        ));
    }
}
