//! Main text: the visible text of the article, without navigation, scripts, styles, comments,
//! forms, ad slots or share bars; one paragraph per block, paragraphs separated by a blank line.
//!
//! The container is the first element (in document order) holding most of the page's paragraph
//! text, the way readability-style extractors score pages; when no element holds enough, it is
//! `<article>`, else `<main>`, else `<body>`. This text drives the page's content hash, so it
//! must not move when only the page's chrome (menus, ads, "3 hours ago" teasers of other
//! stories, comment counters) changes.

use std::collections::HashMap;

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node, Selector};

/// A container with less paragraph text than this is not trusted to be the story.
const MIN_ARTICLE_CHARS: usize = 140;

/// A container is chosen when it holds at least this share of the best container's score; the
/// first such in document order wins, so an article beats the longer stories appended below it.
const CONTAINER_SHARE: f64 = 0.6;

/// Extract the main text of a parsed page.
pub(crate) fn main_text(doc: &Html) -> String {
    let root = choose_root(doc);
    render(root)
}

fn choose_root(doc: &Html) -> ElementRef<'_> {
    let body = Selector::parse("body")
        .ok()
        .and_then(|sel| doc.select(&sel).next())
        .unwrap_or_else(|| doc.root_element());
    if let Some(container) = densest_container(body) {
        return container;
    }
    let longest_article = Selector::parse("article").ok().and_then(|sel| {
        doc.select(&sel)
            .map(|a| (render(a).len(), a))
            .max_by_key(|(len, _)| *len)
    });
    if let Some((len, a)) = longest_article {
        if len >= MIN_ARTICLE_CHARS {
            return a;
        }
    }
    ["main", "[role=main]"]
        .iter()
        .filter_map(|s| Selector::parse(s).ok())
        .find_map(|sel| doc.select(&sel).next())
        .unwrap_or(body)
}

/// Score elements by the paragraph text they hold directly (and half of what their children
/// hold directly, for sites that wrap each paragraph in a `<div>`), skipping chrome.
fn densest_container(body: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let mut scores: HashMap<NodeId, f64> = HashMap::new();
    walk_visible(body, |edge| {
        let Edge::Open(node) = edge else { return };
        let is_para = node
            .value()
            .as_element()
            .is_some_and(|el| matches!(el.name(), "p" | "pre" | "blockquote"));
        if !is_para {
            return;
        }
        let len = text_len(node) as f64;
        if let Some(parent) = node.parent() {
            *scores.entry(parent.id()).or_default() += len;
            if let Some(grand) = parent.parent() {
                *scores.entry(grand.id()).or_default() += len / 2.0;
            }
        }
    });
    let best = scores.values().copied().fold(0.0, f64::max);
    if best < MIN_ARTICLE_CHARS as f64 {
        return None;
    }
    body.descendants()
        .find(|n| {
            scores
                .get(&n.id())
                .is_some_and(|s| *s >= best * CONTAINER_SHARE)
        })
        .and_then(ElementRef::wrap)
}

/// Walk the subtree without recursion (pages can nest thousands deep), calling `f` for every
/// edge outside chrome subtrees.
fn walk_visible<'a>(root: ElementRef<'a>, mut f: impl FnMut(Edge<'a, Node>)) {
    let root_len = text_len(*root);
    let mut skipping: Option<NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if skipping.is_none() => {
                let chrome = node.id() != root.id()
                    && node
                        .value()
                        .as_element()
                        .is_some_and(|el| is_chrome(el, node, root_len));
                if chrome {
                    skipping = Some(node.id());
                } else {
                    f(edge);
                }
            }
            Edge::Close(node) if skipping == Some(node.id()) => skipping = None,
            Edge::Close(_) if skipping.is_none() => f(edge),
            _ => {}
        }
    }
}

fn render(root: ElementRef<'_>) -> String {
    let mut out = Paragraphs::default();
    walk_visible(root, |edge| match edge {
        Edge::Open(node) => match node.value() {
            Node::Element(el) if el.name() == "br" => out.line_break(),
            Node::Element(el) if is_block(el.name()) => out.end_paragraph(),
            Node::Text(t) => out.push_text(&t[..]),
            _ => {}
        },
        Edge::Close(node) => {
            if node
                .value()
                .as_element()
                .is_some_and(|el| is_block(el.name()))
            {
                out.end_paragraph();
            }
        }
    });
    out.finish()
}

fn text_len(node: NodeRef<'_, Node>) -> usize {
    node.descendants()
        .filter_map(|n| n.value().as_text())
        .map(|t| t.trim().len())
        .sum()
}

/// Elements whose text is never part of the story.
fn is_chrome(el: &scraper::node::Element, node: NodeRef<'_, Node>, root_len: usize) -> bool {
    let name = el.name();
    if matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "math"
            | "iframe"
            | "object"
            | "embed"
            | "canvas"
            | "nav"
            | "aside"
            | "header"
            | "footer"
            | "form"
            | "button"
            | "select"
            | "textarea"
            | "input"
            | "dialog"
            | "menu"
            | "head"
    ) {
        return true;
    }
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(role) = el.attr("role") {
        if matches!(
            role.trim().to_ascii_lowercase().as_str(),
            "navigation" | "banner" | "contentinfo" | "complementary" | "search" | "dialog"
        ) {
            return true;
        }
    }
    if el.attr("style").is_some_and(|s| {
        s.replace(' ', "")
            .to_ascii_lowercase()
            .contains("display:none")
    }) {
        return true;
    }
    // Class names are only a hint: a container named "post share-enabled" that holds most of
    // the text is the story, not a share bar.
    (el.classes().any(is_chrome_token) || el.id().is_some_and(is_chrome_token))
        && text_len(node).saturating_mul(2) < root_len
}

