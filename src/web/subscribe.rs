//! Subscribing and unsubscribing on the web, double opt-in:
//!
//! - `GET /subscribe`: the form (with a signed, short-lived form token).
//! - `POST /subscribe`: a pending subscription and a confirmation mail (limited per client and
//!   per address); the answer is the same whether or not the address was already on the list.
//! - `GET /confirm?token=`: a page with a button; `POST` confirms. Mail scanners follow links
//!   in mail, so a GET never changes anything.
//! - `GET /unsubscribe?token=`: a page with a button; `POST` (RFC 8058 one-click, what mail
//!   providers send for `List-Unsubscribe-Post`) unsubscribes at once.
//!
//! Over 400 lines on purpose: the three steps share the token, limit and answer rules that make
//! double opt-in safe; apart, each file would hold a third of one protocol.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{RawQuery, State};
use axum::http::{Extensions, Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::limit::ClientLimiter;
use super::page::Pages;
use super::{AppState, Site};
use crate::mail::message::confirmation_message;
use crate::mail::token::{Claims, Purpose, TokenError};
use crate::mail::{Mail, SubscriberEmail};
use crate::store::{StoreError, SubscriptionState};

/// How long a subscribe form stays usable.
const FORM_TTL: chrono::Duration = chrono::Duration::hours(2);
/// Subscribe attempts per client: a burst, then one per interval.
const CLIENT_BURST: u32 = 5;
const CLIENT_EVERY: Duration = Duration::from_secs(60);

/// What the subscription pages need; in [`AppState::subscribe`] when mail is configured.
#[derive(Debug)]
pub struct SubscribeState {
    /// The same mailer (and so the same pace) as the digests.
    pub mail: Mail,
    limiter: ClientLimiter,
}

impl SubscribeState {
    pub fn new(mail: Mail) -> SubscribeState {
        SubscribeState {
            mail,
            limiter: ClientLimiter::new(CLIENT_BURST, CLIENT_EVERY),
        }
    }
}

/// The subscription routes, to merge into the site's router.
pub(super) fn routes() -> Router<Site> {
    Router::new()
        .route("/subscribe", get(subscribe_form).post(subscribe))
        .route("/confirm", get(confirm).post(confirm))
        .route("/unsubscribe", get(unsubscribe).post(unsubscribe))
}

/// A page that explains why the request did not do what was asked.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    title: &'static str,
    message: String,
}

fn refuse(status: StatusCode, title: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        title,
        message: message.into(),
    }
}

type Handled = Result<Response, Refusal>;

fn respond(pages: &Pages, h: Handled) -> Response {
    h.unwrap_or_else(|r| pages.notice(r.status, r.title, &r.message))
}

fn enabled(st: &AppState) -> Result<Arc<SubscribeState>, Refusal> {
    st.subscribe.clone().ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "Not available",
            "Mail subscriptions are not enabled on this site.",
        )
    })
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "subscription page failed");
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Something went wrong on our side. Please try again later.",
    )
}

fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Verify the `token` in the query string; the caller checks its purpose.
fn claims_from(
    sub: &SubscribeState,
    query: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(String, Claims), Refusal> {
    let bad = |expired: bool| {
        let (title, msg) = if expired {
            (
                "Link expired",
                "This link has expired. Subscribe again to get a new one.",
            )
        } else {
            (
                "Link not valid",
                "This link is not valid. Check that it was copied whole.",
            )
        };
        refuse(StatusCode::BAD_REQUEST, title, msg)
    };
    let token = query_value(query, "token").ok_or_else(|| bad(false))?;
    let claims = sub
        .mail
        .settings
        .key
        .verify(&token, now)
        .map_err(|e| bad(e == TokenError::Expired))?;
    Ok((token, claims))
}

/// `subscribe.html.tera`: the form, with one story named or a box for each.
#[derive(Serialize)]
struct Form<'a> {
    title: &'static str,
    csrf: String,
    lists: Vec<ListRef<'a>>,
}

#[derive(Serialize)]
struct ListRef<'a> {
    id: &'a str,
    title: &'a str,
}

