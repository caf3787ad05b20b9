//! Page metadata: OpenGraph, `article:*` (and Reuters' `og:article:*`), plain `<meta>` tags,
//! JSON-LD, `<title>` and `<link rel=canonical>`, merged in a fixed order of trust.

use chrono::{DateTime, Utc};
use scraper::{Html, Selector};
use serde::Serialize;
use url::Url;

use super::date::parse_date;
use super::jsonld::{self, LdArticle};

/// What a page says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Absolute canonical URL; `None` when the page names none.
    pub canonical_url: Option<String>,
    /// The outlet: JSON-LD publisher, else `og:site_name`.
    pub site_name: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    /// Absolute URL of the lead image.
    pub image: Option<String>,
}

/// `<meta>` tags in document order as (lowercased key, content).
struct Metas(Vec<(String, String)>);

impl Metas {
    fn read(doc: &Html) -> Metas {
        let Ok(sel) = Selector::parse("meta") else {
            return Metas(Vec::new());
        };
        let tags = doc
            .select(&sel)
            .filter_map(|m| {
                let el = m.value();
                let key = el
                    .attr("property")
                    .or_else(|| el.attr("name"))
                    .or_else(|| el.attr("itemprop"))?;
                let content = clean(el.attr("content")?)?;
                Some((key.trim().to_ascii_lowercase(), content))
            })
            .collect();
        Metas(tags)
    }

    /// The first non-empty value of the first key that has one.
    fn first(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| {
            self.0
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        })
    }
}

/// Read the metadata of a parsed page fetched from `url`.
pub(crate) fn extract(doc: &Html, url: &Url) -> PageMeta {
    let metas = Metas::read(doc);
    let ld = jsonld::find_article(doc).unwrap_or_default();
    let base = base_url(doc, url);
    let site_name = ld
        .publisher
        .clone()
        .or_else(|| metas.first(&["og:site_name", "application-name"]));
    PageMeta {
        title: metas
            .first(&["og:title"])
            .or_else(|| ld.headline.clone())
            .or_else(|| metas.first(&["twitter:title"]))
            .or_else(|| title_element(doc, site_name.as_deref()))
            .or_else(|| first_text(doc, "h1")),
        description: metas
            .first(&["og:description"])
            .or_else(|| metas.first(&["description"]))
            .or_else(|| ld.description.clone())
            .or_else(|| metas.first(&["twitter:description"])),
        canonical_url: canonical(doc, &metas, &ld, &base),
        author: author(&metas, &ld),
        published: date_of(
            &metas,
            &[
                "article:published_time",
                "og:article:published_time",
                "datepublished",
            ],
            ld.date_published.as_deref(),
            &[
                "pubdate",
                "publishdate",
                "publish-date",
                "date",
                "dc.date",
                "dc.date.issued",
                "dcterms.created",
                "parsely-pub-date",
                "sailthru.date",
            ],
        ),
        modified: date_of(
            &metas,
            &[
                "article:modified_time",
                "og:article:modified_time",
                "og:updated_time",
                "datemodified",
            ],
            ld.date_modified.as_deref(),
            &["last-modified", "dcterms.modified"],
        ),
        image: metas
            .first(&[
                "og:image",
                "og:image:url",
                "og:image:secure_url",
                "twitter:image",
            ])
            .or_else(|| ld.image.clone())
            .and_then(|i| absolute(&i, &base)),
        site_name,
    }
}

/// Meta tags first, then JSON-LD, then the looser conventions.
fn date_of(
    metas: &Metas,
    strong: &[&str],
    ld: Option<&str>,
    weak: &[&str],
) -> Option<DateTime<Utc>> {
    strong
        .iter()
        .find_map(|k| metas.first(&[k]).and_then(|v| parse_date(&v)))
        .or_else(|| ld.and_then(parse_date))
        .or_else(|| {
            weak.iter()
                .find_map(|k| metas.first(&[k]).and_then(|v| parse_date(&v)))
        })
}

