//! The daemon's web site: health, metrics, subscriptions, the story pages and their Atom
//! feeds. Only this module knows about axum.

mod atom;
mod coverage;
mod feeds;
mod limit;
mod page;
mod story;
pub mod subscribe;

pub use page::TemplateError;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::metrics::Metrics;
use crate::store::Store;
use crate::value::clock::Clock;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub clock: Clock,
    /// The scheduler counts as alive if it beat within this long.
    pub heartbeat_max_age: Duration,
    pub config: Arc<crate::config::Config>,
    /// The stories the site shows (the configured ones, else the built-in one).
    pub stories: Arc<Vec<crate::story::StoryDef>>,
    /// Subscription pages; `None` when mail is not configured (they answer 404).
    pub subscribe: Option<Arc<subscribe::SubscribeState>>,
}

/// What the routes reach: the state they were given and the pages, parsed once for them.
#[derive(Debug, Clone)]
struct Site {
    app: AppState,
    pages: page::Pages,
}

impl FromRef<Site> for AppState {
    fn from_ref(site: &Site) -> AppState {
        site.app.clone()
    }
}

impl FromRef<Site> for page::Pages {
    fn from_ref(site: &Site) -> page::Pages {
        site.pages.clone()
    }
}

/// The site. Its templates are loaded and parsed here, once, so a broken one stops the start
/// rather than the first visit.
pub fn router(state: AppState) -> Result<Router, TemplateError> {
    let pages = page::Pages::configured(&state.config)?;
    Ok(Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(story::routes())
        .merge(feeds::routes())
        .merge(subscribe::routes())
        .fallback(not_found)
        .with_state(Site { app: state, pages })
        .layer(axum::middleware::map_response(secure)))
}

/// What every response carries unless its handler chose otherwise, errors included (axum's
/// own 405s too): a policy that allows nothing, no framing, no sniffing, no referrer and no
/// caching. Pages set their own policy; the chart chooses to be cached.
async fn secure(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    let defaults = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

async fn not_found(State(pages): State<page::Pages>) -> Response {
    pages.notice(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address.",
    )
}

/// 200 when the database answers and the scheduler is alive; 503 with the reason otherwise.
async fn healthz(State(st): State<AppState>) -> Response {
    if let Err(e) = st.store.ping().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unreachable: {e}\n"),
        )
            .into_response();
    }
    let now = st.clock.now();
    let max_age = chrono::Duration::from_std(st.heartbeat_max_age).unwrap_or(chrono::Duration::MAX);
    match st.metrics.last_beat() {
        Some(t) if now - t <= max_age => (StatusCode::OK, "ok\n").into_response(),
        Some(t) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("scheduler stalled: last beat {}\n", t.to_rfc3339()),
        )
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "scheduler not started\n").into_response(),
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    let sources = match st.store.sources().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "metrics: cannot read sources");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.render(
            &sources,
            &st.store.outbox_counts(None).await.unwrap_or_default(),
            &st.store.alert_counts().await.unwrap_or_default(),
        ),
    )
        .into_response()
}
