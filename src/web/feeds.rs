//! The story as Atom feeds: `/stories/<story>/feed.atom` (one entry per stored weekly
//! edition) and `/stories/<story>/events.atom` (one entry per development). Each answer carries
//! a strong `ETag` of its bytes, and a request whose `If-None-Match` names it gets 304.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use scraper::{Html, Node, Selector};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::atom::{self, Entry, Feed};
use super::coverage::{self, Development};
use super::page::Pages;
use super::{AppState, Site};
use crate::mail::message::escape_html;
use crate::store::DigestRow;
use crate::story::StoryDef;

/// Editions in the feed: a quarter of a year. Older ones stay in the web archive.
pub(super) const FEED_EDITIONS: u32 = 13;
/// Developments in the events feed, newest first.
pub(super) const FEED_EVENTS: usize = 100;
/// How long a reader or proxy may reuse an answer before asking again (with the ETag).
const CACHE_CONTROL: &str = "public, max-age=300";

pub(super) fn routes() -> Router<Site> {
    Router::new()
        .route("/stories/{story}/feed.atom", get(editions))
        .route("/stories/{story}/events.atom", get(events))
}

async fn editions(
    State(st): State<AppState>,
    Path(story): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(story) = st.stories.iter().find(|s| s.id == story) else {
        return (StatusCode::NOT_FOUND, "no such story\n").into_response();
    };
    match st.store.latest_digests(&story.id, FEED_EDITIONS).await {
        Ok(rows) => answer(&headers, &atom::write(&editions_feed(&st, story, &rows))),
        Err(e) => failed(&e.into(), story),
    }
}

async fn events(
    State(st): State<AppState>,
    State(pages): State<Pages>,
    Path(story): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(story) = st.stories.iter().find(|s| s.id == story) else {
        return (StatusCode::NOT_FOUND, "no such story\n").into_response();
    };
    let feed = coverage::developments(&st, story)
        .await
        .and_then(|devs| Ok(events_feed(&st, &pages, story, devs)?));
    match feed {
        Ok(feed) => answer(&headers, &atom::write(&feed)),
        Err(e) => failed(&e, story),
    }
}

fn failed(e: &anyhow::Error, story: &StoryDef) -> Response {
    tracing::error!(error = %e, story = %story.id, "feed failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the feed could not be read; the log says why\n",
    )
        .into_response()
}

/// `path` under the configured public address.
pub(super) fn absolute(st: &AppState, path: &str) -> String {
    let base = st.config.web.base_url.as_str();
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// An empty feed still needs an `updated`: a fixed one, so its ETag does not change.
fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn editions_feed(st: &AppState, story: &StoryDef, rows: &[DigestRow]) -> Feed {
    let entries: Vec<Entry> = rows
        .iter()
        .map(|r| {
            let page = format!("/digests/{}/{}", r.story_id, r.week);
            Entry {
                id: atom::urn(&format!("storyline:edition:{}:{}", r.story_id, r.week)),
                title: r.subject.clone(),
                updated: r.composed(),
                published: None,
                link: Some(absolute(st, &page)),
                related: Vec::new(),
                content_html: edition_html(&r.html, &absolute(st, &format!("{page}/chart.png"))),
            }
        })
        .collect();
    story_feed(
        st,
        story,
        ("editions", "feed.atom"),
        format!("{}: weekly digest", story.title),
        format!("Each week's digest of “{}”, as mailed.", story.title),
        entries,
    )
}

/// One of a story's feeds: its id (`storyline:feed:<story>:<name>`) and address
/// (`/stories/<story>/<file>`), dated by its newest entry.
fn story_feed(
    st: &AppState,
    story: &StoryDef,
    (name, file): (&str, &str),
    title: String,
    subtitle: String,
    entries: Vec<Entry>,
) -> Feed {
    Feed {
        id: atom::urn(&format!("storyline:feed:{}:{name}", story.id)),
        title,
        subtitle,
        updated: entries
            .iter()
            .map(|e| e.updated)
            .max()
            .unwrap_or_else(epoch),
        self_url: absolute(st, &format!("/stories/{}/{file}", story.id)),
        page_url: absolute(st, &format!("/stories/{}", story.id)),
        entries,
    }
}

/// A development as its entry's content (`event.html.tera`).
#[derive(Serialize)]
struct EventContent<'a> {
    /// The first report's day, "2 April 2025".
    when: String,
    outlets: &'a [crate::digest::Outlet],
    reports: usize,
}

fn events_feed(
    st: &AppState,
    pages: &Pages,
    story: &StoryDef,
    devs: Vec<Development>,
) -> Result<Feed, tera::Error> {
    let tz = st.config.timezone;
    let entries = devs
        .into_iter()
        .rev()
        .take(FEED_EVENTS)
        .map(|d| {
            let content = EventContent {
                when: d
                    .first_at
                    .with_timezone(&tz)
                    .format("%-d %B %Y")
                    .to_string(),
                outlets: &d.outlets,
                reports: d.reports,
            };
            Ok(Entry {
                id: atom::urn(&format!("storyline:event:{}:{}", story.id, d.id)),
                content_html: pages.fragment("event.html.tera", &content)?,
                related: d
                    .outlets
                    .iter()
                    .filter_map(|o| Some((o.url.clone()?, o.name.clone())))
                    .collect(),
                title: d.headline,
                updated: d.last_at,
                published: Some(d.first_at),
                link: d.link,
            })
        })
        .collect::<Result<Vec<Entry>, tera::Error>>()?;
    Ok(story_feed(
        st,
        story,
        ("events", "events.atom"),
        format!("{}: developments", story.title),
        format!(
            "Each development of “{}” as first reported, with the outlets that carried it.",
            story.title
        ),
        entries,
    ))
}

