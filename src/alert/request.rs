//! An alert as an HTTP request, for each kind. Pure: the same payload and key give the same
//! body on every attempt; only a webhook's signature carries the time of sending.
//!
//! - webhook: `POST url`, the payload as JSON with `id` (the idempotency key) and `alert`,
//!   headers `Idempotency-Key` and, with `secret_env`, `Storyline-Signature:
//!   t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (Stripe's scheme).
//! - ntfy: `POST` text to the topic URL with `Title`, `Click`, `Tags` (and `Actions` for the
//!   story page); `X-Sequence-ID` is the key, so ntfy clients replace a resend rather than
//!   show it twice.
//! - matrix: `PUT /_matrix/client/v3/rooms/{room}/send/m.room.message/{key}`: the key is the
//!   transaction id, which the homeserver deduplicates.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use url::Url;

use super::payload::{Payload, PayloadKind};
use super::{settings::Target, AlertKind};
use crate::mail::message::escape_html;

/// The header carrying a webhook's signature.
pub const SIGNATURE_HEADER: &str = "Storyline-Signature";
/// The header carrying the idempotency key, the same on every attempt.
pub const KEY_HEADER: &str = "Idempotency-Key";

/// Longest header text (ntfy's title); longer headlines are cut at a character boundary.
const MAX_TITLE_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
}

/// One request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// A webhook's JSON body (and a Matrix message's `org.storyline.alert` field).
#[derive(Debug, Serialize)]
struct Body<'a> {
    /// The idempotency key: receivers fold requests with the same id.
    id: &'a str,
    alert: &'a str,
    #[serde(flatten)]
    payload: &'a Payload,
}

/// Build the request for `target` at `now` (the signature's timestamp).
pub fn build(
    target: &Target,
    payload: &Payload,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Request, String> {
    let body = Body {
        id: key,
        alert: target.id(),
        payload,
    };
    let mut headers = vec![(KEY_HEADER, key.to_string())];
    if let Some(token) = &target.token {
        headers.push(("authorization", format!("Bearer {}", token.expose())));
    }
    let url = target.config.url.clone();
    match target.config.kind {
        AlertKind::Webhook => {
            let json = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
            headers.push(("content-type", "application/json".into()));
            if let Some(secret) = &target.secret {
                headers.push((SIGNATURE_HEADER, signature(secret.expose(), now, &json)));
            }
            Ok(Request {
                method: Method::Post,
                url,
                headers,
                body: json,
            })
        }
        AlertKind::Ntfy => {
            headers.extend(ntfy_headers(payload, key));
            Ok(Request {
                method: Method::Post,
                url,
                headers,
                body: ntfy_text(payload).into_bytes(),
            })
        }
        AlertKind::Matrix => {
            let room = target.config.room.as_deref().unwrap_or_default();
            let url = matrix_url(&url, room, key)?;
            let content = serde_json::json!({
                "msgtype": "m.text",
                "body": format!("{}\n{}", title(payload), ntfy_text(payload)),
                "format": "org.matrix.custom.html",
                "formatted_body": matrix_html(payload),
                "org.storyline.alert": body,
            });
            headers.push(("content-type", "application/json".into()));
            Ok(Request {
                method: Method::Put,
                url,
                headers,
                body: serde_json::to_vec(&content).map_err(|e| e.to_string())?,
            })
        }
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, now: DateTime<Utc>, body: &[u8]) -> String {
    let t = now.timestamp();
    // new_from_slice takes keys of any length for HMAC; the error case cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return format!("t={t}");
    };
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// The headline, marked when it is an update or a test.
fn title(p: &Payload) -> String {
    let h = crate::digest::sanitize::collapse_whitespace(&p.event.headline);
    match p.kind {
        PayloadKind::Development | PayloadKind::Test => h,
        PayloadKind::Update => format!("Update: {h}"),
    }
}

/// The lines under the title: what kind of news, who reported it, and the links.
fn ntfy_text(p: &Payload) -> String {
    let e = &p.event;
    let who = match e.outlets.as_slice() {
        [] => String::new(),
        [one] => format!(", reported by {one}"),
        many => format!(", reported by {} outlets ({})", many.len(), many.join(", ")),
    };
    let mut lines = vec![match (&p.kind, &p.update) {
        (PayloadKind::Update, Some(u)) => format!(
            "{}: a page of this development changed{}.",
            p.story.title,
            u.note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
        (PayloadKind::Test, _) => format!("{}: a test alert, nothing happened.", p.story.title),
        _ => format!("{}: new development{who}.", p.story.title),
    }];
    let changed = p.update.as_ref().and_then(|u| u.item.url.as_deref());
    if let Some(link) = changed.or(e.link.as_deref()) {
        lines.push(link.to_string());
    }
    if let Some(story) = &p.story.url {
        lines.push(format!("Story: {story}"));
    }
    lines.join("\n")
}

fn ntfy_headers(p: &Payload, key: &str) -> Vec<(&'static str, String)> {
    let tag = match p.kind {
        PayloadKind::Development => "newspaper",
        PayloadKind::Update => "memo",
        PayloadKind::Test => "white_check_mark",
    };
    let mut h = vec![
        ("title", header_text(&title(p))),
        ("tags", format!("{tag},{}", p.story.id)),
        ("x-sequence-id", key.to_string()),
        ("content-type", "text/plain; charset=utf-8".into()),
    ];
    let changed = p.update.as_ref().and_then(|u| u.item.url.clone());
    if let Some(click) = changed
        .or_else(|| p.event.link.clone())
        .or_else(|| p.story.url.clone())
    {
        h.push(("click", click));
    }
    if let Some(story) = p.story.url.as_deref().filter(|u| !u.contains([',', ';'])) {
        h.push(("actions", format!("view, Story so far, {story}")));
    }
    h
}

/// Header-safe text: one line, cut to length, RFC 2047 encoded when not plain ASCII (ntfy
/// decodes encoded words in its headers).
fn header_text(s: &str) -> String {
    let one_line = crate::digest::sanitize::collapse_whitespace(s);
    let cut: String = one_line.chars().take(MAX_TITLE_CHARS).collect();
    if cut.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        cut
    } else {
        let b64 = base64::engine::general_purpose::STANDARD.encode(cut.as_bytes());
        format!("=?UTF-8?B?{b64}?=")
    }
}

fn matrix_url(base: &Url, room: &str, key: &str) -> Result<Url, String> {
    let mut url = base.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| format!("{base} cannot be a base URL"))?
        .pop_if_empty()
        .extend([
            "_matrix",
            "client",
            "v3",
            "rooms",
            room,
            "send",
            "m.room.message",
            key,
        ]);
    Ok(url)
}

fn matrix_html(p: &Payload) -> String {
    let link = |url: &str, text: &str| {
        format!("<a href=\"{}\">{}</a>", escape_html(url), escape_html(text))
    };
    let headline = match p.event.link.as_deref() {
        Some(u) => link(u, &title(p)),
        None => escape_html(&title(p)),
    };
    let mut html = format!("<p><strong>{headline}</strong></p>");
    let lines = ntfy_text(p);
    let first = lines.lines().next().unwrap_or_default();
    html.push_str(&format!("<p>{}</p>", escape_html(first)));
    if let Some(story) = &p.story.url {
        html.push_str(&format!("<p>{}</p>", link(story, "The story so far")));
    }
    html
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
