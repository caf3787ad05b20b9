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
mod tests {
    use super::*;
    use crate::alert::payload::{sample, StoryRef};
    use crate::config::AlertConfig;

    fn target(kind: &str, extra: &str) -> Target {
        let text = format!(
            "[[alert]]\nid = \"a1\"\nstory = \"llama-4\"\nkind = \"{kind}\"\n\
             url = \"https://push.example.org/base/\"\n{extra}"
        );
        let c = crate::config::Config::parse(&text, crate::config::Origin::Preset).unwrap();
        let cfg: AlertConfig = c.alerts[0].clone();
        Target::resolve(&cfg, &|_| Some("s".repeat(32))).unwrap()
    }

    fn payload() -> Payload {
        let mut p = sample(
            StoryRef {
                id: "llama-4".into(),
                title: "Meta’s Llama 4".into(),
                url: Some("https://news.example.org/".into()),
            },
            DateTime::parse_from_rfc3339("2025-04-07T09:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        p.kind = PayloadKind::Development;
        p.event.headline = "Meta’s lab walks away\r\nfrom Behemoth".into();
        p.event.link = Some("https://wire.example/a".into());
        p.event.outlets = vec!["Wire".into(), "AIM".into()];
        p
    }

    #[test]
    fn webhook_bodies_carry_the_key_and_a_verifiable_signature() {
        let t = target("webhook", "secret_env = \"K\"\n");
        let now = Utc::now();
        let r = build(&t, &payload(), "storyline-k1", now).unwrap();
        assert_eq!(r.method, Method::Post);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["id"], "storyline-k1");
        assert_eq!(v["alert"], "a1");
        assert_eq!(v["type"], "development");
        assert_eq!(v["event"]["outlets"][1], "AIM");
        let header = |n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header(KEY_HEADER).as_deref(), Some("storyline-k1"));
        let sig = header(SIGNATURE_HEADER).unwrap();
        let (t_part, v1) = sig.split_once(",v1=").unwrap();
        assert_eq!(t_part, format!("t={}", now.timestamp()));
        let mut mac = Hmac::<Sha256>::new_from_slice("s".repeat(32).as_bytes()).unwrap();
        mac.update(format!("{}.", now.timestamp()).as_bytes());
        mac.update(&r.body);
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(v1, want);
        // A resend: the same body; only the signature's time moves.
        let again = build(
            &t,
            &payload(),
            "storyline-k1",
            now + chrono::Duration::seconds(90),
        );
        assert_eq!(again.unwrap().body, r.body);
        let prefix = format!("t={},v1=", now.timestamp());
        assert_eq!(signature("x", now, b"").len(), prefix.len() + 64);
    }

    #[test]
    fn ntfy_gets_text_with_title_click_tags_and_a_sequence_id() {
        let r = build(&target("ntfy", ""), &payload(), "storyline-k2", Utc::now()).unwrap();
        let header = |n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
        };
        let title = header("title").unwrap();
        assert!(
            title.starts_with("=?UTF-8?B?") && !title.contains('\n'),
            "{title}"
        );
        let b64 = title
            .trim_start_matches("=?UTF-8?B?")
            .trim_end_matches("?=");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "Meta’s lab walks away from Behemoth"
        );
        assert_eq!(header("click").as_deref(), Some("https://wire.example/a"));
        assert_eq!(header("tags").as_deref(), Some("newspaper,llama-4"));
        assert_eq!(header("x-sequence-id").as_deref(), Some("storyline-k2"));
        assert_eq!(
            header("actions").as_deref(),
            Some("view, Story so far, https://news.example.org/")
        );
        let text = String::from_utf8(r.body).unwrap();
        assert!(
            text.starts_with("Meta’s Llama 4: new development, reported by 2 outlets (Wire, AIM)."),
            "{text}"
        );
        assert!(text.contains("\nhttps://wire.example/a\nStory: https://news.example.org/"));
    }

    #[test]
    fn matrix_puts_into_the_room_with_the_key_as_transaction_id() {
        let t = target(
            "matrix",
            "room = \"!room:example.org\"\ntoken_env = \"T\"\n",
        );
        let r = build(&t, &payload(), "storyline-k3", Utc::now()).unwrap();
        assert_eq!(r.method, Method::Put);
        assert_eq!(
            r.url.path(),
            "/base/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/storyline-k3"
        );
        let header = |n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            header("authorization"),
            Some(format!("Bearer {}", "s".repeat(32)))
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["msgtype"], "m.text");
        assert_eq!(v["org.storyline.alert"]["id"], "storyline-k3");
        let html = v["formatted_body"].as_str().unwrap();
        assert!(
            html.contains("<a href=\"https://wire.example/a\">"),
            "{html}"
        );
        assert!(
            html.contains("Meta’s lab walks away from Behemoth</a>"),
            "{html}"
        );
    }
}
