//! Text helpers shared by the feed readers: character references, markup stripping, and the
//! "does this plain text look like HTML" test feedparser applies to RSS text.

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
fn named_entity(name: &str) -> Option<Expansion> {
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

/// Whether the `<` just before `after_lt` opens markup (a tag, a comment, a declaration or a
/// processing instruction) rather than being a literal less-than sign.
fn opens_markup(after_lt: &str) -> bool {
    after_lt
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
}

/// Where the tag whose text (after `<`) is `after_lt` ends: just past its `>`, skipping `>`
/// inside attribute values quoted right after their `=`.
fn tag_end(after_lt: &str) -> Option<usize> {
    let mut quote = None;
    let mut after_equals = false;
    for (i, c) in after_lt.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if after_equals => quote = Some(c),
            (None, '>') => return Some(i + 1),
            _ => {}
        }
        if quote.is_none() && !c.is_whitespace() {
            after_equals = c == '=';
        }
    }
    None
}

/// Elements whose content is not text (feedparser drops it along with the tags).
const NON_TEXT_ELEMENTS: &[&str] = &["script", "style", "applet"];

/// Remove markup from an HTML fragment, keeping its text (references left undecoded); the
/// content of `<script>`, `<style>` and `<applet>` goes too.
pub(crate) fn strip_tags(s: &str) -> Cow<'_, str> {
    if !s.contains('<') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match tag_end(after).filter(|_| opens_markup(after)) {
            Some(end) => {
                rest = &after[end..];
                if let Some(name) = NON_TEXT_ELEMENTS
                    .iter()
                    .find(|n| starts_with_tag_name(after, n))
                {
                    rest = skip_past_end_tag(rest, name);
                }
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn starts_with_tag_name(after_lt: &str, name: &str) -> bool {
    after_lt
        .get(..name.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(name))
        && !after_lt[name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// The text after `</name>` (case-insensitive), or nothing if it never closes.
fn skip_past_end_tag<'s>(s: &'s str, name: &str) -> &'s str {
    let mut rest = s;
    while let Some(pos) = rest.find("</") {
        let after = &rest[pos + 2..];
        if starts_with_tag_name(after, name) {
            return after.find('>').map_or("", |end| &after[end + 1..]);
        }
        rest = after;
    }
    ""
}

/// Collapse whitespace runs to one space and trim the ends.
pub(crate) fn squash_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The plain text of an HTML fragment: tags removed, references decoded, whitespace squashed.
pub(crate) fn html_to_text(s: &str) -> String {
    let stripped = strip_tags(s);
    squash_whitespace(&decode_references(&stripped))
}

/// HTML elements feedparser accepts in content; text whose tags are all from this list and
/// that has an end tag or a reference "looks like HTML".
const KNOWN_HTML_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "big",
    "blockquote",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "command",
    "datagrid",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "event-source",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "keygen",
    "label",
    "legend",
    "li",
    "m",
    "map",
    "menu",
    "meter",
    "multicol",
    "nav",
    "nextid",
    "noscript",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "pre",
    "progress",
    "q",
    "s",
    "samp",
    "section",
    "select",
    "small",
    "sound",
    "source",
    "spacer",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
];

/// feedparser's test for plain-typed RSS text that is really HTML: it has an end tag or a
/// character reference, every tag in it is a known HTML element, and every named reference is
/// a known entity.
pub(crate) fn looks_like_html(s: &str) -> bool {
    let has_end_tag = s.match_indices("</").any(|(i, _)| {
        let name = word_at(&s[i + 2..]);
        !name.is_empty() && s[i + 2 + name.len()..].starts_with('>')
    });
    let has_reference = s.match_indices('&').any(|(i, _)| {
        let after = s[i + 1..].strip_prefix('#').unwrap_or(&s[i + 1..]);
        let name = word_at(after);
        !name.is_empty() && after[name.len()..].starts_with(';')
    });
    if !has_end_tag && !has_reference {
        return false;
    }
    let tags_known = s.match_indices('<').all(|(i, _)| {
        let after = s[i + 1..].strip_prefix('/').unwrap_or(&s[i + 1..]);
        let name = word_at(after);
        name.is_empty() || KNOWN_HTML_ELEMENTS.contains(&name.to_ascii_lowercase().as_str())
    });
    let entities_known = s.match_indices('&').all(|(i, _)| {
        let name = word_at(&s[i + 1..]);
        name.is_empty() || !s[i + 1 + name.len()..].starts_with(';') || named_entity(name).is_some()
    });
    tags_known && entities_known
}

/// The run of word characters (letters, digits, `_`) at the start of `s`.
fn word_at(s: &str) -> &str {
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

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text("<b>Tom</b> &amp;\n <i>Jerry</i>"),
            "Tom & Jerry"
        );
        assert_eq!(html_to_text("a < b"), "a < b");
        assert_eq!(html_to_text("<img src=\"x.jpg\" />"), "");
        assert_eq!(
            html_to_text("<img alt=\"a<br />b\" src=\"x\">after"),
            "after"
        );
        assert_eq!(
            html_to_text("safe<script>alert(1);</script><STYLE>p{}</STYLE>!"),
            "safe!"
        );
        assert_eq!(html_to_text("x<script>never closed"), "x");
        assert_eq!(html_to_text("<scripted>kept</scripted>"), "kept");
        assert_eq!(html_to_text("<a href=http://e.org/\">x</a>"), "x");
    }

    #[test]
    fn looks_like_html_follows_feedparser() {
        assert!(looks_like_html("<b>bold</b>"));
        assert!(looks_like_html("Tom &amp; Jerry"));
        assert!(!looks_like_html("plain title"));
        assert!(!looks_like_html("<b>no end tag"));
        assert!(!looks_like_html("<madeup>x</madeup>"));
        assert!(!looks_like_html("safe<script>x</script>"));
        assert!(!looks_like_html("&madeup; entity"));
        assert!(!looks_like_html("a <3 b &amp; c"));
    }
}
