//! The story pages: `/` (each story's latest digest and timeline) and the archive of past
//! digests, `/digests/<story>/<week>`, served from what the digest schedule stored.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Datelike as _;

use super::page::{self, fill, Value};
use super::AppState;
use crate::mail::message::escape_html;
use crate::story::{self, StoryDef};
use crate::week::IsoWeek;

const STORY: &str = include_str!("../../templates/web/story.html");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/digests/{story}/{week}", get(digest_page))
        .route("/digests/{story}/{week}/chart.png", get(chart))
}

async fn home(State(st): State<AppState>) -> Response {
    let mut sections = String::new();
    for story in st.stories.iter() {
        match story_section(&st, story).await {
            Ok(html) => sections.push_str(&html),
            Err(e) => {
                tracing::error!(error = %e, story = %story.id, "story page failed");
                return page::notice(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The story could not be read; the log says why.",
                );
            }
        }
    }
    let title = match st.stories.as_slice() {
        [only] => only.title.as_str(),
        _ => "Stories",
    };
    page::page(StatusCode::OK, title, &sections)
}

async fn story_section(st: &AppState, story: &StoryDef) -> anyhow::Result<String> {
    let tz = st.config.timezone;
    let now = st.clock.now();
    let report = story::week_report(&st.store, story, IsoWeek::containing(now, tz), tz).await?;
    let digests = st.store.digest_weeks(&story.id).await?;
    let link = |week: &str, subject: &str| {
        format!(
            "<a href=\"/digests/{}/{}\">{}</a>",
            escape_html(&story.id),
            escape_html(week),
            escape_html(subject)
        )
    };
    let latest = match digests.first() {
        Some((week, subject, _)) => format!(
            "<p>{} <span class=\"note\">({})</span></p>",
            link(week, subject),
            escape_html(week)
        ),
        None => "<p class=\"note\">No digest yet: the first comes with the next scheduled run.</p>"
            .into(),
    };
    let archive = if digests.len() > 1 {
        let items: String = digests[1..]
            .iter()
            .map(|(w, s, _)| format!("<li>{} — {}</li>", escape_html(w), link(w, s)))
            .collect();
        format!("<ul>{items}</ul>")
    } else {
        "<p class=\"note\">Nothing older yet.</p>".into()
    };
    let this_week = IsoWeek::containing(now, tz);
    let timeline = if report.timeline.is_empty() {
        "<p class=\"note\">No development recorded yet.</p>".to_string()
    } else {
        let items: String = report
            .timeline
            .iter()
            .rev()
            .map(|t| {
                let recent = chrono::NaiveDate::parse_from_str(&t.date, "%Y-%m-%d")
                    .map(|d| {
                        let w = d.iso_week();
                        (w.year(), w.week()) == (this_week.year, this_week.week)
                    })
                    .unwrap_or(false);
                let line = format!("{} — {}", escape_html(&t.date), escape_html(&t.headline));
                if recent {
                    format!("<li><strong>{line}</strong></li>")
                } else {
                    format!("<li>{line}</li>")
                }
            })
            .collect();
        format!("<ul class=\"timeline\">{items}</ul>")
    };
    let subscribe = if st.subscribe.is_some() {
        "<p><a href=\"/subscribe\">Get the weekly digest by mail</a></p>"
    } else {
        ""
    };
    let summary = format!(
        "{} developments so far; {} this week.",
        report.timeline.len(),
        report.developments.len()
    );
    let body = fill(
        STORY,
        &[
            ("summary", Value::Text(&summary)),
            ("subscribe", Value::Html(subscribe)),
            ("latest", Value::Html(&latest)),
            ("timeline", Value::Html(&timeline)),
            ("archive", Value::Html(&archive)),
        ],
    );
    Ok(if st.stories.len() > 1 {
        // The id is what an alert's story link points at (`base_url#story`).
        format!(
            "<section id=\"{}\"><h2>{}</h2>{body}</section>",
            escape_html(&story.id),
            escape_html(&story.title)
        )
    } else {
        body
    })
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
    let html = row
        .html
        .replace(&format!("cid:{}", crate::digest::CHART_CONTENT_ID), &chart);
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
