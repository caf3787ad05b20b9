//! JSON-LD: the first `NewsArticle` / `Article` / `BlogPosting` node of a page, wherever it sits
//! (top level, an array, or an `@graph`), with `@id` references resolved.

use std::collections::HashMap;

use scraper::{Html, Selector};
use serde_json::Value;

/// Graph nesting deeper than this is not followed (real pages use two or three levels).
const MAX_DEPTH: usize = 8;

/// What a page's JSON-LD says about its article; strings as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LdArticle {
    pub headline: Option<String>,
    pub description: Option<String>,
    pub date_published: Option<String>,
    pub date_modified: Option<String>,
    pub authors: Vec<String>,
    pub publisher: Option<String>,
    pub url: Option<String>,
    pub image: Option<String>,
}

/// Look through every `<script type="application/ld+json">`; scripts that are not valid JSON
/// are skipped, as browsers and search engines do.
pub(crate) fn find_article(doc: &Html) -> Option<LdArticle> {
    let sel = Selector::parse("script").ok()?;
    let mut nodes: Vec<&Value> = Vec::new();
    let parsed: Vec<Value> = doc
        .select(&sel)
        .filter(|s| {
            s.value().attr("type").is_some_and(|t| {
                t.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/ld+json")
            })
        })
        .filter_map(|s| parse_script(&s.text().collect::<String>()))
        .collect();
    for v in &parsed {
        collect_nodes(v, 0, &mut nodes);
    }
    let ids: HashMap<&str, &Value> = nodes
        .iter()
        .filter_map(|n| Some((n.get("@id")?.as_str()?, *n)))
        .collect();
    let article = nodes.iter().find(|n| is_article(n))?;
    Some(read_article(article, &ids))
}

/// Some CMSs wrap the JSON in `<!--`/`CDATA` markers or leave a trailing `;`.
fn parse_script(text: &str) -> Option<Value> {
    let t = text.trim();
    let t = t.strip_prefix("<!--").unwrap_or(t);
    let t = t.strip_suffix("-->").unwrap_or(t).trim();
    let t = t.strip_prefix("//<![CDATA[").unwrap_or(t);
    let t = t.strip_suffix("//]]>").unwrap_or(t).trim();
    let t = t.strip_suffix(';').unwrap_or(t);
    serde_json::from_str(t).ok()
}

fn collect_nodes<'a>(v: &'a Value, depth: usize, out: &mut Vec<&'a Value>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_nodes(i, depth + 1, out)),
        Value::Object(map) => {
            out.push(v);
            if let Some(graph) = map.get("@graph") {
                collect_nodes(graph, depth + 1, out);
            }
        }
        _ => {}
    }
}

