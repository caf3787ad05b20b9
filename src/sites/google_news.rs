//! Google News search feeds (and any RSS whose items carry `<source url="…">Outlet</source>`):
//! the outlet becomes the item's outlet and the " - Outlet" title suffix goes. Links stay the
//! `news.google.com/rss/articles/…` redirects they are: resolving them needs a call to Google
//! per item.
//!
//! feed-rs does not keep RSS `<source>`, so the raw body is scanned for it.

use quick_xml::events::Event;
use quick_xml::Reader;
use url::Url;

use crate::parse::{Document, Outlet};

/// What one raw `<item>` says, as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct RawItem {
    guid: Option<String>,
    link: Option<String>,
    title: Option<String>,
    source: Option<Outlet>,
}

pub(super) fn adapt(url: &Url, body: &[u8], doc: &mut Document) {
    let is_google = url.host_str() == Some("news.google.com")
        || doc.entries.iter().any(|e| {
            e.link
                .as_deref()
                .is_some_and(|l| l.starts_with("https://news.google.com/"))
        });
    // Reading the body again is a second XML parse of every feed; most have no <source>.
    if !is_google && memchr::memmem::find(body, b"source").is_none() {
        return;
    }
    let items = scan_items(body);
    let has_sources = items.iter().any(|i| i.source.is_some());
    if !has_sources && !is_google {
        return;
    }
    let same_count = items.len() == doc.entries.len();
    for (i, e) in doc.entries.iter_mut().enumerate() {
        let raw = items
            .iter()
            .find(|r| r.guid.as_deref() == Some(e.id.as_str()))
            .or_else(|| {
                items
                    .iter()
                    .find(|r| r.link.is_some() && r.link.as_deref() == e.link.as_deref())
            })
            .or_else(|| same_count.then(|| &items[i]));
        let source = raw.and_then(|r| r.source.clone()).or_else(|| {
            // A Google News item without <source>: the suffix is the only outlet signal.
            is_google
                .then(|| e.title.as_deref().and_then(suffix_outlet))
                .flatten()
                .map(|name| Outlet { name, url: None })
        });
        let Some(source) = source else { continue };
        if let Some(title) = &e.title {
            if let Some(stripped) = title
                .trim_end()
                .strip_suffix(&format!(" - {}", source.name))
            {
                if !stripped.trim().is_empty() {
                    e.title = Some(stripped.trim_end().to_string());
                }
            }
        }
        if e.outlet.is_none() {
            e.outlet = Some(source);
        }
    }
}

/// The text after the last " - ", when it looks like an outlet name (short, no sentence).
fn suffix_outlet(title: &str) -> Option<String> {
    let (_, outlet) = title.rsplit_once(" - ")?;
    let outlet = outlet.trim();
    (!outlet.is_empty() && outlet.chars().count() <= 60).then(|| outlet.to_string())
}

/// Every `<item>` of an RSS body with its guid, link, title and `<source>`. A body that is not
/// well-formed yields what was read before the error.
fn scan_items(body: &[u8]) -> Vec<RawItem> {
    let text = String::from_utf8_lossy(body);
    let mut reader = Reader::from_str(&text);
    let mut items = Vec::new();
    let mut current: Option<RawItem> = None;
    // The item child being read, and its text so far.
    let mut field: Option<(String, String)> = None;
    let mut source_url: Option<String> = None;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(ev) => ev,
        };
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if name == "item" {
                    current = Some(RawItem::default());
                } else if current.is_some() && field.is_none() {
                    if name == "source" {
                        source_url = e
                            .try_get_attribute("url")
                            .ok()
                            .flatten()
                            .and_then(|a| {
                                a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok()
                            })
                            .map(|v| v.trim().to_string())
                            .filter(|v| !v.is_empty());
                    }
                    field = Some((name, String::new()));
                }
            }
            Event::Text(t) => {
                if let Some((_, buf)) = &mut field {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some((_, buf)) = &mut field {
                    buf.push_str(&c);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, buf)) = &mut field {
                    if let Ok(Some(ch)) = r.resolve_char_ref() {
                        buf.push(ch);
                    } else {
                        let entity = format!("&{};", r.xml10_content());
                        if let Ok(s) = quick_xml::escape::unescape(&entity) {
                            buf.push_str(&s);
                        }
                    }
                }
            }
            Event::End(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if name == "item" {
                    items.extend(current.take());
                    field = None;
                } else if let (Some(item), Some((fname, _))) = (&mut current, &field) {
                    if fname == name {
                        if let Some((fname, value)) = field.take() {
                            store_field(item, &fname, value.trim(), source_url.take());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    items
}

fn store_field(item: &mut RawItem, name: &str, value: &str, source_url: Option<String>) {
    let value = (!value.is_empty()).then(|| value.to_string());
    match name {
        "guid" => item.guid = value,
        "link" => item.link = value,
        "title" => item.title = value,
        "source" => {
            item.source = value.map(|name| Outlet {
                name,
                url: source_url,
            })
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sites::fixtures;

    #[test]
    fn google_news_titles_lose_the_outlet_which_becomes_the_outlet() {
        // Served from loopback: recognised by its <source> elements, not its host.
        let doc = fixtures::adapted(
            "google_news_search_rss_2items.xml",
            "http://127.0.0.1:8080/gnews/search.xml",
        );
        let e = &doc.entries[1];
        assert_eq!(
            e.title.as_deref(),
            Some("Ketanji Brown Jackson criticizes supreme court’s handling of emergency docket")
        );
        assert_eq!(
            e.outlet,
            Some(Outlet {
                name: "The Guardian".into(),
                url: Some("https://www.theguardian.com".into())
            })
        );
        assert_eq!(
            e.link.as_deref(),
            Some("https://news.google.com/rss/articles/CBMiogFBVV95cUxQZ3MtNXd1?oc=5")
        );
        let first = &doc.entries[0];
        assert_eq!(
            first.title.as_deref(),
            Some("Fall Related Emergency Visits for Older Adults Continue to Climb")
        );
        assert_eq!(
            first.outlet.as_ref().map(|o| o.name.as_str()),
            Some("countynewscenter.com")
        );
    }

    #[test]
    fn entities_and_cdata_in_source_are_decoded() {
        let body = br#"<rss><channel><item><title><![CDATA[A & B - AT&T News]]></title>
            <guid>g1</guid><source url="https://att.example/?a=1&amp;b=2">AT&amp;T News</source>
            </item></channel></rss>"#;
        let items = scan_items(body);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title.as_deref(), Some("A & B - AT&T News"));
        assert_eq!(
            items[0].source,
            Some(Outlet {
                name: "AT&T News".into(),
                url: Some("https://att.example/?a=1&b=2".into())
            })
        );
    }

    #[test]
    fn google_items_without_source_use_the_suffix() {
        let mut doc = Document {
            entries: vec![crate::parse::Entry {
                id: "x".into(),
                title: Some("Meta delays Behemoth - Example Times".into()),
                link: Some("https://news.google.com/rss/articles/x?oc=5".into()),
                ..Default::default()
            }],
            ..Document::default()
        };
        let url = Url::parse("https://news.google.com/rss/search?q=x").unwrap();
        adapt(&url, b"not xml", &mut doc);
        assert_eq!(
            doc.entries[0].title.as_deref(),
            Some("Meta delays Behemoth")
        );
        assert_eq!(
            doc.entries[0].outlet.as_ref().map(|o| o.name.as_str()),
            Some("Example Times")
        );
    }
}
