//! The story pages: `/` (the story, or with several an index of them, each with its latest
//! edition), `/stories/<story>` (its latest digest, timeline and archive), and the archive of
//! past digests, `/digests/<story>/<week>`, served from the stored editions.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Datelike as _;

use super::coverage::{self, Development};
use super::page::{self, fill, Value};
use super::AppState;
use crate::mail::message::escape_html;
use crate::story::{self, StoryDef};
use crate::week::IsoWeek;

const STORY: &str = include_str!("../../templates/web/story.html");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/stories/{story}", get(story_page))
        .route("/digests/{story}/{week}", get(digest_page))
        .route("/digests/{story}/{week}/chart.png", get(chart))
}

async fn home(State(st): State<AppState>) -> Response {
    let result = match st.stories.as_slice() {
        [only] => story_section(&st, only)
            .await
            .map(|html| (only.title.clone(), html)),
        _ => index(&st).await.map(|html| ("Stories".to_string(), html)),
    };
    let head: String = st.stories.iter().map(feed_links).collect();
    match result {
        Ok((title, html)) => page::page_with_head(StatusCode::OK, &title, &head, &html),
        Err(e) => unreadable(&e),
    }
}

async fn story_page(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(story) = st.stories.iter().find(|s| s.id == id) else {
        return page::notice(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such story.",
        );
    };
    match story_section(&st, story).await {
        Ok(html) => page::page_with_head(StatusCode::OK, &story.title, &feed_links(story), &html),
        Err(e) => unreadable(&e),
    }
}

fn unreadable(e: &anyhow::Error) -> Response {
    tracing::error!(error = %e, "story page failed");
    page::notice(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The story could not be read; the log says why.",
    )
}

/// `<link rel="alternate">` for a story's two feeds, for browsers and feed readers that look.
fn feed_links(story: &StoryDef) -> String {
    let id = escape_html(&story.id);
    let title = escape_html(&story.title);
    format!(
        "<link rel=\"alternate\" type=\"application/atom+xml\" \
         title=\"{title}: weekly digest\" href=\"/stories/{id}/feed.atom\">\n\
         <link rel=\"alternate\" type=\"application/atom+xml\" \
         title=\"{title}: developments\" href=\"/stories/{id}/events.atom\">\n"
    )
}

/// The same feeds as links a reader can see.
fn feed_line(story: &StoryDef) -> String {
    let id = escape_html(&story.id);
    format!(
        "<p class=\"note\">In a feed reader: <a href=\"/stories/{id}/feed.atom\">the weekly \
         digest</a> · <a href=\"/stories/{id}/events.atom\">each development</a> (Atom)</p>"
    )
}

fn digest_link(story: &StoryDef, week: &str, subject: &str) -> String {
    format!(
        "<a href=\"/digests/{}/{}\">{}</a>",
        escape_html(&story.id),
        escape_html(week),
        escape_html(subject)
    )
}

fn subscribe_line(st: &AppState) -> &'static str {
    if st.subscribe.is_some() {
        "<p><a href=\"/subscribe\">Get the weekly digest by mail</a></p>"
    } else {
        ""
    }
}

/// Several stories: each with its latest edition, its last development and its feeds.
async fn index(st: &AppState) -> anyhow::Result<String> {
    let tz = st.config.timezone;
    let week = IsoWeek::containing(st.clock.now(), tz);
    let mut out = format!("{}<div class=\"stories\">", subscribe_line(st));
    for story in st.stories.iter() {
        let digests = st.store.digest_weeks(&story.id).await?;
        let report = story::week_report(&st.store, story, week, tz).await?;
        let latest = match digests.first() {
            Some((week, subject, _)) => format!(
                "<p>Latest digest: {} <span class=\"note\">({})</span></p>",
                digest_link(story, week, subject),
                escape_html(week)
            ),
            None => "<p class=\"note\">No digest yet.</p>".to_string(),
        };
        let last = match report.timeline.last() {
            Some(t) => format!(
                "<p class=\"note\">{} development{} so far; the latest, {}: {}</p>",
                report.timeline.len(),
                if report.timeline.len() == 1 { "" } else { "s" },
                escape_html(&t.date),
                escape_html(&t.headline)
            ),
            None => "<p class=\"note\">No development recorded yet.</p>".to_string(),
        };
        out.push_str(&format!(
            "<section><h2><a href=\"/stories/{}\">{}</a></h2>{latest}{last}{}</section>",
            escape_html(&story.id),
            escape_html(&story.title),
            feed_line(story)
        ));
    }
    out.push_str("</div>");
    Ok(out)
}