async fn subscribe_form(State(st): State<AppState>, State(pages): State<Pages>) -> Response {
    respond(&pages, subscribe_form_inner(&st, &pages))
}

fn subscribe_form_inner(st: &AppState, pages: &Pages) -> Handled {
    let sub = enabled(st)?;
    let settings = &sub.mail.settings;
    let now = st.clock.now();
    let expires = now.checked_add_signed(FORM_TTL).unwrap_or(now);
    let form = Form {
        title: "Subscribe",
        csrf: settings.key.sign(0, "", &Purpose::Csrf, Some(expires)),
        lists: settings
            .lists
            .iter()
            .map(|l| ListRef {
                id: &l.story_id,
                title: &l.title,
            })
            .collect(),
    };
    Ok(pages.page(StatusCode::OK, "subscribe.html.tera", &form))
}

async fn subscribe(
    State(st): State<AppState>,
    State(pages): State<Pages>,
    ext: Extensions,
    body: Bytes,
) -> Response {
    respond(&pages, subscribe_inner(&st, &pages, &ext, &body).await)
}

async fn subscribe_inner(st: &AppState, pages: &Pages, ext: &Extensions, body: &[u8]) -> Handled {
    let sub = enabled(st)?;
    let settings = &sub.mail.settings;
    let now = st.clock.now();
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let form_ok = field("csrf")
        .and_then(|t| settings.key.verify(t, now).ok())
        .is_some_and(|c| c.purpose == Purpose::Csrf);
    if !form_ok {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Form expired",
            "The form has expired. Reload the subscribe page and try again.",
        ));
    }
    let client = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    if !sub.limiter.allow(client, std::time::Instant::now()) {
        return Err(refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Too many attempts from your network. Please try again in a few minutes.",
        ));
    }
    let email = SubscriberEmail::parse(field("email").unwrap_or_default()).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "Address not usable",
            format!("That is not a usable mail address: {e}. Go back and try again."),
        )
    })?;
    let stories: Vec<String> = settings
        .lists
        .iter()
        .filter(|l| {
            settings.lists.len() == 1
                || fields.iter().any(|(k, v)| k == "story" && *v == l.story_id)
        })
        .map(|l| l.story_id.clone())
        .collect();
    if stories.is_empty() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "No story chosen",
            "Choose at least one story. Go back and try again.",
        ));
    }
    let req = st
        .store
        .request_subscription(email.as_str(), &stories, now, settings.confirm_interval)
        .await
        .map_err(internal)?;
    if req.send_confirmation {
        let sent =
            match confirmation_message(settings, &email, req.subscriber_id, &req.pending, now) {
                Ok(msg) => sub.mail.mailer.send(&msg).await.map_err(|f| f.reply),
                Err(e) => Err(e.to_string()),
            };
        if let Err(reply) = sent {
            tracing::warn!(%reply, "confirmation mail not sent");
            // Let the person try again at once rather than after the resend interval.
            let _ = st.store.clear_confirm_sent(req.subscriber_id).await;
            return Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "Mail not sent",
                "We could not send the confirmation mail just now. Please try again later.",
            ));
        }
    }
    let hours = settings.confirm_ttl.as_secs() / 3600;
    Ok(pages.notice(
        StatusCode::OK,
        "Check your inbox",
        &format!(
            "If {email} is not on the list yet, a confirmation link is on its way to it. \
             Open it within {hours} hours to start getting the digest."
        ),
    ))
}

fn confirm_stories(claims: &Claims) -> Option<&[String]> {
    match &claims.purpose {
        Purpose::Confirm(stories) => Some(stories),
        _ => None,
    }
}

/// `confirm.html.tera` and `unsubscribe.html.tera`: what the button does, for which address.
#[derive(Serialize)]
struct Ask<'a> {
    title: &'static str,
    email: &'a str,
    /// The story or stories, by title.
    lists: &'a str,
    token: &'a str,
}

/// GET shows a button, POST (the button) acts: mail scanners follow links with GET.
async fn confirm(
    State(st): State<AppState>,
    State(pages): State<Pages>,
    method: Method,
    RawQuery(q): RawQuery,
) -> Response {
    let act = method == Method::POST;
    respond(&pages, confirm_inner(&st, &pages, q.as_deref(), act).await)
}