/// Class or id names that mark ad slots, share bars, comment counters, newsletter boxes and
/// screen-reader-only labels. Matched on whole tokens or their BEM parts ("c-social-buttons",
/// "header_ad"), so "headline" and "advice" are not chrome.
fn is_chrome_token(token: &str) -> bool {
    let t = token.to_ascii_lowercase();
    if matches!(
        t.as_str(),
        "sr-only" | "screen-reader-text" | "visually-hidden" | "visuallyhidden" | "adsbygoogle"
    ) {
        return true;
    }
    t.split(['-', '_']).any(|part| {
        matches!(
            part,
            "ad" | "ads"
                | "advert"
                | "advertisement"
                | "sponsored"
                | "promo"
                | "newsletter"
                | "related"
                | "share"
                | "sharing"
                | "social"
                | "comment"
                | "comments"
                | "cookie"
                | "cookies"
                | "consent"
                | "breadcrumb"
                | "breadcrumbs"
                | "sidebar"
                | "hidden"
        )
    })
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "blockquote"
            | "dd"
            | "details"
            | "div"
            | "dl"
            | "dt"
            | "figcaption"
            | "figure"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hgroup"
            | "hr"
            | "li"
            | "main"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "td"
            | "tfoot"
            | "th"
            | "thead"
            | "tr"
            | "ul"
            | "body"
    )
}

/// Accumulates text into paragraphs with collapsed whitespace.
#[derive(Default)]
struct Paragraphs {
    done: Vec<String>,
    lines: Vec<String>,
    current: String,
}

impl Paragraphs {
    fn push_text(&mut self, text: &str) {
        for (i, word) in text.split_whitespace().enumerate() {
            // A space goes between words, and before a new text node's first word when the
            // source had whitespace there ("a <b>b</b>"), not when it did not ("a<b>b</b>").
            let needs_space = if i == 0 {
                text.starts_with(char::is_whitespace)
            } else {
                true
            };
            if needs_space && !self.current.is_empty() && !self.current.ends_with(' ') {
                self.current.push(' ');
            }
            self.current.push_str(word);
        }
        if text.ends_with(char::is_whitespace)
            && !self.current.is_empty()
            && !self.current.ends_with(' ')
        {
            self.current.push(' ');
        }
    }

    fn line_break(&mut self) {
        let line = self.current.trim().to_string();
        if !line.is_empty() {
            self.lines.push(line);
        }
        self.current.clear();
    }

    fn end_paragraph(&mut self) {
        self.line_break();
        if !self.lines.is_empty() {
            self.done.push(self.lines.join("\n"));
            self.lines.clear();
        }
    }

    fn finish(mut self) -> String {
        self.end_paragraph();
        self.done.join("\n\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        main_text(&Html::parse_document(html))
    }

    #[test]
    fn paragraphs_are_separated_by_blank_lines() {
        let t = text("<body><p>One  <b>bold</b>\n word.</p><p>Two<br>lines</p><ul><li>a</li><li>b</li></ul></body>");
        assert_eq!(t, "One bold word.\n\nTwo\nlines\n\na\n\nb");
    }

    #[test]
    fn chrome_is_left_out() {
        let t = text(
            r#"<body><p>Story text that is the bulk of this page, long enough to matter.</p>
            <nav>Menu</nav><header>Top</header>
            <div class="ad-slot">Buy now</div><div id="comments">c</div>
            <script>var x = 1;</script><style>p{}</style><!-- comment -->
            <div class="c-social-buttons">Share</div><span class="sr-only">Share this</span>
            <div hidden>secret</div><div style="display: none">x</div>
            <footer>(c)</footer><div class="headline">Kept</div></body>"#,
        );
        assert_eq!(
            t,
            "Story text that is the bulk of this page, long enough to matter.\n\nKept"
        );
        // A container whose class looks like chrome but holds the story is kept.
        let t = text(r#"<body><div class="post share-enabled"><p>All the text.</p></div></body>"#);
        assert_eq!(t, "All the text.");
    }

    #[test]
    fn the_article_wins_over_the_page_around_it() {
        let long = "Body sentence that is long enough to be the story. ".repeat(5);
        let t = text(&format!(
            "<body><main><p>Related links</p><article><p>{long}</p></article>\
             <article><p>Teaser</p></article></main></body>"
        ));
        assert_eq!(t, long.trim());
        // A teaser-only article falls back to <main>.
        let t = text("<body><main><p>Main text</p><article>Tiny</article></main></body>");
        assert_eq!(t, "Main text\n\nTiny");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!("{}deep{}", "<div>".repeat(4_000), "</div>".repeat(4_000));
        assert_eq!(text(&html), "deep");
    }
}
