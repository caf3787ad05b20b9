//! Reading the values inside feed elements: text constructs (Atom's types and modes, RSS's
//! untyped text), links, and authors.

use base64::Engine as _;
use url::Url;

use super::canonical::{self, CanonText};
use super::resolve_link;
use super::soup::{self, Element, Node};

/// The trimmed text, if any.
pub(crate) fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// An Atom-style `href` link, or an RSS-style text link.
pub(crate) fn link_of(element: &Element, base: Option<&Url>) -> Option<String> {
    match element.attr("href") {
        Some(href) if !href.trim().is_empty() => Some(resolve_link(href, base)),
        Some(_) => None,
        None => non_empty(element.text()).map(|t| resolve_link(&t, base)),
    }
}

/// An author: Atom's `<name>`/`<email>` children, or RSS's "email (Name)" text.
pub(crate) fn person_of(element: &Element) -> Option<canonical::Person> {
    if element.has_elements() {
        let field = |want: &str| {
            element
                .elements()
                .find(|c| c.local_name().eq_ignore_ascii_case(want))
                .and_then(|c| non_empty(c.text()))
        };
        let person = canonical::Person {
            name: field("name"),
            email: field("email"),
        };
        return (person.name.is_some() || person.email.is_some()).then_some(person);
    }
    let raw = non_empty(element.text())?;
    Some(split_person(&raw))
}

/// "jo@example.org (Jo Bloggs)" → name and email; anything else is a name.
fn split_person(raw: &str) -> canonical::Person {
    if let Some((email, rest)) = raw.split_once('(') {
        let name = rest.trim_end().trim_end_matches(')').trim();
        let email = email.trim();
        if email.contains('@') && !email.contains(' ') && !name.is_empty() {
            return canonical::Person {
                name: Some(name.to_string()),
                email: Some(email.to_string()),
            };
        }
    }
    if raw.contains('@') && !raw.contains(' ') {
        return canonical::Person {
            name: None,
            email: Some(raw.trim_start_matches("mailto:").to_string()),
        };
    }
    canonical::Person {
        name: Some(raw.to_string()),
        email: None,
    }
}

/// An Atom 1.0 or 0.3 text construct: `type` (short names or MIME types) and 0.3's `mode`.
/// As in feedparser, a MIME type that is neither text nor XML means base64-encoded content.
pub(crate) fn atom_text(element: &Element, body: bool) -> CanonText {
    let ty = element
        .attr("type")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let ty = match ty.as_str() {
        "" | "text" | "plain" => "text/plain",
        "html" => "text/html",
        "xhtml" => "application/xhtml+xml",
        other => other,
    };
    let mode = element
        .attr("mode")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_xml = ty.ends_with("+xml") || ty.ends_with("/xml");
    let is_html = ty == "text/html" || is_xml;
    let is_base64 = mode == "base64" || !(ty.starts_with("text/") || is_xml);
    if is_base64 {
        let compact: String = element.text().split_whitespace().collect();
        let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(compact.trim_end_matches('='))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        return CanonText::new(decoded, is_html);
    }
    if mode == "escaped" {
        return CanonText::new(element.text(), is_html);
    }
    if is_xml || element.has_elements() {
        return CanonText::html(inner_markup(unwrap_div(element)));
    }
    // Undeclared bodies (content, summary) are HTML in practice; undeclared titles are text.
    CanonText::new(
        element.text(),
        is_html || (body && element.attr("type").is_none()),
    )
}

/// XHTML content is wrapped in one `<div>` that is not part of it.
fn unwrap_div(element: &Element) -> &Element {
    let mut elements = element.elements();
    let only_div = match (elements.next(), elements.next()) {
        (Some(div), None) if div.local_name().eq_ignore_ascii_case("div") => Some(div),
        _ => None,
    };
    let stray_text = element
        .children
        .iter()
        .any(|n| matches!(n, Node::Text(t) if !t.trim().is_empty()));
    match only_div {
        Some(div) if !stray_text => div,
        _ => element,
    }
}

/// The markup inside `element`, serialised as HTML (prefixes and xmlns attributes dropped).
pub(crate) fn inner_markup(element: &Element) -> String {
    let mut out = String::new();
    push_children(&mut out, element);
    out
}

fn push_children(out: &mut String, element: &Element) {
    for child in &element.children {
        match child {
            Node::Text(t) => canonical::push_escaped(out, t, false),
            Node::Element(e) => {
                let name = e.local_name();
                out.push('<');
                out.push_str(name);
                for (k, v) in &e.attrs {
                    if k == "xmlns" || k.starts_with("xmlns:") {
                        continue;
                    }
                    out.push(' ');
                    out.push_str(soup::local_part(k));
                    out.push_str("=\"");
                    canonical::push_escaped(out, v, true);
                    out.push('"');
                }
                if e.children.is_empty() {
                    out.push_str(" />");
                } else {
                    out.push('>');
                    push_children(out, e);
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persons_split_like_rss_authors() {
        let p = split_person("jo@example.org (Jo Bloggs)");
        assert_eq!(p.name.as_deref(), Some("Jo Bloggs"));
        assert_eq!(p.email.as_deref(), Some("jo@example.org"));
        assert_eq!(split_person("Jo Bloggs").name.as_deref(), Some("Jo Bloggs"));
        assert_eq!(
            split_person("jo@example.org").email.as_deref(),
            Some("jo@example.org")
        );
    }
}
