//! Messages as they go out. A digest copy is built from the stored digest and the delivery
//! alone (Date = when the digest was composed, Message-ID from the delivery row, boundaries
//! from the Message-ID), so building it again after a crash gives the same bytes.
//!
//! Structure: multipart/alternative(text/plain, multipart/related(text/html, image/png with
//! Content-ID `chart@storyline`)); without a chart, multipart/alternative(text/plain, text/html).

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, Message, MultiPart, SinglePart};
use sha2::{Digest as _, Sha256};

use super::address::SubscriberEmail;
use super::settings::{MailSettings, StoryList};
use crate::store::DigestRow;

/// The Content-ID the digest's HTML refers to as `cid:chart@storyline`.
pub const CHART_CONTENT_ID: &str = "chart@storyline";

/// A message could not be built.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("cannot encode the {0} part")]
    Encode(&'static str),
    #[error("no list for story \"{0}\" in the config")]
    UnknownStory(String),
}

/// One subscriber's copy of a stored digest.
pub fn digest_message(
    settings: &MailSettings,
    digest: &DigestRow,
    subscriber_id: i64,
    to: &SubscriberEmail,
    message_id: &str,
) -> Result<Message, MessageError> {
    let list = settings
        .list(&digest.story_id)
        .ok_or_else(|| MessageError::UnknownStory(digest.story_id.clone()))?;
    let unsubscribe = settings.unsubscribe_url(subscriber_id, to.as_str(), &digest.story_id);
    let mailto = format!("mailto:{}?subject=unsubscribe", settings.contact());
    let text = format!(
        "{}\n\n-- \nYou get this because you subscribed to {} at {}\nUnsubscribe: {unsubscribe}\n",
        digest.text.trim_end(),
        list.title,
        settings.base_url
    );
    let footer = format!(
        "<p style=\"font-size:12px;color:#666\">You get this because you subscribed to {}. \
         <a href=\"{}\">Unsubscribe</a>.</p>",
        escape_html(&list.title),
        escape_html(unsubscribe.as_str())
    );
    let html = insert_before_body_end(&digest.html, &footer);

    let seed = boundary_seed(message_id);
    let plain = text_part(&text, ContentType::TEXT_PLAIN, "text")?;
    let html_part = text_part(&html, ContentType::TEXT_HTML, "HTML")?;
    let alternative = MultiPart::alternative()
        .boundary(format!("storyline-alt-{seed}"))
        .singlepart(plain);
    let body = match digest.chart_png.as_deref() {
        Some(png) if !png.is_empty() => {
            let chart = Attachment::new_inline(CHART_CONTENT_ID.to_string()).body(
                png.to_vec(),
                ContentType::parse("image/png").map_err(|_| MessageError::Encode("chart"))?,
            );
            alternative.multipart(
                MultiPart::related()
                    .boundary(format!("storyline-rel-{seed}"))
                    .singlepart(html_part)
                    .singlepart(chart),
            )
        }
        _ => alternative.singlepart(html_part),
    };

    let builder = headers(settings, to, &digest.subject, digest.composed(), message_id)
        .raw_header(raw(
            "List-Id",
            format!("{} <{}>", phrase(&list.title), list.list_id),
        ))
        .raw_header(raw(
            "List-Unsubscribe",
            format!("<{unsubscribe}>, <{mailto}>"),
        ))
        .raw_header(raw(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".into(),
        ))
        // RFC 3834: vacation responders should not answer a digest.
        .raw_header(raw("Auto-Submitted", "auto-generated".into()));
    Ok(builder.multipart(body)?)
}