async fn confirm_inner(st: &AppState, pages: &Pages, query: Option<&str>, act: bool) -> Handled {
    let sub = enabled(st)?;
    let settings = &sub.mail.settings;
    let now = st.clock.now();
    let (token, claims) = claims_from(&sub, query, now)?;
    let invalid = || {
        refuse(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This link is not valid. Subscribe again to get a new one.",
        )
    };
    let stories = confirm_stories(&claims).ok_or_else(invalid)?;
    let subscriber = match st.store.subscriber(claims.subscriber_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Err(invalid()),
        Err(e) => return Err(internal(e)),
    };
    // The id may belong to someone else by now (ids are reused after a removal).
    if !settings.key.is_for(&claims, &subscriber.email) {
        return Err(invalid());
    }
    let titles = stories
        .iter()
        .map(|s| settings.list(s).map_or(s.as_str(), |l| l.title.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    if !act {
        let ask = Ask {
            title: "Confirm your subscription",
            email: &subscriber.email,
            lists: &titles,
            token: &token,
        };
        return Ok(pages.page(StatusCode::OK, "confirm.html.tera", &ask));
    }
    st.store
        .confirm_subscriptions(subscriber.id, stories, now)
        .await
        .map_err(internal)?;
    let subs = st
        .store
        .subscriptions_of(subscriber.id)
        .await
        .map_err(internal)?;
    let all_confirmed = stories.iter().all(|s| {
        subs.iter()
            .any(|r| &r.story_id == s && r.state == SubscriptionState::Confirmed)
    });
    if !all_confirmed {
        return Err(refuse(
            StatusCode::CONFLICT,
            "Nothing to confirm",
            "There is nothing to confirm for this link any more. Subscribe again if you like.",
        ));
    }
    Ok(pages.notice(
        StatusCode::OK,
        "Subscribed",
        &format!(
            "{} will get the weekly digest of: {titles}. Every digest has an unsubscribe link.",
            subscriber.email
        ),
    ))
}

/// GET shows a button; POST (the button, or a provider's RFC 8058 one-click) acts.
async fn unsubscribe(
    State(st): State<AppState>,
    State(pages): State<Pages>,
    method: Method,
    RawQuery(q): RawQuery,
) -> Response {
    let act = method == Method::POST;
    respond(
        &pages,
        unsubscribe_inner(&st, &pages, q.as_deref(), act).await,
    )
}

async fn unsubscribe_inner(
    st: &AppState,
    pages: &Pages,
    query: Option<&str>,
    act: bool,
) -> Handled {
    let sub = enabled(st)?;
    let now = st.clock.now();
    let (token, claims) = claims_from(&sub, query, now)?;
    let Purpose::Unsubscribe(story) = &claims.purpose else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This link is not valid. Check that it was copied whole.",
        ));
    };
    let title = sub
        .mail
        .settings
        .list(story)
        .map_or(story.as_str(), |l| l.title.as_str());
    let not_listed = || {
        pages.notice(
            StatusCode::OK,
            "Not subscribed",
            "This address is not on the list (any more).",
        )
    };
    let email = match st.store.subscriber(claims.subscriber_id).await {
        Ok(s) => s.email,
        Err(StoreError::NotFound) => return Ok(not_listed()),
        Err(e) => return Err(internal(e)),
    };
    // The id may belong to someone else by now (ids are reused after a removal): the address
    // the link was made for is not on the list.
    if !sub.mail.settings.key.is_for(&claims, &email) {
        return Ok(not_listed());
    }
    if !act {
        let ask = Ask {
            title: "Unsubscribe",
            email: &email,
            lists: title,
            token: &token,
        };
        return Ok(pages.page(StatusCode::OK, "unsubscribe.html.tera", &ask));
    }
    st.store
        .unsubscribe(claims.subscriber_id, story, now)
        .await
        .map_err(internal)?;
    tracing::info!(subscriber = claims.subscriber_id, story = %story, "unsubscribed");
    Ok(pages.notice(
        StatusCode::OK,
        "Unsubscribed",
        &format!("{email} will get no more digests of {title}."),
    ))
}
