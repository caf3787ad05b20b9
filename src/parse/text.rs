//! Text helpers shared by the feed readers: markup stripping, whitespace, and the "does this
//! plain text look like HTML" test feedparser applies to RSS text.

use std::borrow::Cow;

use super::entity::{decode_references, named_entity, word_at};

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
    // A bound on the scan keeps text full of unclosed '<' linear rather than quadratic.
    for (i, c) in after_lt
        .char_indices()
        .take_while(|&(i, _)| i < MAX_TAG_LEN)
    {
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

/// Longest tag `strip_tags` recognises.
const MAX_TAG_LEN: usize = 2048;

/// Elements whose content is not text (feedparser drops it along with the tags).
const NON_TEXT_ELEMENTS: &[&str] = &["script", "style", "applet"];

/// Remove markup from an HTML fragment, keeping its text (references left undecoded); the
/// content of `<script>`, `<style>` and `<applet>` goes too.
pub(crate) fn strip_tags(s: &str) -> Cow<'_, str> {
    strip_markup(s, "")
}

/// The words of an HTML fragment, fast: tags become spaces (so "<p>a</p><p>b</p>" reads as
/// two words), references are decoded, whitespace is squashed. A scan, not a parse: what
/// story matching reads of a body needs words, not a document.
pub fn html_words(s: &str, max_bytes: usize) -> String {
    let s = cut(s, max_bytes);
    let stripped = strip_markup(s, " ");
    squash_whitespace(&decode_references(&stripped))
}

fn strip_markup<'s>(s: &'s str, tag_as: &str) -> Cow<'s, str> {
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
                out.push_str(tag_as);
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

/// Longest fragment `html_to_text` reads.
const MAX_TEXT_LEN: usize = 64 * 1024;

/// `s` cut to at most `max` bytes, at a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
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
/// Meant for titles: the input is cut at 64 KiB first, which no real title reaches.
pub(crate) fn html_to_text(s: &str) -> String {
    let s = cut(s, MAX_TEXT_LEN);
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let hostile = "<a x='".repeat(200_000);
        assert!(html_to_text(&hostile).len() <= MAX_TEXT_LEN);
        assert_eq!(cut("caf\u{e9}", 4), "caf");
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
