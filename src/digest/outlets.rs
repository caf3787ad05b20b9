//! Who reported a development: outlet names (as the feed gives them, else the link's host) and
//! the links to their reports, of which only absolute http(s) URLs survive.

use std::collections::HashMap;

use super::model::{ItemIn, Outlet};
use super::sanitize::collapse_whitespace;

/// Who carried an event, as its digest shows it: the first linkable report (the headline's
/// link) and every outlet once, in reporting order. For the site's timeline and events feed.
pub fn coverage(items: &[ItemIn]) -> (Option<String>, Vec<Outlet>) {
    let sorted = sorted_items(items);
    let first = sorted.iter().find_map(|i| safe_link(i.url.as_deref()));
    (first, outlets(&sorted))
}

/// Every outlet once, in the order they reported, each linked to its first linkable report.
pub(super) fn outlets(items: &[&ItemIn]) -> Vec<Outlet> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Outlet> = Vec::new();
    for item in items {
        let name = outlet_name(item);
        let url = safe_link(item.url.as_deref());
        let key = name.to_lowercase();
        match index.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(existing) => {
                if existing.url.is_none() {
                    existing.url = url;
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(Outlet { name, url });
            }
        }
    }
    out
}

/// The feed's outlet name, else the link's host without "www.", else the source id.
fn outlet_name(item: &ItemIn) -> String {
    outlet_name_of(item.outlet.as_deref(), item.url.as_deref(), &item.source)
}

/// Who reported an item, as the digest names outlets: the feed's outlet name, else the link's
/// host without "www.", else the source id. Alerts count outlets by this too. Compare names
/// case-insensitively: the digest lists "TechWire" and "techwire" once.
pub fn outlet_name_of(outlet: Option<&str>, url: Option<&str>, source: &str) -> String {
    if let Some(name) = outlet.map(collapse_whitespace) {
        if !name.is_empty() {
            return name;
        }
    }
    url.and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| source.to_string())
}

/// Only absolute http(s) URLs become links: anything else (javascript:, data:, relative)
/// could run code or point nowhere from inside a mail.
pub fn safe_link(url: Option<&str>) -> Option<String> {
    let parsed = url::Url::parse(url?.trim()).ok()?;
    let linkable = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty());
    linkable.then(|| parsed.to_string())
}

/// Items in a stable order: earliest published first (undated last), then source and guid.
pub(super) fn sorted_items(items: &[ItemIn]) -> Vec<&ItemIn> {
    let mut sorted: Vec<&ItemIn> = items.iter().collect();
    sorted.sort_by(|a, b| {
        (a.published.is_none(), a.published, &a.source, &a.guid).cmp(&(
            b.published.is_none(),
            b.published,
            &b.source,
            &b.guid,
        ))
    });
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_links_survive() {
        for (url, expected) in [
            ("https://a.example/x?y=1", Some("https://a.example/x?y=1")),
            ("  http://a.example  ", Some("http://a.example/")),
            ("javascript:alert(1)", None),
            ("JAVASCRIPT:alert(1)", None),
            ("data:text/html,hi", None),
            ("mailto:a@b.example", None),
            ("/relative/path", None),
            ("//a.example/x", None),
            ("file:///etc/passwd", None),
            ("", None),
        ] {
            assert_eq!(safe_link(Some(url)).as_deref(), expected, "{url:?}");
        }
        assert_eq!(safe_link(None), None);
    }

    #[test]
    fn outlet_name_prefers_the_feed_then_the_host_then_the_source() {
        let mut item = ItemIn {
            source: "src-id".into(),
            guid: "g".into(),
            url: Some("https://www.example.org/a".into()),
            title: None,
            published: None,
            outlet: Some("  The   Example ".into()),
            summary_html: None,
        };
        assert_eq!(outlet_name(&item), "The Example");
        item.outlet = Some(" ".into());
        assert_eq!(outlet_name(&item), "example.org");
        item.url = Some("not a url".into());
        assert_eq!(outlet_name(&item), "src-id");
    }
}