/// The double opt-in mail: one link that confirms the chosen stories.
pub fn confirmation_message(
    settings: &MailSettings,
    to: &SubscriberEmail,
    subscriber_id: i64,
    stories: &[String],
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let lists: Vec<&StoryList> = stories
        .iter()
        .map(|s| {
            settings
                .list(s)
                .ok_or_else(|| MessageError::UnknownStory(s.clone()))
        })
        .collect::<Result<_, _>>()?;
    let titles = lists
        .iter()
        .map(|l| l.title.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let link = settings.confirm_url(subscriber_id, to.as_str(), stories, now);
    let hours = settings.confirm_ttl.as_secs() / 3600;
    let text = format!(
        "Someone, hopefully you, asked to get the weekly Storyline digest of: {titles}.\n\n\
         To confirm, open this link within {hours} hours:\n{link}\n\n\
         If it was not you, ignore this mail: nothing will be sent without the confirmation.\n"
    );
    let id = format!(
        "<confirm.{subscriber_id}.{}.{}@{}>",
        now.timestamp(),
        settings
            .key
            .digest_hex("confirm-mid", &format!("{subscriber_id}.{now}"), 6),
        settings.id_domain
    );
    let subject = format!("Confirm your subscription: {titles}");
    Ok(headers(settings, to, &subject, now, &id)
        .raw_header(raw("Auto-Submitted", "auto-generated".into()))
        .singlepart(text_part(&text, ContentType::TEXT_PLAIN, "text")?)?)
}

/// `storyline mail test`: a short plain message.
pub fn test_message(
    settings: &MailSettings,
    to: &SubscriberEmail,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let id = format!(
        "<test.{}.{}@{}>",
        now.timestamp(),
        settings
            .key
            .digest_hex("test-mid", &format!("{to}.{now}"), 6),
        settings.id_domain
    );
    let text = format!(
        "This is a test message from Storyline ({}).\nIf you can read it, mail delivery works.\n",
        settings.base_url
    );
    Ok(
        headers(settings, to, "Storyline test message", now, &id).singlepart(text_part(
            &text,
            ContentType::TEXT_PLAIN,
            "text",
        )?)?,
    )
}

fn headers(
    settings: &MailSettings,
    to: &SubscriberEmail,
    subject: &str,
    date: DateTime<Utc>,
    message_id: &str,
) -> lettre::message::MessageBuilder {
    let mut b = Message::builder()
        .from(settings.from.clone())
        .to(Mailbox::new(None, to.address().clone()))
        .subject(one_line(subject))
        .date(SystemTime::from(date))
        .message_id(Some(message_id.to_string()));
    if let Some(r) = &settings.reply_to {
        b = b.reply_to(r.clone());
    }
    b
}

/// Quoted-printable always: ASCII on the wire whatever the content, so no server needs
/// 8BITMIME, and the encoding never depends on content (same input, same bytes).
fn text_part(
    content: &str,
    content_type: ContentType,
    what: &'static str,
) -> Result<SinglePart, MessageError> {
    let body = Body::new_with_encoding(
        content.to_string(),
        ContentTransferEncoding::QuotedPrintable,
    )
    .map_err(|_| MessageError::Encode(what))?;
    Ok(SinglePart::builder().header(content_type).body(body))
}

fn raw(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// Header text must stay on one line whatever the digest or config says.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A List-Id description: one line, without the characters that would end the phrase early.
fn phrase(title: &str) -> String {
    one_line(&title.replace(['<', '>', '"', '\\', ',', ';', ':', '(', ')', '@'], " "))
}

fn boundary_seed(message_id: &str) -> String {
    Sha256::digest(message_id.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Put `snippet` before the last `</body>`, or at the end when there is none.
fn insert_before_body_end(html: &str, snippet: &str) -> String {
    match html.to_ascii_lowercase().rfind("</body>") {
        Some(i) => format!("{}{snippet}\n{}", &html[..i], &html[i..]),
        None => format!("{html}\n{snippet}\n"),
    }
}

/// Escape text for HTML element content and double-quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_is_flattened() {
        assert_eq!(one_line("Week 15\r\nBcc: x@y.org"), "Week 15 Bcc: x@y.org");
        assert_eq!(phrase("Meta's \"Llama\" <4>"), "Meta's Llama 4");
    }

    #[test]
    fn footer_goes_inside_the_body() {
        assert_eq!(
            insert_before_body_end("<html><BODY>x</BODY></html>", "<p>f</p>"),
            "<html><BODY>x<p>f</p>\n</BODY></html>"
        );
        assert_eq!(
            insert_before_body_end("<p>x</p>", "<p>f</p>"),
            "<p>x</p>\n<p>f</p>\n"
        );
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape_html("<a href=\"x\">O'B & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;B &amp; co&lt;/a&gt;"
        );
    }
}
