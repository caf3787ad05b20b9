use mailparse::{parse_mail, MailHeaderMap, ParsedMail};

use super::*;
use crate::digest::compose::compose;
use crate::digest::render::{render, Templates};
use crate::digest::sample::{at, sample_input};

fn rendered() -> Rendered {
    render(&compose(&sample_input()), &Templates::embedded().unwrap()).unwrap()
}

fn headers() -> MailHeaders {
    MailHeaders {
        from: "Storyline <digest@storyline.example>".into(),
        to: vec![
            "Reader <reader@example.org>".into(),
            "second@example.org".into(),
        ],
        message_id: "2025-W20.llama-4.1@storyline.example".into(),
        list_id: "Llama 4 digest <llama-4.storyline.example>".into(),
        date: at("2025-05-19T08:00:00Z"),
        extra: vec![(
            "List-Unsubscribe".into(),
            "<https://storyline.example/unsubscribe?t=abc>".into(),
        )],
    }
}

fn mime_type(part: &ParsedMail<'_>) -> String {
    part.ctype.mimetype.clone()
}

fn crlf_to_lf(s: &str) -> String {
    s.replace("\r\n", "\n")
}

#[test]
fn message_is_alternative_text_then_related_html_and_chart() {
    let r = rendered();
    let eml = to_eml(&r, &headers()).unwrap();
    let mail = parse_mail(&eml).unwrap();

    assert_eq!(mime_type(&mail), "multipart/alternative");
    assert_eq!(mail.subparts.len(), 2);
    let text = &mail.subparts[0];
    assert_eq!(mime_type(text), "text/plain");
    assert_eq!(text.ctype.charset.to_lowercase(), "utf-8");
    assert_eq!(crlf_to_lf(&text.get_body().unwrap()), r.text);

    let related = &mail.subparts[1];
    assert_eq!(mime_type(related), "multipart/related");
    assert_eq!(related.subparts.len(), 2);
    let html = &related.subparts[0];
    assert_eq!(mime_type(html), "text/html");
    let html_body = crlf_to_lf(&html.get_body().unwrap());
    assert!(html_body.contains("src=\"cid:chart@storyline\""));
    assert!(html_body.contains("Meta delays Behemoth"));

    let png = &related.subparts[1];
    assert_eq!(mime_type(png), "image/png");
    assert_eq!(
        png.headers.get_first_value("Content-ID").as_deref(),
        Some("<chart@storyline>")
    );
    assert!(png
        .headers
        .get_first_value("Content-Disposition")
        .unwrap()
        .starts_with("inline"));
    assert_eq!(
        png.headers
            .get_first_value("Content-Transfer-Encoding")
            .as_deref(),
        Some("base64")
    );
    let decoded = png.get_body_raw().unwrap();
    assert_eq!(decoded, r.chart_png);
    image::load_from_memory_with_format(&decoded, image::ImageFormat::Png).unwrap();
}

#[test]
fn message_carries_the_required_headers() {
    let r = rendered();
    let eml = to_eml(&r, &headers()).unwrap();
    let mail = parse_mail(&eml).unwrap();
    let h = |name: &str| {
        mail.headers
            .get_first_value(name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert_eq!(
        h("Subject"),
        "Llama 4 · week 20, 2025: Meta delays Behemoth"
    );
    assert_eq!(h("From"), "Storyline <digest@storyline.example>");
    assert_eq!(h("To"), "Reader <reader@example.org>, second@example.org");
    assert_eq!(h("Date"), "Mon, 19 May 2025 08:00:00 +0000");
    assert_eq!(h("Message-ID"), "<2025-W20.llama-4.1@storyline.example>");
    assert_eq!(h("List-Id"), "Llama 4 digest <llama-4.storyline.example>");
    assert_eq!(
        h("List-Unsubscribe"),
        "<https://storyline.example/unsubscribe?t=abc>"
    );
    assert_eq!(h("MIME-Version"), "1.0");

    let raw = String::from_utf8_lossy(&eml);
    assert!(raw.contains("boundary=\"storyline-alt-"));
    assert!(raw.contains("boundary=\"storyline-rel-"));
    assert!(raw.contains("\r\n"), "lines end in CRLF");
}

#[test]
fn same_digest_gives_the_same_bytes() {
    let r = rendered();
    assert_eq!(
        to_eml(&r, &headers()).unwrap(),
        to_eml(&r, &headers()).unwrap()
    );
    let mut other = headers();
    other.message_id = "<another@storyline.example>".into();
    assert_ne!(to_eml(&r, &headers()).unwrap(), to_eml(&r, &other).unwrap());
}

#[test]
fn header_injection_is_refused() {
    let r = rendered();
    let mut h = headers();
    h.extra = vec![("X-Note".into(), "hi\r\nBcc: victim@example.org".into())];
    assert!(matches!(to_eml(&r, &h), Err(DigestError::Header { .. })));

    let mut h = headers();
    h.extra = vec![("Bad Name:".into(), "x".into())];
    assert!(matches!(to_eml(&r, &h), Err(DigestError::Header { .. })));

    let mut h = headers();
    h.list_id = "x\n<y>".into();
    assert!(matches!(to_eml(&r, &h), Err(DigestError::Header { .. })));

    // A subject built from feed text is folded onto one line, never split into headers.
    let mut evil = r.clone();
    evil.subject = "Llama 4\r\nBcc: victim@example.org".into();
    let eml = to_eml(&evil, &headers()).unwrap();
    let mail = parse_mail(&eml).unwrap();
    assert!(mail.headers.get_first_value("Bcc").is_none());
    assert_eq!(
        mail.headers.get_first_value("Subject").as_deref(),
        Some("Llama 4 Bcc: victim@example.org")
    );
}

#[test]
fn bad_addresses_and_ids_are_errors() {
    let r = rendered();
    let mut h = headers();
    h.from = "not an address".into();
    assert!(matches!(to_eml(&r, &h), Err(DigestError::Address { .. })));

    let mut h = headers();
    h.to.clear();
    assert!(matches!(to_eml(&r, &h), Err(DigestError::Address { .. })));

    for id in ["no-at-sign", "<a b@c>", "@x", "a@"] {
        let mut h = headers();
        h.message_id = id.into();
        assert!(
            matches!(to_eml(&r, &h), Err(DigestError::Header { .. })),
            "{id}"
        );
    }
}
