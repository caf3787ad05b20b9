//! Feed HTML made safe and short: ammonia cleans it before anything else looks at it, then it
//! is flattened to text and cut to a two-sentence excerpt.

use std::collections::HashSet;

use scraper::{Html, Node};
use unicode_segmentation::UnicodeSegmentation;

use crate::parse::cut;

/// Excerpts stop near this many characters.
pub const EXCERPT_CHARS: usize = 300;

/// Feed bodies can be whole articles; two sentences never need more than this much markup, and
/// capping it keeps a digest over a big week cheap. Cutting HTML mid-tag is harmless: the parser
/// closes or drops what is left open.
const MAX_HTML_BYTES: usize = 16 * 1024;

/// Tags removed together with everything inside them: code, embedded documents and widgets
/// whose inner text is never prose a reader should see.
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "form", "noscript", "template", "svg", "math",
    "textarea", "select", "button", "frameset", "frame", "applet", "title",
];

/// Elements after which text must not run on into the next word.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

/// Abbreviations that end in a period without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "prof.", "sr.", "jr.", "st.", "inc.", "corp.", "co.", "ltd.",
    "vs.", "e.g.", "i.e.", "etc.", "no.", "approx.", "est.", "jan.", "feb.", "mar.", "apr.",
    "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec.",
];

/// An ammonia configuration for feed HTML, built once and reused for every item.
pub struct Sanitizer {
    builder: ammonia::Builder<'static>,
}

impl Default for Sanitizer {
    fn default() -> Self {
        Sanitizer::new()
    }
}

impl Sanitizer {
    /// Scripts, styles, frames, objects, forms and images go; so do every `on*` and `style`
    /// attribute (ammonia only keeps listed attributes) and every URL scheme but http(s) and
    /// mailto. Links get `rel="noopener noreferrer"`.
    pub fn new() -> Sanitizer {
        let mut builder = ammonia::Builder::default();
        // Images in mail are remote fetches (tracking pixels); the digest loads nothing remote.
        builder.rm_tags(["img"]);
        let drop: HashSet<&'static str> = DROP_WITH_CONTENT.iter().copied().collect();
        // ammonia panics if a tag is both allowed and dropped with its content.
        builder.rm_tags(DROP_WITH_CONTENT.iter().copied());
        builder.clean_content_tags(drop);
        builder.url_schemes(["http", "https", "mailto"].into_iter().collect());
        builder.url_relative(ammonia::UrlRelative::Deny);
        builder.link_rel(Some("noopener noreferrer"));
        builder.strip_comments(true);
        Sanitizer { builder }
    }

    /// Clean untrusted HTML into HTML that is safe to show.
    pub fn clean_html(&self, html: &str) -> String {
        self.builder.clean(cut(html, MAX_HTML_BYTES)).to_string()
    }

    /// Clean untrusted HTML and flatten it to one line of plain text.
    pub fn to_text(&self, html: &str) -> String {
        html_to_text(&self.clean_html(html))
    }

    /// The excerpt for a development: sanitized, flattened, two sentences, cut near
    /// [`EXCERPT_CHARS`] at a word boundary with "…".
    pub fn excerpt(&self, html: &str) -> String {
        excerpt_text(&self.to_text(html), EXCERPT_CHARS)
    }
}

/// Plain text of (already sanitized) HTML, whitespace collapsed, entities decoded.
fn html_to_text(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    let mut out = String::new();
    for node in doc.tree.root().descendants() {
        match node.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) if BLOCKS.contains(&e.name()) => out.push(' '),
            _ => {}
        }
    }
    collapse_whitespace(&out)
}

/// Collapse runs of whitespace (including non-breaking spaces) into single spaces.
pub fn collapse_whitespace(s: &str) -> String {
    s.split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first two sentences of `text`, cut at a word boundary near `max_chars` characters.
pub fn excerpt_text(text: &str, max_chars: usize) -> String {
    let sentences = first_sentences(text, 2);
    cut_at_word(sentences.trim(), max_chars)
}

/// The first `n` sentences, not splitting after abbreviations or initials ("Dr.", "U.S.").
fn first_sentences(text: &str, n: usize) -> &str {
    let mut end = 0;
    let mut found = 0;
    for (start, piece) in text.split_sentence_bound_indices() {
        end = start + piece.len();
        if !ends_in_abbreviation(piece) {
            found += 1;
            if found == n {
                break;
            }
        }
    }
    &text[..end]
}

fn ends_in_abbreviation(piece: &str) -> bool {
    let Some(last) = piece.split_whitespace().last() else {
        return false;
    };
    let word = last.trim_start_matches(['(', '"', '\'', '“', '‘']);
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    // Initials and dotted acronyms: "J.", "U.S.", "A.I."
    !word.is_empty()
        && word.ends_with('.')
        && word
            .split('.')
            .filter(|p| !p.is_empty())
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_uppercase))
}