fn is_article(node: &Value) -> bool {
    let is_article_type = |t: &str| {
        // "NewsArticle", "schema:NewsArticle", "https://schema.org/NewsArticle"
        let t = t.rsplit(['/', ':']).next().unwrap_or(t);
        t.ends_with("Article") || t.ends_with("BlogPosting")
    };
    match node.get("@type") {
        Some(Value::String(t)) => is_article_type(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(is_article_type),
        _ => false,
    }
}

fn read_article(node: &Value, ids: &HashMap<&str, &Value>) -> LdArticle {
    let text = |key: &str| node.get(key).and_then(as_text);
    LdArticle {
        headline: text("headline").or_else(|| text("name")),
        description: text("description"),
        date_published: text("datePublished").or_else(|| text("dateCreated")),
        date_modified: text("dateModified"),
        authors: node
            .get("author")
            .map(|a| names(a, ids))
            .unwrap_or_default(),
        publisher: node
            .get("publisher")
            .and_then(|p| names(p, ids).into_iter().next()),
        url: text("url").or_else(|| node.get("mainEntityOfPage").and_then(url_of)),
        image: node.get("image").and_then(|i| image_url(i, ids)),
    }
}

/// A plain string value, trimmed; numbers and objects are not text.
fn as_text(v: &Value) -> Option<String> {
    v.as_str()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

/// Names of a person/organisation value: a string, `{name}`, an `@id` reference, or a list.
fn names(v: &Value, ids: &HashMap<&str, &Value>) -> Vec<String> {
    match v {
        Value::String(_) => as_text(v).into_iter().collect(),
        Value::Array(items) => items.iter().flat_map(|i| names_one(i, ids)).collect(),
        Value::Object(_) => names_one(v, ids).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn names_one(v: &Value, ids: &HashMap<&str, &Value>) -> Option<String> {
    if let Some(s) = as_text(v) {
        return Some(s);
    }
    v.get("name").and_then(as_text).or_else(|| {
        let target = ids.get(v.get("@id")?.as_str()?)?;
        target.get("name").and_then(as_text)
    })
}

fn url_of(v: &Value) -> Option<String> {
    as_text(v).or_else(|| v.get("@id").and_then(as_text))
}

fn image_url(v: &Value, ids: &HashMap<&str, &Value>) -> Option<String> {
    match v {
        Value::String(_) => as_text(v),
        Value::Array(items) => items.iter().find_map(|i| image_url(i, ids)),
        Value::Object(_) => v
            .get("url")
            .and_then(as_text)
            .or_else(|| v.get("contentUrl").and_then(as_text))
            .or_else(|| {
                let id = v.get("@id")?.as_str()?;
                ids.get(id)
                    .filter(|t| !std::ptr::eq(**t, v))
                    .and_then(|t| t.get("url").or_else(|| t.get("contentUrl")))
                    .and_then(as_text)
                    // An image node that only names itself: an absolute id is its URL.
                    .or_else(|| id.starts_with("http").then(|| id.to_string()))
            }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(html: &str) -> Option<LdArticle> {
        find_article(&Html::parse_document(html))
    }

    #[test]
    fn graph_references_are_resolved() {
        let html = r##"<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
            {"@type":["Organization"],"@id":"#org","name":"Kulu Media"},
            {"@type":"Person","@id":"#me","name":"News Desk"},
            {"@type":"ImageObject","@id":"https://x.example/a.jpg","url":"https://x.example/a.jpg"},
            {"@type":"NewsArticle","headline":"H","datePublished":"2026-06-12T18:11:51+03:00",
             "author":{"@id":"#me","name":"News Desk"},"publisher":{"@id":"#org"},
             "image":{"@id":"https://x.example/a.jpg"}}]}</script>"##;
        let a = article(html).unwrap();
        assert_eq!(a.headline.as_deref(), Some("H"));
        assert_eq!(a.authors, vec!["News Desk".to_string()]);
        assert_eq!(a.publisher.as_deref(), Some("Kulu Media"));
        assert_eq!(a.image.as_deref(), Some("https://x.example/a.jpg"));
    }

    #[test]
    fn arrays_wrappers_and_type_prefixes_are_accepted() {
        let html = r#"<script type="application/ld+json"><!--
            [{"@type":"WebSite","name":"S"},{"@type":"schema:BlogPosting","name":"Post",
              "author":["Ann",{"name":"Bob"}],"mainEntityOfPage":{"@id":"https://x.example/p"}}]
            --></script>"#;
        let a = article(html).unwrap();
        assert_eq!(a.headline.as_deref(), Some("Post"));
        assert_eq!(a.authors, vec!["Ann".to_string(), "Bob".to_string()]);
        assert_eq!(a.url.as_deref(), Some("https://x.example/p"));
    }

    #[test]
    fn broken_or_unrelated_json_ld_gives_nothing() {
        assert_eq!(
            article(r#"<script type="application/ld+json">{"@type":</script>"#),
            None
        );
        assert_eq!(
            article(r#"<script type="application/ld+json">{"@type":"WebPage"}</script>"#),
            None
        );
        let deep = format!(
            r#"<script type="application/ld+json">{}{}</script>"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        assert_eq!(article(&deep), None);
    }
}