async fn story_section(st: &AppState, story: &StoryDef) -> anyhow::Result<String> {
    let tz = st.config.timezone;
    let now = st.clock.now();
    let developments = coverage::developments(st, story).await?;
    let digests = st.store.digest_weeks(&story.id).await?;
    let latest = match digests.first() {
        Some((week, subject, _)) => format!(
            "<p>{} <span class=\"note\">({})</span></p>",
            digest_link(story, week, subject),
            escape_html(week)
        ),
        None => "<p class=\"note\">No digest yet: the first comes with the next scheduled run.</p>"
            .into(),
    };
    let archive = if digests.len() > 1 {
        let items: String = digests[1..]
            .iter()
            .map(|(w, s, _)| format!("<li>{} — {}</li>", escape_html(w), digest_link(story, w, s)))
            .collect();
        format!("<ul>{items}</ul>")
    } else {
        "<p class=\"note\">Nothing older yet.</p>".into()
    };
    let this_week = IsoWeek::containing(now, tz);
    let timeline = if developments.is_empty() {
        "<p class=\"note\">No development recorded yet.</p>".to_string()
    } else {
        let items: String = developments
            .iter()
            .rev()
            .map(|d| timeline_entry(d, this_week))
            .collect();
        format!("<ul class=\"timeline\">{items}</ul>")
    };
    let this_week_count = developments
        .iter()
        .filter(|d| IsoWeek::containing(d.first_at, tz) == this_week)
        .count();
    let summary = format!(
        "{} developments so far; {this_week_count} this week.",
        developments.len(),
    );
    let feeds = feed_line(story);
    Ok(fill(
        STORY,
        &[
            ("summary", Value::Text(&summary)),
            ("subscribe", Value::Html(subscribe_line(st))),
            ("feeds", Value::Html(&feeds)),
            ("latest", Value::Html(&latest)),
            ("timeline", Value::Html(&timeline)),
            ("archive", Value::Html(&archive)),
        ],
    ))
}

/// "2025-04-05 — <headline linked to the first report> · 6 outlets", this week's in bold.
fn timeline_entry(d: &Development, this_week: IsoWeek) -> String {
    let recent = chrono::NaiveDate::parse_from_str(&d.date, "%Y-%m-%d")
        .map(|day| {
            let w = day.iso_week();
            (w.year(), w.week()) == (this_week.year, this_week.week)
        })
        .unwrap_or(false);
    let headline = match &d.link {
        Some(url) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
            escape_html(url),
            escape_html(&d.headline)
        ),
        None => escape_html(&d.headline),
    };
    let n = d.outlets.len();
    let line = format!(
        "{} — {headline} <span class=\"note\">· {n} outlet{}</span>",
        escape_html(&d.date),
        if n == 1 { "" } else { "s" }
    );
    if recent {
        format!("<li><strong>{line}</strong></li>")
    } else {
        format!("<li>{line}</li>")
    }
}

/// A stored digest as a web page: the mail's HTML with the chart served from here.
async fn digest_page(
    State(st): State<AppState>,
    Path((story, week)): Path<(String, String)>,
) -> Response {
    let Some(row) = stored(&st, &story, &week).await else {
        return page::notice(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no digest for that week.",
        );
    };
    let chart = format!("/digests/{}/{}/chart.png", row.story_id, row.week);
    let mut html = row
        .html
        .replace(&format!("cid:{}", crate::digest::CHART_CONTENT_ID), &chart);
    if let (Some(at), Some(story)) = (
        html.find("</head>"),
        st.stories.iter().find(|s| s.id == row.story_id),
    ) {
        html.insert_str(at, &feed_links(story));
    }
    let mut resp = (StatusCode::OK, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The digest's HTML was sanitized when composed; the policy is a second lock.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

async fn chart(
    State(st): State<AppState>,
    Path((story, week)): Path<(String, String)>,
) -> Response {
    match stored(&st, &story, &week).await.and_then(|r| r.chart_png) {
        Some(png) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            png,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn stored(st: &AppState, story: &str, week: &str) -> Option<crate::store::DigestRow> {
    // Only well-formed weeks reach the database.
    let week: IsoWeek = week.parse().ok()?;
    match st.store.digest_of_week(story, &week.to_string()).await {
        Ok(row) => row,
        Err(e) => {
            tracing::error!(error = %e, "cannot read a stored digest");
            None
        }
    }
}