/// JSON-LD names people best; meta tags often hold a profile URL instead of a name.
fn author(metas: &Metas, ld: &LdArticle) -> Option<String> {
    if !ld.authors.is_empty() {
        let mut names: Vec<&str> = Vec::new();
        for n in &ld.authors {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
        return Some(names.join(", "));
    }
    [
        "author",
        "article:author",
        "og:article:author",
        "dc.creator",
        "parsely-author",
    ]
    .iter()
    .filter_map(|k| metas.first(&[k]))
    .find(|v| !v.starts_with("http://") && !v.starts_with("https://"))
}

fn canonical(doc: &Html, metas: &Metas, ld: &LdArticle, base: &Url) -> Option<String> {
    let link = Selector::parse("link[rel][href]").ok().and_then(|sel| {
        doc.select(&sel)
            .find(|l| {
                l.value().attr("rel").is_some_and(|r| {
                    r.split_ascii_whitespace()
                        .any(|t| t.eq_ignore_ascii_case("canonical"))
                })
            })
            .and_then(|l| l.value().attr("href"))
            .and_then(clean)
    });
    link.or_else(|| metas.first(&["og:url"]))
        .or_else(|| ld.url.clone())
        .and_then(|u| absolute(&u, base))
}

/// `<base href>` when the page sets one, else the page's own URL.
fn base_url(doc: &Html, url: &Url) -> Url {
    Selector::parse("base[href]")
        .ok()
        .and_then(|sel| doc.select(&sel).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| url.join(h.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| url.clone())
}

/// An absolute http(s) URL without its fragment, or nothing.
pub(crate) fn absolute(href: &str, base: &Url) -> Option<String> {
    let mut u = base.join(href.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    u.set_fragment(None);
    Some(u.to_string())
}

/// The document's `<title>` (the one in `<head>`, not an SVG's), minus a trailing
/// " - Site" / " | Site" when the site is known.
fn title_element(doc: &Html, site: Option<&str>) -> Option<String> {
    let sel = Selector::parse("head > title").ok()?;
    let title = clean(&doc.select(&sel).next()?.text().collect::<String>())?;
    if let Some(site) = site {
        for sep in [" - ", " | ", " — ", " – ", " :: "] {
            if let Some(stripped) = title.strip_suffix(&format!("{sep}{site}")) {
                if !stripped.trim().is_empty() {
                    return Some(stripped.trim().to_string());
                }
            }
        }
    }
    Some(title)
}

fn first_text(doc: &Html, selector: &str) -> Option<String> {
    let sel = Selector::parse(selector).ok()?;
    clean(&doc.select(&sel).next()?.text().collect::<String>())
}

/// Collapse whitespace; empty means absent.
fn clean(s: &str) -> Option<String> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(html: &str) -> PageMeta {
        let url = Url::parse("https://news.example/a/story?x=1").unwrap();
        extract(&Html::parse_document(html), &url)
    }

    #[test]
    fn opengraph_beats_json_ld_beats_title() {
        let m = meta(
            r#"<html><head><title>T - Site</title>
            <meta property="og:title" content=" OG  title ">
            <script type="application/ld+json">{"@type":"NewsArticle","headline":"LD"}</script>
            </head></html>"#,
        );
        assert_eq!(m.title.as_deref(), Some("OG title"));
        let m = meta(r#"<title>T - Site</title><meta property="og:site_name" content="Site">"#);
        assert_eq!(m.title.as_deref(), Some("T"));
        assert_eq!(m.site_name.as_deref(), Some("Site"));
    }

    #[test]
    fn relative_canonical_and_image_resolve_against_base() {
        let m = meta(
            r#"<head><base href="https://cdn.example/root/">
            <link rel="Canonical" href="/a/story#top"><meta property="og:image" content="i.jpg">
            </head>"#,
        );
        assert_eq!(
            m.canonical_url.as_deref(),
            Some("https://cdn.example/a/story")
        );
        assert_eq!(m.image.as_deref(), Some("https://cdn.example/root/i.jpg"));
    }

    #[test]
    fn dates_fall_back_in_order_and_urls_are_not_authors() {
        let m = meta(
            r#"<meta property="article:author" content="https://facebook.com/x">
            <meta name="author" content="Ann Writer">
            <meta property="og:article:published_time" content="2020-01-19T12:25:36Z">
            <meta property="og:updated_time" content="2020-01-20T09:49:32Z">"#,
        );
        assert_eq!(m.author.as_deref(), Some("Ann Writer"));
        assert_eq!(
            m.published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2020-01-19T12:25:36+00:00")
        );
        assert_eq!(
            m.modified.map(|d| d.to_rfc3339()).as_deref(),
            Some("2020-01-20T09:49:32+00:00")
        );
    }

    #[test]
    fn a_page_with_nothing_gives_nothing() {
        assert_eq!(meta(""), PageMeta::default());
    }
}