/// `s` if it fits in `max_chars`, else its longest prefix ending at a word boundary, with "…".
pub fn cut_at_word(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let limit = s.char_indices().nth(max_chars).map_or(s.len(), |(i, _)| i);
    let head = &s[..limit];
    // Cut at the last space when there is one in the second half; a single giant "word" (a
    // URL) is cut where it stands rather than dropped whole.
    let cut = match head.rfind(' ') {
        Some(i) if i >= limit / 2 => &head[..i],
        _ => head,
    };
    let cut = cut.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '—' | '(' | '.')
    });
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        Sanitizer::new().clean_html(html)
    }

    #[test]
    fn script_tags_and_their_content_are_removed() {
        let out = clean("<p>Hi<script>alert(1)</script></p><SCRIPT SRC=//x.js></SCRIPT>");
        assert_eq!(out, "<p>Hi</p>");
    }

    #[test]
    fn event_handlers_and_images_are_removed() {
        let out = clean(r#"<img src=x onerror="alert(1)"><b onmouseover=alert(1)>bold</b>"#);
        assert!(
            !out.contains("onerror") && !out.contains("onmouseover"),
            "{out}"
        );
        assert!(!out.contains("<img"), "{out}");
        assert_eq!(out, "<b>bold</b>");
    }

    #[test]
    fn javascript_and_data_urls_are_removed() {
        for href in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "jav&#x09;ascript:alert(1)",
            "jav&#x0A;ascript:alert(1)",
            "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            " javascript:alert(1)",
            "vbscript:msgbox(1)",
        ] {
            let out = clean(&format!(r#"<a href="{href}">x</a>"#));
            assert!(!out.contains("href"), "{href} survived as {out}");
            assert!(!out.to_lowercase().contains("script:"), "{out}");
        }
    }

    #[test]
    fn links_keep_http_and_get_noopener() {
        let out = clean(r#"<a href="https://example.org/a" target="_blank">x</a>"#);
        assert!(out.contains(r#"href="https://example.org/a""#), "{out}");
        assert!(out.contains(r#"rel="noopener noreferrer""#), "{out}");
    }

    #[test]
    fn relative_links_are_dropped_because_they_cannot_resolve_in_mail() {
        let out = clean(r#"<a href="/local">x</a>"#);
        assert!(!out.contains("href"), "{out}");
    }

    #[test]
    fn svg_iframe_object_form_and_styles_are_removed() {
        let out = clean(
            r#"<svg onload=alert(1)><text>svg</text></svg><iframe src="https://evil"></iframe>
               <object data="x.swf"></object><embed src="x"><form action="/"><input></form>
               <p style="background:url(javascript:alert(1));width:expression(alert(1))">t</p>
               <style>@import url(https://evil/x.css);</style><link rel=stylesheet href=https://e/x.css>"#,
        );
        for bad in [
            "svg",
            "onload",
            "iframe",
            "object",
            "embed",
            "form",
            "input",
            "style",
            "expression",
            "link",
            "evil",
            "@import",
        ] {
            assert!(!out.contains(bad), "{bad} survived in {out}");
        }
        assert!(out.contains("<p>t</p>"), "{out}");
    }

    #[test]
    fn text_separates_blocks_and_decodes_entities() {
        let s = Sanitizer::new();
        assert_eq!(
            s.to_text(
                "<p>One&nbsp;&amp; two.</p><p>Three<br>four</p><ul><li>a</li><li>b</li></ul>"
            ),
            "One & two. Three four a b"
        );
        assert_eq!(
            s.to_text("<p>Hi<script>alert('x')</script> there</p>"),
            "Hi there"
        );
        assert_eq!(s.to_text("plain &lt;b&gt; text"), "plain <b> text");
    }

    #[test]
    fn excerpt_keeps_two_sentences() {
        let s = Sanitizer::new();
        let html = "<p>Meta said on Thursday it would delay Behemoth. Engineers struggled to \
                    improve it. A third sentence is dropped.</p>";
        assert_eq!(
            s.excerpt(html),
            "Meta said on Thursday it would delay Behemoth. Engineers struggled to improve it."
        );
    }

    #[test]
    fn excerpt_does_not_split_after_abbreviations_or_initials() {
        let text = "Dr. Smith of Meta Inc. met U.S. officials. They agreed. Then more.";
        assert_eq!(
            excerpt_text(text, 300),
            "Dr. Smith of Meta Inc. met U.S. officials. They agreed."
        );
    }

    #[test]
    fn long_excerpt_is_cut_at_a_word_boundary_with_an_ellipsis() {
        let text = "word ".repeat(100);
        let out = excerpt_text(&text, 300);
        assert!(out.ends_with("word…"), "{out}");
        assert!(out.chars().count() <= 301);
        let giant = "x".repeat(400);
        assert_eq!(excerpt_text(&giant, 300).chars().count(), 301);
    }

    #[test]
    fn cutting_respects_multibyte_characters() {
        let text = "é".repeat(500);
        let out = cut_at_word(&text, 10);
        assert_eq!(out, format!("{}…", "é".repeat(10)));
        assert_eq!(cut("aé", 2), "a");
    }

    #[test]
    fn huge_and_broken_html_never_panics() {
        let s = Sanitizer::new();
        let mut html = "<div><p>Start. ".repeat(5000);
        html.push_str("<a href='");
        assert!(s.excerpt(&html).starts_with("Start. Start."));
        assert_eq!(s.excerpt(""), "");
        assert_eq!(s.excerpt("<<<>>>&&&;"), "<<<>>>&&&;");
    }
}