/// A stored digest's HTML as a feed entry's content: what is inside `<body>`, without the
/// mail's hidden preview line (a feed reader that drops styles would show it), the chart
/// linked from the site instead of the mail's `cid:`.
fn edition_html(stored: &str, chart_url: &str) -> String {
    let doc = Html::parse_document(stored);
    let mut out = String::with_capacity(stored.len());
    let body = Selector::parse("body")
        .ok()
        .and_then(|s| doc.select(&s).next());
    let Some(body) = body else {
        return out;
    };
    for child in body.children() {
        match child.value() {
            Node::Element(e) if e.classes().any(|c| c == "preheader") => {}
            Node::Element(_) => {
                if let Some(el) = scraper::ElementRef::wrap(child) {
                    out.push_str(&el.html());
                }
            }
            Node::Text(t) => out.push_str(&escape_html(t)),
            _ => {}
        }
    }
    out.replace(
        &format!("cid:{}", crate::digest::CHART_CONTENT_ID),
        &escape_html(chart_url),
    )
}

/// The feed, or 304 when the reader already has these bytes.
fn answer(headers: &HeaderMap, body: &[u8]) -> Response {
    let hash = Sha256::digest(body);
    let tag: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{tag}\"");
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag);
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, body.to_vec()).into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if !fresh {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/atom+xml; charset=utf-8"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Shown raw in a browser, a feed must run nothing.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Outlet;

    /// The entry names each outlet (linked when it has a link), escaped, and counts reports
    /// only when an outlet made more than one.
    #[test]
    fn an_events_entry_names_its_outlets_and_counts_extra_reports() {
        let pages = Pages::embedded().unwrap_or_else(|e| panic!("{e:?}"));
        let outlets = [
            Outlet {
                name: "A & B".into(),
                url: Some("https://a.example/?x=1&y=\"2\"".into()),
            },
            Outlet {
                name: "<C>".into(),
                url: None,
            },
        ];
        let render = |outlets: &[Outlet], reports| {
            let content = EventContent {
                when: "2 April 2025".into(),
                outlets,
                reports,
            };
            pages
                .fragment("event.html.tera", &content)
                .unwrap_or_else(|e| panic!("{e:?}"))
        };
        assert_eq!(
            render(&outlets, 3),
            "<p>First reported on 2 April 2025; 2 outlets carried it in 3 reports.</p><ul>\
             <li><a href=\"https://a.example/?x=1&amp;y=&quot;2&quot;\">A &amp; B</a></li>\
             <li>&lt;C&gt;</li></ul>"
        );
        assert_eq!(
            render(&outlets[1..], 1),
            "<p>First reported on 2 April 2025; 1 outlet carried it.</p><ul><li>&lt;C&gt;</li></ul>"
        );
    }

    #[test]
    fn edition_html_is_the_body_without_the_preview_line_and_with_the_chart_linked() {
        let stored = "<!DOCTYPE html><html><head><title>t</title></head><body>\
            <div class=\"preheader\" style=\"display:none\">2 new developments</div>\
            <div class=\"page\"><h1>Story &amp; more</h1>\
            <img src=\"cid:chart@storyline\" alt=\"Items\" width=\"600\" height=\"200\"></div>\
            </body></html>";
        let html = edition_html(stored, "https://s.example/digests/a/2025-W15/chart.png");
        assert!(
            !html.contains("preheader") && !html.contains("2 new developments"),
            "{html}"
        );
        assert!(
            !html.contains("<title>") && !html.contains("<body"),
            "{html}"
        );
        assert!(html.contains("<h1>Story &amp; more</h1>"), "{html}");
        assert!(
            html.contains("src=\"https://s.example/digests/a/2025-W15/chart.png\""),
            "{html}"
        );
    }

    #[test]
    fn etags_match_in_any_form_a_client_sends() {
        let body = b"<feed/>";
        let first = answer(&HeaderMap::new(), body);
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG]
            .to_str()
            .unwrap_or_default()
            .to_string();
        for sent in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", {etag}"),
            "*".to_string(),
        ] {
            let mut h = HeaderMap::new();
            h.insert(
                header::IF_NONE_MATCH,
                HeaderValue::from_str(&sent).unwrap_or(HeaderValue::from_static("")),
            );
            let r = answer(&h, body);
            assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{sent}");
            assert_eq!(r.headers()[header::ETAG], etag.as_str());
        }
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"stale\""));
        assert_eq!(answer(&h, body).status(), StatusCode::OK);
    }
}
