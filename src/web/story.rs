//! The story pages: `/` (the story, or with several an index of them, each with its latest
//! edition), `/stories/<story>` (its latest digest, timeline and archive), and the archive of
//! past digests, `/digests/<story>/<week>`, served from the stored editions.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Datelike as _;
use serde::Serialize;

use super::coverage::{self, Development};
use super::page::{html_answer, Pages};
use super::{AppState, Site};
use crate::story::{self, StoryDef};
use crate::value::week::IsoWeek;

/// The stored digests' policy: their own inline style and the chart served from here. Their
/// HTML was sanitized when composed; the policy is a second lock.
const DIGEST_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
                             frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub(super) fn routes() -> Router<Site> {
    Router::new()
        .route("/", get(home))
        .route("/stories/{story}", get(story_page))
        .route("/digests/{story}/{week}", get(digest_page))
        .route("/digests/{story}/{week}/chart.png", get(chart))
}

/// A story as links name it: `/stories/<id>`, its feeds, its title.
#[derive(Serialize)]
struct StoryRef<'a> {
    id: &'a str,
    title: &'a str,
}

impl<'a> From<&'a StoryDef> for StoryRef<'a> {
    fn from(story: &'a StoryDef) -> StoryRef<'a> {
        StoryRef {
            id: &story.id,
            title: &story.title,
        }
    }
}

/// A stored digest as the pages link it.
#[derive(Serialize)]
struct Edition {
    week: String,
    subject: String,
}

/// The stored digests of a story, newest first.
async fn editions(st: &AppState, story: &StoryDef) -> anyhow::Result<Vec<Edition>> {
    Ok(st
        .store
        .digest_weeks(&story.id)
        .await?
        .into_iter()
        .map(|(week, subject, _)| Edition { week, subject })
        .collect())
}

/// `stories.html.tera`: several stories, each with its latest edition and last development.
#[derive(Serialize)]
struct Index<'a> {
    title: &'static str,
    feeds: Vec<StoryRef<'a>>,
    subscribe: bool,
    stories: Vec<IndexEntry<'a>>,
}

#[derive(Serialize)]
struct IndexEntry<'a> {
    id: &'a str,
    title: &'a str,
    latest: Option<Edition>,
    /// Developments so far, and the newest of them.
    developments: usize,
    last: Option<Last>,
}

#[derive(Serialize)]
struct Last {
    date: chrono::NaiveDate,
    headline: String,
}

/// `story.html.tera`: one story's latest digest, timeline and archive.
#[derive(Serialize)]
struct StoryView<'a> {
    id: &'a str,
    title: &'a str,
    feeds: [StoryRef<'a>; 1],
    subscribe: bool,
    /// Newest first: the first is the latest, the rest the archive.
    digests: Vec<Edition>,
    /// Newest first.
    timeline: Vec<TimelineLine<'a>>,
    /// Developments first reported this week.
    this_week: usize,
}

/// "2025-04-05 — <headline linked to the first report> · 6 outlets", this week's in bold.
#[derive(Serialize)]
struct TimelineLine<'a> {
    date: chrono::NaiveDate,
    headline: &'a str,
    link: Option<&'a str>,
    outlets: usize,
    this_week: bool,
}

async fn home(State(st): State<AppState>, State(pages): State<Pages>) -> Response {
    match st.stories.as_slice() {
        [only] => story_answer(&st, &pages, only).await,
        _ => match index(&st).await {
            Ok(view) => pages.page(StatusCode::OK, "stories.html.tera", &view),
            Err(e) => unreadable(&pages, &e),
        },
    }
}

async fn story_page(
    State(st): State<AppState>,
    State(pages): State<Pages>,
    Path(id): Path<String>,
) -> Response {
    let Some(story) = st.stories.iter().find(|s| s.id == id) else {
        return pages.notice(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such story.",
        );
    };
    story_answer(&st, &pages, story).await
}

async fn story_answer(st: &AppState, pages: &Pages, story: &StoryDef) -> Response {
    let developments = match coverage::developments(st, story).await {
        Ok(d) => d,
        Err(e) => return unreadable(pages, &e),
    };
    match editions(st, story).await {
        Ok(digests) => pages.page(
            StatusCode::OK,
            "story.html.tera",
            &story_view(st, story, &developments, digests),
        ),
        Err(e) => unreadable(pages, &e),
    }
}

fn unreadable(pages: &Pages, e: &anyhow::Error) -> Response {
    tracing::error!(error = %e, "story page failed");
    pages.notice(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The story could not be read; the log says why.",
    )
}

/// Several stories: each with its latest edition, its last development and its feeds.
async fn index(st: &AppState) -> anyhow::Result<Index<'_>> {
    let tz = st.config.timezone;
    let week = IsoWeek::containing(st.clock.now(), tz);
    let mut stories = Vec::with_capacity(st.stories.len());
    for story in st.stories.iter() {
        let report = story::week_report(&st.store, story, week, tz).await?;
        stories.push(IndexEntry {
            id: &story.id,
            title: &story.title,
            latest: editions(st, story).await?.into_iter().next(),
            developments: report.timeline.len(),
            last: report.timeline.last().map(|t| Last {
                date: t.date,
                headline: t.headline.clone(),
            }),
        });
    }
    Ok(Index {
        title: "Stories",
        feeds: st.stories.iter().map(StoryRef::from).collect(),
        subscribe: st.subscribe.is_some(),
        stories,
    })
}

fn story_view<'a>(
    st: &AppState,
    story: &'a StoryDef,
    developments: &'a [Development],
    digests: Vec<Edition>,
) -> StoryView<'a> {
    let tz = st.config.timezone;
    let this_week = IsoWeek::containing(st.clock.now(), tz);
    StoryView {
        id: &story.id,
        title: &story.title,
        feeds: [StoryRef::from(story)],
        subscribe: st.subscribe.is_some(),
        digests,
        timeline: developments
            .iter()
            .rev()
            .map(|d| TimelineLine {
                date: d.date,
                headline: &d.headline,
                link: d.link.as_deref(),
                outlets: d.outlets.len(),
                this_week: in_week(d.date, this_week),
            })
            .collect(),
        this_week: developments
            .iter()
            .filter(|d| IsoWeek::containing(d.first_at, tz) == this_week)
            .count(),
    }
}

/// Whether the calendar date `date` falls in `week`.
fn in_week(date: chrono::NaiveDate, week: IsoWeek) -> bool {
    let w = date.iso_week();
    (w.year(), w.week()) == (week.year, week.week)
}

/// A stored digest as a web page: the mail's HTML with the chart served from here and the
/// story's feeds advertised.
async fn digest_page(
    State(st): State<AppState>,
    State(pages): State<Pages>,
    Path((story, week)): Path<(String, String)>,
) -> Response {
    let Some(row) = stored(&st, &story, &week).await else {
        return pages.notice(
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
        #[derive(Serialize)]
        struct Head<'a> {
            feeds: [StoryRef<'a>; 1],
        }
        let head = Head {
            feeds: [StoryRef::from(story)],
        };
        match pages.fragment("feeds.html.tera", &head) {
            Ok(links) => html.insert_str(at, &links),
            Err(e) => return unreadable(&pages, &e.into()),
        }
    }
    html_answer(StatusCode::OK, html, DIGEST_POLICY)
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
