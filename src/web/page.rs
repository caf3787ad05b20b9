//! Small HTML pages from the files in `templates/web/`: `{{name}}` is replaced by the escaped
//! value, `{{{name}}}` by HTML this crate built itself. Every page goes out with headers that
//! keep tokens in its URL from leaking (no referrer, no caching) and forbid framing.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::mail::message::escape_html;

const LAYOUT: &str = include_str!("../../templates/web/layout.html");
pub(crate) const SUBSCRIBE: &str = include_str!("../../templates/web/subscribe.html");
pub(crate) const CONFIRM: &str = include_str!("../../templates/web/confirm.html");
pub(crate) const UNSUBSCRIBE: &str = include_str!("../../templates/web/unsubscribe.html");
const NOTICE: &str = include_str!("../../templates/web/notice.html");

/// A value for a template: text to escape, or HTML built by this crate.
pub(crate) enum Value<'a> {
    Text(&'a str),
    Html(&'a str),
}

/// Fill `{{name}}` (escaped) and `{{{name}}}` (as is) in one pass, so a value that happens to
/// contain braces is never expanded again.
pub(crate) fn fill(template: &str, vars: &[(&str, Value<'_>)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (raw, open, close) = if after.starts_with("{{{") {
            (true, 3, "}}}")
        } else {
            (false, 2, "}}")
        };
        let Some(end) = after[open..].find(close) else {
            out.push_str(after);
            return out;
        };
        let name = after[open..open + end].trim();
        match vars.iter().find(|(n, _)| *n == name) {
            Some((_, Value::Text(t))) => out.push_str(&escape_html(t)),
            Some((_, Value::Html(h))) if raw => out.push_str(h),
            Some((_, Value::Html(h))) => out.push_str(&escape_html(h)),
            None => {}
        }
        rest = &after[open + end + close.len()..];
    }
    out.push_str(rest);
    out
}

/// A whole page: `content` (HTML) inside the layout.
pub(crate) fn page(status: StatusCode, title: &str, content: &str) -> Response {
    page_with_head(status, title, "", content)
}

/// As [`page`], with `head` (HTML built by this crate: feed links) inside `<head>`.
pub(crate) fn page_with_head(
    status: StatusCode,
    title: &str,
    head: &str,
    content: &str,
) -> Response {
    let html = fill(
        LAYOUT,
        &[
            ("title", Value::Text(title)),
            ("head", Value::Html(head)),
            ("content", Value::Html(content)),
        ],
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// A page that says one thing.
pub(crate) fn notice(status: StatusCode, title: &str, message: &str) -> Response {
    page(
        status,
        title,
        &fill(NOTICE, &[("message", Value::Text(message))]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_escaped_and_raw_values_once() {
        let t = "<p>{{name}}</p>{{{html}}}{{ missing }}<i>{{name}}</i>";
        let out = fill(
            t,
            &[
                ("name", Value::Text("<b>{{html}}</b>")),
                ("html", Value::Html("<hr>")),
            ],
        );
        assert_eq!(
            out,
            "<p>&lt;b&gt;{{html}}&lt;/b&gt;</p><hr><i>&lt;b&gt;{{html}}&lt;/b&gt;</i>"
        );
        assert_eq!(fill("a {{open", &[]), "a {{open");
    }
}
